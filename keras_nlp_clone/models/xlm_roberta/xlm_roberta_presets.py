"""Built-in XLM-RoBERTa presets (data only).

`params` are exact parameter counts of each architecture (token and position
embeddings, embedding layer norm and transformer layers; no pooler), checked
in the tests against the formula.
"""

_KAGGLE = "kaggle://keras/xlm_roberta/keras/{}"
_DATA = "Trained on CommonCrawl in 100 languages."


def _entry(description, params, kaggle_id):
    return {
        "metadata": {
            "description": description,
            "params": params,
            "path": "xlm_roberta",
        },
        "kaggle_handle": _KAGGLE.format(kaggle_id),
    }


backbone_presets = {
    "xlm_roberta_base": _entry(
        f"12-layer XLM-RoBERTa model where case is maintained. {_DATA}",
        277450752,
        "xlm_roberta_base_multi",
    ),
    "xlm_roberta_large": _entry(
        f"24-layer XLM-RoBERTa model where case is maintained. {_DATA}",
        558837760,
        "xlm_roberta_large_multi",
    ),
}

# Newer registry names of the reference, resolving to the same presets.
preset_aliases = {
    "xlm_roberta_base_multi": "xlm_roberta_base",
    "xlm_roberta_large_multi": "xlm_roberta_large",
}
