"""Token and segment ids outside a model's tables are refused, by name, on
every path that holds concrete values; ids inside them still run."""

import re

import numpy as np
import pytest

from keras_nlp_clone import models
from keras_nlp_clone.utils import input_checks
from keras_nlp_clone.utils.lazy_module import tf
from tests.test_case import TestCase

VOCABULARY_SIZE = 40
TINY = dict(
    vocabulary_size=VOCABULARY_SIZE,
    num_layers=1,
    num_heads=2,
    hidden_dim=8,
    intermediate_dim=16,
    max_sequence_length=8,
)
LENGTH = 5


def _inputs(keys, bad_key=None, bad_value=None, dtype="int32"):
    x = {}
    for key in keys:
        if key.endswith("padding_mask"):
            x[key] = np.ones((2, LENGTH), bool)
        elif key == "segment_ids":
            x[key] = np.zeros((2, LENGTH), dtype)
        else:
            # The largest valid id is in the batch: the bound is exclusive.
            ids = np.arange(2 * LENGTH).reshape(2, LENGTH) + 1
            ids[1, -1] = VOCABULARY_SIZE - 1
            x[key] = ids.astype(dtype)
    if bad_key is not None:
        x[bad_key] = x[bad_key].copy()
        x[bad_key][0, 2] = bad_value
    return x


@pytest.fixture(scope="module")
def backbones():
    return {
        "bart": models.BartBackbone(**TINY),
        "bert": models.BertBackbone(**TINY),
        "distil_bert": models.DistilBertBackbone(**TINY),
        "gpt2": models.GPT2Backbone(**TINY),
        "roberta": models.RobertaBackbone(**TINY),
        "xlm_roberta": models.XLMRobertaBackbone(**TINY),
    }


def _id_keys(backbone):
    return [k for k in backbone.input if not k.endswith("padding_mask")]


class TestBackboneCalls(TestCase):
    @pytest.mark.parametrize(
        "family", ["bart", "bert", "distil_bert", "gpt2", "roberta", "xlm_roberta"]
    )
    def test_ids_at_vocabulary_size_are_named(self, family, backbones):
        backbone = backbones[family]
        keys = list(backbone.input)
        for key in _id_keys(backbone):
            if key == "segment_ids":
                continue
            x = _inputs(keys, key, VOCABULARY_SIZE)
            message = (
                f"`{type(backbone).__name__}` got `{key}` up to "
                f"{VOCABULARY_SIZE}, but its `vocabulary_size` is "
                f"{VOCABULARY_SIZE}: ids must lie in [0, {VOCABULARY_SIZE - 1}]"
            )
            with pytest.raises(ValueError, match=re.escape(message)):
                backbone(x)
            with pytest.raises(ValueError, match=re.escape(f"negative id in `{key}` (-1)")):
                backbone(_inputs(keys, key, -1))
        # The largest valid id runs.
        outputs = backbone(_inputs(keys))
        assert outputs is not None

    def test_segment_ids_past_num_segments(self, backbones):
        backbone = backbones["bert"]
        x = _inputs(list(backbone.input), "segment_ids", 2)
        with pytest.raises(
            ValueError,
            match=re.escape("got `segment_ids` up to 2, but its `num_segments` is 2"),
        ):
            backbone(x)

    def test_float_ids_are_refused(self, backbones):
        backbone = backbones["gpt2"]
        x = _inputs(list(backbone.input), dtype="float32")
        with pytest.raises(ValueError, match="needs integer `token_ids`; received dtype float32"):
            backbone(x)

    def test_symbolic_inputs_are_not_checked(self, backbones):
        backbone = backbones["bert"]
        # A traced call (as inside `predict`'s compiled step) has no values.
        assert input_checks._concrete_numpy(backbone.input["token_ids"]) is None


@pytest.fixture(scope="module")
def classifier(backbones):
    return models.BertClassifier(backbones["bert"], num_classes=2, preprocessor=None)


