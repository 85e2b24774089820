"""Converts Hugging Face DistilBERT checkpoints (`model_type: "distilbert"`).

A table from Hugging Face tensor names to our variables, plus the reshapes of
attention projections into Keras `MultiHeadAttention`'s per-head kernels.
Accepts `DistilBertModel` checkpoints (tensor names without prefix) and the
`distilbert.`-prefixed names of `DistilBertForMaskedLM` and
`DistilBertForSequenceClassification`, whose heads `convert_head` copies.
The tokenizer is BERT's WordPiece, read from `vocab.txt` and
`tokenizer_config.json` as for BERT checkpoints.

It also exports the other way (`export_*`, registered with
`presets.hf_export` on import): `DistilBertBackbone` ->
`DistilBertModel`, `DistilBertClassifier` ->
`DistilBertForSequenceClassification`, `DistilBertMaskedLM` ->
`DistilBertForMaskedLM`, `DistilBertTokenizer` -> `vocab.txt` and
`tokenizer_config.json`.
"""

import numpy as np

from keras_nlp_clone.models.bert import convert_bert
from keras_nlp_clone.presets import hf_export
from keras_nlp_clone.presets.errors import PresetError
from keras_nlp_clone.presets.hf_conversion import assign
from keras_nlp_clone.presets.hf_conversion import copy_dense
from keras_nlp_clone.presets.hf_conversion import copy_layer_norm
from keras_nlp_clone.presets.hf_conversion import copy_transformer_encoder

backbone_cls_name = "DistilBertBackbone"


def convert_backbone_config(hf_config):
    """Maps a Hugging Face `DistilBertConfig` dict to `DistilBertBackbone`
    arguments.

    Sinusoidal position embeddings (`sinusoidal_pos_embds`) need no special
    case: Hugging Face stores their fixed table as
    `embeddings.position_embeddings.weight`, which loads into the learned
    table.

    Raises:
        PresetError: for an activation other than the exact `gelu`.
    """
    activation = hf_config.get("activation", "gelu")
    if activation != "gelu":
        raise PresetError(
            f"Hugging Face DistilBERT checkpoint uses activation={activation!r}; "
            "DistilBertBackbone implements the exact `gelu` only."
        )
    return {
        "vocabulary_size": hf_config["vocab_size"],
        "num_layers": hf_config["n_layers"],
        "num_heads": hf_config["n_heads"],
        "hidden_dim": hf_config["dim"],
        "intermediate_dim": hf_config["hidden_dim"],
        "dropout": hf_config.get("dropout", 0.1),
        "max_sequence_length": hf_config.get("max_position_embeddings", 512),
    }


def _prefix(reader):
    keys = reader.keys()
    if "embeddings.word_embeddings.weight" in keys:
        return ""
    if "distilbert.embeddings.word_embeddings.weight" in keys:
        return "distilbert."
    raise PresetError(
        f"`{reader.preset_dir}` does not look like a DistilBERT checkpoint: "
        "no `embeddings.word_embeddings.weight` or "
        "`distilbert.embeddings.word_embeddings.weight` tensor."
    )


def convert_weights(backbone, reader, hf_config):
    """Copies a Hugging Face DistilBERT checkpoint into a
    `DistilBertBackbone`.

    Args:
        backbone: a built `DistilBertBackbone` of the converted config.
        reader: a `SafetensorsReader` on the checkpoint.
        hf_config: the checkpoint's `config.json` as a dict.

    Raises:
        PresetError: a tensor's shape differs from our variable's.
        KeyError: a tensor is missing from the checkpoint.
    """
    p = _prefix(reader)
    assign(
        backbone.embeddings.token_embedding.embeddings,
        reader.get(f"{p}embeddings.word_embeddings.weight"),
        "word_embeddings",
    )
    assign(
        backbone.embeddings.position_embedding.position_embeddings,
        reader.get(f"{p}embeddings.position_embeddings.weight"),
        "position_embeddings",
    )
    copy_layer_norm(backbone.embeddings_layer_norm, reader, f"{p}embeddings.LayerNorm")
    for i, layer in enumerate(backbone.transformer_layers):
        name = f"{p}transformer.layer.{i}"
        copy_transformer_encoder(
            layer,
            reader,
            {
                "query": f"{name}.attention.q_lin",
                "key": f"{name}.attention.k_lin",
                "value": f"{name}.attention.v_lin",
                "attention_output": f"{name}.attention.out_lin",
                "attention_layer_norm": f"{name}.sa_layer_norm",
                "intermediate": f"{name}.ffn.lin1",
                "output": f"{name}.ffn.lin2",
                "output_layer_norm": f"{name}.output_layer_norm",
            },
        )


