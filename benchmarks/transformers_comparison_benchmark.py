"""Issue 15's speed cases against `transformers`, in one command.

Claims checked (issue 15, ratios to Hugging Face `transformers` on PyTorch,
larger is faster):

  - `fit` on raw strings, bert_tiny: a whole epoch >= 1.2x transformers'
    examples/s and >= 0.9x our own median train-step rate; first `fit` step
    <= 2 s;
  - GPT-2 greedy `generate`: JAX and TensorFlow >= 2.5x at batch 1 and
    >= 1.5x at batch 8, PyTorch >= 1.2x at both; first `generate` <= 2 s;
  - `from_preset` of a bert_small backbone <= 0.1 s, of a classifier with
    its tokenizer <= 0.2 s.

The parent process writes random-weight Hugging Face checkpoints once to a
temporary directory; then transformers and each Keras backend run in their
own subprocess (`KERAS_BACKEND` is fixed per process) on the same weights:

  - `fit` (case `fit`): `fit_benchmark.run_fit_case`, the one measurement
    of `fit` (each case in its own subprocess): bert_tiny (2 layers, hidden
    128, 2 heads, intermediate 512, the real 30,522-entry uncased
    vocabulary of all-MiniLM-L6-v2, random weights), `BertClassifier.fit`
    on `--examples` raw IMDB reviews with its `BertPreprocessor` (sequence
    length 128, batch 16, Adam 5e-5) against a PyTorch loop of
    `transformers`' `BertForSequenceClassification` with
    `BertTokenizerFast` on the same reviews. "epoch ex/s" is a whole
    epoch after the first (raw strings in, the whole pipeline); "step
    ex/s" the batch size / median train step (ours: `fit` on the same
    examples preprocessed into arrays; transformers: forward, backward and
    optimizer step on a tokenized batch); "first step s" the time from
    calling `fit` (or starting the loop) to the end of the first step,
    compilation included.
  - `generate` (case `generate`): `generation_benchmark.py`'s workers, run
    by import: GPT-2 with 4 layers, hidden 256, the real 50,257-token
    vocabulary, 16-token IMDB prompts greedily extended to 128 tokens, on
    token ids (no strings), batch 1 and 8. "new tok/s" after compilation,
    "first s" the first call; the generated ids are checked equal.
  - `from_preset` (case `preset`): bert_small (`preset_load_benchmark.py`'s
    `BERT_SMALL`: 4 layers, hidden 512, 28.8M parameters) saved as a
    `BertForSequenceClassification` checkpoint. Ours: loaded once from that
    checkpoint and re-saved with `save_to_preset` (a backbone preset and a
    classifier preset with its preprocessor and tokenizer), then the median
    of `--loads` calls of `BertBackbone.from_preset` and
    `BertClassifier.from_preset` on those presets. Transformers: the median
    of `BertModel.from_pretrained(dir)` and of
    `BertForSequenceClassification.from_pretrained(dir)` plus
    `BertTokenizerFast.from_pretrained(dir)`.

PyTorch (ours and transformers) uses `--torch_threads` intra-op threads
(default `nproc`). Each cell is `value (ratio)`, the ratio being our speed
over transformers' (for seconds: transformers' seconds over ours).

Usage:
    python benchmarks/transformers_comparison_benchmark.py [--quick]
        [--backends jax tensorflow torch] [--cases fit generate preset]
        [--examples 512] [--loads 10] [--output FILE]

`--quick` is a smoke run: 64 examples, generate at batch 1 with one repeat,
3 loads.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_utils  # noqa: E402
import fit_benchmark  # noqa: E402
import generation_benchmark  # noqa: E402
import preset_load_benchmark  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
TRANSFORMERS = generation_benchmark.TRANSFORMERS
CASES = ("fit", "generate", "preset")

SEQUENCE_LENGTH = 128
BATCH_SIZE = 16
EPOCHS = 2


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--backends", nargs="+", choices=bench_utils.BACKENDS,
        default=list(bench_utils.BACKENDS),
    )
    parser.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES))
    parser.add_argument("--examples", type=int, default=512,
                        help="IMDB reviews per fit epoch (default 512)")
    parser.add_argument("--batch_sizes", nargs="+", type=int, default=[1, 8],
                        help="generate batch sizes (default 1 8)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="timed generate calls after the first")
    parser.add_argument("--loads", type=int, default=10,
                        help="from_preset loads (median reported)")
    parser.add_argument("--torch_threads", type=int, default=os.cpu_count())
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 64 examples, batch 1, 1 repeat, 3 loads")
    parser.add_argument("--output", help="also write the table as Markdown")
    # Internal: run one backend (or transformers) in this process.
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.examples = min(args.examples, 64)
        args.batch_sizes = [1]
        args.repeats = 1
        args.loads = 3
    return args


# === Setup (parent process): checkpoints and texts ===


def hf_bert_config(vocabulary_size, num_layers, hidden_dim, num_heads,
                   intermediate_dim):
    import transformers

    return transformers.BertConfig(
        vocab_size=vocabulary_size,
        hidden_size=hidden_dim,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        intermediate_size=intermediate_dim,
        num_labels=2,
    )


def save_bert_checkpoint(directory, config):
    """A random `BertForSequenceClassification` with the real uncased
    vocabulary and tokenizer files, saved to `directory`."""
    import torch
    import transformers

    os.makedirs(directory, exist_ok=True)
    torch.manual_seed(0)
    transformers.BertForSequenceClassification(config).save_pretrained(directory)
    vocab_dir = os.path.dirname(preset_load_benchmark.bert_vocabulary_path())
    for name in ("vocab.txt", "tokenizer.json", "tokenizer_config.json",
                 "special_tokens_map.json"):
        shutil.copy(os.path.join(vocab_dir, name), directory)


def setup(args, workdir):
    if "preset" in args.cases:
        save_bert_checkpoint(
            os.path.join(workdir, "bert_small"),
            hf_bert_config(**preset_load_benchmark.BERT_SMALL),
        )
    if "generate" in args.cases:
        gpt2_dir = os.path.join(workdir, "gpt2")
        os.makedirs(gpt2_dir)
        generation_benchmark.make_checkpoint(gpt2_dir, max(args.batch_sizes))


def generation_args(args):
    """The namespace `generation_benchmark`'s workers expect."""
    return types.SimpleNamespace(
        workdir=os.path.join(args.workdir, "gpt2"),
        batch_sizes=args.batch_sizes,
        repeats=args.repeats,
        torch_threads=args.torch_threads,
        profile=False,
        no_strings=True,
    )


