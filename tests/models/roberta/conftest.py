"""Tiny RoBERTa fixtures shared by the RoBERTa tests.

The tiny byte-level vocabulary holds RoBERTa's special tokens at ids 0-3, the
256 byte symbols, the tokens of left-to-right merge chains for a few words,
and `<mask>` last, so any text can be tokenized (by us and by Hugging Face).
"""

import json

import numpy as np
import pytest

from keras_nlp_clone.tokenizers.byte_pair_tokenizer import bytes_to_unicode

WORDS = [
    "the", "Ġthe", "Ġquick", "Ġbrown", "Ġfox", "Ġjumped", "Ġover", "Ġlazy",
    "Ġdog", "Ġgreat", "Ġmovie", "Ġawful", "Ġfilm", "Ġgood", "Ġbad", "Ġa",
    "Ġis", "Ġwas", "Ġit", "Ġand", "Ġof", "Ġto", "Ġthis", "Ġin",
]


def _tiny_vocabulary_and_merges():
    merges = []
    for word in WORDS:
        symbols = list(word)
        while len(symbols) > 1:
            rule = f"{symbols[0]} {symbols[1]}"
            if rule not in merges:
                merges.append(rule)
            symbols = [symbols[0] + symbols[1]] + symbols[2:]
    tokens = ["<s>", "<pad>", "</s>", "<unk>"]
    tokens += list(bytes_to_unicode().values())
    for rule in merges:
        merged = rule.replace(" ", "")
        if merged not in tokens:
            tokens.append(merged)
    tokens.append("<mask>")
    return {token: i for i, token in enumerate(tokens)}, merges


TINY_VOCAB, TINY_MERGES = _tiny_vocabulary_and_merges()
HIDDEN_DIM = 16


@pytest.fixture
def tiny_tokenizer():
    from keras_nlp_clone.models import RobertaTokenizer

    return RobertaTokenizer(vocabulary=dict(TINY_VOCAB), merges=list(TINY_MERGES))


@pytest.fixture
def tiny_backbone_kwargs():
    return dict(
        vocabulary_size=len(TINY_VOCAB),
        num_layers=2,
        num_heads=4,
        hidden_dim=HIDDEN_DIM,
        intermediate_dim=32,
        max_sequence_length=16,
    )


@pytest.fixture
def tiny_backbone(tiny_backbone_kwargs):
    from keras_nlp_clone.models import RobertaBackbone

    return RobertaBackbone(**tiny_backbone_kwargs)


@pytest.fixture
def tiny_inputs():
    # Right padding with `<pad>` (1).
    token_ids = np.array(
        [[0, 280, 281, 282, 2, 1, 1, 1], [0, 283, 284, 2, 2, 285, 2, 1]], "int32"
    )
    return {"token_ids": token_ids, "padding_mask": (token_ids != 1).astype("int32")}


def write_tokenizer_files(directory, vocabulary, merges):
    """Writes `vocab.json` and `merges.txt` as Hugging Face does."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "vocab.json").write_text(
        json.dumps(vocabulary, ensure_ascii=False), encoding="utf-8"
    )
    (directory / "merges.txt").write_text(
        "#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8"
    )


def make_hf_checkpoints(root, config_class, prefix, family_files, vocab_size):
    """Saves small random `<prefix>Model`, `<prefix>ForMaskedLM` and
    `<prefix>ForSequenceClassification` (3 labels) checkpoints under `root`,
    with the tiny config (hidden 16, 2 layers, 4 heads, 32 positions).

    Every parameter gets extra noise (std 0.1), so that layer norms, biases
    and the constant token type embedding are not at their trivial initial
    values. `family_files(directory)` writes the tokenizer files.

    Returns:
        dict: class name -> `(directory, model)`.
    """
    import torch
    import transformers

    config = config_class(
        vocab_size=vocab_size,
        hidden_size=HIDDEN_DIM,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=32,
        max_position_embeddings=34,  # 32 positions after pad_token_id + 1
        layer_norm_eps=1e-5,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
        type_vocab_size=1,
        num_labels=3,
    )
    checkpoints = {}
    for suffix in ("Model", "ForMaskedLM", "ForSequenceClassification"):
        torch.manual_seed(0)
        model = getattr(transformers, prefix + suffix)(config).eval()
        with torch.no_grad():
            for parameter in model.parameters():
                parameter.add_(0.1 * torch.randn_like(parameter))
        directory = root / (prefix + suffix)
        model.save_pretrained(directory)
        family_files(directory)
        checkpoints[prefix + suffix] = (str(directory), model)
    return checkpoints


@pytest.fixture(scope="session")
def hf_roberta(tmp_path_factory):
    """Small random Hugging Face RoBERTa checkpoints with the tiny tokenizer
    files; see `make_hf_checkpoints`."""
    import transformers

    def files(directory):
        write_tokenizer_files(directory, TINY_VOCAB, TINY_MERGES)
        tokenizer = transformers.RobertaTokenizer.from_pretrained(str(directory))
        tokenizer.save_pretrained(str(directory))

    return make_hf_checkpoints(
        tmp_path_factory.mktemp("hf_roberta"),
        transformers.RobertaConfig,
        "Roberta",
        files,
        len(TINY_VOCAB),
    )


def hf_outputs(model, token_ids, padding_mask):
    """Runs a Hugging Face model without gradients; returns its output."""
    import torch

    with torch.no_grad():
        return model(
            input_ids=torch.tensor(token_ids, dtype=torch.long),
            attention_mask=torch.tensor(padding_mask, dtype=torch.long),
        )
