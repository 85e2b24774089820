"""Top-k sampling: draws among the k most probable tokens."""

import keras
from keras import ops

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.samplers.random_sampler import check_seed
from keras_nlp_clone.samplers.random_sampler import sample
from keras_nlp_clone.samplers.sampler import Sampler
from keras_nlp_clone.utils import argument_checks


def check_vocabulary_size(name, k, probabilities):
    """Raises a `ValueError` when `k` exceeds the (static) vocabulary size."""
    vocabulary_size = probabilities.shape[-1]
    if vocabulary_size is not None and k > vocabulary_size:
        raise ValueError(
            f"`{name}={k}` is larger than the vocabulary "
            f"({vocabulary_size} tokens). Use `{name} <= {vocabulary_size}`."
        )


@keras_nlp_clone_export
class TopKSampler(Sampler):
    """Top-k sampling: draws the next token among the `k` most probable.

    The `k` most probable tokens of `softmax(logits / temperature)` are
    kept, their probabilities renormalised, and one is drawn. `k=1` is
    greedy search. Seeds behave as in `RandomSampler`.

    Args:
        k: int. How many of the most probable tokens to draw from. Defaults
            to `5`.
        seed: int or `None`. The seed of the sampler's random stream;
            `None` draws a random one. Defaults to `None`.
        **kwargs: passed to `Sampler` (`temperature`).

    Call arguments:
        See `Sampler`.

    Returns:
        An int tensor of shape `(batch, max_length)`, the filled prompt.

    Raises:
        ValueError: when `k` is not a positive int, is larger than the
            vocabulary, or `seed` is not `None` or an int.

    Examples:
    >>> import numpy as np
    >>> import keras
    >>> import keras_nlp_clone
    >>> logits = np.log(np.array([0.6, 0.3, 0.05, 0.05], "float32"))
    >>> def next(prompt, cache, index):
    ...     batch = keras.ops.shape(prompt)[0]
    ...     return keras.ops.tile(logits[None, :], (batch, 1)), None, cache
    >>> sampler = keras_nlp_clone.samplers.TopKSampler(k=2, seed=42)
    >>> tokens = keras.ops.convert_to_numpy(
    ...     sampler(next, np.zeros((2, 8), "int32"))
    ... )
    >>> bool(np.isin(tokens, [0, 1]).all())
    True

    References:
        - [Fan et al., 2018](https://arxiv.org/abs/1805.04833), top-k
          sampling.
    """

    def __init__(self, k=5, seed=None, **kwargs):
        argument_checks.check_positive_integer(type(self).__name__, "k", k)
        check_seed(seed)
        super().__init__(**kwargs)
        self.k = k
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def get_next_token(self, probabilities):
        check_vocabulary_size("k", self.k, probabilities)
        top_probabilities, top_indices = ops.top_k(
            probabilities, k=self.k, sorted=True
        )
        choice = sample(top_probabilities, self.seed_generator)
        return ops.squeeze(
            ops.take_along_axis(top_indices, choice[:, None], axis=-1),
            axis=-1,
        )

    def get_config(self):
        config = super().get_config()
        config.update({"k": self.k, "seed": self.seed})
        return config
