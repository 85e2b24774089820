import keras
import numpy as np
import pytest

from keras_nlp_clone.models import DistilBertPreprocessor
from keras_nlp_clone.models import DistilBertTextClassifierPreprocessor
from keras_nlp_clone.models import Preprocessor
from keras_nlp_clone.models import TextClassifierPreprocessor
from keras_nlp_clone.utils.lazy_module import tf
from tests.test_case import TestCase


def _np(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


class TestDistilBertPreprocessor(TestCase):
    def test_single_segment_has_no_segment_ids(self, tiny_tokenizer):
        preprocessor = DistilBertPreprocessor(tiny_tokenizer, sequence_length=8)
        out = preprocessor(["the quick brown fox", "a good film"])
        assert sorted(out) == ["padding_mask", "token_ids"]
        np.testing.assert_array_equal(
            _np(out["token_ids"]),
            [[2, 5, 6, 7, 8, 3, 0, 0], [2, 19, 21, 17, 3, 0, 0, 0]],
        )
        np.testing.assert_array_equal(
            _np(out["padding_mask"]),
            [[1, 1, 1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 0, 0, 0]],
        )

    def test_sentence_pair_round_robin_truncation(self, tiny_tokenizer):
        preprocessor = DistilBertPreprocessor(tiny_tokenizer, sequence_length=8)
        out = preprocessor(("the quick brown fox", "a good film"))
        np.testing.assert_array_equal(_np(out["token_ids"]), [2, 5, 6, 7, 3, 19, 21, 3])

    def test_labels_pass_through(self, tiny_tokenizer):
        preprocessor = DistilBertPreprocessor(tiny_tokenizer, sequence_length=6)
        x, y, sw = preprocessor(["the fox"], y=[1], sample_weight=[0.5])
        assert _np(y).tolist() == [1] and _np(sw).tolist() == [0.5]
        assert sorted(x) == ["padding_mask", "token_ids"]

    def test_eager_equals_tf_data(self, tiny_tokenizer):
        preprocessor = DistilBertPreprocessor(tiny_tokenizer, sequence_length=8)
        texts = ["the quick brown fox", "a good film", "awful movie !"]
        eager_x, eager_y = preprocessor(texts, y=[1, 1, 0])
        ds = tf.data.Dataset.from_tensor_slices((texts, [1, 1, 0])).batch(3)
        graph_x, graph_y = next(iter(ds.map(preprocessor)))
        assert sorted(graph_x) == ["padding_mask", "token_ids"]
        for key in graph_x:
            np.testing.assert_array_equal(_np(eager_x[key]), graph_x[key].numpy())
        np.testing.assert_array_equal(_np(eager_y), graph_y.numpy())

    def test_alias_config_and_preset_round_trip(self, tiny_tokenizer, tmp_path):
        assert DistilBertTextClassifierPreprocessor is DistilBertPreprocessor
        preprocessor = DistilBertPreprocessor(
            tiny_tokenizer, sequence_length=8, truncate="waterfall"
        )
        config = preprocessor.get_config()
        assert (config["sequence_length"], config["truncate"]) == (8, "waterfall")
        preprocessor.save_to_preset(str(tmp_path))
        restored = Preprocessor.from_preset(str(tmp_path))
        assert type(restored) is DistilBertPreprocessor
        assert (restored.sequence_length, restored.truncate) == (8, "waterfall")
        longer = TextClassifierPreprocessor.from_preset(
            str(tmp_path), sequence_length=12
        )
        assert type(longer) is DistilBertPreprocessor
        assert tuple(longer("the fox")["token_ids"].shape) == (12,)

    def test_bad_truncate_raises(self, tiny_tokenizer):
        with pytest.raises(ValueError, match="truncate"):
            DistilBertPreprocessor(tiny_tokenizer, truncate="middle")
