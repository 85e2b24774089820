"""Writing preset files."""

import os

import pytest

from keras_nlp_clone.presets.saver import atomic_save
from tests.test_case import TestCase


class TestAtomicWrites(TestCase):
    def test_saves_are_atomic(self, tmp_path, monkeypatch):
        target = tmp_path / "file.json"
        target.write_text("old")

        def failing(tmp):
            with open(tmp, "w") as f:
                f.write("partial")
            raise RuntimeError("disk full")

        with pytest.raises(RuntimeError):
            atomic_save(str(target), failing)
        assert target.read_text() == "old"
        assert os.listdir(tmp_path) == ["file.json"]
