"""LoRA against full fine-tuning: training step time and memory.

Claim checked: fine-tuning with LoRA (`backbone.enable_lora(8)`, the
default targets, the attention query and value projections) trains a
bert_small-sized BertClassifier (4 layers, hidden 512, 8 heads,
intermediate 2048, vocabulary 30,522, random weights; 28.8M parameters)
faster and with far less optimizer state than full fine-tuning. Targets:
LoRA step time <= 0.7x full; optimizer variables' bytes <= 0.1x full.

Each (backend, mode) runs in a fresh subprocess: it builds the classifier,
enables LoRA or not, compiles with Adam, and times `train_on_batch` on
preprocessed batches of 16 x 128 tokens (median over the timed steps,
after warm-up steps that include compilation). Reported: trainable
parameters, optimizer variables' bytes (`optimizer.variables`: Adam's two
moments per trainable weight, plus counters), and the subprocess's peak
resident memory (`ru_maxrss`: the whole process, framework included, so
the difference between the modes is what LoRA saves).

    python benchmarks/lora_benchmark.py                     # all backends
    python benchmarks/lora_benchmark.py --backend jax --steps 4
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
MODES = ("full", "lora")
STEP_TARGET = 0.7
OPTIMIZER_MEMORY_TARGET = 0.1


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--backend", default="all", choices=bench_utils.BACKENDS + ("all",)
    )
    parser.add_argument("--rank", type=int, default=8, help="LoRA rank.")
    parser.add_argument("--steps", type=int, default=5, help="Timed steps.")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--batch_size", type=int, default=16)
    parser.add_argument("--sequence_length", type=int, default=128)
    parser.add_argument(
        "--mode", choices=MODES, help="Child mode: measure one mode."
    )
    parser.add_argument(
        "--json", action="store_true", help="Child mode: print one JSON line."
    )
    return parser.parse_args()


def measure(args):
    import resource

    import keras
    import numpy as np

    import keras_nlp_clone as keras_nlp

    keras.utils.set_random_seed(0)
    backbone = keras_nlp.models.BertBackbone(
        vocabulary_size=30522,
        num_layers=4,
        num_heads=8,
        hidden_dim=512,
        intermediate_dim=2048,
    )
    classifier = keras_nlp.models.BertClassifier(backbone, num_classes=2)
    if args.mode == "lora":
        backbone.enable_lora(args.rank)
    classifier.compile(
        optimizer=keras.optimizers.Adam(1e-4),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    rng = np.random.default_rng(0)
    n, length = args.batch_size, args.sequence_length
    x = {
        "token_ids": rng.integers(1000, 30000, (n, length)).astype("int32"),
        "segment_ids": np.zeros((n, length), "int32"),
        "padding_mask": np.ones((n, length), bool),
    }
    y = np.arange(n) % 2
    times = []
    for _ in range(args.warmup + args.steps):
        start = time.perf_counter()
        classifier.train_on_batch(x, y)
        times.append(time.perf_counter() - start)

    def nbytes(variables):
        return int(
            sum(
                np.prod(v.shape) * np.dtype(keras.backend.standardize_dtype(v.dtype)).itemsize
                for v in variables
            )
        )

    # Linux reports `ru_maxrss` in KiB.
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {
        "backend": keras.backend.backend(),
        "mode": args.mode,
        "step_s": bench_utils.median(times[args.warmup:]),
        "first_step_s": times[0],
        "params": int(classifier.count_params()),
        "trainable_params": int(
            sum(np.prod(v.shape) for v in classifier.trainable_weights)
        ),
        "optimizer_bytes": nbytes(classifier.optimizer.variables),
        "peak_rss_bytes": peak_rss,
    }


def run_child(backend, mode, args):
    command = [
        sys.executable,
        os.path.abspath(__file__),
        "--backend", backend,
        "--mode", mode,
        "--json",
        "--rank", str(args.rank),
        "--steps", str(args.steps),
        "--warmup", str(args.warmup),
        "--batch_size", str(args.batch_size),
        "--sequence_length", str(args.sequence_length),
    ]
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    out = subprocess.run(
        command, env=env, capture_output=True, text=True, check=False
    )
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode != 0 or not lines:
        raise SystemExit(
            f"{backend}/{mode} failed (exit {out.returncode}):\n"
            f"{out.stderr[-3000:]}"
        )
    return json.loads(lines[-1])


def main():
    args = parse_args()
    if args.json:
        print(json.dumps(measure(args)))
        return
    backends = bench_utils.BACKENDS if args.backend == "all" else (args.backend,)
    bench_utils.print_header(
        "LoRA vs full fine-tuning: BertClassifier, bert_small size "
        f"(4 layers, hidden 512), batch {args.batch_size} x "
        f"{args.sequence_length}, LoRA rank {args.rank} on query/value",
        ", ".join(backends),
    )
    rows, met = [], True
    for backend in backends:
        results = {mode: run_child(backend, mode, args) for mode in MODES}
        full, lora = results["full"], results["lora"]
        step_ratio = lora["step_s"] / full["step_s"]
        memory_ratio = lora["optimizer_bytes"] / full["optimizer_bytes"]
        met &= step_ratio <= STEP_TARGET and memory_ratio <= OPTIMIZER_MEMORY_TARGET
        for mode in MODES:
            r = results[mode]
            rows.append([
                backend,
                mode,
                f"{r['trainable_params']:,}",
                f"{r['step_s'] * 1000:.0f}",
                f"{r['first_step_s']:.1f}",
                f"{r['optimizer_bytes'] / 1e6:.2f}",
                f"{r['peak_rss_bytes'] / 1e6:.0f}",
            ])
        rows.append([
            backend,
            "lora / full",
            f"{lora['trainable_params'] / full['trainable_params']:.4f}",
            f"{step_ratio:.2f}",
            "",
            f"{memory_ratio:.4f}",
            f"{lora['peak_rss_bytes'] / full['peak_rss_bytes']:.2f}",
        ])
    bench_utils.print_table(
        [
            "backend",
            "mode",
            "trainable params",
            "step ms (median)",
            "first step s",
            "optimizer MB",
            "peak RSS MB",
        ],
        rows,
    )
    print(
        f"targets: LoRA step <= {STEP_TARGET}x full, optimizer memory <= "
        f"{OPTIMIZER_MEMORY_TARGET}x full: {'met' if met else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
