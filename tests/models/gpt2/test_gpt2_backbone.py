import json
import shutil

import keras
import numpy as np
import pytest

from keras_nlp_clone.layers import ReversibleEmbedding
from keras_nlp_clone.models import Backbone
from keras_nlp_clone.models import GPT2Backbone
from keras_nlp_clone.models import GPT2Tokenizer
from keras_nlp_clone.models import Tokenizer
from keras_nlp_clone.models.gpt2.gpt2_presets import backbone_presets
from keras_nlp_clone.presets.errors import PresetError
from keras_nlp_clone.presets.registry import BUILTIN_PRESETS
from keras_nlp_clone.presets.registry import HF_CONVERTERS
from tests.models.gpt2.conftest import EOT
from tests.models.gpt2.conftest import TINY_VOCAB
from tests.models.gpt2.conftest import hf_hidden_states
from tests.test_case import TestCase


def _np(x):
    return keras.ops.convert_to_numpy(x)


def gpt2_param_count(vocab, hidden, layers, intermediate, positions=1024):
    """Token and position embeddings, per layer the attention (4 dense), 2
    layer norms and the feed-forward block, and the final layer norm."""
    embeddings = (vocab + positions) * hidden
    layer = 4 * (hidden * hidden + hidden) + 2 * 2 * hidden
    layer += hidden * intermediate + intermediate + intermediate * hidden + hidden
    return embeddings + layers * layer + 2 * hidden


class TestGPT2Backbone(TestCase):
    def test_output_shape_and_attributes(self, tiny_backbone, tiny_inputs):
        outputs = tiny_backbone(tiny_inputs)
        assert tuple(outputs.shape) == (2, 8, 16)
        embedding = tiny_backbone.token_embedding
        assert isinstance(embedding, ReversibleEmbedding)
        assert embedding.tie_weights
        assert tuple(embedding.embeddings.shape) == (len(TINY_VOCAB), 16)
        # The tied embedding maps hidden states back to vocabulary logits.
        logits = embedding(outputs, reverse=True)
        assert tuple(logits.shape) == (2, 8, len(TINY_VOCAB))
        assert sorted(tiny_backbone.input) == ["padding_mask", "token_ids"]
        assert len(tiny_backbone.transformer_layers) == 2
        layer = tiny_backbone.transformer_layers[0]
        assert layer.normalize_first and layer._cross_attention_layer is None
        assert layer.layer_norm_epsilon == 1e-5
        assert tiny_backbone.count_params() == gpt2_param_count(
            len(TINY_VOCAB), 16, 2, 32, 16
        )

    def test_causal_and_padding(self, tiny_backbone):
        x = np.array([[EOT, 260, 261, 262, 263, 264]], "int32")
        full = _np(tiny_backbone({"token_ids": x, "padding_mask": np.ones_like(x)}))
        # Changing a later token does not change earlier outputs (causal).
        changed = x.copy()
        changed[0, 4:] = [5, 6]
        out = _np(
            tiny_backbone({"token_ids": changed, "padding_mask": np.ones_like(x)})
        )
        np.testing.assert_allclose(out[:, :4], full[:, :4], atol=1e-5)
        assert np.abs(out[:, 4:] - full[:, 4:]).max() > 1e-3
        # Right padding leaves the real positions unchanged.
        padded = np.concatenate([x, np.full((1, 3), EOT, "int32")], axis=1)
        mask = np.array([[True] * 6 + [False] * 3])
        out = _np(tiny_backbone({"token_ids": padded, "padding_mask": mask}))
        np.testing.assert_allclose(out[:, :6], full, atol=1e-5)

    def test_config_and_preset_round_trip(self, tiny_backbone, tiny_inputs, tmp_path):
        config = tiny_backbone.get_config()
        assert config["max_sequence_length"] == 16 and config["dropout"] == 0.1
        assert GPT2Backbone.from_config(config).get_config() == config
        tiny_backbone.save_to_preset(str(tmp_path))
        restored = Backbone.from_preset(str(tmp_path))
        assert type(restored) is GPT2Backbone
        np.testing.assert_array_equal(
            tiny_backbone.predict(tiny_inputs, verbose=0),
            restored.predict(tiny_inputs, verbose=0),
        )

    def test_errors(self, tiny_backbone):
        with pytest.raises(ValueError, match="divisible by `num_heads`"):
            GPT2Backbone(
                vocabulary_size=10,
                num_layers=1,
                num_heads=3,
                hidden_dim=8,
                intermediate_dim=16,
            )
        x = np.ones((1, 17), "int32")
        with pytest.raises(ValueError, match="sequence_length=16"):
            tiny_backbone({"token_ids": x, "padding_mask": x})

    def test_presets_registry_and_parameter_counts(self):
        # (vocab, hidden, layers, intermediate) of the published checkpoints.
        shapes = {
            "gpt2_base_en": (50257, 768, 12, 3072),
            "gpt2_medium_en": (50257, 1024, 24, 4096),
            "gpt2_large_en": (50257, 1280, 36, 5120),
            "gpt2_extra_large_en": (50257, 1600, 48, 6400),
            "gpt2_base_en_cnn_dailymail": (50257, 768, 12, 3072),
        }
        assert set(backbone_presets) == set(shapes)
        presets = GPT2Backbone.presets
        assert set(presets) == set(shapes)
        assert set(GPT2Tokenizer.presets) == set(shapes)
        for preset_id, shape in shapes.items():
            assert presets[preset_id]["params"] == gpt2_param_count(*shape)
            entry = BUILTIN_PRESETS[preset_id]
            assert entry["backbone"] == "GPT2Backbone"
            assert entry["kaggle_handle"] == f"kaggle://keras/gpt2/keras/{preset_id}"
        assert presets["gpt2_base_en"]["params"] == 124439808
        assert presets["gpt2_extra_large_en"]["params"] == 1557611200
        assert presets["gpt2_large_en"]["description"] == (
            "36-layer GPT-2 model where case is maintained. Trained on WebText."
        )
        assert "CNN/DailyMail" in presets["gpt2_base_en_cnn_dailymail"]["description"]
        assert HF_CONVERTERS["gpt2"].backbone_cls_name == "GPT2Backbone"


