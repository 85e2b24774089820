"""Export to Hugging Face `transformers`: the registry and shared writers.

`export_to_transformers(obj, path)` writes a backbone, task or tokenizer as
a Hugging Face directory (`config.json`, `model.safetensors`, tokenizer
files) that `transformers`' `AutoModel`/`AutoModelFor...` and
`AutoTokenizer` load. It is what `Backbone.export_to_transformers`,
`Task.export_to_transformers` and `Tokenizer.export_to_transformers` call.

How a family adds export (the contract)
---------------------------------------
1. Write export functions next to the import code, in
   `models/<family>/convert_<family>.py`: `export_fn(obj, directory)`
   writes the Hugging Face files of `obj` into `directory`, an existing,
   empty temporary directory. It returns nothing and raises `ValueError`
   (naming the argument, the value and the way out) for an object whose
   architecture the Hugging Face class cannot hold exactly: it never writes
   something that loads but computes differently.
2. Register them when the converter module is imported (the family's
   `__init__.py` imports it), by class name:

       hf_export.register_hf_exporter("BertBackbone", export_backbone)
       hf_export.register_hf_exporter("BertClassifier", export_classifier)
       hf_export.register_hf_exporter("BertTokenizer", export_tokenizer)

   Lookup follows the object's MRO, so a subclass (e.g.
   `BertTextClassifier`) uses its parent's exporter unless it registers
   its own.
3. Which files each kind writes:
   - a backbone: `config.json` (with `model_type` and `architectures`,
     e.g. `["BertModel"]`) and `model.safetensors` (the base model's
     tensor names, no prefix);
   - a task: the model with its head (`config.json` naming e.g.
     `BertForSequenceClassification`, `model.safetensors` with the
     head-model's names, e.g. `bert.`-prefixed). A task exporter writes no
     tokenizer file: when the task has a preprocessor with a tokenizer,
     `export_to_transformers` runs the tokenizer's exporter into a separate
     temporary directory and moves its files next to the model's (a file
     name both write is an error);
   - a tokenizer: its vocabulary files, `tokenizer_config.json` and
     `special_tokens_map.json`, never `config.json` or weights.
4. Writing helpers (all take our layers and return NumPy arrays keyed by
   the Hugging Face tensor name, to be merged into one dict and written
   with `save_safetensors`):
   - `dense_to_hf(dense, name)`: the inverse of
     `hf_conversion.copy_dense`: our kernel `(in, ...)` -> `(out, in)`
     `<name>.weight` and `<name>.bias` (attention kernels
     `(hidden, heads, head_dim)` and `(heads, head_dim, hidden)` included);
   - `dense_to_in_out(dense)`: the `(in, out)` matrix and bias, for
     GPT-2's `Conv1D` (the inverse of `hf_conversion.assign_in_out_dense`);
   - `layer_norm_to_hf(layer_norm, name)`: `<name>.weight`, `<name>.bias`;
   - `transformer_encoder_to_hf(layer, names)`: the inverse of
     `hf_conversion.copy_transformer_encoder`, with the same `names` dict
     (e.g. `hf_conversion.bert_encoder_layer_names(prefix)`);
   - `to_numpy(variable)`: a variable as a float32 (or float16) array;
   - `check_logits_activation(task, hf_class)`: refuses a classifier whose
     activation is not `None`/`"linear"`/`"softmax"`;
   - `save_safetensors(tensors, path)`: `model.safetensors` with the
     `{"format": "pt"}` metadata `transformers` expects;
   - `write_json(path, data)`: `config.json` and tokenizer configs
     (UTF-8, indented, keys in the order given);
   - `write_sentence_transformers_files(embedder, directory,
     max_seq_length)`: `modules.json`, `sentence_bert_config.json`,
     `1_Pooling/config.json` (and `2_Normalize`) for a text embedder,
     whose exporter writes the backbone's files next to them.
5. Test the family as `tests/models/<family>/test_<family>_hf_export.py`
   does: ours -> directory -> `transformers` gives the same outputs, and
   Hugging Face -> ours -> Hugging Face gives identical tensors.

Writes are atomic: everything goes to a temporary directory next to `path`,
which is renamed into place at the end; an error leaves no partial
directory behind.
"""

