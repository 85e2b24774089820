"""Converts Hugging Face RoBERTa checkpoints (`model_type: "roberta"`).

A table from Hugging Face tensor names to our variables, as for BERT (the
encoder layers have the same names and layout). Accepts `RobertaModel`
checkpoints (tensor names without prefix) and the `roberta.`-prefixed names
of `RobertaForMaskedLM` and `RobertaForSequenceClassification`.

Two differences from our `RobertaBackbone` are folded into the weights, so
outputs stay exact:

- Hugging Face numbers the positions of real tokens from `pad_token_id + 1`
  (rows 0 and 1 of the table are never used for right-padded inputs); we
  number them from 0, so the table is sliced from row `pad_token_id + 1`,
  and `max_sequence_length` is `max_position_embeddings - pad_token_id - 1`
  (512 for the published models).
- Hugging Face adds `token_type_embeddings[0]` to every token (token type
  ids are always 0 in RoBERTa); that constant row is added to every row of
  the position table.

`keras_nlp_clone.models.xlm_roberta.convert_xlm_roberta` reuses these
functions for XLM-RoBERTa, which has the same architecture.

It also exports the other way (`export_*`, registered with
`presets.hf_export` on import): `RobertaBackbone` -> `RobertaModel`,
`RobertaClassifier` -> `RobertaForSequenceClassification`,
`RobertaMaskedLM` -> `RobertaForMaskedLM` and `RobertaTokenizer` ->
`vocab.json`, `merges.txt` and `tokenizer_config.json`.
"""

import os

import keras
import numpy as np

from keras_nlp_clone.models.gpt2.convert_gpt2 import export_byte_level_bpe
from keras_nlp_clone.presets import hf_export
from keras_nlp_clone.presets.errors import PresetError
from keras_nlp_clone.presets.hf_conversion import assign
from keras_nlp_clone.presets.hf_conversion import bert_encoder_layer_names
from keras_nlp_clone.presets.hf_conversion import check_hf_config_value
from keras_nlp_clone.presets.hf_conversion import copy_dense
from keras_nlp_clone.presets.hf_conversion import copy_layer_norm
from keras_nlp_clone.presets.hf_conversion import copy_transformer_encoder
from keras_nlp_clone.presets.hf_conversion import read_tokenizer_options


backbone_cls_name = "RobertaBackbone"

_LAYER_NORM_EPSILON = 1e-5


def convert_backbone_config(hf_config):
    """Maps a Hugging Face `RobertaConfig` dict to `RobertaBackbone`
    arguments.

    Raises:
        PresetError: for variants this backbone does not implement (another
            activation, relative positions, another layer norm epsilon, or
            too few position embeddings).
    """
    act = hf_config.get("hidden_act", "gelu")
    if act != "gelu":
        raise PresetError(
            f"Hugging Face RoBERTa checkpoint uses hidden_act={act!r}; "
            "RobertaBackbone implements the exact `gelu` only."
        )
    position_type = hf_config.get("position_embedding_type", "absolute")
    if position_type != "absolute":
        raise PresetError(
            "Hugging Face RoBERTa checkpoint uses position_embedding_type="
            f"{position_type!r}; RobertaBackbone implements `absolute` only."
        )
    # Hugging Face's default is 1e-12; the published RoBERTa and XLM-R
    # models (and RobertaBackbone) use 1e-5.
    check_hf_config_value(
        hf_config, "layer_norm_eps", _LAYER_NORM_EPSILON, "RoBERTa", default=1e-12
    )
    pad_token_id = hf_config.get("pad_token_id", 1)
    max_sequence_length = hf_config["max_position_embeddings"] - pad_token_id - 1
    if max_sequence_length <= 0:
        raise PresetError(
            "Hugging Face RoBERTa checkpoint has max_position_embeddings="
            f"{hf_config['max_position_embeddings']} and pad_token_id="
            f"{pad_token_id}: no position is left for real tokens, which "
            "start at pad_token_id + 1."
        )
    return {
        "vocabulary_size": hf_config["vocab_size"],
        "num_layers": hf_config["num_hidden_layers"],
        "num_heads": hf_config["num_attention_heads"],
        "hidden_dim": hf_config["hidden_size"],
        "intermediate_dim": hf_config["intermediate_size"],
        "dropout": hf_config.get("hidden_dropout_prob", 0.1),
        "max_sequence_length": max_sequence_length,
    }


