"""Converts Hugging Face GPT-2 checkpoints (`model_type: "gpt2"`).

A table from Hugging Face tensor names to our variables. Accepts `GPT2Model`
checkpoints (tensor names without prefix) and the `transformer.`-prefixed
names of `GPT2LMHeadModel` (its `lm_head.weight` is tied to `wte.weight`).

GPT-2's `Conv1D` layers store their weights as `(in, out)`, so they are not
transposed (unlike `nn.Linear`), and `attn.c_attn` fuses the query, key and
value projections along its output axis: it is split in three.
"""

import json
import os
from keras_nlp_clone.presets.errors import PresetError
from keras_nlp_clone.presets.hf_conversion import assign
from keras_nlp_clone.presets.hf_conversion import assign_in_out_dense
from keras_nlp_clone.presets.hf_conversion import copy_layer_norm


backbone_cls_name = "GPT2Backbone"

_LAYER_NORM_EPSILON = 1e-5
# The names of the tanh approximation of GELU in Hugging Face.
_ACTIVATIONS = ("gelu_new", "gelu_pytorch_tanh", "gelu_fast")


def convert_backbone_config(hf_config):
    """Maps a Hugging Face `GPT2Config` dict to `GPT2Backbone` arguments.

    Raises:
        PresetError: for variants this backbone does not implement (another
            activation or layer norm epsilon, cross-attention, unscaled or
            layer-scaled attention).
    """
    act = hf_config.get("activation_function", "gelu_new")
    if act not in _ACTIVATIONS:
        raise PresetError(
            f"Hugging Face GPT-2 checkpoint uses activation_function={act!r}; "
            "GPT2Backbone implements the tanh approximation of GELU only "
            f"({', '.join(repr(a) for a in _ACTIVATIONS)})."
        )
    epsilon = hf_config.get("layer_norm_epsilon", 1e-5)
    if abs(epsilon - _LAYER_NORM_EPSILON) > 1e-9:
        raise PresetError(
            "Hugging Face GPT-2 checkpoint uses layer_norm_epsilon="
            f"{epsilon}; GPT2Backbone uses {_LAYER_NORM_EPSILON} (as the "
            "published GPT-2 models), so its outputs would differ."
        )
    for key, supported in (
        ("add_cross_attention", False),
        ("scale_attn_weights", True),
        ("scale_attn_by_inverse_layer_idx", False),
    ):
        value = hf_config.get(key, supported)
        if bool(value) != supported:
            raise PresetError(
                f"Hugging Face GPT-2 checkpoint uses {key}={value!r}; "
                f"GPT2Backbone implements {key}={supported} only."
            )
    hidden_dim = hf_config["n_embd"]
    intermediate_dim = hf_config.get("n_inner") or 4 * hidden_dim
    return {
        "vocabulary_size": hf_config["vocab_size"],
        "num_layers": hf_config["n_layer"],
        "num_heads": hf_config["n_head"],
        "hidden_dim": hidden_dim,
        "intermediate_dim": intermediate_dim,
        "dropout": hf_config.get("resid_pdrop", 0.1),
        "max_sequence_length": hf_config["n_positions"],
    }


def _prefix(reader):
    keys = reader.keys()
    if "wte.weight" in keys:
        return ""
    if "transformer.wte.weight" in keys:
        return "transformer."
    raise PresetError(
        f"`{reader.preset_dir}` does not look like a GPT-2 checkpoint: no "
        "`wte.weight` (or `transformer.wte.weight`) tensor."
    )


def _copy_conv1d(dense, reader, name):
    assign_in_out_dense(
        dense, reader.get(f"{name}.weight"), reader.get(f"{name}.bias"), name
    )


