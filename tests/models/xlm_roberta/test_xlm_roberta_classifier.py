import keras
import numpy as np

from keras_nlp_clone.models import RobertaClassifier
from keras_nlp_clone.models import TextClassifier
from keras_nlp_clone.models import XLMRobertaBackbone
from keras_nlp_clone.models import XLMRobertaClassifier
from keras_nlp_clone.models import XLMRobertaPreprocessor
from keras_nlp_clone.models import XLMRobertaTextClassifier
from tests import real_data
from tests.models.roberta.conftest import hf_outputs
from tests.test_case import TestCase

TEXTS = ["a great film !", "an awful movie", "the quick brown fox"]


class TestXLMRobertaClassifier(TestCase):
    def test_fit_raw_strings_and_preset_round_trip(
        self, tiny_backbone, tiny_tokenizer, tmp_path
    ):
        assert XLMRobertaTextClassifier is XLMRobertaClassifier
        assert issubclass(XLMRobertaClassifier, RobertaClassifier)
        assert XLMRobertaClassifier.presets.keys() == XLMRobertaBackbone.presets.keys()
        classifier = XLMRobertaClassifier(
            tiny_backbone,
            num_classes=2,
            preprocessor=XLMRobertaPreprocessor(tiny_tokenizer, sequence_length=8),
        )
        history = classifier.fit(TEXTS, [1, 0, 1], batch_size=3, verbose=0)
        assert np.isfinite(history.history["loss"][0])
        expected = classifier.predict(TEXTS, verbose=0)
        classifier.save_to_preset(str(tmp_path))
        restored = TextClassifier.from_preset(str(tmp_path))
        assert type(restored) is XLMRobertaClassifier
        assert type(restored.preprocessor) is XLMRobertaPreprocessor
        np.testing.assert_allclose(restored.predict(TEXTS, verbose=0), expected, atol=1e-6)

    def test_fine_tuning_on_imdb_lowers_loss(self, tiny_backbone_kwargs, tiny_tokenizer):
        texts, labels = real_data.imdb_examples(8)
        assert sum(labels) == 4  # balanced: a constant guess stays at ln 2
        x = XLMRobertaPreprocessor(tiny_tokenizer, sequence_length=32)(texts)
        x = {k: keras.ops.convert_to_numpy(v) for k, v in x.items()}
        y = np.array(labels)
        backbone = XLMRobertaBackbone(
            **{**tiny_backbone_kwargs, "max_sequence_length": 32}
        )
        classifier = XLMRobertaClassifier(backbone, num_classes=2)
        classifier.compile(optimizer=keras.optimizers.Adam(3e-3))
        before = classifier.evaluate(x, y, verbose=0)[0]
        # 60 full-batch steps (see the RoBERTa test).
        repeated = {k: np.tile(v, (60, 1)) for k, v in x.items()}
        classifier.fit(repeated, np.tile(y, 60), batch_size=8, verbose=0)
        after = classifier.evaluate(x, y, verbose=0)[0]
        assert after < 0.5 * before, (before, after)


class TestXLMRobertaClassifierConversion(TestCase):
    def test_sequence_classification_matches_transformers(self, hf_xlm_roberta):
        directory, hf_model = hf_xlm_roberta["XLMRobertaForSequenceClassification"]
        classifier = TextClassifier.from_preset(directory, num_classes=3)
        assert type(classifier) is XLMRobertaClassifier
        texts = ["This movie was a waste of time.", "Great!"]
        ours = classifier.predict(texts, verbose=0)
        encoded = classifier.preprocessor(texts)
        token_ids = keras.ops.convert_to_numpy(encoded["token_ids"])
        mask = keras.ops.convert_to_numpy(encoded["padding_mask"]).astype("int32")
        assert mask[1].sum() < mask[0].sum() < mask.shape[1]  # right padding
        ref = hf_outputs(hf_model, token_ids, mask).logits.numpy()
        np.testing.assert_allclose(ours, ref, atol=1e-4)
        assert np.abs(ref).max() > 0.1
