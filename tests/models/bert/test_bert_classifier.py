import os

import keras
import numpy as np
import pytest

from keras_nlp_clone.models import BertClassifier
from keras_nlp_clone.models import BertPreprocessor
from keras_nlp_clone.models import BertTextClassifier
from keras_nlp_clone.models import TextClassifier
from keras_nlp_clone.utils.lazy_module import tf
from tests.test_case import TestCase

TEXTS = ["the quick brown fox", "a good film !", "awful movie", "a bad film"]
LABELS = [1, 1, 0, 0]


@pytest.fixture
def classifier(tiny_backbone, tiny_tokenizer):
    preprocessor = BertPreprocessor(tiny_tokenizer, sequence_length=8)
    return BertClassifier(tiny_backbone, num_classes=2, preprocessor=preprocessor)


class TestBertClassifier(TestCase):
    def test_alias(self):
        assert BertTextClassifier is BertClassifier

    def test_fit_evaluate_predict_on_raw_strings_without_compile(self, classifier):
        history = classifier.fit(x=TEXTS, y=LABELS, batch_size=2, epochs=2, verbose=0)
        assert len(history.history["loss"]) == 2
        loss, accuracy = classifier.evaluate(TEXTS, LABELS, batch_size=2, verbose=0)
        assert loss > 0 and 0 <= accuracy <= 1
        logits = classifier.predict(TEXTS, batch_size=3, verbose=0)
        assert logits.shape == (4, 2)

    def test_training_lowers_loss(self, classifier):
        classifier.compile(optimizer=keras.optimizers.Adam(1e-2))
        first = classifier.evaluate(TEXTS, LABELS, verbose=0)[0]
        classifier.fit(TEXTS, LABELS, batch_size=4, epochs=15, verbose=0)
        assert classifier.evaluate(TEXTS, LABELS, verbose=0)[0] < first

    def test_tf_data_input(self, classifier):
        ds = tf.data.Dataset.from_tensor_slices((TEXTS, LABELS)).batch(2)
        classifier.fit(ds, verbose=0)
        assert classifier.predict(ds, verbose=0).shape == (4, 2)
        with pytest.raises(ValueError, match="inside it"):
            classifier.fit(ds, y=LABELS)

    def test_sentence_pairs_and_validation(self, classifier):
        pairs = (["the fox", "a film"], ["good", "awful"])
        history = classifier.fit(
            pairs, [1, 0], validation_data=(pairs, [1, 0]), verbose=0
        )
        assert "val_loss" in history.history
        history = classifier.fit(TEXTS, LABELS, validation_split=0.5, verbose=0)
        assert "val_sparse_categorical_accuracy" in history.history

    def test_preprocessor_none_takes_preprocessed_inputs(self, tiny_backbone, tiny_inputs):
        classifier = BertClassifier(tiny_backbone, num_classes=3, preprocessor=None)
        assert classifier.predict(tiny_inputs, verbose=0).shape == (2, 3)
        classifier.fit(tiny_inputs, np.array([0, 2]), verbose=0)

    def test_softmax_activation_sets_loss(self, tiny_backbone):
        classifier = BertClassifier(tiny_backbone, num_classes=2, activation="softmax")
        assert classifier.loss.get_config()["from_logits"] is False
        assert keras.activations.serialize(classifier.activation) == "softmax"

    def test_preset_round_trip(self, classifier, tmp_path):
        classifier.fit(TEXTS, LABELS, verbose=0)
        expected = classifier.predict(TEXTS, verbose=0)
        classifier.save_to_preset(str(tmp_path))
        assert {
            "config.json", "tokenizer.json", "preprocessor.json", "task.json",
            "metadata.json", "model.weights.h5", "task.weights.h5", "assets",
        } <= set(os.listdir(tmp_path))
        assert os.path.exists(tmp_path / "assets" / "tokenizer" / "vocabulary.txt")
        restored = TextClassifier.from_preset(str(tmp_path))
        assert type(restored) is BertClassifier
        np.testing.assert_allclose(
            restored.predict(TEXTS, verbose=0), expected, atol=1e-6
        )
        # A new head: backbone weights load, head weights do not.
        with pytest.warns(UserWarning, match="head weights are not loaded"):
            three = BertClassifier.from_preset(str(tmp_path), num_classes=3)
        assert three.predict(TEXTS, verbose=0).shape == (4, 3)

    def test_new_head_on_backbone_preset(self, tiny_backbone, tiny_tokenizer, tmp_path):
        tiny_backbone.save_to_preset(str(tmp_path))
        tiny_tokenizer.save_to_preset(str(tmp_path))
        classifier = BertClassifier.from_preset(str(tmp_path), num_classes=4)
        assert type(classifier.preprocessor) is BertPreprocessor
        # Capped from the default 512 to the backbone's 16 positions.
        assert classifier.preprocessor.sequence_length == 16
        assert classifier.predict(TEXTS, verbose=0).shape == (4, 4)


class TestBertClassifierConversion(TestCase):
    def test_sequence_classification_head_matches_transformers(self, hf_bert_checkpoint):
        import torch

        directory, hf_model = hf_bert_checkpoint(
            "BertForSequenceClassification", num_labels=3
        )
        classifier = BertClassifier.from_preset(directory, num_classes=3, preprocessor=None)
        ids = np.array([[2, 5, 6, 7, 3, 0, 0], [2, 8, 3, 9, 10, 3, 0]], "int32")
        segments = np.array([[0] * 7, [0, 0, 0, 1, 1, 1, 0]], "int32")
        mask = (ids != 0).astype("int32")
        ours = classifier.predict(
            {"token_ids": ids, "segment_ids": segments, "padding_mask": mask}, verbose=0
        )
        with torch.no_grad():
            ref = hf_model(
                input_ids=torch.tensor(ids, dtype=torch.long),
                token_type_ids=torch.tensor(segments, dtype=torch.long),
                attention_mask=torch.tensor(mask),
            ).logits.numpy()
        np.testing.assert_allclose(ours, ref, atol=1e-4)


class TestTaskInMemoryPreprocessing(TestCase):
    def test_chunked_equals_streamed_and_unchunked(self, classifier, monkeypatch):
        from keras_nlp_clone.models import task as task_module

        whole = classifier.predict(TEXTS, verbose=0)
        monkeypatch.setattr(task_module, "_CHUNK_SIZE", 3)
        chunked = classifier.predict(TEXTS, verbose=0)
        np.testing.assert_allclose(chunked, whole, atol=1e-6)
        loss_chunked = classifier.evaluate(TEXTS, LABELS, verbose=0)[0]
        # Above the in-memory limit the tf.data pipeline runs instead.
        monkeypatch.setattr(task_module, "_MAX_IN_MEMORY_SAMPLES", 2)
        streamed = classifier.predict(TEXTS, verbose=0)
        np.testing.assert_allclose(streamed, whole, atol=1e-6)
        loss_streamed = classifier.evaluate(TEXTS, LABELS, verbose=0)[0]
        np.testing.assert_allclose(loss_chunked, loss_streamed, atol=1e-6)

    def test_single_string(self, classifier):
        assert classifier.predict("a good film", verbose=0).shape == (1, 2)
