import base64
import os

import keras
import numpy as np
import pytest
import sentencepiece
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from keras_nlp_clone.tokenizers import SentencePieceTokenizer
from keras_nlp_clone.tokenizers import Tokenizer
from keras_nlp_clone.tokenizers import compute_sentence_piece_proto
from keras_nlp_clone.utils.lazy_module import tf
from tests.real_data import imdb_texts
from tests.real_data import news_texts
from tests.real_data import rotten_tomatoes_texts
from tests.test_case import TestCase

MODEL_TYPES = ["unigram", "bpe"]


@pytest.fixture(scope="module")
def protos():
    """SentencePiece models trained once on 300 real IMDB reviews."""
    texts = list(imdb_texts(300))
    return {
        model_type: compute_sentence_piece_proto(
            texts, vocabulary_size=1000, model_type=model_type
        )
        for model_type in MODEL_TYPES
    }


@pytest.fixture(scope="module")
def eval_texts():
    """Real texts not seen in training: IMDB test reviews, Rotten Tomatoes
    sentences and news articles (with newlines), plus edge cases."""
    texts = (
        list(imdb_texts(200, split="test"))
        + list(rotten_tomatoes_texts(200))
        + list(news_texts(40))
    )
    return texts + ["", " ", "  leading and trailing  ", "Ünïcödé 中文 😀"]


def _to_python(x):
    """Eager outputs and `tf.data` elements as nested lists of int/str."""
    if isinstance(x, tf.RaggedTensor):
        x = x.to_list()
    elif isinstance(x, tf.Tensor):
        x = x.numpy().tolist()
    elif not isinstance(x, list):
        x = keras.ops.convert_to_numpy(x).tolist()
    return _decode(x)


def _decode(x):
    if isinstance(x, bytes):
        return x.decode()
    if isinstance(x, list):
        return [_decode(v) for v in x]
    return x


def _processor(proto):
    return sentencepiece.SentencePieceProcessor(model_proto=proto)


@pytest.mark.parametrize("model_type", MODEL_TYPES)
class TestSentencePieceTokenizerExactness(TestCase):
    @pytest.mark.parametrize("add_bos,add_eos", [(False, False), (True, True)])
    def test_ids_equal_sentencepiece(
        self, protos, eval_texts, model_type, add_bos, add_eos
    ):
        proto = protos[model_type]
        tokenizer = SentencePieceTokenizer(
            proto=proto, add_bos=add_bos, add_eos=add_eos
        )
        expected = _processor(proto).encode(
            eval_texts, add_bos=add_bos, add_eos=add_eos
        )
        outputs = tokenizer(eval_texts)
        assert len(outputs) == len(eval_texts) == 444
        assert outputs == expected
        # The models really are subword models of the right size.
        assert tokenizer.vocabulary_size() == 1000
        assert sum(map(len, outputs)) > 100_000

    def test_detokenize_equals_decode(self, protos, eval_texts, model_type):
        proto = protos[model_type]
        processor = _processor(proto)
        tokenizer = SentencePieceTokenizer(proto=proto, add_bos=True)
        ids = tokenizer(eval_texts)
        assert tokenizer.detokenize(ids) == processor.decode(ids)
        # Plain text (no unknown characters) round trips after the model's
        # NFKC normalization and whitespace squeezing.
        assert tokenizer.detokenize(ids)[200] == processor.decode(
            processor.encode(eval_texts[200])
        )

    def test_string_dtype_equals_pieces(self, protos, eval_texts, model_type):
        proto = protos[model_type]
        tokenizer = SentencePieceTokenizer(proto=proto, dtype="string")
        texts = eval_texts[190:260]
        expected = _processor(proto).encode(texts, out_type=str)
        assert tokenizer(texts) == expected
        # Pieces detokenize like ids.
        assert tokenizer.detokenize(tokenizer(texts)) == _processor(
            proto
        ).decode(expected)

    def test_dense_padding_and_truncation(self, protos, eval_texts, model_type):
        proto = protos[model_type]
        texts = eval_texts[195:215] + [""]
        tokenizer = SentencePieceTokenizer(
            proto=proto, sequence_length=24, add_bos=True, add_eos=True
        )
        bos_only = SentencePieceTokenizer(proto=proto, add_bos=True)
        assert bos_only(texts) == _processor(proto).encode(texts, add_bos=True)
        outputs = tokenizer(texts)
        assert keras.ops.is_tensor(outputs)
        assert tuple(outputs.shape) == (21, 24)
        encoded = _processor(proto).encode(texts, add_bos=True, add_eos=True)
        expected = [(ids + [0] * 24)[:24] for ids in encoded]
        self.assertAllEqual(outputs, expected)
        # Some rows were truncated (the end-of-sequence id cut off), some
        # padded; the empty string is `[bos, eos, 0, ...]`.
        assert any(len(ids) > 24 for ids in encoded)
        assert any(len(ids) < 24 for ids in encoded)
        self.assertAllEqual(outputs[-1], [2, 3] + [0] * 22)
        # Padding (the `<pad>` control piece) decodes to nothing.
        assert tokenizer.detokenize(outputs)[-1] == ""

    def test_vocabulary_accessors(self, protos, model_type):
        proto = protos[model_type]
        processor = _processor(proto)
        tokenizer = SentencePieceTokenizer(proto=proto)
        vocab = tokenizer.get_vocabulary()
        assert vocab == [processor.id_to_piece(i) for i in range(1000)]
        assert vocab[:4] == ["<pad>", "<unk>", "<s>", "</s>"]
        assert tokenizer.vocabulary_size() == 1000
        for i in (0, 3, 500, 999):
            assert tokenizer.id_to_token(i) == vocab[i]
            assert tokenizer.token_to_id(vocab[i]) == i
        # As in SentencePiece, unknown pieces map to the unknown id.
        assert tokenizer.token_to_id("not a piece") == 1
        with pytest.raises(ValueError, match=r"\[0, 999\].*id=1000"):
            tokenizer.id_to_token(1000)
        with pytest.raises(ValueError, match="id=-1"):
            tokenizer.id_to_token(-1)
        with pytest.raises(ValueError, match="must be an int"):
            tokenizer.id_to_token("5")
        with pytest.raises(ValueError, match="must be a str"):
            tokenizer.token_to_id(5)


