"""BLEU: clipped n-gram precision with a brevity penalty, over a corpus."""

import collections
import re

import keras
import numpy as np
from keras import ops

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.metrics.metric_utils import check_float_dtype
from keras_nlp_clone.metrics.metric_utils import check_non_empty
from keras_nlp_clone.metrics.metric_utils import check_same_batch
from keras_nlp_clone.metrics.metric_utils import check_strings
from keras_nlp_clone.metrics.metric_utils import nested_rank
from keras_nlp_clone.metrics.metric_utils import strings_batch
from keras_nlp_clone.metrics.metric_utils import to_python

# SacreBLEU's "13a" tokenization (the mteval-v13a.pl rules used by WMT):
# unescape a few entities, split off punctuation and symbols, split periods
# and commas that are not inside a number, split a dash after a digit.
_13A_REPLACEMENTS = (
    ("<skipped>", ""),
    ("-\n", ""),
    ("\n", " "),
    ("&quot;", '"'),
    ("&amp;", "&"),
    ("&lt;", "<"),
    ("&gt;", ">"),
)
_13A_PATTERNS = (
    (re.compile(r"([\{-\~\[-\` -\&\(-\+\:-\@\/])"), r" \1 "),
    (re.compile(r"([^0-9])([\.,])"), r"\1 \2 "),
    (re.compile(r"([\.,])([^0-9])"), r" \1 \2"),
    (re.compile(r"([0-9])(-)"), r"\1 \2 "),
)


def tokenize_13a(text):
    """Splits `text` into tokens with SacreBLEU's default `13a` rules."""
    text = text.rstrip()
    for old, new in _13A_REPLACEMENTS:
        text = text.replace(old, new)
    # Padding with spaces lets a final period or comma split off.
    text = f" {text} "
    for pattern, replacement in _13A_PATTERNS:
        text = pattern.sub(replacement, text)
    return text.split()


def _ngram_counts(tokens, max_order):
    counts = collections.Counter()
    tokens = tuple(tokens)
    for order in range(1, max_order + 1):
        for start in range(len(tokens) - order + 1):
            counts[tokens[start : start + order]] += 1
    return counts