def _prefix(reader):
    keys = reader.keys()
    if "embeddings.word_embeddings.weight" in keys:
        return ""
    if "roberta.embeddings.word_embeddings.weight" in keys:
        return "roberta."
    raise PresetError(
        f"`{reader.preset_dir}` does not look like a RoBERTa checkpoint: no "
        "`embeddings.word_embeddings.weight` tensor."
    )


def convert_weights(backbone, reader, hf_config):
    """Copies a Hugging Face RoBERTa checkpoint into a `RobertaBackbone`.

    Args:
        backbone: a built `RobertaBackbone` of the converted config.
        reader: a `SafetensorsReader` on the checkpoint.
        hf_config: the checkpoint's `config.json` as a dict.
    """
    p = _prefix(reader)
    embeddings = backbone.embeddings
    assign(
        embeddings.token_embedding.embeddings,
        reader.get(f"{p}embeddings.word_embeddings.weight"),
        "word_embeddings",
    )
    start = hf_config.get("pad_token_id", 1) + 1
    positions = reader.get(f"{p}embeddings.position_embeddings.weight")
    positions = positions[start : start + backbone.max_sequence_length]
    token_type_name = f"{p}embeddings.token_type_embeddings.weight"
    if reader.has(token_type_name):
        positions = positions + reader.get(token_type_name)[0]
    assign(
        embeddings.position_embedding.position_embeddings,
        positions,
        "position_embeddings",
    )
    copy_layer_norm(backbone.embeddings_layer_norm, reader, f"{p}embeddings.LayerNorm")
    for i, layer in enumerate(backbone.transformer_layers):
        copy_transformer_encoder(
            layer, reader, bert_encoder_layer_names(f"{p}encoder.layer.{i}")
        )


def convert_tokenizer(cls, preset_dir, hf_config, **kwargs):
    """Builds a `RobertaTokenizer` (or subclass `cls`) from `vocab.json`
    and `merges.txt` (and `add_prefix_space` from `tokenizer_config.json`).

    Raises:
        FileNotFoundError: `vocab.json` or `merges.txt` is missing.
        PresetError: `tokenizer_config.json` is damaged or gives
            `add_prefix_space` a value other than `true`/`false`/`null`.
    """
    paths = {}
    for key, filename in (("vocabulary", "vocab.json"), ("merges", "merges.txt")):
        path = os.path.join(preset_dir, filename)
        if not os.path.exists(path):
            raise FileNotFoundError(
                f"The Hugging Face RoBERTa checkpoint at `{preset_dir}` has "
                f"no `{filename}`; `vocab.json` and `merges.txt` are needed "
                "to build the tokenizer."
            )
        paths[key] = path
    add_prefix_space = read_tokenizer_options(
        preset_dir, {"add_prefix_space": (bool, None)}
    )["add_prefix_space"]
    if add_prefix_space is not None:
        kwargs.setdefault("add_prefix_space", add_prefix_space)
    return cls(**paths, **kwargs)


def convert_head(task, reader, hf_config):
    """Copies a checkpoint's task head into `task`, when both have one.

    - A masked LM from `RobertaForMaskedLM`: `lm_head.dense`,
      `lm_head.layer_norm` and `lm_head.bias` (the decoder is tied to the
      word embeddings, as in our `MaskedLMHead`; an untied decoder raises
      `PresetError`).
    - A classifier from `RobertaForSequenceClassification`:
      `classifier.dense` and `classifier.out_proj`, when the number of
      labels equals `num_classes` and the dense widths agree.
    Other combinations leave the (new) head randomly initialised.
    """
    from keras_nlp_clone.models.roberta.roberta_classifier import (
        RobertaClassifier,
    )
    from keras_nlp_clone.models.roberta.roberta_masked_lm import RobertaMaskedLM

    if isinstance(task, RobertaMaskedLM) and reader.has("lm_head.dense.weight"):
        if reader.has("lm_head.decoder.weight"):
            decoder = reader.get("lm_head.decoder.weight")
            embeddings = reader.get(
                f"{_prefix(reader)}embeddings.word_embeddings.weight"
            )
            if decoder.shape != embeddings.shape or not np.array_equal(
                decoder, embeddings
            ):
                raise PresetError(
                    "The RoBERTa masked LM checkpoint at "
                    f"`{reader.preset_dir}` has an `lm_head.decoder.weight` "
                    "that differs from its word embeddings "
                    "(`tie_word_embeddings=False`); the masked LM ties them. "
                    "Load it with the backbone's `from_preset` and train a "
                    "new head."
                )
        head = task.masked_lm_head
        copy_dense(head._intermediate_dense, reader, "lm_head.dense")
        copy_layer_norm(head._intermediate_layer_norm, reader, "lm_head.layer_norm")
        assign(head._output_bias, reader.get("lm_head.bias"), "lm_head.bias")
    elif isinstance(task, RobertaClassifier) and reader.has(
        "classifier.out_proj.weight"
    ):
        out_proj = reader.get("classifier.out_proj.weight")
        dense = reader.get("classifier.dense.weight")
        if (
            out_proj.shape[0] == task.num_classes
            and dense.shape[0] == task.pooled_dense.units
        ):
            copy_dense(task.pooled_dense, reader, "classifier.dense")
            copy_dense(task.output_dense, reader, "classifier.out_proj")


