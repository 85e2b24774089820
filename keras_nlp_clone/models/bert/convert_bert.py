"""Converts Hugging Face BERT checkpoints (`model_type: "bert"`).

A table from Hugging Face tensor names to our variables, plus the reshapes of
attention projections into Keras `MultiHeadAttention`'s per-head kernels.
Accepts `BertModel` checkpoints (tensor names without prefix) and the
`bert.`-prefixed names of `BertForMaskedLM`, `BertForSequenceClassification`
and `BertForPreTraining`.

It also exports the other way (`export_*`, registered with
`presets.hf_export` on import): `BertBackbone` -> `BertModel`,
`BertClassifier` -> `BertForSequenceClassification`, `BertMaskedLM` ->
`BertForMaskedLM`, `BertTokenizer` -> `vocab.txt` and
`tokenizer_config.json`, and `BertTextEmbedder` -> a sentence-transformers
directory.
"""

import os

from keras_nlp_clone.presets import hf_export
from keras_nlp_clone.presets.errors import PresetError
from keras_nlp_clone.presets.hf_conversion import assign
from keras_nlp_clone.presets.hf_conversion import bert_encoder_layer_names
from keras_nlp_clone.presets.hf_conversion import check_hf_config_value
from keras_nlp_clone.presets.hf_conversion import copy_dense
from keras_nlp_clone.presets.hf_conversion import copy_layer_norm
from keras_nlp_clone.presets.hf_conversion import copy_transformer_encoder
from keras_nlp_clone.presets.hf_conversion import read_tokenizer_options


backbone_cls_name = "BertBackbone"
# Hugging Face `hidden_act` -> `BertBackbone(intermediate_activation=...)`.
_HF_ACTIVATIONS = {
    "gelu": "gelu",
    "gelu_new": "gelu_approximate",
    "gelu_pytorch_tanh": "gelu_approximate",
}


def convert_backbone_config(hf_config):
    """Maps a Hugging Face `BertConfig` dict to `BertBackbone` arguments.

    Raises:
        PresetError: for variants this backbone does not implement
            (another activation, relative positions, a layer norm epsilon
            other than 1e-12).
    """
    act = hf_config.get("hidden_act", "gelu")
    if act not in _HF_ACTIVATIONS:
        raise PresetError(
            f"Hugging Face BERT checkpoint uses hidden_act={act!r}; "
            "BertBackbone implements the exact `gelu` and its tanh "
            "approximation (`gelu_new`, `gelu_pytorch_tanh`) only."
        )
    position_type = hf_config.get("position_embedding_type", "absolute")
    if position_type != "absolute":
        raise PresetError(
            "Hugging Face BERT checkpoint uses position_embedding_type="
            f"{position_type!r}; BertBackbone implements `absolute` only."
        )
    # BertBackbone's layer norms use Hugging Face's default epsilon, 1e-12.
    check_hf_config_value(hf_config, "layer_norm_eps", 1e-12, "BERT")
    return {
        "vocabulary_size": hf_config["vocab_size"],
        "num_layers": hf_config["num_hidden_layers"],
        "num_heads": hf_config["num_attention_heads"],
        "hidden_dim": hf_config["hidden_size"],
        "intermediate_dim": hf_config["intermediate_size"],
        "dropout": hf_config.get("hidden_dropout_prob", 0.1),
        "max_sequence_length": hf_config.get("max_position_embeddings", 512),
        "num_segments": hf_config.get("type_vocab_size", 2),
        "intermediate_activation": _HF_ACTIVATIONS[act],
    }


def _prefix(reader):
    keys = reader.keys()
    if "embeddings.word_embeddings.weight" in keys:
        return ""
    if "bert.embeddings.word_embeddings.weight" in keys:
        return "bert."
    raise PresetError(
        f"`{reader.preset_dir}` does not look like a BERT checkpoint: no "
        "`embeddings.word_embeddings.weight` tensor."
    )


