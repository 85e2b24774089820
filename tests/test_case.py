"""The shared test harness: `TestCase` with helpers for layers and models.

Model tests become a few lines of tiny config by calling the `run_*` helpers.
"""

import keras
import numpy as np
import pytest

from keras_nlp_clone.utils.lazy_module import tf
from keras_nlp_clone.utils.tensor_utils import convert_preprocessing_inputs
from keras_nlp_clone.utils.tensor_utils import convert_preprocessing_outputs


class TestCase:
    """Base class for tests (pytest style: plain `assert`s)."""

    @pytest.fixture(autouse=True)
    def _clear_session(self):
        # Seeded, and a fresh Keras session after each test. Without
        # `gc.collect()` (`free_memory=False`): a full collection costs about
        # half a second a test, and the tiny models of the suite fit in
        # memory many times over.
        keras.utils.set_random_seed(1337)
        yield
        keras.backend.clear_session(free_memory=False)

    # === Assertions ===

    def assertAllClose(self, x, y, atol=1e-6, rtol=1e-6, msg=None):
        x = tf.nest.map_structure(keras.ops.convert_to_numpy, x)
        y = tf.nest.map_structure(keras.ops.convert_to_numpy, y)
        tf.nest.assert_same_structure(x, y)
        for a, b in zip(tf.nest.flatten(x), tf.nest.flatten(y)):
            np.testing.assert_allclose(a, b, atol=atol, rtol=rtol, err_msg=msg)

    def assertAllEqual(self, x, y, msg=None):
        x = tf.nest.map_structure(_to_python, x)
        y = tf.nest.map_structure(_to_python, y)
        assert x == y, msg or f"{x!r} != {y!r}"

    # === Layer helpers ===

    def run_layer_test(
        self,
        cls,
        init_kwargs,
        input_data,
        expected_output_shape,
        expected_output_data=None,
        expected_num_trainable_weights=None,
        expected_num_non_trainable_weights=None,
        call_kwargs=None,
        run_training_check=True,
        run_mixed_precision_check=True,
        atol=1e-6,
        rtol=1e-6,
    ):
        """Checks a (trainable) layer end to end.

        Runs, in order: an eager call (output shape, optional values, weight
        counts); a config round trip through `get_config`/`from_config` and
        through `keras.saving.serialize_keras_object`/
        `deserialize_keras_object`, with the same weights giving identical
        outputs; a symbolic call on `keras.Input`s wrapped in a functional
        model; one `fit` step (when the layer has trainable weights); and a
        `"mixed_bfloat16"` call whose variables stay float32.

        Args:
            cls: the layer class.
            init_kwargs: dict of constructor arguments.
            input_data: the first call argument (an array), or a dict of
                named tensor call arguments (`{"inputs": ..., "x": ...}`).
            expected_output_shape: a shape tuple, or a structure of them for
                layers returning several tensors.
            expected_output_data: optional expected output values.
            expected_num_trainable_weights: optional int.
            expected_num_non_trainable_weights: optional int.
            call_kwargs: dict of non-tensor call arguments (e.g.
                `{"reverse": True}`).
            run_training_check: whether to run the `fit` step.
            run_mixed_precision_check: whether to run the mixed precision
                call.
        """
        call_kwargs = call_kwargs or {}

        def call(layer, data):
            if isinstance(data, dict):
                return layer(**data, **call_kwargs)
            return layer(data, **call_kwargs)

        def shapes(x):
            return tf.nest.map_structure(lambda t: tuple(t.shape), x)

        # === Eager call ===
        layer = cls(**init_kwargs)
        output = call(layer, input_data)
        assert shapes(output) == _shape_structure(expected_output_shape), (
            f"{shapes(output)} != {expected_output_shape}"
        )
        if expected_output_data is not None:
            self.assertAllClose(output, expected_output_data, atol, rtol)
        if expected_num_trainable_weights is not None:
            assert (
                len(layer.trainable_weights) == expected_num_trainable_weights
            ), len(layer.trainable_weights)
        if expected_num_non_trainable_weights is not None:
            assert (
                len(layer.non_trainable_weights)
                == expected_num_non_trainable_weights
            ), len(layer.non_trainable_weights)

        # === Serialization round trips ===
        config = layer.get_config()
        revived = cls.from_config(config)
        assert _comparable(revived.get_config()) == _comparable(config)
        call(revived, input_data)
        revived.set_weights(layer.get_weights())
        self.assertAllClose(call(revived, input_data), output, atol, rtol)

        serialized = keras.saving.serialize_keras_object(layer)
        revived = keras.saving.deserialize_keras_object(serialized)
        assert type(revived) is cls
        assert _comparable(
            keras.saving.serialize_keras_object(revived)
        ) == _comparable(serialized)
        call(revived, input_data)
        revived.set_weights(layer.get_weights())
        self.assertAllClose(call(revived, input_data), output, atol, rtol)

        # === Symbolic call in a functional model ===
        def to_numpy(x):
            x = keras.ops.convert_to_numpy(x)
            # JAX runs without 64-bit types by default.
            return x.astype("int32") if x.dtype == np.int64 else x

        def symbolic(x, name=None):
            return keras.Input(
                shape=x.shape[1:], dtype=str(x.dtype), name=name
            )

        numpy_inputs = tf.nest.map_structure(to_numpy, input_data)
        if isinstance(input_data, dict):
            symbolic_inputs = {
                k: symbolic(v, name=k) for k, v in numpy_inputs.items()
            }
        else:
            symbolic_inputs = symbolic(numpy_inputs)
        layer = cls(**init_kwargs)
        symbolic_output = call(layer, symbolic_inputs)
        expected_symbolic = _shape_structure(
            expected_output_shape, lambda s: (None, *s[1:])
        )
        assert shapes(symbolic_output) == expected_symbolic, (
            f"{shapes(symbolic_output)} != {expected_symbolic}"
        )
        model = keras.Model(symbolic_inputs, symbolic_output)
        model_output = model(numpy_inputs)
        assert shapes(model_output) == _shape_structure(expected_output_shape)

        # === One training step ===
        if (
            run_training_check
            and layer.trainable_weights
            and not isinstance(model_output, (tuple, list, dict))
        ):
            target = np.zeros(model_output.shape, dtype="float32")
            model.compile(optimizer="sgd", loss="mse")
            history = model.fit(
                numpy_inputs, target, batch_size=len(target), verbose=0
            )
            assert np.isfinite(history.history["loss"][0])

        # === Mixed precision ===
        if run_mixed_precision_check:
            layer = cls(**{**init_kwargs, "dtype": "mixed_bfloat16"})
            output = call(layer, input_data)
            for tensor in tf.nest.flatten(output):
                dtype = keras.backend.standardize_dtype(tensor.dtype)
                if "float" in dtype:
                    assert dtype == "bfloat16", dtype
            for weight in layer.weights:
                if "float" in weight.dtype:
                    assert weight.dtype == "float32", weight.path

    def run_preprocessing_layer_test(
        self,
        cls,
        init_kwargs,
        input_data,
        expected_output=None,
        call_kwargs=None,
        batched=True,
    ):
        """Checks a preprocessing layer eagerly and inside `tf.data`.

        The eager output must equal `expected_output` (when given) and the
        output of the same layer mapped over a `tf.data.Dataset`: with
        `batched=True` the rows of `input_data` are sliced and re-batched
        (ragged rows become a `tf.RaggedTensor` batch), with `batched=False`
        the whole input is one dataset element. A layer rebuilt from its
        config must give the same output.

        Args:
            cls: the layer class.
            init_kwargs: dict of constructor arguments.
            input_data: the layer's input: an array, a (nested) list, or a
                tuple of them for multi-segment layers.
            expected_output: optional expected eager output (Python lists
                and arrays are fine).
            call_kwargs: dict of extra call arguments.
            batched: whether `input_data` has a batch dimension.
        """
        call_kwargs = call_kwargs or {}
        layer = cls(**init_kwargs)
        output = layer(input_data, **call_kwargs)
        if expected_output is not None:
            self.assertAllEqual(output, expected_output)

        tf_inputs = convert_preprocessing_inputs(input_data)
        if batched:
            first = tf.nest.flatten(tf_inputs, expand_composites=False)[0]
            ds = tf.data.Dataset.from_tensor_slices(tf_inputs)
            ds = ds.batch(int(first.shape[0]))
        else:
            ds = tf.data.Dataset.from_tensors(tf_inputs)

        def map_fn(*args):
            x = args if len(args) > 1 else args[0]
            return layer(x, **call_kwargs)

        ds_output = next(iter(ds.map(map_fn)))
        ds_output = convert_preprocessing_outputs(ds_output)
        self.assertAllEqual(output, ds_output)

        config = layer.get_config()
        revived = cls.from_config(config)
        assert revived.get_config() == config
        self.assertAllEqual(revived(input_data, **call_kwargs), output)
        return output


