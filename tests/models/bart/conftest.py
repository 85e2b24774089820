"""Tiny BART fixtures shared by the BART tests.

The tiny byte-level vocabulary holds BART's (RoBERTa's) special tokens at
ids 0-3, the 256 byte symbols, the tokens of left-to-right merge chains for
a few words, and `<mask>` last, so any text can be tokenized (by us and by
Hugging Face).
"""

import json
import shutil

import numpy as np
import pytest

from keras_nlp_clone.tokenizers.byte_pair_tokenizer import bytes_to_unicode
from tests import real_data

WORDS = [
    "the", "Ġthe", "Ġquick", "Ġbrown", "Ġfox", "Ġjumped", "Ġover", "Ġlazy",
    "Ġdog", "Ġgreat", "Ġmovie", "Ġawful", "Ġfilm", "Ġgood", "Ġbad", "Ġa",
    "Ġis", "Ġwas", "Ġit", "Ġand", "Ġof", "Ġto", "Ġthis", "Ġin",
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
    tokens = ["<s>", "<pad>", "</s>", "<unk>"]
    tokens += list(bytes_to_unicode().values())
    for rule in merges:
        merged = rule.replace(" ", "")
        if merged not in tokens:
            tokens.append(merged)
    tokens.append("<mask>")
    return {token: i for i, token in enumerate(tokens)}, merges


TINY_VOCAB, TINY_MERGES = _tiny_vocabulary_and_merges()


@pytest.fixture
def tiny_tokenizer():
    from keras_nlp_clone.models import BartTokenizer

    return BartTokenizer(vocabulary=dict(TINY_VOCAB), merges=list(TINY_MERGES))


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
    from keras_nlp_clone.models import BartBackbone

    return BartBackbone(**tiny_backbone_kwargs)


def padded_inputs():
    """A right-padded batch of two (`<pad>` is 1): encoder rows of 4 and 8
    real tokens, decoder rows of 3 and 6 real tokens starting with
    `</s><s>`."""
    encoder = np.array(
        [[0, 280, 281, 2, 1, 1, 1, 1], [0, 283, 284, 5, 40, 285, 300, 2]], "int32"
    )
    decoder = np.array([[2, 0, 290, 1, 1, 1], [2, 0, 291, 7, 9, 260]], "int32")
    return {
        "encoder_token_ids": encoder,
        "encoder_padding_mask": (encoder != 1).astype("int32"),
        "decoder_token_ids": decoder,
        "decoder_padding_mask": (decoder != 1).astype("int32"),
    }


@pytest.fixture
def tiny_inputs():
    return padded_inputs()


def write_tokenizer_files(directory, vocabulary, merges):
    """Writes `vocab.json` and `merges.txt` as Hugging Face does."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "vocab.json").write_text(
        json.dumps(vocabulary, ensure_ascii=False), encoding="utf-8"
    )
    (directory / "merges.txt").write_text(
        "#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8"
    )


def hf_bart_config(**overrides):
    """The tiny Hugging Face `BartConfig`: hidden 16, 2 + 2 layers, 4 heads,
    feed-forward 32, 32 positions, the tiny vocabulary."""
    import transformers

    kwargs = dict(
        vocab_size=len(TINY_VOCAB),
        d_model=HIDDEN_DIM,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=4,
        decoder_attention_heads=4,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        max_position_embeddings=32,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
        decoder_start_token_id=2,
    )
    kwargs.update(overrides)
    return transformers.BartConfig(**kwargs)


def make_hf_bart(directory, class_name="BartModel", seed=0, noise=0.1, **overrides):
    """Saves a small random Hugging Face BART model (`class_name`) with the
    tiny tokenizer files to `directory`.

    Every parameter gets extra noise (std `noise`), so that layer norms,
    biases and the unused position rows are not at their trivial initial
    values (the position rows 0 and 1 of Hugging Face's tables get it too:
    were they read instead of the offset rows, the outputs would differ).
    `final_logits_bias` (a buffer) stays zero.

    Returns:
        `(str(directory), model)`, the model in eval mode.
    """
    import torch
    import transformers

    torch.manual_seed(seed)
    model = getattr(transformers, class_name)(hf_bart_config(**overrides)).eval()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(noise * torch.randn_like(parameter))
    model.save_pretrained(directory)
    write_tokenizer_files(directory, TINY_VOCAB, TINY_MERGES)
    return str(directory), model


@pytest.fixture(scope="session")
def hf_bart(tmp_path_factory):
    """Small random `BartModel` and `BartForConditionalGeneration`
    checkpoints; see `make_hf_bart`. Returns a dict class name ->
    `(directory, model)`."""
    root = tmp_path_factory.mktemp("hf_bart")
    return {
        name: make_hf_bart(root / name, name)
        for name in ("BartModel", "BartForConditionalGeneration")
    }


def hf_bart_outputs(model, inputs):
    """Runs a Hugging Face BART model on our input dict without gradients."""
    import torch

    def t(key):
        return torch.tensor(np.asarray(inputs[key]), dtype=torch.long)

    with torch.no_grad():
        return model(
            input_ids=t("encoder_token_ids"),
            attention_mask=t("encoder_padding_mask"),
            decoder_input_ids=t("decoder_token_ids"),
            decoder_attention_mask=t("decoder_padding_mask"),
            use_cache=False,
        )


@pytest.fixture(scope="session")
def gpt2_bart_dir(tmp_path_factory):
    """A BART-style vocabulary built from the real GPT-2 files.

    BART uses RoBERTa's vocabulary: GPT-2's merges with fairseq ids. To test
    that the ids come from `vocab.json` and not from GPT-2's order, the
    vocabulary here puts `<s>`, `<pad>`, `</s>`, `<unk>` at 0-3, every GPT-2
    token at `4 + permutation[gpt2_id]` for a fixed permutation (NumPy
    `default_rng(1)`), and `<mask>` last (50261), as in BART.
    """
    with open(real_data.gpt2_vocabulary_path(), encoding="utf-8") as f:
        gpt2 = json.load(f)
    permutation = np.random.default_rng(1).permutation(len(gpt2))
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for token, gpt2_id in gpt2.items():
        vocab[token] = 4 + int(permutation[gpt2_id])
    vocab["<mask>"] = len(vocab)
    directory = tmp_path_factory.mktemp("gpt2_bart")
    (directory / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    shutil.copy(real_data.gpt2_merges_path(), directory / "merges.txt")
    # Enough of a Hugging Face checkpoint to load a tokenizer from.
    (directory / "config.json").write_text(json.dumps({"model_type": "bart"}))
    return directory