def convert_weights(backbone, reader, hf_config):
    """Copies a Hugging Face BERT checkpoint into a `BertBackbone`.

    Args:
        backbone: a built `BertBackbone` of the converted config.
        reader: a `SafetensorsReader` on the checkpoint.
        hf_config: the checkpoint's `config.json` as a dict.
    """
    p = _prefix(reader)
    assign(
        backbone.token_embedding.embeddings,
        reader.get(f"{p}embeddings.word_embeddings.weight"),
        "word_embeddings",
    )
    assign(
        backbone.position_embedding.position_embeddings,
        reader.get(f"{p}embeddings.position_embeddings.weight"),
        "position_embeddings",
    )
    assign(
        backbone.segment_embedding.embeddings,
        reader.get(f"{p}embeddings.token_type_embeddings.weight"),
        "token_type_embeddings",
    )
    copy_layer_norm(backbone.embeddings_layer_norm, reader, f"{p}embeddings.LayerNorm")
    for i, layer in enumerate(backbone.transformer_layers):
        copy_transformer_encoder(
            layer, reader, bert_encoder_layer_names(f"{p}encoder.layer.{i}")
        )
    if reader.has(f"{p}pooler.dense.weight"):
        copy_dense(backbone.pooled_dense, reader, f"{p}pooler.dense")


def convert_tokenizer(cls, preset_dir, hf_config, **kwargs):
    """Builds a `BertTokenizer` (or subclass `cls`) from `vocab.txt` and
    `tokenizer_config.json` (`do_lower_case`, `strip_accents`).

    Raises:
        FileNotFoundError: no `vocab.txt` in the checkpoint directory.
        PresetError: `tokenizer_config.json` is damaged or gives an option
            the wrong JSON type (e.g. `"do_lower_case": "false"`).
    """
    vocab_path = os.path.join(preset_dir, "vocab.txt")
    if not os.path.exists(vocab_path):
        raise FileNotFoundError(
            f"The Hugging Face BERT checkpoint at `{preset_dir}` has no "
            "`vocab.txt`; it is needed to build the tokenizer."
        )
    options = read_tokenizer_options(
        preset_dir, {"do_lower_case": (bool, True), "strip_accents": (bool, None)}
    )
    lowercase = options["do_lower_case"]
    strip_accents = options["strip_accents"]
    kwargs.setdefault("lowercase", lowercase)
    kwargs.setdefault(
        "strip_accents", lowercase if strip_accents is None else strip_accents
    )
    return cls(vocabulary=vocab_path, **kwargs)


def convert_head(task, reader, hf_config):
    """Copies a checkpoint's task head into `task`, when both have one.

    - `BertMaskedLM` from `BertForMaskedLM`/`BertForPreTraining`:
      `cls.predictions.transform.*` and `cls.predictions.bias` (the decoder
      is tied to the word embeddings, as in our `MaskedLMHead`).
    - `BertClassifier` from `BertForSequenceClassification`: `classifier.*`,
      when the number of labels equals `num_classes`.
    Other combinations leave the (new) head randomly initialised.
    """
    from keras_nlp_clone.models.bert.bert_classifier import BertClassifier
    from keras_nlp_clone.models.bert.bert_masked_lm import BertMaskedLM

    if isinstance(task, BertMaskedLM) and reader.has(
        "cls.predictions.transform.dense.weight"
    ):
        head = task.masked_lm_head
        copy_dense(head._intermediate_dense, reader, "cls.predictions.transform.dense")
        copy_layer_norm(
            head._intermediate_layer_norm,
            reader,
            "cls.predictions.transform.LayerNorm",
        )
        assign(head._output_bias, reader.get("cls.predictions.bias"), "bias")
    elif isinstance(task, BertClassifier) and reader.has("classifier.weight"):
        kernel = reader.get("classifier.weight")
        if kernel.shape[0] == task.num_classes:
            copy_dense(task.output_dense, reader, "classifier")


# === Export to Hugging Face ===


def _dtype_name(backbone):
    dtype = hf_export.to_numpy(backbone.token_embedding.embeddings).dtype
    return "float16" if dtype == "float16" else "float32"


