"""Base class for sequence-to-sequence language modelling tasks."""

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.models.causal_lm import CausalLM


@keras_nlp_clone_export
class Seq2SeqLM(CausalLM):
    """Base class for sequence-to-sequence language models: generation
    conditioned on a source sequence.

    An encoder reads the source (`encoder_token_ids`,
    `encoder_padding_mask`); a decoder predicts the target token by token
    with causal self-attention and cross-attention to the encoder's output
    (`decoder_token_ids`, `decoder_padding_mask`), giving logits of shape
    `(batch, decoder_length, vocabulary_size)`. `fit` trains on dicts of
    raw `encoder_text` and `decoder_text` through a
    `Seq2SeqLMPreprocessor`; `generate` takes source text (a string, a
    list, a `tf.data.Dataset`) or dicts with `encoder_text` and a decoder
    prompt `decoder_text`, and returns the generated target text.

    Generation works as in `CausalLM` (compiled per backend, a key/value
    cache, prompts of different lengths, early stopping), with two caches
    per decoder layer: the self-attention cache, filled step by step, and
    the cross-attention cache of the projected encoder output, computed
    once. Subclasses (e.g. `BartSeq2SeqLM`) implement
    `generate_step(inputs, stop_token_ids=None)` on the dict
    `encoder_token_ids`, `encoder_padding_mask`, `decoder_token_ids`,
    `decoder_padding_mask` (the output of `generate_preprocess`), returning
    it with the generated decoder ids and their padding mask. For beam
    search, the sampler repeats the rows of the cache once per beam, so
    tensors that `next` closes over (the encoder output and its padding
    mask) must be repeated to the prompt's batch size inside `next`.

    `max_length` in `generate` is the decoder length (the target, its
    prompt included); the source is packed to the preprocessor's
    `encoder_sequence_length`.

    Args:
        **kwargs: passed to `Task`.

    Examples:
    >>> seq_2_seq_lm = keras_nlp_clone.models.Seq2SeqLM.from_preset(
    ...     "bart_base_en")  # doctest: +SKIP
    >>> seq_2_seq_lm.compile(sampler="top_k")  # doctest: +SKIP
    >>> seq_2_seq_lm.generate("The quick brown fox.", max_length=30)  # doctest: +SKIP

    References:
        - [KerasNLP Seq2SeqLM](https://keras.io/api/keras_nlp/base_classes/seq_2_seq_lm/).
    """

    def _generate_preprocess(self, x, max_length):
        return self.preprocessor.generate_preprocess(
            x, decoder_sequence_length=max_length
        )

    def _prompt_keys(self):
        return "decoder_token_ids", "decoder_padding_mask"
