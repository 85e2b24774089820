"""BART sequence-to-sequence language model."""

from keras import ops

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.models.bart.bart_backbone import BartBackbone
from keras_nlp_clone.models.bart.bart_seq_2_seq_lm_preprocessor import (
    BartSeq2SeqLMPreprocessor,
)
from keras_nlp_clone.models.causal_lm import compute_generated_padding_mask
from keras_nlp_clone.models.seq_2_seq_lm import Seq2SeqLM


def _repeat_to(x, batch_size):
    """Repeats each row of `x` `batch_size // len(x)` times (row by row, as
    the beam and contrastive samplers repeat the cache), giving
    `batch_size` rows."""
    rows = ops.shape(x)[0]
    if isinstance(rows, int) and isinstance(batch_size, int) and rows == batch_size:
        return x
    return ops.repeat(x, batch_size // rows, axis=0)


@keras_nlp_clone_export
class BartSeq2SeqLM(Seq2SeqLM):
    """BART for sequence-to-sequence generation (summarisation,
    translation, text-to-text tasks).

    Runs a `BartBackbone` and projects the decoder's hidden states onto the
    vocabulary with the transposed shared token embedding, giving logits of
    shape `(batch, decoder_length, vocabulary_size)`: Hugging Face's
    `BartForConditionalGeneration` without `final_logits_bias` (as
    KerasNLP; the published checkpoints' bias is zero, and converting a
    checkpoint whose bias is not raises a `PresetError`). With a
    `BartSeq2SeqLMPreprocessor` it trains on raw
    `{"encoder_text", "decoder_text"}` pairs (`fit`) and generates target
    text from source text (`generate`, see `Seq2SeqLM` and `CausalLM`).

    Generation runs the encoder once, then the decoder one token at a time
    with two caches per decoder layer, each a tuple of `num_layers` float
    tensors: the self-attention cache `(batch, 2, decoder_length,
    num_heads, head_dim)`, filled by one pass over the decoder prompt and
    then one position per step; and the cross-attention cache `(batch, 2,
    encoder_length, num_heads, head_dim)`, the projected encoder output,
    computed once. The decoder prompt starts with `</s> <s>` (BART's
    `decoder_start_token_id`, then `<s>`). `max_length` in `generate` is the
    decoder length, prompt included.

    Args:
        backbone: a `keras_nlp_clone.models.BartBackbone`.
        preprocessor: a `BartSeq2SeqLMPreprocessor`, or `None` to take and
            return token ids. Defaults to `None`.
        **kwargs: passed to `Seq2SeqLM` (`name`, `compile`).

    Call arguments (a dict):
        encoder_token_ids: int tensor `(batch, encoder_length)`.
        encoder_padding_mask: bool or int tensor `(batch, encoder_length)`.
        decoder_token_ids: int tensor `(batch, decoder_length)`.
        decoder_padding_mask: bool or int tensor `(batch, decoder_length)`.

    Returns:
        Logits, a float tensor `(batch, decoder_length, vocabulary_size)`.

    Examples:
    >>> import numpy as np
    >>> backbone = keras_nlp_clone.models.BartBackbone(
    ...     vocabulary_size=50, num_layers=2, num_heads=2, hidden_dim=8,
    ...     intermediate_dim=16, max_sequence_length=16)
    >>> seq_2_seq_lm = keras_nlp_clone.models.BartSeq2SeqLM(backbone)
    >>> seq_2_seq_lm.compile(sampler="greedy")
    >>> inputs = {
    ...     "encoder_token_ids": np.array([[0, 7, 9, 2, 1]], "int32"),
    ...     "encoder_padding_mask": np.array([[1, 1, 1, 1, 0]], "bool"),
    ...     "decoder_token_ids": np.array([[2, 0, 1, 1, 1, 1]], "int32"),
    ...     "decoder_padding_mask": np.array([[1, 1, 0, 0, 0, 0]], "bool")}
    >>> out = seq_2_seq_lm.generate(inputs, stop_token_ids=None)
    >>> out["decoder_token_ids"].shape, out["decoder_token_ids"][0, :2].tolist()
    ((1, 6), [2, 0])

    With a preprocessor and the pretrained weights:
    >>> bart_lm = keras_nlp_clone.models.BartSeq2SeqLM.from_preset(
    ...     "bart_base_en")  # doctest: +SKIP
    >>> bart_lm.generate("The quick brown fox", max_length=20)  # doctest: +SKIP

    References:
        - [Lewis et al., 2019](https://arxiv.org/abs/1910.13461)
    """

    backbone_cls = BartBackbone
    preprocessor_cls = BartSeq2SeqLMPreprocessor

    def __init__(self, backbone, preprocessor=None, **kwargs):
        # === Layers ===
        self.backbone = backbone
        self.preprocessor = preprocessor

        # === Functional Model ===
        inputs = backbone.input
        hidden_states = backbone(inputs)["decoder_sequence_output"]
        outputs = backbone.token_embedding(hidden_states, reverse=True)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

    def call_encoder(self, token_ids, padding_mask):
        """Runs the encoder.

        Args:
            token_ids: int tensor `(batch, encoder_length)`.
            padding_mask: bool or int tensor `(batch, encoder_length)`.

        Returns:
            The encoder's hidden states, `(batch, encoder_length,
            hidden_dim)`.
        """
        backbone = self.backbone
        tokens = backbone.token_embedding(token_ids)
        positions = backbone.encoder_position_embedding(tokens)
        x = backbone.encoder_embeddings_add((tokens, positions))
        x = backbone.encoder_embeddings_layer_norm(x)
        x = backbone.encoder_embeddings_dropout(x)
        for layer in backbone.encoder_transformer_layers:
            x = layer(x, padding_mask=padding_mask)
        return x

    def call_decoder_with_cache(
        self,
        encoder_hidden_states,
        encoder_padding_mask,
        decoder_token_ids,
        self_attention_cache,
        self_attention_cache_update_index,
        cross_attention_cache,
        cross_attention_cache_update_index=None,
    ):
        """Runs the decoder on `decoder_token_ids` placed at
        `self_attention_cache_update_index`, reading and updating the
        caches.

        Args:
            encoder_hidden_states: float tensor `(batch, encoder_length,
                hidden_dim)`, the encoder output.
            encoder_padding_mask: bool or int tensor `(batch,
                encoder_length)`.
            decoder_token_ids: int tensor `(batch, length)`, usually
                `length` 1.
            self_attention_cache: tuple of `num_layers` float tensors
                `(batch, 2, decoder_length, num_heads, head_dim)`.
            self_attention_cache_update_index: int or int scalar tensor, the
                position of `decoder_token_ids[:, 0]`.
            cross_attention_cache: tuple of `num_layers` float tensors
                `(batch, 2, encoder_length, num_heads, head_dim)`.
            cross_attention_cache_update_index: `0` to fill the
                cross-attention cache from `encoder_hidden_states`, `None`
                to use it as it is. Defaults to `None`.

        Returns:
            `(logits, hidden_states, self_attention_cache,
            cross_attention_cache)`: logits `(batch, length,
            vocabulary_size)`, the decoder's hidden states `(batch, length,
            hidden_dim)` and the updated caches.
        """
        x, self_attention_cache, cross_attention_cache = self._decode_with_cache(
            encoder_hidden_states,
            encoder_padding_mask,
            decoder_token_ids,
            self_attention_cache,
            self_attention_cache_update_index,
            cross_attention_cache,
            cross_attention_cache_update_index,
        )
        logits = self.backbone.token_embedding(x, reverse=True)
        return logits, x, self_attention_cache, cross_attention_cache

    def _decode_with_cache(
        self,
        encoder_hidden_states,
        encoder_padding_mask,
        decoder_token_ids,
        self_attention_cache,
        self_attention_cache_update_index,
        cross_attention_cache,
        cross_attention_cache_update_index=None,
    ):
        """`call_decoder_with_cache` without the logits: returns the
        decoder's hidden states and the updated caches."""
        backbone = self.backbone
        tokens = backbone.token_embedding(decoder_token_ids)
        positions = backbone.decoder_position_embedding(
            tokens, start_index=self_attention_cache_update_index
        )
        x = backbone.decoder_embeddings_add((tokens, positions))
        x = backbone.decoder_embeddings_layer_norm(x)
        x = backbone.decoder_embeddings_dropout(x)
        next_self_caches, next_cross_caches = [], []
        for layer, self_cache, cross_cache in zip(
            backbone.decoder_transformer_layers,
            self_attention_cache,
            cross_attention_cache,
        ):
            x, self_cache, cross_cache = layer(
                decoder_sequence=x,
                encoder_sequence=encoder_hidden_states,
                encoder_padding_mask=encoder_padding_mask,
                self_attention_cache=self_cache,
                self_attention_cache_update_index=self_attention_cache_update_index,
                cross_attention_cache=cross_cache,
                cross_attention_cache_update_index=cross_attention_cache_update_index,
            )
            next_self_caches.append(self_cache)
            next_cross_caches.append(cross_cache)
        return x, tuple(next_self_caches), tuple(next_cross_caches)

    def _build_cache(
        self,
        encoder_token_ids,
        encoder_padding_mask,
        decoder_token_ids,
        decoder_padding_mask=None,
    ):
        """Runs the encoder, then fills new caches with one decoder pass
        over `decoder_token_ids`.

        Returns:
            `(hidden_states, encoder_hidden_states, self_attention_cache,
            cross_attention_cache)`: the decoder's hidden states `(batch,
            decoder_length, hidden_dim)`, the encoder's `(batch,
            encoder_length, hidden_dim)` and the two filled caches.
        """
        backbone = self.backbone
        encoder_hidden_states = self.call_encoder(
            encoder_token_ids, encoder_padding_mask
        )
        batch_size = ops.shape(decoder_token_ids)[0]
        decoder_length = ops.shape(decoder_token_ids)[1]
        encoder_length = ops.shape(encoder_token_ids)[1]
        head_dim = backbone.hidden_dim // backbone.num_heads
        dtype = self.compute_dtype

        def zeros(length):
            shape = (batch_size, 2, length, backbone.num_heads, head_dim)
            return tuple(
                ops.zeros(shape, dtype=dtype) for _ in range(backbone.num_layers)
            )

        # The prompt pass needs the caches and hidden states, not logits.
        hidden_states, self_cache, cross_cache = self._decode_with_cache(
            encoder_hidden_states=encoder_hidden_states,
            encoder_padding_mask=encoder_padding_mask,
            decoder_token_ids=decoder_token_ids,
            self_attention_cache=zeros(decoder_length),
            self_attention_cache_update_index=0,
            cross_attention_cache=zeros(encoder_length),
            cross_attention_cache_update_index=0,
        )
        return hidden_states, encoder_hidden_states, self_cache, cross_cache

    def generate_step(self, inputs, stop_token_ids=None):
        """Generates the decoder tokens of one batch.

        Args:
            inputs: dict with `encoder_token_ids`, `encoder_padding_mask` of
                shape `(batch, encoder_length)` and `decoder_token_ids`,
                `decoder_padding_mask` (True at the decoder prompt) of shape
                `(batch, max_length)`.
            stop_token_ids: `None` or a tuple of int ids.

        Returns:
            The dict `inputs` with `decoder_token_ids` holding the prompts
            with the generated tokens written in and `decoder_padding_mask`
            their padding mask (see `compute_generated_padding_mask`).
        """
        encoder_token_ids = inputs["encoder_token_ids"]
        encoder_padding_mask = ops.cast(inputs["encoder_padding_mask"], "bool")
        decoder_token_ids = inputs["decoder_token_ids"]
        decoder_padding_mask = ops.cast(inputs["decoder_padding_mask"], "bool")
        (
            hidden_states,
            encoder_hidden_states,
            self_attention_cache,
            cross_attention_cache,
        ) = self._build_cache(
            encoder_token_ids,
            encoder_padding_mask,
            decoder_token_ids,
            decoder_padding_mask,
        )
        row_lengths = ops.sum(ops.cast(decoder_padding_mask, "int32"), axis=-1)
        # The first position to generate; at least 1 (a token to continue).
        index = ops.maximum(ops.min(row_lengths), 1)

        def next(prompt, cache, index):
            cache_update_index = index - 1
            batch_size = ops.shape(prompt)[0]
            prompt = ops.slice(prompt, [0, cache_update_index], [batch_size, 1])
            # The beam sampler repeats the rows of `cache` (and of `prompt`)
            # once per beam; the tensors closed over here must follow.
            logits, hidden_states, cache, _ = self.call_decoder_with_cache(
                encoder_hidden_states=_repeat_to(
                    encoder_hidden_states, batch_size
                ),
                encoder_padding_mask=_repeat_to(encoder_padding_mask, batch_size),
                decoder_token_ids=prompt,
                self_attention_cache=cache,
                self_attention_cache_update_index=cache_update_index,
                cross_attention_cache=tuple(
                    _repeat_to(c, batch_size) for c in cross_attention_cache
                ),
            )
            return (
                ops.squeeze(logits, axis=1),
                ops.squeeze(hidden_states, axis=1),
                cache,
            )

        decoder_token_ids = self.sampler(
            next=next,
            prompt=decoder_token_ids,
            cache=self_attention_cache,
            index=index,
            mask=decoder_padding_mask,
            stop_token_ids=stop_token_ids,
            hidden_states=hidden_states,
            model=self,
        )
        decoder_padding_mask = compute_generated_padding_mask(
            decoder_token_ids, decoder_padding_mask, stop_token_ids
        )
        return {
            "encoder_token_ids": encoder_token_ids,
            "encoder_padding_mask": encoder_padding_mask,
            "decoder_token_ids": decoder_token_ids,
            "decoder_padding_mask": decoder_padding_mask,
        }
