import numpy as np
import pytest

from keras_nlp_clone.models import CausalLMPreprocessor
from keras_nlp_clone.models import GPT2Backbone
from keras_nlp_clone.models import GPT2CausalLMPreprocessor
from keras_nlp_clone.utils.lazy_module import tf
from tests.models.gpt2.conftest import EOT
from tests.models.gpt2.conftest import TINY_VOCAB
from tests.test_case import TestCase

QUICK = TINY_VOCAB["Ġquick"]
BROWN = TINY_VOCAB["Ġbrown"]
THE = TINY_VOCAB["the"]


class TestGPT2CausalLMPreprocessor(TestCase):
    def test_training_examples_shift_by_one(self, tiny_tokenizer):
        preprocessor = GPT2CausalLMPreprocessor(tiny_tokenizer, sequence_length=6)
        x, y, sample_weight = preprocessor(["the quick brown"])
        self.assertAllEqual(x["token_ids"], [[EOT, THE, QUICK, BROWN, EOT, EOT]])
        self.assertAllEqual(x["padding_mask"], [[True] * 5 + [False]])
        self.assertAllEqual(y, [[THE, QUICK, BROWN, EOT, EOT, EOT]])
        self.assertAllEqual(sample_weight, [[True] * 4 + [False] * 2])

    def test_truncation_and_no_special_tokens(self, tiny_tokenizer):
        preprocessor = GPT2CausalLMPreprocessor(
            tiny_tokenizer,
            sequence_length=3,
            add_start_token=False,
            add_end_token=False,
        )
        x, y, sample_weight = preprocessor("the quick brown fox")
        self.assertAllEqual(x["token_ids"], [THE, QUICK, BROWN])
        self.assertAllEqual(y, [QUICK, BROWN, TINY_VOCAB["Ġfox"]])
        self.assertAllEqual(sample_weight, [True, True, True])
        # The call argument overrides the constructor's length.
        x, _, _ = preprocessor("the quick brown fox", sequence_length=2)
        self.assertAllEqual(x["token_ids"], [THE, QUICK])

    def test_generate_preprocess_and_postprocess(self, tiny_tokenizer):
        preprocessor = GPT2CausalLMPreprocessor(tiny_tokenizer, sequence_length=8)
        prompt = preprocessor.generate_preprocess(["the quick", "the"])
        # A start token, no end token, right padding.
        self.assertAllEqual(
            prompt["token_ids"],
            [[EOT, THE, QUICK] + [EOT] * 5, [EOT, THE] + [EOT] * 6],
        )
        self.assertAllEqual(
            prompt["padding_mask"],
            [[True] * 3 + [False] * 5, [True] * 2 + [False] * 6],
        )
        prompt = preprocessor.generate_preprocess("the", sequence_length=4)
        self.assertAllEqual(prompt["token_ids"], [EOT, THE, EOT, EOT])
        # Special tokens and padding are dropped before detokenizing.
        text = preprocessor.generate_postprocess(
            {
                "token_ids": np.array([[EOT, THE, QUICK, EOT, BROWN]]),
                "padding_mask": np.array([[1, 1, 1, 1, 0]], bool),
            }
        )
        assert text == ["the quick"]

    def test_tf_data(self, tiny_tokenizer):
        preprocessor = GPT2CausalLMPreprocessor(tiny_tokenizer, sequence_length=5)
        ds = tf.data.Dataset.from_tensor_slices(["the quick", "brown"]).batch(2)
        x, y, sample_weight = next(iter(ds.map(preprocessor)))
        self.assertAllEqual(x["token_ids"], [[EOT, THE, QUICK, EOT, EOT], [EOT] + [
            TINY_VOCAB["b"], TINY_VOCAB["r"], TINY_VOCAB["o"], TINY_VOCAB["w"]]])
        assert y.shape == (2, 5) and sample_weight.dtype == tf.bool

    def test_errors(self, tiny_tokenizer):
        preprocessor = GPT2CausalLMPreprocessor(tiny_tokenizer, sequence_length=5)
        with pytest.raises(ValueError, match="computes the labels"):
            preprocessor(["the"], y=np.array([1]))
        with pytest.raises(ValueError, match="one text segment"):
            preprocessor((["the"], ["quick"]))

    def test_config_and_preset(self, tiny_tokenizer, tiny_backbone_kwargs, tmp_path):
        preprocessor = GPT2CausalLMPreprocessor(
            tiny_tokenizer, sequence_length=7, add_end_token=False
        )
        restored = GPT2CausalLMPreprocessor.from_config(preprocessor.get_config())
        assert restored.sequence_length == 7 and not restored.add_end_token
        GPT2Backbone(**tiny_backbone_kwargs).save_to_preset(str(tmp_path))
        preprocessor.save_to_preset(str(tmp_path))
        loaded = CausalLMPreprocessor.from_preset(str(tmp_path))
        assert type(loaded) is GPT2CausalLMPreprocessor
        self.assertAllEqual(loaded("the")[0]["token_ids"], [EOT, THE] + [EOT] * 5)
