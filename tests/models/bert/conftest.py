"""Tiny BERT fixtures shared by the BERT tests."""

import numpy as np
import pytest

TINY_VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [
    "the", "quick", "brown", "fox", "jumped", "over", "lazy", "dog", ".",
    "great", "movie", "awful", "film", "!", "a", "bad", "good", "##s",
]


@pytest.fixture
def tiny_vocab():
    return list(TINY_VOCAB)


@pytest.fixture
def tiny_tokenizer(tiny_vocab):
    from keras_nlp_clone.models import BertTokenizer

    return BertTokenizer(vocabulary=tiny_vocab, lowercase=True)


@pytest.fixture
def tiny_backbone_kwargs(tiny_vocab):
    return dict(
        vocabulary_size=len(tiny_vocab),
        num_layers=2,
        num_heads=2,
        hidden_dim=8,
        intermediate_dim=16,
        max_sequence_length=16,
    )


@pytest.fixture
def tiny_backbone(tiny_backbone_kwargs):
    from keras_nlp_clone.models import BertBackbone

    return BertBackbone(**tiny_backbone_kwargs)


@pytest.fixture
def tiny_inputs():
    token_ids = np.array(
        [[2, 5, 6, 7, 3, 0, 0, 0], [2, 8, 9, 3, 10, 11, 3, 0]], "int32"
    )
    return {
        "token_ids": token_ids,
        "segment_ids": np.array(
            [[0] * 8, [0, 0, 0, 0, 1, 1, 1, 0]], "int32"
        ),
        "padding_mask": (token_ids != 0).astype("int32"),
    }


@pytest.fixture
def hf_bert_checkpoint(tmp_path, tiny_vocab):
    """Writes a small random Hugging Face BERT checkpoint directory.

    Returns a function `make(model_class_name, **config)` that saves
    `transformers.<model_class_name>` with a tiny config and our tiny vocab
    and returns `(directory, hf_model)`.
    """
    import torch
    import transformers

    def make(model_class_name="BertModel", **config_overrides):
        config = dict(
            vocab_size=len(tiny_vocab),
            hidden_size=16,
            num_hidden_layers=2,
            num_attention_heads=4,
            intermediate_size=32,
            max_position_embeddings=32,
        )
        config.update(config_overrides)
        torch.manual_seed(0)
        model = getattr(transformers, model_class_name)(
            transformers.BertConfig(**config)
        ).eval()
        directory = tmp_path / f"hf_{model_class_name}"
        model.save_pretrained(directory)
        (directory / "vocab.txt").write_text("\n".join(tiny_vocab) + "\n")
        return str(directory), model

    return make
