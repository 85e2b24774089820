import doctest

import keras
import pytest

import keras_nlp_clone
import keras_nlp_clone.metrics as metrics
from keras_nlp_clone.api_export import get_registered_class
from tests.test_case import TestCase
from tests.test_case import assert_runs_without_tensorflow

PUBLIC = ["Bleu", "EditDistance", "Perplexity", "RougeL", "RougeN"]


class TestMetricsApi(TestCase):
    def test_exports(self):
        assert keras_nlp_clone.metrics is metrics
        assert sorted(metrics.__all__) == PUBLIC
        for name in PUBLIC:
            cls = getattr(metrics, name)
            assert cls.__doc__ and "Examples:" in cls.__doc__
            assert get_registered_class(name) is cls
            assert get_registered_class(f"keras_nlp>{name}") is cls
            assert issubclass(cls, keras.metrics.Metric)

    def test_docstring_examples_run(self):
        for name in PUBLIC:
            cls = getattr(metrics, name)
            finder = doctest.DocTestFinder(recurse=False)
            runner = doctest.DocTestRunner(
                optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
            )
            for test in finder.find(cls, name, globs={}):
                runner.run(test)
            result = runner.summarize(verbose=False)
            assert result.attempted > 0, name
            assert result.failed == 0, name

    # The subprocess sets its own backend: one run per suite is enough.
    @pytest.mark.skipif(
        keras.backend.backend() != "jax", reason="runs once, under JAX"
    )
    def test_import_does_not_import_tensorflow_under_jax(self):
        assert_runs_without_tensorflow(
            "import sys; import numpy as np; "
            "import keras_nlp_clone.metrics as m; "
            "m.Perplexity(from_logits=True)(np.zeros((1, 2), 'int32'), "
            "np.zeros((1, 2, 3), 'float32')); "
            "m.Bleu()(['a b c'], ['a b d']); m.RougeN()('a b', 'a b'); "
            "m.RougeL()(['a b'], ['b a']); "
            "m.EditDistance()([['a']], [['b']]); "
        )