import json
import os
import shutil
import tempfile

import numpy as np

# Class name -> export function `(obj, directory) -> None`.
_EXPORTERS = {}


def register_hf_exporter(class_name, export_fn):
    """Registers the Hugging Face exporter of the objects of one class.

    Args:
        class_name: str. The class name of a backbone, task or tokenizer,
            e.g. `"BertBackbone"`, `"BertClassifier"`, `"BertTokenizer"`.
            Subclasses use it too, unless they register their own.
        export_fn: callable `(obj, directory) -> None` that writes the
            Hugging Face files of `obj` into `directory`, an existing empty
            directory (see the module docstring for which files).

    Raises:
        TypeError: `export_fn` is not callable.
    """
    if not callable(export_fn):
        raise TypeError(
            f"`export_fn` for `{class_name}` must be callable, got "
            f"{type(export_fn).__name__}."
        )
    _EXPORTERS[class_name] = export_fn


def supported_classes():
    """The class names that have an exporter, sorted.

    Families register when `keras_nlp_clone` is imported (this module never
    imports them: the import graph runs from models to presets).

    Returns:
        list of str.
    """
    return sorted(_EXPORTERS)


def find_exporter(obj):
    """The export function registered for `obj`'s class or nearest parent.

    Args:
        obj: a backbone, task or tokenizer.

    Returns:
        The registered `export_fn`.

    Raises:
        ValueError: no class along `type(obj).__mro__` has an exporter; the
            message names the class and the supported ones.
    """
    for cls in type(obj).__mro__:
        if cls.__name__ in _EXPORTERS:
            return _EXPORTERS[cls.__name__]
    raise ValueError(
        f"`{type(obj).__name__}` cannot be exported to Hugging Face "
        "`transformers`: no exporter is registered for it or its base "
        f"classes. Supported classes: {supported_classes()}."
    )


def _task_tokenizer(obj):
    """The tokenizer whose files go with a task, or `None`."""
    preprocessor = getattr(obj, "preprocessor", None)
    if preprocessor is None or not hasattr(obj, "backbone"):
        return None
    return getattr(preprocessor, "tokenizer", None)


def _check_target(path):
    if os.path.isfile(path) or os.path.islink(path):
        raise ValueError(
            f"Cannot export to `{path}`: it is a file. Pass the path of a "
            "new (or empty) directory."
        )
    if os.path.isdir(path) and os.listdir(path):
        raise ValueError(
            f"Cannot export to `{path}`: the directory is not empty "
            f"(it holds {sorted(os.listdir(path))[:5]}). Pass a new or "
            "empty directory; existing files are never overwritten."
        )


def _merge_into(source, target):
    for name in sorted(os.listdir(source)):
        if os.path.exists(os.path.join(target, name)):
            raise ValueError(
                f"The tokenizer exporter wrote `{name}`, which the model "
                "exporter already wrote; a tokenizer exporter must write "
                "only tokenizer files."
            )
        os.replace(os.path.join(source, name), os.path.join(target, name))


