"""Fuzzed robustness of the packers, against a pure-Python reference.

`MultiSegmentPacker` and `StartEndPacker` get ragged batches with empty rows
(as `tf.RaggedTensor`, NumPy-free nested Python lists, and one unbatched
row), every truncation mode, one to three segments and sequence lengths from
1 up. The oracle is `reference_multi_segment` / `reference_start_end` below,
written from the layers' docstrings: outputs must equal it exactly (ids,
segment ids, padding masks), with the documented shapes and dtypes. Where
`sequence_length` cannot hold the special tokens, the documented
`ValueError` must be raised.
"""

import keras
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from keras_nlp_clone.layers import MultiSegmentPacker
from keras_nlp_clone.layers import StartEndPacker
from keras_nlp_clone.utils.lazy_module import tf
from tests.robustness import fuzz_strategies as fs

EXAMPLES = settings(max_examples=5)
CLS, SEP, PAD = 101, 102, 0

# === The oracle ===


def trim_lengths(lengths, budget, truncate):
    """How many tokens each segment keeps within `budget`.

    `"waterfall"`: earlier segments first, each whole if it fits.
    `"round_robin"`: one token per segment in turn, skipping exhausted ones.
    """
    keep = [0] * len(lengths)
    if truncate == "waterfall":
        for i, length in enumerate(lengths):
            keep[i] = min(length, budget)
            budget -= keep[i]
        return keep
    while budget > 0 and keep != list(lengths):
        for i, length in enumerate(lengths):
            if budget > 0 and keep[i] < length:
                keep[i] += 1
                budget -= 1
    return keep


def reference_multi_segment(rows, length, start, end, sep, pad, truncate):
    """Packs one example: `rows` holds one id list per segment."""
    budget = length - len(start) - len(sep) * (len(rows) - 1) - len(end)
    keep = trim_lengths([len(r) for r in rows], budget, truncate)
    tokens, segments = list(start), [0] * len(start)
    for i, row in enumerate(rows):
        closing = end if i == len(rows) - 1 else sep
        piece = row[: keep[i]] + closing
        tokens += piece
        segments += [i] * len(piece)
    padding = length - len(tokens)
    return tokens + [pad] * padding, segments + [0] * padding


def reference_start_end(row, length, start, end, pad, padding_side):
    """Packs one sequence; `length=None` returns it unpadded."""
    tokens = list(start) + list(row)
    if length is not None:
        tokens = tokens[: length - len(end)]
    tokens += list(end)
    mask = [True] * len(tokens)
    if length is None:
        return tokens, mask
    padding = length - len(tokens)
    if padding_side == "left":
        return [pad] * padding + tokens, [False] * padding + mask
    return tokens + [pad] * padding, mask + [False] * padding


# === Helpers ===


def batches(num_segments):
    """`num_segments` ragged batches with the same number of rows."""
    return st.integers(1, 4).flatmap(
        lambda rows: st.tuples(
            *[
                fs.ragged_ids(min_rows=rows, max_rows=rows)
                for _ in range(num_segments)
            ]
        )
    )


def as_input(rows, form):
    if form == "ragged":
        return tf.ragged.constant(rows, dtype=tf.int32, ragged_rank=1)
    return rows


def numpy(x):
    return keras.ops.convert_to_numpy(x)


# === MultiSegmentPacker ===

LENGTHS = [1, 2, 3, 7]
SEPARATORS = {"bert_sep": None, "roberta_double_sep": [SEP, SEP]}


def multi_segment_cases():
    for truncate in ("round_robin", "waterfall"):
        for num_segments in (1, 2, 3):
            for length in LENGTHS:
                yield pytest.param(
                    truncate,
                    num_segments,
                    length,
                    id=f"{truncate}-{num_segments}seg-len{length}",
                )


@pytest.mark.parametrize("truncate,num_segments,length", multi_segment_cases())
def test_multi_segment_packer_matches_reference(truncate, num_segments, length):
    packer = MultiSegmentPacker(
        sequence_length=length,
        start_value=CLS,
        end_value=SEP,
        pad_value=PAD,
        truncate=truncate,
    )
    num_special = 1 + num_segments
    if num_special > length:
        # Documented: a `sequence_length` too short for the special tokens.
        inputs = tuple([[5, 6]] * num_segments)
        with pytest.raises(ValueError, match="cannot hold the"):
            packer(inputs)
        return

    @EXAMPLES
    @given(batches(num_segments), st.sampled_from(["ragged", "lists"]))
    def check(segments, form):
        inputs = tuple(as_input(s, form) for s in segments)
        token_ids, segment_ids = packer(inputs)
        assert tuple(token_ids.shape) == (len(segments[0]), length)
        assert tuple(segment_ids.shape) == (len(segments[0]), length)
        assert "int32" in str(token_ids.dtype)
        assert "int32" in str(segment_ids.dtype)
        expected = [
            reference_multi_segment(
                [s[b] for s in segments], length, [CLS], [SEP], [SEP], PAD,
                truncate,
            )
            for b in range(len(segments[0]))
        ]
        assert numpy(token_ids).tolist() == [e[0] for e in expected]
        assert numpy(segment_ids).tolist() == [e[1] for e in expected]

    check()


