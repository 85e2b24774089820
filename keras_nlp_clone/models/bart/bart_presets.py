"""Built-in BART presets (data only).

`params` are exact parameter counts of each architecture (the shared token
embedding, encoder and decoder position embeddings, the two embedding layer
norms, encoder and decoder layers; the language-model head is tied to the
token embedding), checked in the tests against the formula.
"""

_KAGGLE = "kaggle://keras/bart/keras/{}"
_DATA = "Trained on BookCorpus, English Wikipedia and CommonCrawl."


def _entry(description, params, kaggle_id):
    return {
        "metadata": {
            "description": description,
            "params": params,
            "path": "bart",
        },
        "kaggle_handle": _KAGGLE.format(kaggle_id),
    }


backbone_presets = {
    "bart_base_en": _entry(
        f"6-layer BART model where case is maintained. {_DATA}",
        139417344,
        "bart_base_en",
    ),
    "bart_large_en": _entry(
        f"12-layer BART model where case is maintained. {_DATA}",
        406287360,
        "bart_large_en",
    ),
    "bart_large_en_cnn": _entry(
        "The `bart_large_en` backbone model fine-tuned on the CNN+DM "
        "summarization dataset.",
        406287360,
        "bart_large_en_cnn",
    ),
}
