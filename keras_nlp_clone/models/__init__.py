"""Models: base classes and model families.

Each family lives in its own folder (`models/<family>/`) and registers its
presets and Hugging Face converter when imported here.
"""

from keras_nlp_clone.models.backbone import Backbone
from keras_nlp_clone.models.bert import BertBackbone
from keras_nlp_clone.models.bert import BertClassifier
from keras_nlp_clone.models.bert import BertMaskedLM
from keras_nlp_clone.models.bert import BertMaskedLMPreprocessor
from keras_nlp_clone.models.bert import BertPreprocessor
from keras_nlp_clone.models.bert import BertTextClassifier
from keras_nlp_clone.models.bert import BertTextClassifierPreprocessor
from keras_nlp_clone.models.bert import BertTokenizer
from keras_nlp_clone.models.masked_lm import MaskedLM
from keras_nlp_clone.models.masked_lm_preprocessor import MaskedLMPreprocessor
from keras_nlp_clone.models.preprocessor import Preprocessor
from keras_nlp_clone.models.task import Task
from keras_nlp_clone.models.text_classifier import TextClassifier
from keras_nlp_clone.models.text_classifier_preprocessor import (
    TextClassifierPreprocessor,
)
from keras_nlp_clone.tokenizers.tokenizer import Tokenizer
