"""Constructor checks of every backbone and classifier: bad sizes, rates
and activations are refused by name before any weight exists."""

import re

import keras
import pytest

from keras_nlp_clone import models
from keras_nlp_clone.utils import argument_checks
from tests.test_case import TestCase

BACKBONES = [
    models.BartBackbone,
    models.BertBackbone,
    models.DistilBertBackbone,
    models.GPT2Backbone,
    models.RobertaBackbone,
    models.XLMRobertaBackbone,
]
CLASSIFIERS = [
    models.BertClassifier,
    models.BertTextClassifier,
    models.DistilBertClassifier,
    models.RobertaClassifier,
    models.XLMRobertaClassifier,
]
TINY = dict(
    vocabulary_size=50,
    num_layers=1,
    num_heads=2,
    hidden_dim=8,
    intermediate_dim=16,
    max_sequence_length=8,
)

# (argument, bad value, words the message must hold)
BAD_BACKBONE_ARGUMENTS = [
    ("vocabulary_size", 0, "integer >= 1"),
    ("num_layers", 0, "integer >= 1"),
    ("num_layers", -2, "integer >= 1"),
    ("num_heads", 0, "integer >= 1"),
    ("num_heads", 2.0, "integer >= 1"),
    ("hidden_dim", 0, "integer >= 1"),
    ("intermediate_dim", -1, "integer >= 1"),
    ("intermediate_dim", True, "integer >= 1"),
    ("max_sequence_length", 0, "integer >= 1"),
    ("dropout", 1.0, "in [0, 1)"),
    ("dropout", -0.1, "in [0, 1)"),
    ("dropout", "0.1", "number in [0, 1)"),
]


@pytest.fixture
def no_variables(monkeypatch):
    """A list that records every `keras.Variable` created in the test."""
    created = []
    original = keras.Variable.__init__

    def record(self, *args, **kwargs):
        created.append(kwargs.get("name"))
        original(self, *args, **kwargs)

    monkeypatch.setattr(keras.Variable, "__init__", record)
    return created


def _message(cls, name, value, words):
    return re.escape(f"`{cls.__name__}` needs `{name}`") + ".*" + re.escape(
        words
    ) + ".*" + re.escape(f"Received: {name}={value!r}")


class TestBackboneArguments(TestCase):
    @pytest.mark.parametrize("cls", BACKBONES, ids=lambda c: c.__name__)
    @pytest.mark.parametrize(
        "name,value,words",
        BAD_BACKBONE_ARGUMENTS,
        ids=[f"{n}={v!r}" for n, v, _ in BAD_BACKBONE_ARGUMENTS],
    )
    def test_bad_argument_is_named(self, cls, name, value, words, no_variables):
        kwargs = dict(TINY, **{name: value})
        with pytest.raises(ValueError, match=_message(cls, name, value, words)):
            cls(**kwargs)
        # Raised before the constructor creates any weight.
        assert no_variables == []

    @pytest.mark.parametrize("cls", BACKBONES, ids=lambda c: c.__name__)
    def test_num_heads_must_divide_hidden_dim(self, cls):
        kwargs = dict(TINY, hidden_dim=10, num_heads=3)
        with pytest.raises(
            ValueError,
            match=re.escape(
                "Received: hidden_dim=10, num_heads=3. Head counts that "
                "divide 10: [1, 2, 5, 10]."
            ),
        ):
            cls(**kwargs)

    def test_positional_arguments_are_checked(self):
        with pytest.raises(ValueError, match="Received: num_layers=0"):
            models.BertBackbone(50, 0, 2, 8, 16)

    def test_bert_num_segments(self):
        with pytest.raises(ValueError, match="Received: num_segments=0"):
            models.BertBackbone(**TINY, num_segments=0)

    def test_recorder_sees_variables(self, no_variables):
        # The `no_variables` fixture does record a valid backbone's weights.
        models.BertBackbone(**TINY)
        assert len(no_variables) > 0


@pytest.fixture(scope="module")
def backbones():
    return {
        "Bert": models.BertBackbone(**TINY),
        "DistilBert": models.DistilBertBackbone(**TINY),
        "Roberta": models.RobertaBackbone(**TINY),
        "XLMRoberta": models.XLMRobertaBackbone(**TINY),
    }


def _backbone_for(cls, backbones):
    for prefix in ("XLMRoberta", "DistilBert", "Roberta", "Bert"):
        if cls.__name__.startswith(prefix):
            return backbones[prefix]
    raise AssertionError(cls)


class TestClassifierArguments(TestCase):
    @pytest.mark.parametrize("cls", CLASSIFIERS, ids=lambda c: c.__name__)
    @pytest.mark.parametrize(
        "name,value,words",
        [
            ("num_classes", 0, "integer >= 1"),
            ("num_classes", 2.5, "integer >= 1"),
            ("num_classes", None, "integer >= 1"),
            ("dropout", 1.5, "in [0, 1)"),
        ],
    )
    def test_bad_argument_is_named(self, cls, name, value, words, backbones):
        kwargs = dict(backbone=_backbone_for(cls, backbones), num_classes=2)
        kwargs[name] = value
        with pytest.raises(ValueError, match=_message(cls, name, value, words)):
            cls(**kwargs)

    @pytest.mark.parametrize("cls", CLASSIFIERS, ids=lambda c: c.__name__)
    def test_unknown_activation(self, cls, backbones):
        with pytest.raises(
            ValueError,
            match=re.escape(
                f"`{cls.__name__}` got an unknown activation: "
                "activation='softmx'"
            ),
        ):
            cls(_backbone_for(cls, backbones), 2, activation="softmx")

    def test_valid_arguments_still_build(self, backbones):
        classifier = models.BertClassifier(
            backbones["Bert"], num_classes=3, activation="softmax", dropout=0.0
        )
        assert classifier.output_shape == (None, 3)
        # The classifiers whose `hidden_dim` defaults to `None` accept it.
        classifier = models.RobertaClassifier(
            backbones["Roberta"], num_classes=1, hidden_dim=None
        )
        assert classifier.output_shape == (None, 1)

    def test_classifier_hidden_dim_checked(self, backbones):
        with pytest.raises(ValueError, match="Received: hidden_dim=0"):
            models.RobertaClassifier(backbones["Roberta"], 2, hidden_dim=0)


class TestHelpers:
    def test_numpy_integer_sizes_are_accepted(self):
        import numpy as np

        argument_checks.check_positive_integer("X", "num_layers", np.int64(3))
        with pytest.raises(ValueError, match="Received: num_layers=0"):
            argument_checks.check_positive_integer("X", "num_layers", np.int64(0))

    def test_callable_activation_accepted(self):
        argument_checks.check_activation("X", "activation", keras.activations.relu)
        argument_checks.check_activation("X", "activation", None)

    @pytest.mark.parametrize("value", [True, False])
    def test_bools_are_accepted(self, value):
        import numpy as np

        argument_checks.check_bool("X", "lowercase", value)
        argument_checks.check_bool("X", "lowercase", np.bool_(value))

    @pytest.mark.parametrize("value", ["false", "True", 0, 1, None, 1.0, [True]])
    def test_non_bools_are_refused(self, value):
        expected = (
            "`X` needs `lowercase` to be True or False (a bool). "
            f"Received: lowercase={value!r}."
        )
        with pytest.raises(ValueError) as info:
            argument_checks.check_bool("X", "lowercase", value)
        assert str(info.value) == expected
