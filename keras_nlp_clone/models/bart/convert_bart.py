"""Converts Hugging Face BART checkpoints (`model_type: "bart"`).

A table from Hugging Face tensor names to our variables. Accepts `BartModel`
checkpoints (tensor names `shared.`, `encoder.`, `decoder.`) and the
`model.`-prefixed names of `BartForConditionalGeneration`.

Differences from our `BartBackbone` folded into the weights, so outputs
stay exact:

- Hugging Face's `BartLearnedPositionalEmbedding` looks up position `i` at
  row `i + 2` of a table of `max_position_embeddings + 2` rows; the first
  two rows are dropped, and `max_sequence_length` is
  `max_position_embeddings` (1024 for the published models).
- The encoder, the decoder and the language-model head share one token
  embedding (`shared.weight`); a checkpoint whose `encoder.embed_tokens`,
  `decoder.embed_tokens` or `lm_head` weights differ from it (untied
  embeddings) is refused with a `PresetError`.

Variants the backbone does not implement are refused with a `PresetError`
rather than loaded approximately: `scale_embedding=True` (token embeddings
multiplied by `sqrt(d_model)`, as in some BART derivatives), an activation
other than the exact `"gelu"`, or encoder and decoder stacks of different
depth, width or number of heads.

`convert_head` (for `BartSeq2SeqLM`) checks `final_logits_bias`: our
language-model head is the tied embedding without a bias, as KerasNLP's, so
a checkpoint whose bias is not all zeros (all published BART checkpoints
have zeros) is refused with a `PresetError` instead of silently dropping
it.

It also exports the other way (`export_*`, registered with
`presets.hf_export` on import): `BartBackbone` -> `BartModel`,
`BartSeq2SeqLM` -> `BartForConditionalGeneration` (with a
`final_logits_bias` of zeros) and `BartTokenizer` -> `vocab.json`,
`merges.txt` and `tokenizer_config.json`.
"""

import os

import numpy as np

from keras_nlp_clone.models.gpt2.convert_gpt2 import export_byte_level_bpe
from keras_nlp_clone.presets import hf_export
from keras_nlp_clone.presets.errors import PresetError
from keras_nlp_clone.presets.hf_conversion import assign
from keras_nlp_clone.presets.hf_conversion import copy_dense
from keras_nlp_clone.presets.hf_conversion import copy_layer_norm
from keras_nlp_clone.presets.hf_conversion import copy_transformer_encoder
from keras_nlp_clone.presets.hf_conversion import read_tokenizer_options


backbone_cls_name = "BartBackbone"

# Rows of Hugging Face's position tables before position 0.
_POSITION_OFFSET = 2


def convert_backbone_config(hf_config):
    """Maps a Hugging Face `BartConfig` dict to `BartBackbone` arguments.

    Raises:
        PresetError: for variants this backbone does not implement (another
            activation, scaled embeddings, or encoder and decoder stacks of
            different shapes).
    """
    act = hf_config.get("activation_function", "gelu")
    if act != "gelu":
        raise PresetError(
            f"Hugging Face BART checkpoint uses activation_function={act!r}; "
            "BartBackbone implements the exact `gelu` only."
        )
    if hf_config.get("scale_embedding", False):
        raise PresetError(
            "Hugging Face BART checkpoint uses scale_embedding=True (token "
            "embeddings multiplied by sqrt(d_model)); BartBackbone "
            "implements scale_embedding=False only, as the published BART "
            "models."
        )
    shapes = {}
    for name in ("layers", "attention_heads", "ffn_dim"):
        encoder = hf_config[f"encoder_{name}"]
        decoder = hf_config[f"decoder_{name}"]
        if encoder != decoder:
            raise PresetError(
                f"Hugging Face BART checkpoint has encoder_{name}={encoder} "
                f"and decoder_{name}={decoder}; BartBackbone uses the same "
                "number of layers, heads and feed-forward width in the "
                "encoder and the decoder."
            )
        shapes[name] = encoder
    return {
        "vocabulary_size": hf_config["vocab_size"],
        "num_layers": shapes["layers"],
        "num_heads": shapes["attention_heads"],
        "hidden_dim": hf_config["d_model"],
        "intermediate_dim": shapes["ffn_dim"],
        "dropout": hf_config.get("dropout", 0.1),
        "max_sequence_length": hf_config["max_position_embeddings"],
    }


def _prefix(reader):
    keys = reader.keys()
    for prefix in ("", "model."):
        if f"{prefix}encoder.embed_positions.weight" in keys:
            return prefix
    raise PresetError(
        f"`{reader.preset_dir}` does not look like a BART checkpoint: no "
        "`encoder.embed_positions.weight` (or "
        "`model.encoder.embed_positions.weight`) tensor."
    )


