"""BERT: tokenizer, preprocessors, backbone, classifier and masked LM."""

from keras_nlp_clone.models.bert import convert_bert
from keras_nlp_clone.models.bert.bert_backbone import BertBackbone
from keras_nlp_clone.models.bert.bert_classifier import BertClassifier
from keras_nlp_clone.models.bert.bert_classifier import BertTextClassifier
from keras_nlp_clone.models.bert.bert_masked_lm import BertMaskedLM
from keras_nlp_clone.models.bert.bert_masked_lm_preprocessor import (
    BertMaskedLMPreprocessor,
)
from keras_nlp_clone.models.bert.bert_preprocessor import BertPreprocessor
from keras_nlp_clone.models.bert.bert_preprocessor import (
    BertTextClassifierPreprocessor,
)
from keras_nlp_clone.models.bert.bert_presets import backbone_presets
from keras_nlp_clone.models.bert.bert_presets import preset_aliases
from keras_nlp_clone.models.bert.bert_text_embedder import BertTextEmbedder
from keras_nlp_clone.models.bert.bert_text_embedder_preprocessor import (
    BertTextEmbedderPreprocessor,
)
from keras_nlp_clone.models.bert.bert_tokenizer import BertTokenizer
from keras_nlp_clone.presets.registry import register_hf_converter
from keras_nlp_clone.presets.registry import register_presets

register_presets(backbone_presets, "BertBackbone", preset_aliases)
register_hf_converter("bert", convert_bert)
