"""Deferred imports for heavy optional dependencies.

TensorFlow and TensorFlow Text are only needed by the string preprocessing
code. Under the JAX and PyTorch backends `import keras_nlp_clone` must not pay
for importing them, so modules refer to them through `LazyModule` objects that
import the real module on first attribute access.
"""

import importlib


class LazyModule:
    """A stand-in for a module that is imported on first attribute access.

    Args:
        name: str. The importable module name, e.g. `"tensorflow"`.
        pip_name: str. The package to suggest in the error message when the
            import fails. Defaults to `name`.

    Raises:
        ImportError: on first use, when the module cannot be imported; the
            message names the package to install.

    Example:
    >>> np_lazy = LazyModule("numpy")
    >>> np_lazy.zeros(2).shape
    (2,)
    """

    def __init__(self, name, pip_name=None):
        self._name = name
        self._pip_name = pip_name or name
        self._module = None

    @property
    def available(self):
        """True when the module can be imported (imports it if needed)."""
        try:
            self._load()
        except ImportError:
            return False
        return True

    @property
    def loaded(self):
        """True when the module has already been imported."""
        return self._module is not None

    def _load(self):
        if self._module is None:
            try:
                self._module = importlib.import_module(self._name)
            except ImportError as e:
                raise ImportError(
                    f"`keras_nlp_clone` needs `{self._name}` for this "
                    f"feature, and it could not be imported ({e}). Install "
                    f"it with `pip install {self._pip_name}`."
                ) from e
        return self._module

    def __getattr__(self, attr):
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        return getattr(self._load(), attr)

    def __repr__(self):
        state = "loaded" if self.loaded else "not yet imported"
        return f"<LazyModule {self._name!r} ({state})>"


tf = LazyModule("tensorflow")
tf_text = LazyModule("tensorflow_text", pip_name="tensorflow-text")
