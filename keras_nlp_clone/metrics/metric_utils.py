"""Input handling shared by the text metrics (`Bleu`, `RougeN`, `RougeL`,
`EditDistance`).

These metrics score strings or token sequences, which no backend can hold in
a compiled function, so their `update_state` runs eagerly in Python: inputs
(Python values, NumPy arrays, `tf.Tensor`/`tf.RaggedTensor`s, JAX or PyTorch
arrays) are turned into nested Python lists here, the counts are computed in
Python/NumPy, and only the numeric totals go into the metric's variables.
"""

import sys

import keras
import numpy as np

from keras_nlp_clone.utils.lazy_module import tf
from keras_nlp_clone.utils.tensor_utils import in_tf_graph
from keras_nlp_clone.utils.tensor_utils import tf_loaded


def check_float_dtype(dtype, cls_name):
    """Raises a `ValueError` unless `dtype` is a floating point dtype."""
    standardized = keras.backend.standardize_dtype(dtype)
    if "float" not in standardized:
        raise ValueError(
            f"`{cls_name}` computes in floating point: `dtype` must be a "
            f"floating point type such as `'float32'`. Received: "
            f"dtype={dtype!r}"
        )


def _is_symbolic(x):
    if isinstance(x, keras.KerasTensor):
        return True
    if tf_loaded() and isinstance(x, (tf.Tensor, tf.RaggedTensor)):
        return in_tf_graph() or not hasattr(x, "numpy")
    if "jax" in sys.modules:
        import jax

        return isinstance(x, jax.core.Tracer)
    return False


def to_python(x, name, cls_name):
    """Converts an eager input to nested Python lists of `str`/`int`/`float`.

    Args:
        x: a `str`, `bytes`, number, (nested) list/tuple, NumPy array,
            `tf.Tensor`, `tf.RaggedTensor` or backend tensor.
        name: str. The argument name, for error messages.
        cls_name: str. The metric's class name, for error messages.

    Returns:
        The same values as Python objects; `bytes` are decoded as UTF-8.

    Raises:
        ValueError: when `x` is symbolic (a `keras.Input`, a value inside
            `tf.function` or `jax.jit`): these metrics run eagerly.
    """
    if _is_symbolic(x):
        raise ValueError(
            f"`{cls_name}.update_state` computes on strings and token "
            "sequences in Python, so it runs eagerly only. It received a "
            f"symbolic `{name}` ({type(x).__name__}), e.g. inside "
            "`model.compile(metrics=...)` or a `tf.function`/`jax.jit`. "
            "Call it outside compiled functions, on the decoded outputs "
            "(e.g. the strings `generate()` returns)."
        )
    if isinstance(x, bytes):
        return x.decode("utf-8", errors="replace")
    if isinstance(x, (str, int, float)) or x is None:
        return x
    if isinstance(x, (list, tuple)):
        return [to_python(e, name, cls_name) for e in x]
    if isinstance(x, np.generic):
        return to_python(x.item(), name, cls_name)
    if isinstance(x, np.ndarray):
        if x.dtype.kind == "S" or x.dtype.kind == "O":
            return to_python(x.tolist(), name, cls_name)
        return x.tolist()
    if tf_loaded() and isinstance(x, tf.RaggedTensor):
        return to_python(x.to_list(), name, cls_name)
    if tf_loaded() and isinstance(x, tf.Tensor):
        return to_python(x.numpy(), name, cls_name)
    return keras.ops.convert_to_numpy(x).tolist()


def nested_rank(x):
    """The nesting depth of a Python value: `str`/number 0, list 1, ...

    Ragged lists are allowed; the depth is read along the first elements
    and checked to be the same for every element.
    """
    if not isinstance(x, list):
        return 0
    if len(x) == 0:
        return 1
    ranks = {nested_rank(e) for e in x}
    if len(ranks) != 1:
        return -1
    return 1 + ranks.pop()


def check_strings(values, name, cls_name):
    """Raises a `TypeError` unless every leaf of `values` is a `str`."""
    for v in values:
        if isinstance(v, list):
            check_strings(v, name, cls_name)
        elif not isinstance(v, str):
            raise TypeError(
                f"`{cls_name}` scores text: every element of `{name}` must "
                f"be a string. Received an element of type "
                f"{type(v).__name__}: {v!r}. Detokenize token ids first "
                "(e.g. `tokenizer.detokenize(ids)`)."
            )


def strings_batch(x, name, cls_name):
    """Returns `x` as a Python list of `str`, one per example.

    Accepts a scalar string (a batch of one), shape `(batch,)` or shape
    `(batch, 1)`.

    Raises:
        ValueError: for other ranks, a last dimension other than 1, or an
            empty batch.
        TypeError: when the values are not strings.
    """
    values = to_python(x, name, cls_name)
    rank = nested_rank(values)
    if rank == 0:
        values = [values]
    elif rank == 2:
        if any(len(v) != 1 for v in values):
            raise ValueError(
                f"`{cls_name}`: `{name}` of rank 2 must have shape "
                f"`(batch_size, 1)`. Received rows of lengths "
                f"{sorted({len(v) for v in values})}."
            )
        values = [v[0] for v in values]
    elif rank != 1:
        raise ValueError(
            f"`{cls_name}`: `{name}` must be a string, a batch of strings of "
            "shape `(batch_size,)` or `(batch_size, 1)`. Received a value of "
            f"nesting depth {rank if rank >= 0 else 'mixed'}."
        )
    check_strings(values, name, cls_name)
    check_non_empty(values, name, cls_name)
    return values


def check_non_empty(values, name, cls_name):
    if len(values) == 0:
        raise ValueError(
            f"`{cls_name}.update_state` received an empty batch: `{name}` "
            "has no examples. Skip the update for empty batches."
        )


def check_same_batch(n_true, n_pred, cls_name, hint=""):
    if n_true != n_pred:
        raise ValueError(
            f"`{cls_name}`: `y_true` and `y_pred` must hold the same number "
            f"of examples. Received {n_true} in `y_true` and {n_pred} in "
            f"`y_pred`.{hint}"
        )
