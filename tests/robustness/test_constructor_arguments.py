"""Constructor checks of every public layer, tokenizer, packer, sampler,
metric and preprocessor base: a size <= 0, a rate outside its range, an
unknown activation or choice is refused with a `ValueError` that names the
argument and the value (and, for the checks of
`keras_nlp_clone.utils.argument_checks`, the class and the allowed range),
before any weight exists.

The oracle is the table below, written from each argument's documented
range: each row is one named case (`TopKSampler-k=0`). A second test walks
every public class and fails when a size- or rate-like argument (by name)
has no row, so a new class or argument cannot skip its checks.
"""

import inspect
import math
import re

import keras
import numpy as np
import pytest

from keras_nlp_clone import layers
from keras_nlp_clone import metrics
from keras_nlp_clone import models
from keras_nlp_clone import samplers
from keras_nlp_clone import tokenizers
from keras_nlp_clone.utils import argument_checks
from tests.test_case import TestCase

WORD_PIECE_VOCABULARY = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a"]


def _word_piece():
    return tokenizers.WordPieceTokenizer(vocabulary=WORD_PIECE_VOCABULARY)


# Valid arguments of each class; a case changes one of them.
BASES = {
    layers.AlibiBias: dict,
    layers.CachedMultiHeadAttention: lambda: {"num_heads": 2, "key_dim": 4},
    layers.FNetEncoder: lambda: {"intermediate_dim": 4},
    layers.MaskedLMHead: lambda: {"vocabulary_size": 10},
    layers.MaskedLMMaskGenerator: lambda: {
        "vocabulary_size": 10,
        "mask_selection_rate": 0.2,
        "mask_token_id": 3,
    },
    layers.MultiSegmentPacker: lambda: {
        "sequence_length": 8,
        "start_value": 1,
        "end_value": 2,
    },
    layers.PositionEmbedding: lambda: {"sequence_length": 8},
    layers.RandomDeletion: lambda: {"rate": 0.1},
    layers.RandomSwap: lambda: {"rate": 0.1},
    layers.ReversibleEmbedding: lambda: {"input_dim": 10, "output_dim": 4},
    layers.RotaryEmbedding: dict,
    layers.SinePositionEncoding: dict,
    layers.StartEndPacker: lambda: {"sequence_length": 8},
    layers.TokenAndPositionEmbedding: lambda: {
        "vocabulary_size": 10,
        "sequence_length": 8,
        "embedding_dim": 4,
    },
    layers.TransformerDecoder: lambda: {"intermediate_dim": 4, "num_heads": 2},
    layers.TransformerEncoder: lambda: {"intermediate_dim": 4, "num_heads": 2},
    tokenizers.BytePairTokenizer: lambda: {
        "vocabulary": {"<|endoftext|>": 0, "a": 1, "b": 2, "ab": 3},
        "merges": ["a b"],
    },
    tokenizers.ByteTokenizer: dict,
    tokenizers.SentencePieceTokenizer: dict,
    tokenizers.UnicodeCodepointTokenizer: dict,
    tokenizers.WordPieceTokenizer: lambda: {
        "vocabulary": WORD_PIECE_VOCABULARY
    },
    samplers.BeamSampler: dict,
    samplers.ContrastiveSampler: dict,
    samplers.GreedySampler: dict,
    samplers.RandomSampler: dict,
    samplers.Sampler: dict,
    samplers.SpeculativeSampler: dict,
    samplers.TopKSampler: dict,
    samplers.TopPSampler: dict,
    metrics.Bleu: dict,
    metrics.EditDistance: dict,
    metrics.Perplexity: dict,
    metrics.RougeL: dict,
    metrics.RougeN: dict,
    models.CausalLMPreprocessor: lambda: {"tokenizer": _word_piece()},
    models.MaskedLMPreprocessor: lambda: {"tokenizer": _word_piece()},
    models.Seq2SeqLMPreprocessor: lambda: {"tokenizer": _word_piece()},
    models.TextClassifierPreprocessor: lambda: {"tokenizer": _word_piece()},
    models.TextEmbedderPreprocessor: lambda: {"tokenizer": _word_piece()},
}

# Classes whose (older, clear) messages name the argument, the value and
# the range but not the class: the tokenizers' shared checks live in
# `tokenizers/tokenizer.py`, and the metrics word theirs with the metric's
# own vocabulary ("ROUGE-1 ... ROUGE-9").
MESSAGES_WITHOUT_CLASS = {
    tokenizers.BytePairTokenizer,
    tokenizers.ByteTokenizer,
    tokenizers.SentencePieceTokenizer,
    tokenizers.UnicodeCodepointTokenizer,
    tokenizers.WordPieceTokenizer,
    metrics.Bleu,
    metrics.RougeN,
}

