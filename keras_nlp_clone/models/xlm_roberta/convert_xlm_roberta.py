"""Converts Hugging Face XLM-RoBERTa checkpoints (`model_type:
"xlm-roberta"`).

The weights have RoBERTa's names and layout (`XLMRobertaModel`, and the
`roberta.`-prefixed `XLMRobertaForMaskedLM` /
`XLMRobertaForSequenceClassification`), so the config, weight and head
conversion are those of `convert_roberta`; only the tokenizer differs: it is
built from the SentencePiece model `sentencepiece.bpe.model`.

It also exports the other way (`export_*`, registered with
`presets.hf_export` on import): `XLMRobertaBackbone` ->
`XLMRobertaModel`, `XLMRobertaClassifier` ->
`XLMRobertaForSequenceClassification`, `XLMRobertaMaskedLM` ->
`XLMRobertaForMaskedLM`, `XLMRobertaTokenizer` ->
`sentencepiece.bpe.model` and `tokenizer_config.json`,
`XLMRobertaTextEmbedder` -> a sentence-transformers directory. Export
inverts the import's position handling: our position table
becomes rows `pad_token_id + 1 = 2` onwards of Hugging Face's (rows 0
and 1 are zeros, never used by right-padded inputs) and the token type
embedding is zeros. So ours -> Hugging Face -> ours is the identity,
and Hugging Face -> ours -> Hugging Face is too for checkpoints whose
token type embedding and position rows 0-1 are zeros; for others the
token type row is folded into the positions and rows 0-1 are dropped,
with the same outputs on right-padded inputs.
"""

import os

import numpy as np

from keras_nlp_clone.models.roberta.convert_roberta import (
    convert_backbone_config,
)
from keras_nlp_clone.models.roberta.convert_roberta import convert_head
from keras_nlp_clone.models.roberta.convert_roberta import convert_weights
from keras_nlp_clone.presets import hf_export
from keras_nlp_clone.presets.hf_conversion import bert_encoder_layer_names

backbone_cls_name = "XLMRobertaBackbone"

__all__ = [
    "backbone_cls_name",
    "convert_backbone_config",
    "convert_weights",
    "convert_head",
    "convert_tokenizer",
    "export_backbone",
    "export_classifier",
    "export_masked_lm",
    "export_text_embedder",
    "export_tokenizer",
]


def convert_tokenizer(cls, preset_dir, hf_config, **kwargs):
    """Builds an `XLMRobertaTokenizer` (or subclass `cls`) from
    `sentencepiece.bpe.model`.

    Raises:
        FileNotFoundError: `sentencepiece.bpe.model` is missing.
    """
    path = os.path.join(preset_dir, "sentencepiece.bpe.model")
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"The Hugging Face XLM-RoBERTa checkpoint at `{preset_dir}` has "
            "no `sentencepiece.bpe.model`; it is needed to build the "
            "tokenizer."
        )
    with open(path, "rb") as f:
        proto = f.read()
    return cls(proto=proto, **kwargs)


# === Export to Hugging Face ===

# Hugging Face numbers real tokens' positions from `pad_token_id + 1`.
_PAD_TOKEN_ID = 1
_POSITION_OFFSET = _PAD_TOKEN_ID + 1


def export_backbone_config(backbone, architecture="XLMRobertaModel"):
    """The Hugging Face `XLMRobertaConfig` dict of an `XLMRobertaBackbone`.

    `max_position_embeddings` is `max_sequence_length + 2` (Hugging Face's
    positions start at `pad_token_id + 1`); `type_vocab_size` is 1 and
    `layer_norm_eps` 1e-5, as the published models.

    Args:
        backbone: an `XLMRobertaBackbone`.
        architecture: str. The `architectures` entry. Defaults to
            `"XLMRobertaModel"`.

    Returns:
        dict, the `config.json` contents.
    """
    dtype = hf_export.to_numpy(backbone.token_embedding.embeddings).dtype
    return {
        "architectures": [architecture],
        "model_type": "xlm-roberta",
        "vocab_size": backbone.vocabulary_size,
        "hidden_size": backbone.hidden_dim,
        "num_hidden_layers": backbone.num_layers,
        "num_attention_heads": backbone.num_heads,
        "intermediate_size": backbone.intermediate_dim,
        "hidden_act": "gelu",
        "hidden_dropout_prob": backbone.dropout,
        "attention_probs_dropout_prob": backbone.dropout,
        "max_position_embeddings": backbone.max_sequence_length + _POSITION_OFFSET,
        "type_vocab_size": 1,
        "initializer_range": 0.02,
        "layer_norm_eps": 1e-5,
        "pad_token_id": _PAD_TOKEN_ID,
        "bos_token_id": 0,
        "eos_token_id": 2,
        "position_embedding_type": "absolute",
        "dtype": "float16" if dtype == "float16" else "float32",
    }


