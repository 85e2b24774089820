"""`Task.fit` builds the optimizer eagerly, before the train step is traced
(`Task._build_optimizer`): same variables, same losses."""

import keras
import numpy as np

from keras_nlp_clone.models import BertBackbone
from keras_nlp_clone.models import BertClassifier
from tests.test_case import TestCase

BATCH, SEQ, VOCAB_SIZE = 4, 6, 20


def _classifier(seed=0):
    keras.utils.set_random_seed(seed)
    backbone = BertBackbone(
        vocabulary_size=VOCAB_SIZE,
        num_layers=1,
        num_heads=2,
        hidden_dim=8,
        intermediate_dim=16,
        max_sequence_length=SEQ,
        dropout=0.0,
    )
    return BertClassifier(
        backbone, num_classes=2, preprocessor=None, dropout=0.0
    )


def _data():
    rng = np.random.default_rng(0)
    x = {
        "token_ids": rng.integers(0, VOCAB_SIZE, (BATCH * 2, SEQ)).astype(
            "int32"
        ),
        "segment_ids": np.zeros((BATCH * 2, SEQ), "int32"),
        "padding_mask": np.ones((BATCH * 2, SEQ), "int32"),
    }
    y = np.array([0, 1] * BATCH, "int32")
    return x, y


class OptimizerBuiltAtTrainBegin(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        optimizer = self.model.optimizer
        self.built = optimizer.built
        # Adam: an iteration counter, a learning rate, and a first and a
        # second moment per trainable weight, all still zero.
        self.moments = [
            keras.ops.convert_to_numpy(v)
            for v in getattr(optimizer, "_momentums", [])
            + getattr(optimizer, "_velocities", [])
        ]


class TestTaskBuildsOptimizerBeforeFit(TestCase):
    def test_optimizer_is_built_before_the_first_step(self):
        classifier = _classifier()
        x, y = _data()
        callback = OptimizerBuiltAtTrainBegin()
        classifier.fit(
            x, y, batch_size=BATCH, epochs=1, verbose=0, callbacks=[callback]
        )
        assert callback.built
        num_weights = len(classifier.trainable_variables)
        assert len(callback.moments) == 2 * num_weights
        for moment, variable in zip(
            callback.moments, classifier.trainable_variables * 2
        ):
            assert moment.shape == tuple(variable.shape)
            assert not moment.any()

    def test_losses_equal_keras_own_build(self):
        # The oracle: the same model and data through `keras.Model.fit`,
        # which builds the optimizer itself.
        x, y = _data()
        ours = _classifier()
        theirs = _classifier()
        theirs.set_weights(ours.get_weights())
        a = ours.fit(x, y, batch_size=BATCH, epochs=2, shuffle=False, verbose=0)
        b = keras.Model.fit(
            theirs, x, y, batch_size=BATCH, epochs=2, shuffle=False, verbose=0
        )
        self.assertAllClose(
            a.history["loss"], b.history["loss"], atol=1e-6, rtol=1e-6
        )
        for u, v in zip(ours.get_weights(), theirs.get_weights()):
            self.assertAllClose(u, v, atol=1e-6, rtol=1e-6)

    def test_builds_once(self):
        classifier = _classifier()
        classifier._build_optimizer()
        assert classifier.optimizer.built
        variables = list(classifier.optimizer.variables)
        classifier._build_optimizer()
        assert list(classifier.optimizer.variables) == variables
