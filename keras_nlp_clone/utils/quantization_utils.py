"""int8 quantization of backbones and tasks on top of `keras.Model.quantize`.

`Backbone.quantize` and `Task.quantize` check their arguments and every
layer they would change before changing any (Keras itself checks layer by
layer, so a bad call could leave a model half quantized), then run
`keras.Model.quantize`. The helpers below also record which layers are
quantized, so that a saved preset rebuilds the same layers in int8.
"""

import re
import warnings

import keras

# Modes whose arithmetic every layer of this library implements:
# `ReversibleEmbedding`'s output projection and the cached-decoding fast
# paths are written for Keras' int8 layout (per-channel absmax scales).
SUPPORTED_MODES = ("int8",)

# Keras warns once per layer it cannot quantize (layer norms, dropouts,
# position embeddings, ...): expected here, so not shown to the user.
_QUIET_WARNINGS = (
    r".*does not have a `quantize` method implemented.*",
    r".*__array__ implementation doesn't accept a copy keyword.*",
)


def _quantizable_types():
    # Exact types only: Keras' `quantize` refuses subclasses (it cannot
    # know their variables); `ReversibleEmbedding` implements its own.
    from keras_nlp_clone.layers.reversible_embedding import ReversibleEmbedding

    return (
        keras.layers.Dense,
        keras.layers.EinsumDense,
        keras.layers.Embedding,
        ReversibleEmbedding,
    )


def leaf_layers(model):
    """The layers of `model` without sublayers (the ones Keras quantizes),
    each once, in `model._flatten_layers()` order."""
    return [
        layer
        for layer in model._flatten_layers(include_self=False)
        if len(list(layer._flatten_layers())) == 1
    ]


def concrete_policy(layer):
    """The layer's own `DTypePolicy` (looked up by path in a
    `DTypePolicyMap`)."""
    policy = layer.dtype_policy
    if isinstance(policy, keras.dtype_policies.DTypePolicyMap):
        # As `Layer.compute_dtype` does: a layer without a path yet (not
        # built) has the map's default policy.
        policy = policy[layer.path] if layer.path else policy.default_policy
    return policy


def _matches(layer, filters):
    if filters is None:
        return True
    if isinstance(filters, str):
        return bool(re.search(filters, layer.name))
    if isinstance(filters, (list, tuple)):
        return any(re.search(pattern, layer.name) for pattern in filters)
    return bool(filters(layer))


def check_quantize_args(model, mode, config, filters):
    """Validates a `quantize` call on `model` without changing anything.

    Returns:
        The list of layers that `keras.Model.quantize` will quantize.

    Raises:
        ValueError: `mode` is not one of `SUPPORTED_MODES`; `config` is
            given; `filters` has a wrong type or selects no quantizable
            layer; a selected layer is already quantized or computes in
            float16.
    """
    name = type(model).__name__
    if not isinstance(mode, str) or mode not in SUPPORTED_MODES:
        raise ValueError(
            f"`{name}.quantize()` supports mode='int8' only. Received: "
            f"mode={mode!r}. (Keras' other modes, 'int4', 'float8', 'gptq' "
            "and 'awq', are not implemented for this library's "
            "`ReversibleEmbedding` output projection and cached decoding.) "
            "Call `model.quantize('int8')`."
        )
    if config is not None:
        raise ValueError(
            f"`{name}.quantize()` takes no `config`: every layer is "
            "quantized with Keras' default int8 scheme (per-channel absmax "
            f"weights, per-token absmax inputs). Received: config={config!r}."
            " Call `model.quantize('int8')`."
        )
    if filters is not None and not (
        isinstance(filters, (str, list, tuple)) or callable(filters)
    ):
        raise ValueError(
            "`filters` must be a regex string, a list of regex strings or a "
            f"callable `layer -> bool`. Received: filters={filters!r}."
        )
    targets = [
        layer
        for layer in leaf_layers(model)
        if type(layer) in _quantizable_types() and _matches(layer, filters)
    ]
    if not targets:
        raise ValueError(
            f"`{name}.quantize()` found no Dense, EinsumDense or Embedding "
            f"layer to quantize with filters={filters!r}. Pass `filters=None` "
            "to quantize every such layer."
        )
    done = [layer for layer in targets if concrete_policy(layer).quantization_mode]
    if done:
        paths = ", ".join(
            f"`{layer.path}` ({concrete_policy(layer).name})" for layer in done[:3]
        )
        more = f" and {len(done) - 3} more" if len(done) > 3 else ""
        raise ValueError(
            f"`{name}` is already quantized: {paths}{more}. A layer can be "
            "quantized once. Quantize a full-precision copy instead (e.g. "
            "reload it with `from_preset`), or pass `filters` to select only "
            "layers that are not quantized yet. Received: "
            f"mode={mode!r}. Nothing was changed."
        )
    half = [layer for layer in targets if layer.compute_dtype == "float16"]
    if half:
        raise ValueError(
            f"int8 quantization does not support the float16 compute dtype "
            f"of `{half[0].path}` (policy {concrete_policy(half[0]).name!r}). "
            "Build the model with `dtype='float32'`, `'bfloat16'` or "
            "`'mixed_bfloat16'` before quantizing. Nothing was changed."
        )
    return targets


def use_own_quantize(model):
    """Drops the per-instance wrapper Keras puts around `quantize` (in
    `Layer.__new__`), so that the class's `quantize` runs.

    The wrapper validates the mode and checks the model itself before the
    method runs, with messages that do not say what to do; backbones and
    tasks check the mode and every layer themselves
    (`check_quantize_args`). Leaf layers keep their wrappers.
    """
    model.__dict__.pop("quantize", None)


def quantize_model(model, mode, config=None, filters=None, **kwargs):
    """Checks the call (see `check_quantize_args`), then runs
    `keras.Model.quantize(model, mode, filters=filters, **kwargs)` with the
    expected per-layer "cannot quantize" warnings silenced."""
    check_quantize_args(model, mode, config, filters)
    with warnings.catch_warnings(), _one_garbage_collection():
        for message in _QUIET_WARNINGS:
            warnings.filterwarnings("ignore", message=message)
        keras.Model.quantize(model, mode, filters=filters, **kwargs)


class _one_garbage_collection:
    """Runs one `gc.collect()` at the end of the block instead of one per
    call inside it.

    Keras' `Layer.__delattr__` collects garbage after every deleted
    variable, i.e. once per quantized layer; with TensorFlow, JAX or
    PyTorch loaded one collection takes about half a second, most of the
    time of quantizing a small model. One collection at the end frees the
    same float kernels. (`gc.collect` is swapped for the duration of the
    block, so other threads collecting meanwhile are deferred too.)
    """

    def __enter__(self):
        import gc

        self._collect = gc.collect
        gc.collect = lambda *args, **kwargs: 0

    def __exit__(self, *args):
        import gc

        gc.collect = self._collect
        gc.collect()


def quantized_policy_map(layers, default_policy):
    """A `keras.dtype_policies.DTypePolicyMap` from the paths of the
    quantized layers among `layers` to their policies, or `None` when none
    is quantized.

    Args:
        layers: iterable of built layers.
        default_policy: str. The name of the policy of every other layer.
    """
    policy_map = keras.dtype_policies.DTypePolicyMap(default_policy=default_policy)
    for layer in layers:
        policy = concrete_policy(layer)
        if policy.quantization_mode is not None:
            policy_map[layer.path] = policy.name
    return policy_map if len(policy_map) else None
