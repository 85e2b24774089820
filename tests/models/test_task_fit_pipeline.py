"""`Task.fit` on raw strings: same results as on preprocessed arrays, random
preprocessing redrawn every epoch, no retracing, and the compile defaults."""

import keras
import numpy as np
import pytest

from keras_nlp_clone.models import BertBackbone
from keras_nlp_clone.models import BertClassifier
from keras_nlp_clone.models import BertMaskedLM
from keras_nlp_clone.models import BertMaskedLMPreprocessor
from keras_nlp_clone.models import BertPreprocessor
from keras_nlp_clone.models import BertTokenizer
from keras_nlp_clone.utils.lazy_module import tf
from tests.test_case import TestCase

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [
    "the", "quick", "brown", "fox", "jumped", "over", "lazy", "dog", ".",
    "great", "movie", "awful", "film", "!", "a", "bad", "good", "##s",
]
TEXTS = [
    "the quick brown fox jumped over the lazy dog",
    "a good film !",
    "great movie",
    "awful film .",
    "the dog jumped over the fox",
    "a bad movie !",
]
LABELS = np.array([0, 1, 1, 0, 0, 1], "int32")


def _backbone():
    return BertBackbone(
        vocabulary_size=len(VOCAB),
        num_layers=1,
        num_heads=2,
        hidden_dim=8,
        intermediate_dim=16,
        max_sequence_length=16,
        dropout=0.0,  # XLA and TF kernels draw dropout masks differently
    )


def _tokenizer():
    return BertTokenizer(vocabulary=list(VOCAB), lowercase=True)


def _classifier(seed):
    keras.utils.set_random_seed(seed)
    classifier = BertClassifier(
        _backbone(),
        num_classes=2,
        preprocessor=BertPreprocessor(_tokenizer(), sequence_length=12),
    )
    classifier.compile(optimizer=keras.optimizers.SGD(0.1))
    return classifier


class TestFitOnRawStrings(TestCase):
    def test_losses_equal_fit_on_preprocessed_arrays(self):
        # Oracle: the same model and seed fed the same examples tokenized
        # by hand into NumPy arrays (no `tf.data` pipeline), same order.
        ours = _classifier(seed=7)
        history = ours.fit(
            TEXTS, LABELS, batch_size=2, epochs=2, shuffle=False, verbose=0
        )
        reference = _classifier(seed=7)
        x, y, _ = keras.utils.unpack_x_y_sample_weight(
            reference.preprocessor(TEXTS, LABELS)
        )
        x = {k: keras.ops.convert_to_numpy(v) for k, v in x.items()}
        reference.preprocessor = None
        expected = reference.fit(
            x, keras.ops.convert_to_numpy(y), batch_size=2, epochs=2,
            shuffle=False, verbose=0,
        )
        np.testing.assert_allclose(
            history.history["loss"], expected.history["loss"], rtol=1e-5
        )
        for a, b in zip(ours.get_weights(), reference.get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)

    def test_preprocessor_traced_once_across_fit_calls(self):
        classifier = _classifier(seed=0)
        for _ in range(2):
            classifier.fit(TEXTS, LABELS, batch_size=4, epochs=2, verbose=0)
        fn = classifier._preprocess_fn()
        # One trace of the preprocessor per input structure: labels and
        # strings, batched. A second `fit` reuses it.
        assert fn.experimental_get_tracing_count() == 1


def _masked_lm_preprocessor():
    return BertMaskedLMPreprocessor(
        _tokenizer(),
        sequence_length=12,
        mask_selection_rate=0.5,
        mask_selection_length=4,
    )


def _masks_per_epoch(monkeypatch, seed, epochs=2):
    """The mask positions and labels of each epoch of `fit`, read from the
    dataset `Task.fit` hands to Keras, the way Keras reads it: one
    iterator across epochs with `steps_per_epoch`, else one per epoch."""
    preprocessor = _masked_lm_preprocessor()
    keras.utils.set_random_seed(seed)
    masked_lm = BertMaskedLM(_backbone(), preprocessor=preprocessor)
    seen = {}

    def keras_fit(model, x=None, **kwargs):
        seen.update(kwargs, x=x)

    monkeypatch.setattr(keras.Model, "fit", keras_fit)
    masked_lm.fit(TEXTS, batch_size=3, epochs=epochs, shuffle=False)
    steps = seen.get("steps_per_epoch")
    if keras.backend.backend() == "torch":
        assert steps is None
    else:
        assert steps == 2
    iterator = None if steps is None else iter(seen["x"])
    result = []
    for _ in range(epochs):
        if iterator is None:
            batches = list(seen["x"])  # a new iterator per epoch
        else:
            batches = [next(iterator) for _ in range(steps)]
        positions = np.concatenate([x["mask_positions"] for x, _, _ in batches])
        labels = np.concatenate(
            [np.asarray(y) * (np.asarray(w) > 0) for _, y, w in batches]
        )
        result.append((positions, labels))
    original = keras.ops.convert_to_numpy(
        preprocessor.packer(tuple([preprocessor.tokenizer(TEXTS)]))[0]
    )
    return result, original


