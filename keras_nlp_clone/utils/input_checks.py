"""Range checks of the integer id inputs of backbones and tasks.

An embedding lookup with an id at or past the table's size does not fail
everywhere: JAX clamps the gather (id 30,522 silently reads row 30,521),
TensorFlow raises only on CPU and PyTorch with an opaque index error. So
every backbone and task checks the ids it is given before they reach a
lookup, wherever the values are concrete: eager calls, `predict`,
`evaluate` and `fit` on in-memory arrays, and (inside the `tf.data`
pipeline, as a graph assertion) on datasets of preprocessed inputs. Inside
a compiled function (`jax.jit`, `tf.function`) the values are not known
and nothing is checked.

Which input holds ids of which table is read from the input's name:
`*token_ids` (`token_ids`, `encoder_token_ids`, `decoder_token_ids`) index
the `vocabulary_size` rows of the token embedding, `segment_ids` the
`num_segments` rows of the segment embedding.
"""

import keras
import numpy as np

from keras_nlp_clone.utils.lazy_module import tf


def id_limits(backbone):
    """The id inputs of `backbone` and their exclusive upper bounds.

    Args:
        backbone: a `Backbone`.

    Returns:
        dict: input name -> `(limit, limit_name)`, e.g.
        `{"token_ids": (30522, "vocabulary_size")}`; ids must lie in
        `[0, limit)`. Inputs the backbone does not take are left out.
    """
    names = backbone.input
    names = list(names) if isinstance(names, dict) else []
    limits = {}
    vocabulary_size = getattr(backbone, "vocabulary_size", None)
    num_segments = getattr(backbone, "num_segments", None)
    for name in names:
        if name.endswith("token_ids") and vocabulary_size is not None:
            limits[name] = (int(vocabulary_size), "vocabulary_size")
        elif name == "segment_ids" and num_segments is not None:
            limits[name] = (int(num_segments), "num_segments")
    return limits


def _concrete_numpy(value):
    """`value` as a NumPy array when its values are known here, else
    `None` (symbolic tensors, JAX tracers, graph tensors)."""
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, (list, tuple, int, np.integer, float)):
        try:
            return np.asarray(value)
        except ValueError:
            return None  # ragged lists: the model reports those itself
    if isinstance(value, keras.KerasTensor):
        return None
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        if isinstance(value, jax.core.Tracer) or not isinstance(value, jax.Array):
            return None
        return np.asarray(value)
    if backend == "torch":
        import torch

        if not isinstance(value, torch.Tensor) or value.device.type == "meta":
            return None
        return value.detach().cpu().numpy()
    # TensorFlow: only eager tensors hold values.
    if type(value).__name__ == "EagerTensor" and tf.executing_eagerly():
        return value.numpy()
    return None


def check_id_values(name, values, limit, limit_name, owner):
    """Raises a `ValueError` unless `values` are integers in `[0, limit)`.

    Args:
        name: str. The input's name (`"token_ids"`), for the message.
        values: a NumPy array of any shape.
        limit: int. The exclusive upper bound (the table's size).
        limit_name: str. What the bound is (`"vocabulary_size"`).
        owner: str. The model receiving the input, for the message.

    Raises:
        ValueError: for float or other non-integer dtypes, ids below zero
            and ids at or past `limit`, naming the input, the offending id
            and the bound.
    """
    if values.size == 0:
        return
    if values.dtype == bool or not np.issubdtype(values.dtype, np.integer):
        raise ValueError(
            f"`{owner}` needs integer `{name}`; received dtype "
            f"{values.dtype}. Token and segment ids index embedding rows: "
            f"cast them with `.astype('int32')`, or pass raw strings and "
            "let the preprocessor tokenize them."
        )
    largest = int(values.max())
    smallest = int(values.min())
    if largest >= limit:
        raise ValueError(
            f"`{owner}` got `{name}` up to {largest}, but its "
            f"`{limit_name}` is {limit}: ids must lie in [0, {limit - 1}]. "
            "The ids come from another tokenizer or vocabulary than this "
            "model's; tokenize with the model's own preprocessor (e.g. "
            "`from_preset` of the same preset)."
        )
    if smallest < 0:
        raise ValueError(
            f"`{owner}` got a negative id in `{name}` ({smallest}); ids "
            f"must lie in [0, {limit - 1}] (`{limit_name}` is {limit})."
        )


