
import keras
import pytest

import keras_nlp_clone.layers as layers
from keras_nlp_clone.api_export import get_registered_class
from tests.test_case import TestCase
from tests.test_case import assert_runs_without_tensorflow

PUBLIC = [
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


class TestLayersApi(TestCase):
    def test_exports(self):
        assert sorted(layers.__all__) == PUBLIC
        assert not hasattr(layers, "PreprocessingLayer")
        for name in PUBLIC:
            cls = getattr(layers, name)
            assert get_registered_class(name) is cls
            assert cls.__doc__ and "Examples:" in cls.__doc__

    # The subprocess sets its own backend: one run per suite is enough.
    @pytest.mark.skipif(
        keras.backend.backend() != "jax", reason="runs once, under JAX"
    )
    def test_import_does_not_import_tensorflow_under_jax(self):
        assert_runs_without_tensorflow(
            "import sys; import keras_nlp_clone.layers; "
        )
