"""The base class of the samplers: the token-by-token generation loop."""

import keras
from keras import ops

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.utils import argument_checks

# `__call__` takes `**kwargs` as in KerasNLP, but the built-in samplers
# accept no extra keyword arguments; unexpected ones raise a `TypeError`.
_NO_EXTRA_KWARGS = ()


def normalize_stop_token_ids(stop_token_ids):
    """Returns `stop_token_ids` as a tuple of Python ints, or `None`.

    Args:
        stop_token_ids: `None`, an int, or a list/tuple (or 1D array) of
            ints.

    Raises:
        ValueError: for anything else, or an empty sequence.
    """
    if stop_token_ids is None:
        return None
    if isinstance(stop_token_ids, bool):
        raise ValueError(
            "`stop_token_ids` must be `None` or a tuple of token ids. "
            f"Received: stop_token_ids={stop_token_ids!r}."
        )
    if isinstance(stop_token_ids, int):
        return (stop_token_ids,)
    try:
        ids = tuple(int(i) for i in stop_token_ids)
    except (TypeError, ValueError):
        raise ValueError(
            "`stop_token_ids` must be `None` or a tuple of integer token "
            f"ids, e.g. `(2,)`. Received: stop_token_ids={stop_token_ids!r}."
        ) from None
    if not ids:
        raise ValueError(
            "`stop_token_ids` is empty. Pass `None` to generate up to "
            "`max_length`, or a tuple with at least one token id."
        )
    return ids


def prepare_mask(prompt, mask):
    """Returns `mask` as a bool tensor shaped like `prompt` (all False when
    `None`)."""
    if mask is None:
        return ops.zeros_like(prompt, dtype="bool")
    return ops.cast(mask, "bool")


def column(x, index):
    """`x[:, index]` for a (possibly traced) scalar `index`."""
    return ops.take(x, index, axis=1)


def not_done(prompt, mask, start, index, stop_token_ids):
    """The loop condition: False once every row of `prompt` holds one of
    `stop_token_ids` at a position it generated (`start <= position < index`
    and not fixed by `mask`)."""
    if stop_token_ids is None:
        return True
    positions = ops.arange(ops.shape(prompt)[-1], dtype="int32")[None, :]
    generated = ops.logical_and(
        ops.logical_and(positions >= start, positions < index),
        ops.logical_not(mask),
    )
    is_stop = ops.zeros_like(prompt, dtype="bool")
    for token_id in stop_token_ids:
        is_stop = ops.logical_or(is_stop, ops.equal(prompt, token_id))
    finished = ops.any(ops.logical_and(is_stop, generated), axis=-1)
    return ops.logical_not(ops.all(finished))


def check_call_kwargs(sampler, kwargs):
    """Raises a `TypeError` naming unexpected `__call__` keyword arguments."""
    unknown = sorted(k for k in kwargs if k not in _NO_EXTRA_KWARGS)
    if unknown:
        raise TypeError(
            f"`{type(sampler).__name__}.__call__` got unexpected keyword "
            f"arguments {unknown}. It takes `next`, `prompt`, `cache`, "
            "`index`, `mask`, `stop_token_ids`, `hidden_states` and `model`."
        )


