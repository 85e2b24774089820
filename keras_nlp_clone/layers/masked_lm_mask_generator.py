"""Random masking of token ids for masked language model pretraining."""

import random

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.layers.preprocessing_layer import PreprocessingLayer
from keras_nlp_clone.utils import argument_checks
from keras_nlp_clone.utils.lazy_module import tf
from keras_nlp_clone.utils.tensor_utils import convert_to_ragged_batch
from keras_nlp_clone.utils.tensor_utils import preprocessing_function

# Sort keys of tokens that cannot be selected, and of padding when ragged
# rows are made dense (uniform draws are in [0, 1)).
_UNSELECTABLE_KEY = 2.0
_PADDING_KEY = 3.0


@keras_nlp_clone_export
class MaskedLMMaskGenerator(PreprocessingLayer):
    """Randomly masks token ids for masked language modeling (BERT's MLM).

    For every sequence, each token not listed in `unselectable_token_ids` is
    selected with probability `mask_selection_rate` (at most
    `mask_selection_length` per sequence). Each selected token is then
    replaced by `mask_token_id` with probability `mask_token_rate`, by a
    random id in `[0, vocabulary_size)` with probability `random_token_rate`,
    and otherwise left unchanged. The model is trained to predict the
    original ids at the selected positions.

    This is the selection of TensorFlow Text's `RandomItemSelector` and
    `MaskValuesChooser` (the number selected in a row is
    `ceil(mask_selection_rate * selectable tokens)`, capped at
    `mask_selection_length`, chosen uniformly among the selectable
    tokens), drawn with stateless TensorFlow ops keyed by one seed pair per
    call. The pairs come from a `tf.random.Generator` held by the layer, so
    every call draws new masks, also across `tf.data` iterators: a
    `Dataset.map` over this layer (or a preprocessor using it) gives new
    masks every epoch even when a new iterator is made per epoch under
    `keras.utils.set_random_seed` (TensorFlow's stateful random ops replay
    the same draws on every new iterator). The body is TensorFlow ops: the
    layer works eagerly under every Keras backend and inside
    `tf.data.Dataset.map`. Mapped with `num_parallel_calls`, batches take
    the generator's draws in the order the parallel calls run, so masks are
    then not repeatable run to run; `Task.fit` maps masking preprocessors
    sequentially for that reason.

    Args:
        vocabulary_size: int. The size of the vocabulary; random replacement
            ids are drawn from `[0, vocabulary_size)`.
        mask_selection_rate: float. The probability of selecting each
            selectable token, in `[0, 1]`.
        mask_token_id: int. The id of the mask token (e.g. BERT's `[MASK]`).
        mask_selection_length: int. The maximum number of selected tokens per
            sequence. When given, `mask_positions`, `mask_ids` and
            `mask_weights` are dense and padded to this length (padding has
            weight 0); when `None`, they are ragged and there is no cap.
            Defaults to `None`.
        unselectable_token_ids: list of int. Ids never selected, such as
            padding, `[CLS]` and `[SEP]`. Defaults to `[0]`.
        mask_token_rate: float. The probability that a selected token becomes
            `mask_token_id`. Defaults to `0.8`.
        random_token_rate: float. The probability that a selected token
            becomes a random id. `mask_token_rate + random_token_rate` must
            not exceed 1. Defaults to `0.1`.
        seed: int or `None`. Seeds the layer's random generator. When
            `None`, a seed is drawn from Python's `random` module (so
            `keras.utils.set_random_seed` makes runs repeat). Defaults to
            `None`.
        **kwargs: passed to `keras.layers.Layer` (`name`, `dtype`, ...). The
            layer's `dtype` (float32 by default) is that of `mask_weights`.

    Call arguments:
        inputs: token ids: a `tf.Tensor`, `tf.RaggedTensor`, NumPy array or
            (nested) Python list of ints, of shape `(seq,)` for one sequence
            or `(batch, seq)` for a batch (rows may differ in length).

    Returns:
        A dict with keys:
        - `"token_ids"`: the masked ids, with the input's shape and dtype
          (Python lists for ragged input, including nested Python lists,
          when called eagerly).
        - `"mask_positions"`: the selected positions, `(batch,
          mask_selection_length)` (ragged `(batch, None)` without
          `mask_selection_length`), `int64`, padded with 0.
        - `"mask_ids"`: the original ids at those positions, same shape as
          `mask_positions`, the input's dtype, padded with 0.
        - `"mask_weights"`: `1.0` for real selections and `0.0` for padding,
          same shape, the layer's dtype.
        Unbatched input gives outputs without the batch dimension.

    Raises:
        ValueError: when a rate is outside `[0, 1]`, when
            `mask_token_rate + random_token_rate > 1`, when
            `vocabulary_size` is not a positive integer, when
            `mask_token_id` is outside the vocabulary, or when
            `mask_selection_length` is not a positive integer.

    Examples:
    >>> import keras
    >>> import numpy as np
    >>> import keras_nlp_clone
    >>> masker = keras_nlp_clone.layers.MaskedLMMaskGenerator(
    ...     vocabulary_size=10, mask_selection_rate=1.0, mask_token_id=9,
    ...     mask_selection_length=4, unselectable_token_ids=[0],
    ...     mask_token_rate=1.0, random_token_rate=0.0)
    >>> out = masker(np.array([[5, 6, 7, 0], [3, 4, 0, 0]]))
    >>> keras.ops.convert_to_numpy(out["token_ids"]).tolist()
    [[9, 9, 9, 0], [9, 9, 0, 0]]
    >>> keras.ops.convert_to_numpy(out["mask_positions"]).tolist()
    [[0, 1, 2, 0], [0, 1, 0, 0]]
    >>> keras.ops.convert_to_numpy(out["mask_ids"]).tolist()
    [[5, 6, 7, 0], [3, 4, 0, 0]]
    >>> keras.ops.convert_to_numpy(out["mask_weights"]).tolist()
    [[1.0, 1.0, 1.0, 0.0], [1.0, 1.0, 0.0, 0.0]]

    Ragged input (a nested Python list) gives ragged `token_ids`, returned
    as Python lists.

    References:
        - [Devlin et al., 2019](https://arxiv.org/abs/1810.04805), section
          3.1, the 80/10/10 masking procedure.
    """

    def __init__(
        self,
        vocabulary_size,
        mask_selection_rate,
        mask_token_id,
        mask_selection_length=None,
        unselectable_token_ids=[0],
        mask_token_rate=0.8,
        random_token_rate=0.1,
        seed=None,
        **kwargs,
    ):
        owner = type(self).__name__
        argument_checks.check_positive_integer(
            owner, "vocabulary_size", vocabulary_size
        )
        for name, rate in (
            ("mask_selection_rate", mask_selection_rate),
            ("mask_token_rate", mask_token_rate),
            ("random_token_rate", random_token_rate),
        ):
            argument_checks.check_number_in_range(owner, name, rate, 0, 1)
        if mask_token_rate + random_token_rate > 1.0:
            raise ValueError(
                "`mask_token_rate + random_token_rate` must be at most 1. "
                f"Received: mask_token_rate={mask_token_rate!r} and "
                f"random_token_rate={random_token_rate!r}. Lower one of "
                "them; the rest of the selected tokens are left unchanged."
            )
        argument_checks.check_integer(
            owner,
            "mask_token_id",
            mask_token_id,
            minimum=0,
            maximum=vocabulary_size - 1,
            hint="It must be an id in the vocabulary.",
        )
        argument_checks.check_positive_integer(
            owner,
            "mask_selection_length",
            mask_selection_length,
            allow_none=True,
        )
        argument_checks.check_integer(owner, "seed", seed, allow_none=True)
        super().__init__(**kwargs)
        self.vocabulary_size = vocabulary_size
        self.mask_selection_rate = mask_selection_rate
        self.mask_token_id = mask_token_id
        self.mask_selection_length = mask_selection_length
        self.unselectable_token_ids = list(unselectable_token_ids or [])
        self.mask_token_rate = mask_token_rate
        self.random_token_rate = random_token_rate

        self.seed = seed
        # Created now, eagerly and on the CPU: `tf.data` traces `call` in a
        # graph, where no variable may be created, and runs on the host.
        with tf.init_scope(), tf.device("/CPU:0"):
            self._generator = tf.random.Generator.from_seed(
                random.randint(1, int(1e9)) if seed is None else seed
            )

    def _select(self, x, seed):
        """A boolean vector over `x.flat_values`: the selected tokens."""
        flat = x.flat_values
        selectable = tf.ones_like(flat, dtype=tf.bool)
        if self.unselectable_token_ids:
            unselectable = tf.constant(self.unselectable_token_ids, flat.dtype)
            selectable = ~tf.reduce_any(
                tf.equal(flat[:, None], unselectable[None, :]), axis=-1
            )
        num_selectable = tf.reduce_sum(
            x.with_flat_values(tf.cast(selectable, tf.int64)), axis=1
        )
        num_to_select = tf.cast(
            tf.math.ceil(
                tf.cast(num_selectable, tf.float32) * self.mask_selection_rate
            ),
            tf.int64,
        )
        if self.mask_selection_length is not None:
            num_to_select = tf.minimum(
                num_to_select, self.mask_selection_length
            )
        # A uniform random order of each row's selectable tokens: the
        # `num_to_select` first in it are selected.
        keys = tf.random.stateless_uniform(
            tf.shape(flat), seed=tf.random.experimental.stateless_fold_in(seed, 0)
        )
        keys = tf.where(selectable, keys, _UNSELECTABLE_KEY)
        dense_keys = x.with_flat_values(keys).to_tensor(_PADDING_KEY)
        ranks = tf.argsort(tf.argsort(dense_keys, axis=1, stable=True), axis=1)
        ranks = tf.RaggedTensor.from_tensor(
            ranks, lengths=x.row_lengths()
        ).flat_values
        rows = x.value_rowids()
        return selectable & (
            tf.cast(ranks, tf.int64) < tf.gather(num_to_select, rows)
        )

    def _mask_values(self, flat, seed):
        """What each token becomes if selected: the mask token
        (`mask_token_rate`), a random id (`random_token_rate`) or itself."""
        choice = tf.random.stateless_uniform(
            tf.shape(flat), seed=tf.random.experimental.stateless_fold_in(seed, 1)
        )
        random_ids = tf.random.stateless_uniform(
            tf.shape(flat),
            seed=tf.random.experimental.stateless_fold_in(seed, 2),
            minval=0,
            maxval=self.vocabulary_size,
            dtype=tf.int64,
        )
        values = tf.where(
            choice < self.random_token_rate + self.mask_token_rate,
            tf.cast(random_ids, flat.dtype),
            flat,
        )
        return tf.where(
            choice < self.mask_token_rate,
            tf.constant(self.mask_token_id, flat.dtype),
            values,
        )

    @preprocessing_function
    def call(self, inputs):
        x, unbatched, rectangular = convert_to_ragged_batch(inputs)
        seed = self._generator.make_seeds(1)[:, 0]
        selected = self._select(x, seed)
        flat = x.flat_values
        token_ids = x.with_flat_values(
            tf.where(selected, self._mask_values(flat, seed), flat)
        )
        selected = x.with_flat_values(selected)
        positions = tf.ragged.range(x.row_lengths(), dtype=tf.int64)
        mask_positions = tf.ragged.boolean_mask(positions, selected)
        mask_ids = tf.ragged.boolean_mask(x, selected)
        if rectangular:
            token_ids = token_ids.to_tensor()
        mask_weights = tf.ones_like(mask_positions, dtype=self.compute_dtype)
        if self.mask_selection_length is not None:
            shape = [None, self.mask_selection_length]
            mask_positions = mask_positions.to_tensor(shape=shape)
            mask_ids = mask_ids.to_tensor(shape=shape)
            mask_weights = mask_weights.to_tensor(shape=shape)
        outputs = {
            "token_ids": token_ids,
            "mask_positions": mask_positions,
            "mask_ids": mask_ids,
            "mask_weights": mask_weights,
        }
        if unbatched:
            outputs = {k: tf.squeeze(v, axis=0) for k, v in outputs.items()}
        return outputs

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary_size": self.vocabulary_size,
                "mask_selection_rate": self.mask_selection_rate,
                "mask_token_id": self.mask_token_id,
                "mask_selection_length": self.mask_selection_length,
                "unselectable_token_ids": self.unselectable_token_ids,
                "mask_token_rate": self.mask_token_rate,
                "random_token_rate": self.random_token_rate,
                "seed": self.seed,
            }
        )
        return config
