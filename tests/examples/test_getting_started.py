"""Runs each getting-started workflow at a tiny size on the current backend.

The full-size figures are in docs/getting_started_results.md; these runs keep
every code path of `examples/getting_started/` from silently breaking.
"""

import importlib.util
import os
import sys

import keras
import numpy as np
import pytest

from tests.examples.examples_loader import EXAMPLES_DIR

GETTING_STARTED_DIR = os.path.join(EXAMPLES_DIR, "getting_started")


def load_workflow(filename):
    """Imports `examples/getting_started/<filename>` once; returns it."""
    for path in (EXAMPLES_DIR, GETTING_STARTED_DIR):
        if path not in sys.path:
            sys.path.insert(0, path)
    name = "getting_started_" + filename[:-3]
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, os.path.join(GETTING_STARTED_DIR, filename)
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture
def tiny_flags(tmp_path_factory):
    data_dir = str(tmp_path_factory.getbasetemp() / "getting_started_imdb")
    output_dir = str(tmp_path_factory.mktemp("getting_started_out"))
    return [
        "--backend", keras.backend.backend(),
        "--num_test", "16",
        "--batch_size", "8",
        "--data_dir", data_dir,
        "--output_dir", output_dir,
    ]


def _jit_flags():
    # torch.compile (what `jit_compile=True` means on PyTorch) spends
    # minutes compiling on a CPU: the tiny runs skip it there. JAX and
    # TensorFlow run the scripts' XLA path as users do.
    return ["--no_jit"] if keras.backend.backend() == "torch" else []


def _accuracy(value):
    assert 0.0 <= value <= 1.0
    return value


@pytest.mark.large
def test_inference_pretrained_classifier(tiny_flags, capsys):
    workflow = load_workflow("01_inference_pretrained_classifier.py")
    flags = tiny_flags + [
        "--num_rt_train", "32", "--num_rt_val", "16",
        "--rt_sequence_length", "24", "--sequence_length", "48",
    ]
    results = workflow.main(flags)
    output_dir = flags[flags.index("--output_dir") + 1]
    preset_dir = os.path.join(output_dir, workflow.PRESET_NAME)
    # The classifier was saved as a task preset, with the IMDB length.
    assert os.path.exists(os.path.join(preset_dir, "task.json"))
    assert os.path.exists(os.path.join(preset_dir, "preprocessor.json"))
    _accuracy(results["rt_accuracy"])
    _accuracy(results["imdb_accuracy"])
    assert np.isfinite(results["imdb_loss"])
    # A second run reuses the preset instead of training again.
    again = workflow.main(flags)
    assert "rt_accuracy" not in again
    assert again["imdb_accuracy"] == pytest.approx(results["imdb_accuracy"])
    assert "Reusing the preset" in capsys.readouterr().out


@pytest.mark.large
def test_finetune_backbone(tiny_flags, capsys):
    workflow = load_workflow("02_finetune_backbone.py")
    results = workflow.main(
        tiny_flags + ["--num_train", "16", "--sequence_length", "32"]
    )
    _accuracy(results["val_accuracy"])
    assert np.isfinite(results["train_loss"]) and np.isfinite(results["val_loss"])
    assert "held-out accuracy:" in capsys.readouterr().out


@pytest.mark.large
def test_user_preprocessing(tiny_flags, capsys):
    workflow = load_workflow("03_user_preprocessing.py")
    results = workflow.main(
        tiny_flags
        + [
            "--num_train", "16", "--sequence_length", "32",
            "--custom_sequence_length", "24", "--epochs", "2",
        ]
    )
    # Route B is checked against the preset preprocessor inside the script
    # (an assertion error there fails this test).
    assert results["custom_matches_preset"] is True
    assert len(results["cached_train_loss_per_epoch"]) == 2
    _accuracy(results["cached_val_accuracy"])
    _accuracy(results["custom_val_accuracy"])
    assert "custom preprocessing matches BertPreprocessor" in capsys.readouterr().out


@pytest.mark.large
def test_custom_model_frozen_backbone(tiny_flags):
    workflow = load_workflow("04_custom_model_frozen_backbone.py")
    results = workflow.main(
        tiny_flags
        + ["--num_train", "16", "--sequence_length", "32", "--epochs", "1"]
        + _jit_flags()
    )
    hidden, intermediate = 384, 512
    encoder = (
        4 * (hidden * hidden + hidden)  # attention projections
        + 2 * 2 * hidden  # two layer norms
        + hidden * intermediate + intermediate
        + intermediate * hidden + hidden
    )
    # Only the two new encoders and the head train; MiniLM stays frozen.
    assert results["trainable_params"] == 2 * encoder + hidden * 2 + 2
    assert results["frozen_params"] == 22_713_216
    _accuracy(results["val_accuracy"])


@pytest.mark.large
def test_pretrain_mlm(tiny_flags, capsys):
    workflow = load_workflow("05_pretrain_mlm.py")
    results = workflow.main(
        tiny_flags
        + [
            "--num_train", "48", "--sequence_length", "32",
            "--epochs", "2", "--learning_rate", "2e-3",
        ]
        + _jit_flags()
    )
    # Pretraining lowers the masked-token loss on held-out text.
    assert results["mlm_val_loss_after"] < results["mlm_val_loss_before"]
    # The saved backbone reloads exactly into the new task.
    assert results["reload_max_diff"] == 0.0
    _accuracy(results["finetune_val_accuracy"])


@pytest.mark.large
def test_transformer_from_scratch(tiny_flags):
    workflow = load_workflow("06_transformer_from_scratch.py")
    results = workflow.main(
        tiny_flags
        + [
            "--num_train", "32", "--sequence_length", "64",
            "--vocabulary_size", "400", "--epochs", "1",
        ]
        + _jit_flags()
    )
    assert 100 < results["vocabulary_size"] <= 400
    assert len(results["val_accuracy_per_epoch"]) == 1
    _accuracy(results["val_accuracy"])


def test_flags_are_checked():
    workflow = load_workflow("02_finetune_backbone.py")
    with pytest.raises(SystemExit):
        workflow.parse_args(["--num_train", "20001"])
    with pytest.raises(SystemExit):
        workflow.parse_args(["--epochs", "0"])
    first = load_workflow("01_inference_pretrained_classifier.py")
    with pytest.raises(SystemExit):
        first.parse_args(["--num_rt_train", "8500", "--num_rt_val", "100"])
    scratch = load_workflow("06_transformer_from_scratch.py")
    args = scratch.parse_args([])
    # The defaults are the guide's settings.
    assert (args.vocabulary_size, args.sequence_length, args.embedding_dim) == (
        20_000, 512, 64,
    )
    assert (args.num_heads, args.intermediate_dim, args.epochs) == (2, 128, 3)
    assert (args.num_train, args.num_test) == (20_000, 5_000)
