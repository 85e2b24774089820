"""Beam search: keeps the most probable partial sequences."""

import keras
from keras import ops

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.samplers.sampler import Sampler
from keras_nlp_clone.samplers.sampler import column
from keras_nlp_clone.samplers.sampler import normalize_stop_token_ids
from keras_nlp_clone.samplers.sampler import not_done
from keras_nlp_clone.samplers.sampler import prepare_mask
from keras_nlp_clone.utils import argument_checks

# The score of the beams that do not exist yet: before the first generated
# token all beams of a sequence are copies of the prompt, and only the first
# may be extended.
_EMPTY_BEAM_SCORE = -1e9


def expand_beams(x, num_beams):
    """`(batch, ...)` to `(batch * num_beams, ...)`, each row repeated."""
    return ops.repeat(x, num_beams, axis=0)


def unflatten_beams(x, num_beams):
    """`(batch * num_beams, ...)` to `(batch, num_beams, ...)`."""
    return ops.reshape(x, (-1, num_beams) + tuple(_shape(x)[1:]))


def _shape(x):
    """The shape of `x`, static where known and dynamic elsewhere."""
    static = tuple(x.shape)
    if all(d is not None for d in static):
        return static
    dynamic = ops.shape(x)
    return tuple(s if s is not None else d for s, d in zip(static, dynamic))


def gather_rows(x, rows):
    """`x[rows]` along the first axis."""
    return ops.take(x, rows, axis=0)


