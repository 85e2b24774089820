import json
import os
import shutil

import numpy as np
import pytest

from keras_nlp_clone.models import Backbone
from keras_nlp_clone.models import BertBackbone
from keras_nlp_clone.models import BertClassifier
from keras_nlp_clone.models import BertTokenizer
from keras_nlp_clone.models import Tokenizer
from keras_nlp_clone.utils import preset_utils
from keras_nlp_clone.utils.preset_utils import PresetError
from keras_nlp_clone.utils.preset_utils import PresetNotAvailableError
from tests.test_case import TestCase

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b", "c"]


@pytest.fixture
def saved_preset(tmp_path):
    backbone = BertBackbone(
        vocabulary_size=len(VOCAB),
        num_layers=1,
        num_heads=2,
        hidden_dim=4,
        intermediate_dim=8,
        max_sequence_length=8,
    )
    directory = tmp_path / "preset"
    backbone.save_to_preset(str(directory))
    BertTokenizer(vocabulary=VOCAB).save_to_preset(str(directory))
    return directory


class TestPresetErrors(TestCase):
    def test_unknown_id_suggests_close_ids(self):
        with pytest.raises(PresetError, match="Did you mean 'bert_tiny_en_uncased'"):
            BertBackbone.from_preset("bert_tiny_en_uncasd")

    def test_non_string_preset(self):
        with pytest.raises(PresetError, match="must be a string"):
            BertBackbone.from_preset(42)

    def test_preset_of_another_class(self, saved_preset):
        class OtherBackbone(Backbone):
            pass

        with pytest.raises(PresetError, match="is a `BertBackbone` preset"):
            OtherBackbone.from_preset(str(saved_preset))

    def test_missing_config_lists_files(self, saved_preset):
        os.remove(saved_preset / "config.json")
        with pytest.raises(FileNotFoundError, match=r"no `config.json`.*tokenizer.json"):
            BertBackbone.from_preset(str(saved_preset))

    def test_missing_weights(self, saved_preset):
        os.remove(saved_preset / "model.weights.h5")
        with pytest.raises(FileNotFoundError, match="load_weights=False"):
            BertBackbone.from_preset(str(saved_preset))
        assert isinstance(
            BertBackbone.from_preset(str(saved_preset), load_weights=False),
            BertBackbone,
        )

    def test_damaged_json(self, saved_preset):
        (saved_preset / "config.json").write_text('{"class_name": "Bert')
        with pytest.raises(PresetError, match="damaged: it is not valid JSON"):
            BertBackbone.from_preset(str(saved_preset))

    def test_damaged_weights(self, saved_preset):
        (saved_preset / "model.weights.h5").write_bytes(b"not an hdf5 file")
        with pytest.raises(PresetError, match="Could not load weights"):
            BertBackbone.from_preset(str(saved_preset))

    def test_missing_vocabulary(self, saved_preset):
        os.remove(saved_preset / "assets" / "tokenizer" / "vocabulary.txt")
        with pytest.raises(Exception, match="vocabulary"):
            BertTokenizer.from_preset(str(saved_preset))

    def test_config_naming_foreign_class_is_refused(self, saved_preset):
        config = json.loads((saved_preset / "config.json").read_text())
        config["registered_name"] = "evil>Payload"
        config["module"] = "os"
        (saved_preset / "config.json").write_text(json.dumps(config))
        with pytest.raises(PresetError, match="not a class of keras_nlp_clone"):
            BertBackbone.from_preset(str(saved_preset))

    def test_nested_lambda_is_refused(self):
        config = {
            "class_name": "BertBackbone",
            "registered_name": "keras_nlp_clone>BertBackbone",
            "config": {
                "activation": {
                    "class_name": "__lambda__",
                    "config": {"code": "print('pwned')"},
                }
            },
        }
        with pytest.raises(PresetError, match="holds a lambda"):
            preset_utils.check_config_is_safe(config)

    def test_library_functions_are_allowed_foreign_ones_are_not(self):
        import keras

        from keras_nlp_clone.layers import TransformerEncoder
        from keras_nlp_clone.utils.keras_utils import gelu_exact

        encoder = TransformerEncoder(intermediate_dim=8, num_heads=2, activation=gelu_exact)
        config = keras.saving.serialize_keras_object(encoder)
        preset_utils.check_config_is_safe(config)  # does not raise
        restored = preset_utils.deserialize(config, "layer.json")
        assert restored.activation is gelu_exact
        config["config"]["activation"]["config"] = "keras_nlp_clone>system"
        with pytest.raises(PresetError, match="keras_nlp_clone>system"):
            preset_utils.check_config_is_safe(config)
        config["config"]["activation"] = {
            "class_name": "function",
            "module": "os",
            "config": "system",
            "registered_name": "system",
        }
        with pytest.raises(PresetError, match="'system' from module `os`"):
            preset_utils.check_config_is_safe(config)

    def test_pickle_checkpoint_is_refused(self, tmp_path):
        (tmp_path / "config.json").write_text(
            json.dumps(
                {
                    "model_type": "bert",
                    "vocab_size": 8,
                    "hidden_size": 4,
                    "num_hidden_layers": 1,
                    "num_attention_heads": 2,
                    "intermediate_size": 8,
                }
            )
        )
        (tmp_path / "pytorch_model.bin").write_bytes(b"pickle")
        with pytest.raises(FileNotFoundError, match="pickle files can execute code"):
            BertBackbone.from_preset(str(tmp_path))

    def test_unsupported_hf_model_type(self, tmp_path):
        (tmp_path / "config.json").write_text(json.dumps({"model_type": "llama"}))
        with pytest.raises(PresetError, match="`llama`, which has no converter"):
            Backbone.from_preset(str(tmp_path))

    def test_builtin_preset_not_available_offline(self, tmp_path, monkeypatch):
        monkeypatch.setenv("KERAS_NLP_CLONE_HOME", str(tmp_path / "home"))
        monkeypatch.setenv("KAGGLEHUB_CACHE", str(tmp_path / "kaggle"))

        def offline(handle):
            raise ConnectionError("no network")

        monkeypatch.setattr(preset_utils, "_download_kaggle", offline)
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

    def test_malformed_handles(self):
        with pytest.raises(PresetError, match="Malformed Kaggle handle"):
            BertBackbone.from_preset("kaggle://keras/bert")
        with pytest.raises(PresetError, match="Malformed Hugging Face handle"):
            BertBackbone.from_preset("hf://just-a-name")

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

    def test_presets_listing(self):
        presets = BertClassifier.presets
        assert "bert_tiny_en_uncased_sst2" in presets
        assert "all_minilm_l6_v2_en" in Backbone.presets
        assert presets["bert_base_en"]["alias_of"] == "bert_base_en_cased"

    def test_builtin_minilm_resolves_from_installed_package(self, minilm_dir):
        path = preset_utils.resolve_preset_dir("all_minilm_l6_v2_en")
        assert os.path.samefile(path, minilm_dir)

    def test_saves_are_atomic(self, tmp_path, monkeypatch):
        target = tmp_path / "file.json"
        target.write_text("old")

        def failing(tmp):
            with open(tmp, "w") as f:
                f.write("partial")
            raise RuntimeError("disk full")

        with pytest.raises(RuntimeError):
            preset_utils.atomic_save(str(target), failing)
        assert target.read_text() == "old"
        assert os.listdir(tmp_path) == ["file.json"]

    def test_hf_conversion_matches_saved_round_trip(self, minilm_dir, tmp_path):
        backbone = BertBackbone.from_preset(minilm_dir)
        backbone.save_to_preset(str(tmp_path))
        restored = BertBackbone.from_preset(str(tmp_path))
        for a, b in zip(backbone.weights, restored.weights):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


