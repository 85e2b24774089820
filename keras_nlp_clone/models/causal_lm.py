"""Base class for causal (decoder-only) language modelling tasks, with the
generation driver shared by all generative tasks."""

import itertools

import keras
import numpy as np
from keras import ops

from keras_nlp_clone import samplers
from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.layers.cached_multi_head_attention import (
    cache_updates_in_place,
)
from keras_nlp_clone.models.task import Task
from keras_nlp_clone.models.task import _is_dataset
from keras_nlp_clone.utils.lazy_module import tf


def any_equal(inputs, values, padding_mask):
    """True where `inputs` equals one of `values` and `padding_mask` is True.

    Args:
        inputs: int tensor `(batch, length)`.
        values: sequence of int token ids.
        padding_mask: bool tensor `(batch, length)`.

    Returns:
        A bool tensor `(batch, length)`.
    """
    output = ops.zeros_like(inputs, dtype="bool")
    for value in values:
        output = ops.logical_or(output, ops.equal(inputs, value))
    return ops.logical_and(output, ops.cast(padding_mask, "bool"))


def compute_generated_padding_mask(token_ids, prompt_mask, stop_token_ids):
    """The padding mask of generated sequences.

    Every position up to and including the first stop token a sequence
    generated (outside its prompt) is True, every later position False; a
    sequence without a stop token is True everywhere.

    Args:
        token_ids: int tensor `(batch, length)`, prompts with generated
            tokens written in.
        prompt_mask: bool tensor `(batch, length)`, True at prompt tokens.
        stop_token_ids: `None` or a tuple of int ids.

    Returns:
        A bool tensor `(batch, length)`.
    """
    if stop_token_ids is None:
        return ops.ones_like(token_ids, dtype="bool")
    end_locations = any_equal(
        token_ids, stop_token_ids, ops.logical_not(ops.cast(prompt_mask, "bool"))
    )
    end_locations = ops.cast(end_locations, "int32")
    # Count the stop tokens strictly before each position.
    before = ops.cumsum(end_locations, axis=-1) - end_locations
    return ops.equal(before, 0)


def _to_backend(x):
    return keras.tree.map_structure(ops.convert_to_tensor, x)


def _to_numpy(x):
    return keras.tree.map_structure(ops.convert_to_numpy, x)


def _is_string_like(x):
    return isinstance(x, (str, bytes)) or (
        isinstance(x, np.ndarray) and x.dtype.kind in ("U", "S", "O")
    )


