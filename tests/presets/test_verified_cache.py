"""The verified-file cache of preset integrity checks: a file hashed and
matched once is not hashed again while its stat signature is unchanged,
and a file modified, truncated or swapped after a verified load is still
refused on the next load."""

import json
import os
import shutil
import time

import keras
import numpy as np
import pytest

from keras_nlp_clone.models import BertBackbone
from keras_nlp_clone.models import BertTokenizer
from keras_nlp_clone.presets import integrity
from keras_nlp_clone.presets.errors import PresetError
from tests.presets.preset_fixtures import TINY_BERT
from tests.presets.preset_fixtures import VOCAB
from tests.test_case import TestCase

# Long enough for the file system's timestamp tick (a few ms on Linux).
RACY_WINDOW_S = 0.05


@pytest.fixture(scope="module")
def source_preset(tmp_path_factory):
    directory = tmp_path_factory.mktemp("verified") / "preset"
    keras.utils.set_random_seed(3)
    BertBackbone(**TINY_BERT).save_to_preset(str(directory))
    BertTokenizer(vocabulary=VOCAB).save_to_preset(str(directory))
    return directory


@pytest.fixture
def preset(source_preset, tmp_path, monkeypatch):
    """A fresh copy of the preset, older than the racy window, and a cache
    file of this test's own."""
    directory = tmp_path / "preset"
    shutil.copytree(source_preset, directory)
    monkeypatch.setenv(integrity.VERIFIED_CACHE_ENV, str(tmp_path / "verified.json"))
    monkeypatch.setattr(integrity, "RACY_WINDOW_S", RACY_WINDOW_S)
    time.sleep(2 * RACY_WINDOW_S)
    return directory


@pytest.fixture
def hashed(monkeypatch):
    """The file names hashed, in order."""
    names = []
    real = integrity.sha256_of_file

    def counting(path):
        names.append(os.path.basename(path))
        return real(path)

    monkeypatch.setattr(integrity, "sha256_of_file", counting)
    return names


def recorded_sha256(directory, relpath):
    with open(os.path.join(directory, "metadata.json"), encoding="utf-8") as f:
        return json.load(f)["files"][relpath]["sha256"]


def flip_a_byte(path, offset=-100):
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x10
    path.write_bytes(bytes(data))