def export_backbone_weights(backbone, prefix=""):
    """The Hugging Face tensors of an `XLMRobertaBackbone` (RoBERTa's
    layout, the inverse of `convert_weights`; no pooler, which our
    backbone does not have).

    Args:
        backbone: an `XLMRobertaBackbone` (or `RobertaBackbone`).
        prefix: str. Prepended to every name, e.g. `"roberta."` for a task
            model. Defaults to `""`.

    Returns:
        dict, tensor name -> NumPy array.
    """
    p = prefix
    embeddings = backbone.embeddings
    positions = hf_export.to_numpy(embeddings.position_embedding.position_embeddings)
    hidden = positions.shape[-1]
    tensors = {
        f"{p}embeddings.word_embeddings.weight": hf_export.to_numpy(
            embeddings.token_embedding.embeddings
        ),
        f"{p}embeddings.position_embeddings.weight": np.concatenate(
            [np.zeros((_POSITION_OFFSET, hidden), positions.dtype), positions]
        ),
        f"{p}embeddings.token_type_embeddings.weight": np.zeros(
            (1, hidden), positions.dtype
        ),
    }
    tensors.update(
        hf_export.layer_norm_to_hf(
            backbone.embeddings_layer_norm, f"{p}embeddings.LayerNorm"
        )
    )
    for i, layer in enumerate(backbone.transformer_layers):
        tensors.update(
            hf_export.transformer_encoder_to_hf(
                layer, bert_encoder_layer_names(f"{p}encoder.layer.{i}")
            )
        )
    return tensors


def _write_model(directory, config, tensors):
    hf_export.write_json(os.path.join(directory, "config.json"), config)
    hf_export.save_safetensors(
        tensors, os.path.join(directory, "model.safetensors")
    )


def export_backbone(backbone, directory):
    """Writes an `XLMRobertaBackbone` as a Hugging Face `XLMRobertaModel`
    (`config.json`, `model.safetensors`) into `directory`. The Hugging
    Face model's pooler, which our backbone does not have, is left out
    (`transformers` initialises it randomly; `last_hidden_state` is
    exact)."""
    _write_model(
        directory,
        export_backbone_config(backbone),
        export_backbone_weights(backbone),
    )


def export_classifier(task, directory):
    """Writes an `XLMRobertaClassifier` as
    `XLMRobertaForSequenceClassification`.

    The heads correspond exactly when the classifier's `hidden_dim` is the
    backbone's: first token, dropout, `classifier.dense` (`pooled_dense`,
    tanh), dropout (`classifier_dropout`), `classifier.out_proj`
    (`logits`). Hugging Face returns logits, before any `activation` of
    ours.

    Raises:
        ValueError: the classifier's `hidden_dim` differs from the
            backbone's (Hugging Face's `classifier.dense` is
            `hidden_size -> hidden_size`), or its `activation` is not
            `None`, `"linear"` or `"softmax"`.
    """
    hf_export.check_logits_activation(task, "XLMRobertaForSequenceClassification")
    width = task.pooled_dense.units
    if width != task.backbone.hidden_dim:
        raise ValueError(
            "XLMRobertaForSequenceClassification's `classifier.dense` maps "
            f"`hidden_size` to `hidden_size` ({task.backbone.hidden_dim}); "
            f"this classifier has hidden_dim={width}, so it cannot be "
            "exported. Build the classifier with `hidden_dim=None`."
        )
    config = export_backbone_config(
        task.backbone, "XLMRobertaForSequenceClassification"
    )
    config["classifier_dropout"] = task.dropout
    config["id2label"] = {str(i): f"LABEL_{i}" for i in range(task.num_classes)}
    config["label2id"] = {f"LABEL_{i}": i for i in range(task.num_classes)}
    tensors = export_backbone_weights(task.backbone, prefix="roberta.")
    tensors.update(hf_export.dense_to_hf(task.pooled_dense, "classifier.dense"))
    tensors.update(hf_export.dense_to_hf(task.output_dense, "classifier.out_proj"))
    _write_model(directory, config, tensors)