def generation_summary(results):
    return {
        str(r["batch"]): {
            "rate": r["batch"] * generation_benchmark.NEW_TOKENS / r["steady"],
            "first": r["first"],
            "ids": r["ids"],
        }
        for r in results if r["input"] == "ids"
    }


# === Transformers worker ===


def transformers_preset(args):
    import transformers

    directory = os.path.join(args.workdir, "bert_small")
    time_loads = preset_load_benchmark.time_loads
    backbone, _ = time_loads(
        lambda: transformers.BertModel.from_pretrained(directory), args.loads
    )

    def load_classifier():
        model = transformers.BertForSequenceClassification.from_pretrained(
            directory
        )
        return model, transformers.BertTokenizerFast.from_pretrained(directory)

    classifier, _ = time_loads(load_classifier, args.loads)
    return {
        "backbone": bench_utils.median(backbone),
        "classifier": bench_utils.median(classifier),
    }


def run_transformers(args):
    import torch
    import transformers

    torch.set_num_threads(args.torch_threads)
    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()
    results = {}
    if "generate" in args.cases:
        results["generate"] = generation_summary(
            generation_benchmark.run_transformers(generation_args(args))
        )
    if "preset" in args.cases:
        results["preset"] = transformers_preset(args)
    return results


# === Keras worker ===


