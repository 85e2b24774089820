import keras
import numpy as np

from keras_nlp_clone.models import BertPreprocessor
from keras_nlp_clone.models import BertTextEmbedderPreprocessor
from keras_nlp_clone.models import TextEmbedderPreprocessor
from tests.test_case import TestCase


def _np(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


class TestBertTextEmbedderPreprocessor(TestCase):
    def test_packs_like_sentence_transformers(self, tiny_tokenizer):
        # `[CLS] text [SEP]` then `[PAD]`s (ids 2, 3, 0 in the tiny
        # vocabulary), as BertTokenizerFast pads for sentence-transformers.
        import tensorflow as tf

        preprocessor = BertTextEmbedderPreprocessor(tiny_tokenizer, sequence_length=8)
        texts = ["the quick brown fox", "a good film"]
        out = preprocessor(texts)
        mapped = next(iter(tf.data.Dataset.from_tensor_slices(texts).batch(2).map(
            preprocessor
        )))
        for key in out:
            np.testing.assert_array_equal(_np(out[key]), mapped[key].numpy())
        np.testing.assert_array_equal(
            _np(out["token_ids"]),
            [[2, 5, 6, 7, 8, 3, 0, 0], [2, 19, 21, 17, 3, 0, 0, 0]],
        )
        np.testing.assert_array_equal(_np(out["segment_ids"]), np.zeros((2, 8)))
        np.testing.assert_array_equal(
            _np(out["padding_mask"]),
            [[1, 1, 1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 0, 0, 0]],
        )

    def test_defaults_truncation_and_targets(self, tiny_tokenizer):
        preprocessor = BertTextEmbedderPreprocessor(tiny_tokenizer)
        assert preprocessor.sequence_length == 256
        assert preprocessor.truncate == "round_robin"
        assert issubclass(BertTextEmbedderPreprocessor, TextEmbedderPreprocessor)
        # Not a classification preprocessor: presets saved with one load
        # the other's class only where asked for.
        assert not issubclass(BertTextEmbedderPreprocessor, BertPreprocessor)
        preprocessor.sequence_length = 4
        targets = np.ones((1, 8), "float32")
        x, y = preprocessor(["the quick brown fox"], targets)
        np.testing.assert_array_equal(_np(x["token_ids"]), [[2, 5, 6, 3]])
        np.testing.assert_array_equal(_np(y), targets)