@pytest.fixture(scope="module")
def proto(protos):
    return protos["unigram"]


class TestSentencePieceTokenizer(TestCase):
    def test_input_kinds(self, proto):
        tokenizer = SentencePieceTokenizer(proto=proto)
        expected = _processor(proto).encode(["a great film", "the end"])
        assert tokenizer("a great film") == expected[0]
        assert tokenizer(tf.constant("a great film")) == expected[0]
        assert tokenizer(np.array(["a great film", "the end"])) == expected
        assert tokenizer(tf.constant(["a great film", "the end"])) == expected
        # Rank 2 dense and ragged inputs keep their structure.
        rank_2 = tokenizer(tf.constant([["a great film", "the end"]]))
        assert rank_2 == [expected]
        assert tokenizer([["a great film"], ["the end", ""]]) == [
            [expected[0]],
            [expected[1], []],
        ]
        assert tokenizer([]) == []

    def test_unbatched_dense_and_int64(self, proto):
        tokenizer = SentencePieceTokenizer(
            proto=proto, sequence_length=6, dtype="int64"
        )
        outputs = tokenizer("the end")
        assert tuple(outputs.shape) == (6,)
        expected = _processor(proto).encode("the end")
        self.assertAllEqual(outputs, (expected + [0] * 6)[:6])
        if keras.backend.backend() != "jax":
            # JAX without x64 mode stores int64 arrays as int32.
            assert keras.backend.standardize_dtype(outputs.dtype) == "int64"
        graph = tf.function(tokenizer)(tf.constant(["the end"]))
        assert graph.dtype == tf.int64
        assert tokenizer.detokenize(outputs) == "the end"

    def test_tf_data_batched_and_unbatched(self, proto):
        texts = list(rotten_tomatoes_texts(8)) + [""]
        for kwargs in (
            {},
            {"sequence_length": 10, "add_eos": True},
            {"dtype": "string"},
            {"dtype": "string", "sequence_length": 4},
        ):
            tokenizer = SentencePieceTokenizer(proto=proto, **kwargs)
            eager = _to_python(tokenizer(texts))
            ds = tf.data.Dataset.from_tensor_slices(texts)
            unbatched = [_to_python(x) for x in ds.map(tokenizer)]
            batched = [_to_python(x) for x in ds.batch(5).map(tokenizer)]
            assert unbatched == eager
            assert batched[0] + batched[1] == eager
        processor = _processor(proto)
        tokenizer = SentencePieceTokenizer(proto=proto)
        ds = tf.data.Dataset.from_tensor_slices(texts).map(tokenizer)
        assert [list(x) for x in ds.as_numpy_iterator()] == processor.encode(
            texts
        )
        # Detokenize inside tf.data too, unbatched and batched.
        expected = [
            t.encode() for t in processor.decode(processor.encode(texts))
        ]
        assert list(ds.map(tokenizer.detokenize).as_numpy_iterator()) == (
            expected
        )
        ds = ds.ragged_batch(4).map(tokenizer.detokenize)
        assert [x for b in ds.as_numpy_iterator() for x in b] == expected

    def test_tf_function_outputs_tf_tensors(self, proto):
        tokenizer = SentencePieceTokenizer(proto=proto)
        outputs = tf.function(tokenizer)(tf.constant(["the end", "a"]))
        assert isinstance(outputs, tf.RaggedTensor)
        assert outputs.to_list() == _processor(proto).encode(["the end", "a"])

    def test_detokenize_inputs(self, proto):
        tokenizer = SentencePieceTokenizer(proto=proto)
        ids = tokenizer(["the end", "a film"])
        assert tokenizer.detokenize(ids[0]) == "the end"
        assert tokenizer.detokenize(np.array(ids[0])) == "the end"
        dense = keras.ops.convert_to_tensor([ids[0] + [0, 0]])
        assert tokenizer.detokenize(dense) == ["the end"]
        assert tokenizer.detokenize(tf.ragged.constant(ids)) == [
            "the end",
            "a film",
        ]
        assert tokenizer.detokenize([]) == ""
        assert tokenizer.detokenize([[], ids[1]]) == ["", "a film"]
        with pytest.raises(ValueError, match=r"token id 1000, outside"):
            tokenizer.detokenize([5, 1000])
        with pytest.raises(ValueError, match=r"token id -1, outside"):
            tokenizer.detokenize([[5], [-1]])
        with pytest.raises(ValueError, match="integer token ids"):
            tokenizer.detokenize([[1.5]])
        with pytest.raises(ValueError, match="not a single value"):
            tokenizer.detokenize(5)

    def test_proto_from_path_and_base64(self, proto, tmp_path):
        path = tmp_path / "model.spm"
        path.write_bytes(proto)
        expected = _processor(proto).encode("the end")
        for value in (str(path), path, base64.b64encode(proto).decode()):
            tokenizer = SentencePieceTokenizer(proto=value)
            assert tokenizer.proto == proto
            assert tokenizer("the end") == expected

    def test_bad_proto_errors(self, tmp_path):
        with pytest.raises(ValueError, match="not a valid serialized"):
            SentencePieceTokenizer(proto=b"not a model")
        with pytest.raises(ValueError, match="is empty"):
            SentencePieceTokenizer(proto=b"")
        with pytest.raises(FileNotFoundError, match="model file not found"):
            SentencePieceTokenizer(proto=str(tmp_path / "missing.spm"))
        with pytest.raises(ValueError, match=r"Received: int"):
            SentencePieceTokenizer(proto=123)
        with pytest.raises(ValueError, match="`dtype` must be an integer"):
            SentencePieceTokenizer(dtype="float32")
        with pytest.raises(ValueError, match="`sequence_length` must be"):
            SentencePieceTokenizer(sequence_length=0)

    def test_no_proto_yet(self, proto):
        tokenizer = SentencePieceTokenizer()
        assert tokenizer.proto is None
        for call in (
            lambda: tokenizer("a"),
            lambda: tokenizer.detokenize([1]),
            tokenizer.get_vocabulary,
            tokenizer.vocabulary_size,
            lambda: tokenizer.id_to_token(1),
            lambda: tokenizer.token_to_id("a"),
        ):
            with pytest.raises(ValueError, match="load_assets"):
                call()
        tokenizer.set_proto(proto)
        assert tokenizer("the end") == _processor(proto).encode("the end")

    def test_config_excludes_proto(self, proto):
        tokenizer = SentencePieceTokenizer(
            proto=proto, sequence_length=5, add_bos=True, name="sp"
        )
        config = tokenizer.get_config()
        assert config["proto"] is None
        assert config["sequence_length"] == 5 and config["add_bos"] is True
        revived = SentencePieceTokenizer.from_config(config)
        assert revived.proto is None
        assert revived.get_config() == config

    def test_assets_and_preset_round_trip(self, proto, tmp_path):
        tokenizer = SentencePieceTokenizer(
            proto=proto, sequence_length=7, add_bos=True, add_eos=True
        )
        tokenizer.save_assets(str(tmp_path))
        assert (tmp_path / "vocabulary.spm").read_bytes() == proto
        assert os.listdir(tmp_path) == ["vocabulary.spm"]
        loaded = SentencePieceTokenizer()
        loaded.load_assets(str(tmp_path))
        assert loaded.proto == proto

        preset = tmp_path / "preset"
        tokenizer.save_to_preset(str(preset))
        assert (preset / "assets" / "tokenizer" / "vocabulary.spm").exists()
        texts = ["a great film", "the end"]
        for cls in (Tokenizer, SentencePieceTokenizer):
            revived = cls.from_preset(str(preset))
            assert type(revived) is SentencePieceTokenizer
            assert revived.proto == proto
            assert revived.get_config() == tokenizer.get_config()
            self.assertAllEqual(revived(texts), tokenizer(texts))
        overridden = SentencePieceTokenizer.from_preset(
            str(preset), sequence_length=3
        )
        assert tuple(overridden(texts).shape) == (2, 3)


@pytest.fixture(scope="module")
def processor(proto):
    return _processor(proto)


# Any Unicode text but surrogates (not encodable as UTF-8).
TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200
)


class TestSentencePieceTokenizerProperties(TestCase):
    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(texts=st.lists(TEXT, min_size=1, max_size=4))
    def test_arbitrary_unicode_equals_sentencepiece(
        self, proto, processor, texts
    ):
        tokenizer = SentencePieceTokenizer(proto=proto, add_eos=True)
        ids = tokenizer(texts)
        assert ids == processor.encode(texts, add_eos=True)
        assert tokenizer.detokenize(ids) == processor.decode(ids)

    def test_very_long_string(self, proto, processor):
        text = " ".join(imdb_texts(300)[:200])[:100_000]
        assert len(text) == 100_000
        tokenizer = SentencePieceTokenizer(proto=proto)
        ids = tokenizer(text)
        assert ids == processor.encode(text)
        assert tokenizer.detokenize(ids) == processor.decode(ids)