def _shared_embeddings(reader, p):
    """The shared token embedding, checking that every copy agrees."""
    names = [
        f"{p}{name}"
        for name in ("shared.weight", "encoder.embed_tokens.weight",
                     "decoder.embed_tokens.weight")
        if reader.has(f"{p}{name}")
    ]
    if not names:
        raise PresetError(
            f"The BART checkpoint at `{reader.preset_dir}` has no token "
            f"embedding (`{p}shared.weight`)."
        )
    embeddings = reader.get(names[0])
    for name in names[1:]:
        other = reader.get(name)
        if other.shape != embeddings.shape or not np.array_equal(
            other, embeddings
        ):
            raise PresetError(
                f"The BART checkpoint at `{reader.preset_dir}` has a "
                f"`{name}` that differs from `{names[0]}` (untied token "
                "embeddings); BartBackbone shares one token embedding "
                "between the encoder and the decoder."
            )
    return embeddings, names[0]


def _copy_attention(attention, reader, name):
    copy_dense(attention._query_dense, reader, f"{name}.q_proj")
    copy_dense(attention._key_dense, reader, f"{name}.k_proj")
    copy_dense(attention._value_dense, reader, f"{name}.v_proj")
    copy_dense(attention._output_dense, reader, f"{name}.out_proj")


def _copy_positions(position_embedding, reader, name, max_sequence_length):
    table = reader.get(name)
    rows = _POSITION_OFFSET + max_sequence_length
    if table.shape[0] != rows:
        raise PresetError(
            f"Checkpoint tensor `{name}` has {table.shape[0]} rows; expected "
            f"{rows} (max_position_embeddings + {_POSITION_OFFSET})."
        )
    assign(
        position_embedding.position_embeddings,
        table[_POSITION_OFFSET:],
        name,
    )


def convert_weights(backbone, reader, hf_config):
    """Copies a Hugging Face BART checkpoint into a `BartBackbone`.

    Args:
        backbone: a built `BartBackbone` of the converted config.
        reader: a `SafetensorsReader` on the checkpoint.
        hf_config: the checkpoint's `config.json` as a dict.

    Raises:
        PresetError: a tensor is missing or has the wrong shape, or the
            token embeddings are untied.
    """
    p = _prefix(reader)
    embeddings, name = _shared_embeddings(reader, p)
    assign(backbone.token_embedding.embeddings, embeddings, name)
    n = backbone.max_sequence_length

    # === Encoder ===
    _copy_positions(
        backbone.encoder_position_embedding,
        reader,
        f"{p}encoder.embed_positions.weight",
        n,
    )
    copy_layer_norm(
        backbone.encoder_embeddings_layer_norm,
        reader,
        f"{p}encoder.layernorm_embedding",
    )
    for i, layer in enumerate(backbone.encoder_transformer_layers):
        name = f"{p}encoder.layers.{i}"
        copy_transformer_encoder(
            layer,
            reader,
            {
                "query": f"{name}.self_attn.q_proj",
                "key": f"{name}.self_attn.k_proj",
                "value": f"{name}.self_attn.v_proj",
                "attention_output": f"{name}.self_attn.out_proj",
                "attention_layer_norm": f"{name}.self_attn_layer_norm",
                "intermediate": f"{name}.fc1",
                "output": f"{name}.fc2",
                "output_layer_norm": f"{name}.final_layer_norm",
            },
        )

    # === Decoder ===
    _copy_positions(
        backbone.decoder_position_embedding,
        reader,
        f"{p}decoder.embed_positions.weight",
        n,
    )
    copy_layer_norm(
        backbone.decoder_embeddings_layer_norm,
        reader,
        f"{p}decoder.layernorm_embedding",
    )
    for i, layer in enumerate(backbone.decoder_transformer_layers):
        name = f"{p}decoder.layers.{i}"
        _copy_attention(layer._self_attention_layer, reader, f"{name}.self_attn")
        copy_layer_norm(
            layer._self_attention_layer_norm, reader, f"{name}.self_attn_layer_norm"
        )
        _copy_attention(
            layer._cross_attention_layer, reader, f"{name}.encoder_attn"
        )
        copy_layer_norm(
            layer._cross_attention_layer_norm,
            reader,
            f"{name}.encoder_attn_layer_norm",
        )
        copy_dense(layer._feedforward_intermediate_dense, reader, f"{name}.fc1")
        copy_dense(layer._feedforward_output_dense, reader, f"{name}.fc2")
        copy_layer_norm(
            layer._feedforward_layer_norm, reader, f"{name}.final_layer_norm"
        )


