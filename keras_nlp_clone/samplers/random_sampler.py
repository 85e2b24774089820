"""Sampling from the whole next-token distribution."""

import keras
from keras import ops

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.samplers.sampler import Sampler


def check_seed(seed):
    """Raises a `ValueError` unless `seed` is `None` or an int."""
    if seed is not None and (
        isinstance(seed, bool) or not isinstance(seed, int)
    ):
        raise ValueError(
            "`seed` must be `None` (a random seed) or an integer. "
            f"Received: seed={seed!r}."
        )


def sample(probabilities, seed_generator):
    """Draws one index per row of `probabilities` (rows need not sum to 1;
    zero entries are never drawn). Returns int32 of shape `(batch,)`."""
    log_probabilities = ops.log(ops.cast(probabilities, "float32"))
    samples = keras.random.categorical(
        log_probabilities, 1, seed=seed_generator, dtype="int32"
    )
    return ops.squeeze(samples, axis=-1)


@keras_nlp_clone_export
class RandomSampler(Sampler):
    """Random sampling: draws the next token from the full distribution.

    Each token is drawn with its probability `softmax(logits /
    temperature)`. The draws come from a `keras.random.SeedGenerator`
    seeded with `seed`: two samplers built with the same integer seed give
    the same tokens for the same inputs, and each call of one sampler goes
    on with the random stream (see `Sampler` for seeds inside compiled
    functions).

    Args:
        seed: int or `None`. The seed of the sampler's random stream;
            `None` draws a random one. Defaults to `None`.
        **kwargs: passed to `Sampler` (`temperature`).

    Call arguments:
        See `Sampler`.

    Returns:
        An int tensor of shape `(batch, max_length)`, the filled prompt.

    Raises:
        ValueError: when `seed` is not `None` or an int.

    Examples:
    >>> import numpy as np
    >>> import keras
    >>> import keras_nlp_clone
    >>> logits = np.log(np.array([0.7, 0.2, 0.1], "float32"))
    >>> def next(prompt, cache, index):
    ...     batch = keras.ops.shape(prompt)[0]
    ...     return keras.ops.tile(logits[None, :], (batch, 1)), None, cache
    >>> sampler = keras_nlp_clone.samplers.RandomSampler(seed=42)
    >>> tokens = sampler(next, np.zeros((2, 6), "int32"))
    >>> tuple(tokens.shape)
    (2, 6)

    References:
        - KerasNLP `RandomSampler`:
          <https://keras.io/api/keras_nlp/samplers/random_sampler/>.
    """

    def __init__(self, seed=None, **kwargs):
        check_seed(seed)
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def get_next_token(self, probabilities):
        return sample(probabilities, self.seed_generator)

    def get_config(self):
        config = super().get_config()
        config.update({"seed": self.seed})
        return config
