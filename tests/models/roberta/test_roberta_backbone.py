import json
import os
import shutil

import keras
import numpy as np
import pytest

from keras_nlp_clone.models import Backbone
from keras_nlp_clone.models import RobertaBackbone
from keras_nlp_clone.models import Tokenizer
from keras_nlp_clone.models.roberta.roberta_presets import backbone_presets
from keras_nlp_clone.presets.errors import PresetError
from keras_nlp_clone.presets.registry import BUILTIN_PRESETS
from keras_nlp_clone.presets.registry import HF_CONVERTERS
from tests.models.roberta.conftest import hf_outputs
from tests.test_case import TestCase


def _np(x):
    return keras.ops.convert_to_numpy(x)


def roberta_param_count(vocab, hidden, layers, intermediate, positions=512):
    """Token and position embeddings, embedding layer norm, and per layer
    the attention (4 dense), 2 layer norms and the feed-forward block."""
    embeddings = (vocab + positions) * hidden + 2 * hidden
    layer = 4 * (hidden * hidden + hidden) + 2 * 2 * hidden
    layer += hidden * intermediate + intermediate + intermediate * hidden + hidden
    return embeddings + layers * layer


class TestRobertaBackbone(TestCase):
    def test_output_shape_and_attributes(self, tiny_backbone, tiny_inputs):
        outputs = tiny_backbone(tiny_inputs)
        assert tuple(outputs.shape) == (2, 8, 16)
        assert tiny_backbone.start_token_index == 0
        assert tiny_backbone.token_embedding is tiny_backbone.embeddings.token_embedding
        assert tuple(tiny_backbone.token_embedding.embeddings.shape) == (332, 16)
        assert sorted(tiny_backbone.input) == ["padding_mask", "token_ids"]
        assert tiny_backbone.count_params() == roberta_param_count(332, 16, 2, 32, 16)

    def test_padding_does_not_change_real_tokens(self, tiny_backbone):
        short = {
            "token_ids": np.array([[0, 280, 281, 2]], "int32"),
            "padding_mask": np.ones((1, 4), "int32"),
        }
        padded = {
            "token_ids": np.array([[0, 280, 281, 2, 1, 1]], "int32"),
            "padding_mask": np.array([[1, 1, 1, 1, 0, 0]], "bool"),
        }
        a = _np(tiny_backbone(short))
        b = _np(tiny_backbone(padded))[:, :4]
        np.testing.assert_allclose(a, b, atol=1e-5)

    def test_config_and_preset_round_trip(self, tiny_backbone, tiny_inputs, tmp_path):
        config = tiny_backbone.get_config()
        assert config["max_sequence_length"] == 16 and "num_segments" not in config
        assert RobertaBackbone.from_config(config).get_config() == config
        tiny_backbone.save_to_preset(str(tmp_path))
        restored = Backbone.from_preset(str(tmp_path))
        assert type(restored) is RobertaBackbone
        np.testing.assert_array_equal(
            tiny_backbone.predict(tiny_inputs, verbose=0),
            restored.predict(tiny_inputs, verbose=0),
        )

    def test_hidden_dim_not_divisible_raises(self):
        with pytest.raises(ValueError, match="divisible by `num_heads`"):
            RobertaBackbone(
                vocabulary_size=10,
                num_layers=1,
                num_heads=3,
                hidden_dim=8,
                intermediate_dim=16,
            )

    def test_presets_registry_and_parameter_counts(self):
        # (vocab, hidden, layers, intermediate) of the published checkpoints.
        shapes = {
            "roberta_base": (50265, 768, 12, 3072),
            "roberta_large": (50265, 1024, 24, 4096),
        }
        assert set(backbone_presets) == set(shapes)
        presets = RobertaBackbone.presets
        assert set(presets) == {
            "roberta_base", "roberta_large", "roberta_base_en", "roberta_large_en",
        }
        for preset_id, shape in shapes.items():
            assert presets[preset_id]["params"] == roberta_param_count(*shape)
        assert presets["roberta_base"]["params"] == 124052736
        assert presets["roberta_large"]["params"] == 354307072
        assert presets["roberta_base_en"]["alias_of"] == "roberta_base"
        assert presets["roberta_large"]["description"].startswith(
            "24-layer RoBERTa model where case is maintained."
        )
        entry = BUILTIN_PRESETS["roberta_base_en"]
        assert entry["backbone"] == "RobertaBackbone"
        assert entry["kaggle_handle"] == "kaggle://keras/roberta/keras/roberta_base_en"
        assert HF_CONVERTERS["roberta"].backbone_cls_name == "RobertaBackbone"


class TestRobertaBackboneConversion(TestCase):
    def test_matches_transformers(self, hf_roberta):
        directory, hf_model = hf_roberta["RobertaModel"]
        backbone = Backbone.from_preset(directory)
        assert type(backbone) is RobertaBackbone
        assert backbone.max_sequence_length == 32
        token_ids = np.array(
            [[0, 280, 281, 282, 2, 1, 1, 1, 1], [0, 283, 5, 2, 2, 285, 40, 300, 2]],
            "int32",
        )
        mask = (token_ids != 1).astype("int32")
        ours = backbone.predict({"token_ids": token_ids, "padding_mask": mask}, verbose=0)
        ref = hf_outputs(hf_model, token_ids, mask).last_hidden_state.numpy()
        real = mask[..., None].astype(bool)
        assert np.abs(np.where(real, ours - ref, 0)).max() < 1e-4
        # The HF model is not trivially close to its embeddings' output.
        assert np.abs(ref).max() > 0.5

    def test_converter_errors(self, hf_roberta, tmp_path):
        directory, _ = hf_roberta["RobertaModel"]
        copy = tmp_path / "copy"
        shutil.copytree(directory, copy)
        config = json.loads((copy / "config.json").read_text())
        for key, value, match in (
            ("layer_norm_eps", 1e-12, "layer_norm_eps=1e-12"),
            ("hidden_act", "relu", "hidden_act='relu'"),
            ("position_embedding_type", "relative_key", "absolute"),
        ):
            (copy / "config.json").write_text(json.dumps({**config, key: value}))
            with pytest.raises(PresetError, match=match):
                RobertaBackbone.from_preset(str(copy))
        (copy / "config.json").write_text(json.dumps(config))
        os.remove(copy / "merges.txt")
        with pytest.raises(FileNotFoundError, match="merges.txt"):
            Tokenizer.from_preset(str(copy))