def convert_tokenizer(cls, preset_dir, hf_config, **kwargs):
    """Builds a `DistilBertTokenizer` (`cls`) from `vocab.txt` and
    `tokenizer_config.json` (`do_lower_case`, default `True` as in
    Hugging Face, and `strip_accents`), as for BERT checkpoints.

    Raises:
        FileNotFoundError: no `vocab.txt` in the checkpoint directory.
    """
    return convert_bert.convert_tokenizer(cls, preset_dir, hf_config, **kwargs)


def convert_head(task, reader, hf_config):
    """Copies a checkpoint's task head into `task`, when both have one.

    - `DistilBertMaskedLM` from `DistilBertForMaskedLM`: `vocab_transform`,
      `vocab_layer_norm` and `vocab_projector.bias` (the projection matrix
      is tied to the word embeddings, as in our `MaskedLMHead`).
    - `DistilBertClassifier` from `DistilBertForSequenceClassification`:
      `pre_classifier` into `pooled_dense` when the widths match, and
      `classifier` into the output layer when, in addition, the number of
      labels equals `num_classes`.
    Other combinations leave the (new) head randomly initialised.

    Raises:
        PresetError: the checkpoint's `vocab_projector.weight` is not tied
            to the word embeddings (a head `MaskedLMHead` cannot hold).
    """
    from keras_nlp_clone.models.distil_bert.distil_bert_classifier import (
        DistilBertClassifier,
    )
    from keras_nlp_clone.models.distil_bert.distil_bert_masked_lm import (
        DistilBertMaskedLM,
    )

    if isinstance(task, DistilBertMaskedLM) and reader.has("vocab_transform.weight"):
        if reader.has("vocab_projector.weight"):
            projector = reader.get("vocab_projector.weight")
            embeddings = reader.get(
                f"{_prefix(reader)}embeddings.word_embeddings.weight"
            )
            if projector.shape != embeddings.shape or not np.array_equal(
                projector, embeddings
            ):
                raise PresetError(
                    f"The DistilBERT masked LM checkpoint at "
                    f"`{reader.preset_dir}` has a `vocab_projector.weight` "
                    "that differs from its word embeddings "
                    "(`tie_word_embeddings=False`); DistilBertMaskedLM ties "
                    "them. Load it with `DistilBertBackbone.from_preset` and "
                    "train a new head."
                )
        head = task.masked_lm_head
        copy_dense(head._intermediate_dense, reader, "vocab_transform")
        copy_layer_norm(head._intermediate_layer_norm, reader, "vocab_layer_norm")
        assign(
            head._output_bias,
            reader.get("vocab_projector.bias"),
            "vocab_projector.bias",
        )
    elif isinstance(task, DistilBertClassifier) and reader.has("pre_classifier.weight"):
        pre_classifier = reader.get("pre_classifier.weight")
        if pre_classifier.shape[0] != task.hidden_dim:
            return
        copy_dense(task.pooled_dense, reader, "pre_classifier")
        if reader.get("classifier.weight").shape[0] == task.num_classes:
            copy_dense(task.output_dense, reader, "classifier")


# === Export to Hugging Face ===


def _encoder_layer_names(prefix):
    return {
        "query": f"{prefix}.attention.q_lin",
        "key": f"{prefix}.attention.k_lin",
        "value": f"{prefix}.attention.v_lin",
        "attention_output": f"{prefix}.attention.out_lin",
        "attention_layer_norm": f"{prefix}.sa_layer_norm",
        "intermediate": f"{prefix}.ffn.lin1",
        "output": f"{prefix}.ffn.lin2",
        "output_layer_norm": f"{prefix}.output_layer_norm",
    }


def export_backbone_config(backbone, architecture="DistilBertModel", pad_token_id=0):
    """The Hugging Face `DistilBertConfig` dict of a `DistilBertBackbone`
    (learned position embeddings: `sinusoidal_pos_embds=False`).

    Args:
        backbone: a `DistilBertBackbone`.
        architecture: str. The `architectures` entry. Defaults to
            `"DistilBertModel"`.
        pad_token_id: int. The `[PAD]` id. Defaults to `0`.

    Returns:
        dict, the `config.json` contents.
    """
    dtype = hf_export.to_numpy(backbone.token_embedding.embeddings).dtype
    return {
        "architectures": [architecture],
        "model_type": "distilbert",
        "vocab_size": backbone.vocabulary_size,
        "dim": backbone.hidden_dim,
        "n_layers": backbone.num_layers,
        "n_heads": backbone.num_heads,
        "hidden_dim": backbone.intermediate_dim,
        "activation": "gelu",
        "dropout": backbone.dropout,
        "attention_dropout": backbone.dropout,
        "max_position_embeddings": backbone.max_sequence_length,
        "sinusoidal_pos_embds": False,
        "initializer_range": 0.02,
        "pad_token_id": pad_token_id,
        "tie_weights_": True,
        "dtype": "float16" if dtype == "float16" else "float32",
    }


