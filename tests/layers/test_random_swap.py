from collections import Counter

import keras
import numpy as np
import pytest

from keras_nlp_clone.layers.random_swap import RandomSwap
from keras_nlp_clone.utils.lazy_module import tf
from tests.test_case import TestCase

WORDS = [
    ["the", "quick", "brown", "fox", "jumps"],
    ["over", "the", "lazy", "dog"],
    ["a"],
    [],
    ["keras", "runs", "on", "jax", "tensorflow", "and", "torch"],
]


def numpy_swap(rows, rng, rate, max_swaps=None, skip=()):
    """The documented rule, row by row, with the layer's random draws for
    the stateless seed `rng`: `k = min(#candidates drawing below rate,
    max_swaps)` swaps, round `i` exchanging candidates `a_i, b_i`."""
    seed = tf.constant(rng, tf.int64)
    size = sum(len(row) for row in rows)
    u = tf.random.stateless_uniform(
        [size], seed=tf.random.experimental.stateless_fold_in(seed, 0)
    ).numpy()
    counts, offset = [], 0
    for row in rows:
        draws = u[offset : offset + len(row)]
        offset += len(row)
        k = sum(1 for t, d in zip(row, draws) if t not in skip and d < rate)
        counts.append(k if max_swaps is None else min(k, max_swaps))
    rounds = [
        tf.random.stateless_uniform(
            [len(rows), 2],
            seed=tf.random.experimental.stateless_fold_in(
                seed, tf.constant(i + 1, tf.int64)
            ),
            minval=None,
            maxval=None,
            dtype=tf.int64,
        ).numpy()
        for i in range(max(counts, default=0))
    ]
    outputs = []
    for r, row in enumerate(rows):
        row = list(row)
        candidates = [i for i, t in enumerate(row) if t not in skip]
        for i in range(counts[r]):
            a, b = (candidates[int(d) % len(candidates)] for d in rounds[i][r])
            row[a], row[b] = row[b], row[a]
        outputs.append(row)
    return outputs


def simulate_changed_positions(n, rate, max_swaps, rows, seed):
    """Mean number of positions that change, for KerasNLP's swap process
    (Binomial count, capped; pairs drawn with replacement), in NumPy."""
    rng = np.random.default_rng(seed)
    changed = []
    for _ in range(rows):
        k = rng.binomial(n, rate)
        if max_swaps is not None:
            k = min(k, max_swaps)
        row = np.arange(n)
        for _ in range(k):
            a, b = rng.integers(0, n, size=2)
            row[a], row[b] = row[b], row[a]
        changed.append(np.sum(row != np.arange(n)))
    return np.mean(changed)


