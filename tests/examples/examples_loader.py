"""Imports modules from `examples/` (a folder of scripts, not a package)."""

import importlib.util
import os
import sys

EXAMPLES_DIR = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
    "examples",
)


def import_example(name):
    """Imports `examples/<name>.py` once and returns the module."""
    if EXAMPLES_DIR not in sys.path:
        # quickstart.py imports movie_reviews_data as a sibling module.
        sys.path.insert(0, EXAMPLES_DIR)
    module_name = f"examples_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(
        module_name, os.path.join(EXAMPLES_DIR, f"{name}.py")
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module
