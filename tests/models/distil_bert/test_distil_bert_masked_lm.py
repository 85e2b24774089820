import keras
import numpy as np
import pytest

from keras_nlp_clone.models import DistilBertBackbone
from keras_nlp_clone.models import DistilBertMaskedLM
from keras_nlp_clone.models import DistilBertMaskedLMPreprocessor
from keras_nlp_clone.models import MaskedLM
from keras_nlp_clone.models import MaskedLMPreprocessor
from keras_nlp_clone.presets.errors import PresetError
from tests.models.distil_bert.conftest import HF_TOKEN_IDS
from tests.models.distil_bert.conftest import hf_outputs
from tests.test_case import TestCase

TEXTS = ["the quick brown fox jumped over the lazy dog", "a good film !"]


@pytest.fixture
def preprocessor(tiny_tokenizer):
    return DistilBertMaskedLMPreprocessor(
        tiny_tokenizer,
        sequence_length=12,
        mask_selection_rate=0.5,
        mask_selection_length=4,
    )


class TestDistilBertMaskedLMPreprocessor(TestCase):
    def test_outputs(self, preprocessor):
        x, y, sample_weight = preprocessor(TEXTS)
        assert sorted(x) == ["mask_positions", "padding_mask", "token_ids"]
        positions = keras.ops.convert_to_numpy(x["mask_positions"])
        y = keras.ops.convert_to_numpy(y)
        weights = keras.ops.convert_to_numpy(sample_weight)
        assert tuple(x["token_ids"].shape) == (2, 12) and positions.shape == (2, 4)
        assert y.shape == (2, 4) and weights.shape == (2, 4)
        assert weights.sum() > 0
        original = keras.ops.convert_to_numpy(
            preprocessor.packer((preprocessor.tokenizer(TEXTS),))[0]
        )
        for row in range(2):
            for pos, label, weight in zip(positions[row], y[row], weights[row]):
                if weight:
                    # Never a special token; the label is the original id.
                    assert original[row, pos] not in (0, 2, 3)
                    assert original[row, pos] == label

    def test_config_and_errors(self, preprocessor, tmp_path):
        config = preprocessor.get_config()
        assert (config["mask_selection_rate"], config["mask_token_rate"]) == (0.5, 0.8)
        preprocessor.save_to_preset(str(tmp_path))
        restored = MaskedLMPreprocessor.from_preset(str(tmp_path))
        assert type(restored) is DistilBertMaskedLMPreprocessor
        assert restored.mask_selection_length == 4
        with pytest.raises(ValueError, match="makes its labels"):
            preprocessor(TEXTS, y=[1, 0])


class TestDistilBertMaskedLM(TestCase):
    def test_fit_on_raw_strings(self, tiny_backbone, preprocessor):
        masked_lm = DistilBertMaskedLM(tiny_backbone, preprocessor=preprocessor)
        assert isinstance(masked_lm, MaskedLM)
        # The output projection is the token embedding, transposed.
        assert masked_lm.masked_lm_head.token_embedding is tiny_backbone.token_embedding
        history = masked_lm.fit(TEXTS, batch_size=2, verbose=0)
        assert np.isfinite(history.history["loss"][0])

    def test_preset_round_trip(self, tiny_backbone, preprocessor, tmp_path):
        masked_lm = DistilBertMaskedLM(tiny_backbone, preprocessor=preprocessor)
        masked_lm.save_to_preset(str(tmp_path))
        restored = MaskedLM.from_preset(str(tmp_path))
        assert type(restored) is DistilBertMaskedLM
        assert type(restored.preprocessor) is DistilBertMaskedLMPreprocessor
        # Called directly on one masked batch (`predict` would mask anew).
        x, _, _ = preprocessor(TEXTS)
        x = {k: keras.ops.convert_to_numpy(v) for k, v in x.items()}
        logits = keras.ops.convert_to_numpy(masked_lm(x))
        assert logits.shape == (2, 4, tiny_backbone.vocabulary_size)
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(restored(x)), logits, atol=1e-6
        )


class TestDistilBertMaskedLMConversion(TestCase):
    def test_matches_transformers(self, hf_distil_bert_checkpoint):
        directory, hf_model = hf_distil_bert_checkpoint("DistilBertForMaskedLM")
        masked_lm = MaskedLM.from_preset(directory, preprocessor=None)
        assert type(masked_lm) is DistilBertMaskedLM
        positions = np.array([[2, 1, 4], [3, 7, 5]], "int32")
        ours = masked_lm.predict(
            {
                "token_ids": HF_TOKEN_IDS,
                "padding_mask": HF_TOKEN_IDS != 0,
                "mask_positions": positions,
            },
            verbose=0,
        )
        ref = hf_outputs(hf_model, HF_TOKEN_IDS).logits.numpy()
        ref = np.take_along_axis(ref, positions[..., None], axis=1)
        np.testing.assert_allclose(ours, ref, atol=1e-4)

    def test_untied_projection_raises(self, hf_distil_bert_checkpoint):
        directory, _ = hf_distil_bert_checkpoint(
            "DistilBertForMaskedLM", tie_word_embeddings=False
        )
        # The backbone alone still loads.
        assert isinstance(DistilBertBackbone.from_preset(directory), DistilBertBackbone)
        with pytest.raises(PresetError, match="tie_word_embeddings=False"):
            DistilBertMaskedLM.from_preset(directory, preprocessor=None)
