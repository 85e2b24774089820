import re
import sys

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
        r"len 32, head_tail truncation, 1 epoch\(s\)\) in \d+ s",
        out,
    )
    assert summary, out[-3000:]
    assert float(summary.group(1)) == pytest.approx(result["accuracy"], abs=1e-3)
    assert "reloaded predictions match on 32 held-out reviews" in out
    assert result["max_reload_diff"] <= 1e-5
    assert result["truncation"] == "head_tail"
    # Reviews over 30 tokens keep at most 7 from the start, 23 from the end.
    assert re.search(r"Head and tail truncation: \d+ of 96 reviews are longer "
                     r"than 30 tokens and keep their first words up to 7 "
                     r"tokens and their last words up to 23", out), out[-3000:]
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
    assert args.truncation == "head_tail"
    assert args.dtype_policy == "float32"
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


def _tiny_bert_tokenizer():
    import keras_nlp_clone as keras_nlp

    vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocabulary += ["a", "b", "c", "d", "e", "f", "g", "##s", "."]
    return keras_nlp.models.BertTokenizer(vocabulary=vocabulary)


def test_keep_head_and_tail_exact_token_budget():
    quickstart = import_example("quickstart")
    tokenizer = _tiny_bert_tokenizer()
    texts = [
        "a b c d e f g",  # 7 tokens: first 1, last 3
        "as. b c d as.",  # 9 tokens; "as." is 3 tokens (a ##s .)
        "a  b\tc",  # 3 tokens: within the budget, returned as it is
        "as. as.",  # 6 tokens: exactly the budget
    ]
    shortened = quickstart.keep_head_and_tail(
        texts, tokenizer, num_tokens=4, head_tokens=1
    )
    assert shortened[0] == "a e f g"
    assert shortened[2] == "a  b\tc"
    shortened = quickstart.keep_head_and_tail(
        texts, tokenizer, num_tokens=6, head_tokens=3
    )
    assert shortened == ["a b c e f g", "as. as.", "a  b\tc", "as. as."]
    ids = [list(map(int, row)) for row in tokenizer(shortened)]
    assert ids[1] == [5, 12, 13, 5, 12, 13]
    assert max(len(row) for row in ids) <= 6


def test_keep_head_and_tail_word_over_head_budget():
    quickstart = import_example("quickstart")
    tokenizer = _tiny_bert_tokenizer()
    # "as." (3 tokens) does not fit a head of 2: the head is empty and the
    # tail takes the whole budget, never more.
    (shortened,) = quickstart.keep_head_and_tail(
        ["as. b c d e"], tokenizer, num_tokens=3, head_tokens=2
    )
    assert shortened == "c d e"


def test_truncation_and_dtype_policy_flags():
    quickstart = import_example("quickstart")
    assert quickstart.parse_args(["--truncation", "end"]).truncation == "end"
    args = quickstart.parse_args(["--dtype_policy", "mixed_bfloat16"])
    assert args.dtype_policy == "mixed_bfloat16"
    with pytest.raises(SystemExit):
        quickstart.parse_args(["--dtype_policy", "float64"])
    with pytest.raises(SystemExit):
        quickstart.parse_args(["--truncation", "middle"])


def test_dtype_policy_is_set_for_the_run_and_restored(monkeypatch):
    # The policy is global in Keras: the run must see the flag's, and the
    # caller must get its own back, also when the run fails.
    quickstart = import_example("quickstart")
    import movie_reviews_data  # noqa: F401  (a sibling of quickstart.py)

    seen = []

    def load_imdb(*args, **kwargs):
        seen.append(keras.mixed_precision.global_policy().name)
        raise RuntimeError("stop after the policy is set")

    monkeypatch.setattr(sys.modules["movie_reviews_data"], "load_imdb", load_imdb)
    keras.mixed_precision.set_global_policy("float32")
    with pytest.raises(RuntimeError, match="stop after the policy is set"):
        quickstart.main(
            ["--backend", keras.backend.backend(), "--dtype_policy", "mixed_bfloat16"]
        )
    assert seen == ["mixed_bfloat16"]
    assert keras.mixed_precision.global_policy().name == "float32"
