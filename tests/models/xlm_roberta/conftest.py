"""Tiny XLM-RoBERTa fixtures shared by the XLM-RoBERTa tests.

The SentencePiece model is a small unigram model trained on the first 300
IMDB reviews with SentencePiece's default layout (`<unk>` = 0, `<s>` = 1,
`</s>` = 2, no pad piece), the layout of XLM-RoBERTa's
`sentencepiece.bpe.model`.
"""

import io

import numpy as np
import pytest

from tests import real_data
from tests.models.roberta.conftest import make_hf_checkpoints

NUM_PIECES = 800
VOCABULARY_SIZE = NUM_PIECES + 2  # fairseq's offset of 1, and `<mask>`


def train_sentence_piece(texts, vocab_size, **options):
    import sentencepiece

    writer = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(texts),
        model_writer=writer,
        vocab_size=vocab_size,
        **{
            "model_type": "unigram",
            "character_coverage": 1.0,
            "num_threads": 1,
            "minloglevel": 2,
            **options,
        },
    )
    return writer.getvalue()


@pytest.fixture(scope="session")
def xlm_proto():
    return train_sentence_piece(real_data.imdb_texts(300), NUM_PIECES)


@pytest.fixture
def tiny_tokenizer(xlm_proto):
    from keras_nlp_clone.models import XLMRobertaTokenizer

    return XLMRobertaTokenizer(proto=xlm_proto)


@pytest.fixture
def tiny_backbone_kwargs():
    return dict(
        vocabulary_size=VOCABULARY_SIZE,
        num_layers=2,
        num_heads=4,
        hidden_dim=16,
        intermediate_dim=32,
        max_sequence_length=16,
    )


@pytest.fixture
def tiny_backbone(tiny_backbone_kwargs):
    from keras_nlp_clone.models import XLMRobertaBackbone

    return XLMRobertaBackbone(**tiny_backbone_kwargs)


@pytest.fixture
def tiny_inputs():
    token_ids = np.array(
        [[0, 70, 71, 72, 2, 1, 1, 1], [0, 73, 74, 2, 2, 75, 2, 1]], "int32"
    )
    return {"token_ids": token_ids, "padding_mask": (token_ids != 1).astype("int32")}


@pytest.fixture(scope="session")
def hf_xlm_roberta(tmp_path_factory, xlm_proto):
    """Small random Hugging Face XLM-RoBERTa checkpoints with
    `sentencepiece.bpe.model`; see `make_hf_checkpoints`."""
    import transformers

    def files(directory):
        (directory / "sentencepiece.bpe.model").write_bytes(xlm_proto)
        tokenizer = transformers.XLMRobertaTokenizer.from_pretrained(str(directory))
        tokenizer.save_pretrained(str(directory))

    return make_hf_checkpoints(
        tmp_path_factory.mktemp("hf_xlm_roberta"),
        transformers.XLMRobertaConfig,
        "XLMRoberta",
        files,
        VOCABULARY_SIZE,
    )
