import os

import keras
import numpy as np
import pytest

from keras_nlp_clone.models import Backbone
from keras_nlp_clone.models import BertBackbone
from keras_nlp_clone.models.bert.bert_presets import backbone_presets
from tests.test_case import TestCase


def _np(x):
    return keras.ops.convert_to_numpy(x)


def bert_param_count(vocab, hidden, layers, intermediate, positions=512, segments=2):
    embeddings = (vocab + positions + segments) * hidden + 2 * hidden
    layer = 4 * (hidden * hidden + hidden) + 2 * 2 * hidden
    layer += hidden * intermediate + intermediate + intermediate * hidden + hidden
    return embeddings + layers * layer + hidden * hidden + hidden


class TestBertBackbone(TestCase):
    def test_output_shapes_and_attributes(self, tiny_backbone, tiny_inputs):
        outputs = tiny_backbone(tiny_inputs)
        assert tuple(outputs["sequence_output"].shape) == (2, 8, 8)
        assert tuple(outputs["pooled_output"].shape) == (2, 8)
        assert tiny_backbone.cls_token_index == 0
        assert tiny_backbone.token_embedding.name == "token_embedding"
        assert tuple(tiny_backbone.token_embedding.embeddings.shape) == (23, 8)

    def test_padding_does_not_change_real_tokens(self, tiny_backbone):
        short = {
            "token_ids": np.array([[2, 5, 6, 3]], "int32"),
            "segment_ids": np.zeros((1, 4), "int32"),
            "padding_mask": np.ones((1, 4), "int32"),
        }
        padded = {
            "token_ids": np.array([[2, 5, 6, 3, 0, 0]], "int32"),
            "segment_ids": np.zeros((1, 6), "int32"),
            "padding_mask": np.array([[1, 1, 1, 1, 0, 0]], "int32"),
        }
        a = _np(tiny_backbone(short)["sequence_output"])
        b = _np(tiny_backbone(padded)["sequence_output"])[:, :4]
        np.testing.assert_allclose(a, b, atol=1e-5)

    def test_boolean_padding_mask_accepted(self, tiny_backbone, tiny_inputs):
        as_bool = dict(tiny_inputs, padding_mask=tiny_inputs["padding_mask"] == 1)
        a = _np(tiny_backbone(tiny_inputs)["sequence_output"])
        b = _np(tiny_backbone(as_bool)["sequence_output"])
        np.testing.assert_allclose(a, b, atol=1e-6)

    def test_extra_input_keys_are_ignored_by_name(self, tiny_backbone, tiny_inputs):
        # The guide feeds the backbone a dict that also holds
        # `mask_positions`; it must not be matched to an input by position.
        extra = dict(tiny_inputs, mask_positions=np.ones((2, 3), "int32"))
        a = _np(tiny_backbone(tiny_inputs)["sequence_output"])
        b = _np(tiny_backbone(extra)["sequence_output"])
        np.testing.assert_allclose(a, b, atol=1e-6)
        symbolic = {
            k: keras.Input(shape=(None,), dtype="int32", name=k) for k in extra
        }
        outputs = tiny_backbone(symbolic)
        assert tuple(outputs["sequence_output"].shape) == (None, None, 8)

    def test_missing_input_key_raises(self, tiny_backbone, tiny_inputs):
        partial = {k: v for k, v in tiny_inputs.items() if k != "segment_ids"}
        with pytest.raises(ValueError, match=r"missing \['segment_ids'\]"):
            tiny_backbone(partial)

    def test_config_round_trip(self, tiny_backbone, tiny_inputs):
        config = tiny_backbone.get_config()
        assert config["hidden_dim"] == 8 and config["num_layers"] == 2
        clone = BertBackbone.from_config(config)
        assert clone.get_config() == config
        restored = keras.saving.deserialize_keras_object(
            keras.saving.serialize_keras_object(tiny_backbone)
        )
        assert isinstance(restored, BertBackbone)

    def test_preset_round_trip(self, tiny_backbone, tiny_inputs, tmp_path):
        tiny_backbone.save_to_preset(str(tmp_path))
        assert sorted(os.listdir(tmp_path)) == [
            "config.json",
            "metadata.json",
            "model.weights.h5",
        ]
        restored = Backbone.from_preset(str(tmp_path))
        assert type(restored) is BertBackbone
        a = tiny_backbone.predict(tiny_inputs, verbose=0)
        b = restored.predict(tiny_inputs, verbose=0)
        np.testing.assert_allclose(a["sequence_output"], b["sequence_output"], atol=0)
        random_init = BertBackbone.from_preset(str(tmp_path), load_weights=False)
        c = random_init.predict(tiny_inputs, verbose=0)
        assert not np.allclose(a["sequence_output"], c["sequence_output"])

    def test_bfloat16_dtype(self, tiny_backbone_kwargs, tiny_inputs):
        backbone = BertBackbone(**tiny_backbone_kwargs, dtype="bfloat16")
        out = backbone(tiny_inputs)["sequence_output"]
        assert keras.backend.standardize_dtype(out.dtype) == "bfloat16"

    def test_hidden_dim_not_divisible_raises(self):
        with pytest.raises(ValueError, match="divisible by `num_heads`"):
            BertBackbone(
                vocabulary_size=10,
                num_layers=1,
                num_heads=3,
                hidden_dim=8,
                intermediate_dim=16,
            )

    def test_preset_parameter_counts(self):
        # (vocab, hidden, layers, intermediate) of the published checkpoints.
        shapes = {
            "bert_tiny_en_uncased": (30522, 128, 2, 512),
            "bert_small_en_uncased": (30522, 512, 4, 2048),
            "bert_medium_en_uncased": (30522, 512, 8, 2048),
            "bert_base_en_uncased": (30522, 768, 12, 3072),
            "bert_base_en_cased": (28996, 768, 12, 3072),
            "bert_base_zh": (21128, 768, 12, 3072),
            "bert_base_multi_cased": (119547, 768, 12, 3072),
            "bert_large_en_uncased": (30522, 1024, 24, 4096),
            "bert_large_en_cased": (28996, 1024, 24, 4096),
            "bert_tiny_en_uncased_sst2": (30522, 128, 2, 512),
            "all_minilm_l6_v2_en": (30522, 384, 6, 1536),
        }
        assert set(shapes) == set(backbone_presets)
        for preset_id, shape in shapes.items():
            assert (
                backbone_presets[preset_id]["metadata"]["params"]
                == bert_param_count(*shape)
            ), preset_id
        presets = BertBackbone.presets
        assert presets["bert_tiny_en_uncased"]["params"] == 4385920
        assert "description" in presets["all_minilm_l6_v2_en"]


