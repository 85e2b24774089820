"""Which Keras backend fine-tunes fastest on this CPU?

Claim checked: which of jax, tensorflow and torch trains the quickstart's
model fastest here, and what a dtype policy (`--dtype_policy
mixed_bfloat16`) changes.

Times `train_on_batch` of a BertClassifier the size of all-MiniLM-L6-v2
(6 layers, hidden 384, 12 heads, intermediate 1536, vocabulary 30,522,
random init; the quickstart's model) on preprocessed batches of 16 x 128
tokens, and `predict_on_batch` on 32 x 128, each backend in a fresh
subprocess. Reports the median over the timed steps after warm-up steps
(which include compilation).

    python benchmarks/train_backend_benchmark.py              # all backends
    python benchmarks/train_backend_benchmark.py --backend torch --steps 5
    python benchmarks/train_backend_benchmark.py --dtype_policy mixed_bfloat16
"""

import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_utils  # noqa: E402

BACKEND = bench_utils.set_backend(default="all")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--backend", default="all", choices=bench_utils.BACKENDS + ("all",)
    )
    parser.add_argument("--steps", type=int, default=6, help="Timed steps.")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--batch_size", type=int, default=16)
    parser.add_argument("--predict_batch_size", type=int, default=32)
    parser.add_argument("--sequence_length", type=int, default=128)
    parser.add_argument(
        "--dtype_policy",
        default="float32",
        help="Keras dtype policy of the model (`float32`, `mixed_bfloat16`, "
        "`bfloat16`, ...).",
    )
    parser.add_argument(
        "--json", action="store_true", help="Child mode: print one JSON line."
    )
    return parser.parse_args()


def measure(args):
    import keras
    import numpy as np

    import keras_nlp_clone as keras_nlp

    keras.utils.set_random_seed(0)
    backbone = keras_nlp.models.BertBackbone(
        vocabulary_size=30522,
        num_layers=6,
        num_heads=12,
        hidden_dim=384,
        intermediate_dim=1536,
        dtype=args.dtype_policy,
    )
    # The head follows the backbone's policy (float32 logits when mixed).
    classifier = keras_nlp.models.BertClassifier(backbone, num_classes=2)

    def batch(n):
        rng = np.random.default_rng(n)
        return {
            "token_ids": rng.integers(
                1000, 30000, (n, args.sequence_length)
            ).astype("int32"),
            "segment_ids": np.zeros((n, args.sequence_length), "int32"),
            "padding_mask": np.ones((n, args.sequence_length), bool),
        }

    x, y = batch(args.batch_size), np.arange(args.batch_size) % 2
    times = []
    for i in range(args.warmup + args.steps):
        start = time.perf_counter()
        classifier.train_on_batch(x, y)
        times.append(time.perf_counter() - start)
    train = bench_utils.median(times[args.warmup:])
    first_train = times[0]
    px = batch(args.predict_batch_size)
    times = []
    for i in range(args.warmup + args.steps):
        start = time.perf_counter()
        classifier.predict_on_batch(px)
        times.append(time.perf_counter() - start)
    predict = bench_utils.median(times[args.warmup:])
    return {
        "backend": keras.backend.backend(),
        "train_step_s": train,
        "first_train_step_s": first_train,
        "train_examples_per_s": args.batch_size / train,
        "predict_step_s": predict,
        "predict_examples_per_s": args.predict_batch_size / predict,
    }


def main():
    args = parse_args()
    if args.json:
        print("RESULT " + json.dumps(measure(args)), flush=True)
        return
    backends = bench_utils.BACKENDS if args.backend == "all" else (args.backend,)
    bench_utils.print_header(
        "Training and prediction step time of a MiniLM-L6-size BertClassifier",
        backend=", ".join(backends),
    )
    rows = []
    for backend in backends:
        cmd = [
            sys.executable, os.path.abspath(__file__), "--json",
            "--backend", backend,
            "--steps", str(args.steps), "--warmup", str(args.warmup),
            "--batch_size", str(args.batch_size),
            "--predict_batch_size", str(args.predict_batch_size),
            "--sequence_length", str(args.sequence_length),
            "--dtype_policy", args.dtype_policy,
        ]
        env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        line = [l for l in proc.stdout.splitlines() if l.startswith("RESULT ")]
        if proc.returncode != 0 or not line:
            print(proc.stdout[-2000:], proc.stderr[-4000:], file=sys.stderr)
            rows.append([backend, "failed", "", "", "", ""])
            continue
        r = json.loads(line[0][len("RESULT "):])
        rows.append([
            backend,
            f"{r['first_train_step_s']:.2f}",
            f"{r['train_step_s']:.2f}",
            f"{r['train_examples_per_s']:.1f}",
            f"{r['predict_step_s']:.2f}",
            f"{r['predict_examples_per_s']:.1f}",
        ])
    print(
        f"batch {args.batch_size} x seq {args.sequence_length} (train), "
        f"{args.predict_batch_size} x {args.sequence_length} (predict), "
        f"dtype policy {args.dtype_policy}; "
        f"median of {args.steps} steps after {args.warmup} warm-up"
    )
    bench_utils.print_table(
        ["backend", "first train step s", "train step s", "train ex/s",
         "predict step s", "predict ex/s"],
        rows,
    )


if __name__ == "__main__":
    main()