INT = "integer >= 1"
INT_OR_NONE = "integer >= 1 or `None`"
POSITIVE = "number > 0"
RATE = "in [0, 1)"
UNIT = "number in [0, 1]"
ACTIVATION = "unknown activation"

# (class, argument, bad value, words the message must hold)
CASES = [
    (layers.AlibiBias, "alibi_bias_max", 0, POSITIVE),
    (layers.AlibiBias, "alibi_bias_max", -1, POSITIVE),
    (layers.AlibiBias, "alibi_bias_max", float("nan"), POSITIVE),
    (layers.CachedMultiHeadAttention, "num_heads", 0, INT),
    (layers.CachedMultiHeadAttention, "key_dim", 0, INT),
    (layers.CachedMultiHeadAttention, "value_dim", 0, INT_OR_NONE),
    (layers.CachedMultiHeadAttention, "dropout", 1.0, RATE),
    (layers.CachedMultiHeadAttention, "dropout", -0.1, RATE),
    (layers.CachedMultiHeadAttention, "sliding_window", 0, INT_OR_NONE),
    (layers.FNetEncoder, "intermediate_dim", 0, INT),
    (layers.FNetEncoder, "intermediate_dim", 8.0, INT),
    (layers.FNetEncoder, "dropout", 1.0, RATE),
    (layers.FNetEncoder, "activation", "relu6x", ACTIVATION),
    (layers.FNetEncoder, "layer_norm_epsilon", 0, POSITIVE),
    (layers.FNetEncoder, "layer_norm_epsilon", -1e-5, POSITIVE),
    (layers.MaskedLMHead, "vocabulary_size", 0, INT_OR_NONE),
    (layers.MaskedLMHead, "activation", "softmaxx", ACTIVATION),
    (layers.MaskedLMHead, "intermediate_activation", "gelux", ACTIVATION),
    (layers.MaskedLMHead, "layer_norm_epsilon", 0, POSITIVE),
    (layers.MaskedLMMaskGenerator, "vocabulary_size", 0, INT),
    (layers.MaskedLMMaskGenerator, "mask_selection_rate", 1.5, UNIT),
    (layers.MaskedLMMaskGenerator, "mask_selection_rate", -0.1, UNIT),
    (layers.MaskedLMMaskGenerator, "mask_selection_length", 0, INT_OR_NONE),
    (layers.MaskedLMMaskGenerator, "mask_token_rate", 1.5, UNIT),
    (layers.MaskedLMMaskGenerator, "random_token_rate", -0.1, UNIT),
    (layers.MaskedLMMaskGenerator, "mask_token_id", 10, "integer in [0, 9]"),
    (layers.MaskedLMMaskGenerator, "mask_token_id", -1, "integer in [0, 9]"),
    (layers.MultiSegmentPacker, "sequence_length", 0, INT_OR_NONE),
    (layers.MultiSegmentPacker, "sequence_length", -1, INT_OR_NONE),
    (
        layers.MultiSegmentPacker,
        "truncate",
        "longest_first",
        "one of 'round_robin', 'waterfall'",
    ),
    (layers.MultiSegmentPacker, "padding_side", "up", "one of 'left', 'right'"),
    (layers.PositionEmbedding, "sequence_length", 0, INT),
    (layers.RandomDeletion, "rate", 1.5, UNIT),
    (layers.RandomDeletion, "rate", -0.1, UNIT),
    (layers.RandomDeletion, "max_deletions", -1, "integer >= 0 or `None`"),
    (layers.RandomSwap, "rate", 1.5, UNIT),
    (layers.RandomSwap, "max_swaps", -1, "integer >= 0 or `None`"),
    (layers.ReversibleEmbedding, "input_dim", 0, INT),
    (layers.ReversibleEmbedding, "output_dim", 0, INT),
    (layers.ReversibleEmbedding, "logit_soft_cap", 0, "number > 0 or `None`"),
    (layers.RotaryEmbedding, "max_wavelength", 0, POSITIVE),
    (layers.RotaryEmbedding, "scaling_factor", -1.0, POSITIVE),
    (layers.RotaryEmbedding, "beta_fast", 0, POSITIVE),
    (layers.RotaryEmbedding, "beta_slow", -1.0, POSITIVE),
    (layers.RotaryEmbedding, "original_max_position_embeddings", 0, INT),
    (layers.RotaryEmbedding, "rope_type", "dynamic", "one of 'linear', 'yarn'"),
    (layers.RotaryEmbedding, "denominator_dim", 4, "one of None"),
    (layers.RotaryEmbedding, "truncate", "yes", "one of True, False"),
    (layers.SinePositionEncoding, "max_wavelength", 0, POSITIVE),
    (layers.StartEndPacker, "sequence_length", 0, INT_OR_NONE),
    (layers.StartEndPacker, "padding_side", "center", "one of 'left', 'right'"),
    (layers.TokenAndPositionEmbedding, "vocabulary_size", 0, INT),
    (layers.TokenAndPositionEmbedding, "sequence_length", 0, INT),
    (layers.TokenAndPositionEmbedding, "embedding_dim", 0, INT),
    (layers.TransformerDecoder, "intermediate_dim", 0, INT),
    (layers.TransformerDecoder, "num_heads", 0, INT),
    (layers.TransformerDecoder, "dropout", 1.0, RATE),
    (layers.TransformerDecoder, "activation", "relux", ACTIVATION),
    (layers.TransformerDecoder, "layer_norm_epsilon", 0, POSITIVE),
    (layers.TransformerEncoder, "intermediate_dim", 0, INT),
    (layers.TransformerEncoder, "num_heads", -2, INT),
    (layers.TransformerEncoder, "dropout", -0.1, RATE),
    (layers.TransformerEncoder, "activation", "relux", ACTIVATION),
    (layers.TransformerEncoder, "layer_norm_epsilon", -1.0, POSITIVE),
    (tokenizers.BytePairTokenizer, "sequence_length", 0, "positive int"),
    (tokenizers.ByteTokenizer, "sequence_length", -1, "positive int"),
    (tokenizers.ByteTokenizer, "normalization_form", "NFX", "one of"),
    (tokenizers.ByteTokenizer, "errors", "skip", "one of"),
    (tokenizers.ByteTokenizer, "replacement_char", -1, "Unicode codepoint"),
    (tokenizers.SentencePieceTokenizer, "sequence_length", 0, "positive int"),
    (tokenizers.UnicodeCodepointTokenizer, "sequence_length", 0, "positive"),
    (tokenizers.UnicodeCodepointTokenizer, "vocabulary_size", 0, "positive"),
    (tokenizers.UnicodeCodepointTokenizer, "normalization_form", "NFX", "one of"),
    (tokenizers.UnicodeCodepointTokenizer, "errors", "skip", "one of"),
    (tokenizers.UnicodeCodepointTokenizer, "input_encoding", "latin-1", "one of"),
    (tokenizers.UnicodeCodepointTokenizer, "output_encoding", "latin-1", "one of"),
    (tokenizers.WordPieceTokenizer, "sequence_length", 0, "positive int"),
    (samplers.BeamSampler, "num_beams", 0, INT),
    (samplers.BeamSampler, "temperature", 0, POSITIVE),
    (samplers.ContrastiveSampler, "k", 0, INT),
    (samplers.ContrastiveSampler, "alpha", 1.5, UNIT),
    (samplers.ContrastiveSampler, "alpha", -0.1, UNIT),
    (samplers.ContrastiveSampler, "temperature", -1, POSITIVE),
    (samplers.GreedySampler, "temperature", -1.0, POSITIVE),
    (samplers.RandomSampler, "temperature", 0, POSITIVE),
    (samplers.Sampler, "temperature", 0.0, POSITIVE),
    (samplers.SpeculativeSampler, "num_speculative_tokens", 0, INT),
    (samplers.SpeculativeSampler, "temperature", 0, POSITIVE),
    (samplers.TopKSampler, "k", 0, INT),
    (samplers.TopKSampler, "k", 2.5, INT),
    (samplers.TopKSampler, "temperature", 0, POSITIVE),
    (samplers.TopPSampler, "p", 0, "number in (0, 1]"),
    (samplers.TopPSampler, "p", 1.5, "number in (0, 1]"),
    (samplers.TopPSampler, "k", 0, INT_OR_NONE),
    (samplers.TopPSampler, "temperature", float("nan"), POSITIVE),
    (metrics.Bleu, "max_order", 0, "at least 1"),
    (metrics.Bleu, "max_order", 2.5, "int of at least 1"),
    (metrics.RougeN, "order", 0, "from 1 to 9"),
    (metrics.RougeN, "order", 10, "from 1 to 9"),
    (models.CausalLMPreprocessor, "sequence_length", 0, INT),
    (models.CausalLMPreprocessor, "sequence_length", 2.5, INT),
    (models.MaskedLMPreprocessor, "sequence_length", -1, INT),
    (models.MaskedLMPreprocessor, "truncate", "longest_first", "one of"),
    (models.MaskedLMPreprocessor, "mask_selection_rate", 1.5, UNIT),
    (models.MaskedLMPreprocessor, "mask_selection_length", 0, INT_OR_NONE),
    (models.MaskedLMPreprocessor, "mask_token_rate", -0.5, UNIT),
    (models.MaskedLMPreprocessor, "random_token_rate", 2, UNIT),
    (models.Seq2SeqLMPreprocessor, "encoder_sequence_length", 0, INT),
    (models.Seq2SeqLMPreprocessor, "decoder_sequence_length", 0, INT),
    (models.TextClassifierPreprocessor, "sequence_length", 0, INT),
    (models.TextClassifierPreprocessor, "truncate", "longest_first", "one of"),
    (models.TextEmbedderPreprocessor, "sequence_length", 0, INT),
    (models.TextEmbedderPreprocessor, "truncate", "longest_first", "one of"),
]


