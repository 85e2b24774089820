"""Contrastive search: likely tokens that do not repeat the context."""

import keras
from keras import ops

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.samplers.beam_sampler import expand_beams
from keras_nlp_clone.samplers.beam_sampler import gather_rows
from keras_nlp_clone.samplers.beam_sampler import unflatten_beams
from keras_nlp_clone.samplers.sampler import Sampler
from keras_nlp_clone.samplers.sampler import column
from keras_nlp_clone.samplers.sampler import normalize_stop_token_ids
from keras_nlp_clone.samplers.sampler import not_done
from keras_nlp_clone.samplers.sampler import prepare_mask
from keras_nlp_clone.samplers.top_k_sampler import check_vocabulary_size
from keras_nlp_clone.utils import argument_checks

# Guards the cosine similarity against zero vectors.
_NORM_EPSILON = 1e-12


@keras_nlp_clone_export
class ContrastiveSampler(Sampler):
    """Contrastive search: picks likely tokens that differ from the context.

    At each step the `k` most probable tokens are candidates. Each is fed
    to the model (one `next` call for the `k` candidates of every sequence,
    with the cache repeated per candidate) to get its hidden state, and
    scored

        (1 - alpha) * p(candidate) - alpha * max_j cos(h_candidate, h_j)

    where `p` is `softmax(logits / temperature)` and `h_j` are the hidden
    states of the positions before it. The best-scoring candidate is kept,
    with its cache, hidden state and next logits (so each step costs one
    `next` call on `batch * k` rows). `alpha=0` is greedy search; a larger
    `alpha` penalises tokens whose representation repeats the context.

    `next` must return the hidden state of the token it is fed (position
    `index - 1`); it is called with `index` up to `max_length`. The caller
    passes the prompt's hidden states as `hidden_states`.

    Args:
        k: int. The number of candidates per step. Defaults to `5`.
        alpha: float in `[0, 1]`. The weight of the degeneration penalty.
            Defaults to `0.6`.
        **kwargs: passed to `Sampler` (`temperature`).

    Call arguments:
        See `Sampler`. `hidden_states` is required: a float tensor of shape
        `(batch, max_length, hidden_dim)` holding (at least) the hidden
        states of positions before `index`; the positions generated are
        written into it as the loop goes.

    Returns:
        An int tensor of shape `(batch, max_length)`, the filled prompt.

    Raises:
        ValueError: when `hidden_states` is `None`, `k` is not a positive
            int (or exceeds the vocabulary), `alpha` is not in `[0, 1]`, or
            for a bad `stop_token_ids`.

    Examples:
    >>> import numpy as np
    >>> import keras
    >>> import keras_nlp_clone
    >>> # Token 0 is likeliest, but its hidden state repeats the prompt's.
    >>> logits = np.log(np.array([0.5, 0.3, 0.2], "float32"))
    >>> embeddings = np.array([[1, 0], [1, 0.1], [0, 1]], "float32")
    >>> def next(prompt, cache, index):
    ...     previous = keras.ops.take(prompt, index - 1, axis=1)
    ...     batch = keras.ops.shape(prompt)[0]
    ...     hidden = keras.ops.take(embeddings, previous, axis=0)
    ...     return keras.ops.tile(logits[None], (batch, 1)), hidden, cache
    >>> prompt = np.array([[0, 0]], "int32")
    >>> hidden_states = embeddings[prompt]
    >>> sampler = keras_nlp_clone.samplers.ContrastiveSampler(k=3, alpha=0.5)
    >>> tokens = sampler(next, prompt, index=1, hidden_states=hidden_states)
    >>> keras.ops.convert_to_numpy(tokens).tolist()
    [[0, 2]]

    References:
        - [Su et al., 2022](https://arxiv.org/abs/2202.06417), a
          contrastive framework for neural text generation.
    """

    def __init__(self, k=5, alpha=0.6, **kwargs):
        owner = type(self).__name__
        argument_checks.check_positive_integer(owner, "k", k)
        argument_checks.check_number_in_range(
            owner,
            "alpha",
            alpha,
            0,
            1,
            hint="It is the weight of the degeneration penalty.",
        )
        super().__init__(**kwargs)
        self.k = k
        self.alpha = alpha

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
        if hidden_states is None:
            raise ValueError(
                "`ContrastiveSampler` needs the prompt's hidden states: pass "
                "`hidden_states` of shape `(batch, max_length, hidden_dim)`. "
                "Received: hidden_states=None."
            )
        stop_token_ids = normalize_stop_token_ids(stop_token_ids)
        k = self.k
        prompt = ops.convert_to_tensor(prompt)
        hidden_states = ops.convert_to_tensor(hidden_states)
        mask = prepare_mask(prompt, mask)
        index = ops.cast(index, "int32")
        max_length = ops.cast(ops.shape(prompt)[-1], "int32")
        start = index
        cache = () if cache is None else cache

        logits, _, cache = next(prompt, cache, index)
        cache = () if cache is None else cache
        check_vocabulary_size("k", k, logits)

        def cond(prompt, cache, index, logits, hidden_states):
            return not_done(prompt, mask, start, index, stop_token_ids)

        def body(prompt, cache, index, logits, hidden_states):
            probabilities = self.compute_probabilities(logits)
            top_probabilities, top_tokens = ops.top_k(
                probabilities, k=k, sorted=True
            )
            # One row per (sequence, candidate), the candidate written in.
            candidates = ops.reshape(ops.cast(top_tokens, prompt.dtype), (-1,))
            prompt_beams = expand_beams(prompt, k)
            fixed = expand_beams(column(mask, index), k)
            candidates = ops.where(
                fixed, column(prompt_beams, index), candidates
            )
            prompt_beams = ops.slice_update(
                prompt_beams, [0, index], candidates[:, None]
            )
            cache_beams = keras.tree.map_structure(
                lambda x: expand_beams(x, k), cache
            )
            next_logits, next_hidden, cache_beams = next(
                prompt_beams, cache_beams, index + 1
            )
            cache_beams = () if cache_beams is None else cache_beams

            # Max cosine similarity of each candidate to the context.
            candidate_hidden = unflatten_beams(
                ops.cast(next_hidden, "float32"), k
            )
            context = ops.cast(hidden_states, "float32")
            candidate_hidden = candidate_hidden / ops.maximum(
                ops.norm(candidate_hidden, axis=-1, keepdims=True),
                _NORM_EPSILON,
            )
            context = context / ops.maximum(
                ops.norm(context, axis=-1, keepdims=True), _NORM_EPSILON
            )
            similarity = ops.einsum("bkh,blh->bkl", candidate_hidden, context)
            before = ops.arange(ops.shape(context)[1], dtype="int32") < index
            # Positions not yet reached count as the lowest similarity, -1.
            similarity = ops.where(
                before[None, None, :], similarity, -ops.ones_like(similarity)
            )
            max_similarity = ops.max(similarity, axis=-1)
            scores = (1.0 - self.alpha) * top_probabilities
            scores = scores - self.alpha * max_similarity
            best = ops.argmax(scores, axis=-1)

            batch_size = ops.shape(best)[0]
            rows = ops.arange(batch_size, dtype=best.dtype) * k + best
            prompt = gather_rows(prompt_beams, rows)
            logits = gather_rows(next_logits, rows)
            cache = keras.tree.map_structure(
                lambda x: gather_rows(x, rows), cache_beams
            )
            best_hidden = ops.cast(
                gather_rows(next_hidden, rows), hidden_states.dtype
            )
            hidden_states = ops.slice_update(
                hidden_states, [0, index, 0], best_hidden[:, None, :]
            )
            return prompt, cache, index + 1, logits, hidden_states

        prompt, _, _, _, _ = self.run_loop(
            cond,
            body,
            model=model,
            loop_vars=(prompt, cache, index, logits, hidden_states),
            maximum_iterations=max_length - index,
        )
        return prompt

    def get_next_token(self, probabilities):
        raise NotImplementedError(
            "`ContrastiveSampler` scores candidates with the model's hidden "
            "states inside `__call__`; it has no per-step "
            "`get_next_token`. Call the sampler instead."
        )

    def get_config(self):
        config = super().get_config()
        config.update({"k": self.k, "alpha": self.alpha})
        return config
