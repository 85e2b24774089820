"""Presets never run code: the allow-list of classes and functions."""

import json

import pytest

from keras_nlp_clone.models import Backbone
from keras_nlp_clone.models import BertBackbone
from keras_nlp_clone.presets.config_safety import check_config_is_safe
from keras_nlp_clone.presets.config_safety import deserialize
from keras_nlp_clone.presets.errors import PresetError
from tests.presets.preset_fixtures import drop_records
from tests.presets.preset_fixtures import pristine_preset  # noqa: F401
from tests.presets.preset_fixtures import saved_preset  # noqa: F401
from tests.test_case import TestCase


class TestConfigSafety(TestCase):
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
            check_config_is_safe(config)

    def test_library_functions_are_allowed_foreign_ones_are_not(self):
        import keras

        from keras_nlp_clone.layers import TransformerEncoder
        from keras_nlp_clone.utils.keras_utils import gelu_exact

        encoder = TransformerEncoder(intermediate_dim=8, num_heads=2, activation=gelu_exact)
        config = keras.saving.serialize_keras_object(encoder)
        check_config_is_safe(config)  # does not raise
        restored = deserialize(config, "layer.json")
        assert restored.activation is gelu_exact
        config["config"]["activation"]["config"] = "keras_nlp_clone>system"
        with pytest.raises(PresetError, match="keras_nlp_clone>system"):
            check_config_is_safe(config)
        config["config"]["activation"] = {
            "class_name": "function",
            "module": "os",
            "config": "system",
            "registered_name": "system",
        }
        with pytest.raises(PresetError, match="'system' from module `os`"):
            check_config_is_safe(config)


class TestKerasHubNames(TestCase):
    def test_keras_hub_registered_names_map_to_our_classes(self, saved_preset):
        config = json.loads((saved_preset / "config.json").read_text())
        config["registered_name"] = "keras_hub>BertBackbone"
        config["module"] = "keras_hub.src.models.bert.bert_backbone"
        (saved_preset / "config.json").write_text(json.dumps(config))
        drop_records(saved_preset)  # edited by hand
        backbone = Backbone.from_preset(str(saved_preset))
        assert type(backbone) is BertBackbone

    def test_unknown_keras_hub_class_is_refused(self, saved_preset):
        config = json.loads((saved_preset / "config.json").read_text())
        config["registered_name"] = "keras_hub>GemmaBackbone"
        (saved_preset / "config.json").write_text(json.dumps(config))
        with pytest.raises(PresetError, match="GemmaBackbone"):
            Backbone.from_preset(str(saved_preset))