class TestRandomSwap(TestCase):
    def test_preprocessing_layer_ragged_strings(self):
        self.run_preprocessing_layer_test(
            cls=RandomSwap,
            init_kwargs={"rate": 0.5, "seed": 3},
            input_data=WORDS,
            expected_output=numpy_swap(WORDS, [1, 2], 0.5),
            call_kwargs={"rng": [1, 2]},
        )

    def test_preprocessing_layer_dense_ids(self):
        ids = np.arange(1, 25, dtype="int32").reshape(4, 6)
        expected = numpy_swap(ids.tolist(), [5, 6], 0.7, max_swaps=2)
        output = self.run_preprocessing_layer_test(
            cls=RandomSwap,
            init_kwargs={"rate": 0.7, "max_swaps": 2, "seed": 3},
            input_data=ids,
            expected_output=expected,
            call_kwargs={"rng": [5, 6]},
        )
        # Dense in, dense out, the inputs' dtype.
        assert tuple(output.shape) == (4, 6)
        assert keras.backend.standardize_dtype(output.dtype) == "int32"
        assert expected != ids.tolist()

    def test_exact_against_numpy_rule_with_skips_and_cap(self):
        rows = [list(range(1, 31)), list(range(31, 41)), [0, 0, 0], []]
        layer = RandomSwap(rate=0.6, max_swaps=4, skip_list=[0, 5, 33])
        rng = [11, 12]
        expected = numpy_swap(rows, rng, 0.6, 4, skip={0, 5, 33})
        assert layer(rows, rng=rng) == expected
        uncapped = RandomSwap(rate=0.6, skip_list=[0, 5, 33])
        assert uncapped(rows, rng=rng) == numpy_swap(
            rows, rng, 0.6, skip={0, 5, 33}
        )

    def test_unbatched(self):
        layer = RandomSwap(rate=1.0, skip_list=["b"], seed=1)
        out = layer(["a", "b", "c", "d"])
        assert out[1] == "b" and sorted(out) == ["a", "b", "c", "d"]
        ids = RandomSwap(rate=0.0, seed=1)(np.array([4, 5, 6]))
        assert keras.ops.convert_to_numpy(ids).tolist() == [4, 5, 6]

    def test_properties_on_real_text(self):
        from tests.real_data import news_texts

        rows = [text.split()[:40] for text in news_texts()[:200]]
        skip = ["the", "a", "."]
        layer = RandomSwap(rate=0.4, max_swaps=3, skip_list=skip, seed=9)
        outputs = layer(rows)
        for row, out in zip(rows, outputs):
            assert Counter(out) == Counter(row)  # Same multiset.
            for i, token in enumerate(row):
                if token in skip:
                    assert out[i] == token  # Skipped tokens never move.
            # At most 3 swaps change at most 6 positions.
            assert sum(a != b for a, b in zip(row, out)) <= 6
        assert outputs != rows
        assert RandomSwap(rate=0.0, seed=9)(rows) == rows
        assert RandomSwap(rate=1.0, max_swaps=0)(rows) == rows

    def test_swap_statistics(self):
        n, rows = 10, 2000
        ids = np.tile(np.arange(n, dtype="int32"), (rows, 1))
        # One swap at most: a row changes in exactly 0 or 2 positions; it
        # changes when at least one of 10 candidates draws below 0.3 and the
        # two drawn positions differ: (1 - 0.7**10) * (1 - 1/10) = 0.8746.
        # Over 2000 rows the fraction's std is 0.0074; tolerance 0.03.
        out = keras.ops.convert_to_numpy(
            RandomSwap(rate=0.3, max_swaps=1, seed=4)(ids)
        )
        changed = np.sum(out != ids, axis=1)
        assert set(changed.tolist()) <= {0, 2}
        expected = (1 - 0.7**n) * (1 - 1 / n)
        assert abs(np.mean(changed == 2) - expected) < 0.03

        # Uncapped at rate 0.2 (2 swaps a row on average): the mean number
        # of changed positions matches a NumPy simulation of the process
        # (per-row std about 1.4: std of the difference about 0.035;
        # tolerance 0.2).
        out = keras.ops.convert_to_numpy(RandomSwap(rate=0.2, seed=5)(ids))
        ours = np.mean(np.sum(out != ids, axis=1))
        simulated = simulate_changed_positions(n, 0.2, None, 20000, seed=0)
        assert abs(ours - simulated) < 0.2
        assert np.all(np.sort(out, axis=1) == ids)

    def test_seeded_runs_repeat(self):
        ids = np.tile(np.arange(1, 11, dtype="int32"), (4, 1))

        def run(layer):
            return keras.ops.convert_to_numpy(layer(ids)).tolist()

        first, second = RandomSwap(0.5, seed=7), RandomSwap(0.5, seed=7)
        runs_a = [run(first), run(first)]
        assert runs_a == [run(second), run(second)]
        assert runs_a[0] != runs_a[1]  # Each call draws anew.
        assert run(RandomSwap(0.5, seed=8)) != runs_a[0]
        # An `np.random.Generator` or an int as `rng` repeats too.
        for rng_a, rng_b in (
            (np.random.default_rng(0), np.random.default_rng(0)),
            (4, 4),
        ):
            out_a = keras.ops.convert_to_numpy(first(ids, rng=rng_a))
            out_b = keras.ops.convert_to_numpy(second(ids, rng=rng_b))
            assert out_a.tolist() == out_b.tolist() != ids.tolist()
        keras.utils.set_random_seed(3)
        seed_a = RandomSwap(0.5).seed
        keras.utils.set_random_seed(3)
        assert RandomSwap(0.5).seed == seed_a

    def test_skip_fn_and_skip_py_fn(self):
        rows = [["He", "was", "drifting", "along"], ["With", "the", "wind"]]
        by_py = RandomSwap(1.0, skip_py_fn=lambda w: len(w) > 3, seed=1)
        out = by_py(rows)
        assert out[0][2:] == ["drifting", "along"]
        assert out[1][0] == "With" and out[1][2] == "wind"
        by_tf = RandomSwap(
            1.0,
            skip_fn=lambda w: tf.strings.regex_full_match(w, r"[Ww].*"),
            seed=1,
        )
        out = by_tf(rows)
        assert out[0][1] == "was" and out[1] == ["With", "the", "wind"]
        for row, swapped in zip(rows, out):
            assert sorted(row) == sorted(swapped)

    def test_in_tf_data(self):
        layer = RandomSwap(rate=0.8, skip_list=["the"], seed=2)
        ds = tf.data.Dataset.from_tensor_slices(tf.ragged.constant(WORDS))
        outputs = next(iter(ds.batch(5).map(layer)))
        assert isinstance(outputs, tf.RaggedTensor)
        for row, out in zip(WORDS, outputs.to_list()):
            out = [t.decode() for t in out]
            assert Counter(out) == Counter(row)
            assert [t == "the" for t in out] == [t == "the" for t in row]

        def augment(index, tokens):
            return layer(tokens, rng=tf.stack([index, index]))

        seeded = ds.enumerate().map(augment)
        first = [t.numpy().tolist() for t in seeded]
        assert first == [t.numpy().tolist() for t in seeded]

    def test_config(self):
        layer = RandomSwap(
            rate=0.3, max_swaps=2, skip_list=["[CLS]"], seed=5, name="s"
        )
        config = layer.get_config()
        for key, value in {
            "rate": 0.3,
            "max_swaps": 2,
            "skip_list": ["[CLS]"],
            "skip_fn": None,
            "skip_py_fn": None,
            "seed": 5,
            "name": "s",
        }.items():
            assert config[key] == value
        revived = RandomSwap.from_config(config)
        assert revived.get_config() == config
        assert revived(WORDS) == layer(WORDS)
        restored = keras.saving.deserialize_keras_object(
            keras.saving.serialize_keras_object(RandomSwap(0.3, seed=5))
        )
        assert type(restored) is RandomSwap
        assert restored(WORDS) == RandomSwap(0.3, seed=5)(WORDS)

    @pytest.mark.parametrize(
        "kwargs, match",
        [
            ({"rate": 1.5}, "rate=1.5"),
            ({"rate": -0.1}, "rate=-0.1"),
            ({"rate": None}, "rate=None"),
            ({"rate": 0.5, "max_swaps": -1}, "max_swaps=-1"),
            ({"rate": 0.5, "max_swaps": 2.5}, "max_swaps=2.5"),
            (
                {"rate": 0.5, "skip_list": ["a"], "skip_py_fn": len},
                "at most one of",
            ),
            ({"rate": 0.5, "skip_fn": "len"}, "skip_fn"),
            ({"rate": 0.5, "dtype": "float32"}, "dtype='float32'"),
        ],
    )
    def test_invalid_arguments(self, kwargs, match):
        with pytest.raises(ValueError, match=match):
            RandomSwap(**kwargs)

    def test_invalid_inputs(self):
        with pytest.raises(ValueError, match="same type as the tokens"):
            RandomSwap(0.5, skip_list=[1])([["a", "b"]])
        with pytest.raises(ValueError, match="float32"):
            RandomSwap(0.5)(np.array([[1.0, 2.0]], "float32"))
