"""Tokenizers: strings to token ids and back."""

from keras_nlp_clone.tokenizers.tokenizer import Tokenizer
from keras_nlp_clone.tokenizers.word_piece_tokenizer import WordPieceTokenizer
from keras_nlp_clone.tokenizers.word_piece_tokenizer_trainer import (
    compute_word_piece_vocabulary,
)
