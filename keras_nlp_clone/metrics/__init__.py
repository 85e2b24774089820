"""Metrics for NLP: perplexity of language models, BLEU and ROUGE for
generated text, and edit distance (word and character error rates)."""

from keras_nlp_clone.metrics.bleu import Bleu
from keras_nlp_clone.metrics.edit_distance import EditDistance
from keras_nlp_clone.metrics.perplexity import Perplexity
from keras_nlp_clone.metrics.rouge_l import RougeL
from keras_nlp_clone.metrics.rouge_n import RougeN

__all__ = [
    "Bleu",
    "EditDistance",
    "Perplexity",
    "RougeL",
    "RougeN",
]
