"""Conversions between Python values, `tf.Tensor`s and backend tensors.

String preprocessing always runs as TensorFlow ops, so that it can be mapped
over a `tf.data.Dataset` whatever the Keras backend. When a preprocessing
layer is called eagerly, its inputs are converted to TensorFlow and its outputs
converted back to what a user of the active backend expects: ragged results
become Python lists, string results Python `str`, and dense numeric results
backend tensors. Inside a `tf.function` (e.g. `tf.data.Dataset.map`) nothing is
converted.
"""

import functools
import threading

import keras
import numpy as np

from keras_nlp_clone.utils.lazy_module import tf

_state = threading.local()


def tf_loaded():
    """True when TensorFlow has been imported by anyone in this process."""
    import sys

    return "tensorflow" in sys.modules


def in_tf_graph():
    """True when called while tracing a `tf.function` or `tf.data` map."""
    if not tf_loaded():
        return False
    return tf.inside_function()


class no_convert_scope:
    """Context in which nested preprocessing calls skip output conversion.

    A preprocessor that calls a tokenizer eagerly wants the tokenizer's raw
    `tf.RaggedTensor` output, not Python lists; it enters this scope while
    running its own graph-compatible body.
    """

    def __enter__(self):
        _state.depth = getattr(_state, "depth", 0) + 1

    def __exit__(self, *args):
        _state.depth -= 1


def in_no_convert_scope():
    """True inside an enclosing `no_convert_scope`."""
    return getattr(_state, "depth", 0) > 0


def _is_tf_value(x):
    return tf_loaded() and isinstance(
        x, (tf.Tensor, tf.RaggedTensor, tf.SparseTensor)
    )


def _to_tf(x):
    """Converts one leaf (or list of leaves) to a TensorFlow value."""
    if x is None or _is_tf_value(x):
        return x
    if isinstance(x, (str, bytes)):
        return tf.constant(x)
    if isinstance(x, (list, tuple)):
        if len(x) == 0:
            return tf.constant([], dtype=tf.string)
        first = x[0]
        if isinstance(first, (str, bytes)):
            return tf.constant(x)
        if isinstance(first, (list, tuple)) or _is_ragged_list(x):
            return ragged_constant(x)
        x = np.asarray(x)
    if isinstance(x, np.ndarray):
        if x.dtype.kind in ("U", "S", "O"):
            return tf.constant(x.astype(object) if x.dtype.kind == "U" else x)
        return tf.constant(x)
    if isinstance(x, (int, float, np.generic)):
        return tf.constant(x)
    # Backend tensors (jax.Array, torch.Tensor, ...) go through NumPy.
    return tf.constant(keras.ops.convert_to_numpy(x))


def ragged_constant(rows):
    """`tf.ragged.constant(rows)`, with int32 ids for rows without values.

    Rows that are all empty (e.g. `[[], []]`, the tokenization of `["",
    ""]`) have no leaf to give the dtype, and `tf.ragged.constant` makes
    them float32; empty rows of token ids are meant, so they become int32
    (packers and `detokenize` would otherwise return or refuse float ids).

    Args:
        rows: a nested list (or tuple) of ids or strings, at least one row.

    Returns:
        A `tf.RaggedTensor`; int32 when it holds no value and TensorFlow
        inferred a float dtype.
    """
    ragged = tf.ragged.constant(rows)
    if ragged.flat_values.shape[0] == 0 and ragged.dtype.is_floating:
        ragged = tf.cast(ragged, tf.int32)
    return ragged


def _is_ragged_list(x):
    return any(isinstance(e, (list, tuple, np.ndarray)) for e in x)


def convert_preprocessing_inputs(x):
    """Converts a (nest of) eager inputs to TensorFlow values.

    Args:
        x: a string, list of strings, nested list of ints, NumPy array,
            backend tensor, or a dict/tuple of these. A tuple is always a
            structure (e.g. the two segments of sentence pairs), never a
            batch: pass batches as lists or arrays.

    Returns:
        The same structure with every leaf a `tf.Tensor` or
        `tf.RaggedTensor`.
    """
    if isinstance(x, dict):
        return {k: convert_preprocessing_inputs(v) for k, v in x.items()}
    if isinstance(x, tuple):
        # Tuples are structure (e.g. sentence pairs), lists are data.
        return tuple(convert_preprocessing_inputs(v) for v in x)
    return _to_tf(x)