def check_backbone_inputs(backbone, inputs, owner=None):
    """Checks the concrete id inputs given to `backbone` (or its task).

    Inputs whose values are not known here (symbolic or traced tensors) are
    skipped; see the module docstring.

    Args:
        backbone: the `Backbone` whose embedding tables the ids index.
        inputs: a dict of named inputs (`{"token_ids": ..., ...}`), or one
            array of token ids for a backbone with a single id input.
        owner: str. The model named in errors. Defaults to the backbone's
            class name.

    Raises:
        ValueError: as `check_id_values`.
    """
    limits = id_limits(backbone)
    if not limits:
        return
    owner = owner or type(backbone).__name__
    if not isinstance(inputs, dict):
        if len(limits) != 1 and "token_ids" not in limits:
            return
        inputs = {"token_ids": inputs}
    for name, (limit, limit_name) in limits.items():
        if name not in inputs:
            continue
        values = _concrete_numpy(inputs[name])
        if values is not None:
            check_id_values(name, values, limit, limit_name, owner)


def assert_ids_in_dataset(backbone, dataset, owner=None):
    """Maps a range assertion over a dataset of preprocessed inputs.

    The checks of `check_backbone_inputs`, as `tf.debugging` assertions
    inside the `tf.data` pipeline: a bad batch stops `fit`/`evaluate`/
    `predict` with a `tf.errors.InvalidArgumentError` carrying the same
    explanation, when that batch is read.

    Args:
        backbone: the `Backbone` whose embedding tables the ids index.
        dataset: a `tf.data.Dataset` of `x`, `(x, y)` or
            `(x, y, sample_weight)` elements, `x` a dict of named inputs.
        owner: str. The model named in errors.

    Returns:
        The dataset, with the assertion mapped over it (unchanged when its
        elements hold no id input of the backbone).
    """
    limits = id_limits(backbone)
    owner = owner or type(backbone).__name__
    spec = dataset.element_spec
    x_spec = spec[0] if isinstance(spec, tuple) else spec
    if not isinstance(x_spec, dict) or not any(k in x_spec for k in limits):
        return dataset

    def check(*element):
        x = element[0]
        checks = []
        for name, (limit, limit_name) in limits.items():
            if name not in x:
                continue
            ids = x[name]
            if isinstance(ids, tf.RaggedTensor):
                ids = ids.flat_values
            if not ids.dtype.is_integer:
                raise ValueError(
                    f"`{owner}` needs integer `{name}`; the dataset gives "
                    f"{ids.dtype.name}. Cast them with `tf.cast(..., "
                    "'int32')` in the pipeline."
                )
            ids = tf.cast(ids, "int64")
            # `tf.debugging.Assert` with only string data: one op each, no
            # `cond` (`assert_less` builds a `cond` and a data summary per
            # input, about 0.2 s of tracing on every `fit`/`predict`).
            # Empty batches pass: their max is the smallest int64.
            largest = tf.reduce_max(ids)
            smallest = tf.reduce_min(ids)
            checks.append(
                tf.debugging.Assert(
                    largest < limit,
                    [
                        f"`{owner}` got `{name}` at or past its "
                        f"`{limit_name}` {limit}: ids must lie in "
                        f"[0, {limit - 1}]; the largest in this batch is",
                        tf.strings.as_string(largest),
                        "Tokenize with the model's own preprocessor.",
                    ],
                )
            )
            checks.append(
                tf.debugging.Assert(
                    smallest >= 0,
                    [
                        f"`{owner}` got a negative id in `{name}`:",
                        tf.strings.as_string(smallest),
                    ],
                )
            )
        with tf.control_dependencies(checks):
            element = tf.nest.map_structure(tf.identity, element)
        return element if len(element) > 1 else element[0]

    # Plain graph code: AutoGraph's conversion of `check` would only cost
    # time on every new dataset.
    check = tf.autograph.experimental.do_not_convert(check)
    if isinstance(spec, tuple):
        return dataset.map(check)
    return dataset.map(lambda x: check(x))