class TestGPT2BackboneConversion(TestCase):
    @pytest.mark.parametrize("name", ["GPT2Model", "GPT2LMHeadModel"])
    def test_matches_transformers(self, hf_gpt2, name):
        directory, hf_model = hf_gpt2[name]
        backbone = Backbone.from_preset(directory)
        assert type(backbone) is GPT2Backbone
        assert backbone.max_sequence_length == 32
        assert backbone.intermediate_dim == 64
        token_ids = np.array(
            [[EOT, 260, 261, 262, EOT, EOT, EOT, EOT, EOT],
             [EOT, 263, 5, 40, 264, 7, 9, 290, EOT]],
            "int32",
        )
        mask = np.array([[1] * 5 + [0] * 4, [1] * 9], "int32")
        ours = backbone.predict({"token_ids": token_ids, "padding_mask": mask}, verbose=0)
        ref = hf_hidden_states(hf_model, token_ids, mask)
        real = mask[..., None].astype(bool)
        assert np.abs(np.where(real, ours - ref, 0)).max() < 1e-4
        # The reference is far from trivial.
        assert np.abs(ref).max() > 0.5

    def test_tokenizer_from_checkpoint(self, hf_gpt2):
        directory, _ = hf_gpt2["GPT2Model"]
        tokenizer = Tokenizer.from_preset(directory)
        assert type(tokenizer) is GPT2Tokenizer
        assert tokenizer.end_token_id == EOT
        assert tokenizer("the fox") == [257, 273]

    def test_converter_errors(self, hf_gpt2, tmp_path):
        directory, _ = hf_gpt2["GPT2Model"]
        copy = tmp_path / "copy"
        shutil.copytree(directory, copy)
        config = json.loads((copy / "config.json").read_text())
        for key, value, match in (
            ("layer_norm_epsilon", 1e-6, "layer_norm_epsilon=1e-06"),
            ("activation_function", "relu", "activation_function='relu'"),
            ("scale_attn_by_inverse_layer_idx", True, "scale_attn_by_inverse"),
            ("add_cross_attention", True, "add_cross_attention"),
        ):
            (copy / "config.json").write_text(json.dumps({**config, key: value}))
            with pytest.raises(PresetError, match=match):
                GPT2Backbone.from_preset(str(copy))
        (copy / "config.json").write_text(json.dumps(config))
        (copy / "merges.txt").unlink()
        with pytest.raises(FileNotFoundError, match="merges.txt"):
            Tokenizer.from_preset(str(copy))


class TestInOutDenseHelper(TestCase):
    def test_assigns_without_transpose_and_checks_sizes(self):
        from keras_nlp_clone.presets.hf_conversion import assign_in_out_dense

        dense = keras.layers.EinsumDense("abc,cde->abde", (None, 2, 3), bias_axes="de")
        dense.build((1, 4, 4))
        kernel = np.arange(24, dtype="float32").reshape(4, 6)
        bias = np.arange(6, dtype="float32")
        assign_in_out_dense(dense, kernel, bias, "h.0.attn.c_attn")
        np.testing.assert_array_equal(_np(dense.kernel), kernel.reshape(4, 2, 3))
        np.testing.assert_array_equal(_np(dense.bias), bias.reshape(2, 3))
        with pytest.raises(PresetError, match="h.0.attn.c_attn.weight"):
            assign_in_out_dense(dense, kernel[:, :5], bias, "h.0.attn.c_attn")
