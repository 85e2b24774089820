"""Layers for building NLP models: embeddings, encoders, heads, packers."""

from keras_nlp_clone.layers.alibi_bias import AlibiBias
from keras_nlp_clone.layers.cached_multi_head_attention import (
    CachedMultiHeadAttention,
)
from keras_nlp_clone.layers.f_net_encoder import FNetEncoder
from keras_nlp_clone.layers.masked_lm_head import MaskedLMHead
from keras_nlp_clone.layers.masked_lm_mask_generator import (
    MaskedLMMaskGenerator,
)
from keras_nlp_clone.layers.multi_segment_packer import MultiSegmentPacker
from keras_nlp_clone.layers.position_embedding import PositionEmbedding
from keras_nlp_clone.layers.random_deletion import RandomDeletion
from keras_nlp_clone.layers.random_swap import RandomSwap
from keras_nlp_clone.layers.reversible_embedding import ReversibleEmbedding
from keras_nlp_clone.layers.rotary_embedding import RotaryEmbedding
from keras_nlp_clone.layers.sine_position_encoding import SinePositionEncoding
from keras_nlp_clone.layers.start_end_packer import StartEndPacker
from keras_nlp_clone.layers.token_and_position_embedding import (
    TokenAndPositionEmbedding,
)
from keras_nlp_clone.layers.transformer_decoder import TransformerDecoder
from keras_nlp_clone.layers.transformer_encoder import TransformerEncoder

__all__ = [
    "AlibiBias",
    "CachedMultiHeadAttention",
    "FNetEncoder",
    "MaskedLMHead",
    "MaskedLMMaskGenerator",
    "MultiSegmentPacker",
    "PositionEmbedding",
    "RandomDeletion",
    "RandomSwap",
    "ReversibleEmbedding",
    "RotaryEmbedding",
    "SinePositionEncoding",
    "StartEndPacker",
    "TokenAndPositionEmbedding",
    "TransformerDecoder",
    "TransformerEncoder",
]
