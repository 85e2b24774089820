"""Loading presets: missing and damaged files, Hugging Face directories."""

import json
import os

import numpy as np
import pytest

from keras_nlp_clone.models import Backbone
from keras_nlp_clone.models import BertBackbone
from keras_nlp_clone.models import BertTokenizer
from keras_nlp_clone.presets.errors import PresetError
from tests.presets.preset_fixtures import pristine_preset  # noqa: F401
from tests.presets.preset_fixtures import saved_preset  # noqa: F401
from tests.test_case import TestCase


class TestLoaderErrors(TestCase):
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

    def test_missing_vocabulary(self, saved_preset):
        os.remove(saved_preset / "assets" / "tokenizer" / "vocabulary.txt")
        with pytest.raises(Exception, match="vocabulary"):
            BertTokenizer.from_preset(str(saved_preset))

    def test_unsupported_hf_model_type(self, tmp_path):
        (tmp_path / "config.json").write_text(json.dumps({"model_type": "llama"}))
        with pytest.raises(PresetError, match="`llama`, which has no converter"):
            Backbone.from_preset(str(tmp_path))


class TestHuggingFaceDirectories(TestCase):
    def test_hf_conversion_matches_saved_round_trip(self, minilm_dir, tmp_path):
        backbone = BertBackbone.from_preset(minilm_dir)
        backbone.save_to_preset(str(tmp_path))
        restored = BertBackbone.from_preset(str(tmp_path))
        for a, b in zip(backbone.weights, restored.weights):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
