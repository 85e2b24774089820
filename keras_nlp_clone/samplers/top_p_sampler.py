"""Top-p (nucleus) sampling: draws within the smallest likely set."""

import keras
from keras import ops

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.samplers.random_sampler import check_seed
from keras_nlp_clone.samplers.random_sampler import sample
from keras_nlp_clone.samplers.sampler import Sampler
from keras_nlp_clone.samplers.top_k_sampler import check_vocabulary_size
from keras_nlp_clone.utils import argument_checks


@keras_nlp_clone_export
class TopPSampler(Sampler):
    """Top-p (nucleus) sampling: draws from the smallest set of tokens whose
    probability adds up to at least `p`.

    Tokens are sorted by probability (`softmax(logits / temperature)`); the
    most probable is always kept, and each next one is kept while the
    cumulative probability of the tokens before it is at most `p`. The kept
    probabilities are renormalised and one token is drawn. A tiny `p` is
    greedy search. With `k`, only the `k` most probable tokens are
    considered first (faster for large vocabularies). Seeds behave as in
    `RandomSampler`.

    Args:
        p: float in `(0, 1]`. The probability mass of the nucleus. Defaults
            to `0.1`.
        k: int or `None`. When set, sort and draw only among the `k` most
            probable tokens. Defaults to `None` (the whole vocabulary).
        seed: int or `None`. The seed of the sampler's random stream;
            `None` draws a random one. Defaults to `None`.
        **kwargs: passed to `Sampler` (`temperature`).

    Call arguments:
        See `Sampler`.

    Returns:
        An int tensor of shape `(batch, max_length)`, the filled prompt.

    Raises:
        ValueError: when `p` is not in `(0, 1]`, `k` is not `None` or a
            positive int (or exceeds the vocabulary), or `seed` is not
            `None` or an int.

    Examples:
    >>> import numpy as np
    >>> import keras
    >>> import keras_nlp_clone
    >>> logits = np.log(np.array([0.5, 0.3, 0.15, 0.05], "float32"))
    >>> def next(prompt, cache, index):
    ...     batch = keras.ops.shape(prompt)[0]
    ...     return keras.ops.tile(logits[None, :], (batch, 1)), None, cache
    >>> sampler = keras_nlp_clone.samplers.TopPSampler(p=0.7, seed=42)
    >>> tokens = keras.ops.convert_to_numpy(
    ...     sampler(next, np.zeros((2, 8), "int32"))
    ... )
    >>> bool(np.isin(tokens, [0, 1]).all())
    True

    References:
        - [Holtzman et al., 2020](https://arxiv.org/abs/1904.09751),
          nucleus sampling.
    """

    def __init__(self, p=0.1, k=None, seed=None, **kwargs):
        owner = type(self).__name__
        argument_checks.check_number_in_range(
            owner,
            "p",
            p,
            0,
            1,
            low_inclusive=False,
            hint="It is the probability mass of the nucleus.",
        )
        argument_checks.check_positive_integer(owner, "k", k, allow_none=True)
        check_seed(seed)
        super().__init__(**kwargs)
        self.p = p
        self.k = k
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def get_next_token(self, probabilities):
        if self.k is None:
            cutoff = ops.shape(probabilities)[-1]
        else:
            check_vocabulary_size("k", self.k, probabilities)
            cutoff = self.k
        sorted_probabilities, sorted_indices = ops.top_k(
            probabilities, k=cutoff, sorted=True
        )
        cumulative = ops.cumsum(sorted_probabilities, axis=-1)
        # Keep a token when the mass before it is at most `p`: the first
        # token always, and the one that crosses `p`.
        keep = ops.concatenate(
            [
                ops.ones_like(cumulative[:, :1], dtype="bool"),
                cumulative[:, :-1] <= self.p,
            ],
            axis=-1,
        )
        kept_probabilities = ops.where(
            keep, sorted_probabilities, ops.zeros_like(sorted_probabilities)
        )
        choice = sample(kept_probabilities, self.seed_generator)
        return ops.squeeze(
            ops.take_along_axis(sorted_indices, choice[:, None], axis=-1),
            axis=-1,
        )

    def get_config(self):
        config = super().get_config()
        config.update({"p": self.p, "k": self.k, "seed": self.seed})
        return config
