"""XLM-RoBERTa tokenizer."""

import numpy as np

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.models.xlm_roberta.xlm_roberta_backbone import (
    XLMRobertaBackbone,
)
from keras_nlp_clone.tokenizers.sentence_piece_tokenizer import (
    SentencePieceTokenizer,
)
from keras_nlp_clone.tokenizers.sentence_piece_tokenizer import to_id_tensor
from keras_nlp_clone.tokenizers.word_piece_tokenizer import _check_ids_eagerly
from keras_nlp_clone.utils.lazy_module import tf
from keras_nlp_clone.utils.tensor_utils import convert_preprocessing_outputs
from keras_nlp_clone.utils.tensor_utils import in_no_convert_scope
from keras_nlp_clone.utils.tensor_utils import in_tf_graph

# fairseq's dictionary puts these first, before the SentencePiece pieces.
_FAIRSEQ_SPECIALS = ("<s>", "<pad>", "</s>", "<unk>")
# Offset of SentencePiece piece ids in the model's ids.
_OFFSET = 1


@keras_nlp_clone_export
class XLMRobertaTokenizer(SentencePieceTokenizer):
    """An XLM-RoBERTa tokenizer: SentencePiece with fairseq's ids.

    A `keras_nlp_clone.tokenizers.SentencePieceTokenizer` whose ids follow
    fairseq's dictionary, as Hugging Face's `XLMRobertaTokenizer`:
    `"<s>"` = 0, `"<pad>"` = 1, `"</s>"` = 2, `"<unk>"` = 3, then every
    SentencePiece piece id shifted by one (piece `k` has id `k + 1`; the
    model's own unknown, begin and end pieces map to 3, 0 and 2), and
    `"<mask>"` = the last id. `vocabulary_size()` is the number of pieces
    plus 2; `get_vocabulary`, `id_to_token`, `token_to_id` and `detokenize`
    use the same ids (`detokenize` drops `<s>`, `<pad>`, `</s>` and
    `<mask>`). Dense outputs (`sequence_length` set) are padded with
    `<pad>` (1). The special token ids are exposed as `start_token_id`,
    `pad_token_id`, `end_token_id`, `unk_token_id` and `mask_token_id`
    (`cls_token_id`/`sep_token_id` alias the `<s>`/`</s>` ids).

    The SentencePiece model's pieces 0 to 2 must be its unknown or control
    pieces (so that shifted ids never collide with the fairseq specials):
    true of XLM-RoBERTa's `sentencepiece.bpe.model`, of SentencePiece's
    default layout (`<unk>`, `<s>`, `</s>`) and of
    `keras_nlp_clone.tokenizers.compute_sentence_piece_proto` models.

    Special token strings in the input text (e.g. `"<mask>"`) are tokenized
    as text, not mapped to their ids; insert ids with the preprocessor
    instead.

    Args:
        proto: str or bytes. The path of a SentencePiece model file (e.g.
            `sentencepiece.bpe.model`) or the serialized model. `None` when
            the model is loaded later from a preset's assets.
        **kwargs: passed to `SentencePieceTokenizer` (`sequence_length`,
            `dtype`, ...).

    Call arguments:
        inputs: a str, a list of str, or a string tensor.

    Returns:
        Token ids: a list for one string, a list of lists for a batch
        (eagerly), or a dense tensor when `sequence_length` is set.

    Raises:
        ValueError: when the model's pieces 0 to 2 include an ordinary
            piece, or for any error of `SentencePieceTokenizer`.

    Examples:
    >>> tokenizer = keras_nlp_clone.models.XLMRobertaTokenizer.from_preset(
    ...     "xlm_roberta_base_multi")
    >>> tokenizer.detokenize(tokenizer("The quick brown fox."))
    'The quick brown fox.'

    A model trained on the spot.
    >>> proto = keras_nlp_clone.tokenizers.compute_sentence_piece_proto(
    ...     ["the quick brown fox", "the lazy dog"] * 10, vocabulary_size=27)
    >>> tokenizer = keras_nlp_clone.models.XLMRobertaTokenizer(proto=proto)
    >>> tokenizer.start_token_id, tokenizer.mask_token_id
    (0, 28)

    References:
        - [Conneau et al., 2020](https://arxiv.org/abs/1911.02116)
        - [Kudo and Richardson, 2018](https://arxiv.org/abs/1808.06226)
    """

    backbone_cls = XLMRobertaBackbone

    def __init__(self, proto, **kwargs):
        self._add_special_token("<s>", "start_token")
        self._add_special_token("<pad>", "pad_token")
        self._add_special_token("</s>", "end_token")
        self._add_special_token("<unk>", "unk_token")
        self._add_special_token("<mask>", "mask_token")
        super().__init__(proto=proto, **kwargs)

    # === Id mapping ===

    def set_proto(self, proto):
        """Sets the model: a file path, serialized bytes, or `None`.

        Raises:
            ValueError: when `proto` is not a SentencePiece model, or its
                pieces 0 to 2 include an ordinary piece.
            FileNotFoundError: when a path does not exist.
        """
        super().set_proto(proto)
        self._piece_ids = None
        if self.proto is not None:
            try:
                self._piece_ids = _special_piece_ids(self.proto)
            except ValueError:
                super().set_proto(None)
                raise

    def _update_special_token_ids(self):
        super()._update_special_token_ids()
        object.__setattr__(self, "cls_token_id", self.start_token_id)
        object.__setattr__(self, "sep_token_id", self.end_token_id)

    def _special_ids(self):
        """(unk, bos, eos, pad) piece ids of the model (-1 when absent)."""
        self._check_vocabulary()
        return self._piece_ids

    def _to_model_ids(self, pieces):
        """Maps a tensor of piece ids to this tokenizer's ids."""
        unk, bos, eos, pad = self._special_ids()
        ids = pieces + _OFFSET
        for piece, target in ((unk, 3), (bos, 0), (eos, 2), (pad, 1)):
            if piece >= 0:
                ids = tf.where(pieces == piece, tf.constant(target, ids.dtype), ids)
        return ids

    def vocabulary_size(self):
        """Returns the number of ids: the model's pieces + 2 (the offset
        and `<mask>`)."""
        return super().vocabulary_size() + _OFFSET + 1

    def get_vocabulary(self):
        """Returns the tokens of all ids, by id: the four fairseq specials,
        the model's pieces from piece 3 on, and `"<mask>"`."""
        pieces = super().get_vocabulary()
        return list(_FAIRSEQ_SPECIALS) + pieces[len(_FAIRSEQ_SPECIALS) - 1 :] + [
            "<mask>"
        ]

    def id_to_token(self, id):
        """Returns the token of integer `id`.

        Raises:
            ValueError: when `id` is not an int in `[0, vocabulary_size())`.
        """
        size = self.vocabulary_size()
        if isinstance(id, bool) or not isinstance(id, (int, np.integer)):
            raise ValueError(
                f"`id` must be an int. Received: id={id!r} "
                f"({type(id).__name__})"
            )
        id = int(id)
        if id < 0 or id >= size:
            raise ValueError(
                f"`id` must be in [0, {size - 1}] (the vocabulary has {size} "
                f"ids). Received: id={id}"
            )
        if id < len(_FAIRSEQ_SPECIALS):
            return _FAIRSEQ_SPECIALS[id]
        if id == size - 1:
            return "<mask>"
        return super().id_to_token(id - _OFFSET)

    def token_to_id(self, token):
        """Returns the id of `token`; a string that is not a token maps to
        the `<unk>` id (3), as in SentencePiece."""
        if token in _FAIRSEQ_SPECIALS:
            return _FAIRSEQ_SPECIALS.index(token)
        if token == "<mask>":
            return self.vocabulary_size() - 1
        piece = super().token_to_id(token)
        unk, bos, eos, pad = self._special_ids()
        special = {unk: 3, bos: 0, eos: 2, pad: 1}
        return special.get(piece, piece + _OFFSET)

    # === Tokenization ===

    def _tokenize_tf(self, inputs):
        if self._output_string:
            return super()._tokenize_tf(inputs)
        scalar = inputs.shape.rank == 0
        if scalar:
            inputs = tf.expand_dims(inputs, 0)
        tokens = self._sentence_piece.tokenize(inputs)
        tokens = tf.ragged.map_flat_values(self._to_model_ids, tokens)
        if self.sequence_length is not None:
            shape = [None] * (tokens.shape.rank - 1) + [self.sequence_length]
            tokens = tokens.to_tensor(default_value=self.pad_token_id, shape=shape)
        if scalar:
            tokens = tokens[0]
        if self.compute_dtype != "int32":
            tokens = tf.cast(tokens, self.compute_dtype)
        return tokens

    def _to_piece_ids(self, inputs):
        """Maps ids to piece ids for decoding, dropping `<s>`, `<pad>`,
        `</s>` and `<mask>`."""
        inputs = tf.cast(inputs, tf.int32)
        if isinstance(inputs, tf.Tensor):
            inputs = tf.RaggedTensor.from_tensor(inputs)
        mask_id = self.vocabulary_size() - 1
        keep = tf.logical_and(inputs >= len(_FAIRSEQ_SPECIALS) - 1, inputs != mask_id)
        inputs = tf.ragged.boolean_mask(inputs, keep)
        unk = self._special_ids()[0]
        return tf.ragged.map_flat_values(
            lambda x: tf.where(x == 3, unk, x - _OFFSET), inputs
        )

    def detokenize(self, inputs):
        """Maps ids back to text, as SentencePiece's `decode` of the
        corresponding pieces (`<s>`, `<pad>`, `</s>` and `<mask>` are
        dropped; `<unk>` decodes to `" ⁇ "`).

        Args:
            inputs: ids as a list of int, a list of lists, a NumPy array, a
                backend tensor, or a `tf.Tensor` / `tf.RaggedTensor`; or
                pieces as strings.

        Returns:
            A str for one sequence, a list of str for a batch (eagerly), or
            a string `tf.Tensor` in a `tf.function`.

        Raises:
            ValueError: eagerly, for ids outside `[0, vocabulary_size())`.
        """
        self._check_vocabulary()
        inputs = to_id_tensor(inputs)
        if inputs.dtype == tf.string:
            return super().detokenize(inputs)
        scalar = inputs.shape.rank == 1
        if scalar:
            inputs = tf.expand_dims(inputs, 0)
        if not in_tf_graph():
            _check_ids_eagerly(inputs, self.vocabulary_size())
        outputs = self._id_model.detokenize(self._to_piece_ids(inputs))
        if scalar:
            outputs = outputs[0]
        if in_tf_graph() or in_no_convert_scope():
            return outputs
        return convert_preprocessing_outputs(outputs)


def _special_piece_ids(proto):
    """Returns the (unknown, begin, end, pad) piece ids of a serialized
    SentencePiece model (-1 when absent).

    Raises:
        ValueError: when pieces 0 to 2 include an ordinary piece.
    """
    import sentencepiece

    processor = sentencepiece.SentencePieceProcessor()
    processor.LoadFromSerializedProto(proto)
    for piece in range(min(3, processor.GetPieceSize())):
        if not (
            processor.IsUnknown(piece)
            or processor.IsControl(piece)
            or processor.IsUnused(piece)
        ):
            raise ValueError(
                "XLMRobertaTokenizer shifts SentencePiece ids by one after "
                "fairseq's `<s>`, `<pad>`, `</s>`, `<unk>`, so pieces 0 to 2 "
                "of the model must be its unknown or control pieces. Piece "
                f"{piece} is the ordinary piece "
                f"{processor.IdToPiece(piece)!r}. Train the model with "
                "SentencePiece's default `unk_id=0, bos_id=1, eos_id=2`, or "
                "with `keras_nlp_clone.tokenizers."
                "compute_sentence_piece_proto`."
            )
    return (
        processor.unk_id(),
        processor.bos_id(),
        processor.eos_id(),
        processor.pad_id(),
    )
