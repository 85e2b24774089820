import keras
import numpy as np
import pytest

from keras_nlp_clone.models import BertMaskedLM
from keras_nlp_clone.models import BertMaskedLMPreprocessor
from keras_nlp_clone.models import MaskedLM
from tests.test_case import TestCase

TEXTS = ["the quick brown fox jumped over the lazy dog", "a good film !"]


@pytest.fixture
def preprocessor(tiny_tokenizer):
    return BertMaskedLMPreprocessor(
        tiny_tokenizer,
        sequence_length=12,
        mask_selection_rate=0.5,
        mask_selection_length=4,
    )


class TestBertMaskedLMPreprocessor(TestCase):
    def test_outputs(self, preprocessor):
        x, y, sample_weight = preprocessor(TEXTS)
        token_ids = keras.ops.convert_to_numpy(x["token_ids"])
        positions = keras.ops.convert_to_numpy(x["mask_positions"])
        y = keras.ops.convert_to_numpy(y)
        weights = keras.ops.convert_to_numpy(sample_weight)
        assert token_ids.shape == (2, 12) and positions.shape == (2, 4)
        assert y.shape == (2, 4) and weights.shape == (2, 4)
        # Special tokens are never selected; labels are the original ids.
        original = keras.ops.convert_to_numpy(
            preprocessor.packer(tuple([preprocessor.tokenizer(TEXTS)]))[0]
        )
        for row in range(2):
            for pos, label, weight in zip(positions[row], y[row], weights[row]):
                if weight:
                    assert original[row, pos] not in (0, 2, 3)
                    assert original[row, pos] == label

    def test_sequence_length_can_change_after_use(self, preprocessor):
        x, _, _ = preprocessor(TEXTS)
        assert tuple(x["token_ids"].shape) == (2, 12)
        preprocessor.sequence_length = 6
        x, _, _ = preprocessor(TEXTS)
        assert tuple(x["token_ids"].shape) == (2, 6)
        assert preprocessor.get_config()["sequence_length"] == 6

    def test_rejects_labels(self, preprocessor):
        with pytest.raises(ValueError, match="makes its labels"):
            preprocessor(TEXTS, y=[1, 0])


class TestBertMaskedLM(TestCase):
    def test_fit_on_raw_strings(self, tiny_backbone, preprocessor):
        masked_lm = BertMaskedLM(tiny_backbone, preprocessor=preprocessor)
        assert isinstance(masked_lm, MaskedLM)
        history = masked_lm.fit(TEXTS, batch_size=2, epochs=2, verbose=0)
        assert len(history.history["loss"]) == 2
        logits = masked_lm.predict(TEXTS, verbose=0)
        assert logits.shape == (2, 4, tiny_backbone.vocabulary_size)

    def test_preset_round_trip(self, tiny_backbone, preprocessor, tmp_path):
        masked_lm = BertMaskedLM(tiny_backbone, preprocessor=None)
        masked_lm.save_to_preset(str(tmp_path))
        restored = MaskedLM.from_preset(str(tmp_path))
        assert type(restored) is BertMaskedLM
        assert restored.preprocessor is None
        x, _, _ = preprocessor(TEXTS)
        x = {k: keras.ops.convert_to_numpy(v) for k, v in x.items()}
        np.testing.assert_allclose(
            restored.predict(x, verbose=0), masked_lm.predict(x, verbose=0), atol=1e-6
        )

    def test_matches_transformers_masked_lm(self, hf_bert_checkpoint):
        import torch

        directory, hf_model = hf_bert_checkpoint("BertForMaskedLM")
        masked_lm = BertMaskedLM.from_preset(directory, preprocessor=None)
        ids = np.array([[2, 5, 4, 7, 3, 0, 0], [2, 8, 9, 4, 10, 3, 0]], "int32")
        mask = (ids != 0).astype("int32")
        positions = np.array([[2, 1], [3, 4]], "int32")
        ours = masked_lm.predict(
            {
                "token_ids": ids,
                "segment_ids": np.zeros_like(ids),
                "padding_mask": mask,
                "mask_positions": positions,
            },
            verbose=0,
        )
        with torch.no_grad():
            ref = hf_model(
                input_ids=torch.tensor(ids, dtype=torch.long),
                attention_mask=torch.tensor(mask),
            ).logits.numpy()
        ref = np.take_along_axis(ref, positions[..., None], axis=1)
        np.testing.assert_allclose(ours, ref, atol=1e-4)
