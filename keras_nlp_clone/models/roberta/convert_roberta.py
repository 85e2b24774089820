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
"""

import json
import os

import numpy as np
from keras_nlp_clone.presets.errors import PresetError
from keras_nlp_clone.presets.hf_conversion import assign
from keras_nlp_clone.presets.hf_conversion import bert_encoder_layer_names
from keras_nlp_clone.presets.hf_conversion import copy_dense
from keras_nlp_clone.presets.hf_conversion import copy_layer_norm
from keras_nlp_clone.presets.hf_conversion import copy_transformer_encoder


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
    epsilon = hf_config.get("layer_norm_eps", 1e-12)
    if abs(epsilon - _LAYER_NORM_EPSILON) > 1e-9:
        raise PresetError(
            f"Hugging Face RoBERTa checkpoint uses layer_norm_eps={epsilon}; "
            f"RobertaBackbone uses {_LAYER_NORM_EPSILON} (as the published "
            "RoBERTa and XLM-RoBERTa models), so its outputs would differ."
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


def _tokenizer_config(preset_dir):
    path = os.path.join(preset_dir, "tokenizer_config.json")
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def convert_tokenizer(cls, preset_dir, hf_config, **kwargs):
    """Builds a `RobertaTokenizer` (or subclass `cls`) from `vocab.json`
    and `merges.txt` (and `add_prefix_space` from `tokenizer_config.json`).

    Raises:
        FileNotFoundError: `vocab.json` or `merges.txt` is missing.
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
    add_prefix_space = _tokenizer_config(preset_dir).get("add_prefix_space")
    if add_prefix_space is not None:
        kwargs.setdefault("add_prefix_space", bool(add_prefix_space))
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
