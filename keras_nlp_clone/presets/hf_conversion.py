"""Helpers shared by the Hugging Face checkpoint converters.

Each family's converter (`models/<family>/convert_<family>.py`) is a table
from Hugging Face tensor names to our variables; these functions do the
copying, with a shape check on every tensor, so that a new family's
converter holds only its names.

Hugging Face stores a linear layer's weight as `(out, in)`; Keras `Dense`
and `EinsumDense` kernels are `(in, ...)`, so weights are transposed, then
reshaped to the kernel's shape (for attention projections, Keras
`MultiHeadAttention` keeps per-head kernels `(hidden, heads, head_dim)` and
`(heads, head_dim, hidden)`; the row-major reshape of the transposed matrix
is exactly that split, since Hugging Face orders the output features head
by head).
"""

import numpy as np

from keras_nlp_clone.presets.errors import PresetError


def assign(variable, value, name):
    """Assigns `value` to `variable` after checking the shapes agree.

    Args:
        variable: a `keras.Variable`.
        value: a NumPy array.
        name: str, the checkpoint tensor's name (for the error message).

    Raises:
        PresetError: the shapes differ.
    """
    if tuple(variable.shape) != tuple(value.shape):
        raise PresetError(
            f"Checkpoint tensor `{name}` has shape {tuple(value.shape)}, but "
            f"`{variable.path}` has shape {tuple(variable.shape)}."
        )
    variable.assign(value)


def copy_dense(dense, reader, name):
    """Copies `<name>.weight` (transposed) and `<name>.bias` into a dense
    layer, reshaped to its kernel and bias shapes.

    Args:
        dense: a built `keras.layers.Dense` or `EinsumDense`.
        reader: a `keras_nlp_clone.presets.safetensors_reader.SafetensorsReader`.
        name: str, the tensor name prefix, e.g. `"encoder.layer.0.output.dense"`.

    Raises:
        PresetError: the sizes differ.
    """
    kernel = reader.get(f"{name}.weight").T
    bias = reader.get(f"{name}.bias")
    for value, variable, suffix in (
        (kernel, dense.kernel, "weight"),
        (bias, dense.bias, "bias"),
    ):
        if value.size != int(np.prod(variable.shape)):
            raise PresetError(
                f"Checkpoint tensor `{name}.{suffix}` has shape "
                f"{tuple(value.shape)}, which does not fit `{variable.path}` "
                f"of shape {tuple(variable.shape)}."
            )
    assign(dense.kernel, kernel.reshape(dense.kernel.shape), f"{name}.weight")
    assign(dense.bias, bias.reshape(dense.bias.shape), f"{name}.bias")


def assign_in_out_dense(dense, kernel, bias, name):
    """Assigns an `(in, out)` weight matrix (no transpose, as GPT-2's
    `Conv1D` stores it) and its bias to a dense layer, reshaped to its
    kernel and bias shapes.

    Args:
        dense: a built `keras.layers.Dense` or `EinsumDense`.
        kernel: NumPy array `(in, out)`, e.g. one third of a fused
            query/key/value `c_attn.weight`.
        bias: NumPy array `(out,)`.
        name: str, the checkpoint tensor name prefix (for error messages).

    Raises:
        PresetError: the sizes differ.
    """
    for value, variable, suffix in (
        (kernel, dense.kernel, "weight"),
        (bias, dense.bias, "bias"),
    ):
        if value.size != int(np.prod(variable.shape)):
            raise PresetError(
                f"Checkpoint tensor `{name}.{suffix}` (or its part) has shape "
                f"{tuple(value.shape)}, which does not fit `{variable.path}` "
                f"of shape {tuple(variable.shape)}."
            )
    assign(dense.kernel, kernel.reshape(dense.kernel.shape), f"{name}.weight")
    assign(dense.bias, bias.reshape(dense.bias.shape), f"{name}.bias")


def copy_layer_norm(layer_norm, reader, name):
    """Copies `<name>.weight` and `<name>.bias` into a `LayerNormalization`."""
    assign(layer_norm.gamma, reader.get(f"{name}.weight"), f"{name}.weight")
    assign(layer_norm.beta, reader.get(f"{name}.bias"), f"{name}.bias")