# === Export to Hugging Face ===
#
# The inverse of the tables above: `RobertaBackbone` -> `RobertaModel`,
# `RobertaClassifier` -> `RobertaForSequenceClassification`,
# `RobertaMaskedLM` -> `RobertaForMaskedLM` and `RobertaTokenizer` ->
# `vocab.json`, `merges.txt` and `tokenizer_config.json`. The two folds of
# `convert_weights` are undone with zeros: the position table gets
# `pad_token_id + 1` leading rows of zeros (Hugging Face reads them only at
# padding positions, whose outputs are not meaningful) and the one
# token-type row is zero (its value is already in our position table).
# `XLMRobertaBackbone` subclasses `RobertaBackbone` but is exported by its
# own family's exporter, registered under its own class name.

# RoBERTa's `<pad>` id: Hugging Face numbers real tokens' positions from
# `pad_token_id + 1`, and finds padding by comparing ids with it.
_DEFAULT_PAD_TOKEN_ID = 1


def _pad_token_id(task=None):
    tokenizer = getattr(getattr(task, "preprocessor", None), "tokenizer", None)
    if tokenizer is None or tokenizer.pad_token_id is None:
        return _DEFAULT_PAD_TOKEN_ID
    return int(tokenizer.pad_token_id)


def _backbone_config(backbone, architecture, pad_token_id, task=None):
    config = {
        "architectures": [architecture],
        "model_type": "roberta",
        "vocab_size": backbone.vocabulary_size,
        "hidden_size": backbone.hidden_dim,
        "num_hidden_layers": backbone.num_layers,
        "num_attention_heads": backbone.num_heads,
        "intermediate_size": backbone.intermediate_dim,
        "hidden_act": "gelu",
        "hidden_dropout_prob": backbone.dropout,
        "attention_probs_dropout_prob": backbone.dropout,
        "max_position_embeddings": backbone.max_sequence_length
        + pad_token_id
        + 1,
        "type_vocab_size": 1,
        "layer_norm_eps": _LAYER_NORM_EPSILON,
        "position_embedding_type": "absolute",
        "initializer_range": 0.02,
        "pad_token_id": pad_token_id,
        "tie_word_embeddings": True,
        "dtype": "float32",
    }
    tokenizer = getattr(getattr(task, "preprocessor", None), "tokenizer", None)
    if tokenizer is not None:
        config["bos_token_id"] = tokenizer.start_token_id
        config["eos_token_id"] = tokenizer.end_token_id
    else:
        config.update(bos_token_id=0, eos_token_id=2)
    return config


def _backbone_tensors(backbone, pad_token_id, prefix=""):
    """`RobertaModel`'s tensors (without the pooler) from a
    `RobertaBackbone`."""
    embeddings = backbone.embeddings
    positions = hf_export.to_numpy(embeddings.position_embedding.position_embeddings)
    leading_rows = np.zeros((pad_token_id + 1, positions.shape[1]), positions.dtype)
    tensors = {
        f"{prefix}embeddings.word_embeddings.weight": hf_export.to_numpy(
            embeddings.token_embedding.embeddings
        ),
        f"{prefix}embeddings.position_embeddings.weight": np.concatenate(
            [leading_rows, positions]
        ),
        f"{prefix}embeddings.token_type_embeddings.weight": np.zeros(
            (1, positions.shape[1]), positions.dtype
        ),
    }
    tensors.update(
        hf_export.layer_norm_to_hf(
            backbone.embeddings_layer_norm, f"{prefix}embeddings.LayerNorm"
        )
    )
    for i, layer in enumerate(backbone.transformer_layers):
        tensors.update(
            hf_export.transformer_encoder_to_hf(
                layer, bert_encoder_layer_names(f"{prefix}encoder.layer.{i}")
            )
        )
    return tensors