def convert_weights(backbone, reader, hf_config):
    """Copies a Hugging Face GPT-2 checkpoint into a `GPT2Backbone`.

    Args:
        backbone: a built `GPT2Backbone` of the converted config.
        reader: a `SafetensorsReader` on the checkpoint.
        hf_config: the checkpoint's `config.json` as a dict.

    Raises:
        PresetError: a tensor is missing or has the wrong shape.
    """
    p = _prefix(reader)
    assign(
        backbone.token_embedding.embeddings,
        reader.get(f"{p}wte.weight"),
        f"{p}wte.weight",
    )
    assign(
        backbone.position_embedding.position_embeddings,
        reader.get(f"{p}wpe.weight"),
        f"{p}wpe.weight",
    )
    hidden_dim = backbone.hidden_dim
    for i, layer in enumerate(backbone.transformer_layers):
        name = f"{p}h.{i}"
        copy_layer_norm(layer._self_attention_layer_norm, reader, f"{name}.ln_1")
        attention = layer._self_attention_layer
        fused_name = f"{name}.attn.c_attn"
        fused_kernel = reader.get(f"{fused_name}.weight")
        fused_bias = reader.get(f"{fused_name}.bias")
        if fused_kernel.shape != (hidden_dim, 3 * hidden_dim):
            raise PresetError(
                f"Checkpoint tensor `{fused_name}.weight` has shape "
                f"{tuple(fused_kernel.shape)}; expected "
                f"{(hidden_dim, 3 * hidden_dim)} (the fused query, key and "
                "value projections)."
            )
        for j, dense in enumerate(
            (attention._query_dense, attention._key_dense, attention._value_dense)
        ):
            part = slice(j * hidden_dim, (j + 1) * hidden_dim)
            assign_in_out_dense(
                dense, fused_kernel[:, part], fused_bias[part], fused_name
            )
        _copy_conv1d(attention._output_dense, reader, f"{name}.attn.c_proj")
        copy_layer_norm(layer._feedforward_layer_norm, reader, f"{name}.ln_2")
        _copy_conv1d(
            layer._feedforward_intermediate_dense, reader, f"{name}.mlp.c_fc"
        )
        _copy_conv1d(layer._feedforward_output_dense, reader, f"{name}.mlp.c_proj")
    copy_layer_norm(backbone.layer_norm, reader, f"{p}ln_f")


def _tokenizer_config(preset_dir):
    path = os.path.join(preset_dir, "tokenizer_config.json")
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def convert_tokenizer(cls, preset_dir, hf_config, **kwargs):
    """Builds a `GPT2Tokenizer` (or subclass `cls`) from `vocab.json` and
    `merges.txt` (and `add_prefix_space` from `tokenizer_config.json`).

    Raises:
        FileNotFoundError: `vocab.json` or `merges.txt` is missing.
    """
    paths = {}
    for key, filename in (("vocabulary", "vocab.json"), ("merges", "merges.txt")):
        path = os.path.join(preset_dir, filename)
        if not os.path.exists(path):
            raise FileNotFoundError(
                f"The Hugging Face GPT-2 checkpoint at `{preset_dir}` has no "
                f"`{filename}`; `vocab.json` and `merges.txt` are needed to "
                "build the tokenizer."
            )
        paths[key] = path
    add_prefix_space = _tokenizer_config(preset_dir).get("add_prefix_space")
    if add_prefix_space is not None:
        kwargs.setdefault("add_prefix_space", bool(add_prefix_space))
    return cls(**paths, **kwargs)


def convert_head(task, reader, hf_config):
    """Checks the language-model head of a `GPT2LMHeadModel` checkpoint.

    GPT-2's head is tied to the token embedding (`lm_head.weight` is
    `transformer.wte.weight`), which `GPT2CausalLM` reuses, so there is
    nothing to copy. A checkpoint with an untied head
    (`tie_word_embeddings: false` and its own `lm_head.weight`) is refused
    rather than silently given the embedding as its head.

    Raises:
        PresetError: the checkpoint's head is not tied to its embedding.
    """
    import numpy as np

    if not reader.has("lm_head.weight"):
        return
    head = reader.get("lm_head.weight")
    embedding = reader.get(f"{_prefix(reader)}wte.weight")
    if head.shape != embedding.shape or not np.array_equal(head, embedding):
        raise PresetError(
            f"The checkpoint at `{reader.preset_dir}` has a language-model "
            "head (`lm_head.weight`) that is not tied to its token embedding "
            "(`wte.weight`); GPT2CausalLM ties them, as GPT-2 does. Untied "
            "GPT-2 heads are not supported."
        )
