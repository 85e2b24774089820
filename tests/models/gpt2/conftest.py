"""Tiny GPT-2 fixtures shared by the GPT-2 tests.

The tiny byte-level vocabulary holds the 256 byte symbols, the tokens of
left-to-right merge chains for a few words, and `<|endoftext|>` last (as in
GPT-2, where it is id 50256), so any text can be tokenized.
"""

import json

import numpy as np
import pytest

from keras_nlp_clone.tokenizers.byte_pair_tokenizer import bytes_to_unicode

WORDS = [
    "the", "Ġthe", "Ġquick", "Ġbrown", "Ġfox", "Ġjumped", "Ġover", "Ġlazy",
    "Ġdog", "Ġa", "Ġis", "Ġit",
]
HIDDEN_DIM = 16


def _tiny_vocabulary_and_merges():
    merges = []
    for word in WORDS:
        symbols = list(word)
        while len(symbols) > 1:
            rule = f"{symbols[0]} {symbols[1]}"
            if rule not in merges:
                merges.append(rule)
            symbols = [symbols[0] + symbols[1]] + symbols[2:]
    tokens = list(bytes_to_unicode().values())
    for rule in merges:
        merged = rule.replace(" ", "")
        if merged not in tokens:
            tokens.append(merged)
    tokens.append("<|endoftext|>")
    return {token: i for i, token in enumerate(tokens)}, merges


TINY_VOCAB, TINY_MERGES = _tiny_vocabulary_and_merges()
EOT = TINY_VOCAB["<|endoftext|>"]


@pytest.fixture
def tiny_tokenizer():
    from keras_nlp_clone.models import GPT2Tokenizer

    return GPT2Tokenizer(vocabulary=dict(TINY_VOCAB), merges=list(TINY_MERGES))


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
    from keras_nlp_clone.models import GPT2Backbone

    return GPT2Backbone(**tiny_backbone_kwargs)


@pytest.fixture
def tiny_inputs():
    token_ids = np.array(
        [[EOT, 260, 261, 262, EOT, EOT, EOT, EOT], [EOT, 263, 5, 40, 264, 7, 9, EOT]],
        "int32",
    )
    padding_mask = np.array([[1] * 5 + [0] * 3, [1] * 8], "int32")
    return {"token_ids": token_ids, "padding_mask": padding_mask}


def write_tokenizer_files(directory, vocabulary, merges):
    """Writes `vocab.json` and `merges.txt` as Hugging Face does."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "vocab.json").write_text(
        json.dumps(vocabulary, ensure_ascii=False), encoding="utf-8"
    )
    (directory / "merges.txt").write_text(
        "#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8"
    )


@pytest.fixture(scope="session")
def hf_gpt2(tmp_path_factory):
    """Small random Hugging Face `GPT2Model` and `GPT2LMHeadModel`
    checkpoints (hidden 16, 2 layers, 4 heads, 32 positions) with the tiny
    tokenizer files. Every parameter gets extra noise (std 0.1), so that
    layer norms and biases are not at their trivial initial values.

    Returns:
        dict: class name -> `(directory, model)`.
    """
    import torch
    import transformers

    root = tmp_path_factory.mktemp("hf_gpt2")
    config = transformers.GPT2Config(
        vocab_size=len(TINY_VOCAB),
        n_positions=32,
        n_embd=HIDDEN_DIM,
        n_layer=2,
        n_head=4,
        bos_token_id=EOT,
        eos_token_id=EOT,
    )
    checkpoints = {}
    for name in ("GPT2Model", "GPT2LMHeadModel"):
        torch.manual_seed(0)
        model = getattr(transformers, name)(config).eval()
        with torch.no_grad():
            for parameter in model.parameters():
                parameter.add_(0.1 * torch.randn_like(parameter))
        directory = root / name
        model.save_pretrained(directory)
        write_tokenizer_files(directory, TINY_VOCAB, TINY_MERGES)
        checkpoints[name] = (str(directory), model)
    return checkpoints


def hf_hidden_states(model, token_ids, padding_mask):
    """Runs a Hugging Face GPT-2 model without gradients; returns the last
    hidden states as NumPy."""
    import torch

    with torch.no_grad():
        outputs = model(
            input_ids=torch.tensor(token_ids, dtype=torch.long),
            attention_mask=torch.tensor(padding_mask, dtype=torch.long),
            output_hidden_states=True,
        )
    return outputs.hidden_states[-1].numpy()