@pytest.mark.parametrize("sep_name", list(SEPARATORS))
@pytest.mark.parametrize("truncate", ["round_robin", "waterfall"])
def test_multi_segment_packer_separators_and_unbatched(sep_name, truncate):
    sep = SEPARATORS[sep_name]
    sep_list = [SEP] if sep is None else sep
    packer = MultiSegmentPacker(
        sequence_length=8,
        start_value=CLS,
        end_value=SEP,
        sep_value=sep,
        pad_value=1,
        truncate=truncate,
    )

    @EXAMPLES
    @given(st.integers(1, 3).flatmap(lambda n: st.lists(
        st.lists(st.integers(2, 99), max_size=6), min_size=n, max_size=n)))
    def check(rows):
        token_ids, segment_ids = packer(tuple(rows))
        expected = reference_multi_segment(
            rows, 8, [CLS], [SEP], sep_list, 1, truncate
        )
        assert numpy(token_ids).tolist() == expected[0]
        assert numpy(segment_ids).tolist() == expected[1]

    check()


def test_multi_segment_packer_special_tokens_exactly_fill():
    # Three segments need four special tokens: a length of 4 leaves no room
    # for content but is allowed; 3 is the documented error.
    packer = MultiSegmentPacker(4, start_value=CLS, end_value=SEP)
    token_ids, segment_ids = packer(([5], [6, 7], []))
    assert numpy(token_ids).tolist() == [CLS, SEP, SEP, SEP]
    assert numpy(segment_ids).tolist() == [0, 0, 1, 2]
    with pytest.raises(ValueError, match="sequence_length=3"):
        packer(([5], [6, 7], []), sequence_length=3)


# === StartEndPacker ===

SPECIALS = {
    "start_end": ([CLS], [SEP]),
    "start_only": ([CLS], []),
    "end_only": ([], [SEP]),
    "two_start_one_end": ([CLS, 103], [SEP]),
}


def start_end_cases():
    for special in SPECIALS:
        for padding_side in ("right", "left"):
            for length in (1, 2, 5, None):
                yield pytest.param(
                    special,
                    padding_side,
                    length,
                    id=f"{special}-{padding_side}-len{length}",
                )


@pytest.mark.parametrize("special,padding_side,length", start_end_cases())
def test_start_end_packer_matches_reference(special, padding_side, length):
    start, end = SPECIALS[special]
    packer = StartEndPacker(
        sequence_length=length,
        start_value=start or None,
        end_value=end or None,
        pad_value=PAD,
        padding_side=padding_side,
        return_padding_mask=True,
    )
    if length is not None and len(start) + len(end) > length:
        with pytest.raises(ValueError, match="cannot hold the"):
            packer([[5, 6]])
        return

    @EXAMPLES
    @given(fs.ragged_ids(), st.sampled_from(["ragged", "lists"]))
    def check(rows, form):
        token_ids, mask = packer(as_input(rows, form))
        expected = [
            reference_start_end(r, length, start, end, PAD, padding_side)
            for r in rows
        ]
        width = length
        if length is None:
            # Padded to the longest packed row.
            width = max(len(e[0]) for e in expected)
            expected = [
                reference_start_end(r, width, start, end, PAD, padding_side)
                for r in rows
            ]
        assert tuple(token_ids.shape) == (len(rows), width)
        assert "int32" in str(token_ids.dtype)
        assert "bool" in str(mask.dtype)
        assert numpy(token_ids).tolist() == [e[0] for e in expected]
        assert numpy(mask).tolist() == [e[1] for e in expected]

    check()


def test_start_end_packer_unbatched_row():
    packer = StartEndPacker(
        sequence_length=4, start_value=CLS, end_value=SEP, pad_value=PAD
    )

    @EXAMPLES
    @given(st.lists(st.integers(1, 99), max_size=6))
    def check(row):
        expected, _ = reference_start_end(row, 4, [CLS], [SEP], PAD, "right")
        assert numpy(packer(row)).tolist() == expected

    check()


# === Pinned regressions found by this suite ===


def test_packers_take_an_empty_unbatched_row():
    # `[]` converts to a string tensor: both packers failed to concatenate
    # it with integer special tokens (TypeError, RuntimeError).
    packer = StartEndPacker(4, start_value=CLS, end_value=SEP)
    assert numpy(packer([])).tolist() == [CLS, SEP, 0, 0]
    packer = MultiSegmentPacker(5, start_value=CLS, end_value=SEP)
    token_ids, segment_ids = packer(([], [7]))
    assert numpy(token_ids).tolist() == [CLS, SEP, 7, SEP, 0]
    assert numpy(segment_ids).tolist() == [0, 0, 1, 1, 0]
    # Token strings keep working, empty or not.
    packer = StartEndPacker(3, start_value="<s>", end_value="</s>")
    assert packer([]) == ["<s>", "</s>", ""]


def test_packers_keep_int_ids_for_all_empty_rows():
    # `[[], []]` converts to float32: the packed ids came back float32.
    packer = StartEndPacker(3, start_value=CLS)
    token_ids = packer([[], []])
    assert "int32" in str(token_ids.dtype)
    assert numpy(token_ids).tolist() == [[CLS, 0, 0], [CLS, 0, 0]]
    token_ids, _ = MultiSegmentPacker(3, CLS, SEP)(([[]],))
    assert "int32" in str(token_ids.dtype)


def test_start_end_packer_left_padding_truncates_from_the_end():
    # Without an end token, left padding cut the reversed rows: the start
    # token and the first tokens were dropped instead of the last ones.
    packer = StartEndPacker(3, start_value=CLS, padding_side="left")
    assert numpy(packer([5, 6, 7, 8])).tolist() == [CLS, 5, 6]
    assert numpy(packer([[5, 6, 7, 8], [5]])).tolist() == [
        [CLS, 5, 6],
        [0, CLS, 5],
    ]