class TestVerifiedCache(TestCase):
    def test_second_load_hashes_nothing(self, preset, hashed, tmp_path):
        first = BertBackbone.from_preset(str(preset))
        assert sorted(hashed) == ["config.json", "model.weights.h5"]
        with open(tmp_path / "verified.json", encoding="utf-8") as f:
            cache = json.load(f)
        assert cache["format"] == integrity.VERIFIED_CACHE_FORMAT
        entry = cache["files"][os.path.realpath(preset / "model.weights.h5")]
        assert entry["sha256"] == recorded_sha256(preset, "model.weights.h5")
        assert entry["stat"] == integrity.stat_signature(preset / "model.weights.h5")

        del hashed[:]
        second = BertBackbone.from_preset(str(preset))
        assert hashed == []
        for a, b in zip(first.weights, second.weights):
            np.testing.assert_array_equal(
                keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b)
            )

    def test_modified_after_a_verified_load_is_refused(self, preset, hashed):
        BertBackbone.from_preset(str(preset))
        flip_a_byte(preset / "model.weights.h5")  # same size
        with pytest.raises(PresetError, match=r"model\.weights\.h5` has other contents"):
            BertBackbone.from_preset(str(preset))
        assert hashed.count("model.weights.h5") == 2

    def test_modified_with_its_mtime_restored_is_refused(self, preset):
        BertBackbone.from_preset(str(preset))
        path = preset / "model.weights.h5"
        before = os.stat(path)
        flip_a_byte(path)
        # mtime can be set back; ctime cannot, and it is in the signature.
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
        assert os.stat(path).st_mtime_ns == before.st_mtime_ns
        with pytest.raises(PresetError, match=r"model\.weights\.h5` has other contents"):
            BertBackbone.from_preset(str(preset))

    def test_truncated_after_a_verified_load_is_refused(self, preset):
        BertBackbone.from_preset(str(preset))
        path = preset / "model.weights.h5"
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
        with pytest.raises(PresetError, match=r"model\.weights\.h5` has \d+ bytes instead"):
            BertBackbone.from_preset(str(preset))

    def test_swapped_after_a_verified_load_is_refused(self, preset, tmp_path):
        BertBackbone.from_preset(str(preset))
        # Another file of the same size, moved into place.
        other = tmp_path / "other.h5"
        shutil.copy(preset / "model.weights.h5", other)
        flip_a_byte(other)
        os.replace(other, preset / "model.weights.h5")
        with pytest.raises(PresetError, match=r"model\.weights\.h5` has other contents"):
            BertBackbone.from_preset(str(preset))

    def test_changed_vocabulary_after_a_verified_load_is_refused(self, preset):
        BertTokenizer.from_preset(str(preset))
        path = preset / "assets" / "tokenizer" / "vocabulary.txt"
        path.write_text(path.read_text().replace("a\n", "z\n"))
        with pytest.raises(PresetError, match=r"vocabulary\.txt` has other contents"):
            BertTokenizer.from_preset(str(preset))

    def test_recently_changed_files_are_not_remembered(self, preset, hashed, monkeypatch):
        # A file changed within the racy window could change again in the
        # same timestamp tick unseen: it is hashed on every load.
        monkeypatch.setattr(integrity, "RACY_WINDOW_S", 3600.0)
        BertBackbone.from_preset(str(preset))
        BertBackbone.from_preset(str(preset))
        assert hashed.count("model.weights.h5") == 2

    def test_cache_can_be_turned_off(self, preset, hashed, monkeypatch, tmp_path):
        monkeypatch.setenv(integrity.VERIFIED_CACHE_ENV, "off")
        assert integrity.verified_cache_path() is None
        BertBackbone.from_preset(str(preset))
        BertBackbone.from_preset(str(preset))
        assert hashed.count("model.weights.h5") == 2
        assert not (tmp_path / "verified.json").exists()

    def test_damaged_cache_is_an_empty_one(self, preset, hashed, tmp_path):
        (tmp_path / "verified.json").write_text('{"files": ')
        BertBackbone.from_preset(str(preset))
        assert hashed.count("model.weights.h5") == 1
        # Rewritten whole.
        with open(tmp_path / "verified.json", encoding="utf-8") as f:
            assert json.load(f)["format"] == integrity.VERIFIED_CACHE_FORMAT

    def test_entry_with_another_hash_is_not_trusted(self, preset, hashed, tmp_path):
        BertBackbone.from_preset(str(preset))
        cache_path = tmp_path / "verified.json"
        cache = json.loads(cache_path.read_text())
        for entry in cache["files"].values():
            entry["sha256"] = "0" * 64
        cache_path.write_text(json.dumps(cache))
        del hashed[:]
        BertBackbone.from_preset(str(preset))
        assert sorted(hashed) == ["config.json", "model.weights.h5"]

    def test_default_path_is_per_user(self, monkeypatch, tmp_path):
        monkeypatch.delenv(integrity.VERIFIED_CACHE_ENV, raising=False)
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
        assert integrity.verified_cache_path() == os.path.join(
            str(tmp_path), "keras_nlp_clone", "verified_files.json"
        )

    def test_cache_keeps_the_most_recent_entries(self, tmp_path, monkeypatch):
        monkeypatch.setattr(integrity, "MAX_VERIFIED_ENTRIES", 2)
        monkeypatch.setattr(integrity, "RACY_WINDOW_S", 0.0)
        cache = integrity.VerifiedFiles(str(tmp_path / "verified.json"))
        paths = []
        for i in range(3):
            path = tmp_path / f"f{i}"
            path.write_bytes(b"x" * i)
            paths.append(str(path))
            cache.remember(str(path), integrity.stat_signature(path), f"{i:064d}")
        reread = integrity.VerifiedFiles(str(tmp_path / "verified.json"))
        assert not reread.is_verified(paths[0], f"{0:064d}")
        assert reread.is_verified(paths[1], f"{1:064d}")
        assert reread.is_verified(paths[2], f"{2:064d}")
        assert not reread.is_verified(paths[2], f"{1:064d}")
