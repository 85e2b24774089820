import math

import keras
import numpy as np
import pytest

from keras_nlp_clone.layers.random_deletion import RandomDeletion
from keras_nlp_clone.utils.lazy_module import tf
from tests.test_case import TestCase

WORDS = [
    ["the", "quick", "brown", "fox", "jumps"],
    ["over", "the", "lazy", "dog"],
    ["a"],
    [],
    ["keras", "runs", "on", "jax", "tensorflow", "and", "torch"],
]


def uniform_draws(rng, size):
    """The layer's per-token draws for the stateless seed `rng`."""
    seed = tf.constant(rng, tf.int64)
    return tf.random.stateless_uniform(
        [size], seed=tf.random.experimental.stateless_fold_in(seed, 0)
    ).numpy()


def numpy_deletion(rows, draws, rate, max_deletions=None, skip=()):
    """The documented rule, row by row: delete the candidates that drew
    below `rate`, keeping only the `max_deletions` smallest draws."""
    outputs, offset = [], 0
    for row in rows:
        u = draws[offset : offset + len(row)]
        offset += len(row)
        picked = [
            i for i, t in enumerate(row) if t not in skip and u[i] < rate
        ]
        picked = sorted(picked, key=lambda i: (u[i], i))
        if max_deletions is not None:
            picked = picked[:max_deletions]
        outputs.append([t for i, t in enumerate(row) if i not in picked])
    return outputs


def is_subsequence(short, long):
    it = iter(long)
    return all(token in it for token in short)


