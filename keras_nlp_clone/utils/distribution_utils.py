"""Model parallelism for backbones through `keras.distribution` (JAX only).

Every backbone of the library names its sublayers the same way: attention
blocks have `EinsumDense` projections `query`, `key`, `value` (kernels
`(hidden_dim, num_heads, head_dim)`) and `attention_output` (kernel
`(num_heads, head_dim, hidden_dim)`); feed-forward blocks have
`feedforward_intermediate_dense` (`(hidden_dim, intermediate_dim)`) and
`feedforward_output_dense` (`(intermediate_dim, hidden_dim)`); the token table
is `token_embedding/embeddings` (`(vocabulary_size, hidden_dim)`). So one
layout map, keyed by those variable paths, serves every family.

The split is Megatron-LM's (Shoeybi et al., 2019): the query/key/value and
feed-forward input projections are split by columns (attention heads,
intermediate units) over the model axis, the attention output and
feed-forward output projections by rows, so each block needs one reduction
per sublayer. The token embedding is split over `hidden_dim` rather than over
the vocabulary (Megatron's choice) because real vocabularies often do not
divide a mesh axis (GPT-2's 50,257 ids are divisible by no power of two).
Everything else (position and segment tables, layer norms, biases of the
row-split projections, task heads) is replicated. Batches are split over the
data axis by `keras.distribution.ModelParallel(batch_dim_name=...)`.
"""

import inspect

import keras

# Variable path (regex, fully matched) -> axes, with "model" standing for the
# model-parallel mesh axis.
_MODEL = "model"
MEGATRON_LAYOUT = (
    (r"(.*/)?token_embedding/embeddings", (None, _MODEL)),
    (r".*/(query|key|value)/kernel", (None, _MODEL, None)),
    (r".*/(query|key|value)/bias", (_MODEL, None)),
    (r".*/attention_output/kernel", (_MODEL, None, None)),
    (r".*/feedforward_intermediate_dense/kernel", (None, _MODEL)),
    (r".*/feedforward_intermediate_dense/bias", (_MODEL,)),
    (r".*/feedforward_output_dense/kernel", (_MODEL, None)),
)

# The constructor arguments whose sizes the layout splits over the model axis
# (`hidden_dim` follows from `num_heads`: it is `num_heads * head_dim`).
SPLIT_ARGUMENTS = ("num_heads", "hidden_dim", "intermediate_dim")

_LAYOUT_MAP_MARK = "_keras_nlp_clone_model_axis"


def check_distribution_backend(what):
    """Raises unless `keras.distribution` can run on the current backend.

    Keras 3 implements sharded variables on JAX only: under TensorFlow a
    distribution is accepted but variables are silently left whole on one
    device, and under PyTorch Keras has no distribution backend at all.

    Args:
        what: str. What was attempted, for the message.

    Raises:
        ValueError: on a backend other than JAX.
    """
    backend = keras.backend.backend()
    if backend != "jax":
        raise ValueError(
            f"{what} needs the JAX backend: `keras.distribution` shards "
            "variables only on JAX, and the current backend is "
            f"'{backend}'. Set the environment variable KERAS_BACKEND=jax "
            "before importing Keras (or remove the distribution with "
            "`keras.distribution.set_distribution(None)` to run on one "
            "device)."
        )


def backbone_layout_map(
    device_mesh, model_parallel_dim_name="model", data_parallel_dim_name="batch"
):
    """Builds the Megatron-style `keras.distribution.LayoutMap` of a mesh.

    See the module docstring for what is split and why.

    Args:
        device_mesh: `keras.distribution.DeviceMesh`. The devices, e.g.
            shape `(2, 4)` with axis names `("batch", "model")`.
        model_parallel_dim_name: str. The mesh axis that weights are split
            over. Defaults to `"model"`.
        data_parallel_dim_name: str. The mesh axis that batches are split
            over (pass it to `ModelParallel(batch_dim_name=...)`); weights are
            replicated along it. Defaults to `"batch"`.

    Returns:
        A `keras.distribution.LayoutMap` for `device_mesh`.

    Raises:
        ValueError: on a backend other than JAX, when `device_mesh` is not a
            `DeviceMesh`, or when an axis name is not one of the mesh's or
            both names are the same.
    """
    check_distribution_backend("`get_layout_map`")
    if not isinstance(device_mesh, keras.distribution.DeviceMesh):
        raise ValueError(
            "`device_mesh` must be a `keras.distribution.DeviceMesh`, e.g. "
            "`keras.distribution.DeviceMesh((2, 4), ('batch', 'model'), "
            f"keras.distribution.list_devices())`. Received: {device_mesh!r}"
        )
    axis_names = tuple(device_mesh.axis_names)
    for argument, name in (
        ("model_parallel_dim_name", model_parallel_dim_name),
        ("data_parallel_dim_name", data_parallel_dim_name),
    ):
        if name not in axis_names:
            raise ValueError(
                f"`{argument}`={name!r} is not an axis of the device mesh, "
                f"whose axes are {axis_names}. Pass one of them, or build "
                "the mesh with that axis name."
            )
    if model_parallel_dim_name == data_parallel_dim_name:
        raise ValueError(
            "`model_parallel_dim_name` and `data_parallel_dim_name` must "
            f"differ; both are {model_parallel_dim_name!r}."
        )
    layout_map = keras.distribution.LayoutMap(device_mesh)
    for pattern, axes in MEGATRON_LAYOUT:
        layout_map[pattern] = tuple(
            model_parallel_dim_name if axis == _MODEL else axis for axis in axes
        )
    setattr(layout_map, _LAYOUT_MAP_MARK, model_parallel_dim_name)
    return layout_map


def check_backbone_fits_distribution(cls, args, kwargs):
    """Checks a backbone's sizes against the active distribution, early.

    Called before a backbone creates any variable. Raises when a
    distribution is set on a backend that cannot run it, and when the active
    `ModelParallel` distribution uses a layout map from `get_layout_map` whose
    model axis does not divide a size the layout splits (JAX would
    otherwise fail deep inside variable creation).

    Args:
        cls: the backbone class being constructed.
        args: tuple. Its positional constructor arguments.
        kwargs: dict. Its keyword constructor arguments.

    Raises:
        ValueError: as above, naming the argument, its value, the mesh axis
            and its size.
    """
    distribution = keras.distribution.distribution()
    if distribution is None:
        return
    check_distribution_backend(
        f"Building `{cls.__name__}` under `{type(distribution).__name__}`"
    )
    layout_map = getattr(distribution, "_layout_map", None)
    model_axis = getattr(layout_map, _LAYOUT_MAP_MARK, None)
    if model_axis is None:
        return
    mesh = layout_map.device_mesh
    size = mesh.shape[list(mesh.axis_names).index(model_axis)]
    try:
        bound = inspect.signature(cls.__init__).bind_partial(None, *args, **kwargs)
    except TypeError:
        return  # the constructor itself reports bad arguments
    for name in SPLIT_ARGUMENTS:
        value = bound.arguments.get(name)
        if isinstance(value, int) and value % size != 0:
            divisors = [d for d in range(1, size + 1) if size % d == 0]
            fitting = [d for d in divisors if value % d == 0]
            raise ValueError(
                f"`{cls.__name__}` cannot be split over the mesh axis "
                f"{model_axis!r} of size {size}: `{name}`={value} is not "
                f"divisible by {size}. Use a device mesh whose {model_axis!r} "
                f"axis size divides {value} (of the sizes dividing "
                f"{size}: {fitting}), e.g. move the other devices to the "
                "data axis, or use `keras.distribution.DataParallel`."
            )