def _write(directory, config, tensors):
    hf_export.write_json(os.path.join(directory, "config.json"), config)
    hf_export.save_safetensors(tensors, os.path.join(directory, "model.safetensors"))


def export_backbone(backbone, directory):
    """Writes a `RobertaBackbone` as a Hugging Face `RobertaModel`
    directory.

    The inverse of `convert_backbone_config` and `convert_weights`:
    `config.json` (`model_type: "roberta"`, `architectures:
    ["RobertaModel"]`, `type_vocab_size: 1`, `pad_token_id: 1`,
    `max_position_embeddings = max_sequence_length + 2`) and
    `model.safetensors`. The position table gets two leading rows of zeros
    (Hugging Face numbers real tokens from `pad_token_id + 1`), and the
    token-type row is zero. Our backbone has no pooler (as KerasNLP's), so
    no `pooler.*` tensor is written: `RobertaModel` initialises its pooler
    at random and reports it as newly initialised; `last_hidden_state` is
    ours, `pooler_output` is not meaningful.

    Hugging Face finds padding by comparing ids with `pad_token_id` (1, as
    RoBERTa's `<pad>`); a vocabulary with another padding id should be
    exported as a task with its preprocessor, whose tokenizer's id is then
    used.

    Args:
        backbone: a `keras_nlp_clone.models.RobertaBackbone`.
        directory: str. An existing, empty directory.
    """
    pad_token_id = _DEFAULT_PAD_TOKEN_ID
    _write(
        directory,
        _backbone_config(backbone, "RobertaModel", pad_token_id),
        _backbone_tensors(backbone, pad_token_id),
    )


def export_masked_lm(task, directory):
    """Writes a `RobertaMaskedLM` as a Hugging Face `RobertaForMaskedLM`
    directory.

    The backbone's tensors under `roberta.` and the head's `lm_head.dense`,
    `lm_head.layer_norm` and `lm_head.bias`; the decoder is tied to the word
    embeddings, so it has no tensor of its own (as `save_pretrained`
    writes it). Hugging Face returns logits at every position, ours at
    `mask_positions`: they agree there. `pad_token_id`, `bos_token_id` and
    `eos_token_id` come from the preprocessor's tokenizer when there is
    one.

    Args:
        task: a `keras_nlp_clone.models.RobertaMaskedLM`.
        directory: str. An existing, empty directory.
    """
    backbone = task.backbone
    pad_token_id = _pad_token_id(task)
    head = task.masked_lm_head
    tensors = _backbone_tensors(backbone, pad_token_id, prefix="roberta.")
    tensors.update(hf_export.dense_to_hf(head._intermediate_dense, "lm_head.dense"))
    tensors.update(
        hf_export.layer_norm_to_hf(head._intermediate_layer_norm, "lm_head.layer_norm")
    )
    tensors["lm_head.bias"] = hf_export.to_numpy(head._output_bias)
    _write(
        directory,
        _backbone_config(backbone, "RobertaForMaskedLM", pad_token_id, task),
        tensors,
    )


def export_classifier(task, directory):
    """Writes a `RobertaClassifier` as a Hugging Face
    `RobertaForSequenceClassification` directory.

    The backbone's tensors under `roberta.` and the head's
    `classifier.dense` (our `pooled_dense`, tanh) and
    `classifier.out_proj` (our `logits` layer); `id2label` has
    `num_classes` entries (`LABEL_0`, ...), and `classifier_dropout` is the
    head's `dropout`. Hugging Face returns logits: with `activation=None`
    they are our outputs, with `activation="softmax"` their softmax is.

    Args:
        task: a `keras_nlp_clone.models.RobertaClassifier`.
        directory: str. An existing, empty directory.

    Raises:
        ValueError: the head's `hidden_dim` differs from the backbone's
            (`RobertaClassificationHead` is `hidden_size` wide), or its
            `activation` is neither `None`/`"linear"` nor `"softmax"`.
    """
    backbone = task.backbone
    if task.pooled_dense.units != backbone.hidden_dim:
        raise ValueError(
            "Cannot export a RobertaClassifier with hidden_dim="
            f"{task.hidden_dim} to Hugging Face: `RobertaClassificationHead` "
            f"is as wide as the backbone ({backbone.hidden_dim}). Only "
            "classifiers built with hidden_dim=None (or the backbone's "
            "hidden_dim) can be exported."
        )
    activation = keras.activations.serialize(task.activation)
    if isinstance(activation, dict):
        activation = activation.get("config", activation)
    if activation not in ("linear", "softmax"):
        raise ValueError(
            "Cannot export a RobertaClassifier with activation="
            f"{activation!r} to Hugging Face: "
            "`RobertaForSequenceClassification` returns logits, which "
            "correspond to activation=None (or their softmax, to "
            "activation='softmax'). Rebuild the classifier with "
            "activation=None on the same backbone and weights to export it."
        )
    pad_token_id = _pad_token_id(task)
    tensors = _backbone_tensors(backbone, pad_token_id, prefix="roberta.")
    tensors.update(hf_export.dense_to_hf(task.pooled_dense, "classifier.dense"))
    tensors.update(hf_export.dense_to_hf(task.output_dense, "classifier.out_proj"))
    config = _backbone_config(
        backbone, "RobertaForSequenceClassification", pad_token_id, task
    )
    config["classifier_dropout"] = task.dropout
    config["id2label"] = {str(i): f"LABEL_{i}" for i in range(task.num_classes)}
    config["label2id"] = {f"LABEL_{i}": i for i in range(task.num_classes)}
    _write(directory, config, tensors)


