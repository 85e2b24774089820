"""Random token deletion, a text augmentation (EDA)."""

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.layers.random_augmentation_utils import (
    RandomTokenAugmentation,
)
from keras_nlp_clone.utils.lazy_module import tf


@keras_nlp_clone_export
class RandomDeletion(RandomTokenAugmentation):
    """Augments token sequences by deleting random tokens.

    The random deletion of EDA (Wei and Zou, 2019). In every row, each
    candidate token (every token not skipped by `skip_list`, `skip_fn` or
    `skip_py_fn`) is picked independently with probability `rate`; when
    more than `max_deletions` are picked, a uniformly random
    `max_deletions` of them are kept. The picked tokens are deleted; the
    others keep their order. The number of deletions in a row of `n`
    candidates is thus `min(Binomial(n, rate), max_deletions)`, as in
    KerasNLP.

    The inputs are tokens, not text: split text yourself, by word for word
    deletions or by character for character deletions. Strings and integer
    token ids both work.

    The body is TensorFlow ops: the layer works eagerly under every Keras
    backend and inside `tf.data.Dataset.map` (the usual place, so that
    every epoch sees new deletions). Each call takes one seed pair from a
    `tf.random.Generator` seeded with `seed`: two layers with the same
    `seed`, called on the same inputs in the same order, give the same
    outputs (in `tf.data`, map without `num_parallel_calls`, or pass
    `rng`). A row's deletions depend on the whole batch it is in.

    Args:
        rate: float. The probability, in `[0, 1]`, that each candidate token
            is deleted.
        max_deletions: int. The most tokens deleted in one row, or `None`
            for no cap. Defaults to `None`.
        skip_list: list of str or list of int. Tokens never deleted, of the
            inputs' type. Defaults to `None`.
        skip_fn: callable. A traceable function of one scalar token tensor
            returning a scalar bool tensor, True for tokens never deleted
            (TensorFlow ops, e.g. `tf.strings.regex_full_match`). Defaults
            to `None`.
        skip_py_fn: callable. A Python function of one token (a `str` for
            string tokens, an `int` for ids) returning True for tokens never
            deleted; it runs through `tf.py_function`. Defaults to `None`.
        seed: int. The seed of the layer's random generator. Defaults to
            `None`: one is drawn from Python's `random` (so
            `keras.utils.set_random_seed` makes runs repeat) and stored in
            the config.
        name: str. The layer name. Defaults to `None`.
        dtype: str. The layer's dtype, an integer type or `"string"`,
            accepted for KerasNLP compatibility; outputs keep the inputs'
            dtype. Defaults to `"int32"`.
        **kwargs: passed to `keras.layers.Layer`.

    At most one of `skip_list`, `skip_fn` and `skip_py_fn` may be given.

    Call arguments:
        inputs: tokens: a `tf.Tensor`, `tf.RaggedTensor`, NumPy array or
            (nested) Python list of strings or ints, of shape `(seq,)` for
            one sequence or `(batch, seq)` for a batch (rows may differ in
            length).
        rng: the randomness of this call instead of the layer's generator:
            an `np.random.Generator` (eager calls; a seed pair is drawn from
            it), an integer, or an integer tensor of shape `(2,)` (a
            stateless seed, e.g. per element in `tf.data`). The same `rng`
            value on the same inputs gives the same output. Defaults to
            `None`.

    Returns:
        The remaining tokens, ragged `(batch, None)` (Python lists when
        called eagerly, a `tf.RaggedTensor` inside `tf.data`), or one
        sequence `(None,)` for unbatched input (a backend tensor of ids, or
        a list of `str`, eagerly). Same dtype as the inputs.

    Raises:
        ValueError: when `rate` is outside `[0, 1]`, when `max_deletions`
            is negative or not an integer, when more than one of
            `skip_list`, `skip_fn` and `skip_py_fn` is given, when
            `skip_list` mixes types or differs from the tokens' type, when
            `dtype` is neither an integer type nor `"string"`, or when the
            inputs are not rank 1 or 2 string or integer tokens.

    Examples:
    >>> import keras_nlp_clone
    >>> augmenter = keras_nlp_clone.layers.RandomDeletion(rate=1.0)
    >>> augmenter([["Hey", "I", "like"], ["Keras", "and", "JAX"]])
    [[], []]
    >>> augmenter = keras_nlp_clone.layers.RandomDeletion(
    ...     rate=1.0, max_deletions=1, skip_list=["Keras"], seed=42)
    >>> [len(row) for row in augmenter([["Keras", "and", "JAX"]])]
    [2]
    >>> augmenter = keras_nlp_clone.layers.RandomDeletion(
    ...     rate=1.0, skip_py_fn=lambda token: len(token) > 3)
    >>> augmenter([["He", "was", "drifting", "along"]])
    [['drifting', 'along']]

    References:
        - [Wei and Zou, 2019](https://arxiv.org/abs/1901.11196), "EDA: Easy
          Data Augmentation Techniques for Boosting Performance on Text
          Classification Tasks", random deletion.
    """

    _max_count_name = "max_deletions"

    def __init__(
        self,
        rate,
        max_deletions=None,
        skip_list=None,
        skip_fn=None,
        skip_py_fn=None,
        seed=None,
        name=None,
        dtype="int32",
        **kwargs,
    ):
        super().__init__(
            rate=rate,
            max_count=max_deletions,
            skip_list=skip_list,
            skip_fn=skip_fn,
            skip_py_fn=skip_py_fn,
            seed=seed,
            name=name,
            dtype=dtype,
            **kwargs,
        )

    @property
    def max_deletions(self):
        return self._max_count

    def _augment_batch(self, x, skip, seed):
        deleted, uniforms = self._candidate_draws(x, skip, seed)
        if self.max_deletions is not None:
            # The picked tokens have the smallest draws of their row; keep
            # the `max_deletions` smallest, a uniformly random subset.
            ranks = self._ranks_in_row(x, uniforms)
            deleted = tf.logical_and(deleted, ranks < self.max_deletions)
        return tf.ragged.boolean_mask(
            x, x.with_flat_values(tf.logical_not(deleted))
        )
