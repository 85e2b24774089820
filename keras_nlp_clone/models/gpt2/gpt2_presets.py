"""Built-in GPT-2 presets (data only).

`params` are exact parameter counts of each architecture (token and position
embeddings, transformer layers and the final layer norm; the language-model
head is tied to the token embedding), checked in the tests against the
formula.
"""

_KAGGLE = "kaggle://keras/gpt2/keras/{}"
_WEBTEXT = "Trained on WebText."


def _entry(description, params, kaggle_id):
    return {
        "metadata": {
            "description": description,
            "params": params,
            "path": "gpt2",
        },
        "kaggle_handle": _KAGGLE.format(kaggle_id),
    }


backbone_presets = {
    "gpt2_base_en": _entry(
        f"12-layer GPT-2 model where case is maintained. {_WEBTEXT}",
        124439808,
        "gpt2_base_en",
    ),
    "gpt2_medium_en": _entry(
        f"24-layer GPT-2 model where case is maintained. {_WEBTEXT}",
        354823168,
        "gpt2_medium_en",
    ),
    "gpt2_large_en": _entry(
        f"36-layer GPT-2 model where case is maintained. {_WEBTEXT}",
        774030080,
        "gpt2_large_en",
    ),
    "gpt2_extra_large_en": _entry(
        f"48-layer GPT-2 model where case is maintained. {_WEBTEXT}",
        1557611200,
        "gpt2_extra_large_en",
    ),
    "gpt2_base_en_cnn_dailymail": _entry(
        "12-layer GPT-2 model where case is maintained. Finetuned on the "
        "CNN/DailyMail summarization dataset.",
        124439808,
        "gpt2_base_en_cnn_dailymail",
    ),
}