def export_tokenizer(tokenizer, directory):
    """Writes a `RobertaTokenizer` as Hugging Face `RobertaTokenizer` files.

    `vocab.json`, `merges.txt`, `tokenizer_config.json` and
    `special_tokens_map.json` (see `convert_gpt2.export_byte_level_bpe`):
    `<s>` (beginning and classification token), `</s>` (end and separator),
    `<pad>`, `<unk>` and `<mask>`. Called with `add_special_tokens=False`,
    `AutoTokenizer` on the directory gives our tokenizer's ids; by default
    it adds `<s>` ... `</s>`, as `RobertaPreprocessor` does.

    Args:
        tokenizer: a `keras_nlp_clone.models.RobertaTokenizer`.
        directory: str. An existing, empty directory.

    Raises:
        ValueError: see `convert_gpt2.export_byte_level_bpe`.
    """
    export_byte_level_bpe(
        tokenizer,
        directory,
        "RobertaTokenizer",
        {
            "bos_token": tokenizer.start_token,
            "eos_token": tokenizer.end_token,
            "sep_token": tokenizer.end_token,
            "cls_token": tokenizer.start_token,
            "unk_token": tokenizer.unk_token,
            "pad_token": tokenizer.pad_token,
            "mask_token": tokenizer.mask_token,
        },
    )


hf_export.register_hf_exporter("RobertaBackbone", export_backbone)
hf_export.register_hf_exporter("RobertaClassifier", export_classifier)
hf_export.register_hf_exporter("RobertaMaskedLM", export_masked_lm)
hf_export.register_hf_exporter("RobertaTokenizer", export_tokenizer)


# === KerasHub preset format (presets/keras_hub_format.py) ===
#
# Our class names -> KerasHub's class and module, and our layer paths ->
# KerasHub's object paths in its `model.weights.h5` / `task.weights.h5`
# (checked against files saved by `keras_hub` 0.32).


def _register_keras_hub_family():
    from keras_nlp_clone.presets.keras_hub_format import KerasHubFamily
    from keras_nlp_clone.presets.keras_hub_format import register_keras_hub_family
    from keras_nlp_clone.presets.keras_hub_format import transformer_encoder_paths
    module = "keras_hub.src.models.roberta."
    classes = {
        "RobertaBackbone": ("RobertaBackbone", module + "roberta_backbone"),
        "RobertaTokenizer": ("RobertaTokenizer", module + "roberta_tokenizer"),
        "RobertaPreprocessor": ("RobertaTextClassifierPreprocessor", module + "roberta_text_classifier_preprocessor"),
        "RobertaClassifier": ("RobertaTextClassifier", module + "roberta_text_classifier"),
        "RobertaMaskedLMPreprocessor": ("RobertaMaskedLMPreprocessor", module + "roberta_masked_lm_preprocessor"),
        "RobertaMaskedLM": ("RobertaMaskedLM", module + "roberta_masked_lm"),
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
            backbone_name="RobertaBackbone",
            classes=classes,
            backbone_layers=backbone_layers,
            head_layers={
                "RobertaClassifier": head,
                "RobertaMaskedLM": masked_lm_head,
            },
        )
    )


_register_keras_hub_family()