def export_to_transformers(obj, path):
    """Writes `obj` as a Hugging Face `transformers` directory at `path`.

    A backbone gives the base model (e.g. `BertModel`), a task the model
    with its head (e.g. `BertForSequenceClassification`) plus, when it has
    a preprocessor, its tokenizer's files, and a tokenizer its files alone;
    the directory loads with `transformers`' `AutoModel`,
    `AutoModelFor...` and `AutoTokenizer` (a `BertTextEmbedder` gives a
    sentence-transformers directory). The files are written into a
    temporary directory next to `path`, which is renamed to `path` at the
    end, so a failed export leaves nothing behind.

    Args:
        obj: a `keras_nlp_clone` backbone, task or tokenizer whose class
            (or a parent class) has a registered exporter (see
            `supported_classes()`).
        path: str. The directory to create; its parent is created if
            needed. It must not exist, or be an empty directory.

    Returns:
        None.

    Raises:
        ValueError: `obj`'s class (or its task's tokenizer's class) has no
            exporter; `path` is a file or a non-empty directory; or the
            family's exporter refuses an architecture the Hugging Face
            class cannot hold exactly (the message says which argument).

    Examples:
    >>> backbone = keras_nlp_clone.models.BertBackbone.from_preset(
    ...     "all_minilm_l6_v2_en")
    >>> keras_nlp_clone.presets.hf_export.export_to_transformers(
    ...     backbone, "/tmp/minilm_hf")
    >>> import transformers
    >>> model = transformers.AutoModel.from_pretrained("/tmp/minilm_hf")
    """
    path = os.path.abspath(os.fspath(path))
    export_fn = find_exporter(obj)
    tokenizer = _task_tokenizer(obj)
    tokenizer_fn = None if tokenizer is None else find_exporter(tokenizer)
    _check_target(path)
    parent = os.path.dirname(path)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(dir=parent, prefix=f".tmp_export_{os.path.basename(path)}_")
    try:
        export_fn(obj, tmp)
        if tokenizer_fn is not None:
            tokenizer_tmp = tempfile.mkdtemp(dir=parent, prefix=".tmp_tokenizer_")
            try:
                tokenizer_fn(tokenizer, tokenizer_tmp)
                _merge_into(tokenizer_tmp, tmp)
            finally:
                shutil.rmtree(tokenizer_tmp, ignore_errors=True)
        _check_target(path)
        if os.path.isdir(path):
            os.rmdir(path)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            shutil.rmtree(tmp, ignore_errors=True)


# === Writing helpers ===


def to_numpy(variable):
    """A variable's value as a NumPy array for a safetensors file.

    float16 and float32 values keep their dtype; other floats (bfloat16,
    float64) become float32, which NumPy-based safetensors can write.

    Args:
        variable: a `keras.Variable` or array.

    Returns:
        A C-contiguous NumPy array.

    Raises:
        ValueError: an integer variable (a quantized model's kernel).
    """
    import keras

    value = np.asarray(keras.ops.convert_to_numpy(variable))
    if not np.issubdtype(value.dtype, np.floating) and value.dtype.kind != "V":
        name = getattr(variable, "path", None) or getattr(variable, "name", "")
        raise ValueError(
            f"`{name}` holds {value.dtype} values: a quantized model cannot "
            "be exported to Hugging Face. Export the model before calling "
            "`quantize()`."
        )
    if value.dtype not in (np.float16, np.float32):
        value = value.astype("float32")
    return np.ascontiguousarray(value)


def dense_to_hf(dense, name, out_dim=None):
    """A dense layer as Hugging Face `nn.Linear` tensors.

    The inverse of `hf_conversion.copy_dense`: our kernel, reshaped
    row-major to `(in, out)` and transposed, is `<name>.weight` of shape
    `(out, in)`; the bias, flattened, is `<name>.bias`. For Keras
    `MultiHeadAttention`'s per-head kernels, `(hidden, heads, head_dim)`
    gives `(heads * head_dim, hidden)` and `(heads, head_dim, hidden)`
    gives `(hidden, heads * head_dim)`, Hugging Face's head-by-head order.

    Args:
        dense: a built `keras.layers.Dense` or `EinsumDense`.
        name: str. The tensor name prefix, e.g.
            `"encoder.layer.0.output.dense"`.
        out_dim: int or `None`. The number of output features; needed only
            for a layer without bias (otherwise the bias size). Defaults
            to `None`.

    Returns:
        dict: `{"<name>.weight": (out, in) array, "<name>.bias": (out,)
        array}` (no bias entry for a layer without bias).

    Raises:
        ValueError: a layer without bias and no `out_dim`.
    """
    kernel = to_numpy(dense.kernel)
    bias = getattr(dense, "bias", None)
    if bias is not None:
        bias = to_numpy(bias).reshape(-1)
        out_dim = bias.size
    elif out_dim is None:
        raise ValueError(
            f"`{dense.name}` has no bias, so `out_dim` is needed to reshape "
            f"its kernel of shape {kernel.shape}; pass `out_dim`."
        )
    tensors = {
        f"{name}.weight": np.ascontiguousarray(
            kernel.reshape(-1, out_dim).T
        )
    }
    if bias is not None:
        tensors[f"{name}.bias"] = bias
    return tensors


