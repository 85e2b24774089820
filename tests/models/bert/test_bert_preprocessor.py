import keras
import numpy as np
import pytest

from keras_nlp_clone.models import BertPreprocessor
from keras_nlp_clone.models import BertTextClassifierPreprocessor
from keras_nlp_clone.models import Preprocessor
from keras_nlp_clone.utils.lazy_module import tf
from tests.test_case import TestCase


def _np(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


class TestBertPreprocessor(TestCase):
    def test_single_segment(self, tiny_tokenizer):
        preprocessor = BertPreprocessor(tiny_tokenizer, sequence_length=8)
        out = preprocessor(["the quick brown fox", "a good film"])
        np.testing.assert_array_equal(
            _np(out["token_ids"]),
            [[2, 5, 6, 7, 8, 3, 0, 0], [2, 19, 21, 17, 3, 0, 0, 0]],
        )
        np.testing.assert_array_equal(_np(out["segment_ids"]), np.zeros((2, 8)))
        np.testing.assert_array_equal(
            _np(out["padding_mask"]),
            [[1, 1, 1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 0, 0, 0]],
        )

    def test_sentence_pair_round_robin_truncation(self, tiny_tokenizer):
        preprocessor = BertPreprocessor(tiny_tokenizer, sequence_length=8)
        # 5 free slots for 4 + 3 tokens: taken alternately, a gets 3, b 2.
        out = preprocessor(("the quick brown fox", "a good film"))
        np.testing.assert_array_equal(
            _np(out["token_ids"]), [2, 5, 6, 7, 3, 19, 21, 3]
        )
        np.testing.assert_array_equal(
            _np(out["segment_ids"]), [0, 0, 0, 0, 0, 1, 1, 1]
        )

    def test_labels_pass_through(self, tiny_tokenizer):
        preprocessor = BertPreprocessor(tiny_tokenizer, sequence_length=6)
        x, y, sw = preprocessor(["the fox"], y=[1], sample_weight=[0.5])
        assert _np(y).tolist() == [1]
        assert _np(sw).tolist() == [0.5]
        assert tuple(x["token_ids"].shape) == (1, 6)

    def test_eager_equals_tf_data(self, tiny_tokenizer):
        preprocessor = BertPreprocessor(tiny_tokenizer, sequence_length=8)
        texts = ["the quick brown fox", "a good film", "awful movie !"]
        labels = [1, 1, 0]
        eager_x, eager_y = preprocessor(texts, y=labels)
        ds = tf.data.Dataset.from_tensor_slices((texts, labels)).batch(3)
        graph_x, graph_y = next(iter(ds.map(preprocessor)))
        for key in ("token_ids", "segment_ids", "padding_mask"):
            np.testing.assert_array_equal(_np(eager_x[key]), graph_x[key].numpy())
        np.testing.assert_array_equal(_np(eager_y), graph_y.numpy())

    def test_sequence_length_override_and_alias(self, tiny_tokenizer, tmp_path):
        assert BertTextClassifierPreprocessor is BertPreprocessor
        preprocessor = BertPreprocessor(tiny_tokenizer, sequence_length=8)
        preprocessor.save_to_preset(str(tmp_path))
        restored = Preprocessor.from_preset(str(tmp_path))
        assert type(restored) is BertPreprocessor
        assert restored.sequence_length == 8
        longer = BertPreprocessor.from_preset(str(tmp_path), sequence_length=12)
        assert tuple(longer("the fox")["token_ids"].shape) == (12,)

    def test_bad_truncate_raises(self, tiny_tokenizer):
        with pytest.raises(ValueError, match="truncate"):
            BertPreprocessor(tiny_tokenizer, truncate="middle")
