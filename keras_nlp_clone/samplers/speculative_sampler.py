"""Speculative decoding: a draft model proposes, the target verifies."""

import keras
from keras import ops

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.samplers.beam_sampler import BeamSampler
from keras_nlp_clone.samplers.contrastive_sampler import ContrastiveSampler
from keras_nlp_clone.samplers.greedy_sampler import GreedySampler
from keras_nlp_clone.samplers.random_sampler import check_seed
from keras_nlp_clone.samplers.random_sampler import sample
from keras_nlp_clone.samplers.sampler import Sampler
from keras_nlp_clone.samplers.sampler import column
from keras_nlp_clone.samplers.sampler import normalize_stop_token_ids
from keras_nlp_clone.samplers.sampler import not_done
from keras_nlp_clone.samplers.sampler import prepare_mask
from keras_nlp_clone.samplers.top_k_sampler import TopKSampler
from keras_nlp_clone.samplers.top_k_sampler import check_vocabulary_size
from keras_nlp_clone.samplers.top_p_sampler import TopPSampler
from keras_nlp_clone.utils import argument_checks


class _ModelGroup:
    """The variables of several models, for `Sampler.run_loop(model=...)`."""

    def __init__(self, models):
        self.models = [m for m in models if m is not None]

    @property
    def trainable_variables(self):
        return [v for m in self.models for v in m.trainable_variables]

    @property
    def non_trainable_variables(self):
        return [v for m in self.models for v in m.non_trainable_variables]


def _keep_at_least(probabilities, threshold):
    """`probabilities` zeroed below the per-row `threshold`, renormalised."""
    kept = ops.where(
        probabilities >= threshold[..., None],
        probabilities,
        ops.zeros_like(probabilities),
    )
    return kept / ops.sum(kept, axis=-1, keepdims=True)