@pytest.mark.large
class TestBertBackboneParity(TestCase):
    SENTENCES = [
        "The weather is lovely today.",
        "It's so sunny outside!",
        "He drove to the stadium.",
        "A much longer review: the acting was wooden, the plot predictable, "
        "and yet I could not stop watching until the credits rolled.",
    ]

    @pytest.fixture(scope="class")
    def minilm(self, minilm_dir):
        return BertBackbone.from_preset("all_minilm_l6_v2_en")

    def _hf_outputs(self, minilm_dir):
        import torch
        import transformers

        tokenizer = transformers.BertTokenizerFast.from_pretrained(minilm_dir)
        encoded = tokenizer(self.SENTENCES, padding=True, return_tensors="np")
        model = transformers.BertModel.from_pretrained(minilm_dir).eval()
        with torch.no_grad():
            out = model(**{k: torch.tensor(v) for k, v in encoded.items()})
        return encoded, out

    def test_matches_transformers(self, minilm, minilm_dir):
        encoded, ref = self._hf_outputs(minilm_dir)
        assert minilm.count_params() == 22713216
        out = minilm.predict(
            {
                "token_ids": encoded["input_ids"].astype("int32"),
                "segment_ids": encoded["token_type_ids"].astype("int32"),
                "padding_mask": encoded["attention_mask"].astype("int32"),
            },
            verbose=0,
        )
        mask = encoded["attention_mask"][..., None].astype(bool)
        # Lengths differ (8, 9, 8 and 28 tokens): three rows are padded.
        assert len(set(encoded["attention_mask"].sum(1))) == 3
        diff = np.where(mask, out["sequence_output"] - ref.last_hidden_state.numpy(), 0)
        assert np.abs(diff).max() < 1e-4
        np.testing.assert_allclose(
            out["pooled_output"], ref.pooler_output.numpy(), atol=1e-4
        )

    def test_sentence_similarities_match_published_values(self, minilm):
        from keras_nlp_clone.models import BertPreprocessor

        preprocessor = BertPreprocessor.from_preset(
            "all_minilm_l6_v2_en", sequence_length=32
        )
        inputs = preprocessor(self.SENTENCES[:3])
        hidden = _np(minilm(inputs)["sequence_output"])
        mask = _np(inputs["padding_mask"]).astype("float32")[..., None]
        embeddings = (hidden * mask).sum(1) / mask.sum(1)
        embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
        similarities = [
            embeddings[0] @ embeddings[1],
            embeddings[0] @ embeddings[2],
            embeddings[1] @ embeddings[2],
        ]
        np.testing.assert_allclose(similarities, [0.6660, 0.1046, 0.1411], atol=5e-4)
