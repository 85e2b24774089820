"""Resolving built-in ids, directories, `hf://` and `kaggle://` handles."""

import os
import shutil

import pytest

from keras_nlp_clone.models import Backbone
from keras_nlp_clone.models import BertBackbone
from keras_nlp_clone.models import BertTokenizer
from keras_nlp_clone.models import Tokenizer
from keras_nlp_clone.presets import handles
from keras_nlp_clone.presets.errors import PresetError
from keras_nlp_clone.presets.errors import PresetNotAvailableError
from keras_nlp_clone.presets.handles import resolve_preset_dir
from tests.presets.preset_fixtures import VOCAB
from tests.presets.preset_fixtures import pristine_preset  # noqa: F401
from tests.presets.preset_fixtures import saved_preset  # noqa: F401
from tests.test_case import TestCase


class TestHandleErrors(TestCase):
    def test_unknown_id_suggests_close_ids(self):
        with pytest.raises(PresetError, match="Did you mean 'bert_tiny_en_uncased'"):
            BertBackbone.from_preset("bert_tiny_en_uncasd")

    def test_non_string_preset(self):
        with pytest.raises(PresetError, match="must be a string"):
            BertBackbone.from_preset(42)

    def test_malformed_handles(self):
        with pytest.raises(PresetError, match="Malformed Kaggle handle"):
            BertBackbone.from_preset("kaggle://keras/bert")
        with pytest.raises(PresetError, match="Malformed Hugging Face handle"):
            BertBackbone.from_preset("hf://just-a-name")

    def test_builtin_preset_not_available_offline(self, tmp_path, monkeypatch):
        monkeypatch.setenv("KERAS_NLP_CLONE_HOME", str(tmp_path / "home"))
        monkeypatch.setenv("KAGGLEHUB_CACHE", str(tmp_path / "kaggle"))

        def offline(handle):
            raise ConnectionError("no network")

        monkeypatch.setattr(handles, "_download_kaggle", offline)
        with pytest.raises(PresetNotAvailableError) as info:
            BertBackbone.from_preset("bert_tiny_en_uncased")
        message = str(info.value)
        assert "`bert_tiny_en_uncased`" in message
        assert str(tmp_path / "home" / "presets" / "bert_tiny_en_uncased") in message
        assert "kaggle://keras/bert/keras/bert_tiny_en_uncased" in message
        assert "ConnectionError: no network" in message
        assert "from_preset('/path/to/bert_tiny_en_uncased')" in message


class TestPresetSources(TestCase):
    def test_local_copy_in_preset_home(self, saved_preset, tmp_path, monkeypatch):
        home = tmp_path / "home"
        shutil.copytree(saved_preset, home / "presets" / "bert_tiny_en_uncased")
        monkeypatch.setenv("KERAS_NLP_CLONE_HOME", str(home))
        backbone = BertBackbone.from_preset("bert_tiny_en_uncased")
        assert backbone.hidden_dim == 4

    def test_kagglehub_cache_is_used_offline(self, saved_preset, tmp_path, monkeypatch):
        cache = tmp_path / "kaggle"
        variation = cache / "models" / "keras" / "bert" / "keras" / "bert_tiny_en_uncased"
        shutil.copytree(saved_preset, variation / "3")
        (variation / "3.complete").write_text("")
        monkeypatch.setenv("KAGGLEHUB_CACHE", str(cache))
        monkeypatch.setenv("KERAS_NLP_CLONE_HOME", str(tmp_path / "home"))
        backbone = Backbone.from_preset("bert_tiny_en_uncased")
        assert backbone.hidden_dim == 4
        # A versioned handle goes through kagglehub, which finds its cache.
        tokenizer = Tokenizer.from_preset(
            "kaggle://keras/bert/keras/bert_tiny_en_uncased/3"
        )
        assert tokenizer.get_vocabulary() == VOCAB

    def test_hf_handle_from_offline_cache(self, minilm_dir, tmp_path, monkeypatch):
        # The Hugging Face cache layout: refs/main names a snapshot folder.
        repo = tmp_path / "hub" / "models--sentence-transformers--all-MiniLM-L6-v2"
        commit = "0123456789abcdef0123456789abcdef01234567"
        snapshot = repo / "snapshots" / commit
        snapshot.mkdir(parents=True)
        for name in ("config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json"):
            os.symlink(os.path.join(minilm_dir, name), snapshot / name)
        (repo / "refs").mkdir()
        (repo / "refs" / "main").write_text(commit)
        monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")
        import huggingface_hub.constants as constants

        monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
        tokenizer = BertTokenizer.from_preset("hf://sentence-transformers/all-MiniLM-L6-v2")
        assert tokenizer("hello world") == [7592, 2088]

    def test_hf_handle_missing_offline(self, tmp_path, monkeypatch):
        import huggingface_hub.constants as constants

        monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
        with pytest.raises(PresetNotAvailableError, match="HF_HUB_OFFLINE"):
            BertBackbone.from_preset("hf://nobody/nothing")

    def test_builtin_minilm_resolves_from_installed_package(self, minilm_dir):
        path = resolve_preset_dir("all_minilm_l6_v2_en")
        assert os.path.samefile(path, minilm_dir)