def export_backbone_weights(backbone, prefix=""):
    """The Hugging Face tensors of a `DistilBertBackbone` (the inverse of
    `convert_weights`).

    Args:
        backbone: a `DistilBertBackbone`.
        prefix: str. Prepended to every name, e.g. `"distilbert."` for a
            task model. Defaults to `""`.

    Returns:
        dict, tensor name -> NumPy array.
    """
    p = prefix
    embeddings = backbone.embeddings
    tensors = {
        f"{p}embeddings.word_embeddings.weight": hf_export.to_numpy(
            embeddings.token_embedding.embeddings
        ),
        f"{p}embeddings.position_embeddings.weight": hf_export.to_numpy(
            embeddings.position_embedding.position_embeddings
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
                layer, _encoder_layer_names(f"{p}transformer.layer.{i}")
            )
        )
    return tensors


def _pad_token_id(task):
    tokenizer = getattr(task.preprocessor, "tokenizer", None)
    return getattr(tokenizer, "pad_token_id", None) or 0


def _write_model(directory, config, tensors):
    import os

    hf_export.write_json(os.path.join(directory, "config.json"), config)
    hf_export.save_safetensors(
        tensors, os.path.join(directory, "model.safetensors")
    )


def export_backbone(backbone, directory):
    """Writes a `DistilBertBackbone` as a Hugging Face `DistilBertModel`
    (`config.json`, `model.safetensors`) into `directory`."""
    _write_model(
        directory,
        export_backbone_config(backbone),
        export_backbone_weights(backbone),
    )


def export_classifier(task, directory):
    """Writes a `DistilBertClassifier` as
    `DistilBertForSequenceClassification`.

    The heads correspond exactly when the classifier's `hidden_dim` is the
    backbone's: first token, `pre_classifier` (`pooled_dense`, ReLU),
    dropout (`seq_classif_dropout`), `classifier` (`logits`). Hugging Face
    returns logits, before any `activation` of ours.

    Raises:
        ValueError: the classifier's `hidden_dim` differs from the
            backbone's (Hugging Face's `pre_classifier` is `dim -> dim`),
            or its `activation` is not `None`, `"linear"` or `"softmax"`.
    """
    hf_export.check_logits_activation(task, "DistilBertForSequenceClassification")
    width = task.pooled_dense.units
    if width != task.backbone.hidden_dim:
        raise ValueError(
            "DistilBertForSequenceClassification's `pre_classifier` maps "
            f"`dim` to `dim` ({task.backbone.hidden_dim}); this classifier "
            f"has hidden_dim={width}, so it cannot be exported. Build the "
            "classifier with `hidden_dim=None`."
        )
    config = export_backbone_config(
        task.backbone, "DistilBertForSequenceClassification", _pad_token_id(task)
    )
    config["seq_classif_dropout"] = task.dropout
    config["id2label"] = {str(i): f"LABEL_{i}" for i in range(task.num_classes)}
    config["label2id"] = {f"LABEL_{i}": i for i in range(task.num_classes)}
    tensors = export_backbone_weights(task.backbone, prefix="distilbert.")
    tensors.update(hf_export.dense_to_hf(task.pooled_dense, "pre_classifier"))
    tensors.update(hf_export.dense_to_hf(task.output_dense, "classifier"))
    _write_model(directory, config, tensors)


