"""Random token swaps, a text augmentation (EDA)."""

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.layers.random_augmentation_utils import (
    RandomTokenAugmentation,
)
from keras_nlp_clone.utils.lazy_module import tf


@keras_nlp_clone_export
class RandomSwap(RandomTokenAugmentation):
    """Augments token sequences by swapping random pairs of tokens.

    The random swap of EDA (Wei and Zou, 2019). In every row of `n`
    candidate tokens (every token not skipped by `skip_list`, `skip_fn` or
    `skip_py_fn`), the number of swaps is `k = min(Binomial(n, rate),
    max_swaps)`, as in KerasNLP (each candidate is picked with probability
    `rate`, and `k` is the number picked, capped). Then, `k` times in turn,
    two candidate positions are drawn uniformly and independently (they may
    coincide, making that swap a no-op) and their tokens are exchanged.
    Skipped tokens never move, the row keeps its length and its multiset of
    tokens.

    The inputs are tokens, not text: split text yourself, by word for word
    swaps or by character for character swaps. Strings and integer token
    ids both work.

    The body is TensorFlow ops: the layer works eagerly under every Keras
    backend and inside `tf.data.Dataset.map` (the usual place, so that
    every epoch sees new swaps). Each call takes one seed pair from a
    `tf.random.Generator` seeded with `seed`: two layers with the same
    `seed`, called on the same inputs in the same order, give the same
    outputs (in `tf.data`, map without `num_parallel_calls`, or pass
    `rng`). A row's swaps depend on the whole batch it is in.

    Args:
        rate: float. The probability, in `[0, 1]`, that each candidate token
            adds a swap; a row of `n` candidates gets `rate * n` swaps on
            average (before the cap).
        max_swaps: int. The most swaps in one row, or `None` for no cap.
            Defaults to `None`.
        skip_list: list of str or list of int. Tokens never swapped, of the
            inputs' type. Defaults to `None`.
        skip_fn: callable. A traceable function of one scalar token tensor
            returning a scalar bool tensor, True for tokens never swapped
            (TensorFlow ops, e.g. `tf.strings.regex_full_match`). Defaults
            to `None`.
        skip_py_fn: callable. A Python function of one token (a `str` for
            string tokens, an `int` for ids) returning True for tokens never
            swapped; it runs through `tf.py_function`. Defaults to `None`.
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
        The swapped tokens, with the inputs' shape and dtype: dense inputs
        give dense outputs (backend tensors of ids, or lists of `str`,
        eagerly), ragged inputs ragged outputs (Python lists eagerly, a
        `tf.RaggedTensor` inside `tf.data`).

    Raises:
        ValueError: when `rate` is outside `[0, 1]`, when `max_swaps` is
            negative or not an integer, when more than one of `skip_list`,
            `skip_fn` and `skip_py_fn` is given, when `skip_list` mixes
            types or differs from the tokens' type, when `dtype` is neither
            an integer type nor `"string"`, or when the inputs are not rank
            1 or 2 string or integer tokens.

    Examples:
    >>> import keras_nlp_clone
    >>> augmenter = keras_nlp_clone.layers.RandomSwap(rate=0.0)
    >>> augmenter([["Hey", "I", "like"], ["Keras", "and", "JAX"]])
    [['Hey', 'I', 'like'], ['Keras', 'and', 'JAX']]
    >>> augmenter = keras_nlp_clone.layers.RandomSwap(
    ...     rate=1.0, skip_list=["[CLS]", "[SEP]"], seed=42)
    >>> out = augmenter([["[CLS]", "a", "b", "c", "[SEP]"]])
    >>> out[0][0], out[0][-1], sorted(out[0][1:-1])
    ('[CLS]', '[SEP]', ['a', 'b', 'c'])

    References:
        - [Wei and Zou, 2019](https://arxiv.org/abs/1901.11196), "EDA: Easy
          Data Augmentation Techniques for Boosting Performance on Text
          Classification Tasks", random swap.
    """

    _max_count_name = "max_swaps"

    def __init__(
        self,
        rate,
        max_swaps=None,
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
            max_count=max_swaps,
            skip_list=skip_list,
            skip_fn=skip_fn,
            skip_py_fn=skip_py_fn,
            seed=seed,
            name=name,
            dtype=dtype,
            **kwargs,
        )

    @property
    def max_swaps(self):
        return self._max_count

    def _augment_batch(self, x, skip, seed):
        picked, _ = self._candidate_draws(x, skip, seed)
        num_swaps = tf.reduce_sum(
            tf.cast(x.with_flat_values(picked), tf.int64), axis=1
        )
        if self.max_swaps is not None:
            num_swaps = tf.minimum(num_swaps, self.max_swaps)
        flat = x.flat_values
        positions = tf.range(tf.size(flat, out_type=tf.int64))
        candidates = tf.ragged.boolean_mask(
            x.with_flat_values(positions),
            x.with_flat_values(tf.logical_not(skip)),
        )
        num_candidates = tf.maximum(candidates.row_lengths(), 1)
        starts = tf.cast(candidates.row_splits[:-1], tf.int64)
        candidate_positions = candidates.flat_values
        num_rounds = tf.reduce_max(tf.concat([num_swaps, [0]], axis=0))

        def swap_round(i, values):
            # Full-range integers modulo the row's candidate count: a
            # uniform index, with a bias below 2**-40 for any real row.
            draws = tf.random.stateless_uniform(
                [x.nrows(), 2],
                seed=tf.random.experimental.stateless_fold_in(seed, i + 1),
                minval=None,
                maxval=None,
                dtype=tf.int64,
            )
            index = tf.math.floormod(draws, num_candidates[:, None])
            active = i < num_swaps
            index = tf.boolean_mask(starts[:, None] + index, active)
            pair = tf.gather(candidate_positions, index)
            first, second = pair[:, 0], pair[:, 1]
            updates = tf.concat(
                [tf.gather(values, second), tf.gather(values, first)], axis=0
            )
            indices = tf.concat([first, second], axis=0)[:, None]
            return i + 1, tf.tensor_scatter_nd_update(values, indices, updates)

        _, swapped = tf.while_loop(
            lambda i, values: i < num_rounds,
            swap_round,
            [tf.constant(0, tf.int64), flat],
        )
        return swapped
