"""RoBERTa: tokenizer, preprocessors, backbone, classifier and masked LM."""

from keras_nlp_clone.models.roberta import convert_roberta
from keras_nlp_clone.models.roberta.roberta_backbone import RobertaBackbone
from keras_nlp_clone.models.roberta.roberta_classifier import RobertaClassifier
from keras_nlp_clone.models.roberta.roberta_classifier import (
    RobertaTextClassifier,
)
from keras_nlp_clone.models.roberta.roberta_masked_lm import RobertaMaskedLM
from keras_nlp_clone.models.roberta.roberta_masked_lm_preprocessor import (
    RobertaMaskedLMPreprocessor,
)
from keras_nlp_clone.models.roberta.roberta_preprocessor import (
    RobertaPreprocessor,
)
from keras_nlp_clone.models.roberta.roberta_preprocessor import (
    RobertaTextClassifierPreprocessor,
)
from keras_nlp_clone.models.roberta.roberta_presets import backbone_presets
from keras_nlp_clone.models.roberta.roberta_presets import preset_aliases
from keras_nlp_clone.models.roberta.roberta_tokenizer import RobertaTokenizer
from keras_nlp_clone.presets.registry import register_hf_converter
from keras_nlp_clone.presets.registry import register_presets

register_presets(backbone_presets, "RobertaBackbone", preset_aliases)
register_hf_converter("roberta", convert_roberta)
