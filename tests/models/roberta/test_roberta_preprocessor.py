import keras
import numpy as np
import pytest

from keras_nlp_clone.models import Preprocessor
from keras_nlp_clone.models import RobertaPreprocessor
from keras_nlp_clone.models import RobertaTextClassifierPreprocessor
from keras_nlp_clone.models import TextClassifierPreprocessor
from keras_nlp_clone.utils.lazy_module import tf
from tests.models.roberta.conftest import TINY_VOCAB
from tests.test_case import TestCase

THE, QUICK, BROWN, FOX = (TINY_VOCAB[t] for t in ("the", "Ġquick", "Ġbrown", "Ġfox"))
A, GOOD, FILM = (TINY_VOCAB[t] for t in ("a", "Ġgood", "Ġfilm"))


def _np(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


class TestRobertaPreprocessor(TestCase):
    def test_single_segment(self, tiny_tokenizer):
        preprocessor = RobertaPreprocessor(tiny_tokenizer, sequence_length=8)
        out = preprocessor(["the quick brown fox", "a good film"])
        assert sorted(out) == ["padding_mask", "token_ids"]
        np.testing.assert_array_equal(
            _np(out["token_ids"]),
            [[0, THE, QUICK, BROWN, FOX, 2, 1, 1], [0, A, GOOD, FILM, 2, 1, 1, 1]],
        )
        np.testing.assert_array_equal(
            _np(out["padding_mask"]),
            [[1, 1, 1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 0, 0, 0]],
        )

    def test_sentence_pair_double_separator_and_truncation(self, tiny_tokenizer):
        preprocessor = RobertaPreprocessor(tiny_tokenizer, sequence_length=12)
        out = preprocessor(("the quick", "a good film"))
        np.testing.assert_array_equal(
            _np(out["token_ids"]), [0, THE, QUICK, 2, 2, A, GOOD, FILM, 2, 1, 1, 1]
        )
        # 5 slots for 4 + 3 tokens: taken alternately, a gets 3, b 2.
        preprocessor.sequence_length = 9
        out = preprocessor(("the quick brown fox", "a good film"))
        np.testing.assert_array_equal(
            _np(out["token_ids"]), [0, THE, QUICK, BROWN, 2, 2, A, GOOD, 2]
        )

    def test_eager_equals_tf_data_and_labels_pass_through(self, tiny_tokenizer):
        preprocessor = RobertaPreprocessor(tiny_tokenizer, sequence_length=6)
        texts, labels = ["the fox", "a good film !"], [1, 0]
        eager_x, eager_y = preprocessor(texts, y=labels)
        ds = tf.data.Dataset.from_tensor_slices((texts, labels)).batch(2)
        graph_x, graph_y = next(iter(ds.map(preprocessor)))
        for key in ("token_ids", "padding_mask"):
            np.testing.assert_array_equal(_np(eager_x[key]), graph_x[key].numpy())
        np.testing.assert_array_equal(_np(eager_y), graph_y.numpy())
        x, y, sw = preprocessor(["the fox"], y=[1], sample_weight=[0.5])
        assert _np(y).tolist() == [1] and _np(sw).tolist() == [0.5]
        assert tuple(x["token_ids"].shape) == (1, 6)

    def test_preset_round_trip_and_alias(self, tiny_tokenizer, tmp_path):
        assert RobertaTextClassifierPreprocessor is RobertaPreprocessor
        preprocessor = RobertaPreprocessor(tiny_tokenizer, sequence_length=8)
        preprocessor.save_to_preset(str(tmp_path))
        restored = Preprocessor.from_preset(str(tmp_path))
        assert type(restored) is RobertaPreprocessor
        assert restored.sequence_length == 8
        longer = TextClassifierPreprocessor.from_preset(str(tmp_path), sequence_length=12)
        assert type(longer) is RobertaPreprocessor
        assert tuple(longer("the fox")["token_ids"].shape) == (12,)

    def test_bad_truncate_raises(self, tiny_tokenizer):
        with pytest.raises(ValueError, match="truncate"):
            RobertaPreprocessor(tiny_tokenizer, truncate="middle")
