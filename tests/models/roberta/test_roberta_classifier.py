import os

import keras
import numpy as np
import pytest

from keras_nlp_clone.models import RobertaClassifier
from keras_nlp_clone.models import RobertaPreprocessor
from keras_nlp_clone.models import RobertaTextClassifier
from keras_nlp_clone.models import TextClassifier
from keras_nlp_clone.presets.errors import PresetError
from tests import real_data
from tests.models.roberta.conftest import hf_outputs
from tests.test_case import TestCase

TEXTS = ["the quick brown fox", "a good film !", "awful movie", "a bad film"]
LABELS = [1, 1, 0, 0]


@pytest.fixture
def classifier(tiny_backbone, tiny_tokenizer):
    preprocessor = RobertaPreprocessor(tiny_tokenizer, sequence_length=8)
    return RobertaClassifier(tiny_backbone, num_classes=2, preprocessor=preprocessor)


class TestRobertaClassifier(TestCase):
    def test_alias_head_and_config(self, tiny_backbone):
        assert RobertaTextClassifier is RobertaClassifier
        classifier = RobertaClassifier(
            tiny_backbone, num_classes=3, hidden_dim=5, dropout=0.2,
            activation="softmax",
        )
        assert classifier.pooled_dense.units == 5
        assert classifier.output_dense.units == 3
        assert classifier.loss.get_config()["from_logits"] is False
        config = classifier.get_config()
        assert (config["hidden_dim"], config["dropout"]) == (5, 0.2)
        assert config["activation"] == "softmax"
        # Defaults: the backbone's width, no dropout.
        default = RobertaClassifier(tiny_backbone, num_classes=2)
        assert default.pooled_dense.units == 16 and default.dropout == 0.0

    def test_fit_predict_raw_strings_and_preset_round_trip(self, classifier, tmp_path):
        history = classifier.fit(x=TEXTS, y=LABELS, batch_size=2, epochs=1, verbose=0)
        assert np.isfinite(history.history["loss"][0])
        expected = classifier.predict(TEXTS, batch_size=3, verbose=0)
        assert expected.shape == (4, 2)
        classifier.save_to_preset(str(tmp_path))
        assert os.path.exists(tmp_path / "assets" / "tokenizer" / "vocabulary.json")
        restored = TextClassifier.from_preset(str(tmp_path))
        assert type(restored) is RobertaClassifier
        assert type(restored.preprocessor) is RobertaPreprocessor
        np.testing.assert_allclose(restored.predict(TEXTS, verbose=0), expected, atol=1e-6)

    def test_new_head_on_backbone_preset(self, tiny_backbone, tiny_tokenizer, tmp_path):
        tiny_backbone.save_to_preset(str(tmp_path))
        tiny_tokenizer.save_to_preset(str(tmp_path))
        classifier = TextClassifier.from_preset(str(tmp_path), num_classes=4)
        assert type(classifier) is RobertaClassifier
        # Capped from the default 512 to the backbone's 16 positions.
        assert classifier.preprocessor.sequence_length == 16
        assert classifier.predict(TEXTS[:2], verbose=0).shape == (2, 4)

    def test_fine_tuning_on_imdb_lowers_loss(self, tiny_backbone_kwargs, tiny_tokenizer):
        from keras_nlp_clone.models import RobertaBackbone

        texts, labels = real_data.imdb_examples(8)
        assert sum(labels) == 4  # balanced: a constant guess stays at ln 2
        # Preprocessed once, so that the steps take the time.
        x = RobertaPreprocessor(tiny_tokenizer, sequence_length=32)(texts)
        x = {k: keras.ops.convert_to_numpy(v) for k, v in x.items()}
        y = np.array(labels)
        backbone = RobertaBackbone(**{**tiny_backbone_kwargs, "max_sequence_length": 32})
        classifier = RobertaClassifier(backbone, num_classes=2)
        classifier.compile(optimizer=keras.optimizers.Adam(3e-3))
        before = classifier.evaluate(x, y, verbose=0)[0]
        # 60 full-batch steps. From random weights the `<s>` state hardly
        # depends on the text, so the first steps stay near ln 2.
        repeated = {k: np.tile(v, (60, 1)) for k, v in x.items()}
        classifier.fit(repeated, np.tile(y, 60), batch_size=8, verbose=0)
        after = classifier.evaluate(x, y, verbose=0)[0]
        assert after < 0.5 * before, (before, after)


class TestRobertaClassifierConversion(TestCase):
    def test_sequence_classification_matches_transformers(self, hf_roberta):
        directory, hf_model = hf_roberta["RobertaForSequenceClassification"]
        # From the checkpoint directory, with its tokenizer: raw strings in.
        classifier = TextClassifier.from_preset(directory, num_classes=3)
        assert type(classifier) is RobertaClassifier
        texts = ["the quick brown fox jumped over the lazy dog", "a good film"]
        ours = classifier.predict(texts, verbose=0)
        encoded = classifier.preprocessor(texts)
        token_ids = keras.ops.convert_to_numpy(encoded["token_ids"])
        mask = keras.ops.convert_to_numpy(encoded["padding_mask"]).astype("int32")
        assert mask[1].sum() < mask[0].sum() < mask.shape[1]  # right padding
        ref = hf_outputs(hf_model, token_ids, mask).logits.numpy()
        np.testing.assert_allclose(ours, ref, atol=1e-4)
        assert np.abs(ref).max() > 0.1

    def test_head_is_new_when_labels_differ(self, hf_roberta):
        directory, _ = hf_roberta["RobertaForSequenceClassification"]
        classifier = RobertaClassifier.from_preset(
            directory, num_classes=2, preprocessor=None
        )
        assert classifier.output_dense.kernel.shape == (16, 2)

    def test_other_family_raises(self, hf_roberta, tmp_path):
        from keras_nlp_clone.models import BertClassifier

        directory, _ = hf_roberta["RobertaModel"]
        with pytest.raises(PresetError, match="RobertaBackbone"):
            BertClassifier.from_preset(directory, num_classes=2)
