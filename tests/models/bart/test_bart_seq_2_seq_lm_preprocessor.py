import keras
import numpy as np
import pytest

from keras_nlp_clone.models import BartSeq2SeqLMPreprocessor
from keras_nlp_clone.models import Preprocessor
from keras_nlp_clone.models import Seq2SeqLMPreprocessor
from keras_nlp_clone.utils.lazy_module import tf
from tests import real_data
from tests.models.bart.conftest import TINY_VOCAB
from tests.test_case import TestCase


def _ids(*tokens):
    return [TINY_VOCAB[t] for t in tokens]


def _np(x):
    return keras.ops.convert_to_numpy(x)


S, PAD, E = 0, 1, 2


@pytest.fixture
def preprocessor(tiny_tokenizer):
    return BartSeq2SeqLMPreprocessor(
        tiny_tokenizer, encoder_sequence_length=6, decoder_sequence_length=7
    )


class TestBartSeq2SeqLMPreprocessor(TestCase):
    def test_packs_sources_and_targets(self, preprocessor):
        x, y, sample_weight = preprocessor(
            {"encoder_text": ["the quick fox"], "decoder_text": ["a lazy dog"]}
        )
        fox = _ids("the", "Ġquick", "Ġfox")
        dog = _ids("a", "Ġlazy", "Ġdog")
        assert _np(x["encoder_token_ids"]).tolist() == [[S, *fox, E, PAD]]
        assert _np(x["encoder_padding_mask"]).tolist() == [[True] * 5 + [False]]
        # `</s> <s>` starts the decoder; the labels are shifted by one.
        assert _np(x["decoder_token_ids"]).tolist() == [[E, S, *dog, E, PAD]]
        assert _np(x["decoder_padding_mask"]).tolist() == [[True] * 6 + [False]]
        assert _np(y).tolist() == [[S, *dog, E, PAD, PAD]]
        assert _np(sample_weight).tolist() == [[True] * 5 + [False] * 2]

    def test_truncation_keeps_the_end_token(self, preprocessor):
        x, y, _ = preprocessor(
            {"encoder_text": "the quick brown fox jumped over",
             "decoder_text": "the quick brown fox jumped over the lazy dog"}
        )
        assert _np(x["encoder_token_ids"]).tolist() == [
            S, *_ids("the", "Ġquick", "Ġbrown", "Ġfox"), E
        ]
        words = _ids("the", "Ġquick", "Ġbrown", "Ġfox", "Ġjumped")
        assert _np(x["decoder_token_ids"]).tolist() == [E, S, *words]
        assert _np(y).tolist() == [S, *words, E]

    def test_generate_preprocess_and_postprocess(self, preprocessor):
        prompt = preprocessor.generate_preprocess(
            {"encoder_text": ["the fox", "a dog"], "decoder_text": ["the", ""]}
        )
        assert _np(prompt["decoder_token_ids"]).tolist() == [
            [E, S, *_ids("the"), PAD, PAD, PAD, PAD],
            [E, S, PAD, PAD, PAD, PAD, PAD],
        ]
        assert _np(prompt["decoder_padding_mask"]).sum(axis=1).tolist() == [3, 2]
        # Without `decoder_text`: only `</s> <s>`; a length override.
        prompt = preprocessor.generate_preprocess("the fox", decoder_sequence_length=4)
        assert _np(prompt["encoder_token_ids"]).tolist() == [
            S, *_ids("the", "Ġfox"), E, PAD, PAD
        ]
        assert _np(prompt["decoder_token_ids"]).tolist() == [E, S, PAD, PAD]
        # Special tokens and padding are dropped before detokenizing.
        text = preprocessor.generate_postprocess({
            "decoder_token_ids": [[E, S, *_ids("the", "Ġlazy", "Ġdog"), E, PAD]],
            "decoder_padding_mask": [[True] * 6 + [False]],
        })
        assert text == ["the lazy dog"]

    def test_tf_data_and_config_round_trip(self, preprocessor, tmp_path):
        data = {"encoder_text": ["the fox", "a dog"], "decoder_text": ["is", "was"]}
        eager = preprocessor(data)
        ds = tf.data.Dataset.from_tensor_slices(data).batch(2).map(preprocessor)
        self.assertAllEqual(next(iter(ds)), eager)
        config = preprocessor.get_config()
        assert (config["encoder_sequence_length"], config["decoder_sequence_length"]) == (6, 7)
        preprocessor.save_to_preset(str(tmp_path))
        restored = Preprocessor.from_preset(str(tmp_path))
        assert type(restored) is BartSeq2SeqLMPreprocessor
        assert (restored.encoder_sequence_length, restored.decoder_sequence_length) == (6, 7)
        assert isinstance(restored, Seq2SeqLMPreprocessor)
        self.assertAllEqual(restored(data), preprocessor(data))

    def test_errors(self, preprocessor):
        with pytest.raises(ValueError, match="decoder_text"):
            preprocessor({"encoder_text": ["the fox"]})
        with pytest.raises(ValueError, match="encoder_text"):
            preprocessor({"source": ["the fox"], "decoder_text": ["a"]})
        with pytest.raises(ValueError, match="decoder_text"):
            preprocessor({"encoder_text": ["a"], "decoder_text": ["b"]}, y=[1])


class TestBartSeq2SeqLMPreprocessorExactness(TestCase):
    def test_matches_transformers_on_real_text(self, gpt2_bart_dir):
        """Sources and targets as Hugging Face's `BartTokenizer` packs them
        for `BartForConditionalGeneration`: `input_ids`, `labels` and the
        decoder inputs `shift_tokens_right(labels)`."""
        import torch
        import transformers
        from transformers.models.bart.modeling_bart import shift_tokens_right

        reference = transformers.BartTokenizer.from_pretrained(str(gpt2_bart_dir))
        preprocessor = BartSeq2SeqLMPreprocessor.from_preset(
            str(gpt2_bart_dir), encoder_sequence_length=48, decoder_sequence_length=24
        )
        texts = list(real_data.rotten_tomatoes_texts(120))
        sources, targets = texts[:60], texts[60:]
        expected = reference(
            sources, text_target=targets, max_length=48, truncation=True,
            padding="max_length", return_tensors="np",
        )
        labels = reference(
            text_target=targets, max_length=24, truncation=True,
            padding="max_length", return_tensors="np",
        )["input_ids"]
        decoder_inputs = shift_tokens_right(
            torch.tensor(labels), reference.pad_token_id, 2
        ).numpy()
        x, y, sample_weight = preprocessor(
            {"encoder_text": sources, "decoder_text": targets}
        )
        # Some rows are truncated, some padded, on both sides.
        assert 0 < int(expected["attention_mask"].all(axis=1).sum()) < 60
        assert 0 < int((labels != 1).all(axis=1).sum()) < 60
        np.testing.assert_array_equal(_np(x["encoder_token_ids"]), expected["input_ids"])
        np.testing.assert_array_equal(
            _np(x["encoder_padding_mask"]).astype("int64"), expected["attention_mask"]
        )
        np.testing.assert_array_equal(_np(y), labels)
        np.testing.assert_array_equal(_np(sample_weight), labels != 1)
        np.testing.assert_array_equal(_np(x["decoder_token_ids"]), decoder_inputs)
        np.testing.assert_array_equal(
            _np(x["decoder_padding_mask"]), decoder_inputs != 1
        )
