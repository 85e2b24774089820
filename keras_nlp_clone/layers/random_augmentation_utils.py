"""The machinery shared by `RandomSwap` and `RandomDeletion`.

Both layers pick, in every row of tokens, a random number of "candidate"
tokens (those not skipped by `skip_list`, `skip_fn` or `skip_py_fn`): each
candidate is drawn independently with probability `rate`, and the count is
then capped by `max_swaps` / `max_deletions`. The randomness comes from
stateless TensorFlow ops keyed by one seed pair per call, taken from a
`tf.random.Generator` seeded with the layer's `seed` (or from the call's
`rng`), so seeded runs repeat exactly, eagerly and inside `tf.data`.
"""

import random

import keras
import numpy as np

from keras_nlp_clone.layers.preprocessing_layer import PreprocessingLayer
from keras_nlp_clone.utils import argument_checks
from keras_nlp_clone.utils.lazy_module import tf
from keras_nlp_clone.utils.tensor_utils import is_int_dtype
from keras_nlp_clone.utils.tensor_utils import is_string_dtype
from keras_nlp_clone.utils.tensor_utils import preprocessing_function


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(
        value, (bool, np.bool_)
    )


class RandomTokenAugmentation(PreprocessingLayer):
    """Base class of the token augmentation layers (not public).

    Subclasses set `_max_count_name` (the name of their cap argument, for
    configs and errors) and implement `_augment_batch(x, skip, seed)`, which
    gets a rank 2 `tf.RaggedTensor` batch, a boolean vector over its flat
    values (True for skipped tokens) and an int64 seed pair, and returns the
    augmented flat values or ragged batch.

    Args:
        rate: float in `[0, 1]`. The probability of each candidate token.
        max_count: int or `None`. The per-row cap on the count.
        skip_list, skip_fn, skip_py_fn: see `RandomSwap`; at most one.
        seed: int or `None`.
        name, dtype, **kwargs: passed to `keras.layers.Layer`.
    """

    _max_count_name = "max_count"

    def __init__(
        self,
        rate,
        max_count=None,
        skip_list=None,
        skip_fn=None,
        skip_py_fn=None,
        seed=None,
        name=None,
        dtype="int32",
        **kwargs,
    ):
        cls_name = self.__class__.__name__
        argument_checks.check_number_in_range(
            cls_name,
            "rate",
            rate,
            0,
            1,
            hint="It is the chance that each token is picked, e.g. "
            "`rate=0.1`.",
        )
        argument_checks.check_integer(
            cls_name,
            self._max_count_name,
            max_count,
            minimum=0,
            allow_none=True,
            hint="`None` means no cap.",
        )
        given = [
            arg
            for arg, value in (
                ("skip_list", skip_list),
                ("skip_fn", skip_fn),
                ("skip_py_fn", skip_py_fn),
            )
            if value is not None
        ]
        if len(given) > 1:
            raise ValueError(
                f"Pass at most one of `skip_list`, `skip_fn` and "
                f"`skip_py_fn` to {cls_name}. Received: "
                f"{', '.join(given)}. Fold the skip list into your function "
                "instead, e.g. `skip_py_fn=lambda t: t in skip_list or "
                "f(t)`."
            )
        for arg, fn in (("skip_fn", skip_fn), ("skip_py_fn", skip_py_fn)):
            if fn is not None and not callable(fn):
                raise ValueError(
                    f"`{arg}` must be a function of one token returning a "
                    f"bool. Received: {arg}={fn!r}."
                )
        if skip_list is not None:
            if isinstance(skip_list, (str, bytes)) or not isinstance(
                skip_list, (list, tuple)
            ):
                raise ValueError(
                    "`skip_list` must be a list of tokens (all strings or "
                    f"all integers). Received: skip_list={skip_list!r}."
                )
            skip_list = list(skip_list)
            all_str = all(isinstance(t, str) for t in skip_list)
            all_int = all(_is_int(t) for t in skip_list)
            if not (all_str or all_int):
                raise ValueError(
                    "`skip_list` must hold only strings or only integers. "
                    f"Received: skip_list={skip_list!r}."
                )
            skip_list = [t if all_str else int(t) for t in skip_list]
        if seed is not None and not _is_int(seed):
            raise ValueError(
                f"`seed` must be an integer or `None` in {cls_name}. "
                f"Received: seed={seed!r}."
            )
        dtype_name = str(getattr(dtype, "name", dtype))
        try:
            valid_dtype = is_int_dtype(dtype_name) or is_string_dtype(
                dtype_name
            )
        except (ValueError, TypeError):
            valid_dtype = False
        if not valid_dtype:
            raise ValueError(
                f"`dtype` must be an integer type (token ids) or "
                f'"string" (token strings) in {cls_name}. Received: '
                f"dtype={dtype!r}."
            )
        super().__init__(name=name, dtype=dtype, **kwargs)
        self.rate = float(rate)
        self._max_count = None if max_count is None else int(max_count)
        self.skip_list = skip_list
        self.skip_fn = skip_fn
        self.skip_py_fn = skip_py_fn
        # As KerasNLP: an unseeded layer draws its seed from Python's
        # `random` (so `keras.utils.set_random_seed` makes it repeat) and
        # records it in its config.
        self.seed = random.randint(1, int(1e9)) if seed is None else int(seed)

        # Created here, not on first call: `tf.data` traces `call` in a
        # graph, where no variable or table may be created.
        self._generator = tf.random.Generator.from_seed(self.seed)
        self._skip_table = None
        self._skip_strings = None
        if self.skip_list:
            self._skip_strings = isinstance(self.skip_list[0], str)
            keys = tf.constant(
                self.skip_list,
                dtype=tf.string if self._skip_strings else tf.int64,
            )
            self._skip_table = tf.lookup.StaticHashTable(
                # int64 -> bool tables have no CPU kernel; map to 0/1.
                tf.lookup.KeyValueTensorInitializer(
                    keys, tf.ones_like(keys, dtype=tf.int64)
                ),
                default_value=tf.constant(0, tf.int64),
            )

    # === Randomness ===

    def _call_seed(self, rng):
        """One int64 seed pair for this call's stateless ops."""
        if rng is None:
            return self._generator.make_seeds(1)[:, 0]
        if isinstance(rng, np.random.Generator):
            return tf.constant(rng.integers(0, 2**62, size=2), tf.int64)
        if not (tf.is_tensor(rng) or isinstance(rng, tf.Variable)):
            rng = tf.constant(np.asarray(keras.ops.convert_to_numpy(rng)))
        if not rng.dtype.is_integer:
            raise ValueError(
                "`rng` must be an `np.random.Generator`, an integer seed or "
                "a pair of integers (a stateless seed). Received: "
                f"rng={rng!r}."
            )
        rng = tf.cast(rng, tf.int64)
        if rng.shape.rank == 0:
            return tf.stack([tf.constant(0, tf.int64), rng])
        if rng.shape != (2,):
            raise ValueError(
                "`rng` as a tensor must be a scalar or have shape `(2,)`. "
                f"Received: shape={rng.shape}."
            )
        return rng

    # === Skipped tokens ===

    def _skip_mask(self, flat):
        """A boolean vector, True where `flat`'s token must not change."""
        is_string = flat.dtype == tf.string
        if self._skip_table is not None:
            if self._skip_strings != is_string:
                raise ValueError(
                    f"`skip_list` holds "
                    f"{'strings' if self._skip_strings else 'integers'} but "
                    f"the inputs are {flat.dtype.name} tokens. Pass a "
                    "`skip_list` of the same type as the tokens."
                )
            keys = flat if is_string else tf.cast(flat, tf.int64)
            return tf.equal(self._skip_table.lookup(keys), 1)
        if self.skip_fn is not None:
            # `skip_fn` is TensorFlow ops already; AutoGraph would only
            # warn that it cannot read a lambda's source.
            mask = tf.map_fn(
                tf.autograph.experimental.do_not_convert(
                    lambda t: tf.cast(self.skip_fn(t), tf.bool)
                ),
                flat,
                fn_output_signature=tf.bool,
            )
            mask.set_shape(flat.shape)
            return mask
        if self.skip_py_fn is not None:
            fn = self.skip_py_fn

            def run(values):
                values = values.numpy()
                if is_string:
                    tokens = [v.decode("utf-8") for v in values]
                else:
                    tokens = values.tolist()
                return np.array([bool(fn(t)) for t in tokens], dtype=bool)

            mask = tf.py_function(run, [flat], Tout=tf.bool)
            mask.set_shape(flat.shape)
            return mask
        return tf.zeros(tf.shape(flat), dtype=tf.bool)

    # === Call ===

    def call(self, inputs, rng=None):
        return self._augment(inputs, self._call_seed(rng))

    @preprocessing_function
    def _augment(self, inputs, seed):
        if inputs.shape.rank not in (1, 2):
            raise ValueError(
                f"{self.__class__.__name__} takes one sequence of tokens "
                "(rank 1) or a batch of them (rank 2, dense or ragged). "
                f"Received: inputs of rank {inputs.shape.rank}."
            )
        if inputs.dtype != tf.string and not inputs.dtype.is_integer:
            raise ValueError(
                f"{self.__class__.__name__} takes string or integer tokens. "
                f"Received: inputs of dtype {inputs.dtype.name}. Split text "
                "into tokens first, e.g. with `tf.strings.split`."
            )
        unbatched = inputs.shape.rank == 1
        x = inputs[tf.newaxis] if unbatched else inputs
        if isinstance(x, tf.Tensor):
            x = tf.RaggedTensor.from_tensor(x)
        skip = self._skip_mask(x.flat_values)
        outputs = self._augment_batch(x, skip, seed)
        if isinstance(outputs, tf.RaggedTensor):
            return outputs[0] if unbatched else outputs
        # Flat values of a length-preserving augmentation.
        if isinstance(inputs, tf.Tensor):
            return tf.reshape(outputs, tf.shape(inputs))
        return x.with_flat_values(outputs)

    def _augment_batch(self, x, skip, seed):
        raise NotImplementedError

    def _candidate_draws(self, x, skip, seed):
        """Picks candidates: `(picked, uniforms)` over the flat values.

        `picked` is True where a candidate drew below `rate`, before the
        cap; `uniforms` are the draws, 2.0 at skipped tokens.
        """
        uniforms = tf.random.stateless_uniform(
            tf.shape(x.flat_values),
            seed=tf.random.experimental.stateless_fold_in(seed, 0),
        )
        uniforms = tf.where(skip, tf.constant(2.0), uniforms)
        return uniforms < self.rate, uniforms

    def _ranks_in_row(self, x, uniforms):
        """The rank (0 = smallest) of each flat value's draw in its row."""
        row_ids = tf.cast(x.value_rowids(), tf.int64)
        order = tf.argsort(uniforms, stable=True)
        order = tf.gather(
            order, tf.argsort(tf.gather(row_ids, order), stable=True)
        )
        position = tf.cast(tf.math.invert_permutation(order), tf.int64)
        return position - tf.gather(x.row_splits, row_ids)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "rate": self.rate,
                self._max_count_name: self._max_count,
                "skip_list": self.skip_list,
                "skip_fn": self.skip_fn,
                "skip_py_fn": self.skip_py_fn,
                "seed": self.seed,
            }
        )
        return config