@keras_nlp_clone_export
class Sampler:
    """Base class of the samplers: fills a prompt token by token.

    A sampler runs the decoding loop of text generation. It calls the
    model's `next` function once per position, turns the logits into
    probabilities with `compute_probabilities` (a softmax at
    `temperature`), picks a token with `get_next_token`, writes it into the
    prompt and moves on, until the prompt is full or every sequence has
    produced a stop token. Subclasses implement `get_next_token`; search
    strategies (beam, contrastive) override `__call__`.

    The loop is written with `keras.ops.while_loop`, so it runs eagerly on
    every backend and can be traced inside `jax.jit` or
    `tf.function(jit_compile=True)` when `next` is traceable.

    Seeds: samplers that draw random numbers hold a
    `keras.random.SeedGenerator` whose state advances on every draw; it is
    listed in `variables`. Eagerly, and inside `tf.function`, each call
    continues the random stream, and two samplers built with the same `seed`
    give the same tokens. Under JAX, `jax.jit` draws the same numbers as
    eager execution; TensorFlow's XLA kernels (`jit_compile=True`) draw other
    numbers than its eager kernels for the same seed (each is reproducible).
    Inside `jax.jit` a variable cannot be updated: the
    state read at trace time is a constant of the compiled function, so every
    call of it draws the same numbers and the sampler's state is left as it
    was. To advance it, pass the state in and out explicitly with a
    `keras.StatelessScope` (this is what generative tasks do):

    ```python
    @jax.jit
    def generate(prompt, state):
        mapping = zip(sampler.variables, state)
        with keras.StatelessScope(state_mapping=mapping) as scope:
            tokens = sampler(next, prompt, index=1)
        return tokens, [scope.get_current_value(v) for v in sampler.variables]

    tokens, state = generate(prompt, [v.value for v in sampler.variables])
    for variable, value in zip(sampler.variables, state):
        variable.assign(value)
    ```

    Args:
        temperature: float. Logits are divided by `temperature` before the
            softmax: below `1.0` sharpens the distribution, above flattens
            it. Defaults to `1.0`.

    Call arguments:
        next: a function `next(prompt, cache, index)` returning
            `(logits, hidden_states, cache)`: `logits` of shape
            `(batch, vocab)`, the scores of the token at position `index`
            (computed from the tokens before it); `hidden_states` of shape
            `(batch, hidden_dim)`, the model's last hidden state of the token
            at `index - 1` (only the contrastive sampler uses it; others
            accept `None`); `cache`, the updated cache.
        prompt: int tensor of shape `(batch, max_length)`. The prompt,
            padded to the generation length. Positions from `index` on are
            filled in (except where `mask` is True).
        cache: `None` or any nested structure of tensors whose leading
            dimension is the batch, carried through the loop and passed to
            `next` (e.g. attention key/value caches). `None` is passed to
            `next` as `()`. Defaults to `None`.
        index: int or int scalar tensor. The first position to generate.
            Defaults to `0`.
        mask: bool tensor of shape `(batch, max_length)`, True where the
            prompt is fixed: those positions are never overwritten, which lets
            prompts of different lengths share a batch. `None` means nothing
            is fixed. Defaults to `None`.
        stop_token_ids: `None`, or a tuple of token ids. Generation stops
            once every sequence has generated one of these ids (at a position
            from `index` on that `mask` does not fix); positions after that
            keep their prompt values. Sequences that finish early go on being
            filled until all have finished. `None` generates up to
            `max_length`. Defaults to `None`.
        hidden_states: float tensor of shape `(batch, max_length,
            hidden_dim)`, the hidden states of the prompt. Used by
            `ContrastiveSampler` only. Defaults to `None`.
        model: `None` or the `keras.Model` whose variables `next` reads.
            Under JAX its variables are mapped into the stateless scope of
            the loop body, so that the values of an enclosing
            `keras.StatelessScope` (e.g. a jitted `generate`) are used.
            Defaults to `None`.

    Returns:
        An int tensor of shape `(batch, max_length)`, the prompt with the
        generated tokens written in (the prompt's dtype).

    Raises:
        ValueError: for a bad `stop_token_ids`.
        TypeError: for unexpected keyword arguments.
        NotImplementedError: when `get_next_token` is not implemented (this
            base class).

    Examples:
    >>> import numpy as np
    >>> import keras
    >>> import keras_nlp_clone
    >>> # A toy "model": the next token is always the previous one plus one.
    >>> table = np.roll(np.eye(8, dtype="float32"), 1, axis=1) * 10.0
    >>> def next(prompt, cache, index):
    ...     previous = keras.ops.take(prompt, index - 1, axis=1)
    ...     return keras.ops.take(table, previous, axis=0), None, cache
    >>> prompt = np.array([[3, 0, 0, 0, 0]], "int32")
    >>> sampler = keras_nlp_clone.samplers.GreedySampler()
    >>> keras.ops.convert_to_numpy(sampler(next, prompt, index=1)).tolist()
    [[3, 4, 5, 6, 7]]

    References:
        - [KerasNLP samplers](https://keras.io/api/keras_nlp/samplers/).
    """

    def __init__(self, temperature=1.0):
        argument_checks.check_positive_number(
            type(self).__name__,
            "temperature",
            temperature,
            hint="1.0 leaves the logits unchanged.",
        )
        self.temperature = temperature
        self._seed_generators = []

    def __setattr__(self, name, value):
        # Seed generators set as attributes are tracked for `variables`.
        if isinstance(value, keras.random.SeedGenerator):
            self.__dict__.setdefault("_seed_generators", []).append(value)
        super().__setattr__(name, value)

    @property
    def variables(self):
        """The sampler's state: the state variables of its seed generators
        (an empty list for deterministic samplers)."""
        return [generator.state for generator in self._seed_generators]

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
        **kwargs,
    ):
        check_call_kwargs(self, kwargs)
        stop_token_ids = normalize_stop_token_ids(stop_token_ids)
        prompt = ops.convert_to_tensor(prompt)
        mask = prepare_mask(prompt, mask)
        index = ops.cast(index, "int32")
        max_length = ops.cast(ops.shape(prompt)[-1], "int32")
        # `while_loop` does not accept `None` among the loop variables.
        cache = () if cache is None else cache
        start = index

        def cond(prompt, cache, index):
            return not_done(prompt, mask, start, index, stop_token_ids)

        def body(prompt, cache, index):
            logits, _, cache = next(prompt, cache, index)
            next_token = self.next_token_from_logits(logits)
            next_token = ops.cast(next_token, prompt.dtype)
            # Positions fixed by the mask keep their prompt token.
            next_token = ops.where(
                column(mask, index), column(prompt, index), next_token
            )
            prompt = ops.slice_update(prompt, [0, index], next_token[:, None])
            return prompt, () if cache is None else cache, index + 1

        prompt, _, _ = self.run_loop(
            cond,
            body,
            model=model,
            loop_vars=(prompt, cache, index),
            maximum_iterations=max_length - index,
        )
        return prompt

    def compute_probabilities(self, logits):
        """The next-token distribution: `softmax(logits / temperature)`.

        Args:
            logits: float tensor of shape `(batch, vocab)`.

        Returns:
            A float32 tensor of shape `(batch, vocab)` (computed in float32
            whatever the logits' dtype).
        """
        logits = ops.cast(logits, "float32")
        return keras.activations.softmax(logits / self.temperature, axis=-1)

    def next_token_from_logits(self, logits):
        """The token the loop writes at each step:
        `get_next_token(compute_probabilities(logits))`.

        Subclasses may skip the softmax when it cannot change the choice
        (`GreedySampler` takes the argmax of the logits).

        Args:
            logits: float tensor of shape `(batch, vocab)`.

        Returns:
            An int tensor of shape `(batch,)`.
        """
        return self.get_next_token(self.compute_probabilities(logits))

    def get_next_token(self, probabilities):
        """Picks the next token of each sequence.

        Args:
            probabilities: float32 tensor of shape `(batch, vocab)`.

        Returns:
            An int tensor of shape `(batch,)`.

        Raises:
            NotImplementedError: in this base class; subclasses implement it.
        """
        raise NotImplementedError(
            f"`{type(self).__name__}` does not implement `get_next_token`. "
            "Use a concrete sampler such as `GreedySampler` or "
            "`TopKSampler`, or subclass `Sampler` and implement "
            "`get_next_token(probabilities)`."
        )

    def run_loop(
        self, cond, body, model=None, loop_vars=None, maximum_iterations=None
    ):
        """Runs `keras.ops.while_loop(cond, body, loop_vars)`.

        Under JAX, where variables cannot be assigned inside a traced loop,
        the body runs in a `keras.StatelessScope`: the sampler's variables
        (seed states) are carried as extra loop state and written back after
        the loop (not when the loop itself is being traced by `jax.jit`
        outside a `keras.StatelessScope`; see the class docstring).

        Args:
            cond: function of the loop variables returning a bool (scalar).
            body: function of the loop variables returning new ones (same
                structure, shapes and dtypes).
            model: `None` or a `keras.Model` whose variables `body` reads;
                under JAX their current values (those of an enclosing
                `keras.StatelessScope`, if any) are mapped into the body's
                scope. Defaults to `None`.
            loop_vars: tuple of loop variables (nested structures of
                tensors).
            maximum_iterations: `None` or int (scalar tensor) bound on the
                number of iterations. Defaults to `None`.

        Returns:
            The loop variables after the loop, as a tuple.
        """
        loop_vars = tuple(loop_vars)
        if keras.config.backend() != "jax":
            return tuple(
                ops.while_loop(
                    cond,
                    body,
                    loop_vars,
                    maximum_iterations=maximum_iterations,
                )
            )
        import jax

        sampler_variables = self.variables
        model_variables = []
        if model is not None:
            model_variables = list(model.trainable_variables) + list(
                model.non_trainable_variables
            )
        # Read through any enclosing StatelessScope.
        model_values = [ops.convert_to_tensor(v) for v in model_variables]
        state = [ops.convert_to_tensor(v) for v in sampler_variables]

        def stateless_cond(state, *loop_vars):
            return cond(*loop_vars)

        def stateless_body(state, *loop_vars):
            mapping = list(zip(sampler_variables, state))
            mapping += list(zip(model_variables, model_values))
            with keras.StatelessScope(state_mapping=mapping) as scope:
                loop_vars = body(*loop_vars)
            new_state = []
            for variable, value in zip(sampler_variables, state):
                new_value = scope.get_current_value(variable)
                new_state.append(value if new_value is None else new_value)
            return (new_state, *tuple(loop_vars))

        state, *loop_vars = ops.while_loop(
            stateless_cond,
            stateless_body,
            (state, *loop_vars),
            maximum_iterations=maximum_iterations,
        )
        from keras.src.backend.common.stateless_scope import (
            in_stateless_scope,
        )

        in_scope = in_stateless_scope()
        for variable, value in zip(sampler_variables, state):
            # Assigning a tracer outside a StatelessScope would leak it.
            if in_scope or not isinstance(value, jax.core.Tracer):
                variable.assign(value)
        return tuple(loop_vars)

    def get_config(self):
        """The constructor arguments, as a JSON-serializable dict."""
        return {"temperature": self.temperature}

    @classmethod
    def from_config(cls, config):
        """Builds a sampler from `get_config()`'s output."""
        return cls(**config)