def export_backbone_config(backbone, architecture="BertModel", pad_token_id=0):
    """The Hugging Face `BertConfig` dict of a `BertBackbone`.

    Args:
        backbone: a `BertBackbone`.
        architecture: str. The `architectures` entry. Defaults to
            `"BertModel"`.
        pad_token_id: int. The `[PAD]` id. Defaults to `0`.

    Returns:
        dict, the `config.json` contents.

    Raises:
        ValueError: the backbone pools another token than the first
            (`cls_token_index != 0`), which Hugging Face's pooler cannot.
    """
    if getattr(backbone, "cls_token_index", 0) != 0:
        raise ValueError(
            "Hugging Face's `BertPooler` pools the first token; this "
            f"backbone has cls_token_index={backbone.cls_token_index}. "
            "Export a backbone with `cls_token_index=0`."
        )
    return {
        "architectures": [architecture],
        "model_type": "bert",
        "vocab_size": backbone.vocabulary_size,
        "hidden_size": backbone.hidden_dim,
        "num_hidden_layers": backbone.num_layers,
        "num_attention_heads": backbone.num_heads,
        "intermediate_size": backbone.intermediate_dim,
        "hidden_act": (
            "gelu_new"
            if backbone.intermediate_activation == "gelu_approximate"
            else "gelu"
        ),
        "hidden_dropout_prob": backbone.dropout,
        "attention_probs_dropout_prob": backbone.dropout,
        "max_position_embeddings": backbone.max_sequence_length,
        "type_vocab_size": backbone.num_segments,
        "initializer_range": 0.02,
        "layer_norm_eps": 1e-12,
        "pad_token_id": pad_token_id,
        "position_embedding_type": "absolute",
        "dtype": _dtype_name(backbone),
    }


