"""Tokenizers: strings to token ids and back."""

from keras_nlp_clone.tokenizers.byte_pair_tokenizer import BytePairTokenizer
from keras_nlp_clone.tokenizers.byte_tokenizer import ByteTokenizer
from keras_nlp_clone.tokenizers.sentence_piece_tokenizer import (
    SentencePieceTokenizer,
)
from keras_nlp_clone.tokenizers.sentence_piece_tokenizer_trainer import (
    compute_sentence_piece_proto,
)
from keras_nlp_clone.tokenizers.tokenizer import Tokenizer
from keras_nlp_clone.tokenizers.unicode_codepoint_tokenizer import (
    UnicodeCodepointTokenizer,
)
from keras_nlp_clone.tokenizers.word_piece_tokenizer import WordPieceTokenizer
from keras_nlp_clone.tokenizers.word_piece_tokenizer_trainer import (
    compute_word_piece_vocabulary,
)
