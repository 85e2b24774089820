"""Tests of the BERT recipe in examples/bert/ (pretrain, then fine-tune)."""

import importlib.util
import math
import os
import sys

import keras
import numpy as np
import pytest

from tests.examples.examples_loader import EXAMPLES_DIR

BERT_DIR = os.path.join(EXAMPLES_DIR, "bert")


def import_bert(name):
    """Imports `examples/bert/<name>.py` once and returns the module."""
    module_name = f"examples_bert_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(
        module_name, os.path.join(BERT_DIR, f"{name}.py")
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


pretrain = import_bert("bert_pretrain")
finetune = import_bert("bert_finetune_imdb")
bert_model = import_bert("bert_model")


@pytest.fixture
def single_torch_thread():
    """Runs PyTorch's CPU kernels on one thread for the test, then restores.

    On a machine whose cores other jobs share, PyTorch's multithreaded
    kernels slow down many times over (see examples/bert/README.md); one
    thread keeps this test's time steady. Other backends are untouched.
    """
    if keras.backend.backend() != "torch":
        yield
        return
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@pytest.mark.large
def test_pretrain_then_finetune(tmp_path, capsys, single_torch_thread):
    import keras_nlp_clone as keras_nlp

    backend = keras.backend.backend()
    preset_dir = str(tmp_path / "pretrained")
    metrics = pretrain.main(
        [
            "--backend", backend,
            "--num_train_documents", "24",
            "--num_vocabulary_documents", "8",
            "--vocabulary_size", "300",
            "--sequence_length", "32",
            "--batch_size", "16",
            "--num_steps", "30",
            "--eval_every", "15",
            "--learning_rate", "3e-3",
            "--num_validation_batches", "4",
            "--output_dir", preset_dir,
            "--verbose", "0",
        ]
    )
    out = capsys.readouterr().out
    for key in (
        "initial_val_loss", "initial_val_accuracy", "val_loss", "val_accuracy",
        "unigram_loss", "unigram_accuracy", "final_train_loss",
        "train_seconds", "steps_per_second",
    ):
        assert math.isfinite(metrics[key]), (key, metrics[key])
    vocabulary_size = metrics["vocabulary_size"]
    assert 100 < vocabulary_size <= 300
    # The untrained model guesses about uniformly over the vocabulary...
    assert metrics["initial_val_loss"] == pytest.approx(
        math.log(vocabulary_size), abs=0.5
    )
    # ...and 30 steps of pretraining lower the loss on the same, fixed
    # held-out masks by a wide margin.
    assert metrics["val_loss"] < metrics["initial_val_loss"] - 0.4, metrics
    # 4 batches of 16 sequences, at most 5 masks each (ceil(32 * 0.15)).
    assert 0 < metrics["num_val_predictions"] <= 4 * 16 * 5
    assert "held-out MLM loss:" in out

    # The preset reloads: tokenizer, backbone, and a classifier on top.
    for name in ("config.json", "model.weights.h5", "tokenizer.json"):
        assert os.path.exists(os.path.join(preset_dir, name)), name
    tokenizer = keras_nlp.models.BertTokenizer.from_preset(preset_dir)
    assert tokenizer.vocabulary_size() == vocabulary_size
    ids = tokenizer("The president said on Tuesday")
    assert tokenizer.token_to_id("[UNK]") not in list(ids)
    backbone = keras_nlp.models.BertBackbone.from_preset(preset_dir)
    assert backbone.vocabulary_size == vocabulary_size
    assert backbone.max_sequence_length == 32
    assert backbone.num_layers == 2 and backbone.hidden_dim == 128
    classifier = keras_nlp.models.BertClassifier.from_preset(
        preset_dir, num_classes=2
    )
    assert classifier.predict(["A fine film.", "Dull."], verbose=0).shape == (2, 2)

    result = finetune.main(
        [
            "--backend", backend,
            "--pretrained_dir", preset_dir,
            "--num_train", "48",
            "--num_test", "32",
            "--sequence_length", "32",
            "--batch_size", "16",
            "--epochs", "1",
            "--verbose", "0",
        ]
    )
    out = capsys.readouterr().out
    assert result["num_train"] == 48 and result["num_test"] == 32
    assert result["pretrained"] is True
    # 32 reviews: accuracy is a multiple of 1/32.
    assert 0.0 <= result["accuracy"] <= 1.0
    assert result["accuracy"] * 32 == pytest.approx(round(result["accuracy"] * 32))
    assert "held-out accuracy:" in out and "pretrained backbone" in out

    with pytest.raises(ValueError, match="max_sequence_length"):
        finetune.main(
            ["--backend", backend, "--pretrained_dir", preset_dir,
             "--sequence_length", "64", "--verbose", "0"]
        )


