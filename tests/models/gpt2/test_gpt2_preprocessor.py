import keras
import numpy as np
import pytest

from keras_nlp_clone.models import GPT2Preprocessor
from keras_nlp_clone.models import GPT2Tokenizer
from keras_nlp_clone.models import Preprocessor
from keras_nlp_clone.utils.lazy_module import tf
from tests import real_data
from tests.models.gpt2.conftest import EOT
from tests.models.gpt2.conftest import TINY_VOCAB
from tests.test_case import TestCase


def _np(x):
    return keras.ops.convert_to_numpy(x).tolist()


def _ids(*tokens):
    return [TINY_VOCAB[t] for t in tokens]


class TestGPT2Preprocessor(TestCase):
    def test_packing_with_start_end_and_padding(self, tiny_tokenizer):
        preprocessor = GPT2Preprocessor(tiny_tokenizer, sequence_length=7)
        x = preprocessor(["the quick fox", "the quick brown fox jumped over"])
        body = _ids("the", "Ġquick", "Ġfox")
        assert _np(x["token_ids"]) == [
            [EOT] + body + [EOT, EOT, EOT],
            # Truncated: the end token is kept.
            [EOT] + _ids("the", "Ġquick", "Ġbrown", "Ġfox", "Ġjumped") + [EOT],
        ]
        # The mask comes from the packer: padding ids equal the end id.
        assert _np(x["padding_mask"]) == [[True] * 5 + [False] * 2, [True] * 7]
        assert str(keras.ops.convert_to_numpy(x["token_ids"]).dtype) == "int32"

    def test_start_end_options_and_call_sequence_length(self, tiny_tokenizer):
        body = _ids("the", "Ġfox")
        for start, end, expected in (
            (False, True, body + [EOT, EOT]),
            (True, False, [EOT] + body + [EOT]),
            (False, False, body + [EOT, EOT]),
        ):
            preprocessor = GPT2Preprocessor(
                tiny_tokenizer,
                sequence_length=4,
                add_start_token=start,
                add_end_token=end,
            )
            x = preprocessor("the fox")
            assert _np(x["token_ids"]) == expected
            assert _np(x["padding_mask"]) == [True] * (2 + start + end) + [False] * (
                2 - start - end
            )
        preprocessor = GPT2Preprocessor(tiny_tokenizer, sequence_length=4)
        x = preprocessor("the fox", sequence_length=6)
        assert _np(x["token_ids"]) == [EOT] + body + [EOT, EOT, EOT]
        preprocessor.sequence_length = 3
        assert _np(preprocessor("the fox")["token_ids"]) == [EOT, body[0], EOT]

    def test_labels_pass_through_and_tf_data(self, tiny_tokenizer):
        preprocessor = GPT2Preprocessor(tiny_tokenizer, sequence_length=5)
        x, y, sw = preprocessor(["the fox", "a dog"], [1, 0], [1.0, 0.5])
        assert _np(y) == [1, 0] and _np(sw) == [1.0, 0.5]
        ds = tf.data.Dataset.from_tensor_slices((["the fox", "a dog"], [1, 0]))
        x_tf, y_tf = next(iter(ds.batch(2).map(preprocessor)))
        assert x_tf["token_ids"].numpy().tolist() == _np(x["token_ids"])
        assert x_tf["padding_mask"].numpy().tolist() == _np(x["padding_mask"])
        assert y_tf.numpy().tolist() == [1, 0]

    def test_multiple_segments_raise(self, tiny_tokenizer):
        preprocessor = GPT2Preprocessor(tiny_tokenizer, sequence_length=8)
        with pytest.raises(ValueError, match="only one segment"):
            preprocessor(("the fox", "a dog"))
        assert _np(preprocessor(("the fox",))["token_ids"])[:3] == [EOT] + _ids(
            "the", "Ġfox"
        )

    def test_config_and_preset_round_trip(self, tiny_tokenizer, tmp_path):
        preprocessor = GPT2Preprocessor(
            tiny_tokenizer, sequence_length=9, add_start_token=False
        )
        config = preprocessor.get_config()
        assert config["sequence_length"] == 9 and config["add_start_token"] is False
        restored = GPT2Preprocessor.from_config(config)
        assert restored.get_config() == config
        preprocessor.save_to_preset(str(tmp_path))
        loaded = Preprocessor.from_preset(str(tmp_path))
        assert type(loaded) is GPT2Preprocessor
        assert type(loaded.tokenizer) is GPT2Tokenizer
        assert _np(loaded("the dog")["token_ids"]) == _np(
            preprocessor("the dog")["token_ids"]
        )
        assert GPT2Preprocessor.presets.keys() == GPT2Tokenizer.presets.keys()

    def test_real_files_packing(self):
        tokenizer = GPT2Tokenizer(
            vocabulary=real_data.gpt2_vocabulary_path(),
            merges=real_data.gpt2_merges_path(),
        )
        preprocessor = GPT2Preprocessor(tokenizer, sequence_length=6)
        x = preprocessor(["Hello world"])
        assert _np(x["token_ids"]) == [[50256, 15496, 995, 50256, 50256, 50256]]
        assert _np(x["padding_mask"]) == [[True] * 4 + [False] * 2]
        assert np.asarray(_np(x["token_ids"])).shape == (1, 6)
