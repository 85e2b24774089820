"""Built-in DistilBERT presets (data only).

`params` are exact parameter counts of each architecture (token and position
embeddings, embedding layer norm and six transformer layers; DistilBERT has
no pooler), checked in the tests against the formula.
"""

_KAGGLE = "kaggle://keras/distil_bert/keras/{}"
_WIKI_BOOKS = "Trained on English Wikipedia + BooksCorpus."


def _entry(description, params, kaggle_id):
    return {
        "metadata": {
            "description": description,
            "params": params,
            "path": "distil_bert",
        },
        "kaggle_handle": _KAGGLE.format(kaggle_id),
    }


backbone_presets = {
    "distil_bert_base_en_uncased": _entry(
        f"6-layer DistilBERT model where all input is lowercased. {_WIKI_BOOKS}",
        66362880,
        "distil_bert_base_en_uncased",
    ),
    "distil_bert_base_en_cased": _entry(
        f"6-layer DistilBERT model where case is maintained. {_WIKI_BOOKS}",
        65190912,
        "distil_bert_base_en",
    ),
    "distil_bert_base_multi_cased": _entry(
        "6-layer DistilBERT model where case is maintained. Trained on "
        "Wikipedias of 104 languages.",
        134734080,
        "distil_bert_base_multi",
    ),
}

# Newer registry names of the reference, resolving to the same presets.
preset_aliases = {
    "distil_bert_base_en": "distil_bert_base_en_cased",
    "distil_bert_base_multi": "distil_bert_base_multi_cased",
}
