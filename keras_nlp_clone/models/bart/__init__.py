"""BART: tokenizer, encoder-decoder backbone, and the sequence-to-sequence
language model with its preprocessor."""

from keras_nlp_clone.models.bart import convert_bart
from keras_nlp_clone.models.bart.bart_backbone import BartBackbone
from keras_nlp_clone.models.bart.bart_presets import backbone_presets
from keras_nlp_clone.models.bart.bart_seq_2_seq_lm import BartSeq2SeqLM
from keras_nlp_clone.models.bart.bart_seq_2_seq_lm_preprocessor import (
    BartSeq2SeqLMPreprocessor,
)
from keras_nlp_clone.models.bart.bart_tokenizer import BartTokenizer
from keras_nlp_clone.presets.registry import register_hf_converter
from keras_nlp_clone.presets.registry import register_presets

register_presets(backbone_presets, "BartBackbone")
register_hf_converter("bart", convert_bart)