def _case_id(case):
    cls, name, value, _ = case
    return f"{cls.__name__}-{name}={value!r}"


@pytest.fixture
def created_variables(monkeypatch):
    """A list that records every `keras.Variable` created in the test."""
    created = []
    original = keras.Variable.__init__

    def record(self, *args, **kwargs):
        created.append(kwargs.get("name"))
        original(self, *args, **kwargs)

    monkeypatch.setattr(keras.Variable, "__init__", record)
    return created


class TestConstructorArguments(TestCase):
    @pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
    def test_bad_argument_is_refused_by_name(self, case, created_variables):
        cls, name, value, words = case
        kwargs = BASES[cls]()
        kwargs[name] = value
        del created_variables[:]  # the base's tokenizer may build tables
        with pytest.raises(ValueError) as info:
            cls(**kwargs)
        message = str(info.value)
        assert f"{name}={value!r}" in message, message
        assert words in message, message
        if cls not in MESSAGES_WITHOUT_CLASS:
            assert f"`{cls.__name__}`" in message, message
        assert created_variables == []

    @pytest.mark.parametrize("cls", list(BASES), ids=lambda c: c.__name__)
    def test_valid_base_arguments_construct(self, cls):
        # The table's base arguments are valid, so each case fails on its
        # own argument alone.
        instance = cls(**BASES[cls]())
        assert isinstance(instance, cls)

    @pytest.mark.parametrize(
        "cls,name,value",
        [
            (layers.MaskedLMMaskGenerator, "mask_selection_rate", 0.0),
            (layers.MaskedLMMaskGenerator, "mask_token_id", 9),
            (layers.RandomDeletion, "max_deletions", 0),
            (layers.RandomSwap, "rate", 1),
            (samplers.TopPSampler, "p", 1.0),
            (samplers.ContrastiveSampler, "alpha", 0),
            (layers.TransformerEncoder, "dropout", 0.0),
            (layers.TransformerEncoder, "activation", keras.activations.gelu),
            (layers.CachedMultiHeadAttention, "sliding_window", 1),
            (layers.StartEndPacker, "sequence_length", None),
            (layers.PositionEmbedding, "sequence_length", np.int64(4)),
            (models.MaskedLMPreprocessor, "mask_selection_length", None),
        ],
        # Names, not reprs: a function's repr holds its address, which differs
        # between pytest-xdist workers (they must collect identical ids).
        ids=lambda v: v.__name__ if inspect.isclass(v) or callable(v) else repr(v),
    )
    def test_boundary_values_are_accepted(self, cls, name, value):
        kwargs = BASES[cls]()
        kwargs[name] = value
        cls(**kwargs)

    def test_preprocessor_sequence_length_setter_is_checked(self):
        preprocessor = models.TextClassifierPreprocessor(_word_piece())
        with pytest.raises(ValueError, match=r"sequence_length=0\."):
            preprocessor.sequence_length = 0
        preprocessor.sequence_length = 16
        assert preprocessor.sequence_length == 16