def convert_tokenizer(cls, preset_dir, hf_config, **kwargs):
    """Builds a `BartTokenizer` (or subclass `cls`) from `vocab.json` and
    `merges.txt` (and `add_prefix_space` from `tokenizer_config.json`).

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
                f"The Hugging Face BART checkpoint at `{preset_dir}` has no "
                f"`{filename}`; `vocab.json` and `merges.txt` are needed to "
                "build the tokenizer."
            )
        paths[key] = path
    add_prefix_space = read_tokenizer_options(
        preset_dir, {"add_prefix_space": (bool, None)}
    )["add_prefix_space"]
    if add_prefix_space is not None:
        kwargs.setdefault("add_prefix_space", add_prefix_space)
    return cls(**paths, **kwargs)


def convert_head(task, reader, hf_config):
    """Checks the language-model head of a `BartForConditionalGeneration`
    checkpoint loaded into a `BartSeq2SeqLM`.

    The head has no weights of its own (it is the tied token embedding,
    already copied by `convert_weights`), so nothing is copied. It is
    checked instead: `lm_head.weight`, when stored, must equal the token
    embedding, and `final_logits_bias` must be all zeros. Other tasks are
    left as they are.

    Raises:
        PresetError: an untied `lm_head.weight`, or a non-zero
            `final_logits_bias` (our head adds no bias, as KerasNLP's; the
            published checkpoints' bias is zero).
    """
    from keras_nlp_clone.models.bart.bart_seq_2_seq_lm import BartSeq2SeqLM

    if not isinstance(task, BartSeq2SeqLM):
        return
    p = _prefix(reader)
    if reader.has("lm_head.weight"):
        head = reader.get("lm_head.weight")
        embeddings, name = _shared_embeddings(reader, p)
        if head.shape != embeddings.shape or not np.array_equal(head, embeddings):
            raise PresetError(
                f"The BART checkpoint at `{reader.preset_dir}` has an "
                f"`lm_head.weight` that differs from `{name}` "
                "(`tie_word_embeddings=False`); BartSeq2SeqLM ties its "
                "language-model head to the token embedding. Load the "
                "checkpoint with `BartBackbone.from_preset` and train a new "
                "head."
            )
    if reader.has("final_logits_bias"):
        bias = reader.get("final_logits_bias")
        if np.any(bias != 0):
            raise PresetError(
                f"The BART checkpoint at `{reader.preset_dir}` has a non-zero "
                f"`final_logits_bias` (largest magnitude "
                f"{float(np.abs(bias).max()):.3g}); BartSeq2SeqLM's head is "
                "the tied token embedding without a bias (as KerasNLP), so "
                "its logits would differ. Load the checkpoint with "
                "`BartBackbone.from_preset` to use the encoder-decoder "
                "without the head."
            )


# === Export to Hugging Face ===
#
# The inverse of the tables above: `BartBackbone` -> `BartModel`,
# `BartSeq2SeqLM` -> `BartForConditionalGeneration` and `BartTokenizer` ->
# `vocab.json`, `merges.txt` and `tokenizer_config.json`. The two rows that
# Hugging Face's position tables hold before position 0 (never read) are
# written as zeros; the shared embedding is written once, as `shared.weight`
# (the encoder's, decoder's and head's copies are tied, so
# `save_pretrained` writes none of them either).


def _backbone_config(backbone, architecture, task=None):
    config = {
        "architectures": [architecture],
        "model_type": "bart",
        "vocab_size": backbone.vocabulary_size,
        "d_model": backbone.hidden_dim,
        "encoder_layers": backbone.num_layers,
        "decoder_layers": backbone.num_layers,
        "encoder_attention_heads": backbone.num_heads,
        "decoder_attention_heads": backbone.num_heads,
        "encoder_ffn_dim": backbone.intermediate_dim,
        "decoder_ffn_dim": backbone.intermediate_dim,
        "activation_function": "gelu",
        "dropout": backbone.dropout,
        "attention_dropout": backbone.dropout,
        "activation_dropout": 0.0,
        "encoder_layerdrop": 0.0,
        "decoder_layerdrop": 0.0,
        "max_position_embeddings": backbone.max_sequence_length,
        "scale_embedding": False,
        "init_std": 0.02,
        "is_encoder_decoder": True,
        "tie_word_embeddings": True,
        "use_cache": True,
        "dtype": "float32",
        # BART's ids, as in `BartConfig`; a task's tokenizer overrides them.
        "bos_token_id": 0,
        "pad_token_id": 1,
        "eos_token_id": 2,
        "decoder_start_token_id": 2,
        "forced_eos_token_id": 2,
    }
    tokenizer = getattr(getattr(task, "preprocessor", None), "tokenizer", None)
    if tokenizer is not None:
        config.update(
            bos_token_id=tokenizer.start_token_id,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.end_token_id,
            # The decoder prompt starts with `</s>`, as our preprocessor's.
            decoder_start_token_id=tokenizer.end_token_id,
            forced_eos_token_id=tokenizer.end_token_id,
        )
    return config


def _attention_to_hf(attention, name):
    tensors = {}
    for dense, suffix in (
        (attention._query_dense, "q_proj"),
        (attention._key_dense, "k_proj"),
        (attention._value_dense, "v_proj"),
        (attention._output_dense, "out_proj"),
    ):
        tensors.update(hf_export.dense_to_hf(dense, f"{name}.{suffix}"))
    return tensors


def _positions_to_hf(position_embedding):
    table = hf_export.to_numpy(position_embedding.position_embeddings)
    leading_rows = np.zeros((_POSITION_OFFSET, table.shape[1]), table.dtype)
    return np.concatenate([leading_rows, table])


def _backbone_tensors(backbone, prefix=""):
    """`BartModel`'s tensors (names under `prefix`) from a
    `BartBackbone`."""
    layer_norm = hf_export.layer_norm_to_hf
    p = prefix
    tensors = {
        f"{p}shared.weight": hf_export.to_numpy(backbone.token_embedding.embeddings),
        f"{p}encoder.embed_positions.weight": _positions_to_hf(
            backbone.encoder_position_embedding
        ),
        f"{p}decoder.embed_positions.weight": _positions_to_hf(
            backbone.decoder_position_embedding
        ),
    }
    tensors.update(
        layer_norm(
            backbone.encoder_embeddings_layer_norm, f"{p}encoder.layernorm_embedding"
        )
    )
    tensors.update(
        layer_norm(
            backbone.decoder_embeddings_layer_norm, f"{p}decoder.layernorm_embedding"
        )
    )
    for i, layer in enumerate(backbone.encoder_transformer_layers):
        name = f"{p}encoder.layers.{i}"
        tensors.update(
            hf_export.transformer_encoder_to_hf(
                layer,
                {
                    "query": f"{name}.self_attn.q_proj",
                    "key": f"{name}.self_attn.k_proj",
                    "value": f"{name}.self_attn.v_proj",
                    "attention_output": f"{name}.self_attn.out_proj",
                    "attention_layer_norm": f"{name}.self_attn_layer_norm",
                    "intermediate": f"{name}.fc1",
                    "output": f"{name}.fc2",
                    "output_layer_norm": f"{name}.final_layer_norm",
                },
            )
        )
    for i, layer in enumerate(backbone.decoder_transformer_layers):
        name = f"{p}decoder.layers.{i}"
        tensors.update(
            _attention_to_hf(layer._self_attention_layer, f"{name}.self_attn")
        )
        tensors.update(
            layer_norm(
                layer._self_attention_layer_norm, f"{name}.self_attn_layer_norm"
            )
        )
        tensors.update(
            _attention_to_hf(layer._cross_attention_layer, f"{name}.encoder_attn")
        )
        tensors.update(
            layer_norm(
                layer._cross_attention_layer_norm,
                f"{name}.encoder_attn_layer_norm",
            )
        )
        tensors.update(
            hf_export.dense_to_hf(layer._feedforward_intermediate_dense, f"{name}.fc1")
        )
        tensors.update(
            hf_export.dense_to_hf(layer._feedforward_output_dense, f"{name}.fc2")
        )
        tensors.update(
            layer_norm(layer._feedforward_layer_norm, f"{name}.final_layer_norm")
        )
    return tensors


def _write(directory, config, tensors):
    hf_export.write_json(os.path.join(directory, "config.json"), config)
    hf_export.save_safetensors(tensors, os.path.join(directory, "model.safetensors"))


def export_backbone(backbone, directory):
    """Writes a `BartBackbone` as a Hugging Face `BartModel` directory.

    The inverse of `convert_backbone_config` and `convert_weights`:
    `config.json` (`model_type: "bart"`, `architectures: ["BartModel"]`,
    equal encoder and decoder shapes, exact `"gelu"`,
    `scale_embedding: false`, BART's special ids 0/1/2) and
    `model.safetensors` with `BartModel`'s tensor names. Each position
    table gets two leading rows of zeros (Hugging Face looks position `i`
    up at row `i + 2`).

    Args:
        backbone: a `keras_nlp_clone.models.BartBackbone`.
        directory: str. An existing, empty directory.
    """
    _write(
        directory,
        _backbone_config(backbone, "BartModel"),
        _backbone_tensors(backbone),
    )


def export_seq_2_seq_lm(task, directory):
    """Writes a `BartSeq2SeqLM` as a Hugging Face
    `BartForConditionalGeneration` directory.

    The backbone's tensors under `model.`, and `final_logits_bias` of
    zeros (our head adds no bias); the head is tied to `shared.weight`, so
    it has no tensor of its own. With a preprocessor, `bos_token_id`,
    `pad_token_id`, `eos_token_id`, `decoder_start_token_id` and
    `forced_eos_token_id` come from its tokenizer (`decoder_start_token_id`
    is `</s>`, as our decoder prompts start).

    Args:
        task: a `keras_nlp_clone.models.BartSeq2SeqLM`.
        directory: str. An existing, empty directory.
    """
    backbone = task.backbone
    tensors = _backbone_tensors(backbone, prefix="model.")
    tensors["final_logits_bias"] = np.zeros(
        (1, backbone.vocabulary_size), tensors["model.shared.weight"].dtype
    )
    _write(
        directory,
        _backbone_config(backbone, "BartForConditionalGeneration", task),
        tensors,
    )


def export_tokenizer(tokenizer, directory):
    """Writes a `BartTokenizer` as Hugging Face `BartTokenizer` files.

    `vocab.json`, `merges.txt`, `tokenizer_config.json` and
    `special_tokens_map.json` (see `convert_gpt2.export_byte_level_bpe`),
    with RoBERTa's special tokens (`<s>`, `</s>`, `<pad>`, `<unk>`,
    `<mask>`). Called with `add_special_tokens=False`, `AutoTokenizer` on
    the directory gives our tokenizer's ids; by default it adds `<s>` ...
    `</s>`, as `BartSeq2SeqLMPreprocessor` does for the encoder.

    Args:
        tokenizer: a `keras_nlp_clone.models.BartTokenizer`.
        directory: str. An existing, empty directory.

    Raises:
        ValueError: see `convert_gpt2.export_byte_level_bpe`.
    """
    export_byte_level_bpe(
        tokenizer,
        directory,
        "BartTokenizer",
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


hf_export.register_hf_exporter("BartBackbone", export_backbone)
hf_export.register_hf_exporter("BartSeq2SeqLM", export_seq_2_seq_lm)
hf_export.register_hf_exporter("BartTokenizer", export_tokenizer)


# === KerasHub preset format (presets/keras_hub_format.py) ===
#
# Our class names -> KerasHub's class and module, and our layer paths ->
# KerasHub's object paths in its `model.weights.h5` / `task.weights.h5`
# (checked against files saved by `keras_hub` 0.32).


def _register_keras_hub_family():
    from keras_nlp_clone.presets.keras_hub_format import KerasHubFamily
    from keras_nlp_clone.presets.keras_hub_format import register_keras_hub_family
    from keras_nlp_clone.presets.keras_hub_format import transformer_encoder_paths
    from keras_nlp_clone.presets.keras_hub_format import transformer_decoder_paths
    module = "keras_hub.src.models.bart."
    classes = {
        "BartBackbone": ("BartBackbone", module + "bart_backbone"),
        "BartTokenizer": ("BartTokenizer", module + "bart_tokenizer"),
        "BartSeq2SeqLMPreprocessor": ("BartSeq2SeqLMPreprocessor", module + "bart_seq_2_seq_lm_preprocessor"),
        "BartSeq2SeqLM": ("BartSeq2SeqLM", module + "bart_seq_2_seq_lm"),
    }
    backbone_layers = [
        ("token_embedding", "reversible_embedding"),
        ("encoder_position_embedding", "position_embedding"),
        ("decoder_position_embedding", "position_embedding_1"),
        ("encoder_embeddings_layer_norm", "layer_normalization"),
        ("decoder_embeddings_layer_norm", "layer_normalization_1"),
        *transformer_encoder_paths(
            "transformer_encoder_layer_{i}", "transformer_encoder{_i}"
        ),
        *transformer_decoder_paths(
            "transformer_decoder_layer_{i}", "transformer_decoder{_i}"
        ),
    ]
    register_keras_hub_family(
        KerasHubFamily(
            backbone_name="BartBackbone",
            classes=classes,
            backbone_layers=backbone_layers,
            # The language-model head is the tied token embedding.
            head_layers={"BartSeq2SeqLM": []},
        )
    )


_register_keras_hub_family()
