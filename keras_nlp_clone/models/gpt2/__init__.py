"""GPT-2: tokenizer, preprocessors, backbone and causal LM."""

from keras_nlp_clone.models.gpt2 import convert_gpt2
from keras_nlp_clone.models.gpt2.gpt2_backbone import GPT2Backbone
from keras_nlp_clone.models.gpt2.gpt2_causal_lm import GPT2CausalLM
from keras_nlp_clone.models.gpt2.gpt2_causal_lm_preprocessor import (
    GPT2CausalLMPreprocessor,
)
from keras_nlp_clone.models.gpt2.gpt2_preprocessor import GPT2Preprocessor
from keras_nlp_clone.models.gpt2.gpt2_presets import backbone_presets
from keras_nlp_clone.models.gpt2.gpt2_tokenizer import GPT2Tokenizer
from keras_nlp_clone.presets.registry import register_hf_converter
from keras_nlp_clone.presets.registry import register_presets

register_presets(backbone_presets, "GPT2Backbone")
register_hf_converter("gpt2", convert_gpt2)
