"""Loads the MkDocs hook modules of `docs/hooks/` for the tests."""

import importlib.util
import pathlib

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
HOOKS_DIR = REPO_ROOT / "docs" / "hooks"


def load_hook(name):
    """Imports `docs/hooks/<name>.py` as a module (it is not a package)."""
    spec = importlib.util.spec_from_file_location(
        f"docs_hooks_{name}", HOOKS_DIR / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
