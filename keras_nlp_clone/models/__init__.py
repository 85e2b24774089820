"""Models: base classes and model families.

Each family lives in its own folder (`models/<family>/`) and registers its
presets and Hugging Face converter when imported here.
"""

from keras_nlp_clone.models.backbone import Backbone
from keras_nlp_clone.models.bart import BartBackbone
from keras_nlp_clone.models.bart import BartSeq2SeqLM
from keras_nlp_clone.models.bart import BartSeq2SeqLMPreprocessor
from keras_nlp_clone.models.bart import BartTokenizer
from keras_nlp_clone.models.bert import BertBackbone
from keras_nlp_clone.models.bert import BertClassifier
from keras_nlp_clone.models.bert import BertMaskedLM
from keras_nlp_clone.models.bert import BertMaskedLMPreprocessor
from keras_nlp_clone.models.bert import BertPreprocessor
from keras_nlp_clone.models.bert import BertTextClassifier
from keras_nlp_clone.models.bert import BertTextClassifierPreprocessor
from keras_nlp_clone.models.bert import BertTextEmbedder
from keras_nlp_clone.models.bert import BertTextEmbedderPreprocessor
from keras_nlp_clone.models.bert import BertTokenizer
from keras_nlp_clone.models.causal_lm import CausalLM
from keras_nlp_clone.models.causal_lm_preprocessor import CausalLMPreprocessor
from keras_nlp_clone.models.distil_bert import DistilBertBackbone
from keras_nlp_clone.models.distil_bert import DistilBertClassifier
from keras_nlp_clone.models.distil_bert import DistilBertMaskedLM
from keras_nlp_clone.models.distil_bert import DistilBertMaskedLMPreprocessor
from keras_nlp_clone.models.distil_bert import DistilBertPreprocessor
from keras_nlp_clone.models.distil_bert import DistilBertTextClassifier
from keras_nlp_clone.models.distil_bert import (
    DistilBertTextClassifierPreprocessor,
)
from keras_nlp_clone.models.distil_bert import DistilBertTokenizer
from keras_nlp_clone.models.gpt2 import GPT2Backbone
from keras_nlp_clone.models.gpt2 import GPT2CausalLM
from keras_nlp_clone.models.gpt2 import GPT2CausalLMPreprocessor
from keras_nlp_clone.models.gpt2 import GPT2Preprocessor
from keras_nlp_clone.models.gpt2 import GPT2Tokenizer
from keras_nlp_clone.models.masked_lm import MaskedLM
from keras_nlp_clone.models.masked_lm_preprocessor import MaskedLMPreprocessor
from keras_nlp_clone.models.preprocessor import Preprocessor
from keras_nlp_clone.models.roberta import RobertaBackbone
from keras_nlp_clone.models.roberta import RobertaClassifier
from keras_nlp_clone.models.roberta import RobertaMaskedLM
from keras_nlp_clone.models.roberta import RobertaMaskedLMPreprocessor
from keras_nlp_clone.models.roberta import RobertaPreprocessor
from keras_nlp_clone.models.roberta import RobertaTextClassifier
from keras_nlp_clone.models.roberta import RobertaTextClassifierPreprocessor
from keras_nlp_clone.models.roberta import RobertaTokenizer
from keras_nlp_clone.models.seq_2_seq_lm import Seq2SeqLM
from keras_nlp_clone.models.seq_2_seq_lm_preprocessor import Seq2SeqLMPreprocessor
from keras_nlp_clone.models.task import Task
from keras_nlp_clone.models.text_classifier import TextClassifier
from keras_nlp_clone.models.text_classifier_preprocessor import (
    TextClassifierPreprocessor,
)
from keras_nlp_clone.models.text_embedder import TextEmbedder
from keras_nlp_clone.models.text_embedder_preprocessor import (
    TextEmbedderPreprocessor,
)
from keras_nlp_clone.models.xlm_roberta import XLMRobertaBackbone
from keras_nlp_clone.models.xlm_roberta import XLMRobertaClassifier
from keras_nlp_clone.models.xlm_roberta import XLMRobertaMaskedLM
from keras_nlp_clone.models.xlm_roberta import XLMRobertaMaskedLMPreprocessor
from keras_nlp_clone.models.xlm_roberta import XLMRobertaPreprocessor
from keras_nlp_clone.models.xlm_roberta import XLMRobertaTextClassifier
from keras_nlp_clone.models.xlm_roberta import (
    XLMRobertaTextClassifierPreprocessor,
)
from keras_nlp_clone.models.xlm_roberta import XLMRobertaTextEmbedder
from keras_nlp_clone.models.xlm_roberta import (
    XLMRobertaTextEmbedderPreprocessor,
)
from keras_nlp_clone.models.xlm_roberta import XLMRobertaTokenizer
from keras_nlp_clone.tokenizers.tokenizer import Tokenizer