def _shape_structure(shape, fn=tuple):
    """Applies `fn` to each shape of a shape or nest of shapes.

    `tf.nest` would treat a shape tuple as a nest of ints; here a tuple of
    ints (or `None`s) is one leaf.
    """
    if isinstance(shape, dict):
        return {k: _shape_structure(v, fn) for k, v in shape.items()}
    if isinstance(shape, (list, tuple)) and shape and not isinstance(
        shape[0], (int, type(None))
    ):
        return type(shape)(_shape_structure(s, fn) for s in shape)
    return fn(tuple(shape))


def _comparable(config):
    """A config with tuples as lists, so round-tripped configs compare."""
    if isinstance(config, dict):
        return {k: _comparable(v) for k, v in config.items()}
    if isinstance(config, (list, tuple)):
        return [_comparable(v) for v in config]
    return config


def _to_python(x):
    if isinstance(x, (list, tuple, str, bytes, int, float)) or x is None:
        return x
    return keras.ops.convert_to_numpy(x).tolist()


def assert_runs_without_tensorflow(code):
    """Runs `code` in a fresh Python process under the JAX backend and
    asserts it succeeds without importing TensorFlow.

    Args:
        code: str. Python statements (imports and calls of the library).

    Raises:
        AssertionError: when the process fails or TensorFlow was imported,
            with the end of its stderr.
    """
    import os
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    code = (
        code.strip().rstrip(";")
        + "\nimport sys\nassert 'tensorflow' not in sys.modules, 'tensorflow imported'"
    )
    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": root}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
