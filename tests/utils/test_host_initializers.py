import keras
import numpy as np
import pytest

from keras_nlp_clone.utils.host_initializers import HostRandomNormal
from keras_nlp_clone.utils.host_initializers import HostTruncatedNormal
from tests.test_case import TestCase

ON_JAX = keras.backend.backend() == "jax"

CASES = [
    (HostRandomNormal, keras.initializers.RandomNormal, {"stddev": 0.02}),
    (HostTruncatedNormal, keras.initializers.TruncatedNormal, {"stddev": 0.02}),
]
IDS = ["random_normal", "truncated_normal"]


def _values(initializer, shape, dtype="float32"):
    return np.asarray(
        keras.ops.convert_to_numpy(initializer(shape, dtype=dtype)),
        dtype="float64",
    )


class TestHostInitializers(TestCase):
    @pytest.mark.parametrize(
        "initializer,mean,std,low,high",
        [
            (HostRandomNormal(stddev=0.02, seed=3), 0.0, 0.02, None, None),
            # Truncated at two sigma, the standard deviation is 0.8796 sigma.
            (HostTruncatedNormal(stddev=0.02, seed=3), 0.0, 0.8796 * 0.02, -0.04, 0.04),
        ],
        ids=IDS,
    )
    def test_distribution(self, initializer, mean, std, low, high):
        values = _values(initializer, (300, 4, 50))
        assert values.shape == (300, 4, 50)
        np.testing.assert_allclose(values.mean(), mean, atol=std * 0.02)
        np.testing.assert_allclose(values.std(), std, rtol=0.02)
        if low is not None:
            assert values.min() >= low and values.max() <= high
            assert values.min() < 0.98 * low and values.max() > 0.98 * high

    def test_truncated_normal_stays_within_two_stddev(self):
        values = _values(HostTruncatedNormal(stddev=0.5, mean=1.0, seed=0), (10_000,))
        assert values.min() >= 0.0 and values.max() <= 2.0
        # Truncated at 2 sigma, the standard deviation is 0.88 sigma.
        np.testing.assert_allclose(values.std(), 0.5 * 0.8796, rtol=0.03)

    @pytest.mark.parametrize("host_cls,keras_cls,kwargs", CASES, ids=IDS)
    def test_seeded_draws_repeat_and_seeds_differ(self, host_cls, keras_cls, kwargs):
        a = _values(host_cls(seed=7, **kwargs), (5, 6))
        b = _values(host_cls(seed=7, **kwargs), (5, 6))
        c = _values(host_cls(seed=8, **kwargs), (5, 6))
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)

    def test_seed_generator_advances(self):
        initializer = HostRandomNormal(seed=keras.random.SeedGenerator(1))
        a = _values(initializer, (4,))
        b = _values(initializer, (4,))
        assert not np.array_equal(a, b)

    def test_set_random_seed_makes_unseeded_initializers_reproducible(self):
        keras.utils.set_random_seed(11)
        a = _values(HostTruncatedNormal(), (3, 3))
        keras.utils.set_random_seed(11)
        b = _values(HostTruncatedNormal(), (3, 3))
        np.testing.assert_array_equal(a, b)

    @pytest.mark.parametrize("dtype", ["bfloat16", "float16", "float32"])
    def test_dtype(self, dtype):
        variable = keras.Variable(
            initializer=HostTruncatedNormal(seed=1), shape=(4, 4), dtype=dtype
        )
        assert keras.backend.standardize_dtype(variable.dtype) == dtype
        assert (
            keras.backend.standardize_dtype(variable.value.dtype) == dtype
        )

    @pytest.mark.parametrize("host_cls,keras_cls,kwargs", CASES, ids=IDS)
    def test_serialization_round_trip(self, host_cls, keras_cls, kwargs):
        initializer = host_cls(seed=5, **kwargs)
        restored = keras.initializers.deserialize(
            keras.initializers.serialize(initializer)
        )
        assert type(restored) is host_cls
        assert restored.get_config() == initializer.get_config()

    @pytest.mark.skipif(ON_JAX, reason="JAX draws on the host instead.")
    @pytest.mark.parametrize("host_cls,keras_cls,kwargs", CASES, ids=IDS)
    def test_other_backends_draw_exactly_as_keras(self, host_cls, keras_cls, kwargs):
        np.testing.assert_array_equal(
            _values(host_cls(seed=4, **kwargs), (6, 7)),
            _values(keras_cls(seed=4, **kwargs), (6, 7)),
        )

    @pytest.mark.skipif(not ON_JAX, reason="JAX only: compilation per shape.")
    def test_no_compilation_per_weight_shape_on_jax(self):
        import jax

        compiles = []

        def listener(event, duration, **kwargs):
            if "backend_compile" in event:
                compiles.append(event)

        jax.monitoring.register_event_duration_secs_listener(listener)
        try:
            for initializer in (
                HostRandomNormal(seed=1),
                HostTruncatedNormal(seed=1),
            ):
                initializer((37, 3, 41))
            draws_with_host = len(compiles)
            keras.initializers.TruncatedNormal(seed=1)((37, 3, 43))
        finally:
            jax.monitoring.unregister_event_duration_listener(listener)
        assert draws_with_host == 0
        # The negative control: Keras' own class compiles for a new shape.
        assert len(compiles) > draws_with_host

    @pytest.mark.skipif(not ON_JAX, reason="Distributions are JAX-only.")
    def test_defers_to_keras_under_a_distribution(self):
        distribution = keras.distribution.DataParallel(
            devices=keras.distribution.list_devices()[:1]
        )
        with distribution.scope():
            ours = _values(HostTruncatedNormal(stddev=0.02, seed=9), (8, 8))
        theirs = _values(keras.initializers.TruncatedNormal(stddev=0.02, seed=9), (8, 8))
        np.testing.assert_array_equal(ours, theirs)
