"""`predict` throughput on raw strings vs on preprocessed inputs.

Claim checked: running the preprocessor inside `predict` (raw strings in,
tokenized by a `tf.data` pipeline in parallel with the model) keeps at least
80% of the throughput of `predict` on inputs preprocessed beforehand.

The model is a bert_tiny-size `BertClassifier` (2 layers, hidden 128, 2
heads, intermediate 512, random init) with the real 30,522-token vocabulary
of `BertTokenizer.from_preset("all_minilm_l6_v2_en")`, sequence length 128.
The inputs are real IMDB reviews (`examples/movie_reviews_data.py`). Both
paths run the same weights; the script checks they give the same outputs.

    python benchmarks/predict_benchmark.py --backend jax
    python benchmarks/predict_benchmark.py --backend torch --num_examples 512

With `--profile`, also times the preprocessor alone (eager batches and a
`tf.data` map) to show where the raw-string time goes.
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_utils  # noqa: E402

BACKEND = bench_utils.set_backend()
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "examples"))

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_nlp_clone as keras_nlp  # noqa: E402
import movie_reviews_data  # noqa: E402

PRESET = "all_minilm_l6_v2_en"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=bench_utils.BACKENDS, default=BACKEND)
    parser.add_argument("--num_examples", type=int, default=1024)
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--sequence_length", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    return parser.parse_args()


def timed(fn, repeats):
    times = []
    out = None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return bench_utils.median(times), out


def main():
    args = parse_args()
    bench_utils.print_header(
        "predict throughput: raw strings vs preprocessed inputs", args.backend
    )
    texts, _ = movie_reviews_data.load_imdb("test")
    texts = texts[: args.num_examples]

    keras.utils.set_random_seed(0)
    tokenizer = keras_nlp.models.BertTokenizer.from_preset(PRESET)
    preprocessor = keras_nlp.models.BertPreprocessor(
        tokenizer, sequence_length=args.sequence_length
    )
    backbone = keras_nlp.models.BertBackbone(
        vocabulary_size=tokenizer.vocabulary_size(),
        num_layers=2,
        num_heads=2,
        hidden_dim=128,
        intermediate_dim=512,
    )
    raw_model = keras_nlp.models.BertClassifier(
        backbone, num_classes=2, preprocessor=preprocessor
    )
    dense_model = keras_nlp.models.BertClassifier(
        backbone, num_classes=2, preprocessor=None
    )
    dense_model.output_dense.set_weights(raw_model.output_dense.get_weights())

    start = time.perf_counter()
    features = {
        key: keras.ops.convert_to_numpy(value)
        for key, value in preprocessor(texts).items()
    }
    preprocess_once = time.perf_counter() - start

    # Warm-up: compiles the predict function of each model.
    raw_model.predict(texts[: args.batch_size], batch_size=args.batch_size, verbose=0)
    dense_model.predict(
        {k: v[: args.batch_size] for k, v in features.items()},
        batch_size=args.batch_size,
        verbose=0,
    )

    n = len(texts)
    raw_s, raw_out = timed(
        lambda: raw_model.predict(texts, batch_size=args.batch_size, verbose=0),
        args.repeats,
    )
    dense_s, dense_out = timed(
        lambda: dense_model.predict(features, batch_size=args.batch_size, verbose=0),
        args.repeats,
    )
    np.testing.assert_allclose(raw_out, dense_out, atol=1e-5, rtol=1e-5)

    ratio = (n / raw_s) / (n / dense_s)
    print(
        f"{n} IMDB test reviews, batch {args.batch_size}, sequence length "
        f"{args.sequence_length}, bert_tiny size "
        f"({backbone.count_params():,} parameters), median of {args.repeats}"
    )
    def row(name, seconds):
        return [name, f"{seconds:.2f}", f"{n / seconds:.0f}"]

    rows = [
        row("raw strings (preprocessor in predict)", raw_s),
        row("preprocessed dict (preprocessor=None)", dense_s),
        row("preprocessor alone, first eager call, all at once", preprocess_once),
    ]
    if args.profile:
        from keras_nlp_clone.utils.lazy_module import tf

        def tf_data_only():
            ds = tf.data.Dataset.from_tensor_slices(np.asarray(texts, dtype=object))
            ds = ds.batch(args.batch_size).map(
                preprocessor, num_parallel_calls=tf.data.AUTOTUNE
            ).prefetch(tf.data.AUTOTUNE)
            for _ in ds:
                pass

        tf_s, _ = timed(tf_data_only, args.repeats)
        rows.append(row("preprocessor alone, tf.data map", tf_s))

        def eager_batches():
            for i in range(0, n, args.batch_size):
                preprocessor(texts[i : i + args.batch_size])

        eager_s, _ = timed(eager_batches, 1)
        rows.append(row("preprocessor alone, eager per batch", eager_s))
    bench_utils.print_table(["input", "seconds", "examples/s"], rows)
    verdict = "meets" if ratio >= 0.8 else "MISSES"
    print(
        f"raw / preprocessed throughput: {ratio:.2f} ({verdict} the 0.80 "
        f"target) [backend {args.backend}]"
    )


if __name__ == "__main__":
    main()
