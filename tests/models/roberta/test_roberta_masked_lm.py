import keras
import numpy as np
import pytest

from keras_nlp_clone.models import MaskedLM
from keras_nlp_clone.models import RobertaMaskedLM
from keras_nlp_clone.models import RobertaMaskedLMPreprocessor
from tests.models.roberta.conftest import hf_outputs
from tests.test_case import TestCase

TEXTS = ["the quick brown fox jumped over the lazy dog", "a good film !"]


@pytest.fixture
def preprocessor(tiny_tokenizer):
    return RobertaMaskedLMPreprocessor(
        tiny_tokenizer,
        sequence_length=12,
        mask_selection_rate=0.5,
        mask_selection_length=4,
    )


class TestRobertaMaskedLMPreprocessor(TestCase):
    def test_outputs(self, preprocessor):
        x, y, sample_weight = preprocessor(TEXTS)
        assert sorted(x) == ["mask_positions", "padding_mask", "token_ids"]
        token_ids = keras.ops.convert_to_numpy(x["token_ids"])
        positions = keras.ops.convert_to_numpy(x["mask_positions"])
        y = keras.ops.convert_to_numpy(y)
        weights = keras.ops.convert_to_numpy(sample_weight)
        assert token_ids.shape == (2, 12) and positions.shape == (2, 4)
        assert y.shape == (2, 4) and weights.shape == (2, 4)
        original = keras.ops.convert_to_numpy(
            preprocessor.packer((preprocessor.tokenizer(TEXTS),))[0]
        )
        mask_id = preprocessor.tokenizer.mask_token_id
        selected = 0
        for row in range(2):
            for pos, label, weight in zip(positions[row], y[row], weights[row]):
                if weight:
                    selected += 1
                    # Never a special token (<s>, </s>, <pad>); labels are
                    # the original ids.
                    assert original[row, pos] not in (0, 1, 2)
                    assert original[row, pos] == label
        assert selected > 0
        assert (token_ids == mask_id).any()

    def test_rejects_labels(self, preprocessor):
        with pytest.raises(ValueError, match="makes its labels"):
            preprocessor(TEXTS, y=[1, 0])


class TestRobertaMaskedLM(TestCase):
    def test_fit_on_raw_strings_and_preset_round_trip(
        self, tiny_backbone, preprocessor, tmp_path
    ):
        masked_lm = RobertaMaskedLM(tiny_backbone, preprocessor=preprocessor)
        assert isinstance(masked_lm, MaskedLM)
        history = masked_lm.fit(TEXTS, batch_size=2, epochs=1, verbose=0)
        assert np.isfinite(history.history["loss"][0])
        x, _, _ = preprocessor(TEXTS)
        x = {k: keras.ops.convert_to_numpy(v) for k, v in x.items()}
        masked_lm.preprocessor = None  # takes the preprocessed dict
        expected = masked_lm.predict(x, verbose=0)
        assert expected.shape == (2, 4, tiny_backbone.vocabulary_size)
        masked_lm.save_to_preset(str(tmp_path))
        restored = MaskedLM.from_preset(str(tmp_path))
        assert type(restored) is RobertaMaskedLM and restored.preprocessor is None
        # Same weights, head included (a prediction compares nothing more).
        assert len(restored.weights) == len(masked_lm.weights)
        for a, b in zip(restored.get_weights(), masked_lm.get_weights()):
            np.testing.assert_array_equal(a, b)

    def test_matches_transformers_masked_lm(self, hf_roberta):
        directory, hf_model = hf_roberta["RobertaForMaskedLM"]
        masked_lm = RobertaMaskedLM.from_preset(directory, preprocessor=None)
        token_ids = np.array(
            [[0, 280, 331, 282, 2, 1, 1], [0, 283, 284, 331, 285, 40, 2]], "int32"
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
        assert np.abs(ref).max() > 1.0


class TestRobertaMaskedLMUntiedDecoder(TestCase):
    def test_untied_decoder_raises(self, tmp_path):
        import torch
        import transformers

        from keras_nlp_clone.models import RobertaBackbone
        from keras_nlp_clone.presets.errors import PresetError
        from tests.models.roberta.conftest import TINY_MERGES
        from tests.models.roberta.conftest import TINY_VOCAB
        from tests.models.roberta.conftest import write_tokenizer_files

        config = transformers.RobertaConfig(
            vocab_size=len(TINY_VOCAB),
            hidden_size=16,
            num_hidden_layers=1,
            num_attention_heads=4,
            intermediate_size=32,
            max_position_embeddings=34,
            layer_norm_eps=1e-5,
            type_vocab_size=1,
            tie_word_embeddings=False,
        )
        torch.manual_seed(0)
        model = transformers.RobertaForMaskedLM(config)
        with torch.no_grad():
            model.lm_head.decoder.weight.add_(1.0)
        model.save_pretrained(tmp_path)
        write_tokenizer_files(tmp_path, TINY_VOCAB, TINY_MERGES)
        # The backbone alone still loads; the tied head refuses the decoder.
        assert isinstance(RobertaBackbone.from_preset(str(tmp_path)), RobertaBackbone)
        with pytest.raises(PresetError, match="tie_word_embeddings=False"):
            RobertaMaskedLM.from_preset(str(tmp_path), preprocessor=None)
