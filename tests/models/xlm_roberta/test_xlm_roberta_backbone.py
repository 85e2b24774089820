import numpy as np
import pytest

from keras_nlp_clone.models import Backbone
from keras_nlp_clone.models import RobertaBackbone
from keras_nlp_clone.models import XLMRobertaBackbone
from keras_nlp_clone.models.xlm_roberta.xlm_roberta_presets import (
    backbone_presets,
)
from keras_nlp_clone.presets.errors import PresetError
from keras_nlp_clone.presets.registry import BUILTIN_PRESETS
from keras_nlp_clone.presets.registry import HF_CONVERTERS
from tests.models.roberta.conftest import hf_outputs
from tests.models.roberta.test_roberta_backbone import roberta_param_count
from tests.test_case import TestCase


class TestXLMRobertaBackbone(TestCase):
    def test_roberta_architecture_and_preset_round_trip(
        self, tiny_backbone, tiny_inputs, tmp_path
    ):
        assert issubclass(XLMRobertaBackbone, RobertaBackbone)
        outputs = tiny_backbone.predict(tiny_inputs, verbose=0)
        assert outputs.shape == (2, 8, 16)
        assert tiny_backbone.count_params() == roberta_param_count(802, 16, 2, 32, 16)
        config = tiny_backbone.get_config()
        assert XLMRobertaBackbone.from_config(config).get_config() == config
        tiny_backbone.save_to_preset(str(tmp_path))
        restored = Backbone.from_preset(str(tmp_path))
        assert type(restored) is XLMRobertaBackbone
        np.testing.assert_array_equal(restored.predict(tiny_inputs, verbose=0), outputs)
        # A preset of one family does not load into the other's class.
        with pytest.raises(PresetError, match="XLMRobertaBackbone"):
            RobertaBackbone.from_preset(str(tmp_path))

    def test_presets_registry_and_parameter_counts(self):
        shapes = {
            "xlm_roberta_base": (250002, 768, 12, 3072),
            "xlm_roberta_large": (250002, 1024, 24, 4096),
        }
        assert set(backbone_presets) == set(shapes)
        presets = XLMRobertaBackbone.presets
        assert set(presets) == {
            "xlm_roberta_base", "xlm_roberta_large",
            "xlm_roberta_base_multi", "xlm_roberta_large_multi",
        }
        for preset_id, shape in shapes.items():
            assert presets[preset_id]["params"] == roberta_param_count(*shape)
        assert presets["xlm_roberta_base"]["params"] == 277450752
        assert presets["xlm_roberta_large"]["params"] == 558837760
        assert presets["xlm_roberta_large_multi"]["alias_of"] == "xlm_roberta_large"
        assert presets["xlm_roberta_base"]["description"] == (
            "12-layer XLM-RoBERTa model where case is maintained. Trained on "
            "CommonCrawl in 100 languages."
        )
        entry = BUILTIN_PRESETS["xlm_roberta_base_multi"]
        assert entry["backbone"] == "XLMRobertaBackbone"
        assert entry["kaggle_handle"] == (
            "kaggle://keras/xlm_roberta/keras/xlm_roberta_base_multi"
        )
        converter = HF_CONVERTERS["xlm-roberta"]
        assert converter.backbone_cls_name == "XLMRobertaBackbone"

    def test_matches_transformers(self, hf_xlm_roberta):
        directory, hf_model = hf_xlm_roberta["XLMRobertaModel"]
        backbone = Backbone.from_preset(directory)
        assert type(backbone) is XLMRobertaBackbone
        token_ids = np.array(
            [[0, 70, 71, 72, 2, 1, 1, 1, 1], [0, 73, 5, 2, 2, 75, 40, 801, 2]],
            "int32",
        )
        mask = (token_ids != 1).astype("int32")
        ours = backbone.predict({"token_ids": token_ids, "padding_mask": mask}, verbose=0)
        ref = hf_outputs(hf_model, token_ids, mask).last_hidden_state.numpy()
        real = mask[..., None].astype(bool)
        assert np.abs(np.where(real, ours - ref, 0)).max() < 1e-4