# Argument names that hold a size, count, rate or a closed set of choices.
SIZE_OR_RATE_LIKE = re.compile(
    r"(^num_|_dim$|_size$|_length$|rate$|^dropout$|^k$|^p$|^alpha$"
    r"|^temperature$|order$|epsilon$|wavelength$|max|_factor$|activation$"
    r"|^truncate$|^padding_side$|^normalization_form$|^errors$|_encoding$"
    r"|^rope_type$|_cap$|window$|^beta_)"
)

PUBLIC_CLASSES = sorted(
    {
        cls
        for module in (layers, tokenizers, samplers, metrics)
        for cls in vars(module).values()
        if inspect.isclass(cls)
    }
    | {
        models.CausalLMPreprocessor,
        models.MaskedLMPreprocessor,
        models.Seq2SeqLMPreprocessor,
        models.TextClassifierPreprocessor,
        models.TextEmbedderPreprocessor,
    },
    key=lambda c: c.__name__,
)


def _constructor_arguments(cls):
    """The named arguments of `cls.__init__` and of the public base classes
    it forwards `**kwargs` to (a sampler's `temperature`); private bases
    such as `RandomTokenAugmentation` only receive the arguments that the
    public class already names."""
    names = []
    for klass in cls.__mro__:
        if klass is not cls and klass not in PUBLIC_CLASSES:
            continue
        if "__init__" not in vars(klass):
            continue
        for parameter in inspect.signature(klass.__init__).parameters.values():
            if parameter.kind in (
                parameter.POSITIONAL_OR_KEYWORD,
                parameter.KEYWORD_ONLY,
            ) and parameter.name not in ("self", "name", "dtype"):
                names.append(parameter.name)
    return list(dict.fromkeys(names))


