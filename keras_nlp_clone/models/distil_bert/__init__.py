"""DistilBERT: tokenizer, preprocessors, backbone, classifier and masked
LM."""

from keras_nlp_clone.models.distil_bert import convert_distil_bert
from keras_nlp_clone.models.distil_bert.distil_bert_backbone import (
    DistilBertBackbone,
)
from keras_nlp_clone.models.distil_bert.distil_bert_classifier import (
    DistilBertClassifier,
)
from keras_nlp_clone.models.distil_bert.distil_bert_classifier import (
    DistilBertTextClassifier,
)
from keras_nlp_clone.models.distil_bert.distil_bert_masked_lm import (
    DistilBertMaskedLM,
)
from keras_nlp_clone.models.distil_bert.distil_bert_masked_lm_preprocessor import (
    DistilBertMaskedLMPreprocessor,
)
from keras_nlp_clone.models.distil_bert.distil_bert_preprocessor import (
    DistilBertPreprocessor,
)
from keras_nlp_clone.models.distil_bert.distil_bert_preprocessor import (
    DistilBertTextClassifierPreprocessor,
)
from keras_nlp_clone.models.distil_bert.distil_bert_presets import (
    backbone_presets,
)
from keras_nlp_clone.models.distil_bert.distil_bert_presets import (
    preset_aliases,
)
from keras_nlp_clone.models.distil_bert.distil_bert_tokenizer import (
    DistilBertTokenizer,
)
from keras_nlp_clone.presets.registry import register_hf_converter
from keras_nlp_clone.presets.registry import register_presets

register_presets(backbone_presets, "DistilBertBackbone", preset_aliases)
register_hf_converter("distilbert", convert_distil_bert)
