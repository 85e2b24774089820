import keras
import numpy as np

from keras_nlp_clone.models import Preprocessor
from keras_nlp_clone.models import RobertaPreprocessor
from keras_nlp_clone.models import XLMRobertaPreprocessor
from keras_nlp_clone.models import XLMRobertaTextClassifierPreprocessor
from tests.test_case import TestCase


def _np(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


class TestXLMRobertaPreprocessor(TestCase):
    def test_packing_with_fairseq_ids(self, tiny_tokenizer):
        assert XLMRobertaTextClassifierPreprocessor is XLMRobertaPreprocessor
        assert issubclass(XLMRobertaPreprocessor, RobertaPreprocessor)
        preprocessor = XLMRobertaPreprocessor(tiny_tokenizer, sequence_length=12)
        a, b = tiny_tokenizer("a good film"), tiny_tokenizer("the end")
        out = preprocessor(("a good film", "the end"))
        assert sorted(out) == ["padding_mask", "token_ids"]
        expected = [0] + a + [2, 2] + b + [2]
        expected += [1] * (12 - len(expected))
        np.testing.assert_array_equal(_np(out["token_ids"]), expected)
        np.testing.assert_array_equal(_np(out["padding_mask"]), np.array(expected) != 1)

    def test_preset_round_trip(self, tiny_tokenizer, tmp_path):
        preprocessor = XLMRobertaPreprocessor(tiny_tokenizer, sequence_length=8)
        preprocessor.save_to_preset(str(tmp_path))
        restored = Preprocessor.from_preset(str(tmp_path))
        assert type(restored) is XLMRobertaPreprocessor
        np.testing.assert_array_equal(
            _np(restored(["a film"])["token_ids"]),
            _np(preprocessor(["a film"])["token_ids"]),
        )