def check_logits_activation(task, hf_class):
    """Refuses a classifier whose outputs are not logits or their softmax.

    Hugging Face sequence classifiers return logits (and pipelines apply a
    softmax): a classifier with `activation=None` (or `"linear"`) exports
    to the same outputs, one with `"softmax"` to outputs whose softmax is
    ours; any other activation would export a model that computes
    something else.

    Args:
        task: a classifier with an `activation` attribute.
        hf_class: str. The Hugging Face class, for the message.

    Raises:
        ValueError: another activation (the message names it).
    """
    import keras

    activation = keras.activations.serialize(task.activation)
    if isinstance(activation, dict):
        activation = activation.get("config", activation)
    if activation not in ("linear", "softmax"):
        raise ValueError(
            f"Cannot export a {type(task).__name__} with activation="
            f"{activation!r}: `{hf_class}` returns logits, which correspond "
            "to activation=None (or their softmax, to activation='softmax'). "
            "Rebuild the classifier with activation=None on the same "
            "backbone and weights to export it."
        )


def dense_to_in_out(dense):
    """A dense layer's kernel as an `(in, out)` matrix and its bias.

    The inverse of `hf_conversion.assign_in_out_dense`, for checkpoints
    that store `(in, out)` weights (GPT-2's `Conv1D`).

    Args:
        dense: a built `keras.layers.Dense` or `EinsumDense` with a bias.

    Returns:
        tuple `(kernel, bias)`: NumPy arrays `(in, out)` and `(out,)`.
    """
    bias = to_numpy(dense.bias).reshape(-1)
    kernel = to_numpy(dense.kernel).reshape(-1, bias.size)
    return np.ascontiguousarray(kernel), bias


def layer_norm_to_hf(layer_norm, name):
    """A `keras.layers.LayerNormalization` as `<name>.weight` (gamma) and
    `<name>.bias` (beta).

    Args:
        layer_norm: a built `LayerNormalization` with scale and center.
        name: str. The tensor name prefix, e.g. `"embeddings.LayerNorm"`.

    Returns:
        dict of two `(hidden,)` arrays.
    """
    return {
        f"{name}.weight": to_numpy(layer_norm.gamma),
        f"{name}.bias": to_numpy(layer_norm.beta),
    }


def transformer_encoder_to_hf(layer, names):
    """A post-norm `TransformerEncoder` block as Hugging Face tensors.

    The inverse of `hf_conversion.copy_transformer_encoder`, with the same
    `names`.

    Args:
        layer: a built `keras_nlp_clone.layers.TransformerEncoder`.
        names: dict of tensor name prefixes with the keys `query`, `key`,
            `value`, `attention_output`, `attention_layer_norm`,
            `intermediate`, `output`, `output_layer_norm` (e.g.
            `hf_conversion.bert_encoder_layer_names("encoder.layer.0")`).

    Returns:
        dict of tensor name -> NumPy array (16 tensors).
    """
    attention = layer._self_attention_layer
    tensors = {}
    tensors.update(dense_to_hf(attention._query_dense, names["query"]))
    tensors.update(dense_to_hf(attention._key_dense, names["key"]))
    tensors.update(dense_to_hf(attention._value_dense, names["value"]))
    tensors.update(
        dense_to_hf(attention._output_dense, names["attention_output"])
    )
    tensors.update(
        layer_norm_to_hf(
            layer._self_attention_layer_norm, names["attention_layer_norm"]
        )
    )
    tensors.update(
        dense_to_hf(layer._feedforward_intermediate_dense, names["intermediate"])
    )
    tensors.update(dense_to_hf(layer._feedforward_output_dense, names["output"]))
    tensors.update(
        layer_norm_to_hf(layer._feedforward_layer_norm, names["output_layer_norm"])
    )
    return tensors


