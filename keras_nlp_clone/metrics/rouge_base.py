"""The shared mechanics of `RougeN` and `RougeL`."""

import re

import keras
import numpy as np
from keras import ops

from keras_nlp_clone.metrics.metric_utils import check_float_dtype
from keras_nlp_clone.metrics.metric_utils import check_same_batch
from keras_nlp_clone.metrics.metric_utils import strings_batch

_NON_ALPHANUMERIC = re.compile(r"[^a-z0-9]+")
_VALID_TOKEN = re.compile(r"^[a-z0-9]+$")


def _load_porter_stemmer(cls_name):
    try:
        from nltk.stem import porter
    except ImportError as e:
        raise ImportError(
            f"`{cls_name}(use_stemmer=True)` stems with NLTK's Porter "
            "stemmer (the one Google's `rouge-score` uses), and `nltk` could "
            f"not be imported ({e}). Install it with `pip install nltk`, or "
            "pass `use_stemmer=False`."
        ) from e
    return porter.PorterStemmer()


def f1_score(precision, recall):
    """Harmonic mean of precision and recall; `0` when both are `0`."""
    denominator = precision + recall
    return np.where(
        denominator > 0,
        2 * precision * recall / np.where(denominator > 0, denominator, 1),
        0.0,
    )


class RougeBase(keras.metrics.Metric):
    """Base class of the ROUGE metrics (`RougeN`, `RougeL`).

    Tokenizes each reference and hypothesis as Google's `rouge-score`
    package does by default (lowercase; every run of characters other than
    `a-z0-9` becomes a space; split on whitespace; with `use_stemmer`, words
    longer than three characters go through NLTK's Porter stemmer), scores
    each pair with `_score` (precision, recall and F1 of one example), and
    keeps the sums of the three scores and the number of examples: the
    result is their mean over the examples seen, as KerasNLP reports.

    Subclasses implement `_score(reference_tokens, hypothesis_tokens)`,
    returning `(precision, recall)` floats of one example.

    Args:
        use_stemmer: bool. Whether to apply the Porter stemmer. Needs
            `nltk`. Defaults to `False`.
        dtype: string. The floating point dtype of the state and results.
            Defaults to `"float32"`.
        name: string. The metric's name.
        **kwargs: passed to `keras.metrics.Metric`.
    """

    def __init__(
        self, use_stemmer=False, dtype="float32", name="rouge", **kwargs
    ):
        check_float_dtype(dtype, self.__class__.__name__)
        super().__init__(name=name, dtype=dtype, **kwargs)
        self.use_stemmer = bool(use_stemmer)
        self._stemmer = (
            _load_porter_stemmer(self.__class__.__name__)
            if self.use_stemmer
            else None
        )
        self._stem_cache = {}
        self._rouge_precision = self.add_variable(
            shape=(), initializer="zeros", dtype=self.dtype, name="precision"
        )
        self._rouge_recall = self.add_variable(
            shape=(), initializer="zeros", dtype=self.dtype, name="recall"
        )
        self._rouge_f1_score = self.add_variable(
            shape=(), initializer="zeros", dtype=self.dtype, name="f1_score"
        )
        self._number_of_samples = self.add_variable(
            shape=(),
            initializer="zeros",
            dtype=self.dtype,
            name="number_of_samples",
        )

    def _stem(self, token):
        stem = self._stem_cache.get(token)
        if stem is None:
            stem = self._stemmer.stem(token)
            self._stem_cache[token] = stem
        return stem

    def _tokenize(self, text):
        tokens = _NON_ALPHANUMERIC.sub(" ", text.lower()).split()
        if self._stemmer is not None:
            tokens = [self._stem(t) if len(t) > 3 else t for t in tokens]
        # Stemming may, in principle, yield characters outside a-z0-9.
        return [t for t in tokens if _VALID_TOKEN.match(t)]

    def _score(self, reference_tokens, hypothesis_tokens):
        raise NotImplementedError

    def update_state(self, y_true, y_pred, sample_weight=None):
        name = self.__class__.__name__
        if sample_weight is not None:
            raise ValueError(
                f"`{name}` does not support `sample_weight`. Received a "
                "`sample_weight`."
            )
        references = strings_batch(y_true, "y_true", name)
        hypotheses = strings_batch(y_pred, "y_pred", name)
        check_same_batch(len(references), len(hypotheses), name)
        scores = np.array(
            [
                self._score(self._tokenize(r), self._tokenize(h))
                for r, h in zip(references, hypotheses)
            ],
            dtype="float64",
        ).reshape(-1, 2)
        precision, recall = scores[:, 0], scores[:, 1]
        self._rouge_precision.assign_add(
            np.asarray(np.sum(precision), self.dtype)
        )
        self._rouge_recall.assign_add(np.asarray(np.sum(recall), self.dtype))
        self._rouge_f1_score.assign_add(
            np.asarray(np.sum(f1_score(precision, recall)), self.dtype)
        )
        self._number_of_samples.assign_add(
            np.asarray(len(references), self.dtype)
        )

    def result(self):
        count = float(ops.convert_to_numpy(self._number_of_samples))

        def mean(total):
            value = float(ops.convert_to_numpy(total)) / count if count else 0.0
            return ops.convert_to_tensor(value, self.dtype)

        return {
            "precision": mean(self._rouge_precision),
            "recall": mean(self._rouge_recall),
            "f1_score": mean(self._rouge_f1_score),
        }

    def reset_state(self):
        for variable in self.variables:
            variable.assign(0.0)

    def get_config(self):
        config = super().get_config()
        config.update({"use_stemmer": self.use_stemmer})
        return config
