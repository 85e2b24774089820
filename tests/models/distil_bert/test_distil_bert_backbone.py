import keras
import numpy as np
import pytest

from keras_nlp_clone.models import Backbone
from keras_nlp_clone.models import BertBackbone
from keras_nlp_clone.models import DistilBertBackbone
from keras_nlp_clone.models import DistilBertClassifier
from keras_nlp_clone.models import DistilBertMaskedLM
from keras_nlp_clone.models import DistilBertMaskedLMPreprocessor
from keras_nlp_clone.models import DistilBertPreprocessor
from keras_nlp_clone.models import DistilBertTokenizer
from keras_nlp_clone.models.distil_bert.distil_bert_presets import (
    backbone_presets,
)
from keras_nlp_clone.presets.errors import PresetError
from keras_nlp_clone.presets.registry import BUILTIN_PRESETS
from tests.models.distil_bert.conftest import HF_TOKEN_IDS
from tests.models.distil_bert.conftest import hf_outputs
from tests.test_case import TestCase


def _np(x):
    return keras.ops.convert_to_numpy(x)


def distil_bert_param_count(vocab, hidden, layers, intermediate, positions=512):
    """Token + position embeddings and their layer norm, then per layer:
    four attention projections, two layer norms and the feed-forward."""
    embeddings = (vocab + positions) * hidden + 2 * hidden
    layer = 4 * (hidden * hidden + hidden) + 2 * 2 * hidden
    layer += hidden * intermediate + intermediate + intermediate * hidden + hidden
    return embeddings + layers * layer


class TestDistilBertBackbone(TestCase):
    def test_output_shape_and_attributes(self, tiny_backbone, tiny_inputs):
        output = tiny_backbone(tiny_inputs)
        # A single tensor, not BERT's dict: DistilBERT has no pooler.
        assert tuple(output.shape) == (2, 8, 8)
        assert sorted(tiny_backbone.input) == ["padding_mask", "token_ids"]
        assert tiny_backbone.cls_token_index == 0
        assert tiny_backbone.token_embedding is (
            tiny_backbone.embeddings.token_embedding
        )
        assert tuple(tiny_backbone.token_embedding.embeddings.shape) == (23, 8)

    def test_count_params_matches_formula(self, tiny_backbone):
        assert tiny_backbone.count_params() == distil_bert_param_count(
            23, 8, 1, 16, positions=16
        )

    def test_padding_is_masked(self, tiny_backbone, tiny_inputs):
        # Other ids at the padded positions change nothing at real ones.
        other = dict(
            tiny_inputs,
            token_ids=np.where(
                tiny_inputs["padding_mask"] == 1, tiny_inputs["token_ids"], 9
            ).astype("int32"),
        )
        real = tiny_inputs["padding_mask"][..., None] == 1
        a = _np(tiny_backbone(tiny_inputs))
        b = _np(tiny_backbone(other))
        np.testing.assert_allclose(
            np.where(real, a, 0), np.where(real, b, 0), atol=1e-5
        )
        assert not np.allclose(a, b)

    def test_extra_keys_ignored_and_missing_key_raises(
        self, tiny_backbone, tiny_inputs
    ):
        # A BERT-style dict with `segment_ids` is accepted by name.
        extra = dict(tiny_inputs, segment_ids=np.ones((2, 8), "int32"))
        np.testing.assert_allclose(
            _np(tiny_backbone(extra)), _np(tiny_backbone(tiny_inputs)), atol=1e-6
        )
        with pytest.raises(ValueError, match=r"missing \['padding_mask'\]"):
            tiny_backbone({"token_ids": tiny_inputs["token_ids"]})

    def test_config_round_trip(self, tiny_backbone):
        config = tiny_backbone.get_config()
        assert {k: config[k] for k in ("hidden_dim", "num_layers", "dropout")} == {
            "hidden_dim": 8,
            "num_layers": 1,
            "dropout": 0.1,
        }
        assert "num_segments" not in config
        assert DistilBertBackbone.from_config(config).get_config() == config
        restored = keras.saving.deserialize_keras_object(
            keras.saving.serialize_keras_object(tiny_backbone)
        )
        assert isinstance(restored, DistilBertBackbone)

    def test_preset_round_trip(self, tiny_backbone, tiny_inputs, tmp_path):
        tiny_backbone.save_to_preset(str(tmp_path))
        restored = Backbone.from_preset(str(tmp_path))
        assert type(restored) is DistilBertBackbone
        np.testing.assert_array_equal(
            tiny_backbone.predict(tiny_inputs, verbose=0),
            restored.predict(tiny_inputs, verbose=0),
        )
        with pytest.raises(PresetError, match="DistilBertBackbone` preset"):
            BertBackbone.from_preset(str(tmp_path))

    def test_hidden_dim_not_divisible_raises(self):
        with pytest.raises(ValueError, match="divisible by `num_heads`"):
            DistilBertBackbone(
                vocabulary_size=10,
                num_layers=1,
                num_heads=3,
                hidden_dim=8,
                intermediate_dim=16,
            )


