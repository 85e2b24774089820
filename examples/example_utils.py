"""Helpers shared by the example scripts of `examples/`."""

import os
import sys

BACKENDS = ("jax", "tensorflow", "torch")


def select_backend(backend):
    """Sets `KERAS_BACKEND` before Keras is imported.

    Args:
        backend: str. `"jax"`, `"tensorflow"` or `"torch"`.

    Raises:
        RuntimeError: Keras is already imported with another backend, so
            the choice cannot take effect in this process.
    """
    if "keras" in sys.modules:
        import keras

        if keras.backend.backend() != backend:
            raise RuntimeError(
                f"Keras is already imported with the "
                f"{keras.backend.backend()!r} backend, so --backend {backend} "
                "cannot take effect. Run the script in a fresh process, or "
                "pass the backend Keras already uses."
            )
    os.environ["KERAS_BACKEND"] = backend
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
