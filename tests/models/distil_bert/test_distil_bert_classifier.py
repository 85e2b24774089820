import os

import keras
import numpy as np
import pytest

from keras_nlp_clone.models import DistilBertBackbone
from keras_nlp_clone.models import DistilBertClassifier
from keras_nlp_clone.models import DistilBertPreprocessor
from keras_nlp_clone.models import DistilBertTextClassifier
from keras_nlp_clone.models import DistilBertTokenizer
from keras_nlp_clone.models import TextClassifier
from keras_nlp_clone.presets.handles import resolve_preset_dir
from keras_nlp_clone.utils.lazy_module import tf
from tests.models.distil_bert.conftest import hf_outputs
from tests.real_data import imdb_examples
from tests.test_case import TestCase

TEXTS = ["the quick brown fox", "a good film !", "awful movie", "a bad film"]
LABELS = [1, 1, 0, 0]


@pytest.fixture
def classifier(tiny_backbone, tiny_tokenizer):
    preprocessor = DistilBertPreprocessor(tiny_tokenizer, sequence_length=8)
    return DistilBertClassifier(tiny_backbone, num_classes=2, preprocessor=preprocessor)


class TestDistilBertClassifier(TestCase):
    def test_alias_head_and_config(self, tiny_backbone):
        assert DistilBertTextClassifier is DistilBertClassifier
        classifier = DistilBertClassifier(tiny_backbone, num_classes=3, hidden_dim=5)
        assert tuple(classifier.pooled_dense.kernel.shape) == (8, 5)
        assert tuple(classifier.output_dense.kernel.shape) == (5, 3)
        config = classifier.get_config()
        assert (config["hidden_dim"], config["dropout"], config["activation"]) == (
            5,
            0.2,
            "linear",
        )
        restored = DistilBertClassifier.from_config(config)
        assert restored.hidden_dim == 5 and restored.num_classes == 3
        # `hidden_dim=None` is the backbone's width.
        assert DistilBertClassifier(tiny_backbone, num_classes=2).hidden_dim == 8

    def test_fit_predict_on_raw_strings(self, classifier):
        history = classifier.fit(TEXTS, LABELS, batch_size=2, verbose=0)
        assert np.isfinite(history.history["loss"][0])
        ds = tf.data.Dataset.from_tensor_slices((TEXTS, LABELS)).batch(2)
        np.testing.assert_allclose(
            classifier.predict(ds, verbose=0),
            classifier.predict(TEXTS, verbose=0),
            atol=1e-6,
        )

    def test_preprocessor_none_and_softmax(self, tiny_backbone, tiny_inputs):
        classifier = DistilBertClassifier(
            tiny_backbone, num_classes=3, activation="softmax"
        )
        probabilities = classifier.predict(tiny_inputs, verbose=0)
        assert probabilities.shape == (2, 3)
        np.testing.assert_allclose(probabilities.sum(-1), 1.0, atol=1e-5)
        assert classifier.loss.get_config()["from_logits"] is False

    def test_preset_round_trip(self, classifier, tmp_path):
        expected = classifier.predict(TEXTS, verbose=0)
        classifier.save_to_preset(str(tmp_path))
        assert os.path.exists(tmp_path / "task.weights.h5")
        restored = TextClassifier.from_preset(str(tmp_path))
        assert type(restored) is DistilBertClassifier
        assert type(restored.preprocessor) is DistilBertPreprocessor
        np.testing.assert_allclose(
            restored.predict(TEXTS, verbose=0), expected, atol=1e-6
        )

    def test_new_head_on_backbone_preset(self, tiny_backbone, tiny_tokenizer, tmp_path):
        tiny_backbone.save_to_preset(str(tmp_path))
        tiny_tokenizer.save_to_preset(str(tmp_path))
        classifier = TextClassifier.from_preset(str(tmp_path), num_classes=4)
        assert type(classifier) is DistilBertClassifier
        # Capped from the default 512 to the backbone's 16 positions.
        assert classifier.preprocessor.sequence_length == 16
        assert classifier.predict(TEXTS, verbose=0).shape == (4, 4)


class TestDistilBertClassifierFineTuning(TestCase):
    def test_training_on_imdb_lowers_loss(self):
        keras.utils.set_random_seed(0)
        texts, labels = imdb_examples(32)
        vocab = os.path.join(resolve_preset_dir("all_minilm_l6_v2_en"), "vocab.txt")
        tokenizer = DistilBertTokenizer(vocab, lowercase=True)
        backbone = DistilBertBackbone(
            vocabulary_size=tokenizer.vocabulary_size(),
            num_layers=1,
            num_heads=2,
            hidden_dim=16,
            intermediate_dim=32,
            max_sequence_length=64,
        )
        classifier = DistilBertClassifier(
            backbone,
            num_classes=2,
            preprocessor=DistilBertPreprocessor(tokenizer, sequence_length=64),
        )
        classifier.compile(optimizer=keras.optimizers.Adam(3e-2))
        # Raw reviews in, one step per call: each call preprocesses eagerly
        # and reuses one compiled train step (a `fit` per epoch would
        # rebuild its data pipeline).
        before = classifier.test_on_batch(texts, labels)[0]
        losses = [classifier.train_on_batch(texts, labels)[0] for _ in range(12)]
        after = classifier.test_on_batch(texts, labels)[0]
        assert before > 0.6 and after < 0.5 * before
        assert np.mean(losses[-3:]) < np.mean(losses[:3])


class TestDistilBertClassifierConversion(TestCase):
    def test_matches_transformers(self, hf_distil_bert_checkpoint):
        directory, hf_model = hf_distil_bert_checkpoint(
            "DistilBertForSequenceClassification", num_labels=3
        )
        classifier = TextClassifier.from_preset(directory, num_classes=3)
        assert type(classifier) is DistilBertClassifier
        assert type(classifier.preprocessor) is DistilBertPreprocessor
        # Raw strings end to end; the reference runs on the same ids.
        ours = classifier.predict(TEXTS, verbose=0)
        token_ids = keras.ops.convert_to_numpy(
            classifier.preprocessor(TEXTS)["token_ids"]
        )
        assert token_ids.shape == (4, 32) and (token_ids == 0).any()
        ref = hf_outputs(hf_model, token_ids).logits.numpy()
        np.testing.assert_allclose(ours, ref, atol=1e-4)
        # Another number of classes: the backbone and `pre_classifier`
        # load, the output layer is new.
        two = DistilBertClassifier.from_preset(directory, num_classes=2)
        np.testing.assert_array_equal(
            keras.ops.convert_to_numpy(two.pooled_dense.kernel),
            keras.ops.convert_to_numpy(classifier.pooled_dense.kernel),
        )
