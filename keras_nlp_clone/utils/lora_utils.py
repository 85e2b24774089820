"""LoRA on backbones: enabling it, and saving and loading the LoRA weights.

The mechanics behind `Backbone.enable_lora`, `Backbone.save_lora_weights`
and `Backbone.load_lora_weights`. The low-rank matrices themselves are
Keras' own (`keras.layers.Dense`, `EinsumDense` and `Embedding` have
`enable_lora(rank)`): this module picks the layers by name, freezes the
rest of the backbone, and reads and writes the matrices as a flat
safetensors file.

A LoRA weights file is a safetensors file holding one tensor per LoRA
matrix, named by the variable's path inside the backbone (e.g.
`transformer_layer_0/self_attention/query/lora_kernel_a`), and these
metadata strings:

- `format`: `"keras_nlp_clone.lora.v1"`;
- `backbone_class`: e.g. `"BertBackbone"`;
- `rank`: the LoRA rank, e.g. `"8"`;
- `target_names`: the JSON list of target layer names.

Reference: [Hu et al., 2021](https://arxiv.org/abs/2106.09685), LoRA:
Low-Rank Adaptation of Large Language Models.
"""

import json
import numbers
import os

LORA_FORMAT = "keras_nlp_clone.lora.v1"

# The attention query and value projections: the sublayers of every
# `keras.layers.MultiHeadAttention` (and `CachedMultiHeadAttention`) are
# named `query`, `key`, `value` and `attention_output`. KerasHub's default
# list also holds `query_dense` and `value_dense`, names no layer of this
# library has.
DEFAULT_TARGET_NAMES = ("query", "value")


def _lora_layer_types():
    import keras

    return (
        keras.layers.Dense,
        keras.layers.EinsumDense,
        keras.layers.Embedding,
    )


def check_rank(rank):
    """Returns `rank` as an int.

    Raises:
        ValueError: `rank` is not a positive integer (bools refused).
    """
    if (
        not isinstance(rank, numbers.Integral)
        or isinstance(rank, bool)
        or rank <= 0
    ):
        raise ValueError(
            "`rank` must be a positive integer, the inner dimension of the "
            "LoRA matrices (4, 8 and 16 are usual), e.g. "
            f"`backbone.enable_lora(rank=8)`. Received: rank={rank!r}."
        )
    return int(rank)


def check_target_names(target_names):
    """Returns `target_names` as a list of str (`None`: the defaults; a
    single str: a list of one).

    Raises:
        ValueError: not a str or a non-empty list/tuple of str.
    """
    if target_names is None:
        return list(DEFAULT_TARGET_NAMES)
    if isinstance(target_names, str):
        return [target_names]
    if (
        not isinstance(target_names, (list, tuple))
        or not target_names
        or not all(isinstance(n, str) for n in target_names)
    ):
        raise ValueError(
            "`target_names` must be a non-empty list of layer names, e.g. "
            '`["query", "value"]`, or `None` for those defaults. Received: '
            f"target_names={target_names!r}."
        )
    return list(dict.fromkeys(target_names))  # In order, without repeats.


def candidate_layers(backbone):
    """The layers of `backbone` that can take LoRA (`Dense`,
    `EinsumDense`, `Embedding`, built, with weights), in a fixed order."""
    types = _lora_layer_types()
    return [
        layer
        for layer in backbone._flatten_layers(include_self=False)
        if isinstance(layer, types) and layer.built and layer.weights
    ]


def target_layers(backbone, target_names):
    """The layers of `backbone` named in `target_names`.

    Raises:
        ValueError: a name matches no LoRA-capable layer (listing the names
            that do).
    """
    candidates = candidate_layers(backbone)
    layers = [layer for layer in candidates if layer.name in target_names]
    found = {layer.name for layer in layers}
    unmatched = [name for name in target_names if name not in found]
    if unmatched:
        available = sorted({layer.name for layer in candidates})
        raise ValueError(
            f"`target_names` {unmatched} match no `Dense`, `EinsumDense` or "
            f"`Embedding` layer of this {type(backbone).__name__}. Names "
            f"that do: {available}. Received: target_names={target_names!r}."
        )
    return layers


def _lora_variable_names(layer):
    import keras

    if isinstance(layer, keras.layers.Embedding):
        return ("lora_embeddings_a", "lora_embeddings_b")
    return ("lora_kernel_a", "lora_kernel_b")


def lora_variables(layer):
    """The LoRA matrices `(a, b)` of a LoRA-enabled layer."""
    return tuple(getattr(layer, name) for name in _lora_variable_names(layer))


