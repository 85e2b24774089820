
import keras
import pytest

import keras_nlp_clone
import keras_nlp_clone.samplers as samplers
from keras_nlp_clone.api_export import get_registered_class
from tests.test_case import TestCase
from tests.test_case import assert_runs_without_tensorflow

PUBLIC = [
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


class TestSamplersApi(TestCase):
    def test_exports(self):
        assert keras_nlp_clone.samplers is samplers
        assert sorted(samplers.__all__) == PUBLIC
        for name in PUBLIC:
            obj = getattr(samplers, name)
            assert obj.__doc__ and "Examples:" in obj.__doc__
            if isinstance(obj, type):
                assert get_registered_class(name) is obj
                assert issubclass(obj, samplers.Sampler)

    # The subprocess sets its own backend: one run per suite is enough.
    @pytest.mark.skipif(
        keras.backend.backend() != "jax", reason="runs once, under JAX"
    )
    def test_import_does_not_import_tensorflow_under_jax(self):
        assert_runs_without_tensorflow(
            "import sys; import keras_nlp_clone.samplers as s; "
            "import numpy as np; "
            "s.get('greedy')(lambda p, c, i: (np.ones((1, 4), 'float32'), "
            "None, c), np.zeros((1, 3), 'int32')); "
        )