def keras_preset(args):
    import keras_nlp_clone as keras_nlp

    models = keras_nlp.models
    source = os.path.join(args.workdir, "bert_small")
    backend_dir = tempfile.mkdtemp(prefix="preset_", dir=args.workdir)
    backbone_dir = os.path.join(backend_dir, "backbone")
    classifier_dir = os.path.join(backend_dir, "classifier")
    classifier = models.BertClassifier.from_preset(
        source,
        num_classes=2,
        preprocessor=models.BertPreprocessor.from_preset(
            source, sequence_length=SEQUENCE_LENGTH
        ),
    )
    classifier.backbone.save_to_preset(backbone_dir)
    classifier.save_to_preset(classifier_dir)
    del classifier
    # As for presets saved earlier: no re-hash within the racy window.
    preset_load_benchmark.wait_past_racy_window(backbone_dir, classifier_dir)
    time_loads = preset_load_benchmark.time_loads
    backbone, _ = time_loads(
        lambda: models.BertBackbone.from_preset(backbone_dir), args.loads
    )
    loaded, _ = time_loads(
        lambda: models.BertClassifier.from_preset(classifier_dir), args.loads
    )
    return {
        "backbone": bench_utils.median(backbone),
        "classifier": bench_utils.median(loaded),
    }


def run_keras(args):
    import keras

    if keras.config.backend() == "torch":
        import torch

        torch.set_num_threads(args.torch_threads)
    results = {}
    if "generate" in args.cases:
        results["generate"] = generation_summary(
            generation_benchmark.run_keras(generation_args(args))
        )
    if "preset" in args.cases:
        results["preset"] = keras_preset(args)
    return results


# === Parent process ===


def fit_case(worker, args):
    """`fit_benchmark.run_fit_case` for one worker, in this table's keys
    (`None` when the case failed)."""
    print(f"# running fit, {worker} ...", file=sys.stderr, flush=True)
    try:
        r = fit_benchmark.run_fit_case(
            worker,
            examples=args.examples,
            epochs=EPOCHS - 1,
            batch_size=BATCH_SIZE,
            sequence_length=SEQUENCE_LENGTH,
            threads=args.torch_threads,
        )
    except RuntimeError as e:
        print(f"# fit {worker} FAILED: {e}", file=sys.stderr)
        return None
    return {
        "epoch_rate": r["epoch_ex_per_s"],
        "step_rate": r["step_ex_per_s"],
        "first_step": r["first_step_s"],
    }


def spawn(worker, args, workdir):
    command = [
        sys.executable, os.path.abspath(__file__), "--worker", worker,
        "--workdir", workdir, "--cases", *args.cases,
        "--examples", str(args.examples), "--batch_sizes",
        *map(str, args.batch_sizes), "--repeats", str(args.repeats),
        "--loads", str(args.loads), "--torch_threads", str(args.torch_threads),
    ]
    env = dict(
        os.environ, TF_CPP_MIN_LOG_LEVEL="3", HF_HUB_DISABLE_PROGRESS_BARS="1"
    )
    if worker != TRANSFORMERS:
        env["KERAS_BACKEND"] = worker
    print(f"# running {worker} ...", file=sys.stderr, flush=True)
    start = time.perf_counter()
    process = subprocess.run(command, env=env)
    print(f"# {worker} took {time.perf_counter() - start:.0f} s",
          file=sys.stderr, flush=True)
    path = os.path.join(workdir, f"{worker}.json")
    if process.returncode != 0 or not os.path.exists(path):
        print(f"# {worker} FAILED (exit {process.returncode})", file=sys.stderr)
        return None
    with open(path) as f:
        return json.load(f)