def test_pipeline_packs_and_masks():
    """Sequences are [CLS] + contiguous tokens + [SEP]; labels are exact."""
    import keras_nlp_clone as keras_nlp

    vocab = ["[PAD]", "[CLS]", "[SEP]", "[UNK]", "[MASK]"] + list(
        "abcdefghijklmnopqrstuvwxyz"
    ) + ["##" + c for c in "abcdefghijklmnopqrstuvwxyz"]
    tokenizer = keras_nlp.models.BertTokenizer(vocabulary=vocab, lowercase=True)
    # One chunk of articles exactly.
    docs = ["The cat sat on the mat.", "Dogs bark", "A quick brown fox!"] * 5
    docs.append("The end")
    assert len(docs) == pretrain.DOCUMENTS_PER_CHUNK
    stream = []
    for doc in docs:
        stream += list(tokenizer(doc)) + [tokenizer.sep_token_id]
    row = 10 - 2
    expected = [
        [1] + stream[i * row : (i + 1) * row] + [2]
        for i in range(len(stream) // row)
    ]

    def masker(rate):
        return keras_nlp.layers.MaskedLMMaskGenerator(
            vocabulary_size=len(vocab),
            mask_selection_rate=rate,
            mask_token_id=tokenizer.mask_token_id,
            mask_selection_length=4,
            unselectable_token_ids=[0, 1, 2],
            mask_token_rate=1.0,
            random_token_rate=0.0,
        )

    ds = pretrain.make_pretraining_dataset(
        docs, tokenizer, masker(0.5), 10, 4, training=False
    )
    x, y, w = pretrain.materialize(ds, 100)
    assert x["token_ids"].shape[1] == 10 and x["mask_positions"].shape[1] == 4
    assert x["token_ids"].dtype == np.int32
    assert (x["segment_ids"] == 0).all() and (x["padding_mask"] == 1).all()
    n = len(x["token_ids"])
    assert n == 4 * (len(expected) // 4)  # full batches only
    # Put the labels back where they were masked: the original sequences.
    restored = x["token_ids"].copy()
    for i in range(n):
        for position, label, weight in zip(x["mask_positions"][i], y[i], w[i]):
            if weight:
                assert restored[i, position] == tokenizer.mask_token_id
                assert label not in (0, 1, 2)
                restored[i, position] = label
    np.testing.assert_array_equal(restored, np.array(expected[:n]))
    assert w.sum() > 0 and set(np.unique(w)) <= {0.0, 1.0}
    loss, accuracy = pretrain.unigram_baseline(y, w)
    assert 0.0 < loss and 0.0 < accuracy <= 1.0


def test_unigram_baseline():
    labels = np.array([[5, 5, 7, 0], [5, 9, 0, 0]])
    weights = np.array([[1, 1, 1, 0], [1, 1, 0, 0]], "float32")
    loss, accuracy = pretrain.unigram_baseline(labels, weights)
    assert accuracy == pytest.approx(0.6)
    expected = -(0.6 * math.log(0.6) + 2 * 0.2 * math.log(0.2))
    assert loss == pytest.approx(expected)


def test_warmup_linear_decay():
    schedule = bert_model.WarmupLinearDecay(1.0, total_steps=10, warmup_steps=2)
    values = [float(keras.ops.convert_to_numpy(schedule(s))) for s in range(12)]
    np.testing.assert_allclose(
        values, [0, 0.5, 1, 0.875, 0.75, 0.625, 0.5, 0.375, 0.25, 0.125, 0, 0],
        atol=1e-6,
    )
    with pytest.raises(ValueError):
        bert_model.WarmupLinearDecay(1.0, total_steps=5, warmup_steps=5)


def test_flags():
    args = pretrain.parse_args([])
    assert args.sequence_length == 128 and args.mask_selection_length == 20
    assert pretrain.parse_args(["--sequence_length", "512"]).mask_selection_length == 77
    for bad in (
        ["--num_steps", "0"],
        ["--model_size", "huge"],
        ["--sequence_length", "4"],
        ["--num_steps", "600", "--eval_every", "500"],
    ):
        with pytest.raises(SystemExit):
            pretrain.parse_args(bad)
    with pytest.raises(SystemExit):
        finetune.parse_args(["--num_test", "6000"])
    assert finetune.parse_args([]).pretrained_dir == pretrain.DEFAULT_OUTPUT_DIR


def test_finetune_without_preset_says_what_to_run(tmp_path):
    with pytest.raises(FileNotFoundError, match="bert_pretrain.py"):
        finetune.main(
            ["--backend", keras.backend.backend(),
             "--pretrained_dir", str(tmp_path / "missing")]
        )