def ragged_to_list(x):
    """Converts a `tf.RaggedTensor` (or ragged rank 1 batch) to Python lists.

    Much faster than `tf.RaggedTensor.to_list()` for the common 2D case: the
    flat values are pulled to NumPy once and sliced by the row splits.
    """
    if x.ragged_rank == 1 and x.flat_values.shape.rank == 1:
        values = x.flat_values.numpy()
        splits = x.row_splits.numpy().tolist()
        if values.dtype == object:
            values = [v.decode("utf-8", errors="replace") for v in values]
        else:
            values = values.tolist()
        return [values[s:e] for s, e in zip(splits[:-1], splits[1:])]
    return _decode_strings(x.to_list())


def _decode_strings(x):
    if isinstance(x, bytes):
        return x.decode("utf-8", errors="replace")
    if isinstance(x, list):
        return [_decode_strings(e) for e in x]
    return x


def convert_preprocessing_outputs(x):
    """Converts TensorFlow outputs of a preprocessing layer for the user.

    Ragged tensors become Python lists, string tensors Python `str` (or
    lists of them), and dense numeric tensors backend tensors. Dicts and
    tuples are converted leaf by leaf; other values pass through.
    """
    if isinstance(x, dict):
        return {k: convert_preprocessing_outputs(v) for k, v in x.items()}
    if isinstance(x, (tuple, list)):
        return type(x)(convert_preprocessing_outputs(v) for v in x)
    if not _is_tf_value(x):
        return x
    if isinstance(x, tf.RaggedTensor):
        return ragged_to_list(x)
    if isinstance(x, tf.SparseTensor):
        x = tf.sparse.to_dense(x)
    if x.dtype == tf.string:
        # A scalar string tensor's `.numpy()` is `bytes`, not an array.
        value = x.numpy()
        if isinstance(value, np.ndarray):
            value = value.tolist()
        return _decode_strings(value)
    if x.dtype == tf.bool:
        return keras.ops.convert_to_tensor(x.numpy(), dtype="bool")
    return keras.ops.convert_to_tensor(x.numpy())


def preprocessing_function(fn):
    """Decorates a preprocessing method to run eagerly on any backend.

    The wrapped method's body is written with TensorFlow ops. Called inside a
    `tf.function` or a nested `no_convert_scope`, it runs unchanged. Called
    eagerly, its positional and keyword tensor arguments are converted to
    TensorFlow, the body runs inside `no_convert_scope`, and its outputs are
    converted with `convert_preprocessing_outputs`.
    """

    @functools.wraps(fn)
    def wrapper(self, x, *args, **kwargs):
        if in_tf_graph() or in_no_convert_scope():
            return fn(self, x, *args, **kwargs)
        x = convert_preprocessing_inputs(x)
        args = tuple(convert_preprocessing_inputs(a) for a in args)
        kwargs = {
            k: convert_preprocessing_inputs(v)
            if k in ("y", "sample_weight")
            else v
            for k, v in kwargs.items()
        }
        with no_convert_scope():
            outputs = fn(self, x, *args, **kwargs)
        return convert_preprocessing_outputs(outputs)

    return wrapper


def is_string_dtype(dtype):
    """True when `dtype` (a string or a TF/NumPy dtype) names a string type."""
    return "string" in str(dtype) or str(dtype) in ("<dtype: 'string'>", "str")


def is_int_dtype(dtype):
    """True when `dtype` names a signed or unsigned integer type."""
    return "int" in keras.backend.standardize_dtype(dtype)


def convert_to_ragged_batch(inputs):
    """Ensures a TF input has a batch dimension and is ragged.

    Args:
        inputs: a `tf.Tensor` or `tf.RaggedTensor` of rank 1 (one sequence)
            or rank 2 (a batch).

    Returns:
        A tuple `(ragged_batch, unbatched, rectangular)`: the input as a
        rank 2 `tf.RaggedTensor`, whether a batch dimension was added, and
        whether the input was dense.
    """
    unbatched = inputs.shape.rank == 1
    rectangular = isinstance(inputs, tf.Tensor)
    if unbatched:
        inputs = tf.expand_dims(inputs, 0)
    if rectangular:
        inputs = tf.RaggedTensor.from_tensor(inputs)
    return inputs, unbatched, rectangular


def assert_tf_available(symbol_name):
    """Raises a clear ImportError when TensorFlow Text cannot be imported."""
    from keras_nlp_clone.utils.lazy_module import tf_text

    if not tf_text.available:
        raise ImportError(
            f"`{symbol_name}` runs its string preprocessing with TensorFlow "
            "and TensorFlow Text. Install both with `pip install "
            "tensorflow tensorflow-text` (matching minor versions)."
        )
