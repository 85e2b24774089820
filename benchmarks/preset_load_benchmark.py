"""Time to load a saved backbone preset with `from_preset`.

Claim checked: `BertBackbone.from_preset(dir)` of a bert_small-size preset
(4 layers, hidden 512, 8 heads, intermediate 2048, vocabulary 30,522;
28.8M parameters) takes under 0.2 s once the library is imported.

Saves a randomly initialized backbone with `save_to_preset` to a temporary
directory, then loads it `--loads` times in this process and prints each
time and the median. If the median misses the target, or with `--profile`,
prints the top cProfile entries of one load.

    python benchmarks/preset_load_benchmark.py --backend jax
"""

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_utils  # noqa: E402

BACKEND = bench_utils.set_backend()

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_nlp_clone as keras_nlp  # noqa: E402

TARGET_S = 0.2


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=bench_utils.BACKENDS, default=BACKEND)
    parser.add_argument("--loads", type=int, default=10)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=25)
    return parser.parse_args()


def main():
    args = parse_args()
    bench_utils.print_header("BertBackbone.from_preset load time", args.backend)
    keras.utils.set_random_seed(0)
    backbone = keras_nlp.models.BertBackbone(
        vocabulary_size=30522,
        num_layers=4,
        num_heads=8,
        hidden_dim=512,
        intermediate_dim=2048,
    )
    with tempfile.TemporaryDirectory() as preset_dir:
        start = time.perf_counter()
        backbone.save_to_preset(preset_dir)
        save_s = time.perf_counter() - start
        size_mb = sum(
            os.path.getsize(os.path.join(root, f))
            for root, _, files in os.walk(preset_dir)
            for f in files
        ) / 1e6
        times = []
        loaded = None
        for _ in range(args.loads):
            # Free the previous copy first: its deallocation is not loading.
            loaded = None
            start = time.perf_counter()
            loaded = keras_nlp.models.BertBackbone.from_preset(preset_dir)
            times.append(time.perf_counter() - start)
        for a, b in zip(backbone.weights, loaded.weights):
            np.testing.assert_array_equal(
                keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b)
            )
        median = bench_utils.median(times)
        print(
            f"bert_small size: {backbone.count_params():,} parameters, preset "
            f"{size_mb:.0f} MB, saved in {save_s:.2f} s; weights verified equal"
        )
        bench_utils.print_table(
            ["load", "seconds"],
            [[i + 1, f"{t:.3f}"] for i, t in enumerate(times)]
            + [["median", f"{median:.3f}"], ["min", f"{min(times):.3f}"]],
        )
        verdict = "meets" if median < TARGET_S else "MISSES"
        print(
            f"median from_preset load: {median:.3f} s over {args.loads} loads "
            f"({verdict} the {TARGET_S} s target) [backend {args.backend}]"
        )
        if args.profile or median >= TARGET_S:
            profiler = cProfile.Profile()
            profiler.enable()
            keras_nlp.models.BertBackbone.from_preset(preset_dir)
            profiler.disable()
            stream = io.StringIO()
            stats = pstats.Stats(profiler, stream=stream)
            stats.sort_stats("cumulative").print_stats(args.top)
            print(f"cProfile of one load, top {args.top} by cumulative time:")
            print(stream.getvalue())
            stream = io.StringIO()
            stats = pstats.Stats(profiler, stream=stream)
            stats.sort_stats("tottime").print_stats(args.top)
            print(f"cProfile of one load, top {args.top} by own time:")
            print(stream.getvalue())


if __name__ == "__main__":
    main()