def export_backbone_weights(backbone, prefix="", pooler=True):
    """The Hugging Face tensors of a `BertBackbone` (the inverse of
    `convert_weights`).

    Args:
        backbone: a `BertBackbone`.
        prefix: str. Prepended to every name, e.g. `"bert."` for a task
            model. Defaults to `""`.
        pooler: bool. Include `pooler.dense` (`BertForMaskedLM` has no
            pooler). Defaults to `True`.

    Returns:
        dict, tensor name -> NumPy array.
    """
    p = prefix
    tensors = {
        f"{p}embeddings.word_embeddings.weight": hf_export.to_numpy(
            backbone.token_embedding.embeddings
        ),
        f"{p}embeddings.position_embeddings.weight": hf_export.to_numpy(
            backbone.position_embedding.position_embeddings
        ),
        f"{p}embeddings.token_type_embeddings.weight": hf_export.to_numpy(
            backbone.segment_embedding.embeddings
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
    if pooler:
        tensors.update(
            hf_export.dense_to_hf(backbone.pooled_dense, f"{p}pooler.dense")
        )
    return tensors


def _pad_token_id(task):
    tokenizer = getattr(task.preprocessor, "tokenizer", None)
    return getattr(tokenizer, "pad_token_id", None) or 0


def _write_model(directory, config, tensors):
    hf_export.write_json(os.path.join(directory, "config.json"), config)
    hf_export.save_safetensors(
        tensors, os.path.join(directory, "model.safetensors")
    )


def export_backbone(backbone, directory):
    """Writes a `BertBackbone` as a Hugging Face `BertModel`
    (`config.json`, `model.safetensors`) into `directory`."""
    _write_model(
        directory,
        export_backbone_config(backbone),
        export_backbone_weights(backbone),
    )


def export_classifier(task, directory):
    """Writes a `BertClassifier` as `BertForSequenceClassification`.

    The heads correspond exactly: the pooler (`pooled_dense`, tanh on the
    first token), dropout (`classifier_dropout`), then `classifier`
    (`logits`). Hugging Face returns logits: a classifier built with
    `activation="softmax"` exports the same weights, and its outputs are
    the softmax of the exported model's logits.

    Raises:
        ValueError: an `activation` other than `None`, `"linear"` or
            `"softmax"`.
    """
    hf_export.check_logits_activation(task, "BertForSequenceClassification")
    config = export_backbone_config(
        task.backbone, "BertForSequenceClassification", _pad_token_id(task)
    )
    config["classifier_dropout"] = task.dropout
    config["id2label"] = {str(i): f"LABEL_{i}" for i in range(task.num_classes)}
    config["label2id"] = {f"LABEL_{i}": i for i in range(task.num_classes)}
    tensors = export_backbone_weights(task.backbone, prefix="bert.")
    tensors.update(hf_export.dense_to_hf(task.output_dense, "classifier"))
    _write_model(directory, config, tensors)


def export_masked_lm(task, directory):
    """Writes a `BertMaskedLM` as `BertForMaskedLM`.

    The heads correspond exactly: `cls.predictions.transform` (dense, exact
    GELU, layer norm with epsilon 1e-12), then the decoder tied to the word
    embeddings plus `cls.predictions.bias`. The backbone's pooler, which
    the masked LM does not use, is left out, as in `BertForMaskedLM`.

    Raises:
        ValueError: the head's projection is not tied to the backbone's
            token embedding.
    """
    head = task.masked_lm_head
    if head.token_embedding is not task.backbone.token_embedding:
        raise ValueError(
            "BertForMaskedLM ties its decoder to the word embeddings; this "
            "masked LM head projects with another embedding than the "
            "backbone's `token_embedding`, so it cannot be exported."
        )
    config = export_backbone_config(
        task.backbone, "BertForMaskedLM", _pad_token_id(task)
    )
    config["tie_word_embeddings"] = True
    tensors = export_backbone_weights(task.backbone, prefix="bert.", pooler=False)
    tensors.update(
        hf_export.dense_to_hf(
            head._intermediate_dense, "cls.predictions.transform.dense"
        )
    )
    tensors.update(
        hf_export.layer_norm_to_hf(
            head._intermediate_layer_norm, "cls.predictions.transform.LayerNorm"
        )
    )
    tensors["cls.predictions.bias"] = hf_export.to_numpy(head._output_bias)
    _write_model(directory, config, tensors)


def export_text_embedder(embedder, directory):
    """Writes a `BertTextEmbedder` as a sentence-transformers directory:
    the backbone as `BertModel` plus `modules.json`,
    `sentence_bert_config.json`, `1_Pooling/config.json` and, with
    `normalize=True`, `2_Normalize` (the tokenizer files are added by
    `export_to_transformers`). `max_seq_length` is the preprocessor's
    `sequence_length` (the backbone's `max_sequence_length` without a
    preprocessor)."""
    export_backbone(embedder.backbone, directory)
    max_seq_length = getattr(
        embedder.preprocessor,
        "sequence_length",
        embedder.backbone.max_sequence_length,
    )
    hf_export.write_sentence_transformers_files(
        embedder, directory, max_seq_length
    )


def export_tokenizer(tokenizer, directory, tokenizer_class="BertTokenizer"):
    """Writes a `BertTokenizer` as Hugging Face files: `vocab.txt` (one
    token a line, in id order), `tokenizer_config.json` (`do_lower_case`,
    `strip_accents`, `tokenize_chinese_chars`, the special tokens) and
    `special_tokens_map.json`.

    `AutoTokenizer` then gives the same ids on text (with
    `add_special_tokens=False`; with them, `[CLS] ... [SEP]` as
    `BertPreprocessor`). One difference stays: Hugging Face always matches
    special token strings such as `"[MASK]"` written in the text, which we
    do only with `special_tokens_in_strings=True`.

    Args:
        tokenizer: a `BertTokenizer` (or subclass).
        directory: str. The export directory.
        tokenizer_class: str. The `tokenizer_class` to record. Defaults to
            `"BertTokenizer"`.

    Raises:
        ValueError: a tokenizer option Hugging Face's BERT tokenizer does
            not have (`split=False`, a `suffix_indicator` other than
            `"##"`), or a vocabulary token holding a line break.
    """
    if not tokenizer.split or tokenizer.suffix_indicator != "##":
        raise ValueError(
            "Hugging Face's BERT tokenizer always splits on whitespace and "
            "punctuation and marks word continuations with `##`; this "
            f"tokenizer has split={tokenizer.split}, suffix_indicator="
            f"{tokenizer.suffix_indicator!r}, so it cannot be exported."
        )
    vocabulary = tokenizer.get_vocabulary()
    for token in vocabulary:
        if "\n" in token or "\r" in token:
            raise ValueError(
                f"Vocabulary token {token!r} holds a line break, which "
                "`vocab.txt` (one token a line) cannot store."
            )
    with open(os.path.join(directory, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("".join(token + "\n" for token in vocabulary))
    special = {
        "unk_token": tokenizer.oov_token,
        "sep_token": "[SEP]",
        "pad_token": "[PAD]",
        "cls_token": "[CLS]",
        "mask_token": "[MASK]",
    }
    config = {
        "tokenizer_class": tokenizer_class,
        "do_lower_case": bool(tokenizer.lowercase),
        "strip_accents": bool(tokenizer.strip_accents),
        "tokenize_chinese_chars": bool(tokenizer.split_on_cjk),
        "do_basic_tokenize": True,
        **special,
    }
    if tokenizer.sequence_length is not None:
        config["model_max_length"] = tokenizer.sequence_length
    hf_export.write_json(
        os.path.join(directory, "tokenizer_config.json"), config
    )
    hf_export.write_json(
        os.path.join(directory, "special_tokens_map.json"), special
    )


hf_export.register_hf_exporter("BertBackbone", export_backbone)
hf_export.register_hf_exporter("BertClassifier", export_classifier)
hf_export.register_hf_exporter("BertMaskedLM", export_masked_lm)
hf_export.register_hf_exporter("BertTextEmbedder", export_text_embedder)
hf_export.register_hf_exporter("BertTokenizer", export_tokenizer)


# === KerasHub preset format (presets/keras_hub_format.py) ===
#
# Our class names -> KerasHub's class and module, and our layer paths ->
# KerasHub's object paths in its `model.weights.h5` / `task.weights.h5`
# (checked against files saved by `keras_hub` 0.32).

# KerasHub's `BertMaskedLM` head normalizes with `epsilon=1e-5` (its
# `MaskedLMHead` default); ours with 1e-12, as Hugging Face's
# `cls.predictions.transform.LayerNorm`. Same weights, different logits, so
# its task weights are refused both ways.
_MASKED_LM_REFUSAL = (
    "its masked-LM head's layer norm has epsilon=1e-12 (as Hugging Face's "
    "BERT), KerasHub's `BertMaskedLM` head has 1e-5, so the logits would "
    "differ. Save or load the backbone (`BertBackbone`) in KerasHub's "
    "format instead, or use this library's own preset format."
)


def _register_keras_hub_family():
    from keras_nlp_clone.presets.keras_hub_format import KerasHubFamily
    from keras_nlp_clone.presets.keras_hub_format import register_keras_hub_family
    from keras_nlp_clone.presets.keras_hub_format import transformer_encoder_paths
    module = "keras_hub.src.models.bert."
    classes = {
        "BertBackbone": ("BertBackbone", module + "bert_backbone"),
        "BertTokenizer": ("BertTokenizer", module + "bert_tokenizer"),
        "BertPreprocessor": ("BertTextClassifierPreprocessor", module + "bert_text_classifier_preprocessor"),
        "BertClassifier": ("BertTextClassifier", module + "bert_text_classifier"),
        "BertMaskedLMPreprocessor": ("BertMaskedLMPreprocessor", module + "bert_masked_lm_preprocessor"),
        "BertMaskedLM": ("BertMaskedLM", module + "bert_masked_lm"),
    }
    backbone_layers = [
        ("token_embedding", "reversible_embedding"),
        ("position_embedding", "position_embedding"),
        ("segment_embedding", "embedding"),
        ("embeddings_layer_norm", "layer_normalization"),
        *transformer_encoder_paths("transformer_layer_{i}", "transformer_encoder{_i}"),
        ("pooled_dense", "dense"),
    ]
    # KerasHub's BERT computes the tanh-approximate GELU and always splits
    # CJK ideographs; it has no argument for either.
    gelu = {"intermediate_activation": "gelu_approximate"}
    register_keras_hub_family(
        KerasHubFamily(
            backbone_name="BertBackbone",
            classes=classes,
            backbone_layers=backbone_layers,
            head_layers={"BertClassifier": [("logits", "dense")]},
            refused_tasks={"BertMaskedLM": _MASKED_LM_REFUSAL},
            config_from_keras_hub={"BertBackbone": gelu},
            config_to_keras_hub={
                "BertBackbone": gelu,
                "BertTokenizer": {"split_on_cjk": True},
            },
        )
    )


_register_keras_hub_family()