def export_masked_lm(task, directory):
    """Writes an `XLMRobertaMaskedLM` as `XLMRobertaForMaskedLM`.

    The heads correspond exactly: `lm_head.dense` (exact GELU),
    `lm_head.layer_norm` (epsilon 1e-5), then the decoder tied to the word
    embeddings plus `lm_head.bias`.

    Raises:
        ValueError: the head's projection is not tied to the backbone's
            token embedding.
    """
    head = task.masked_lm_head
    if head.token_embedding is not task.backbone.token_embedding:
        raise ValueError(
            "XLMRobertaForMaskedLM ties its decoder to the word embeddings; "
            "this masked LM head projects with another embedding than the "
            "backbone's, so it cannot be exported."
        )
    config = export_backbone_config(task.backbone, "XLMRobertaForMaskedLM")
    config["tie_word_embeddings"] = True
    tensors = export_backbone_weights(task.backbone, prefix="roberta.")
    tensors.update(hf_export.dense_to_hf(head._intermediate_dense, "lm_head.dense"))
    tensors.update(
        hf_export.layer_norm_to_hf(head._intermediate_layer_norm, "lm_head.layer_norm")
    )
    tensors["lm_head.bias"] = hf_export.to_numpy(head._output_bias)
    _write_model(directory, config, tensors)


def export_text_embedder(embedder, directory):
    """Writes an `XLMRobertaTextEmbedder` as a sentence-transformers
    directory: the backbone as `XLMRobertaModel` plus the module files of
    `hf_export.write_sentence_transformers_files` (the tokenizer files are
    added by `export_to_transformers`)."""
    export_backbone(embedder.backbone, directory)
    max_seq_length = getattr(
        embedder.preprocessor,
        "sequence_length",
        embedder.backbone.max_sequence_length,
    )
    hf_export.write_sentence_transformers_files(
        embedder, directory, max_seq_length
    )


def _model_type(proto):
    from sentencepiece import sentencepiece_model_pb2

    model = sentencepiece_model_pb2.ModelProto()
    model.ParseFromString(proto)
    return sentencepiece_model_pb2.TrainerSpec.ModelType.Name(
        model.trainer_spec.model_type
    )


def export_tokenizer(tokenizer, directory):
    """Writes an `XLMRobertaTokenizer` as `sentencepiece.bpe.model` (the
    SentencePiece model, unchanged), `tokenizer_config.json`
    (`tokenizer_class: "XLMRobertaTokenizer"`, the special tokens) and
    `special_tokens_map.json`.

    `AutoTokenizer` builds the same fairseq id mapping from the model
    (`<s>` 0, `<pad>` 1, `</s>` 2, `<unk>` 3, piece `k` -> `k + 1`,
    `<mask>` last) and gives the same ids.

    Raises:
        ValueError: the SentencePiece model is not a unigram model (Hugging
            Face rebuilds it as one), or has a pad piece after piece 2
            (Hugging Face would shift it, we map it to 1).
    """
    proto = tokenizer.proto
    model_type = _model_type(proto)
    if model_type != "UNIGRAM":
        raise ValueError(
            "Hugging Face's XLMRobertaTokenizer rebuilds "
            "`sentencepiece.bpe.model` as a unigram model; this tokenizer's "
            f"SentencePiece model is of type {model_type}, so the ids would "
            "differ. Train the model with `model_type='unigram'`."
        )
    pad_piece = tokenizer._special_ids()[3]
    if pad_piece >= 3:
        raise ValueError(
            f"The SentencePiece model has its pad piece at {pad_piece}; we "
            "map it to `<pad>` (1) but Hugging Face's XLMRobertaTokenizer "
            f"would give it id {pad_piece + 1}. Train the model without a "
            "pad piece (`pad_id=-1`, the default)."
        )
    with open(os.path.join(directory, "sentencepiece.bpe.model"), "wb") as f:
        f.write(proto)
    special = {
        "bos_token": "<s>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
        "sep_token": "</s>",
        "pad_token": "<pad>",
        "cls_token": "<s>",
        "mask_token": "<mask>",
    }
    config = {"tokenizer_class": "XLMRobertaTokenizer", **special}
    if tokenizer.sequence_length is not None:
        config["model_max_length"] = tokenizer.sequence_length
    hf_export.write_json(os.path.join(directory, "tokenizer_config.json"), config)
    hf_export.write_json(
        os.path.join(directory, "special_tokens_map.json"), special
    )


