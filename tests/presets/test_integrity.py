"""Preset integrity: whole-preset atomic saves, per-file SHA-256 records
checked on load, damaged files, and presets that try to run code."""

import hashlib
import json
import os
import pickle
import shutil

import keras
import numpy as np
import pytest

from keras_nlp_clone.models import Backbone
from keras_nlp_clone.models import BertBackbone
from keras_nlp_clone.models import BertClassifier
from keras_nlp_clone.models import BertPreprocessor
from keras_nlp_clone.models import BertTokenizer
from keras_nlp_clone.models import GPT2Backbone
from keras_nlp_clone.presets import integrity
from keras_nlp_clone.presets import saver
from keras_nlp_clone.presets.errors import PresetError
from tests.presets.preset_fixtures import TINY_BERT
from tests.presets.preset_fixtures import VOCAB
from tests.presets.preset_fixtures import drop_records
from tests.presets.preset_fixtures import pristine_preset  # noqa: F401
from tests.presets.preset_fixtures import saved_preset  # noqa: F401
from tests.test_case import TestCase


def tree_bytes(directory):
    """relative path -> file contents, for every file below `directory`."""
    out = {}
    for root, _, names in os.walk(directory):
        for name in names:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                out[os.path.relpath(path, directory)] = f.read()
    return out


def read_metadata(directory):
    with open(os.path.join(directory, "metadata.json"), encoding="utf-8") as f:
        return json.load(f)


