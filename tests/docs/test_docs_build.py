"""The docs build is strict, and the API pages cover the public API.

The strictness tests build tiny MkDocs projects in `tmp_path` with the
plugins, Markdown extensions and link validation of the real `mkdocs.yml`,
and check that a broken cross-reference, a broken link or a docstring warning
fails `mkdocs build --strict` (and that the same project without the fault
builds). The builds run in parallel subprocesses to stay fast.
"""

import importlib
import inspect
import os
import re
import subprocess
import sys
import textwrap

import pytest
import yaml

import keras_nlp_clone
from tests.docs.docs_hooks import REPO_ROOT
from tests.docs.docs_hooks import load_hook

DOCS_DIR = REPO_ROOT / "docs"

GOOD_MODULE = '''
def scale(x, factor=2):
    """Multiplies `x` by `factor`.

    Args:
        x: float. The value.
        factor: float. The multiplier. Defaults to `2`.

    Returns:
        `x * factor`.

    Examples:
    >>> scale(3)
    [6]
    """
    return x * factor
'''

# Documents an argument the function does not have.
BAD_DOCSTRING_MODULE = GOOD_MODULE.replace(
    "factor: float. The multiplier.", "fctor: float. The multiplier."
)

GOOD_PAGE = """
# Tiny

See [PositionEmbedding][keras_nlp_clone.layers.PositionEmbedding] and the
[other page](other.md).

::: keras_nlp_clone.layers.PositionEmbedding

::: tinypkg.scale
"""

CASES = {
    "good": (GOOD_PAGE, GOOD_MODULE),
    "broken_reference": (
        GOOD_PAGE + "\nAlso [a layer][keras_nlp_clone.layers.NoSuchLayer].\n",
        GOOD_MODULE,
    ),
    "broken_link": (GOOD_PAGE + "\nAnd [a page](missing_page.md).\n", GOOD_MODULE),
    "docstring_warning": (GOOD_PAGE, BAD_DOCSTRING_MODULE),
}


def _tiny_config(project_dir):
    """The real mkdocs.yml's plugins and checks, with absolute paths."""
    real = yaml.safe_load((REPO_ROOT / "mkdocs.yml").read_text())
    python = real["plugins"][
        [next(iter(p)) if isinstance(p, dict) else p for p in real["plugins"]].index(
            "mkdocstrings"
        )
    ]["mkdocstrings"]["handlers"]["python"]
    python["paths"] = [str(REPO_ROOT / p) for p in python["paths"]] + [
        str(project_dir)
    ]
    options = python["options"]
    options["extensions"] = [
        str(REPO_ROOT / e) for e in options.get("extensions", [])
    ]
    return {
        "site_name": "tiny",
        "docs_dir": "docs",
        "strict": True,
        "validation": real["validation"],
        "markdown_extensions": real["markdown_extensions"],
        "plugins": real["plugins"],
    }


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """Runs every case's strict build in parallel; name -> (rc, output)."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    procs = {}
    for name, (page, module) in CASES.items():
        project = tmp_path_factory.mktemp(name)
        (project / "docs").mkdir()
        (project / "docs" / "index.md").write_text(page)
        (project / "docs" / "other.md").write_text("# Other\n")
        (project / "tinypkg.py").write_text(module)
        (project / "mkdocs.yml").write_text(yaml.safe_dump(_tiny_config(project)))
        procs[name] = subprocess.Popen(
            [sys.executable, "-m", "mkdocs", "build", "--strict",
             "--site-dir", str(project / "site")],
            cwd=project,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    results = {}
    for name, proc in procs.items():
        output, _ = proc.communicate(timeout=300)
        results[name] = (proc.returncode, output)
    return results


def test_tiny_project_builds_without_faults(builds):
    rc, output = builds["good"]
    assert rc == 0, output


def test_broken_cross_reference_fails_the_build(builds):
    rc, output = builds["broken_reference"]
    assert rc != 0
    assert "keras_nlp_clone.layers.NoSuchLayer" in output


def test_broken_link_fails_the_build(builds):
    rc, output = builds["broken_link"]
    assert rc != 0
    assert "missing_page.md" in output


def test_docstring_warning_fails_the_build(builds):
    rc, output = builds["docstring_warning"]
    assert rc != 0
    assert "fctor" in output


# === The API pages cover the public API ===


def _documented_objects():
    """Objects named by `::: path` blocks in the docs, by identity."""
    objects = []
    for page in DOCS_DIR.rglob("*.md"):
        for path in re.findall(r"^::: *([\w.]+)", page.read_text(), re.M):
            module_name, _, attr = path.rpartition(".")
            objects.append(getattr(importlib.import_module(module_name), attr))
    return objects


def _public_api():
    """(namespace.name, object) for every public class and function of the
    package's namespaces: its subpackages (`tokenizers`, `layers`, `models`,
    `utils`, ...), not internal modules such as `api_export`."""
    api = []
    for ns_name, namespace in vars(keras_nlp_clone).items():
        if ns_name.startswith("_") or not hasattr(namespace, "__path__"):
            continue
        for name, obj in vars(namespace).items():
            if name.startswith("_") or inspect.ismodule(obj):
                continue
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            if getattr(obj, "__module__", "").startswith("keras_nlp_clone"):
                api.append((f"keras_nlp_clone.{ns_name}.{name}", obj))
    return api


def test_every_public_object_has_an_api_block():
    documented = _documented_objects()
    api = _public_api()
    assert len(api) > 20
    missing = [
        name
        for name, obj in api
        if not any(obj is d for d in documented)
    ]
    assert not missing, (
        f"Public objects without a `::: ...` block in docs/api/*.md: {missing}"
    )


def test_examples_sections_are_indented_for_the_parser():
    griffe_examples = load_hook("griffe_examples")
    docstring = textwrap.dedent(
        """\
        Summary.

        Examples:
        >>> f(1)
        [2]

        >>> f(2)
        [4]

        References:
            - A paper.
        """
    )
    assert griffe_examples.indent_examples(docstring) == textwrap.dedent(
        """\
        Summary.

        Examples:
            >>> f(1)
            [2]

            >>> f(2)
            [4]

        References:
            - A paper.
        """
    )
