"""Fuzzed robustness of every preprocessor.

Classifier, text-embedder and masked-LM preprocessors of every family, the
GPT-2 causal-LM preprocessor and the BART seq2seq preprocessor run on fuzzed
strings (see `fuzz_strategies`) with one to three segments. The oracle is
the tokenizer's own output packed by the pure-Python reference packers of
`test_fuzz_packers` with the preprocessor's declared special tokens: the
packed ids must equal it exactly, with shapes `(batch, sequence_length)`,
the documented dtypes, ids in `[0, vocabulary_size)` and padding masks equal
to `token_ids != pad_id` (or to the packer's mask where padding shares its
id with real tokens). Masked-LM outputs must be consistent: selected
positions hold no special token, labels are the original ids there, and
every other position keeps its id.
"""

import keras
import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from keras_nlp_clone import models
from tests.robustness import fuzz_strategies as fs
from tests.robustness.test_fuzz_packers import reference_multi_segment
from tests.robustness.test_fuzz_packers import reference_start_end

EXAMPLES = settings(max_examples=4)
SEQUENCE_LENGTH = 9

# Preprocessor class name -> tokenizer case of `fuzz_strategies`.
SEGMENT_PREPROCESSORS = {
    "BertPreprocessor": "bert",
    "BertTextEmbedderPreprocessor": "bert",
    "DistilBertPreprocessor": "distil_bert",
    "RobertaPreprocessor": "roberta",
    "XLMRobertaPreprocessor": "xlm_roberta",
    "XLMRobertaTextEmbedderPreprocessor": "xlm_roberta",
}
MASKED_LM_PREPROCESSORS = {
    "BertMaskedLMPreprocessor": "bert",
    "DistilBertMaskedLMPreprocessor": "distil_bert",
    "RobertaMaskedLMPreprocessor": "roberta",
    "XLMRobertaMaskedLMPreprocessor": "xlm_roberta",
}


@pytest.fixture(scope="module")
def tokenizers():
    proto = fs.tiny_sentence_piece_proto()
    names = ["bert", "distil_bert", "roberta", "xlm_roberta", "gpt2", "bart"]
    return {name: fs.make_tokenizer(name, proto) for name in names}


def numpy(x):
    return keras.ops.convert_to_numpy(x)


def segments_of(num_segments):
    """`num_segments` equally long batches of fuzzed strings."""
    return st.integers(1, 3).flatmap(
        lambda n: st.tuples(
            *[
                fs.text_batches(min_size=n, max_size=n)
                for _ in range(num_segments)
            ]
        )
    )


def expected_segment_packing(preprocessor, tokenizer, segments, length):
    """The reference packing of `segments` (a tuple of string batches)."""
    start, end = [tokenizer.start_token_id], [tokenizer.end_token_id]
    sep = end * preprocessor.num_separators
    rows = [tokenizer(list(batch)) for batch in segments]
    return [
        reference_multi_segment(
            [r[b] for r in rows], length, start, end, sep,
            tokenizer.pad_token_id, preprocessor.truncate,
        )
        for b in range(len(segments[0]))
    ]


def check_ids(ids, tokenizer):
    ids = np.asarray(ids)
    assert ids.dtype == np.int32
    assert ids.size == 0 or (
        ids.min() >= 0 and ids.max() < tokenizer.vocabulary_size()
    )


# === Classifier and text-embedder preprocessors ===


def segment_cases():
    for name in SEGMENT_PREPROCESSORS:
        for num_segments in (1, 2, 3):
            yield pytest.param(name, num_segments, id=f"{name}-{num_segments}seg")