def export_masked_lm(task, directory):
    """Writes a `DistilBertMaskedLM` as `DistilBertForMaskedLM`.

    The heads correspond exactly: `vocab_transform` (dense, exact GELU),
    `vocab_layer_norm` (epsilon 1e-12), then `vocab_projector` tied to the
    word embeddings plus its bias.

    Raises:
        ValueError: the head's projection is not tied to the backbone's
            token embedding.
    """
    head = task.masked_lm_head
    if head.token_embedding is not task.backbone.token_embedding:
        raise ValueError(
            "DistilBertForMaskedLM ties `vocab_projector` to the word "
            "embeddings; this masked LM head projects with another "
            "embedding than the backbone's, so it cannot be exported."
        )
    config = export_backbone_config(
        task.backbone, "DistilBertForMaskedLM", _pad_token_id(task)
    )
    config["tie_word_embeddings"] = True
    tensors = export_backbone_weights(task.backbone, prefix="distilbert.")
    tensors.update(
        hf_export.dense_to_hf(head._intermediate_dense, "vocab_transform")
    )
    tensors.update(
        hf_export.layer_norm_to_hf(head._intermediate_layer_norm, "vocab_layer_norm")
    )
    tensors["vocab_projector.bias"] = hf_export.to_numpy(head._output_bias)
    _write_model(directory, config, tensors)


def export_tokenizer(tokenizer, directory):
    """Writes a `DistilBertTokenizer` as `vocab.txt`,
    `tokenizer_config.json` (`tokenizer_class: "DistilBertTokenizer"`) and
    `special_tokens_map.json`; see `convert_bert.export_tokenizer`.

    Raises:
        ValueError: as `convert_bert.export_tokenizer`.
    """
    convert_bert.export_tokenizer(
        tokenizer, directory, tokenizer_class="DistilBertTokenizer"
    )


hf_export.register_hf_exporter("DistilBertBackbone", export_backbone)
hf_export.register_hf_exporter("DistilBertClassifier", export_classifier)
hf_export.register_hf_exporter("DistilBertMaskedLM", export_masked_lm)
hf_export.register_hf_exporter("DistilBertTokenizer", export_tokenizer)


# === KerasHub preset format (presets/keras_hub_format.py) ===
#
# Our class names -> KerasHub's class and module, and our layer paths ->
# KerasHub's object paths in its `model.weights.h5` / `task.weights.h5`
# (checked against files saved by `keras_hub` 0.32).

# KerasHub's `DistilBertMaskedLM` head normalizes with `epsilon=1e-5` (its
# `MaskedLMHead` default); ours with 1e-12, as Hugging Face's
# `cls.predictions.transform.LayerNorm`. Same weights, different logits, so
# its task weights are refused both ways.
_MASKED_LM_REFUSAL = (
    "its masked-LM head's layer norm has epsilon=1e-12 (as Hugging Face's "
    "DistilBERT), KerasHub's `DistilBertMaskedLM` head has 1e-5, so the logits would "
    "differ. Save or load the backbone (`DistilBertBackbone`) in KerasHub's "
    "format instead, or use this library's own preset format."
)


def _register_keras_hub_family():
    from keras_nlp_clone.presets.keras_hub_format import KerasHubFamily
    from keras_nlp_clone.presets.keras_hub_format import register_keras_hub_family
    from keras_nlp_clone.presets.keras_hub_format import transformer_encoder_paths
    module = "keras_hub.src.models.distil_bert."
    classes = {
        "DistilBertBackbone": ("DistilBertBackbone", module + "distil_bert_backbone"),
        "DistilBertTokenizer": ("DistilBertTokenizer", module + "distil_bert_tokenizer"),
        "DistilBertPreprocessor": ("DistilBertTextClassifierPreprocessor", module + "distil_bert_text_classifier_preprocessor"),
        "DistilBertClassifier": ("DistilBertTextClassifier", module + "distil_bert_text_classifier"),
        "DistilBertMaskedLMPreprocessor": ("DistilBertMaskedLMPreprocessor", module + "distil_bert_masked_lm_preprocessor"),
        "DistilBertMaskedLM": ("DistilBertMaskedLM", module + "distil_bert_masked_lm"),
    }
    embedding = "token_and_position_embedding"
    backbone_layers = [
        (f"{embedding}/token_embedding", f"{embedding}/token_embedding"),
        (f"{embedding}/position_embedding", f"{embedding}/position_embedding"),
        ("embeddings_layer_norm", "layer_normalization"),
        *transformer_encoder_paths("transformer_layer_{i}", "transformer_encoder{_i}"),
    ]
    head = [("pooled_dense", "dense"), ("logits", "dense_1")]
    register_keras_hub_family(
        KerasHubFamily(
            backbone_name="DistilBertBackbone",
            classes=classes,
            backbone_layers=backbone_layers,
            head_layers={"DistilBertClassifier": head},
            refused_tasks={"DistilBertMaskedLM": _MASKED_LM_REFUSAL},
            config_to_keras_hub={"DistilBertTokenizer": {"split_on_cjk": True}},
        )
    )


_register_keras_hub_family()