def table(args, results):
    """Rows `[case, transformers, backend cells...]` and verdict lines."""
    hf = results[TRANSFORMERS] or {}
    backends = [b for b in args.backends]
    rows, lines = [], []

    def add(label, case, get, higher_is_better, fmt, target=None,
            compare=True):
        """`get(result)` -> value; `target(value, ratio, backend)` -> bool."""
        try:
            reference = get(hf[case])
        except (KeyError, TypeError):
            reference = None
        row = [label, "failed" if reference is None else fmt.format(reference)]
        missed = []
        for backend in backends:
            try:
                value = get(results[backend][case])
            except (KeyError, TypeError):
                row.append("failed")
                continue
            cell = fmt.format(value)
            ratio = None
            if reference and compare:
                ratio = value / reference if higher_is_better else reference / value
                cell += f" ({ratio:.2f}x)"
            row.append(cell)
            if target is not None and not target(value, ratio, backend):
                missed.append(backend)
        rows.append(row)
        if target is not None:
            lines.append(
                f"{label}: " + ("met" if not missed else
                                f"MISSED by {', '.join(missed)}")
            )

    def ratio_at_least(minimum):
        return lambda value, ratio, backend: ratio is not None and ratio >= minimum

    if "fit" in args.cases:
        add("fit bert_tiny, whole epoch, ex/s", "fit",
            lambda r: r["epoch_rate"], True, "{:.1f}", ratio_at_least(1.2))
        add("fit bert_tiny, median step, ex/s", "fit",
            lambda r: r["step_rate"], True, "{:.1f}")
        add("fit bert_tiny, epoch / own step rate", "fit",
            lambda r: r["epoch_rate"] / r["step_rate"], True, "{:.2f}",
            lambda value, ratio, backend: value >= 0.9, compare=False)
        add("fit bert_tiny, first step, s", "fit",
            lambda r: r["first_step"], False, "{:.2f}",
            lambda value, ratio, backend: value <= 2.0)
    if "generate" in args.cases:
        for batch in args.batch_sizes:
            minimum = {"torch": 1.2}
            default = 2.5 if batch == 1 else 1.5
            add(f"GPT-2 generate, batch {batch}, new tok/s", "generate",
                lambda r, b=str(batch): r[b]["rate"], True, "{:.0f}",
                lambda value, ratio, backend, d=default: ratio is not None
                and ratio >= minimum.get(backend, d))
            add(f"GPT-2 first generate, batch {batch}, s", "generate",
                lambda r, b=str(batch): r[b]["first"], False, "{:.2f}",
                lambda value, ratio, backend: value <= 2.0)
            for backend in backends:
                try:
                    ours = results[backend]["generate"][str(batch)]["ids"]
                    theirs = hf["generate"][str(batch)]["ids"]
                except (KeyError, TypeError):
                    continue
                if ours != theirs:
                    lines.append(
                        f"WARNING: {backend} generated ids differ from "
                        f"transformers' at batch {batch}."
                    )
    if "preset" in args.cases:
        add("BertBackbone.from_preset, bert_small, s", "preset",
            lambda r: r["backbone"], False, "{:.3f}",
            lambda value, ratio, backend: value <= 0.1)
        add("BertClassifier.from_preset + tokenizer, s", "preset",
            lambda r: r["classifier"], False, "{:.3f}",
            lambda value, ratio, backend: value <= 0.2)
    return rows, lines


def main():
    args = parse_args()
    if args.worker:
        runner = run_transformers if args.worker == TRANSFORMERS else run_keras
        results = runner(args)
        with open(os.path.join(args.workdir, f"{args.worker}.json"), "w") as f:
            json.dump(results, f)
        return
    workdir = tempfile.mkdtemp(prefix="transformers_comparison_")
    workers = [TRANSFORMERS] + list(args.backends)
    try:
        setup(args, workdir)
        results = {}
        for worker in workers:
            results[worker] = (
                spawn(worker, args, workdir)
                if set(args.cases) - {"fit"} else {}
            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if "fit" in args.cases:
        for worker in workers:
            if results[worker] is not None:
                results[worker]["fit"] = fit_case(worker, args)

    title = (
        "Issue 15 cases vs transformers (ratio: our speed / transformers'; "
        f"fit: {args.examples} IMDB reviews, batch {BATCH_SIZE}, seq "
        f"{SEQUENCE_LENGTH}, epoch {EPOCHS} timed; generate: median of "
        f"{args.repeats}; from_preset: median of {args.loads}; torch threads "
        f"{args.torch_threads})"
    )
    header = ["case", TRANSFORMERS] + list(args.backends)
    rows, lines = table(args, results)
    bench_utils.print_report(title, header, rows, lines, args.output)
    if any(results[w] is None for w in results):
        sys.exit("ERROR: a worker failed (see above).")


if __name__ == "__main__":
    main()