@keras_nlp_clone_export
class Bleu(keras.metrics.Metric):
    """BLEU score of translations against one or more references each.

    Corpus BLEU (Papineni et al., 2002), as KerasNLP computes it: for every
    n-gram order up to `max_order`, the number of hypothesis n-grams that
    also occur in the example's references (each n-gram's count clipped to
    its largest count in any one reference) is summed over the corpus, as is
    the number of hypothesis n-grams. The score is the geometric mean of the
    `max_order` precisions `matches / possible` times the brevity penalty
    `exp(1 - reference_length / translation_length)` when the translations
    are shorter than the references (`1` otherwise), where
    `reference_length` sums the length of each example's **shortest**
    reference. The score is on a 0-1 scale (SacreBLEU reports 0-100).

    With the default tokenizer and one reference per example, the score
    equals `sacrebleu.corpus_bleu(hypotheses, [references],
    smooth_method="none")` divided by 100 (tested on 500 real news sentence
    pairs). With several references SacreBLEU uses, per example, the
    reference length closest to the hypothesis length rather than the
    shortest one, so the two differ when a hypothesis is longer than its
    shortest reference.

    The counts, not the score, are the metric's state: `update_state` calls
    accumulate `matches` and `possible matches` per order and both corpus
    lengths, so several calls equal one call on all the examples. The
    n-gram counting runs eagerly in Python (strings cannot enter a compiled
    function on every backend); use the metric standalone, e.g. on the
    strings `generate()` returns, not in `compile(metrics=...)`.

    Edge cases: an order with no hypothesis n-gram has precision `0` (so
    BLEU is `0`) unless `smooth=True`; an empty reference counts `0` tokens
    toward `reference_length` and matches nothing; before any update, and
    for a corpus with no tokens, the result is `0.0`.

    Args:
        tokenizer: callable. Called on a Python list of strings, returns one
            sequence of tokens (strings or ints) per string: a list of lists,
            a `tf.RaggedTensor` or a dense tensor. A `keras_nlp_clone`
            tokenizer (e.g. `keras_nlp_clone.tokenizers.ByteTokenizer()`)
            works as is, and is serialized by `get_config`; another callable
            is put in the config as is (a config round trip in memory keeps
            it, but only a Keras layer can be saved to JSON). Defaults to
            `None`: SacreBLEU's default `"13a"` tokenization (no
            lowercasing), as in KerasNLP.
        max_order: int. The largest n-gram order used, at least 1.
            Defaults to `4`.
        smooth: bool. Whether to apply the add-one smoothing of Lin and Och
            (2004) as KerasNLP (and `tensorflow/nmt`) define it: every
            order's precision becomes `(matches + 1) / (possible + 1)`,
            unigrams included. Defaults to `False`.
        dtype: string. The floating point dtype of the state and the result.
            Defaults to `"float32"`.
        name: string. The metric's name. Defaults to `"bleu"`.
        **kwargs: passed to `keras.metrics.Metric`.

    Call arguments (`update_state(y_true, y_pred, sample_weight=None)`):
        y_true: the references: for one example a string or a list of
            strings (its references); for a batch, shape `(batch_size,)`
            (one reference each), `(batch_size, num_references)`, a ragged
            list of lists (a different number of references per example) or
            `(batch_size, num_references, 1)`. Python values, NumPy arrays or
            `tf` (ragged) string tensors.
        y_pred: the hypotheses: a string, shape `(batch_size,)` or
            `(batch_size, 1)`.
        sample_weight: not supported; must be `None`.

    Returns:
        `result()`: a scalar tensor of `dtype`, BLEU in `[0, 1]`.

    Raises:
        ValueError: for `max_order < 1`, a non floating `dtype`, an empty
            batch, different numbers of examples in `y_true` and `y_pred`,
            inputs of an unsupported rank, a `sample_weight`, or a call on
            symbolic tensors (inside a compiled function).
        TypeError: when the inputs are not strings.

    Examples:
    >>> import keras_nlp_clone
    >>> bleu = keras_nlp_clone.metrics.Bleu(max_order=2)
    >>> y_true = ["the cat sat on the mat", "hello world"]
    >>> y_pred = ["the cat sat on a mat", "hello world"]
    >>> round(float(bleu(y_true, y_pred)), 4)  # sqrt(7/8 * 4/6)
    0.7638

    Several references per example (a list of lists):

    >>> bleu = keras_nlp_clone.metrics.Bleu(max_order=2)
    >>> y_true = [["the cat sat on the mat", "a cat sat on a mat"]]
    >>> round(float(bleu(y_true, ["the cat sat on a mat"])), 4)
    1.0

    References:
        - [Papineni et al., 2002](https://aclanthology.org/P02-1040/)
        - [Lin and Och, 2004](https://aclanthology.org/C04-1072/)
        - [Post, 2018: SacreBLEU](https://aclanthology.org/W18-6319/)
        - KerasNLP `Bleu`: <https://keras.io/api/keras_nlp/metrics/bleu/>.
    """

    def __init__(
        self,
        tokenizer=None,
        max_order=4,
        smooth=False,
        dtype="float32",
        name="bleu",
        **kwargs,
    ):
        check_float_dtype(dtype, self.__class__.__name__)
        if isinstance(max_order, bool) or not isinstance(max_order, int):
            raise ValueError(
                "`max_order` must be an int of at least 1. Received: "
                f"max_order={max_order!r}"
            )
        if max_order < 1:
            raise ValueError(
                "`max_order` must be at least 1 (1 counts unigrams only). "
                f"Received: max_order={max_order}"
            )
        if tokenizer is not None and not callable(tokenizer):
            raise ValueError(
                "`tokenizer` must be a callable taking a list of strings, or "
                f"`None` for SacreBLEU's 13a rules. Received: "
                f"tokenizer={tokenizer!r}"
            )
        super().__init__(name=name, dtype=dtype, **kwargs)
        self.tokenizer = tokenizer
        self.max_order = max_order
        self.smooth = bool(smooth)
        self._matches = self.add_variable(
            shape=(max_order,),
            initializer="zeros",
            dtype=self.dtype,
            name="bleu_matches",
        )
        self._possible_matches = self.add_variable(
            shape=(max_order,),
            initializer="zeros",
            dtype=self.dtype,
            name="bleu_possible_matches",
        )
        self._translation_length = self.add_variable(
            shape=(),
            initializer="zeros",
            dtype=self.dtype,
            name="bleu_translation_length",
        )
        self._reference_length = self.add_variable(
            shape=(),
            initializer="zeros",
            dtype=self.dtype,
            name="bleu_reference_length",
        )

    def _tokenize(self, texts):
        if self.tokenizer is None:
            return [tokenize_13a(t) for t in texts]
        tokens = to_python(
            self.tokenizer(list(texts)), "tokenizer output", "Bleu"
        )
        if nested_rank(tokens) != 2 or len(tokens) != len(texts):
            raise ValueError(
                "`Bleu`'s `tokenizer` must return one sequence of tokens "
                f"per string: called on {len(texts)} strings, it returned "
                f"{tokens!r:.200}."
            )
        return [
            [tuple(t) if isinstance(t, list) else t for t in seq]
            for seq in tokens
        ]

    def _references_batch(self, y_true, batch_size):
        name = self.__class__.__name__
        refs = to_python(y_true, "y_true", name)
        rank = nested_rank(refs)
        if rank == 0:
            refs = [[refs]]
        elif rank == 1:
            if len(refs) == batch_size:
                # One reference per example (also the one-example case).
                refs = [[r] for r in refs]
            elif batch_size == 1:
                # The references of a single example.
                refs = [refs]
            else:
                check_same_batch(
                    len(refs),
                    batch_size,
                    name,
                    " A 1D `y_true` holds one reference per example, or the "
                    "references of a single hypothesis.",
                )
        elif rank == 3:
            if any(len(r) != 1 for ex in refs for r in ex):
                raise ValueError(
                    f"`{name}`: `y_true` of rank 3 must have shape "
                    "`(batch_size, num_references, 1)`."
                )
            refs = [[r[0] for r in ex] for ex in refs]
        elif rank != 2:
            raise ValueError(
                f"`{name}`: `y_true` must be a string, a list of references, "
                "or a batch of shape `(batch_size,)`, `(batch_size, "
                "num_references)` or `(batch_size, num_references, 1)`. "
                f"Received a value of nesting depth "
                f"{rank if rank >= 0 else 'mixed'}."
            )
        check_strings(refs, "y_true", name)
        check_non_empty(refs, "y_true", name)
        check_same_batch(len(refs), batch_size, name)
        for i, example_refs in enumerate(refs):
            if len(example_refs) == 0:
                raise ValueError(
                    f"`{name}`: example {i} of `y_true` has no reference. "
                    "Give every example at least one (possibly empty) "
                    "reference string."
                )
        return refs

    def update_state(self, y_true, y_pred, sample_weight=None):
        name = self.__class__.__name__
        if sample_weight is not None:
            raise ValueError(
                f"`{name}` does not support `sample_weight` (corpus BLEU "
                "pools counts). Received a `sample_weight`."
            )
        hypotheses = strings_batch(y_pred, "y_pred", name)
        references = self._references_batch(y_true, len(hypotheses))

        flat_refs = [r for example_refs in references for r in example_refs]
        ref_tokens = self._tokenize(flat_refs)
        hyp_tokens = self._tokenize(hypotheses)

        matches = np.zeros((self.max_order,), "float64")
        possible = np.zeros((self.max_order,), "float64")
        translation_length = 0
        reference_length = 0
        position = 0
        for hyp, example_refs in zip(hyp_tokens, references):
            refs = ref_tokens[position : position + len(example_refs)]
            position += len(example_refs)
            reference_length += min(len(r) for r in refs)
            translation_length += len(hyp)
            max_ref_counts = collections.Counter()
            for ref in refs:
                max_ref_counts |= _ngram_counts(ref, self.max_order)
            for ngram, count in _ngram_counts(hyp, self.max_order).items():
                order = len(ngram) - 1
                possible[order] += count
                matches[order] += min(count, max_ref_counts[ngram])

        self._matches.assign_add(np.asarray(matches, self.dtype))
        self._possible_matches.assign_add(np.asarray(possible, self.dtype))
        self._translation_length.assign_add(
            np.asarray(translation_length, self.dtype)
        )
        self._reference_length.assign_add(
            np.asarray(reference_length, self.dtype)
        )

    def result(self):
        # In NumPy float64: the state only ever changes eagerly, and a few
        # NumPy ops cost less than compiling a dozen backend ops.
        matches = ops.convert_to_numpy(self._matches).astype("float64")
        possible = ops.convert_to_numpy(self._possible_matches).astype(
            "float64"
        )
        translation_length = float(
            ops.convert_to_numpy(self._translation_length)
        )
        reference_length = float(ops.convert_to_numpy(self._reference_length))
        if self.smooth:
            precisions = (matches + 1.0) / (possible + 1.0)
        else:
            precisions = np.where(
                possible > 0, matches / np.maximum(possible, 1.0), 0.0
            )
        if precisions.min() > 0:
            geometric_mean = float(np.exp(np.mean(np.log(precisions))))
        else:
            geometric_mean = 0.0
        if translation_length >= reference_length:
            penalty = 1.0
        elif translation_length > 0:
            penalty = float(np.exp(1.0 - reference_length / translation_length))
        else:
            penalty = 0.0
        return ops.convert_to_tensor(geometric_mean * penalty, self.dtype)

    def reset_state(self):
        self._matches.assign(ops.zeros((self.max_order,), self.dtype))
        self._possible_matches.assign(ops.zeros((self.max_order,), self.dtype))
        self._translation_length.assign(0.0)
        self._reference_length.assign(0.0)

    def get_config(self):
        config = super().get_config()
        tokenizer = self.tokenizer
        if isinstance(tokenizer, keras.layers.Layer):
            tokenizer = keras.saving.serialize_keras_object(tokenizer)
        config.update(
            {
                "tokenizer": tokenizer,
                "max_order": self.max_order,
                "smooth": self.smooth,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        tokenizer = config.get("tokenizer")
        if isinstance(tokenizer, dict):
            config["tokenizer"] = keras.saving.deserialize_keras_object(
                tokenizer
            )
        return cls(**config)