class TestDistilBertPresets(TestCase):
    # (vocab, hidden, layers, intermediate) of the published checkpoints.
    SHAPES = {
        "distil_bert_base_en_uncased": (30522, 768, 6, 3072),
        "distil_bert_base_en_cased": (28996, 768, 6, 3072),
        "distil_bert_base_multi_cased": (119547, 768, 6, 3072),
    }

    def test_parameter_counts_by_formula(self):
        assert set(self.SHAPES) == set(backbone_presets)
        for preset_id, shape in self.SHAPES.items():
            assert backbone_presets[preset_id]["metadata"]["params"] == (
                distil_bert_param_count(*shape)
            ), preset_id
        # The rounded figures of the reference's table.
        assert [
            round(backbone_presets[p]["metadata"]["params"] / 1e6) for p in self.SHAPES
        ] == [66, 65, 135]

    def test_registry_entries_and_aliases(self):
        registry = BUILTIN_PRESETS
        assert registry["distil_bert_base_en_uncased"]["kaggle_handle"] == (
            "kaggle://keras/distil_bert/keras/distil_bert_base_en_uncased"
        )
        assert registry["distil_bert_base_en_cased"]["kaggle_handle"] == (
            "kaggle://keras/distil_bert/keras/distil_bert_base_en"
        )
        assert registry["distil_bert_base_multi_cased"]["kaggle_handle"] == (
            "kaggle://keras/distil_bert/keras/distil_bert_base_multi"
        )
        for alias, target in (
            ("distil_bert_base_en", "distil_bert_base_en_cased"),
            ("distil_bert_base_multi", "distil_bert_base_multi_cased"),
        ):
            assert registry[alias]["metadata"]["alias_of"] == target
            assert registry[alias]["kaggle_handle"] == registry[target]["kaggle_handle"]
            assert registry[alias]["backbone"] == "DistilBertBackbone"
        assert registry["distil_bert_base_en_uncased"]["metadata"]["description"] == (
            "6-layer DistilBERT model where all input is lowercased. Trained on "
            "English Wikipedia + BooksCorpus."
        )

    def test_presets_property_of_every_class(self):
        expected = {
            "distil_bert_base_en",
            "distil_bert_base_en_cased",
            "distil_bert_base_en_uncased",
            "distil_bert_base_multi",
            "distil_bert_base_multi_cased",
        }
        for cls in (
            DistilBertBackbone,
            DistilBertTokenizer,
            DistilBertPreprocessor,
            DistilBertMaskedLMPreprocessor,
            DistilBertClassifier,
            DistilBertMaskedLM,
        ):
            assert set(cls.presets) == expected, cls.__name__
        assert not expected & set(BertBackbone.presets)
        assert expected <= set(Backbone.presets)
        assert (
            DistilBertBackbone.presets["distil_bert_base_multi_cased"]["params"]
            == 134734080
        )


class TestDistilBertBackboneConversion(TestCase):
    def test_matches_transformers(self, hf_distil_bert_checkpoint):
        directory, hf_model = hf_distil_bert_checkpoint("DistilBertModel")
        backbone = Backbone.from_preset(directory)
        assert type(backbone) is DistilBertBackbone
        assert backbone.count_params() == sum(p.numel() for p in hf_model.parameters())
        ours = backbone.predict(
            {"token_ids": HF_TOKEN_IDS, "padding_mask": HF_TOKEN_IDS != 0},
            verbose=0,
        )
        ref = hf_outputs(hf_model, HF_TOKEN_IDS).last_hidden_state.numpy()
        real = (HF_TOKEN_IDS != 0)[..., None]
        assert np.abs(np.where(real, ours - ref, 0)).max() < 1e-4

    def test_prefixed_checkpoint_and_bad_activation(self, hf_distil_bert_checkpoint):
        directory, hf_model = hf_distil_bert_checkpoint("DistilBertForMaskedLM")
        backbone = DistilBertBackbone.from_preset(directory)
        ref = hf_outputs(hf_model.distilbert, HF_TOKEN_IDS).last_hidden_state
        ours = backbone.predict(
            {"token_ids": HF_TOKEN_IDS, "padding_mask": HF_TOKEN_IDS != 0},
            verbose=0,
        )
        real = (HF_TOKEN_IDS != 0)[..., None]
        assert np.abs(np.where(real, ours - ref.numpy(), 0)).max() < 1e-4

        relu_dir, _ = hf_distil_bert_checkpoint("DistilBertModel", activation="relu")
        with pytest.raises(PresetError, match="activation='relu'"):
            DistilBertBackbone.from_preset(relu_dir)
