"""Random initializers that draw on the host under JAX, with no compilation.

Keras' `RandomNormal` and `TruncatedNormal` call
`jax.random.*` eagerly on JAX, and JAX compiles that call once per weight
shape: about 0.14 s per new shape on a 2-core CPU, 2 to 3 s for a tiny
2-layer backbone, where PyTorch takes 0.05 s. Every new config pays it again,
and it is most of the time of building a model on JAX (test suites, notebooks
trying sizes, a first `fit`).

The classes here take the same arguments, give the same distributions and
serialize under their own registered names; on JAX, with no
`keras.distribution` set, they draw with NumPy's PCG64 generator seeded from
the initializer's seed, so building a model compiles nothing. On TensorFlow
and PyTorch, and on JAX under a distribution (where Keras initializes
sharded variables inside `jax.jit`), they defer to Keras unchanged. Values
are reproducible from `keras.utils.set_random_seed` on every backend, but
differ from Keras' own stream on JAX.
"""

import math

import keras
import numpy as np


def _draw_on_host():
    return (
        keras.backend.backend() == "jax"
        and keras.distribution.distribution() is None
    )


def _host_generator(seed):
    """A NumPy generator from a Keras initializer seed (int or
    `keras.random.SeedGenerator`)."""
    if isinstance(seed, keras.random.SeedGenerator):
        seed = [int(x) for x in keras.ops.convert_to_numpy(seed.next())]
        seed = [x % (2**32) for x in seed]
    return np.random.default_rng(seed)


def _as_dtype(values, dtype):
    dtype = keras.backend.standardize_dtype(dtype or keras.config.floatx())
    if dtype == "bfloat16":
        import ml_dtypes

        return values.astype(ml_dtypes.bfloat16)
    return values.astype(dtype)


def _truncated_normal(generator, shape, mean, stddev):
    """Normal draws resampled until every one lies within two standard
    deviations of the mean, as `keras.random.truncated_normal`."""
    size = math.prod(shape)
    values = generator.standard_normal(size, dtype=np.float32)
    outside = np.abs(values) > 2.0
    while outside.any():
        values[outside] = generator.standard_normal(
            int(outside.sum()), dtype=np.float32
        )
        outside = np.abs(values) > 2.0
    return (values * stddev + mean).reshape(shape)


@keras.saving.register_keras_serializable(package="keras_nlp_clone")
class HostRandomNormal(keras.initializers.RandomNormal):
    """`keras.initializers.RandomNormal`, drawn on the host under JAX.

    Same arguments and distribution as Keras' class (see the module
    docstring for when it draws with NumPy instead of `jax.random`).

    Args:
        mean: float. The mean. Defaults to `0.0`.
        stddev: float. The standard deviation. Defaults to `0.05`.
        seed: int, `keras.random.SeedGenerator` or `None`. As in Keras.

    Examples:
    >>> init = HostRandomNormal(stddev=0.02, seed=1)
    >>> init((2, 3)).shape
    (2, 3)
    """

    def __call__(self, shape, dtype=None):
        if not _draw_on_host():
            return super().__call__(shape, dtype=dtype)
        generator = _host_generator(self.seed)
        values = generator.standard_normal(math.prod(shape), dtype=np.float32)
        return _as_dtype(
            (values * self.stddev + self.mean).reshape(shape), dtype
        )


@keras.saving.register_keras_serializable(package="keras_nlp_clone")
class HostTruncatedNormal(keras.initializers.TruncatedNormal):
    """`keras.initializers.TruncatedNormal`, drawn on the host under JAX.

    Values beyond two standard deviations of the mean are redrawn, as in
    Keras (see the module docstring for when it draws with NumPy).

    Args:
        mean: float. The mean. Defaults to `0.0`.
        stddev: float. The standard deviation before truncation. Defaults
            to `0.05`.
        seed: int, `keras.random.SeedGenerator` or `None`. As in Keras.

    Examples:
    >>> init = HostTruncatedNormal(stddev=0.02, seed=1)
    >>> init((2, 3)).shape
    (2, 3)
    """

    def __call__(self, shape, dtype=None):
        if not _draw_on_host():
            return super().__call__(shape, dtype=dtype)
        values = _truncated_normal(
            _host_generator(self.seed), shape, self.mean, self.stddev
        )
        return _as_dtype(values, dtype)