@keras_nlp_clone_export
class BeamSampler(Sampler):
    """Beam search: keeps the `num_beams` most probable sequences.

    Each sequence of the batch is expanded into `num_beams` beams. At each
    step every beam is extended by every token; of those `num_beams *
    vocab` candidates the `num_beams` with the highest summed
    log-probability (the log of `softmax(logits / temperature)`, summed over
    the generated tokens, no length penalty) become the new beams. The cache
    is repeated per beam and reordered with them, so `next` always sees the
    cache of the beam it extends. Positions fixed by `mask` (prompts longer
    than `index`) are copied into every beam and not scored. When
    `stop_token_ids` is given, the search stops once every beam holds a stop
    token; finished beams go on being extended (and scored) until then, as
    in KerasNLP.

    Args:
        num_beams: int. The number of beams. `1` is greedy search. Defaults
            to `5`.
        return_all_beams: bool. When True, return every beam and its score,
            best first, instead of the best beam only. Defaults to `False`.
        **kwargs: passed to `Sampler` (`temperature`).

    Call arguments:
        See `Sampler`. The cache's leaves must have the batch as their first
        dimension (they are repeated and reordered along it).

    Returns:
        An int tensor of shape `(batch, max_length)`, the best beam of each
        sequence. With `return_all_beams=True`, a tuple `(sorted_beams,
        sorted_log_probs)`: int `(batch, num_beams, max_length)` and float32
        `(batch, num_beams)`, sorted by decreasing log-probability.

    Raises:
        ValueError: when `num_beams` is not a positive int, or for a bad
            `stop_token_ids`.

    Examples:
    >>> import numpy as np
    >>> import keras
    >>> import keras_nlp_clone
    >>> # Token 1 looks best first, but 2 then 3 is the likelier pair.
    >>> table = np.log(np.array([
    ...     [0.1, 0.5, 0.4, 0.0001],
    ...     [0.3, 0.3, 0.4, 0.0001],
    ...     [0.0001, 0.0001, 0.0001, 1.0],
    ...     [0.25, 0.25, 0.25, 0.25],
    ... ], "float32"))
    >>> def next(prompt, cache, index):
    ...     previous = keras.ops.take(prompt, index - 1, axis=1)
    ...     return keras.ops.take(table, previous, axis=0), None, cache
    >>> prompt = np.array([[0, 0, 0]], "int32")
    >>> sampler = keras_nlp_clone.samplers.BeamSampler(num_beams=2)
    >>> keras.ops.convert_to_numpy(sampler(next, prompt, index=1)).tolist()
    [[0, 2, 3]]

    References:
        - [Graves, 2012](https://arxiv.org/abs/1211.3711) and
          [Sutskever et al., 2014](https://arxiv.org/abs/1409.3215), beam
          search decoding.
    """

    def __init__(self, num_beams=5, return_all_beams=False, **kwargs):
        argument_checks.check_positive_integer(
            type(self).__name__, "num_beams", num_beams
        )
        if not isinstance(return_all_beams, bool):
            raise ValueError(
                "`return_all_beams` must be a bool. Received: "
                f"return_all_beams={return_all_beams!r}."
            )
        super().__init__(**kwargs)
        self.num_beams = num_beams
        self.return_all_beams = return_all_beams

    def __call__(
        self,
        next,
        prompt,
        cache=None,
        index=0,
        mask=None,
        stop_token_ids=None,
        hidden_states=None,
        model=None,
    ):
        stop_token_ids = normalize_stop_token_ids(stop_token_ids)
        num_beams = self.num_beams
        prompt = ops.convert_to_tensor(prompt)
        mask = prepare_mask(prompt, mask)
        index = ops.cast(index, "int32")
        max_length = ops.cast(ops.shape(prompt)[-1], "int32")
        start = index

        prompt = expand_beams(prompt, num_beams)
        mask = expand_beams(mask, num_beams)
        cache = () if cache is None else cache
        cache = keras.tree.map_structure(
            lambda x: expand_beams(x, num_beams), cache
        )
        # Only the first beam of each sequence is live at the start.
        beam_position = ops.arange(ops.shape(prompt)[0], dtype="int32")
        beam_position = beam_position % num_beams
        log_probs = ops.where(
            beam_position == 0,
            ops.zeros_like(beam_position, dtype="float32"),
            ops.full_like(beam_position, _EMPTY_BEAM_SCORE, dtype="float32"),
        )

        def cond(prompt, cache, index, log_probs):
            return not_done(prompt, mask, start, index, stop_token_ids)

        def body(prompt, cache, index, log_probs):
            logits, _, cache = next(prompt, cache, index)
            cache = () if cache is None else cache
            logits = ops.cast(logits, "float32")
            vocab_size = ops.shape(logits)[-1]
            token_log_probs = ops.log_softmax(
                logits / self.temperature, axis=-1
            )
            # Scores of every (beam, token) extension, per sequence.
            candidates = log_probs[:, None] + token_log_probs
            candidates = ops.reshape(candidates, (-1, num_beams * vocab_size))
            top_scores, top_indices = ops.top_k(
                candidates, k=num_beams, sorted=True
            )
            source_beam = top_indices // vocab_size
            next_token = top_indices % vocab_size

            # A position fixed by the mask: each beam keeps itself, takes
            # the prompt token and its score does not change.
            fixed = unflatten_beams(column(mask, index), num_beams)
            fixed_token = unflatten_beams(column(prompt, index), num_beams)
            keep_beam = ops.arange(num_beams, dtype=source_beam.dtype)
            source_beam = ops.where(fixed, keep_beam[None, :], source_beam)
            next_token = ops.where(
                fixed, fixed_token, ops.cast(next_token, prompt.dtype)
            )
            new_log_probs = ops.where(
                fixed, unflatten_beams(log_probs, num_beams), top_scores
            )

            batch_size = ops.shape(source_beam)[0]
            sequence = ops.arange(batch_size, dtype=source_beam.dtype)
            rows = ops.reshape(
                sequence[:, None] * num_beams + source_beam, (-1,)
            )
            prompt = gather_rows(prompt, rows)
            cache = keras.tree.map_structure(
                lambda x: gather_rows(x, rows), cache
            )
            prompt = ops.slice_update(
                prompt, [0, index], ops.reshape(next_token, (-1, 1))
            )
            log_probs = ops.reshape(new_log_probs, (-1,))
            return prompt, cache, index + 1, log_probs

        prompt, _, _, log_probs = self.run_loop(
            cond,
            body,
            model=model,
            loop_vars=(prompt, cache, index, log_probs),
            maximum_iterations=max_length - index,
        )

        all_log_probs = unflatten_beams(log_probs, num_beams)
        # Beams of each sequence, best first.
        order = ops.argsort(-all_log_probs, axis=-1)
        if not self.return_all_beams:
            order = order[:, :1]
        batch_size = ops.shape(order)[0]
        sequence = ops.arange(batch_size, dtype=order.dtype)
        rows = ops.reshape(sequence[:, None] * num_beams + order, (-1,))
        if not self.return_all_beams:
            return gather_rows(prompt, rows)
        sorted_beams = unflatten_beams(gather_rows(prompt, rows), num_beams)
        sorted_log_probs = unflatten_beams(
            gather_rows(log_probs, rows), num_beams
        )
        return sorted_beams, sorted_log_probs

    def get_next_token(self, probabilities):
        raise NotImplementedError(
            "`BeamSampler` picks tokens over whole beams inside `__call__`; "
            "it has no per-step `get_next_token`. Call the sampler instead, "
            "or use `GreedySampler` for the most probable token."
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_beams": self.num_beams,
                "return_all_beams": self.return_all_beams,
            }
        )
        return config
