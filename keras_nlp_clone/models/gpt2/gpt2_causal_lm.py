"""GPT-2 causal language model."""

import keras
from keras import ops

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.layers.transformer_layer_utils import call_layer
from keras_nlp_clone.layers.transformer_layer_utils import can_call_directly
from keras_nlp_clone.models.causal_lm import CausalLM
from keras_nlp_clone.models.causal_lm import compute_generated_padding_mask
from keras_nlp_clone.models.gpt2.gpt2_backbone import GPT2Backbone
from keras_nlp_clone.models.gpt2.gpt2_causal_lm_preprocessor import (
    GPT2CausalLMPreprocessor,
)
from keras_nlp_clone.samplers.contrastive_sampler import ContrastiveSampler
from keras_nlp_clone.samplers.speculative_sampler import SpeculativeSampler


@keras_nlp_clone_export
class GPT2CausalLM(CausalLM):
    """GPT-2 for next-token prediction and text generation.

    Runs a `GPT2Backbone` and projects its hidden states onto the
    vocabulary with the transposed token embedding (the tied head of
    Hugging Face's `GPT2LMHeadModel`), giving logits of shape `(batch,
    length, vocabulary_size)`. With a `GPT2CausalLMPreprocessor` it trains
    on raw strings (`fit`) and continues prompts (`generate`, see
    `CausalLM`).

    Generation keeps one key/value cache per layer, a tuple of
    `num_layers` tensors of shape `(batch, 2, max_length, num_heads,
    head_dim)`: one pass over the padded prompts fills it, then each step
    runs the blocks on one token, at position `index - 1`, and returns the
    logits of the token at `index`.

    Args:
        backbone: a `keras_nlp_clone.models.GPT2Backbone`.
        preprocessor: a `GPT2CausalLMPreprocessor`, or `None` to take and
            return token ids. Defaults to `None`.
        **kwargs: passed to `CausalLM` (`name`, `compile`).

    Call arguments (a dict):
        token_ids: int tensor `(batch, length)`.
        padding_mask: bool or int tensor `(batch, length)`.

    Returns:
        Logits, a float tensor `(batch, length, vocabulary_size)`.

    Examples:
    >>> import numpy as np
    >>> backbone = keras_nlp_clone.models.GPT2Backbone(
    ...     vocabulary_size=50, num_layers=2, num_heads=2, hidden_dim=8,
    ...     intermediate_dim=16, max_sequence_length=16)
    >>> causal_lm = keras_nlp_clone.models.GPT2CausalLM(backbone)
    >>> causal_lm.compile(sampler="greedy")
    >>> prompt = {"token_ids": np.array([[1, 5, 0, 0, 0, 0]], "int32"),
    ...           "padding_mask": np.array([[1, 1, 0, 0, 0, 0]], "bool")}
    >>> out = causal_lm.generate(prompt, stop_token_ids=None)
    >>> out["token_ids"].shape, out["token_ids"][0, :2].tolist()
    ((1, 6), [1, 5])

    References:
        - [Radford et al., 2019](https://cdn.openai.com/better-language-models/language_models_are_unsupervised_multitask_learners.pdf)
    """

    backbone_cls = GPT2Backbone
    preprocessor_cls = GPT2CausalLMPreprocessor

    def __init__(self, backbone, preprocessor=None, **kwargs):
        # === Layers ===
        self.backbone = backbone
        self.preprocessor = preprocessor

        # === Functional Model ===
        inputs = backbone.input
        hidden_states = backbone(inputs)
        outputs = backbone.token_embedding(hidden_states, reverse=True)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

    def _decode_with_cache(self, token_ids, cache, cache_update_index):
        backbone = self.backbone
        # Inference with a cache: sublayers' `call` run directly, skipping
        # `Layer.__call__` bookkeeping (see `can_call_directly`).
        direct = can_call_directly(backbone, cache, training=False)
        tokens = call_layer(backbone.token_embedding, direct, token_ids)
        positions = call_layer(
            backbone.position_embedding,
            direct,
            tokens,
            start_index=cache_update_index,
        )
        x = call_layer(backbone.embeddings_add, direct, (tokens, positions))
        if not direct:
            x = backbone.embeddings_dropout(x)
        next_cache = []
        for layer, layer_cache in zip(backbone.transformer_layers, cache):
            x, layer_cache = call_layer(
                layer,
                direct,
                x,
                self_attention_cache=layer_cache,
                self_attention_cache_update_index=cache_update_index,
            )
            next_cache.append(layer_cache)
        return call_layer(backbone.layer_norm, direct, x), tuple(next_cache)

    def call_with_cache(self, token_ids, cache, cache_update_index):
        """Runs the model on `token_ids` placed at `cache_update_index`,
        reading and updating the cache.

        Args:
            token_ids: int tensor `(batch, length)`, usually `length` 1.
            cache: tuple of `num_layers` float tensors `(batch, 2,
                max_length, num_heads, head_dim)`.
            cache_update_index: int or int scalar tensor, the position of
                `token_ids[:, 0]`.

        Returns:
            `(logits, hidden_states, cache)`: logits `(batch, length,
            vocabulary_size)`, the final hidden states `(batch, length,
            hidden_dim)` and the updated cache.
        """
        hidden_states, cache = self._decode_with_cache(
            token_ids, cache, cache_update_index
        )
        direct = can_call_directly(self.backbone, cache, training=False)
        logits = call_layer(
            self.backbone.token_embedding, direct, hidden_states, reverse=True
        )
        return logits, hidden_states, cache

    def _head_projection(self):
        """The language-model head for generation: a function `x ->
        logits` for hidden states `(..., hidden_dim)`, or `None` after
        `quantize("int8")` (the head is then the token embedding's own int8
        reverse projection). The head is the largest product of a decoding
        step; its layout is picked by the number of rows it projects,
        from timings on a 2-core x86 CPU (single thread):

        - JAX and TensorFlow (XLA): one row multiplies by the transposed
          embedding (computed once, outside the decoding loop); several
          rows contract with the `(vocabulary_size, hidden_dim)` embedding
          as it is, about 25% faster at 8 rows.
        - PyTorch: several rows go through oneDNN's linear with the
          embedding reordered once for 8 rows (`torch.ops.mkldnn`, about
          a third faster than a BLAS product at 8 rows); one row, or
          without oneDNN, multiplies by a contiguous transposed copy (a
          matrix-vector product with the transposed view is about twice as
          slow). Both are kept until the embedding changes.
        """
        token_embedding = self.backbone.token_embedding
        if token_embedding.quantization_mode is not None:
            return None
        embeddings = ops.convert_to_tensor(token_embedding.embeddings)
        # The dtype of the embedding's reverse projection: float32 logits
        # under mixed precision.
        dtype = token_embedding.reverse_dtype or self.compute_dtype
        if keras.config.backend() == "torch":
            return self._torch_head_projection(embeddings, dtype)
        embeddings = ops.cast(embeddings, dtype)
        kernel = ops.transpose(embeddings)  # Unused (dropped) for > 1 row.

        def project(x):
            if keras.backend.standardize_dtype(x.dtype) != dtype:
                x = ops.cast(x, dtype)
            rows = 1
            for size in x.shape[:-1]:
                rows = None if size is None or rows is None else rows * size
            if rows == 1:
                return ops.matmul(x, kernel)
            last = len(x.shape) - 1
            return ops.tensordot(x, embeddings, axes=[[last], [1]])

        return project

    def _torch_head_projection(self, embeddings, dtype):
        import torch

        # Kept until the embedding changes: PyTorch bumps a tensor's
        # `_version` on every in-place update (`assign`, training).
        key = (id(embeddings), embeddings._version, dtype)
        state = self.__dict__.get("_torch_head")
        if state is None or state["key"] != key:
            state = {"key": key}
            object.__setattr__(self, "_torch_head", state)
        torch_dtype = getattr(torch, dtype)

        def kernel():
            if "kernel" not in state:
                state["kernel"] = (
                    embeddings.to(torch_dtype).t().contiguous()
                )
            return state["kernel"]

        def packed():
            if "packed" not in state:
                state["packed"] = None
                if dtype == "float32" and torch.backends.mkldnn.is_available():
                    try:
                        state["packed"] = (
                            torch.ops.mkldnn._reorder_linear_weight(
                                embeddings.detach().contiguous(), 8
                            )
                        )
                    except (AttributeError, RuntimeError):
                        pass
            return state["packed"]

        def project(x):
            if x.dtype != torch_dtype:
                x = x.to(torch_dtype)
            if x.numel() > x.shape[-1] and packed() is not None:
                return torch.ops.mkldnn._linear_pointwise(
                    x, packed(), None, "none", [], ""
                )
            return torch.matmul(x, kernel())

        return project

    def _build_cache(self, token_ids, prompt_length=None):
        """Fills a new cache with one pass over `token_ids` (no logits).

        With `prompt_length` (a Python int, for eager backends), only the
        first `prompt_length` positions are run: decoding starts there and
        writes every later position before reading it. The hidden states
        returned then cover those positions only."""
        backbone = self.backbone
        batch_size, max_length = ops.shape(token_ids)[0], ops.shape(token_ids)[1]
        head_dim = backbone.hidden_dim // backbone.num_heads
        shape = (batch_size, 2, max_length, backbone.num_heads, head_dim)
        dtype = self.compute_dtype
        cache = tuple(
            ops.zeros(shape, dtype=dtype) for _ in range(backbone.num_layers)
        )
        if prompt_length is not None and prompt_length < max_length:
            token_ids = token_ids[:, :prompt_length]
        return self._decode_with_cache(token_ids, cache, 0)

    def _cached_logits_function(self):
        """Returns `f(token_ids, cache, cache_update_index)` -> `(logits,
        hidden_states, cache)` with the generation head (see
        `_head_projection`)."""
        head = self._head_projection()

        def call(token_ids, cache, cache_update_index):
            hidden_states, cache = self._decode_with_cache(
                token_ids, cache, cache_update_index
            )
            if head is None:
                logits = call_layer(
                    self.backbone.token_embedding,
                    can_call_directly(self.backbone, cache, training=False),
                    hidden_states,
                    reverse=True,
                )
            else:
                logits = head(hidden_states)
            return logits, hidden_states, cache

        return call

    def _next_function(self):
        """The sampler's `next(prompt, cache, index)`: runs the token at
        `index - 1` through the cache."""
        call = self._cached_logits_function()

        def next(prompt, cache, index):
            cache_update_index = index - 1
            batch_size = ops.shape(prompt)[0]
            prompt = ops.slice(prompt, [0, cache_update_index], [batch_size, 1])
            logits, hidden_states, cache = call(prompt, cache, cache_update_index)
            return (
                ops.squeeze(logits, axis=1),
                ops.squeeze(hidden_states, axis=1),
                cache,
            )

        return next

    def _verify_function(self):
        """`SpeculativeSampler`'s `verify_next(prompt, cache, index,
        length)`: runs the `length` tokens from `index - 1` through the
        cache in one pass, giving the logits of positions `index` to
        `index + length - 1`."""
        call = self._cached_logits_function()

        def verify_next(prompt, cache, index, length):
            batch_size = ops.shape(prompt)[0]
            block = ops.slice(prompt, [0, index - 1], [batch_size, length])
            return call(block, cache, index - 1)

        return verify_next

    def generate_step(self, inputs, stop_token_ids=None):
        """Generates the tokens of one batch of padded prompts.

        Args:
            inputs: dict with `token_ids` (int) and `padding_mask` (bool) of
                shape `(batch, max_length)`, True at prompt tokens.
            stop_token_ids: `None` or a tuple of int ids.

        Returns:
            A dict with `token_ids` (the prompts with generated tokens
            written in) and `padding_mask` (see
            `compute_generated_padding_mask`), of shape `(batch,
            max_length)`.
        """
        token_ids, padding_mask = inputs["token_ids"], inputs["padding_mask"]
        padding_mask = ops.cast(padding_mask, "bool")
        row_lengths = ops.sum(ops.cast(padding_mask, "int32"), axis=-1)
        # The first position to generate; at least 1 (a token to continue).
        index = ops.maximum(ops.min(row_lengths), 1)
        prompt_length = None
        sampler_type = type(self.sampler)
        if (
            keras.config.backend() == "torch"
            and sampler_type.__module__.startswith("keras_nlp_clone.samplers.")
            and not issubclass(sampler_type, ContrastiveSampler)
        ):
            # Eager: the prompt pass runs only the positions before
            # `index`, for the built-in samplers that do not read the
            # prompt's hidden states (the contrastive sampler and custom
            # samplers get every position's). Compiled loops keep the
            # static full length.
            prompt_length = int(index)
        hidden_states, cache = self._build_cache(token_ids, prompt_length)
        speculative = {}
        if isinstance(self.sampler, SpeculativeSampler):
            # Speculative decoding: the draft model proposes, this model
            # verifies blocks of tokens (see `compile(draft_model=...)`).
            draft = self.draft_model
            if draft is None:
                raise ValueError(
                    "A `SpeculativeSampler` needs a draft model: pass "
                    "`compile(sampler=..., draft_model=small_causal_lm)`."
                )
            speculative = {
                "draft_next": draft._next_function(),
                "draft_cache": draft._build_cache(token_ids, prompt_length)[1],
                "verify_next": self._verify_function(),
            }

        token_ids = self.sampler(
            next=self._next_function(),
            prompt=token_ids,
            cache=cache,
            index=index,
            mask=padding_mask,
            stop_token_ids=stop_token_ids,
            hidden_states=hidden_states,
            model=(self, self.draft_model) if speculative else self,
            **speculative,
        )
        padding_mask = compute_generated_padding_mask(
            token_ids, padding_mask, stop_token_ids
        )
        return {"token_ids": token_ids, "padding_mask": padding_mask}