class Payload:
    """Unpickling this creates the directory `path`: a visible side effect
    that would show that a pickle was loaded."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.mkdir, (self.path,))


@pytest.fixture(scope="module")
def task_preset(tmp_path_factory):
    """A tiny BERT classifier preset (backbone, preprocessor, tokenizer,
    task and head weights), saved once per module."""
    keras.utils.set_random_seed(7)
    tokenizer = BertTokenizer(vocabulary=VOCAB)
    classifier = BertClassifier(
        BertBackbone(**TINY_BERT),
        num_classes=2,
        preprocessor=BertPreprocessor(tokenizer, sequence_length=8),
    )
    directory = tmp_path_factory.mktemp("task") / "preset"
    classifier.save_to_preset(str(directory))
    return directory


class TestRecordsOnSave(TestCase):
    def test_every_written_file_is_recorded(self, pristine_preset):
        metadata = read_metadata(pristine_preset)
        files = tree_bytes(pristine_preset)
        del files["metadata.json"]
        expected = {
            path.replace(os.sep, "/"): {
                "bytes": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
            for path, data in files.items()
        }
        assert metadata["files"] == expected
        assert set(expected) == {
            "config.json",
            "model.weights.h5",
            "tokenizer.json",
            "assets/tokenizer/vocabulary.txt",
        }
        # The backbone's own metadata survives the tokenizer's save.
        assert metadata["parameter_count"] == BertBackbone(**TINY_BERT).count_params()

    def test_task_preset_records_all_parts(self, task_preset):
        recorded = set(read_metadata(task_preset)["files"])
        assert recorded == {
            "config.json",
            "model.weights.h5",
            "tokenizer.json",
            "assets/tokenizer/vocabulary.txt",
            "preprocessor.json",
            "task.json",
            "task.weights.h5",
        }


class TestAtomicSave(TestCase):
    def _failing_weights(self, monkeypatch):
        import keras_nlp_clone.models.backbone as backbone_module

        def fail(model, path):
            with open(path, "wb") as f:
                f.write(b"half a weights file")
            raise OSError("disk full")

        monkeypatch.setattr(backbone_module, "save_weights_file", fail)

    def test_failed_save_over_a_preset_changes_nothing(
        self, saved_preset, monkeypatch
    ):
        before = tree_bytes(saved_preset)
        self._failing_weights(monkeypatch)
        other = BertBackbone(**dict(TINY_BERT, max_sequence_length=16))
        with pytest.raises(OSError, match="disk full"):
            other.save_to_preset(str(saved_preset))
        assert tree_bytes(saved_preset) == before
        assert os.listdir(saved_preset.parent) == ["preset"]

    def test_failed_first_save_creates_nothing(self, tmp_path, monkeypatch):
        self._failing_weights(monkeypatch)
        with pytest.raises(OSError, match="disk full"):
            BertBackbone(**TINY_BERT).save_to_preset(str(tmp_path / "new"))
        assert os.listdir(tmp_path) == []

    def test_nested_saves_commit_once(self, tmp_path, monkeypatch):
        commits = []
        real_commit = saver._commit

        def counting_commit(staging, target):
            commits.append(target)
            real_commit(staging, target)

        monkeypatch.setattr(saver, "_commit", counting_commit)
        tokenizer = BertTokenizer(vocabulary=VOCAB)
        classifier = BertClassifier(
            BertBackbone(**TINY_BERT),
            num_classes=2,
            preprocessor=BertPreprocessor(tokenizer, sequence_length=8),
        )
        classifier.save_to_preset(str(tmp_path / "task"))
        assert commits == [str(tmp_path / "task")]
        restored = BertClassifier.from_preset(str(tmp_path / "task"))
        for a, b in zip(classifier.weights, restored.weights):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))

    def test_saving_into_a_backbone_preset_merges_records(self, tmp_path):
        directory = str(tmp_path / "p")
        BertBackbone(**TINY_BERT).save_to_preset(directory)
        first = read_metadata(directory)["files"]
        BertTokenizer(vocabulary=VOCAB).save_to_preset(directory)
        second = read_metadata(directory)["files"]
        assert set(second) == set(first) | {
            "tokenizer.json",
            "assets/tokenizer/vocabulary.txt",
        }
        assert second["model.weights.h5"] == first["model.weights.h5"]
        assert BertTokenizer.from_preset(directory).get_vocabulary() == VOCAB
        assert isinstance(BertBackbone.from_preset(directory), BertBackbone)


class TestChecksOnLoad(TestCase):
    def test_truncated_weights(self, saved_preset):
        path = saved_preset / "model.weights.h5"
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
        with pytest.raises(PresetError, match=r"model\.weights\.h5` has \d+ bytes instead"):
            BertBackbone.from_preset(str(saved_preset))
        # Without the record (an older preset) HDF5 itself refuses it.
        drop_records(saved_preset)
        with pytest.raises(PresetError, match=r"model\.weights\.h5`.*(?i:re-save)"):
            BertBackbone.from_preset(str(saved_preset))

    def test_bit_flipped_weights(self, saved_preset):
        path = saved_preset / "model.weights.h5"
        data = bytearray(path.read_bytes())
        data[-100] ^= 0x10  # inside the last dataset's values
        path.write_bytes(bytes(data))
        with pytest.raises(PresetError, match=r"model\.weights\.h5` has other contents") as info:
            BertBackbone.from_preset(str(saved_preset))
        assert "download it again or re-save it" in str(info.value)

    def test_changed_config_is_detected(self, saved_preset):
        config = json.loads((saved_preset / "config.json").read_text())
        config["config"]["num_heads"] = 1
        (saved_preset / "config.json").write_text(json.dumps(config))
        with pytest.raises(PresetError, match=r"config\.json` has"):
            BertBackbone.from_preset(str(saved_preset))

    def test_missing_vocabulary(self, saved_preset):
        os.remove(saved_preset / "assets" / "tokenizer" / "vocabulary.txt")
        with pytest.raises(PresetError, match=r"vocabulary\.txt` is missing"):
            BertTokenizer.from_preset(str(saved_preset))
        drop_records(saved_preset)
        with pytest.raises(PresetError, match=r"assets.tokenizer`.*Files present: \[\]"):
            BertTokenizer.from_preset(str(saved_preset))

    def test_config_of_another_family(self, saved_preset, tmp_path):
        GPT2Backbone(
            vocabulary_size=8,
            num_layers=1,
            num_heads=2,
            hidden_dim=4,
            intermediate_dim=8,
            max_sequence_length=8,
        ).save_to_preset(str(tmp_path / "gpt2"))
        shutil.copy(tmp_path / "gpt2" / "config.json", saved_preset / "config.json")
        with pytest.raises(PresetError, match=r"`config\.json` names `GPT2Backbone`"):
            BertBackbone.from_preset(str(saved_preset))
        # Loaded through the base class, the record catches the swap.
        with pytest.raises(PresetError, match=r"config\.json` has"):
            Backbone.from_preset(str(saved_preset))

    def test_each_file_is_hashed_once_per_load(self, task_preset, monkeypatch):
        hashed = []
        real = integrity.sha256_of_file

        def counting(path):
            hashed.append(os.path.relpath(path, task_preset).replace(os.sep, "/"))
            return real(path)

        monkeypatch.setattr(integrity, "sha256_of_file", counting)
        # Without the verified-file cache (test_verified_cache.py), which
        # may vouch for files an earlier test loaded.
        monkeypatch.setenv(integrity.VERIFIED_CACHE_ENV, "off")
        BertClassifier.from_preset(str(task_preset))
        # Every file read, once; `tokenizer.json` is not read (the saved
        # preprocessor's config holds the tokenizer's).
        assert sorted(hashed) == [
            "assets/tokenizer/vocabulary.txt",
            "config.json",
            "model.weights.h5",
            "preprocessor.json",
            "task.json",
            "task.weights.h5",
        ]

    def test_presets_without_records_still_load(self, saved_preset):
        os.remove(saved_preset / "metadata.json")
        assert BertBackbone.from_preset(str(saved_preset)).hidden_dim == 4
        assert BertTokenizer.from_preset(str(saved_preset)).get_vocabulary() == VOCAB

    def test_damaged_metadata(self, saved_preset):
        (saved_preset / "metadata.json").write_text('{"files": ')
        with pytest.raises(PresetError, match=r"metadata\.json` is damaged"):
            BertBackbone.from_preset(str(saved_preset))


class TestPresetsNeverRunCode(TestCase):
    def test_pickle_files_are_never_read(self, saved_preset, tmp_path):
        sentinel = str(tmp_path / "pwned")
        payload = pickle.dumps(Payload(sentinel))
        (saved_preset / "model.pkl").write_bytes(payload)
        assert BertBackbone.from_preset(str(saved_preset)).hidden_dim == 4
        # A pickle in place of the weights file is refused, not unpickled.
        (saved_preset / "model.weights.h5").write_bytes(payload)
        drop_records(saved_preset)
        with pytest.raises(PresetError, match=r"model\.weights\.h5`.*(?i:re-save)"):
            BertBackbone.from_preset(str(saved_preset))
        assert not os.path.exists(sentinel)

    def test_pytorch_checkpoint_is_refused(self, tmp_path):
        sentinel = str(tmp_path / "pwned")
        hf_dir = tmp_path / "hf"
        hf_dir.mkdir()
        (hf_dir / "config.json").write_text(
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
        (hf_dir / "pytorch_model.bin").write_bytes(pickle.dumps(Payload(sentinel)))
        with pytest.raises(PresetError, match=r"pytorch_model\.bin`, which is refused") as info:
            BertBackbone.from_preset(str(hf_dir))
        assert "safe_serialization=True" in str(info.value)
        assert not os.path.exists(sentinel)

    def _load_with_entry(self, saved_preset, entry):
        config = json.loads((saved_preset / "config.json").read_text())
        config["config"]["dropout"] = entry
        (saved_preset / "config.json").write_text(json.dumps(config))
        drop_records(saved_preset)  # the allow-list alone must refuse it
        BertBackbone.from_preset(str(saved_preset))

    def test_serialized_lambda_is_refused(self, saved_preset):
        with pytest.warns(UserWarning, match="lambda"):
            entry = keras.saving.serialize_keras_object(lambda x: os.system("true"))
        assert entry["class_name"] == "__lambda__"
        with pytest.raises(PresetError, match=r"config\.json\.config\.dropout holds a lambda"):
            self._load_with_entry(saved_preset, entry)

    @pytest.mark.parametrize(
        "entry, message",
        [
            (
                {"class_name": "function", "module": "os", "config": "system", "registered_name": "system"},
                r"config\.json\.config\.dropout names function 'system' from module `os`",
            ),
            (
                {"class_name": "function", "module": "builtins", "config": "eval", "registered_name": "eval"},
                r"config\.json\.config\.dropout names function 'eval' from module `builtins`",
            ),
            (
                {"class_name": "eval", "module": "builtins", "config": {}},
                r"config\.json\.config\.dropout names `eval` from module `builtins`",
            ),
        ],
    )
    def test_module_functions_are_refused(self, saved_preset, entry, message):
        with pytest.raises(PresetError, match=message):
            self._load_with_entry(saved_preset, entry)
