"""The preset registry: listings and families."""

import pytest

from keras_nlp_clone.models import Backbone
from keras_nlp_clone.models import BertClassifier
from keras_nlp_clone.presets.errors import PresetError
from tests.presets.preset_fixtures import pristine_preset  # noqa: F401
from tests.presets.preset_fixtures import saved_preset  # noqa: F401
from tests.test_case import TestCase


class TestRegistry(TestCase):
    def test_presets_listing(self):
        presets = BertClassifier.presets
        assert "bert_tiny_en_uncased_sst2" in presets
        assert "all_minilm_l6_v2_en" in Backbone.presets
        assert presets["bert_base_en"]["alias_of"] == "bert_base_en_cased"

    def test_preset_of_another_class(self, saved_preset):
        class OtherBackbone(Backbone):
            pass

        with pytest.raises(PresetError, match="is a `BertBackbone` preset"):
            OtherBackbone.from_preset(str(saved_preset))
