import os

import numpy as np
import pytest
import sentencepiece

from keras_nlp_clone.tokenizers import SentencePieceTokenizer
from keras_nlp_clone.tokenizers import compute_sentence_piece_proto
from keras_nlp_clone.utils.lazy_module import tf
from tests.real_data import rotten_tomatoes_texts
from tests.test_case import TestCase

VOCAB_SIZE = 300


@pytest.fixture(scope="module")
def texts():
    """400 real Rotten Tomatoes sentences (lowercase, one line each)."""
    texts = list(rotten_tomatoes_texts(400))
    assert not any("\n" in t for t in texts)
    return texts


@pytest.fixture(scope="module")
def proto(texts):
    return compute_sentence_piece_proto(texts, VOCAB_SIZE)


def _processor(proto):
    return sentencepiece.SentencePieceProcessor(model_proto=proto)


class TestComputeSentencePieceProto(TestCase):
    def test_trains_a_usable_model(self, proto, texts):
        assert isinstance(proto, bytes)
        processor = _processor(proto)
        assert processor.get_piece_size() == VOCAB_SIZE
        # Reserved ids: padding is 0, as `SentencePieceTokenizer` pads.
        assert [processor.id_to_piece(i) for i in range(4)] == [
            "<pad>",
            "<unk>",
            "<s>",
            "</s>",
        ]
        assert (processor.pad_id(), processor.unk_id()) == (0, 1)
        assert (processor.bos_id(), processor.eos_id()) == (2, 3)
        tokenizer = SentencePieceTokenizer(proto=proto)
        ids = tokenizer(texts[:50])
        assert ids == processor.encode(texts[:50])
        # Subwords: fewer ids than half the characters, and few unknown
        # ids on training text (rare characters fall outside SentencePiece's
        # default 99.95% character coverage).
        flat = [i for row in ids for i in row]
        assert len(flat) < sum(map(len, texts[:50])) / 2
        assert flat.count(1) < len(flat) / 200
        assert tokenizer.detokenize(tokenizer("the film")) == "the film"
        # The default normalization is NFKC without case folding: these
        # sentences are lowercase, so capitals are unknown; NFKC maps the
        # ligature "ﬁ" to "fi".
        assert tokenizer.detokenize(tokenizer("The ﬁlm")) == " ⁇ he film"

    def test_deterministic(self, proto, texts):
        assert compute_sentence_piece_proto(texts, VOCAB_SIZE) == proto

    def test_dataset_list_and_file_inputs_agree(self, proto, texts, tmp_path):
        ds = tf.data.Dataset.from_tensor_slices(texts)
        assert compute_sentence_piece_proto(ds, VOCAB_SIZE) == proto
        assert compute_sentence_piece_proto(ds.batch(64), VOCAB_SIZE) == proto
        assert compute_sentence_piece_proto(tuple(texts), VOCAB_SIZE) == proto
        assert compute_sentence_piece_proto(np.array(texts), VOCAB_SIZE) == (
            proto
        )
        # Files are read line by line, as KerasNLP passes them to the
        # trainer; split in two files, same model.
        first, second = tmp_path / "a.txt", tmp_path / "b.txt"
        first.write_text("\n".join(texts[:150]) + "\n", encoding="utf-8")
        second.write_text("\n".join(texts[150:]), encoding="utf-8")
        assert (
            compute_sentence_piece_proto([str(first), second], VOCAB_SIZE)
            == proto
        )
        # A mistyped path is an error, not a text to train on.
        with pytest.raises(ValueError, match="mixes paths of existing files"):
            compute_sentence_piece_proto(
                [str(first), str(tmp_path / "c.txt")], VOCAB_SIZE
            )

    def test_proto_output_file(self, proto, texts, tmp_path):
        path = tmp_path / "out" / "model.spm"
        assert (
            compute_sentence_piece_proto(
                texts, VOCAB_SIZE, proto_output_file=str(path)
            )
            is None
        )
        assert path.read_bytes() == proto
        # Written atomically: no temporary file is left behind.
        assert os.listdir(path.parent) == ["model.spm"]
        tokenizer = SentencePieceTokenizer(proto=str(path))
        assert tokenizer("a good film") == _processor(proto).encode(
            "a good film"
        )

    def test_lowercase(self, texts):
        cased = [t.upper() if i % 2 else t for i, t in enumerate(texts)]
        proto = compute_sentence_piece_proto(cased, VOCAB_SIZE, lowercase=True)
        vocab = SentencePieceTokenizer(proto=proto).get_vocabulary()
        assert not any(any(c.isupper() for c in piece) for piece in vocab[4:])
        # The case folding is part of the model's normalization.
        tokenizer = SentencePieceTokenizer(proto=proto)
        assert tokenizer("A GOOD Film") == tokenizer("a good film")
        assert tokenizer.detokenize(tokenizer("A GOOD Film")) == "a good film"

    @pytest.mark.parametrize("model_type", ["bpe", "word", "char"])
    def test_model_types(self, texts, model_type):
        proto = compute_sentence_piece_proto(texts, 200, model_type=model_type)
        processor = _processor(proto)
        tokenizer = SentencePieceTokenizer(proto=proto)
        assert tokenizer(texts[:20]) == processor.encode(texts[:20])
        pieces = tokenizer.get_vocabulary()[4:]
        if model_type == "char":
            assert all(len(p) == 1 for p in pieces)
        if model_type == "word":
            assert "▁the" in pieces

    def test_errors(self, texts):
        with pytest.raises(ValueError, match="`model_type` must be one of"):
            compute_sentence_piece_proto(texts, 100, model_type="wordpiece")
        with pytest.raises(ValueError, match="larger than 4"):
            compute_sentence_piece_proto(texts, 4)
        with pytest.raises(ValueError, match="larger than 4"):
            compute_sentence_piece_proto(texts, 100.0)
        with pytest.raises(ValueError, match="Received: dict"):
            compute_sentence_piece_proto({"a": 1}, 100)
        with pytest.raises(ValueError, match=r"containing 3 \(int\)"):
            compute_sentence_piece_proto(["a b", 3], 100)
        with pytest.raises(ValueError, match="is empty"):
            compute_sentence_piece_proto([], 100)
        with pytest.raises(ValueError, match="element_spec"):
            compute_sentence_piece_proto(
                tf.data.Dataset.from_tensor_slices([1, 2]), 100
            )
        with pytest.raises(ValueError, match="`proto_output_file` must be"):
            compute_sentence_piece_proto(texts, 100, proto_output_file=3)
        # The trainer's own limits come back as a ValueError with its
        # message.
        with pytest.raises(ValueError, match="Vocabulary size too high"):
            compute_sentence_piece_proto(texts[:5], 5000)
        with pytest.raises(ValueError, match="smaller than required_chars"):
            compute_sentence_piece_proto(texts, 10)
