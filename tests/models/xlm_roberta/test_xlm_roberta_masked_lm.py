import keras
import numpy as np
import pytest

from keras_nlp_clone.models import MaskedLM
from keras_nlp_clone.models import RobertaMaskedLM
from keras_nlp_clone.models import XLMRobertaMaskedLM
from keras_nlp_clone.models import XLMRobertaMaskedLMPreprocessor
from tests.models.roberta.conftest import hf_outputs
from tests.models.xlm_roberta.conftest import VOCABULARY_SIZE
from tests.test_case import TestCase

TEXTS = ["the quick brown fox jumped over the lazy dog", "a good film !"]


@pytest.fixture
def preprocessor(tiny_tokenizer):
    return XLMRobertaMaskedLMPreprocessor(
        tiny_tokenizer,
        sequence_length=12,
        mask_selection_rate=0.5,
        mask_selection_length=4,
    )


class TestXLMRobertaMaskedLM(TestCase):
    def test_preprocessor_masks_with_the_last_id(self, preprocessor):
        x, y, sample_weight = preprocessor(TEXTS)
        token_ids = keras.ops.convert_to_numpy(x["token_ids"])
        weights = keras.ops.convert_to_numpy(sample_weight)
        assert preprocessor.tokenizer.mask_token_id == VOCABULARY_SIZE - 1
        assert (token_ids == VOCABULARY_SIZE - 1).any() and weights.sum() > 0
        positions = keras.ops.convert_to_numpy(x["mask_positions"])
        # Never <s> (0), <pad> (1) or </s> (2) at a selected position.
        original = keras.ops.convert_to_numpy(
            preprocessor.packer((preprocessor.tokenizer(TEXTS),))[0]
        )
        for row in range(2):
            for pos, weight in zip(positions[row], weights[row]):
                if weight:
                    assert original[row, pos] > 2

    def test_fit_on_raw_strings_and_preset_round_trip(
        self, tiny_backbone, preprocessor, tmp_path
    ):
        assert issubclass(XLMRobertaMaskedLM, RobertaMaskedLM)
        masked_lm = XLMRobertaMaskedLM(tiny_backbone, preprocessor=preprocessor)
        history = masked_lm.fit(TEXTS, batch_size=2, verbose=0)
        assert np.isfinite(history.history["loss"][0])
        masked_lm.save_to_preset(str(tmp_path))
        restored = MaskedLM.from_preset(str(tmp_path))
        assert type(restored) is XLMRobertaMaskedLM
        assert type(restored.preprocessor) is XLMRobertaMaskedLMPreprocessor
        for a, b in zip(restored.get_weights(), masked_lm.get_weights()):
            np.testing.assert_array_equal(a, b)

    def test_matches_transformers_masked_lm(self, hf_xlm_roberta):
        directory, hf_model = hf_xlm_roberta["XLMRobertaForMaskedLM"]
        masked_lm = MaskedLM.from_preset(directory, preprocessor=None)
        assert type(masked_lm) is XLMRobertaMaskedLM
        token_ids = np.array(
            [[0, 70, 801, 72, 2, 1, 1], [0, 73, 74, 801, 75, 40, 2]], "int32"
        )
        mask = (token_ids != 1).astype("int32")
        positions = np.array([[2, 1], [3, 5]], "int32")
        ours = masked_lm.predict(
            {"token_ids": token_ids, "padding_mask": mask, "mask_positions": positions},
            verbose=0,
        )
        ref = hf_outputs(hf_model, token_ids, mask).logits.numpy()
        ref = np.take_along_axis(ref, positions[..., None], axis=1)
        np.testing.assert_allclose(ours, ref, atol=1e-4)