@keras_nlp_clone_export
class CausalLM(Task):
    """Base class for causal language models: next-token prediction and
    text generation.

    A causal LM maps `token_ids` and `padding_mask` of shape `(batch,
    length)` to next-token logits of shape `(batch, length,
    vocabulary_size)`. `fit` trains it on raw strings through its
    `CausalLMPreprocessor` (inputs, labels shifted by one, padding as sample
    weight). `generate` continues prompts token by token with the sampler
    given to `compile` (default `"top_k"`).

    Generation runs `generate_step`: one full pass over the (right-padded)
    prompts fills a key/value cache, then the sampler calls the model once
    per new token, reading and updating the cache. Prompts of different
    lengths share a batch: decoding starts at the shortest prompt, and the
    positions of longer prompts keep their tokens. The loop stops once every
    sequence has produced a stop token. `generate_step` is compiled once per
    input shape and sampler, then reused:

    - JAX: `jax.jit`, the model's and sampler's variables passed as state
      (XLA).
    - TensorFlow: `tf.function(jit_compile=True, autograph=False)` (XLA),
      unless the task was compiled with `jit_compile=False`. The loop is
      written with `keras.ops` control flow, so AutoGraph's source
      conversion (most of the first call's time) is skipped; a
      `generate_step` written with Python `if`/`while` on tensors must
      use `keras.ops.cond`/`keras.ops.while_loop` instead.
    - PyTorch: eager execution under `torch.no_grad()` (`torch.compile`
      takes minutes to compile a generation loop on a CPU, more than it
      saves on the lengths generated here), with the key/value caches
      updated in place (see
      `layers.cached_multi_head_attention.cache_updates_in_place`).

    Subclasses (e.g. `GPT2CausalLM`) set `backbone_cls` and
    `preprocessor_cls`, build the functional model, and implement
    `generate_step(inputs, stop_token_ids=None)`: given a dict of batched
    tensors (the output of the preprocessor's `generate_preprocess`) it
    returns the same dict with the generated ids written in and the padding
    mask of the result (see `compute_generated_padding_mask`), written with
    `keras.ops` only and calling `self.sampler(..., model=self)`.

    The default compile uses Adam (learning rate 2e-5), sparse categorical
    cross-entropy from logits and `SparseCategoricalAccuracy` as a weighted
    metric (padding has weight 0).

    Args:
        **kwargs: passed to `Task`.

    Examples:
    >>> causal_lm = keras_nlp_clone.models.CausalLM.from_preset(
    ...     "gpt2_base_en")  # doctest: +SKIP
    >>> causal_lm.compile(sampler="greedy")  # doctest: +SKIP
    >>> causal_lm.generate("The quick brown fox", max_length=30)  # doctest: +SKIP

    References:
        - [KerasNLP CausalLM](https://keras.io/api/keras_nlp/base_classes/causal_lm/).
    """

    def compile(
        self,
        optimizer="auto",
        loss="auto",
        *,
        weighted_metrics="auto",
        sampler="top_k",
        draft_model=None,
        **kwargs,
    ):
        """Configures training and generation, with task defaults for
        `"auto"` arguments.

        Args:
            optimizer: `"auto"` (Adam, learning rate 2e-5), an optimizer
                name or a `keras.optimizers.Optimizer`.
            loss: `"auto"` (`SparseCategoricalCrossentropy(from_logits=True)`)
                or a Keras loss.
            weighted_metrics: `"auto"` (`SparseCategoricalAccuracy`) or a
                list of metrics.
            sampler: a sampler name (`"greedy"`, `"top_k"`, `"top_p"`,
                `"random"`, `"beam"`, `"contrastive"`) or a
                `keras_nlp_clone.samplers.Sampler` instance, used by
                `generate`. Defaults to `"top_k"`.
            draft_model: `None`, or a smaller causal LM of the same family
                and vocabulary (e.g. a `GPT2CausalLM` with fewer layers)
                that proposes tokens for a `SpeculativeSampler` (speculative
                decoding), which needs one. Defaults to `None`.
            **kwargs: passed to `keras.Model.compile` (`jit_compile`, ...).
                `jit_compile=False` also turns XLA off for `generate` on
                TensorFlow.

        Raises:
            ValueError: for an unknown sampler name; a `SpeculativeSampler`
                without a `draft_model`, a `draft_model` with another
                sampler, or a draft model of another class or vocabulary
                size (the message names both sizes).
        """
        sampler = samplers.get(sampler)
        self._check_draft_model(sampler, draft_model)
        if optimizer == "auto":
            optimizer = keras.optimizers.Adam(2e-5)
        if loss == "auto":
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        if weighted_metrics == "auto":
            weighted_metrics = [keras.metrics.SparseCategoricalAccuracy()]
        object.__setattr__(self, "_generate_jit", kwargs.get("jit_compile", True))
        super().compile(
            optimizer=optimizer,
            loss=loss,
            weighted_metrics=weighted_metrics,
            **kwargs,
        )
        object.__setattr__(self, "_sampler", sampler)
        object.__setattr__(self, "_draft_model", draft_model)
        # A new sampler needs a new compiled function.
        object.__setattr__(self, "generate_function", None)

    @property
    def sampler(self):
        """The `Sampler` used by `generate` (set with `compile`)."""
        return getattr(self, "_sampler", None)

    @property
    def draft_model(self):
        """The draft model of speculative decoding (set with `compile`), or
        `None`."""
        return self.__dict__.get("_draft_model")

    def _check_draft_model(self, sampler, draft_model):
        speculative = isinstance(sampler, samplers.SpeculativeSampler)
        if speculative and draft_model is None:
            raise ValueError(
                "A `SpeculativeSampler` needs a draft model: pass "
                "`compile(sampler=..., draft_model=small_causal_lm)`, or "
                'use another sampler (e.g. sampler="greedy").'
            )
        if draft_model is None:
            return
        if not speculative:
            raise ValueError(
                "`draft_model` is used by `SpeculativeSampler` only. "
                f"Received: sampler={type(sampler).__name__}. Pass "
                "`sampler=keras_nlp_clone.samplers.SpeculativeSampler()`."
            )
        if not isinstance(draft_model, type(self)):
            raise ValueError(
                f"`draft_model` must be a `{type(self).__name__}` like the "
                f"target model. Received: {type(draft_model).__name__}."
            )
        sizes = [
            getattr(getattr(m, "backbone", None), "vocabulary_size", None)
            for m in (draft_model, self)
        ]
        if None not in sizes and sizes[0] != sizes[1]:
            raise ValueError(
                "The draft model and the target model must share a "
                f"vocabulary. Received: draft vocabulary size {sizes[0]}, "
                f"target vocabulary size {sizes[1]}."
            )

    # === Generation ===

    def generate_step(self, inputs, stop_token_ids=None):
        """Generates tokens for one batch (not compiled; see class docstring).

        Args:
            inputs: dict of batched tensors, as returned by the
                preprocessor's `generate_preprocess`.
            stop_token_ids: `None` or a tuple of int ids.

        Returns:
            A dict with the structure of `inputs`.

        Raises:
            NotImplementedError: in this base class.
        """
        raise NotImplementedError(
            f"`{type(self).__name__}` does not implement `generate_step`. "
            "Generative families (e.g. `GPT2CausalLM`) implement it."
        )

    def make_generate_function(self):
        """Returns the compiled `generate_step` for the current backend and
        sampler, building it on first use (see the class docstring).

        Returns:
            A function `(inputs, stop_token_ids) -> outputs` taking and
            returning dicts of backend tensors.
        """
        if getattr(self, "generate_function", None) is not None:
            return self.generate_function
        backend = keras.config.backend()
        if backend == "jax":
            function = self._make_jax_generate_function()
        elif backend == "tensorflow" and self.__dict__.get("_generate_jit", True):
            function = tf.function(
                self.generate_step, jit_compile=True, autograph=False
            )
        elif backend == "tensorflow":
            function = tf.function(self.generate_step, autograph=False)
        elif backend == "torch":
            import torch

            def function(inputs, stop_token_ids=None):
                # The loop owns its caches: no copy per layer and token.
                with torch.no_grad(), cache_updates_in_place():
                    return self.generate_step(inputs, stop_token_ids)

        else:
            function = self.generate_step
        object.__setattr__(self, "generate_function", function)
        return function

    def _make_jax_generate_function(self):
        import jax

        sampler = self.sampler

        def model_variables():
            # A speculative sampler's draft model is state too.
            models = [self] + [m for m in [self.draft_model] if m is not None]
            return (
                [v for m in models for v in m.trainable_variables],
                [v for m in models for v in m.non_trainable_variables],
            )

        def compiled(inputs, state, stop_token_ids=None):
            sampler_values, trainable_values, non_trainable_values = state
            trainable, non_trainable = model_variables()
            mapping = itertools.chain(
                zip(sampler.variables, sampler_values),
                zip(trainable, trainable_values),
                zip(non_trainable, non_trainable_values),
            )
            with keras.StatelessScope(state_mapping=mapping) as scope:
                outputs = self.generate_step(inputs, stop_token_ids)
            new_sampler_values = [
                scope.get_current_value(v) for v in sampler.variables
            ]
            return outputs, new_sampler_values

        compiled = jax.jit(compiled, static_argnames="stop_token_ids")

        def function(inputs, stop_token_ids=None):
            trainable, non_trainable = model_variables()
            state = (
                [v.value for v in sampler.variables],
                [v.value for v in trainable],
                [v.value for v in non_trainable],
            )
            outputs, sampler_values = compiled(
                inputs, state, stop_token_ids=stop_token_ids
            )
            # Advance the sampler's seed so the next call draws new numbers.
            for variable, value in zip(sampler.variables, sampler_values):
                if value is not None:
                    variable.assign(value)
            return outputs

        return function

    def _resolve_stop_token_ids(self, stop_token_ids):
        if isinstance(stop_token_ids, str):
            if stop_token_ids != "auto":
                raise ValueError(
                    "`stop_token_ids` must be 'auto', None or a list of "
                    f"token ids. Received: stop_token_ids={stop_token_ids!r}."
                )
            if self.preprocessor is None:
                raise ValueError(
                    "`stop_token_ids='auto'` reads the end token from the "
                    "preprocessor's tokenizer, and this task has no "
                    "preprocessor. Pass `stop_token_ids` explicitly (e.g. "
                    "`[end_token_id]`), or `None` to generate up to the "
                    "full length."
                )
            return (int(self.preprocessor.tokenizer.end_token_id),)
        if stop_token_ids is None:
            return None
        return samplers.sampler.normalize_stop_token_ids(stop_token_ids)

    def _generate_preprocess(self, x, max_length):
        return self.preprocessor.generate_preprocess(x, sequence_length=max_length)

    def _normalize_generate_inputs(self, inputs):
        """Returns `(batches, input_is_scalar)`: a list of batches or a
        dataset, and whether the input was one unbatched example."""
        if _is_dataset(inputs):
            return inputs, False
        input_is_scalar = False
        if isinstance(inputs, dict):
            leaves = list(inputs.values())
            if any(_is_string_like(v) and np.ndim(v) == 0 for v in leaves):
                input_is_scalar = True
                inputs = {
                    k: [v] if np.ndim(v) == 0 else v for k, v in inputs.items()
                }
            elif self.preprocessor is None and all(np.ndim(v) == 1 for v in leaves):
                input_is_scalar = True
                inputs = {k: np.asarray(v)[None] for k, v in inputs.items()}
        elif _is_string_like(inputs) and np.ndim(inputs) == 0:
            input_is_scalar = True
            inputs = [inputs]
        elif self.preprocessor is not None and not isinstance(inputs, (list, np.ndarray)):
            inputs = _to_numpy(inputs)
        return [inputs], input_is_scalar

    def generate(
        self,
        inputs,
        max_length=None,
        stop_token_ids="auto",
        strip_prompt=False,
    ):
        """Generates text (or token ids) that continues the prompts.

        Args:
            inputs: with a preprocessor, a string, a list of strings, or a
                `tf.data.Dataset` of batched strings (for seq2seq models
                also a dict with `encoder_text` and optionally
                `decoder_text`). Without a preprocessor, a dict of token id
                tensors of shape `(batch, length)` (or `(length,)`) as the
                preprocessor's `generate_preprocess` returns (`token_ids`
                and `padding_mask` for causal LMs), already padded to the
                generation length.
            max_length: int. The total length of each sequence, prompt
                included (the packed length). Defaults to `None`: the
                preprocessor's `sequence_length`, or the input's length
                without a preprocessor.
            stop_token_ids: `"auto"` (the tokenizer's end token), `None`
                (generate up to `max_length`), or a list of token ids.
                Generation stops once every sequence has produced one.
                Defaults to `"auto"`.
            strip_prompt: bool. Whether to return only the generated part
                (the prompt removed). Defaults to `False`.

        Returns:
            The structure of `inputs`: a string for a string, a list of
            strings for a list or a dataset; without a preprocessor, a dict
            of NumPy arrays (`token_ids` with the prompt and generated ids,
            `padding_mask` True up to and including each sequence's first
            stop token).

        Raises:
            ValueError: for `stop_token_ids="auto"` without a preprocessor,
                a bad `stop_token_ids`, or prompt ids outside the token
                embedding (`[0, vocabulary_size)`), checked per batch before
                the compiled loop runs.
        """
        stop_token_ids = self._resolve_stop_token_ids(stop_token_ids)
        generate_function = self.make_generate_function()
        batches, input_is_scalar = self._normalize_generate_inputs(inputs)
        if self.preprocessor is not None:
            if _is_dataset(batches):
                batches = batches.map(
                    lambda x: self._generate_preprocess(x, max_length),
                    num_parallel_calls=tf.data.AUTOTUNE,
                    deterministic=True,
                ).as_numpy_iterator()
            else:
                batches = [
                    _to_numpy(self._generate_preprocess(x, max_length))
                    for x in batches
                ]
        elif _is_dataset(batches):
            batches = batches.as_numpy_iterator()
        else:
            batches = [_to_numpy(x) for x in batches]

        outputs = []
        for prompt in batches:
            # The compiled loop cannot raise on bad ids (JAX would clamp
            # them): check each batch of concrete prompt ids before it.
            self._check_ids(prompt)
            generated = _to_numpy(
                generate_function(_to_backend(prompt), stop_token_ids=stop_token_ids)
            )
            if strip_prompt:
                generated = self._strip_prompt(generated, prompt)
            outputs.append(generated)

        if self.preprocessor is not None:
            texts = []
            for generated in outputs:
                decoded = self.preprocessor.generate_postprocess(generated)
                texts.extend([decoded] if isinstance(decoded, str) else decoded)
            return texts[0] if input_is_scalar else texts
        merged = {
            key: np.concatenate([o[key] for o in outputs], axis=0)
            for key in outputs[0]
        } if outputs else {}
        if input_is_scalar:
            merged = {key: value[0] for key, value in merged.items()}
        return merged

    def _prompt_keys(self):
        """The keys of the generated ids and their padding mask."""
        return "token_ids", "padding_mask"

    def _strip_prompt(self, generated, prompt):
        """Moves each row's generated tokens to the front (NumPy), the
        prompt removed; the freed positions become padding."""
        ids_key, mask_key = self._prompt_keys()
        token_ids = generated[ids_key]
        padding_mask = generated[mask_key].astype(bool)
        prompt_mask = np.asarray(prompt[mask_key]).astype(bool)
        keep = np.logical_and(padding_mask, np.logical_not(prompt_mask))
        new_ids = np.zeros_like(token_ids)
        new_mask = np.zeros_like(padding_mask)
        pad_id = 0
        if self.preprocessor is not None:
            pad_id = self.preprocessor.tokenizer.pad_token_id
        new_ids[...] = pad_id
        for row in range(token_ids.shape[0]):
            kept = token_ids[row][keep[row]]
            new_ids[row, : len(kept)] = kept
            new_mask[row, : len(kept)] = True
        stripped = dict(generated)
        stripped[ids_key] = new_ids
        stripped[mask_key] = new_mask
        return stripped