class TestEveryArgumentHasACase(TestCase):
    def test_every_public_class_is_enumerated(self):
        names = {cls.__name__ for cls in PUBLIC_CLASSES}
        for expected in ("TopKSampler", "TransformerEncoder", "RougeN"):
            assert expected in names
        assert "WordPieceTokenizer" in names

    @pytest.mark.parametrize(
        "cls", PUBLIC_CLASSES, ids=lambda c: c.__name__
    )
    def test_size_and_rate_arguments_have_a_case(self, cls):
        covered = {name for c, name, _, _ in CASES if c is cls}
        missing = [
            name
            for name in _constructor_arguments(cls)
            if SIZE_OR_RATE_LIKE.search(name) and name not in covered
        ]
        assert missing == [], (
            f"`{cls.__name__}` takes {missing} without a case in CASES of "
            "tests/robustness/test_constructor_arguments.py: check them in "
            "the constructor (keras_nlp_clone.utils.argument_checks) and "
            "add a row."
        )


class TestGenericHelpers(TestCase):
    def test_check_integer_bounds_are_inclusive(self):
        argument_checks.check_integer("X", "n", 0, minimum=0, maximum=3)
        argument_checks.check_integer("X", "n", 3, minimum=0, maximum=3)
        with pytest.raises(
            ValueError,
            match=re.escape(
                "`X` needs `n` to be an integer in [0, 3]. Received: n=4."
            ),
        ):
            argument_checks.check_integer("X", "n", 4, minimum=0, maximum=3)

    @pytest.mark.parametrize("value", [True, 1.0, "1", None, np.float32(1)])
    def test_check_integer_refuses_non_integers(self, value):
        with pytest.raises(ValueError, match="integer >= 1"):
            argument_checks.check_positive_integer("X", "n", value)

    def test_check_number_in_range_open_and_closed_ends(self):
        check = argument_checks.check_number_in_range
        check("X", "p", 1, 0, 1, low_inclusive=False)
        check("X", "p", np.float32(0.5), 0, 1, low_inclusive=False)
        with pytest.raises(ValueError, match=re.escape("in (0, 1]")):
            check("X", "p", 0, 0, 1, low_inclusive=False)
        with pytest.raises(ValueError, match=re.escape("in [0, 1)")):
            check("X", "p", 1, 0, 1, high_inclusive=False)
        with pytest.raises(ValueError, match="p=nan"):
            check("X", "p", math.nan, 0, 1)
        with pytest.raises(ValueError, match="p=True"):
            check("X", "p", True, 0, 1)

    def test_check_choice_lists_every_choice_and_the_hint(self):
        with pytest.raises(ValueError) as info:
            argument_checks.check_choice(
                "X", "side", "up", ("left", "right"), hint="Pick one."
            )
        assert str(info.value) == (
            "`X` needs `side` to be one of 'left', 'right'. Received: "
            "side='up'. Pick one."
        )
        argument_checks.check_choice("X", "form", None, (None, "NFC"))
        with pytest.raises(ValueError, match=r"form=\['NFC'\]"):
            argument_checks.check_choice("X", "form", ["NFC"], (None, "NFC"))

    def test_check_divisible_names_both_arguments(self):
        argument_checks.check_divisible("X", "hidden_dim", 8, "num_heads", 4)
        with pytest.raises(ValueError) as info:
            argument_checks.check_divisible(
                "X", "hidden_dim", 10, "num_heads", 3
            )
        assert "hidden_dim=10, num_heads=3" in str(info.value)
        assert "[1, 2, 5, 10]" in str(info.value)