hf_export.register_hf_exporter("XLMRobertaBackbone", export_backbone)
hf_export.register_hf_exporter("XLMRobertaClassifier", export_classifier)
hf_export.register_hf_exporter("XLMRobertaMaskedLM", export_masked_lm)
hf_export.register_hf_exporter("XLMRobertaTextEmbedder", export_text_embedder)
hf_export.register_hf_exporter("XLMRobertaTokenizer", export_tokenizer)


# === KerasHub preset format (presets/keras_hub_format.py) ===
#
# Our class names -> KerasHub's class and module, and our layer paths ->
# KerasHub's object paths in its `model.weights.h5` / `task.weights.h5`
# (checked against files saved by `keras_hub` 0.32).


def _register_keras_hub_family():
    from keras_nlp_clone.presets.keras_hub_format import KerasHubFamily
    from keras_nlp_clone.presets.keras_hub_format import register_keras_hub_family
    from keras_nlp_clone.presets.keras_hub_format import transformer_encoder_paths
    module = "keras_hub.src.models.xlm_roberta."
    classes = {
        "XLMRobertaBackbone": ("XLMRobertaBackbone", module + "xlm_roberta_backbone"),
        "XLMRobertaTokenizer": ("XLMRobertaTokenizer", module + "xlm_roberta_tokenizer"),
        "XLMRobertaPreprocessor": ("XLMRobertaTextClassifierPreprocessor", module + "xlm_roberta_text_classifier_preprocessor"),
        "XLMRobertaClassifier": ("XLMRobertaTextClassifier", module + "xlm_roberta_text_classifier"),
        "XLMRobertaMaskedLMPreprocessor": ("XLMRobertaMaskedLMPreprocessor", module + "xlm_roberta_masked_lm_preprocessor"),
        "XLMRobertaMaskedLM": ("XLMRobertaMaskedLM", module + "xlm_roberta_masked_lm"),
    }
    embedding = "token_and_position_embedding"
    backbone_layers = [
        ("embeddings/token_embedding", f"{embedding}/token_embedding"),
        ("embeddings/position_embedding", f"{embedding}/position_embedding"),
        ("embeddings_layer_norm", "layer_normalization"),
        *transformer_encoder_paths("transformer_layer_{i}", "transformer_encoder{_i}"),
    ]
    head = [("pooled_dense", "dense"), ("logits", "dense_1")]
    # The projection is the backbone's tied token embedding, not listed.
    masked_lm_head = [
        ("mlm_head", "masked_lm_head"),
        ("mlm_head/intermediate_dense", "masked_lm_head/_intermediate_dense"),
        (
            "mlm_head/intermediate_layer_norm",
            "masked_lm_head/_intermediate_layer_norm",
        ),
    ]
    register_keras_hub_family(
        KerasHubFamily(
            backbone_name="XLMRobertaBackbone",
            classes=classes,
            backbone_layers=backbone_layers,
            head_layers={
                "XLMRobertaClassifier": head,
                "XLMRobertaMaskedLM": masked_lm_head,
            },
        )
    )


_register_keras_hub_family()