def expected_lora_shapes(layer, rank):
    """`{path: shape}` of the LoRA matrices `layer.enable_lora(rank)`
    creates (or has created), without creating them; the shapes Keras
    uses."""
    import keras

    a_name, b_name = _lora_variable_names(layer)
    if isinstance(layer, keras.layers.Embedding):
        base = (layer.input_dim, layer.output_dim)
    elif getattr(layer, "quantization_mode", None) == "int4":
        base = tuple(layer.original_kernel_shape)
    else:
        base = tuple(layer._kernel.shape)
    return {
        f"{layer.path}/{a_name}": tuple(base[:-1]) + (rank,),
        f"{layer.path}/{b_name}": (rank, base[-1]),
    }


def check_can_enable(backbone, layers):
    """Refuses, before anything changes, what `layer.enable_lora` would
    refuse midway.

    Raises:
        ValueError: LoRA is already on (the backbone or a layer), or a layer
            has a kernel constraint.
        NotImplementedError: a layer is GPTQ-quantized.
    """
    state = getattr(backbone, "_lora_config", None)
    enabled = [layer.path for layer in layers if layer.lora_enabled]
    if state is not None or enabled:
        described = (
            f"rank {state['rank']} on {state['target_names']}"
            if state is not None
            else f"on {enabled}"
        )
        raise ValueError(
            f"LoRA is already enabled on this {type(backbone).__name__} "
            f"({described}); it can be enabled once. To train with another "
            "rank or other targets, start again from a backbone without "
            "LoRA (e.g. `from_preset` of the base model)."
        )
    for layer in layers:
        if getattr(layer, "kernel_constraint", None) is not None:
            raise ValueError(
                f"Layer `{layer.path}` has a kernel constraint, which LoRA "
                "cannot keep. Leave it out of `target_names`."
            )
        if getattr(layer, "quantization_mode", None) == "gptq":
            raise NotImplementedError(
                f"Layer `{layer.path}` is GPTQ-quantized; Keras has no LoRA "
                "for GPTQ layers. Leave it out of `target_names`."
            )


def enable_lora(backbone, rank, target_names=None):
    """Enables LoRA on the named layers of `backbone`; freezes the rest.

    See `Backbone.enable_lora`. Checks everything before changing
    anything. Returns the LoRA config `{"rank", "target_names"}` (also
    stored as `backbone._lora_config`).
    """
    rank = check_rank(rank)
    target_names = check_target_names(target_names)
    layers = target_layers(backbone, target_names)
    check_can_enable(backbone, layers)

    # `Layer.trainable = True` marks every variable of the backbone
    # trainable; the flags are then set variable by variable.
    backbone.trainable = True
    for layer in layers:
        layer.enable_lora(rank)
    lora_ids = {id(v) for layer in layers for v in lora_variables(layer)}
    for variable in backbone.weights:
        variable.trainable = id(variable) in lora_ids
    config = {"rank": rank, "target_names": target_names}
    object.__setattr__(backbone, "_lora_config", config)
    reset_compiled_functions(backbone)
    return dict(config)


def register_task(backbone, task):
    """Records (weakly) that `task` runs `backbone`, so that
    `enable_lora` can reset the task's compiled functions."""
    import weakref

    tasks = backbone.__dict__.get("_lora_tasks")
    if tasks is None:
        tasks = weakref.WeakSet()
        object.__setattr__(backbone, "_lora_tasks", tasks)
    tasks.add(task)


def reset_compiled_functions(backbone):
    """Drops the compiled `train`/`test`/`predict`/`generate` functions of
    `backbone` and of the tasks running it: traced before `enable_lora`,
    a TensorFlow graph would keep computing without the LoRA matrices.
    They are rebuilt on next use."""
    models = [backbone, *backbone.__dict__.get("_lora_tasks", ())]
    for model in models:
        for name in ("train_function", "test_function", "predict_function"):
            if getattr(model, name, None) is not None:
                setattr(model, name, None)
        if model.__dict__.get("generate_function") is not None:
            object.__setattr__(model, "generate_function", None)


def _check_lora_enabled(backbone, action):
    config = getattr(backbone, "_lora_config", None)
    if config is None:
        raise ValueError(
            f"LoRA is not enabled on this {type(backbone).__name__}, so "
            f"there are no LoRA weights to {action}. Call "
            "`backbone.enable_lora(rank)` first."
        )
    return config


def lora_tensors(backbone):
    """`{path: numpy array}` of every LoRA matrix of `backbone`."""
    import keras
    import numpy as np

    config = _check_lora_enabled(backbone, "save")
    tensors = {}
    for layer in target_layers(backbone, config["target_names"]):
        for variable in lora_variables(layer):
            tensors[variable.path] = np.ascontiguousarray(
                keras.ops.convert_to_numpy(variable)
            )
    return tensors