@pytest.mark.parametrize("name,num_segments", segment_cases())
def test_segment_preprocessor(tokenizers, name, num_segments):
    tokenizer = tokenizers[SEGMENT_PREPROCESSORS[name]]
    preprocessor = getattr(models, name)(
        tokenizer, sequence_length=SEQUENCE_LENGTH
    )

    @EXAMPLES
    @given(segments_of(num_segments))
    def check(segments):
        x = preprocessor(tuple(segments) if num_segments > 1 else segments[0])
        batch = len(segments[0])
        expected = expected_segment_packing(
            preprocessor, tokenizer, segments, SEQUENCE_LENGTH
        )
        keys = ["token_ids", "padding_mask"]
        if preprocessor.include_segment_ids:
            keys.insert(1, "segment_ids")
        assert sorted(x) == sorted(keys)
        for key in keys:
            assert tuple(x[key].shape) == (batch, SEQUENCE_LENGTH)
        token_ids = numpy(x["token_ids"])
        check_ids(token_ids, tokenizer)
        assert token_ids.tolist() == [e[0] for e in expected]
        assert numpy(x["padding_mask"]).dtype == bool
        np.testing.assert_array_equal(
            numpy(x["padding_mask"]), token_ids != tokenizer.pad_token_id
        )
        if preprocessor.include_segment_ids:
            assert numpy(x["segment_ids"]).tolist() == [e[1] for e in expected]

    check()


@pytest.mark.parametrize("name", list(SEGMENT_PREPROCESSORS))
def test_segment_preprocessor_too_short_for_special_tokens(tokenizers, name):
    # Documented (`MultiSegmentPacker`): a `sequence_length` that cannot
    # hold the special tokens is a `ValueError`; one that holds exactly
    # them packs no text.
    tokenizer = tokenizers[SEGMENT_PREPROCESSORS[name]]
    preprocessor = getattr(models, name)(tokenizer, sequence_length=2)
    x = preprocessor(["the fox", ""])
    assert numpy(x["token_ids"]).tolist() == [
        [tokenizer.start_token_id, tokenizer.end_token_id]
    ] * 2
    with pytest.raises(ValueError, match="cannot hold the"):
        preprocessor((["a"], ["b"]))


# === Masked-LM preprocessors ===


def masked_lm_cases():
    for name in MASKED_LM_PREPROCESSORS:
        for num_segments in (1, 2):
            yield pytest.param(name, num_segments, id=f"{name}-{num_segments}seg")


@pytest.mark.parametrize("name,num_segments", masked_lm_cases())
def test_masked_lm_preprocessor(tokenizers, name, num_segments):
    tokenizer = tokenizers[MASKED_LM_PREPROCESSORS[name]]
    preprocessor = getattr(models, name)(
        tokenizer,
        sequence_length=SEQUENCE_LENGTH,
        mask_selection_rate=0.5,
        mask_selection_length=4,
    )
    special = set(tokenizer.special_token_ids) - {None}

    @EXAMPLES
    @given(segments_of(num_segments))
    def check(segments):
        x, y, weights = preprocessor(
            tuple(segments) if num_segments > 1 else segments[0]
        )
        batch = len(segments[0])
        original = np.array(
            [
                e[0]
                for e in expected_segment_packing(
                    preprocessor, tokenizer, segments, SEQUENCE_LENGTH
                )
            ]
        )
        token_ids = numpy(x["token_ids"])
        positions = numpy(x["mask_positions"])
        y, weights = numpy(y), numpy(weights)
        assert token_ids.shape == (batch, SEQUENCE_LENGTH)
        assert positions.shape == y.shape == weights.shape == (batch, 4)
        check_ids(token_ids, tokenizer)
        np.testing.assert_array_equal(
            numpy(x["padding_mask"]), original != tokenizer.pad_token_id
        )
        for b in range(batch):
            selected = positions[b][weights[b] > 0]
            assert len(set(selected.tolist())) == len(selected)
            for position, label in zip(selected, y[b][weights[b] > 0]):
                assert original[b, position] == label
                assert label not in special
            # Every unselected position keeps its id.
            keep = np.ones(SEQUENCE_LENGTH, bool)
            keep[selected] = False
            np.testing.assert_array_equal(token_ids[b][keep], original[b][keep])
            assert set(np.unique(weights[b])) <= {0.0, 1.0}

    check()


# === GPT-2 ===


