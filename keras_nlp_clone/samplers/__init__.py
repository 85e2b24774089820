"""Samplers: the decoding loop of text generation (greedy, top-k, top-p,
random, beam and contrastive search), and `get`/`serialize`/`deserialize`."""

from keras_nlp_clone.samplers.beam_sampler import BeamSampler
from keras_nlp_clone.samplers.contrastive_sampler import ContrastiveSampler
from keras_nlp_clone.samplers.greedy_sampler import GreedySampler
from keras_nlp_clone.samplers.random_sampler import RandomSampler
from keras_nlp_clone.samplers.sampler import Sampler
from keras_nlp_clone.samplers.serialization import deserialize
from keras_nlp_clone.samplers.serialization import get
from keras_nlp_clone.samplers.serialization import serialize
from keras_nlp_clone.samplers.speculative_sampler import SpeculativeSampler
from keras_nlp_clone.samplers.top_k_sampler import TopKSampler
from keras_nlp_clone.samplers.top_p_sampler import TopPSampler

__all__ = [
    "BeamSampler",
    "ContrastiveSampler",
    "GreedySampler",
    "RandomSampler",
    "Sampler",
    "SpeculativeSampler",
    "TopKSampler",
    "TopPSampler",
    "deserialize",
    "get",
    "serialize",
]