class TestRandomDeletion(TestCase):
    def test_preprocessing_layer_ragged_strings(self):
        self.run_preprocessing_layer_test(
            cls=RandomDeletion,
            init_kwargs={"rate": 0.5, "seed": 3},
            input_data=WORDS,
            expected_output=numpy_deletion(
                WORDS, uniform_draws([1, 2], 17), 0.5
            ),
            call_kwargs={"rng": [1, 2]},
        )

    def test_preprocessing_layer_dense_ids(self):
        ids = np.arange(1, 25, dtype="int32").reshape(4, 6)
        expected = numpy_deletion(
            ids.tolist(), uniform_draws([5, 6], 24), 0.7, max_deletions=2
        )
        output = self.run_preprocessing_layer_test(
            cls=RandomDeletion,
            init_kwargs={"rate": 0.7, "max_deletions": 2, "seed": 3},
            input_data=ids,
            expected_output=expected,
            call_kwargs={"rng": [5, 6]},
        )
        assert [len(row) for row in output] != [6] * 4

    def test_exact_against_numpy_rule_with_skips_and_cap(self):
        rows = [list(range(1, 31)), list(range(31, 41)), [0, 0, 0]]
        layer = RandomDeletion(
            rate=0.6, max_deletions=4, skip_list=[0, 5, 33], seed=1
        )
        rng = [11, 12]
        expected = numpy_deletion(
            rows, uniform_draws(rng, 43), 0.6, 4, skip={0, 5, 33}
        )
        assert layer(rows, rng=rng) == expected
        assert layer(rows, rng=rng) == expected  # An explicit rng repeats.

    def test_unbatched(self):
        layer = RandomDeletion(rate=1.0, skip_list=["b"], seed=1)
        assert layer(["a", "b", "c"]) == ["b"]
        ids = RandomDeletion(rate=0.0, seed=1)(np.array([4, 5, 6]))
        assert tuple(ids.shape) == (3,)
        assert keras.ops.convert_to_numpy(ids).tolist() == [4, 5, 6]

    def test_properties_on_real_text(self):
        from tests.real_data import news_texts

        rows = [text.split()[:40] for text in news_texts()[:200]]
        layer = RandomDeletion(
            rate=0.4, max_deletions=5, skip_list=["the", "a"], seed=9
        )
        outputs = layer(rows)
        for row, out in zip(rows, outputs):
            assert is_subsequence(out, row)
            assert len(row) - len(out) <= 5
            # Skipped tokens are all still there.
            for token in ("the", "a"):
                assert out.count(token) == row.count(token)
        assert RandomDeletion(rate=0.0, seed=9)(rows) == rows
        assert RandomDeletion(rate=1.0, max_deletions=0)(rows) == rows

    def test_deletion_statistics(self):
        # 2000 rows of 20 distinct ids at rate 0.3: deletions per row are
        # Binomial(20, 0.3), mean 6, std 2.05, so the mean over the rows
        # has std 0.046; tolerance 0.2 (over 4 std).
        n, rows, rate = 20, 2000, 0.3
        ids = np.tile(np.arange(1, n + 1, dtype="int32"), (rows, 1))
        outputs = RandomDeletion(rate=rate, seed=4)(ids)
        deletions = np.array([n - len(row) for row in outputs])
        assert abs(deletions.mean() - rate * n) < 0.2
        # Every position is deleted with probability 0.3 (std 0.01).
        kept = np.zeros(n)
        for row in outputs:
            kept[np.array(row, dtype=int) - 1] += 1
        assert np.all(np.abs(1 - kept / rows - rate) < 0.05)

        # Capped at 3: the mean is E[min(Binomial(20, 0.3), 3)] = 2.95...
        pmf = [
            math.comb(n, k) * rate**k * (1 - rate) ** (n - k)
            for k in range(n + 1)
        ]
        expected = sum(min(k, 3) * p for k, p in enumerate(pmf))
        outputs = RandomDeletion(rate=rate, max_deletions=3, seed=5)(ids)
        deletions = np.array([n - len(row) for row in outputs])
        assert deletions.max() == 3
        assert abs(deletions.mean() - expected) < 0.05

    def test_seeded_runs_repeat(self):
        ids = np.tile(np.arange(1, 11, dtype="int32"), (4, 1))
        first, second = RandomDeletion(0.5, seed=7), RandomDeletion(0.5, seed=7)
        runs_a = [first(ids), first(ids)]
        runs_b = [second(ids), second(ids)]
        assert runs_a == runs_b
        assert runs_a[0] != runs_a[1]  # Each call draws anew.
        assert RandomDeletion(0.5, seed=8)(ids) != runs_a[0]
        # An `np.random.Generator` or an int as `rng` repeats too.
        assert first(ids, rng=np.random.default_rng(0)) == second(
            ids, rng=np.random.default_rng(0)
        )
        assert first(ids, rng=4) == second(ids, rng=4) != first(ids, rng=5)
        # Unseeded layers draw their seed from Python's `random`.
        keras.utils.set_random_seed(3)
        seed_a = RandomDeletion(0.5).seed
        keras.utils.set_random_seed(3)
        assert RandomDeletion(0.5).seed == seed_a

    def test_skip_fn_and_skip_py_fn(self):
        rows = [["He", "was", "drifting", "along"], ["With", "the", "wind"]]
        by_py = RandomDeletion(1.0, skip_py_fn=lambda w: len(w) > 3)
        assert by_py(rows) == [["drifting", "along"], ["With", "wind"]]
        by_tf = RandomDeletion(
            1.0,
            skip_fn=lambda w: tf.strings.regex_full_match(w, r"[Ww].*"),
        )
        assert by_tf(rows) == [["was"], ["With", "wind"]]
        by_id = RandomDeletion(1.0, skip_py_fn=lambda t: t % 2 == 0)
        assert by_id([[1, 2, 3, 4]]) == [[2, 4]]

    def test_in_tf_data(self):
        layer = RandomDeletion(rate=0.5, skip_list=["the"], seed=2)
        ds = tf.data.Dataset.from_tensor_slices(tf.ragged.constant(WORDS))
        batched = ds.batch(5).map(layer)
        outputs = next(iter(batched))
        assert isinstance(outputs, tf.RaggedTensor)
        for row, out in zip(WORDS, outputs.to_list()):
            out = [t.decode() for t in out]
            assert is_subsequence(out, row)
            assert out.count("the") == row.count("the")

        # A per-element stateless seed makes the pipeline repeat exactly.
        def augment(index, tokens):
            return layer(tokens, rng=tf.stack([index, index]))

        seeded = ds.enumerate().map(augment)
        first = [t.numpy().tolist() for t in seeded]
        assert first == [t.numpy().tolist() for t in seeded]

    def test_config(self):
        layer = RandomDeletion(
            rate=0.3, max_deletions=2, skip_list=["[CLS]"], seed=5, name="d"
        )
        config = layer.get_config()
        for key, value in {
            "rate": 0.3,
            "max_deletions": 2,
            "skip_list": ["[CLS]"],
            "skip_fn": None,
            "skip_py_fn": None,
            "seed": 5,
            "name": "d",
        }.items():
            assert config[key] == value
        revived = RandomDeletion.from_config(config)
        assert revived.get_config() == config
        assert revived(WORDS) == layer(WORDS)
        restored = keras.saving.deserialize_keras_object(
            keras.saving.serialize_keras_object(RandomDeletion(0.3, seed=5))
        )
        assert type(restored) is RandomDeletion
        assert restored(WORDS) == RandomDeletion(0.3, seed=5)(WORDS)

    @pytest.mark.parametrize(
        "kwargs, match",
        [
            ({"rate": 1.5}, "rate=1.5"),
            ({"rate": -0.1}, "rate=-0.1"),
            ({"rate": "0.5"}, "rate='0.5'"),
            ({"rate": 0.5, "max_deletions": -1}, "max_deletions=-1"),
            ({"rate": 0.5, "max_deletions": 2.5}, "max_deletions=2.5"),
            (
                {"rate": 0.5, "skip_list": ["a"], "skip_fn": len},
                "at most one of",
            ),
            ({"rate": 0.5, "skip_list": ["a", 1]}, "only strings"),
            ({"rate": 0.5, "skip_list": "abc"}, "list of tokens"),
            ({"rate": 0.5, "seed": 1.5}, "seed=1.5"),
            ({"rate": 0.5, "dtype": "float32"}, "dtype='float32'"),
        ],
    )
    def test_invalid_arguments(self, kwargs, match):
        with pytest.raises(ValueError, match=match):
            RandomDeletion(**kwargs)

    def test_invalid_inputs(self):
        with pytest.raises(ValueError, match="same type as the tokens"):
            RandomDeletion(0.5, skip_list=["a"])(np.array([[1, 2]]))
        with pytest.raises(ValueError, match="float32"):
            RandomDeletion(0.5)(np.array([[1.0, 2.0]], "float32"))
        with pytest.raises(ValueError, match="rank 3"):
            RandomDeletion(0.5)(np.zeros((1, 2, 3), "int32"))
        with pytest.raises(ValueError, match="shape `\\(2,\\)`"):
            RandomDeletion(0.5)([[1, 2]], rng=[1, 2, 3])