@keras_nlp_clone_export
class SpeculativeSampler(Sampler):
    """Speculative decoding: a small draft model proposes, the target model
    verifies a block of tokens in one pass.

    Each iteration of the loop runs the draft model
    `num_speculative_tokens` (`K`) times autoregressively to propose tokens
    `x_1..x_K` for positions `index..index+K-1`, then runs the target model
    once over the block (`verify_next`), which gives the target's
    distributions `p_1..p_{K+1}` for positions `index..index+K`. Draft tokens
    are accepted from the left by the rule of Leviathan et al. (2023):

    - Greedy (`base_sampler=None` or a `GreedySampler`): the draft proposes
      its most probable token; `x_i` is accepted while it equals the
      target's most probable token; at the first mismatch (or after `K`
      accepted tokens) the target's most probable token is taken. The
      output is the target model's greedy output, token for token (up to
      floating-point near-ties: the block pass may round differently from a
      one-token pass).
    - Sampling (`base_sampler` a `RandomSampler`, `TopKSampler` or
      `TopPSampler`): `p` and `q` are the target's and the draft's
      distributions after the base sampler's temperature and filter; the
      draft draws `x_i ~ q_i`, which is accepted with probability
      `min(1, p_i(x_i) / q_i(x_i))`; at the first rejection the token is
      drawn from `norm(max(0, p_i - q_i))`, and when all `K` are accepted
      one more is drawn from `p_{K+1}`. Each generated token is then
      distributed exactly as the base sampler would draw it from the target
      model.

    The rows of a batch advance together: each iteration keeps, in every
    row, the tokens up to the shortest accepted prefix of the batch plus
    one (the correction or extra token of that row, the accepted draft token
    of the others), so every iteration writes at least one token. Positions
    that `mask` fixes count as accepted and keep their prompt tokens, and
    the loop stops as `Sampler`'s does once every row has generated a stop
    token (no token is written after the position where the last row
    stopped), so greedy speculative decoding returns the same ids as
    `GreedySampler`.

    The sampler draws all its random numbers from its own `seed`; the
    `base_sampler` only defines the distribution (its `seed` is unused).

    With a causal LM, pass the draft model to `compile` (see
    `CausalLM.compile`):

    ```python
    target.compile(
        sampler=keras_nlp_clone.samplers.SpeculativeSampler(4),
        draft_model=draft,
    )
    target.generate(prompts, max_length=64)
    ```

    Args:
        num_speculative_tokens: int. How many tokens the draft model
            proposes per iteration (`K`); each iteration calls the draft
            model `K + 1` times (the last call only writes the draft's cache)
            and the target once over `K + 1` positions. Limited to
            `max_length - 1` for short sequences. Defaults to `5`.
        base_sampler: `None`, or a `GreedySampler`, `RandomSampler`,
            `TopKSampler` or `TopPSampler` instance, name or config (see
            `keras_nlp_clone.samplers.get`): the distribution to sample
            from. `None` is greedy. Defaults to `None`.
        seed: int or `None`. The seed of the random draws (draft tokens,
            acceptance tests, corrections); `None` draws a random one.
            Defaults to `None`.
        **kwargs: passed to `Sampler` (`temperature`, used by the greedy
            path only, where it changes nothing).

    Call arguments:
        next: the target's `next(prompt, cache, index)` returning
            `(logits, hidden_states, cache)` (see `Sampler`). Used only when
            `verify_next` is `None`: the block is then verified with `K + 1`
            calls of `next` (same result, slower).
        prompt: int tensor of shape `(batch, max_length)`, as in `Sampler`.
        cache: the target's cache, as in `Sampler`. Defaults to `None`.
        index: int or int scalar tensor, the first position to generate.
            Defaults to `0` (must be at least 1 when `verify_next` is
            given).
        mask: bool tensor of shape `(batch, max_length)`, True at fixed
            positions, as in `Sampler`. Defaults to `None`.
        stop_token_ids: `None` or a tuple of token ids, as in `Sampler`.
            Defaults to `None`.
        hidden_states: unused (accepted for the common signature).
            Defaults to `None`.
        model: `None`, a `keras.Model`, or a tuple of models (the target and
            the draft) whose variables `next`, `draft_next` and
            `verify_next` read (mapped into the loop's stateless scope under
            JAX, as in `Sampler`). Defaults to `None`.
        draft_next: the draft model's `next(prompt, cache, index)`, same
            contract as `next`; its logits must have the target's
            vocabulary size. Required.
        draft_cache: `None` or the draft model's cache (any nested structure
            of tensors), carried through the loop. Defaults to `None`.
        verify_next: `None` or a function `verify_next(prompt, cache,
            index, length)` returning `(logits, hidden_states, cache)`:
            the target run on the `length` tokens at positions `index - 1`
            to `index + length - 2` (reading and updating its cache), with
            `logits` of shape `(batch, length, vocab)` scoring positions
            `index` to `index + length - 1`. Defaults to `None`.

    Returns:
        An int tensor of shape `(batch, max_length)`, the prompt with the
        generated tokens written in.

    Raises:
        ValueError: for a bad `num_speculative_tokens` or `seed`, a
            `base_sampler` that does not define a per-token distribution
            (beam or contrastive search), no `draft_next`, or a draft model
            whose vocabulary size differs from the target's (the message
            names both).
        TypeError: for unexpected call keyword arguments.

    Examples:
    >>> import numpy as np
    >>> import keras
    >>> import keras_nlp_clone
    >>> # Target: the next token is the previous one plus one (mod 8).
    >>> target = np.roll(np.eye(8, dtype="float32"), 1, axis=1) * 10.0
    >>> # Draft: agrees with the target except after token 5.
    >>> draft = target.copy()
    >>> draft[5] = np.eye(8, dtype="float32")[0] * 10.0
    >>> def make_next(table):
    ...     def next(prompt, cache, index):
    ...         previous = keras.ops.take(prompt, index - 1, axis=1)
    ...         return keras.ops.take(table, previous, axis=0), None, cache
    ...     return next
    >>> sampler = keras_nlp_clone.samplers.SpeculativeSampler(3)
    >>> prompt = np.array([[3, 0, 0, 0, 0, 0, 0]], "int32")
    >>> tokens = sampler(make_next(target), prompt, index=1,
    ...                  draft_next=make_next(draft))
    >>> keras.ops.convert_to_numpy(tokens).tolist()
    [[3, 4, 5, 6, 7, 0, 1]]

    References:
        - [Leviathan et al., 2023](https://arxiv.org/abs/2211.17192), Fast
          Inference from Transformers via Speculative Decoding.
        - [Chen et al., 2023](https://arxiv.org/abs/2302.01318),
          Accelerating Large Language Model Decoding with Speculative
          Sampling.
    """

    def __init__(
        self,
        num_speculative_tokens=5,
        base_sampler=None,
        seed=None,
        **kwargs,
    ):
        argument_checks.check_positive_integer(
            type(self).__name__,
            "num_speculative_tokens",
            num_speculative_tokens,
        )
        check_seed(seed)
        super().__init__(**kwargs)
        if base_sampler is not None and not isinstance(base_sampler, Sampler):
            from keras_nlp_clone.samplers.serialization import get

            base_sampler = get(base_sampler)
        if isinstance(
            base_sampler, (BeamSampler, ContrastiveSampler, SpeculativeSampler)
        ):
            raise ValueError(
                "`base_sampler` must define the distribution of each token: "
                "`None` or a `GreedySampler` (greedy), `RandomSampler`, "
                "`TopKSampler` or `TopPSampler`. Received: "
                f"base_sampler={type(base_sampler).__name__}."
            )
        self.num_speculative_tokens = num_speculative_tokens
        self.base_sampler = base_sampler
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    @property
    def greedy(self):
        """Whether acceptance is greedy (`base_sampler` `None` or a
        `GreedySampler`)."""
        return self.base_sampler is None or isinstance(
            self.base_sampler, GreedySampler
        )

    def get_next_token(self, probabilities):
        """Picks a token as the base sampler does (greedy without one).

        Args:
            probabilities: float32 tensor of shape `(batch, vocab)`.

        Returns:
            An int tensor of shape `(batch,)`.
        """
        if self.greedy:
            return ops.argmax(probabilities, axis=-1)
        return self.base_sampler.get_next_token(probabilities)

    def distribution(self, logits):
        """The distribution tokens are drawn from: the base sampler's
        softmax at its temperature, restricted to its top-k / nucleus set
        and renormalised.

        Args:
            logits: float tensor of shape `(..., vocab)`.

        Returns:
            A float32 tensor of shape `(..., vocab)` whose rows sum to 1.
        """
        base = self.base_sampler or self
        logits = ops.cast(logits, "float32")
        probabilities = keras.activations.softmax(
            logits / base.temperature, axis=-1
        )
        if isinstance(base, TopKSampler):
            check_vocabulary_size("k", base.k, probabilities)
            kth = ops.top_k(probabilities, k=base.k, sorted=True)[0][..., -1]
            return _keep_at_least(probabilities, kth)
        if isinstance(base, TopPSampler):
            if base.k is None:
                cutoff = probabilities.shape[-1] or ops.shape(probabilities)[-1]
            else:
                check_vocabulary_size("k", base.k, probabilities)
                cutoff = base.k
            ranked = ops.top_k(probabilities, k=cutoff, sorted=True)[0]
            cumulative = ops.cumsum(ranked, axis=-1)
            # As `TopPSampler`: keep a token when the mass before it is at
            # most `p`; the threshold is the smallest kept probability.
            kept = 1 + ops.sum(
                ops.cast(cumulative[..., :-1] <= base.p, "int32"), axis=-1
            )
            smallest = ops.take_along_axis(ranked, kept[..., None] - 1, axis=-1)
            return _keep_at_least(probabilities, smallest[..., 0])
        return probabilities

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
        draft_next=None,
        draft_cache=None,
        verify_next=None,
    ):
        if draft_next is None:
            raise ValueError(
                "`SpeculativeSampler` needs the draft model's `draft_next("
                "prompt, cache, index)` function. With a causal LM, pass the "
                "draft model as `compile(sampler=..., draft_model=...)`; to "
                "decode without a draft model use another sampler (e.g. "
                '"greedy").'
            )
        stop_token_ids = normalize_stop_token_ids(stop_token_ids)
        prompt = ops.convert_to_tensor(prompt)
        mask = prepare_mask(prompt, mask)
        index = ops.cast(index, "int32")
        max_length = prompt.shape[-1]
        if isinstance(max_length, int):
            # The verified block must fit in the sequence.
            k = max(1, min(self.num_speculative_tokens, max_length - 1))
        else:
            max_length = ops.shape(prompt)[-1]
            k = self.num_speculative_tokens
        last = ops.cast(max_length, "int32") - 1
        if isinstance(model, (list, tuple)):
            model = _ModelGroup(model)
        cache = () if cache is None else cache
        draft_cache = () if draft_cache is None else draft_cache
        start = index
        positions = ops.arange(ops.shape(prompt)[-1], dtype="int32")[None, :]

        def cond(prompt, cache, draft_cache, index):
            return ops.logical_and(
                not_done(prompt, mask, start, index, stop_token_ids),
                index <= last,
            )

        def body(prompt, cache, draft_cache, index):
            # 1. The draft proposes `k` tokens (positions past the end are
            # clamped to the last one and never written).
            draft_prompt = prompt
            tokens, draft_distributions = [], []
            draft_vocabulary = None
            for i in range(k + 1):
                position = ops.minimum(index + i, last)
                logits, _, draft_cache = draft_next(
                    draft_prompt, draft_cache, position
                )
                draft_vocabulary = logits.shape[-1]
                if i == k:
                    # Only writes the K/V of the last proposed token.
                    break
                if self.greedy:
                    token = ops.argmax(logits, axis=-1)
                else:
                    q = self.distribution(logits)
                    token = sample(q, self.seed_generator)
                    draft_distributions.append(q)
                token = ops.cast(token, prompt.dtype)
                fixed = ops.logical_or(column(mask, position), index + i > last)
                token = ops.where(fixed, column(draft_prompt, position), token)
                draft_prompt = ops.slice_update(
                    draft_prompt, [0, position], token[:, None]
                )
                tokens.append(token)
            tokens = ops.stack(tokens, axis=1)  # (batch, k)

            # 2. The target scores positions `index..index+k` in one pass.
            # Near the end the block starts earlier (recomputing final
            # tokens) so that it fits in the sequence.
            verify_index = ops.maximum(ops.minimum(index, last - k + 1), 1)
            if verify_next is not None:
                logits, _, cache = verify_next(
                    draft_prompt, cache, verify_index, k + 1
                )
            else:
                verify_index = index
                block = []
                for i in range(k + 1):
                    step_logits, _, cache = next(
                        draft_prompt, cache, ops.minimum(index + i, last)
                    )
                    block.append(step_logits)
                logits = ops.stack(block, axis=1)
            target_vocabulary = logits.shape[-1]
            if (
                isinstance(draft_vocabulary, int)
                and isinstance(target_vocabulary, int)
                and draft_vocabulary != target_vocabulary
            ):
                raise ValueError(
                    "The draft model and the target model must share a "
                    "vocabulary. Received: draft vocabulary size "
                    f"{draft_vocabulary}, target vocabulary size "
                    f"{target_vocabulary}."
                )
            offsets = ops.minimum(
                index - verify_index + ops.arange(k + 1, dtype="int32"), k
            )
            logits = ops.take(logits, offsets, axis=1)  # (batch, k+1, vocab)

            # Positions the mask fixes (and past the end) are accepted.
            block_positions = ops.minimum(
                index + ops.arange(k, dtype="int32"), last
            )
            fixed = ops.logical_or(
                ops.take(mask, block_positions, axis=1),
                (index + ops.arange(k, dtype="int32") > last)[None, :],
            )
            # 3. Accept a prefix of the proposals.
            if self.greedy:
                target_tokens = ops.cast(ops.argmax(logits, axis=-1), prompt.dtype)
                accepted = ops.equal(tokens, target_tokens[:, :k])
            else:
                p = self.distribution(logits)  # (batch, k+1, vocab)
                q = ops.stack(draft_distributions, axis=1)  # (batch, k, vocab)
                picked = ops.cast(tokens, "int32")[..., None]
                p_picked = ops.take_along_axis(p[:, :k], picked, axis=-1)[..., 0]
                q_picked = ops.take_along_axis(q, picked, axis=-1)[..., 0]
                uniform = keras.random.uniform(
                    ops.shape(p_picked), seed=self.seed_generator
                )
                accepted = uniform * q_picked < p_picked
            accepted = ops.logical_or(accepted, fixed)
            row_accepted = ops.sum(
                ops.cumprod(ops.cast(accepted, "int32"), axis=1), axis=1
            )
            n = ops.min(row_accepted)  # all rows keep n tokens, then one more

            if self.greedy:
                new_tokens = target_tokens
            else:
                # The token at `index + n`: the accepted draft token in rows
                # that accepted more, else a draw from the residual
                # `norm(max(0, p - q))` (or from `p` after k acceptances).
                p_n = ops.take(p, n, axis=1)
                q_n = ops.take(q, ops.minimum(n, k - 1), axis=1)
                residual = ops.where(n < k, ops.maximum(p_n - q_n, 0.0), p_n)
                total = ops.sum(residual, axis=-1, keepdims=True)
                residual = ops.where(total > 0, residual, p_n)
                correction = ops.cast(
                    sample(residual, self.seed_generator), prompt.dtype
                )
                padded = ops.concatenate([tokens, tokens[:, :1]], axis=1)
                draft_n = ops.take(padded, n, axis=1)
                correction = ops.where(row_accepted > n, draft_n, correction)
                j = ops.arange(k + 1, dtype="int32")[None, :]
                new_tokens = ops.where(j < n, padded, correction[:, None])

            # 4. Write positions `index..index+n`, keeping fixed ones.
            written = prompt
            for i in range(k + 1):
                position = ops.minimum(index + i, last)
                keep = ops.logical_or(
                    ops.logical_or(i > n, index + i > last),
                    column(mask, position),
                )
                token = ops.where(
                    keep, column(written, position), new_tokens[:, i]
                )
                written = ops.slice_update(
                    written, [0, position], token[:, None]
                )
            new_index = ops.minimum(index + n + 1, last + 1)

            # 5. Nothing is written after the position where the last row
            # generated its stop token (as `Sampler` stops there).
            if stop_token_ids is not None:
                is_stop = ops.zeros_like(written, dtype="bool")
                for token_id in stop_token_ids:
                    is_stop = ops.logical_or(is_stop, ops.equal(written, token_id))
                generated = ops.logical_and(
                    ops.logical_and(positions >= start, positions < new_index),
                    ops.logical_not(mask),
                )
                first_stop = ops.min(
                    ops.where(
                        ops.logical_and(is_stop, generated),
                        positions,
                        last + 1,
                    ),
                    axis=-1,
                )
                all_stop = ops.max(first_stop)
                written = ops.where(positions <= all_stop, written, prompt)
                new_index = ops.minimum(new_index, all_stop + 1)
            return written, cache, draft_cache, new_index

        prompt, _, _, _ = self.run_loop(
            cond,
            body,
            model=model,
            loop_vars=(prompt, cache, draft_cache, index),
            maximum_iterations=ops.cast(max_length, "int32") - index,
        )
        return prompt

    def get_config(self):
        """The constructor arguments, as a JSON-serializable dict (the base
        sampler as `keras_nlp_clone.samplers.serialize` writes it)."""
        from keras_nlp_clone.samplers.serialization import serialize

        config = super().get_config()
        config.update(
            {
                "num_speculative_tokens": self.num_speculative_tokens,
                "base_sampler": (
                    None
                    if self.base_sampler is None
                    else serialize(self.base_sampler)
                ),
                "seed": self.seed,
            }
        )
        return config
