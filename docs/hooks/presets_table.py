"""MkDocs hook: the table of built-in presets, generated from the registry.

A page that contains the line `<!-- BUILTIN_PRESETS_TABLE -->` gets it
replaced by a Markdown table of every preset id registered in
`keras_nlp_clone.presets.registry.BUILTIN_PRESETS` (families register
their presets when `keras_nlp_clone.models` is imported). The table is never
written by hand, so it cannot drift from the code. The build fails if no page
holds the placeholder.

`render_presets_table` is a plain function of the registry dict, tested in
`tests/docs/test_presets_table.py`.
"""

import os

PLACEHOLDER = "<!-- BUILTIN_PRESETS_TABLE -->"

_replaced = False


def load_registry():
    """Imports the package and returns the preset registry (id -> entry)."""
    # Importing the package imports Keras, which needs a backend; any works.
    os.environ.setdefault("KERAS_BACKEND", "jax")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras_nlp_clone  # noqa: F401  (families register presets)
    from keras_nlp_clone.presets.registry import BUILTIN_PRESETS

    return BUILTIN_PRESETS


def _cell(text):
    """Text made safe for one Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def format_params(params):
    """A parameter count as shown in the table: `4385920` -> `4,385,920`."""
    if params is None:
        return "unknown"
    return f"{params:,}"


def _source(entry):
    metadata = entry["metadata"]
    if "alias_of" in metadata:
        return f"alias of `{metadata['alias_of']}`"
    sources = []
    for local in entry.get("local_sources", []):
        if "pip" in local:
            sources.append(f"pip package `{local['pip']}`")
        else:
            sources.append(f"Python package `{local['python_package']}`")
    for key in ("kaggle_handle", "hf_handle"):
        if entry.get(key):
            sources.append(f"`{entry[key]}`")
    return ", ".join(sources) if sources else "local copy only"


def render_presets_table(presets):
    """Renders the registry as a Markdown table, one row per preset id.

    Args:
        presets: dict. Preset id -> registry entry, as in
            `BUILTIN_PRESETS` (`metadata` with `description`
            and `params`; `backbone`; optionally `kaggle_handle`,
            `hf_handle`, `local_sources`, and `metadata["alias_of"]` for
            alias ids).

    Returns:
        str. The table, ids in registry order.
    """
    lines = [
        "| Preset id | Backbone | Parameters | Description | Files from |",
        "|---|---|---:|---|---|",
    ]
    for preset_id, entry in presets.items():
        metadata = entry["metadata"]
        lines.append(
            "| "
            + " | ".join(
                [
                    f"`{preset_id}`",
                    f"`{entry['backbone']}`",
                    format_params(metadata.get("params")),
                    _cell(metadata.get("description", "")),
                    _cell(_source(entry)),
                ]
            )
            + " |"
        )
    return "\n".join(lines) + "\n"


# === MkDocs event hooks ===


def on_pre_build(config, **kwargs):
    global _replaced
    _replaced = False


def on_page_markdown(markdown, page, config, files, **kwargs):
    global _replaced
    if PLACEHOLDER not in markdown:
        return markdown
    _replaced = True
    return markdown.replace(PLACEHOLDER, render_presets_table(load_registry()))


def on_post_build(config, **kwargs):
    if not _replaced:
        from mkdocs.exceptions import PluginError

        raise PluginError(
            f"No page contains the placeholder {PLACEHOLDER!r}: the table "
            "of built-in presets was not generated (docs/api/presets.md "
            "should hold it)."
        )