def save_lora_weights(backbone, filepath):
    """Writes the LoRA matrices of `backbone` to `filepath` (safetensors,
    atomically). See `Backbone.save_lora_weights`."""
    from safetensors.numpy import save_file

    from keras_nlp_clone.presets.saver import atomic_save

    config = _check_lora_enabled(backbone, "save")
    tensors = lora_tensors(backbone)
    metadata = {
        "format": LORA_FORMAT,
        "backbone_class": type(backbone).__name__,
        "rank": str(config["rank"]),
        "target_names": json.dumps(config["target_names"]),
    }
    atomic_save(
        os.fspath(filepath),
        lambda path: save_file(tensors, path, metadata=metadata),
    )


def read_lora_file(filepath):
    """Reads a LoRA weights file.

    Returns:
        `(metadata, tensors)`: the metadata (`rank` an int, `target_names`
        a list) and `{path: numpy array}`.

    Raises:
        FileNotFoundError: no file at `filepath`.
        ValueError: not a LoRA weights file of this library.
    """
    from safetensors.numpy import load_file
    from safetensors import safe_open

    filepath = os.fspath(filepath)
    if not os.path.isfile(filepath):
        raise FileNotFoundError(
            f"No LoRA weights file at `{filepath}`. Write one with "
            "`backbone.save_lora_weights(filepath)`."
        )
    try:
        with safe_open(filepath, framework="numpy") as f:
            metadata = dict(f.metadata() or {})
        tensors = load_file(filepath)
        rank = int(metadata["rank"])
        target_names = json.loads(metadata["target_names"])
        if metadata.get("format") != LORA_FORMAT:
            raise ValueError(f"format {metadata.get('format')!r}")
    except Exception as e:  # safetensors raises its own error types.
        raise ValueError(
            f"`{filepath}` is not a LoRA weights file written by "
            f"`save_lora_weights` (format `{LORA_FORMAT}`): "
            f"{type(e).__name__}: {e}."
        ) from e
    metadata["rank"] = rank
    metadata["target_names"] = target_names
    return metadata, tensors


def load_lora_weights(backbone, filepath):
    """Reads LoRA matrices from `filepath` into `backbone`, enabling LoRA
    with the file's rank and targets when it is off. See
    `Backbone.load_lora_weights`."""
    import numpy as np

    metadata, tensors = read_lora_file(filepath)
    name = type(backbone).__name__
    rank, target_names = metadata["rank"], metadata["target_names"]
    where = f"`{os.fspath(filepath)}`"
    if metadata.get("backbone_class") != name:
        raise ValueError(
            f"The LoRA weights in {where} were saved from a "
            f"`{metadata.get('backbone_class')}`, not a `{name}`. Load them "
            "into the model they were trained on."
        )
    config = getattr(backbone, "_lora_config", None)
    if config is not None:
        differs = []
        if config["rank"] != rank:
            differs.append(f"rank {rank} in the file, {config['rank']} here")
        if config["target_names"] != target_names:
            differs.append(
                f"target_names {target_names} in the file, "
                f"{config['target_names']} here"
            )
        if differs:
            raise ValueError(
                f"The LoRA weights in {where} do not fit this {name}: "
                f"{'; '.join(differs)}. Load them into a backbone without "
                "LoRA (they enable it with the file's settings), or call "
                f"`enable_lora(rank={rank}, target_names={target_names})` "
                "on a fresh backbone."
            )
    try:
        layers = target_layers(backbone, target_names)
    except ValueError as e:
        raise ValueError(
            f"The LoRA weights in {where} do not fit this {name}: {e}"
        ) from e
    if config is None:
        check_can_enable(backbone, layers)
    expected = {}
    for layer in layers:
        expected.update(expected_lora_shapes(layer, rank))
    missing = [path for path in expected if path not in tensors]
    unexpected = [path for path in tensors if path not in expected]
    wrong = [
        f"`{path}`: {tuple(tensors[path].shape)} in the file, {shape} here"
        for path, shape in expected.items()
        if path in tensors and tuple(tensors[path].shape) != shape
    ]
    problems = []
    if missing:
        problems.append(f"missing from the file: {missing[:4]}")
    if unexpected:
        problems.append(f"in the file but not in this model: {unexpected[:4]}")
    if wrong:
        problems.append(f"shapes differ: {wrong[:4]}")
    if problems:
        raise ValueError(
            f"The LoRA weights in {where} do not fit this {name} "
            f"(rank {rank}, target_names {target_names}): "
            f"{'; '.join(problems)}. They were saved from a model with "
            "another configuration (layers, sizes); load them into the "
            "model they were trained on."
        )
    # Everything checked: now change the model.
    if config is None:
        enable_lora(backbone, rank, target_names)
    for layer in layers:
        for variable in lora_variables(layer):
            value = tensors[variable.path]
            variable.assign(np.asarray(value, dtype=variable.dtype))