class TestMaskedLMFitRedrawsMasks(TestCase):
    def test_masks_differ_between_epochs_and_seeded_runs_repeat(
        self, monkeypatch
    ):
        first, original = _masks_per_epoch(monkeypatch, seed=3)
        for positions, labels in first:
            # Each epoch's labels are the original ids at its positions.
            picked = np.take_along_axis(original, positions, axis=1)
            np.testing.assert_array_equal(picked * (labels > 0), labels)
        # New masks each epoch (same examples, same order).
        assert not np.array_equal(first[0][0], first[1][0])
        # The same seed gives the same masks, epoch by epoch.
        second, _ = _masks_per_epoch(monkeypatch, seed=3)
        for (a, _), (b, _) in zip(first, second):
            np.testing.assert_array_equal(a, b)

    def test_user_mapped_dataset_redraws_per_iterator(self):
        # The KerasNLP pattern: `ds.map(preprocessor)`, then `fit(ds,
        # epochs=...)`, which iterates the dataset anew each epoch.
        keras.utils.set_random_seed(3)
        preprocessor = _masked_lm_preprocessor()
        ds = tf.data.Dataset.from_tensor_slices(TEXTS).batch(3)
        ds = ds.map(preprocessor)

        def epoch():
            return np.concatenate([x["mask_positions"] for x, _, _ in ds])

        assert not np.array_equal(epoch(), epoch())

    def test_fit_trains_on_new_masks(self):
        preprocessor = _masked_lm_preprocessor()
        keras.utils.set_random_seed(3)
        masked_lm = BertMaskedLM(_backbone(), preprocessor=preprocessor)
        history = masked_lm.fit(TEXTS, batch_size=3, epochs=3, verbose=0)
        losses = history.history["loss"]
        assert len(losses) == 3 and np.all(np.isfinite(losses))


class TestTaskCompileDefaults(TestCase):
    def test_jit_compile_default_per_backend(self):
        classifier = _classifier(seed=0)
        if keras.backend.backend() == "tensorflow":
            # XLA is opt-in on TensorFlow (slower first step on CPU).
            assert classifier.jit_compile is False
            classifier.compile(jit_compile=True)
            assert classifier.jit_compile is True
        elif keras.backend.backend() == "jax":
            assert classifier.jit_compile is True
        else:
            assert classifier.jit_compile is False


class TestPipelineOptions(TestCase):
    def test_preprocessor_traced_without_autograph(self):
        # The pipeline's map functions are plain graph code; AutoGraph's
        # conversion only cost time on every first `fit`/`predict` (about
        # 0.2 s). Batches still equal the eager preprocessor's.
        classifier = _classifier(0)
        assert classifier._preprocess_fn()._autograph is False
        ds = classifier._make_dataset(TEXTS, LABELS, None, 2, False)
        x, y = next(iter(ds))
        expected = classifier.preprocessor(TEXTS[:2])
        for key in ("token_ids", "segment_ids", "padding_mask"):
            np.testing.assert_array_equal(
                np.asarray(x[key]), keras.ops.convert_to_numpy(expected[key])
            )
        np.testing.assert_array_equal(np.asarray(y), LABELS[:2])

    def test_autotune_off_on_torch_only_for_in_memory_inputs(self):
        # On PyTorch, tf.data autotuning made some `fit` calls wait ~0.7 s
        # for every batch (benchmarks/fit_call_benchmark.py); the pipeline
        # built from in-memory inputs turns it off there.
        classifier = _classifier(0)
        ds = classifier._make_dataset(TEXTS, LABELS, None, 2, True)
        enabled = ds.options().autotune.enabled  # None: TensorFlow's default, on
        if keras.backend.backend() == "torch":
            assert enabled is False
        else:
            assert enabled is not False
        x, y = next(iter(ds))
        assert tuple(x["token_ids"].shape) == (2, 12)
        assert tuple(y.shape) == (2,)
        # A user's dataset keeps its own options.
        user = tf.data.Dataset.from_tensor_slices((TEXTS, LABELS)).batch(2)
        options = tf.data.Options()
        options.autotune.enabled = True
        user = user.with_options(options)
        ds = classifier._make_dataset(user, None, None, None, False)
        assert ds.options().autotune.enabled is True
