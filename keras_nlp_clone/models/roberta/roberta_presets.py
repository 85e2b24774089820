"""Built-in RoBERTa presets (data only).

`params` are exact parameter counts of each architecture (token and position
embeddings, embedding layer norm and transformer layers; no pooler), checked
in the tests against the formula.
"""

_KAGGLE = "kaggle://keras/roberta/keras/{}"
_DATA = (
    "Trained on English Wikipedia, BooksCorpus, CommonCraw, and OpenWebText."
)


def _entry(description, params, kaggle_id):
    return {
        "metadata": {
            "description": description,
            "params": params,
            "path": "roberta",
        },
        "kaggle_handle": _KAGGLE.format(kaggle_id),
    }


backbone_presets = {
    "roberta_base": _entry(
        f"12-layer RoBERTa model where case is maintained. {_DATA}",
        124052736,
        "roberta_base_en",
    ),
    "roberta_large": _entry(
        f"24-layer RoBERTa model where case is maintained. {_DATA}",
        354307072,
        "roberta_large_en",
    ),
}

# Newer registry names of the reference, resolving to the same presets.
preset_aliases = {
    "roberta_base_en": "roberta_base",
    "roberta_large_en": "roberta_large",
}
