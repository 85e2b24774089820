"""The import graph runs one way: models use presets, presets never import
`keras_nlp_clone.models` or a model family (families register themselves)."""

import ast
import os

import keras_nlp_clone.presets
from tests.test_case import TestCase

PRESETS_DIR = os.path.dirname(keras_nlp_clone.presets.__file__)

# Imports of `keras_nlp_clone.models` still present, each to be removed by
# its owner; an entry that no longer occurs fails `test_known_exceptions_
# are_current`, so the list only shrinks.
KNOWN_EXCEPTIONS = set()


def imported_modules(source):
    """Every module an `import` or `from ... import` statement anywhere in
    `source` (function bodies included) names, as dotted strings."""
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            if node.module == "keras_nlp_clone":
                # `from keras_nlp_clone import models` imports a module.
                names.extend(f"{node.module}.{alias.name}" for alias in node.names)
            else:
                names.append(node.module)
    return names


def imports_models(module):
    return module == "keras_nlp_clone.models" or module.startswith(
        "keras_nlp_clone.models."
    )


class TestImportGraph(TestCase):
    def _offenders(self):
        offenders = set()
        files = sorted(f for f in os.listdir(PRESETS_DIR) if f.endswith(".py"))
        assert "loader.py" in files and "registry.py" in files
        for filename in files:
            with open(os.path.join(PRESETS_DIR, filename), encoding="utf-8") as f:
                for module in imported_modules(f.read()):
                    if imports_models(module):
                        offenders.add(f"{filename}: {module}")
        return offenders

    def test_presets_never_import_models(self):
        assert sorted(self._offenders() - KNOWN_EXCEPTIONS) == []

    def test_known_exceptions_are_current(self):
        assert sorted(KNOWN_EXCEPTIONS - self._offenders()) == []

    def test_the_check_sees_every_import_form(self):
        source = (
            "import keras_nlp_clone.models.bert\n"
            "from keras_nlp_clone import models\n"
            "def f():\n"
            "    from keras_nlp_clone.models.gpt2.gpt2_backbone import X\n"
            "from keras_nlp_clone.presets.errors import PresetError\n"
            "from keras_nlp_clone import modelsx\n"
        )
        found = [m for m in imported_modules(source) if imports_models(m)]
        assert found == [
            "keras_nlp_clone.models.bert",
            "keras_nlp_clone.models",
            "keras_nlp_clone.models.gpt2.gpt2_backbone",
        ]

    def test_registration_happens_on_package_import(self):
        # Families fill the registry when `keras_nlp_clone` is imported; the
        # loader relies on it instead of importing the families.
        from keras_nlp_clone.presets.registry import BUILTIN_PRESETS
        from keras_nlp_clone.presets.registry import HF_CONVERTERS

        assert {"bert", "gpt2", "bart", "roberta", "distilbert", "xlm-roberta"} <= set(
            HF_CONVERTERS
        )
        assert BUILTIN_PRESETS["bert_tiny_en_uncased"]["backbone"] == "BertBackbone"
