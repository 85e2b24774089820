"""Boolean constructor arguments of the tokenizers refuse non-bools.

`lowercase="false"` is a truthy string: taken as given, a cased tokenizer
would silently lowercase its text. Each case must raise our `ValueError`
naming the class, the argument and the value; real bools (Python and
NumPy) must still be accepted and kept.
"""

import numpy as np
import pytest

from keras_nlp_clone import tokenizers

BOOLEAN_ARGUMENTS = [
    (tokenizers.BytePairTokenizer, "add_prefix_space"),
    (tokenizers.ByteTokenizer, "lowercase"),
    (tokenizers.UnicodeCodepointTokenizer, "lowercase"),
    (tokenizers.SentencePieceTokenizer, "add_bos"),
    (tokenizers.SentencePieceTokenizer, "add_eos"),
    (tokenizers.WordPieceTokenizer, "lowercase"),
    (tokenizers.WordPieceTokenizer, "strip_accents"),
    (tokenizers.WordPieceTokenizer, "split"),
    (tokenizers.WordPieceTokenizer, "split_on_cjk"),
    (tokenizers.WordPieceTokenizer, "special_tokens_in_strings"),
]
BAD_VALUES = ["false", "True", 1, 0, None]


@pytest.mark.parametrize("value", BAD_VALUES, ids=repr)
@pytest.mark.parametrize(
    "cls, name", BOOLEAN_ARGUMENTS, ids=lambda x: getattr(x, "__name__", x)
)
def test_non_bool_is_refused(cls, name, value):
    with pytest.raises(ValueError) as info:
        cls(**{name: value})
    message = str(info.value)
    assert f"`{cls.__name__}` needs `{name}` to be True or False" in message
    assert f"{name}={value!r}" in message


@pytest.mark.parametrize("value", [True, False, np.bool_(True)], ids=repr)
@pytest.mark.parametrize(
    "cls, name", BOOLEAN_ARGUMENTS, ids=lambda x: getattr(x, "__name__", x)
)
def test_bools_are_accepted(cls, name, value):
    tokenizer = cls(**{name: value})
    assert getattr(tokenizer, name) is bool(value)


def test_bert_tokenizer_passes_its_booleans_through_the_check():
    from keras_nlp_clone.models import BertTokenizer

    vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a"]
    with pytest.raises(ValueError, match="lowercase='false'"):
        BertTokenizer(vocabulary=vocabulary, lowercase="false")
    # `strip_accents=None` follows `lowercase`, as in BERT.
    assert BertTokenizer(vocabulary=vocabulary).strip_accents is False