def copy_transformer_encoder(layer, reader, names):
    """Copies one post-norm encoder block into a `TransformerEncoder`.

    Args:
        layer: a built `keras_nlp_clone.layers.TransformerEncoder`.
        reader: a `keras_nlp_clone.presets.safetensors_reader.SafetensorsReader`.
        names: dict of Hugging Face tensor name prefixes with the keys
            `query`, `key`, `value`, `attention_output`,
            `attention_layer_norm`, `intermediate`, `output`,
            `output_layer_norm` (see `bert_encoder_layer_names`).
    """
    attention = layer._self_attention_layer
    copy_dense(attention._query_dense, reader, names["query"])
    copy_dense(attention._key_dense, reader, names["key"])
    copy_dense(attention._value_dense, reader, names["value"])
    copy_dense(attention._output_dense, reader, names["attention_output"])
    copy_layer_norm(
        layer._self_attention_layer_norm, reader, names["attention_layer_norm"]
    )
    copy_dense(layer._feedforward_intermediate_dense, reader, names["intermediate"])
    copy_dense(layer._feedforward_output_dense, reader, names["output"])
    copy_layer_norm(layer._feedforward_layer_norm, reader, names["output_layer_norm"])


def bert_encoder_layer_names(prefix):
    """The tensor names of a BERT-style encoder block (`BertLayer`, also
    used by RoBERTa and XLM-RoBERTa) under `prefix`, e.g.
    `"bert.encoder.layer.3"`, for `copy_transformer_encoder`."""
    return {
        "query": f"{prefix}.attention.self.query",
        "key": f"{prefix}.attention.self.key",
        "value": f"{prefix}.attention.self.value",
        "attention_output": f"{prefix}.attention.output.dense",
        "attention_layer_norm": f"{prefix}.attention.output.LayerNorm",
        "intermediate": f"{prefix}.intermediate.dense",
        "output": f"{prefix}.output.dense",
        "output_layer_norm": f"{prefix}.output.LayerNorm",
    }


# JSON types a Hugging Face option may have, by the Python type we read.
_JSON_TYPE_NAMES = {bool: "true or false", str: "a string", float: "a number"}


def read_tokenizer_options(preset_dir, options):
    """Reads typed options from a checkpoint's `tokenizer_config.json`.

    Hugging Face tokenizer configs are plain JSON: a value written as the
    string `"false"` where a boolean belongs would be truthy in Python and
    silently tokenize differently (cased text lowercased, a prefix space
    added), so every option read is checked against its expected type.

    Args:
        preset_dir: str. The checkpoint directory.
        options: dict. Option name -> `(type, default)`, where `type` is
            `bool`, `str` or `float`; `None` is accepted for a default of
            `None` (Hugging Face's "unset").

    Returns:
        dict of option name -> value (the default where the file, or the
        option, is absent).

    Raises:
        PresetError: the file is not valid JSON, is not a JSON object, or an
            option has the wrong JSON type; the message names the file, the
            option, the value and the type expected.

    Example:
    >>> read_tokenizer_options("/path/to/hf_bert", {"do_lower_case": (bool, True)})
    {'do_lower_case': True}
    """
    import os

    from keras_nlp_clone.presets.files import load_json

    filename = "tokenizer_config.json"
    config = load_json(preset_dir, filename, required=False)
    if config is None:
        config = {}
    path = os.path.join(preset_dir, filename)
    if not isinstance(config, dict):
        raise PresetError(
            f"`{path}` must hold a JSON object (name -> value), but holds a "
            f"{type(config).__name__}. The file is damaged: fix it or "
            "download the checkpoint again."
        )
    values = {}
    for name, (expected, default) in options.items():
        value = config.get(name, default)
        if value is None and default is None:
            values[name] = None
            continue
        if expected is float:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        else:
            ok = isinstance(value, expected)
        if not ok:
            raise PresetError(
                f"`{path}` sets `{name}` to {value!r}, but it must be "
                f"{_JSON_TYPE_NAMES[expected]}"
                f"{' or null' if default is None else ''}. Fix the value "
                "(for example `true` rather than `\"true\"`) or download "
                "the checkpoint again."
            )
        values[name] = value
    return values


def check_hf_config_value(hf_config, key, supported, family, default=None):
    """Refuses a numeric Hugging Face config value our model fixes.

    Some of our backbones hard-code a value that Hugging Face makes
    configurable (BERT's layer-norm epsilon, for instance). A checkpoint
    with another value would load and give different outputs, so it is
    refused instead.

    Args:
        hf_config: dict. The checkpoint's `config.json`.
        key: str. The option, e.g. `"layer_norm_eps"`.
        supported: float. The only value our model implements.
        family: str. The family's name for the message, e.g. `"BERT"`.
        default: float or `None`. Hugging Face's default for the key, used
            when the key is absent. Defaults to `None` (= `supported`).

    Raises:
        PresetError: the value is not a number, or differs from `supported`
            by more than one part in a million.
    """
    value = hf_config.get(key, supported if default is None else default)
    if (
        not isinstance(value, (int, float))
        or isinstance(value, bool)
        or abs(value - supported) > 1e-6 * abs(supported)
    ):
        raise PresetError(
            f"Hugging Face {family} checkpoint uses {key}={value!r}; our "
            f"model implements {key}={supported!r} only, so its outputs "
            "would differ. Use a checkpoint with that value."
        )