def save_safetensors(tensors, path):
    """Writes tensors as a safetensors file `transformers` loads.

    Args:
        tensors: dict, tensor name -> NumPy array.
        path: str. The file to write, usually
            `<directory>/model.safetensors`.

    Raises:
        TypeError: a value is not a NumPy array (e.g. a tensor of a
            backend).
    """
    from safetensors.numpy import save_file

    for key, value in tensors.items():
        if not isinstance(value, np.ndarray):
            raise TypeError(
                f"Tensor `{key}` is a {type(value).__name__}; pass NumPy "
                "arrays (see `to_numpy`)."
            )
    save_file(
        {key: np.ascontiguousarray(value) for key, value in tensors.items()},
        path,
        metadata={"format": "pt"},
    )


def write_json(path, data):
    """Writes `data` as indented UTF-8 JSON (e.g. `config.json`).

    Args:
        path: str. The file to write.
        data: a JSON-serializable dict.
    """
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2, ensure_ascii=False)
        f.write("\n")


def write_sentence_transformers_files(embedder, directory, max_seq_length):
    """Writes the sentence-transformers module files of a text embedder.

    The Hugging Face model files (`config.json`, `model.safetensors`) of
    the embedder's backbone and the tokenizer files go at the top of
    `directory` (the `Transformer` module, path `""`); this adds
    `modules.json`, `sentence_bert_config.json`, `1_Pooling/config.json`
    and, when `embedder.normalize`, the `2_Normalize` module, so that
    `sentence_transformers.SentenceTransformer(directory)` computes the
    embedder's embeddings: `"mean"` pooling is `pooling_mode_mean_tokens`,
    `"cls"` is `pooling_mode_cls_token`, `"max"` is
    `pooling_mode_max_tokens`.

    Args:
        embedder: a `keras_nlp_clone.models.TextEmbedder` (`pooling_mode`,
            `normalize`, `backbone.hidden_dim`).
        directory: str. The export directory.
        max_seq_length: int. The longest input in tokens (special tokens
            included), e.g. the preprocessor's `sequence_length`.

    Raises:
        ValueError: an unknown `pooling_mode`.
    """
    flags = {
        "mean": "pooling_mode_mean_tokens",
        "cls": "pooling_mode_cls_token",
        "max": "pooling_mode_max_tokens",
    }
    if embedder.pooling_mode not in flags:
        raise ValueError(
            f"`pooling_mode={embedder.pooling_mode!r}` has no "
            f"sentence-transformers counterpart; use one of {list(flags)}."
        )
    modules = [
        {
            "idx": 0,
            "name": "0",
            "path": "",
            "type": "sentence_transformers.models.Transformer",
        },
        {
            "idx": 1,
            "name": "1",
            "path": "1_Pooling",
            "type": "sentence_transformers.models.Pooling",
        },
    ]
    if embedder.normalize:
        modules.append(
            {
                "idx": 2,
                "name": "2",
                "path": "2_Normalize",
                "type": "sentence_transformers.models.Normalize",
            }
        )
        os.makedirs(os.path.join(directory, "2_Normalize"))
    write_json(os.path.join(directory, "modules.json"), modules)
    write_json(
        os.path.join(directory, "sentence_bert_config.json"),
        {"max_seq_length": int(max_seq_length), "do_lower_case": False},
    )
    pooling = {
        "word_embedding_dimension": int(embedder.backbone.hidden_dim),
        "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": False,
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
    }
    pooling[flags[embedder.pooling_mode]] = True
    os.makedirs(os.path.join(directory, "1_Pooling"))
    write_json(os.path.join(directory, "1_Pooling", "config.json"), pooling)