@pytest.mark.parametrize("length", [1, 2, 8])
def test_gpt2_causal_lm_preprocessor(tokenizers, length):
    tokenizer = tokenizers["gpt2"]
    preprocessor = models.GPT2CausalLMPreprocessor(
        tokenizer, sequence_length=length
    )
    eot = tokenizer.end_token_id

    @EXAMPLES
    @given(fs.text_batches())
    def check(texts):
        x, y, weights = preprocessor(texts)
        expected = [
            reference_start_end(row, length + 1, [eot], [eot], eot, "right")
            for row in tokenizer(texts)
        ]
        ids = np.array([e[0] for e in expected])
        mask = np.array([e[1] for e in expected])
        assert tuple(x["token_ids"].shape) == (len(texts), length)
        assert numpy(x["token_ids"]).tolist() == ids[:, :-1].tolist()
        assert numpy(x["padding_mask"]).tolist() == mask[:, :-1].tolist()
        assert numpy(y).tolist() == ids[:, 1:].tolist()
        assert numpy(weights).tolist() == mask[:, 1:].tolist()
        check_ids(numpy(x["token_ids"]), tokenizer)
        # Prompts for `generate`: the start token, no end token.
        prompts = preprocessor.generate_preprocess(texts)
        expected = [
            reference_start_end(row, length, [eot], [], eot, "right")
            for row in tokenizer(texts)
        ]
        assert numpy(prompts["token_ids"]).tolist() == [e[0] for e in expected]
        assert numpy(prompts["padding_mask"]).tolist() == [
            e[1] for e in expected
        ]

    check()


def test_gpt2_preprocessor(tokenizers):
    tokenizer = tokenizers["gpt2"]
    preprocessor = models.GPT2Preprocessor(tokenizer, sequence_length=6)
    eot = tokenizer.end_token_id

    @EXAMPLES
    @given(fs.text_batches())
    def check(texts):
        x = preprocessor(texts)
        expected = [
            reference_start_end(row, 6, [eot], [eot], eot, "right")
            for row in tokenizer(texts)
        ]
        assert numpy(x["token_ids"]).tolist() == [e[0] for e in expected]
        assert numpy(x["padding_mask"]).tolist() == [e[1] for e in expected]

    check()


# === BART ===


@pytest.mark.parametrize("encoder_length,decoder_length", [(2, 2), (3, 8), (9, 4)])
def test_bart_seq_2_seq_lm_preprocessor(tokenizers, encoder_length, decoder_length):
    tokenizer = tokenizers["bart"]
    preprocessor = models.BartSeq2SeqLMPreprocessor(
        tokenizer,
        encoder_sequence_length=encoder_length,
        decoder_sequence_length=decoder_length,
    )
    pad = tokenizer.pad_token_id

    @EXAMPLES
    @given(segments_of(2))
    def check(segments):
        encoder_text, decoder_text = segments
        x, y, weights = preprocessor(
            {"encoder_text": encoder_text, "decoder_text": decoder_text}
        )
        encoder = [
            reference_start_end(
                row, encoder_length, preprocessor.encoder_start_ids(),
                preprocessor.encoder_end_ids(), pad, "right",
            )
            for row in tokenizer(list(encoder_text))
        ]
        decoder = [
            reference_start_end(
                row, decoder_length + 1, preprocessor.decoder_start_ids(),
                preprocessor.decoder_end_ids(), pad, "right",
            )
            for row in tokenizer(list(decoder_text))
        ]
        decoder_ids = np.array([d[0] for d in decoder])
        decoder_mask = np.array([d[1] for d in decoder])
        assert numpy(x["encoder_token_ids"]).tolist() == [e[0] for e in encoder]
        assert numpy(x["encoder_padding_mask"]).tolist() == [
            e[1] for e in encoder
        ]
        assert numpy(x["decoder_token_ids"]).tolist() == (
            decoder_ids[:, :-1].tolist()
        )
        assert numpy(x["decoder_padding_mask"]).tolist() == (
            decoder_mask[:, :-1].tolist()
        )
        assert numpy(y).tolist() == decoder_ids[:, 1:].tolist()
        assert numpy(weights).tolist() == decoder_mask[:, 1:].tolist()
        check_ids(numpy(x["encoder_token_ids"]), tokenizer)

    check()
