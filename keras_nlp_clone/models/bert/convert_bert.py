"""Converts Hugging Face BERT checkpoints (`model_type: "bert"`).

A table from Hugging Face tensor names to our variables, plus the reshapes of
attention projections into Keras `MultiHeadAttention`'s per-head kernels.
Accepts `BertModel` checkpoints (tensor names without prefix) and the
`bert.`-prefixed names of `BertForMaskedLM`, `BertForSequenceClassification`
and `BertForPreTraining`.
"""

import json
import os
from keras_nlp_clone.presets.errors import PresetError
from keras_nlp_clone.presets.hf_conversion import assign
from keras_nlp_clone.presets.hf_conversion import bert_encoder_layer_names
from keras_nlp_clone.presets.hf_conversion import copy_dense
from keras_nlp_clone.presets.hf_conversion import copy_layer_norm
from keras_nlp_clone.presets.hf_conversion import copy_transformer_encoder


backbone_cls_name = "BertBackbone"


def convert_backbone_config(hf_config):
    """Maps a Hugging Face `BertConfig` dict to `BertBackbone` arguments.

    Raises:
        PresetError: for variants this backbone does not implement.
    """
    act = hf_config.get("hidden_act", "gelu")
    if act != "gelu":
        raise PresetError(
            f"Hugging Face BERT checkpoint uses hidden_act={act!r}; "
            "BertBackbone implements the exact `gelu` only."
        )
    position_type = hf_config.get("position_embedding_type", "absolute")
    if position_type != "absolute":
        raise PresetError(
            "Hugging Face BERT checkpoint uses position_embedding_type="
            f"{position_type!r}; BertBackbone implements `absolute` only."
        )
    return {
        "vocabulary_size": hf_config["vocab_size"],
        "num_layers": hf_config["num_hidden_layers"],
        "num_heads": hf_config["num_attention_heads"],
        "hidden_dim": hf_config["hidden_size"],
        "intermediate_dim": hf_config["intermediate_size"],
        "dropout": hf_config.get("hidden_dropout_prob", 0.1),
        "max_sequence_length": hf_config.get("max_position_embeddings", 512),
        "num_segments": hf_config.get("type_vocab_size", 2),
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
    """
    vocab_path = os.path.join(preset_dir, "vocab.txt")
    if not os.path.exists(vocab_path):
        raise FileNotFoundError(
            f"The Hugging Face BERT checkpoint at `{preset_dir}` has no "
            "`vocab.txt`; it is needed to build the tokenizer."
        )
    tokenizer_config = {}
    config_path = os.path.join(preset_dir, "tokenizer_config.json")
    if os.path.exists(config_path):
        with open(config_path, encoding="utf-8") as f:
            tokenizer_config = json.load(f)
    lowercase = tokenizer_config.get("do_lower_case", True)
    strip_accents = tokenizer_config.get("strip_accents")
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