class TestTaskPaths(TestCase):
    def _bad(self, classifier):
        return _inputs(list(classifier.backbone.input), "token_ids", 1000)

    def _message(self):
        return re.escape(
            "`BertClassifier` got `token_ids` up to 1000, but its "
            f"`vocabulary_size` is {VOCABULARY_SIZE}"
        )

    def test_predict(self, classifier):
        with pytest.raises(ValueError, match=self._message()):
            classifier.predict(self._bad(classifier), verbose=0)
        good = classifier.predict(_inputs(list(classifier.backbone.input)), verbose=0)
        assert good.shape == (2, 2)

    def test_evaluate_and_fit(self, classifier):
        y = np.array([0, 1])
        with pytest.raises(ValueError, match=self._message()):
            classifier.evaluate(self._bad(classifier), y, verbose=0)
        with pytest.raises(ValueError, match=self._message()):
            classifier.fit(self._bad(classifier), y, verbose=0)
        good = _inputs(list(classifier.backbone.input))
        with pytest.raises(ValueError, match=self._message()):
            classifier.fit(
                good, y, validation_data=(self._bad(classifier), y), verbose=0
            )

    def test_negative_segment_id_in_predict(self, classifier):
        x = _inputs(list(classifier.backbone.input), "segment_ids", -1)
        with pytest.raises(ValueError, match=re.escape("negative id in `segment_ids` (-1)")):
            classifier.predict(x, verbose=0)

    def test_dataset_of_ids_asserts_in_the_pipeline(self, classifier):
        # The dataset `fit`/`evaluate`/`predict` read: iterating it (no
        # model step needed) stops at the bad batch.
        y = np.array([0, 1])
        ds = tf.data.Dataset.from_tensor_slices((self._bad(classifier), y)).batch(2)
        ds = classifier._make_dataset(ds, None, None, None, False)
        with pytest.raises(
            tf.errors.InvalidArgumentError,
            match=re.escape(
                "`BertClassifier` got `token_ids` at or past its "
                f"`vocabulary_size` {VOCABULARY_SIZE}: ids must lie in "
                f"[0, {VOCABULARY_SIZE - 1}]; the largest in this batch is] "
                "[1000]"
            ),
        ):
            list(ds)
        negative = _inputs(list(classifier.backbone.input), "segment_ids", -2)
        ds = tf.data.Dataset.from_tensor_slices((negative, y)).batch(2)
        ds = classifier._make_dataset(ds, None, None, None, False)
        with pytest.raises(
            tf.errors.InvalidArgumentError,
            match=re.escape(
                "`BertClassifier` got a negative id in `segment_ids`:] [-2]"
            ),
        ):
            list(ds)
        good = _inputs(list(classifier.backbone.input))
        ds = tf.data.Dataset.from_tensor_slices((good, y)).batch(2)
        (x, labels), = list(classifier._make_dataset(ds, None, None, None, False))
        np.testing.assert_array_equal(x["token_ids"].numpy(), good["token_ids"])
        np.testing.assert_array_equal(labels.numpy(), y)

    def test_ids_from_a_larger_vocabulary_preprocessor(self, backbones):
        # A preprocessor whose tokenizer is larger than the backbone's table:
        # its ids are checked too (predict on raw strings).
        words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [
            f"w{i}" for i in range(60)
        ]
        tokenizer = models.BertTokenizer(vocabulary=words)
        preprocessor = models.BertPreprocessor(tokenizer, sequence_length=LENGTH)
        classifier = models.BertClassifier(
            backbones["bert"], num_classes=2, preprocessor=preprocessor
        )
        with pytest.raises(
            ValueError, match=re.escape("got `token_ids` up to 64, but its `vocabulary_size` is 40")
        ):
            classifier.predict(["w59 w1"], verbose=0)
        assert classifier.predict(["w1 w2"], verbose=0).shape == (1, 2)


class TestGeneratePrompts(TestCase):
    def test_causal_lm_prompt_ids(self, backbones):
        causal_lm = models.GPT2CausalLM(backbones["gpt2"], preprocessor=None)
        prompt = {
            "token_ids": np.array([[3, 7, VOCABULARY_SIZE + 5, 0, 0]]),
            "padding_mask": np.array([[1, 1, 1, 0, 0]], bool),
        }
        with pytest.raises(
            ValueError,
            match=re.escape(
                f"`GPT2CausalLM` got `token_ids` up to {VOCABULARY_SIZE + 5}"
            ),
        ):
            causal_lm.generate(prompt, stop_token_ids=None)

    def test_seq_2_seq_prompt_ids(self, backbones):
        seq_2_seq = models.BartSeq2SeqLM(backbones["bart"], preprocessor=None)
        prompt = {
            "encoder_token_ids": np.array([[3, 7, 9, 2, 1]]),
            "encoder_padding_mask": np.ones((1, 5), bool),
            "decoder_token_ids": np.array([[2, 0, -4, 1, 1]]),
            "decoder_padding_mask": np.array([[1, 1, 1, 0, 0]], bool),
        }
        with pytest.raises(
            ValueError, match=re.escape("negative id in `decoder_token_ids` (-4)")
        ):
            seq_2_seq.generate(prompt, stop_token_ids=None)
