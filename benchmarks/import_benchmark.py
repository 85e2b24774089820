"""Import time of keras_nlp_clone, and no TensorFlow under jax/torch.

Claims checked: `import keras_nlp_clone` adds less than 1 s to `import
keras`, and under the jax and torch backends importing it does not import
TensorFlow (string preprocessing imports it on first use).

For each backend, runs `--runs` fresh subprocesses of each of:

    A: import keras
    B: import keras; import keras_nlp_clone

timing the imports inside the subprocess (so interpreter start-up is left
out), and prints the medians, their difference, and whether `"tensorflow"`
is in `sys.modules` after B.

    python benchmarks/import_benchmark.py
    python benchmarks/import_benchmark.py --backend torch --runs 3
"""

import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_utils  # noqa: E402

BACKEND = bench_utils.set_backend(default="all")
TARGET_S = 1.0

KERAS_ONLY = """
import json, sys, time
start = time.perf_counter()
import keras
keras_s = time.perf_counter() - start
print(json.dumps({"keras_s": keras_s, "total_s": keras_s,
                  "tf_loaded": "tensorflow" in sys.modules}))
"""

WITH_LIBRARY = """
import json, sys, time
start = time.perf_counter()
import keras
keras_s = time.perf_counter() - start
import keras_nlp_clone
total_s = time.perf_counter() - start
print(json.dumps({"keras_s": keras_s, "total_s": total_s,
                  "tf_loaded": "tensorflow" in sys.modules,
                  "backend": keras.backend.backend()}))
"""


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--backend", default="all", choices=bench_utils.BACKENDS + ("all",)
    )
    parser.add_argument("--runs", type=int, default=5)
    return parser.parse_args()


def run(code, backend):
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise RuntimeError(f"import failed under {backend}:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main():
    args = parse_args()
    backends = bench_utils.BACKENDS if args.backend == "all" else (args.backend,)
    bench_utils.print_header(
        "import time of keras vs keras + keras_nlp_clone", ", ".join(backends)
    )
    rows = []
    failures = []
    for backend in backends:
        # Interleave A and B runs so load changes hit both alike.
        keras_only, with_library, tf_flags = [], [], []
        for _ in range(args.runs):
            keras_only.append(run(KERAS_ONLY, backend)["total_s"])
            result = run(WITH_LIBRARY, backend)
            if result["backend"] != backend:
                raise RuntimeError(f"asked for {backend}, got {result['backend']}")
            with_library.append(result["total_s"])
            tf_flags.append(result["tf_loaded"])
        a = bench_utils.median(keras_only)
        b = bench_utils.median(with_library)
        tf_loaded = any(tf_flags)
        rows.append([
            backend, f"{a:.2f}", f"{b:.2f}", f"{b - a:+.2f}",
            "yes" if tf_loaded else "no",
        ])
        if b - a >= TARGET_S:
            failures.append(f"{backend}: adds {b - a:.2f} s (target < {TARGET_S} s)")
        if backend != "tensorflow" and tf_loaded:
            failures.append(f"{backend}: tensorflow imported by keras_nlp_clone")
    print(f"median of {args.runs} fresh subprocesses each, imports timed inside")
    bench_utils.print_table(
        ["backend", "import keras s", "+ keras_nlp_clone s", "added s",
         '"tensorflow" in sys.modules'],
        rows,
    )
    if failures:
        print("MISSES target: " + "; ".join(failures))
    else:
        print(
            f"meets targets: adds < {TARGET_S} s; no tensorflow under jax/torch"
        )


if __name__ == "__main__":
    main()
