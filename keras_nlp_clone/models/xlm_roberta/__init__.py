"""XLM-RoBERTa: tokenizer, preprocessors, backbone, classifier and masked
LM."""

from keras_nlp_clone.models.xlm_roberta import convert_xlm_roberta
from keras_nlp_clone.models.xlm_roberta.xlm_roberta_backbone import (
    XLMRobertaBackbone,
)
from keras_nlp_clone.models.xlm_roberta.xlm_roberta_classifier import (
    XLMRobertaClassifier,
)
from keras_nlp_clone.models.xlm_roberta.xlm_roberta_classifier import (
    XLMRobertaTextClassifier,
)
from keras_nlp_clone.models.xlm_roberta.xlm_roberta_masked_lm import (
    XLMRobertaMaskedLM,
)
from keras_nlp_clone.models.xlm_roberta.xlm_roberta_masked_lm_preprocessor import (
    XLMRobertaMaskedLMPreprocessor,
)
from keras_nlp_clone.models.xlm_roberta.xlm_roberta_preprocessor import (
    XLMRobertaPreprocessor,
)
from keras_nlp_clone.models.xlm_roberta.xlm_roberta_preprocessor import (
    XLMRobertaTextClassifierPreprocessor,
)
from keras_nlp_clone.models.xlm_roberta.xlm_roberta_presets import (
    backbone_presets,
)
from keras_nlp_clone.models.xlm_roberta.xlm_roberta_presets import (
    preset_aliases,
)
from keras_nlp_clone.models.xlm_roberta.xlm_roberta_text_embedder import (
    XLMRobertaTextEmbedder,
)
from keras_nlp_clone.models.xlm_roberta.xlm_roberta_text_embedder_preprocessor import (
    XLMRobertaTextEmbedderPreprocessor,
)
from keras_nlp_clone.models.xlm_roberta.xlm_roberta_tokenizer import (
    XLMRobertaTokenizer,
)
from keras_nlp_clone.presets.registry import register_hf_converter
from keras_nlp_clone.presets.registry import register_presets

register_presets(
    backbone_presets, "XLMRobertaBackbone", preset_aliases
)
register_hf_converter("xlm-roberta", convert_xlm_roberta)