class TestKerasHubNames(TestCase):
    def test_keras_hub_registered_names_map_to_our_classes(self, saved_preset):
        config = json.loads((saved_preset / "config.json").read_text())
        config["registered_name"] = "keras_hub>BertBackbone"
        config["module"] = "keras_hub.src.models.bert.bert_backbone"
        (saved_preset / "config.json").write_text(json.dumps(config))
        backbone = Backbone.from_preset(str(saved_preset))
        assert type(backbone) is BertBackbone

    def test_unknown_keras_hub_class_is_refused(self, saved_preset):
        config = json.loads((saved_preset / "config.json").read_text())
        config["registered_name"] = "keras_hub>GemmaBackbone"
        (saved_preset / "config.json").write_text(json.dumps(config))
        with pytest.raises(PresetError, match="GemmaBackbone"):
            Backbone.from_preset(str(saved_preset))


class TestWeightsFiles(TestCase):
    def test_keras_format_weights_still_load(self, saved_preset):
        original = BertBackbone.from_preset(str(saved_preset))
        # A `.weights.h5` in Keras' own layout (as KerasHub presets have).
        original.save_weights(str(saved_preset / "model.weights.h5"))
        restored = BertBackbone.from_preset(str(saved_preset))
        for a, b in zip(original.weights, restored.weights):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))

    def _swap_in_weights_of(self, saved_preset, tmp_path, **overrides):
        config = dict(
            vocabulary_size=len(VOCAB),
            num_layers=1,
            num_heads=2,
            hidden_dim=4,
            intermediate_dim=8,
            max_sequence_length=8,
        )
        config.update(overrides)
        BertBackbone(**config).save_to_preset(str(tmp_path / "other"))
        shutil.copy(
            tmp_path / "other" / "model.weights.h5",
            saved_preset / "model.weights.h5",
        )

    def test_weights_of_another_config_are_refused(self, saved_preset, tmp_path):
        self._swap_in_weights_of(saved_preset, tmp_path, num_layers=2)
        with pytest.raises(PresetError, match="the file holds 39 variables, the model has 23"):
            BertBackbone.from_preset(str(saved_preset))

    def test_weights_of_another_shape_are_refused(self, saved_preset, tmp_path):
        self._swap_in_weights_of(saved_preset, tmp_path, vocabulary_size=len(VOCAB) + 1)
        with pytest.raises(PresetError, match=r"token_embedding/embeddings.*\(9, 4\) in the file"):
            BertBackbone.from_preset(str(saved_preset))
