"""Converts Hugging Face XLM-RoBERTa checkpoints (`model_type:
"xlm-roberta"`).

The weights have RoBERTa's names and layout (`XLMRobertaModel`, and the
`roberta.`-prefixed `XLMRobertaForMaskedLM` /
`XLMRobertaForSequenceClassification`), so the config, weight and head
conversion are those of `convert_roberta`; only the tokenizer differs: it is
built from the SentencePiece model `sentencepiece.bpe.model`.
"""

import os

from keras_nlp_clone.models.roberta.convert_roberta import (
    convert_backbone_config,
)
from keras_nlp_clone.models.roberta.convert_roberta import convert_head
from keras_nlp_clone.models.roberta.convert_roberta import convert_weights

backbone_cls_name = "XLMRobertaBackbone"

__all__ = [
    "backbone_cls_name",
    "convert_backbone_config",
    "convert_weights",
    "convert_head",
    "convert_tokenizer",
]


def convert_tokenizer(cls, preset_dir, hf_config, **kwargs):
    """Builds an `XLMRobertaTokenizer` (or subclass `cls`) from
    `sentencepiece.bpe.model`.

    Raises:
        FileNotFoundError: `sentencepiece.bpe.model` is missing.
    """
    path = os.path.join(preset_dir, "sentencepiece.bpe.model")
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"The Hugging Face XLM-RoBERTa checkpoint at `{preset_dir}` has "
            "no `sentencepiece.bpe.model`; it is needed to build the "
            "tokenizer."
        )
    with open(path, "rb") as f:
        proto = f.read()
    return cls(proto=proto, **kwargs)
