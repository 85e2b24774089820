import re

import keras
import pytest

from tests.examples.examples_loader import import_example


@pytest.mark.large
def test_quickstart_tiny_run(tmp_path, capsys):
    quickstart = import_example("quickstart")
    output_dir = str(tmp_path / "classifier")
    result = quickstart.main(
        [
            "--backend", keras.backend.backend(),
            "--num_train", "64",
            "--num_test", "32",
            "--sequence_length", "32",
            "--batch_size", "16",
            "--output_dir", output_dir,
        ]
    )
    out = capsys.readouterr().out
    summary = re.search(
        r"held-out accuracy: (\d\.\d{3}) on 32 reviews \(trained on 64, seq "
        r"len 32, 1 epoch\(s\)\) in \d+ s",
        out,
    )
    assert summary, out[-3000:]
    assert float(summary.group(1)) == pytest.approx(result["accuracy"], abs=1e-3)
    assert "reloaded predictions match on 32 held-out reviews" in out
    assert result["max_reload_diff"] <= 1e-5
    assert (tmp_path / "classifier" / "task.json").exists()
    for sentence in quickstart.FRESH_SENTENCES:
        assert repr(sentence) in out


def test_quickstart_rejects_bad_flags():
    quickstart = import_example("quickstart")
    with pytest.raises(SystemExit):
        quickstart.parse_args(["--num_test", "6000"])
    with pytest.raises(SystemExit):
        quickstart.parse_args(["--epochs", "0"])
    args = quickstart.parse_args([])
    # The defaults docs/quickstart.md measured: 2,000 reviews of 128 tokens,
    # one epoch, TensorFlow, scored on 1,000 held-out reviews.
    assert args.num_test == 1000 and args.num_train == 2000
    assert args.sequence_length == 128 and args.epochs == 1
    assert args.backend == "tensorflow"
    # Full fine-tuning by default, at the classifier's learning rate; LoRA
    # at its own unless one is given.
    assert args.lora_rank == 0 and args.learning_rate == 5e-5
    assert quickstart.parse_args(["--lora_rank", "8"]).learning_rate == 2e-3
    args = quickstart.parse_args(["--lora_rank", "8", "--learning_rate", "5e-4"])
    assert args.learning_rate == 5e-4
    with pytest.raises(SystemExit):
        quickstart.parse_args(["--lora_rank", "-1"])


def test_clean_review():
    quickstart = import_example("quickstart")
    assert quickstart.clean_review("Good.<br /><br />Bad.") == "Good.  Bad."
