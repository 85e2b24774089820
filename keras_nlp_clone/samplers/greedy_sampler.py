"""Greedy decoding: always the most probable token."""

from keras import ops

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.samplers.sampler import Sampler


@keras_nlp_clone_export
class GreedySampler(Sampler):
    """Greedy search: picks the most probable token at each step.

    Deterministic; `temperature` does not change the result (the argmax of
    the logits stays the same). Ties go to the lowest token id.

    Args:
        **kwargs: passed to `Sampler` (`temperature`).

    Call arguments:
        See `Sampler`: `next`, `prompt`, `cache`, `index`, `mask`,
        `stop_token_ids`, `hidden_states`, `model`.

    Returns:
        An int tensor of shape `(batch, max_length)`, the filled prompt.

    Examples:
    >>> import numpy as np
    >>> import keras
    >>> import keras_nlp_clone
    >>> # Next token = previous token + 1 (mod 8).
    >>> table = np.roll(np.eye(8, dtype="float32"), 1, axis=1) * 10.0
    >>> def next(prompt, cache, index):
    ...     previous = keras.ops.take(prompt, index - 1, axis=1)
    ...     return keras.ops.take(table, previous, axis=0), None, cache
    >>> sampler = keras_nlp_clone.samplers.GreedySampler()
    >>> prompt = np.array([[6, 0, 0, 0]], "int32")
    >>> keras.ops.convert_to_numpy(sampler(next, prompt, index=1)).tolist()
    [[6, 7, 0, 1]]

    References:
        - KerasNLP `GreedySampler`:
          <https://keras.io/api/keras_nlp/samplers/greedy_sampler/>.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    def next_token_from_logits(self, logits):
        # The softmax keeps the order of the logits (`temperature` > 0), so
        # the argmax of the logits is the same token, without an
        # exponential over the vocabulary per step; it is also what
        # `transformers` takes, and it cannot merge two close logits into
        # equal float32 probabilities. A subclass that changes the
        # distribution or the choice keeps the general path.
        kind = type(self)
        if (
            kind.compute_probabilities is Sampler.compute_probabilities
            and kind.get_next_token is GreedySampler.get_next_token
        ):
            return ops.argmax(logits, axis=-1)
        return super().next_token_from_logits(logits)

    def get_next_token(self, probabilities):
        return ops.argmax(probabilities, axis=-1)
