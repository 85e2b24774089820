"""Per-call spread of `fit` on raw strings, with `tf.data` autotuning on or off.

Claim checked (issue 15, "a whole epoch at >= 0.9x the median step rate"):
repeated `fit` calls on the same raw strings take the same time per step.
On the PyTorch backend they did not: some calls ran at about 1.7 s a step
against 0.9 s for the others, and cProfile put the extra time in waiting
for the next `tf.data` batch (Keras' `get_torch_dataloader` iterating the
dataset), though the pipeline alone makes a batch in about 11 ms.

Fine-tunes `BertClassifier.from_preset("all_minilm_l6_v2_en")` (the
quickstart's model) on the first `--num_batches` x 16 IMDB training
reviews (head and tail truncated to 128 tokens, as the quickstart does),
calling `fit` for one epoch `--calls` times, and prints each call's seconds
per step. `--autotune on` / `off` sets `tf.data.Options().autotune.enabled`
on the dataset `Task.fit` builds; `default` leaves the library's choice
(off on PyTorch since this benchmark, TensorFlow's default, on, elsewhere).

    python benchmarks/fit_call_benchmark.py --backend torch --autotune on
    python benchmarks/fit_call_benchmark.py --backend torch --autotune off
    python benchmarks/fit_call_benchmark.py --backend tensorflow \
        --dtype_policy float32 --calls 8
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_utils  # noqa: E402

BACKEND = bench_utils.set_backend(default="torch")
EXAMPLES = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples"
)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", default="torch", choices=bench_utils.BACKENDS)
    parser.add_argument("--calls", type=int, default=6, help="`fit` calls.")
    parser.add_argument("--num_batches", type=int, default=24)
    parser.add_argument(
        "--autotune", choices=("default", "on", "off"), default="default"
    )
    parser.add_argument(
        "--dtype_policy",
        default="mixed_bfloat16",
        help="Keras dtype policy (`float32`, `mixed_bfloat16`).",
    )
    return parser.parse_args()


def main():
    args = parse_args()
    import keras
    import numpy as np
    import tensorflow as tf

    import keras_nlp_clone as keras_nlp
    from keras_nlp_clone.models import task as task_module

    sys.path.insert(0, EXAMPLES)
    import movie_reviews_data
    import quickstart

    if args.autotune != "default":
        make_dataset = task_module.Task._make_dataset

        def with_autotune_set(self, *a, **kw):
            options = tf.data.Options()
            options.autotune.enabled = args.autotune == "on"
            return make_dataset(self, *a, **kw).with_options(options)

        task_module.Task._make_dataset = with_autotune_set

    keras.mixed_precision.set_global_policy(args.dtype_policy)
    keras.utils.set_random_seed(0)
    num = 16 * args.num_batches
    texts, labels = movie_reviews_data.load_imdb("train", seed=1337)
    texts = [quickstart.clean_review(t) for t in texts[:num]]
    labels = labels[:num]
    preprocessor = keras_nlp.models.BertPreprocessor.from_preset(
        "all_minilm_l6_v2_en", sequence_length=128
    )
    texts = quickstart.keep_head_and_tail(texts, preprocessor.tokenizer, 126, 31)
    classifier = keras_nlp.models.BertClassifier.from_preset(
        "all_minilm_l6_v2_en", num_classes=2, preprocessor=preprocessor
    )
    bench_utils.print_header(
        "Seconds per step of repeated `fit` calls on raw strings",
        backend=keras.backend.backend(),
    )
    per_step = []
    for _ in range(args.calls):
        start = time.perf_counter()
        classifier.fit(texts, labels, batch_size=16, verbose=0)
        per_step.append((time.perf_counter() - start) / args.num_batches)
    print(
        f"{args.dtype_policy}, tf.data autotune {args.autotune}, "
        f"{args.num_batches} steps of 16 x 128 per call"
    )
    print("s/step by call: " + ", ".join(f"{s:.3f}" for s in per_step))
    print(
        f"median {np.median(per_step):.3f}, min {min(per_step):.3f}, "
        f"max {max(per_step):.3f}"
    )


if __name__ == "__main__":
    main()
