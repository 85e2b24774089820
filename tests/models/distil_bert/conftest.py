"""Tiny DistilBERT fixtures shared by the DistilBERT tests."""

import numpy as np
import pytest

TINY_VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [
    "the",
    "quick",
    "brown",
    "fox",
    "jumped",
    "over",
    "lazy",
    "dog",
    ".",
    "great",
    "movie",
    "awful",
    "film",
    "!",
    "a",
    "bad",
    "good",
    "##s",
]


@pytest.fixture
def tiny_vocab():
    return list(TINY_VOCAB)


@pytest.fixture
def tiny_tokenizer(tiny_vocab):
    from keras_nlp_clone.models import DistilBertTokenizer

    return DistilBertTokenizer(vocabulary=tiny_vocab, lowercase=True)


@pytest.fixture
def tiny_backbone_kwargs(tiny_vocab):
    return dict(
        vocabulary_size=len(tiny_vocab),
        # One layer keeps the compiled train steps small; the conversion
        # tests' checkpoints stack two.
        num_layers=1,
        num_heads=2,
        hidden_dim=8,
        intermediate_dim=16,
        max_sequence_length=16,
    )


@pytest.fixture
def tiny_backbone(tiny_backbone_kwargs):
    from keras_nlp_clone.models import DistilBertBackbone

    return DistilBertBackbone(**tiny_backbone_kwargs)


@pytest.fixture
def tiny_inputs():
    token_ids = np.array(
        [[2, 5, 6, 7, 3, 0, 0, 0], [2, 8, 9, 3, 10, 11, 3, 0]], "int32"
    )
    return {"token_ids": token_ids, "padding_mask": (token_ids != 0).astype("int32")}


# Two rows of different lengths, both padded; `[MASK]` (4) in each.
HF_TOKEN_IDS = np.array(
    [[2, 5, 4, 7, 13, 3, 0, 0, 0], [2, 8, 9, 4, 10, 11, 12, 3, 0]], "int32"
)


@pytest.fixture(scope="module")
def hf_distil_bert_checkpoint(tmp_path_factory):
    """Writes small random Hugging Face DistilBERT checkpoint directories.

    Returns a function `make(model_class_name, **config)` that saves
    `transformers.<model_class_name>` with a tiny config (dim 16, 2 layers,
    4 heads, hidden 32), our tiny `vocab.txt` and a DistilBERT
    `tokenizer_config.json`, and returns `(directory, hf_model)`. Each
    checkpoint is written once per test module.
    """
    import json

    import torch
    import transformers

    cache = {}

    def make(model_class_name="DistilBertModel", **config_overrides):
        key = (model_class_name, tuple(sorted(config_overrides.items())))
        if key in cache:
            return cache[key]
        config = dict(
            vocab_size=len(TINY_VOCAB),
            dim=16,
            n_layers=2,
            n_heads=4,
            hidden_dim=32,
            max_position_embeddings=32,
        )
        config.update(config_overrides)
        torch.manual_seed(0)
        model = getattr(transformers, model_class_name)(
            transformers.DistilBertConfig(**config)
        ).eval()
        # Random biases and layer norms too (the default init has zeros and
        # ones), so that a misplaced tensor cannot go unnoticed. Tied
        # tensors are listed once and stay tied.
        with torch.no_grad():
            for parameter in model.parameters():
                parameter.add_(0.1 * torch.randn_like(parameter))
        directory = tmp_path_factory.mktemp(f"hf_{model_class_name}")
        model.save_pretrained(directory)
        (directory / "vocab.txt").write_text("\n".join(TINY_VOCAB) + "\n")
        (directory / "tokenizer_config.json").write_text(
            json.dumps(
                {"do_lower_case": True, "tokenizer_class": "DistilBertTokenizer"}
            )
        )
        cache[key] = (str(directory), model)
        return cache[key]

    return make


def hf_outputs(hf_model, token_ids):
    """Runs a `transformers` model on `token_ids` with the padding mask."""
    import torch

    with torch.no_grad():
        return hf_model(
            input_ids=torch.tensor(token_ids, dtype=torch.long),
            attention_mask=torch.tensor((token_ids != 0).astype("int64")),
        )
