"""`from_preset` does each piece of work once: every variable is created
once (no layer built twice), from a view of the weights file read in one
go (no other copy, no second assignment), the vocabulary file is parsed once and its
WordPiece models are built once each (and not again for the same
vocabulary), the weights file is hashed once."""

import h5py
import keras
import numpy as np
import pytest

from keras_nlp_clone.models import BertBackbone
from keras_nlp_clone.models import BertClassifier
from keras_nlp_clone.models import BertPreprocessor
from keras_nlp_clone.models import BertTokenizer
from keras_nlp_clone.presets import integrity
from keras_nlp_clone.presets import weights_file
from keras_nlp_clone.tokenizers import word_piece_tokenizer
from tests.presets.preset_fixtures import TINY_BERT
from tests.presets.preset_fixtures import VOCAB
from tests.test_case import TestCase


@pytest.fixture(scope="module")
def classifier_preset(tmp_path_factory):
    keras.utils.set_random_seed(11)
    classifier = BertClassifier(
        BertBackbone(**TINY_BERT),
        num_classes=2,
        preprocessor=BertPreprocessor(
            BertTokenizer(vocabulary=VOCAB), sequence_length=8
        ),
    )
    directory = tmp_path_factory.mktemp("counts") / "preset"
    classifier.save_to_preset(str(directory))
    return str(directory)


@pytest.fixture
def counts(monkeypatch):
    """Counts of variables created, vocabulary files parsed, WordPiece
    models built and files hashed during the test."""
    from tensorflow_text.core.pybinds import (
        pywrap_fast_wordpiece_tokenizer_model_builder as builder,
    )

    counts = {"variables": 0, "vocabulary_files": [], "wordpiece_models": 0,
              "hashed": []}
    add_weight = keras.layers.Layer.add_weight
    load_file = word_piece_tokenizer.load_vocabulary_file
    build_model = builder.build_fast_wordpiece_model
    sha256 = integrity.sha256_of_file

    def counting_add_weight(self, *args, **kwargs):
        counts["variables"] += 1
        return add_weight(self, *args, **kwargs)

    def counting_load_file(path):
        counts["vocabulary_files"].append(path)
        return load_file(path)

    def counting_build_model(*args):
        counts["wordpiece_models"] += 1
        return build_model(*args)

    def counting_sha256(path):
        counts["hashed"].append(path)
        return sha256(path)

    monkeypatch.setattr(keras.layers.Layer, "add_weight", counting_add_weight)
    monkeypatch.setattr(word_piece_tokenizer, "load_vocabulary_file", counting_load_file)
    monkeypatch.setattr(builder, "build_fast_wordpiece_model", counting_build_model)
    monkeypatch.setattr(integrity, "sha256_of_file", counting_sha256)
    monkeypatch.setenv(integrity.VERIFIED_CACHE_ENV, "off")
    # Built models are kept by vocabulary: start from none.
    monkeypatch.setattr(
        word_piece_tokenizer, "_FAST_WORDPIECE_MODELS", type(
            word_piece_tokenizer._FAST_WORDPIECE_MODELS
        )()
    )
    return counts


@pytest.fixture
def weight_reads(monkeypatch):
    """The arrays `WeightsFile` serves (`views`: of the file's bytes read
    at once, `read`: read with h5py) and the variables assigned after
    creation."""
    reads = {"views": [], "read": [], "assigned": 0}
    array = weights_file.WeightsFile._array
    assign = weights_file._assign_from_dataset

    def recording_array(self, entry):
        value = array(self, entry)
        view = self._buffer is not None and np.shares_memory(value, self._buffer)
        reads["views" if view else "read"].append(value)
        return value

    def counting_assign(variable, dataset):
        reads["assigned"] += 1
        return assign(variable, dataset)

    monkeypatch.setattr(weights_file.WeightsFile, "_array", recording_array)
    monkeypatch.setattr(weights_file, "_assign_from_dataset", counting_assign)
    return reads


class TestLoadCounts(TestCase):
    def test_classifier_does_everything_once(self, classifier_preset, counts):
        classifier = BertClassifier.from_preset(classifier_preset)
        # One variable per weight: nothing created twice.
        assert counts["variables"] == len(classifier.weights) == 25
        assert len(counts["vocabulary_files"]) == 1
        assert counts["vocabulary_files"][0].endswith("vocabulary.txt")
        # The end-to-end model and the word-by-word one, once each.
        assert counts["wordpiece_models"] == 2
        assert len(counts["hashed"]) == len(set(counts["hashed"])) == 6
        # And it works: the tokenizer maps the vocabulary to its ids.
        tokens = classifier.preprocessor(["a b c"])["token_ids"]
        assert keras.ops.convert_to_numpy(tokens)[0].tolist() == [
            2, 5, 6, 7, 3, 0, 0, 0
        ]

    def test_same_vocabulary_builds_no_wordpiece_model_again(
        self, classifier_preset, counts
    ):
        first = BertClassifier.from_preset(classifier_preset)
        assert counts["wordpiece_models"] == 2
        second = BertClassifier.from_preset(classifier_preset)
        assert counts["wordpiece_models"] == 2
        # Another vocabulary is built anew (a cache keyed by content).
        BertTokenizer(vocabulary=VOCAB + ["d"])
        assert counts["wordpiece_models"] == 4
        text = ["a b c d", "c a"]
        for key in ("token_ids", "padding_mask"):
            np.testing.assert_array_equal(
                keras.ops.convert_to_numpy(first.preprocessor(text)[key]),
                keras.ops.convert_to_numpy(second.preprocessor(text)[key]),
            )
        ids = keras.ops.convert_to_numpy(second.preprocessor(text)["token_ids"])
        assert ids.tolist() == [[2, 5, 6, 7, 1, 3, 0, 0], [2, 7, 5, 3, 0, 0, 0, 0]]

    def test_weights_are_views_of_the_file(self, classifier_preset, weight_reads):
        backbone = BertBackbone.from_preset(classifier_preset)
        # Every variable starts from a view of the file's bytes; none is
        # read with h5py or assigned a second time.
        assert len(weight_reads["views"]) == len(backbone.weights)
        assert weight_reads["read"] == []
        assert weight_reads["assigned"] == 0
        backend = keras.backend.backend()
        for view, variable in zip(weight_reads["views"], backbone.weights):
            np.testing.assert_array_equal(
                keras.ops.convert_to_numpy(variable), view
            )
            # No copy under JAX (aligned views are aliased) and PyTorch.
            if backend == "jax":
                assert variable.value.unsafe_buffer_pointer() == view.ctypes.data
            elif backend == "torch":
                assert variable.value.data_ptr() == view.ctypes.data
            elif backend == "tensorflow":
                # Nor under TensorFlow: the variable's buffer is the view
                # (`tf.convert_to_tensor` would copy it, then `tf.Variable`
                # maybe again), so a write to the view shows in it.
                before = view.flat[0]
                view.flat[0] = before + 1
                value = keras.ops.convert_to_numpy(variable)
                assert value.flat[0] == before + 1
                view.flat[0] = before

    def test_saved_datasets_are_aligned_for_views(self, classifier_preset):
        import os

        path = os.path.join(classifier_preset, "model.weights.h5")
        with h5py.File(path, "r") as f:
            offsets = [f[name].id.get_offset() for name in f]
        assert len(offsets) == 23 and all(o % 64 == 0 for o in offsets)

    def test_writing_a_loaded_variable_leaves_the_file(
        self, classifier_preset, tmp_path
    ):
        import os
        import shutil

        shutil.copytree(classifier_preset, tmp_path / "p")
        path = os.path.join(tmp_path / "p", "model.weights.h5")
        with open(path, "rb") as f:
            before = f.read()
        backbone = BertBackbone.from_preset(str(tmp_path / "p"))
        embedding = backbone.token_embedding.embeddings
        saved = keras.ops.convert_to_numpy(embedding).copy()
        embedding.assign(np.full(embedding.shape, 7.0, "float32"))
        assert float(keras.ops.convert_to_numpy(embedding)[0, 0]) == 7.0
        with open(path, "rb") as f:
            assert f.read() == before
        again = BertBackbone.from_preset(str(tmp_path / "p"))
        np.testing.assert_array_equal(
            keras.ops.convert_to_numpy(again.token_embedding.embeddings), saved
        )
        # The loaded model does not depend on the file: overwriting it in
        # place (as `save_weights` does) leaves the model's values intact.
        with open(path, "r+b") as f:
            f.truncate(0)
        np.testing.assert_array_equal(
            keras.ops.convert_to_numpy(again.token_embedding.embeddings), saved
        )
        values = [keras.ops.convert_to_numpy(w) for w in again.weights]
        assert sum(v.size for v in values) == again.count_params()

    def test_unreadable_at_once_files_are_read_by_dataset(
        self, classifier_preset, weight_reads, monkeypatch
    ):
        monkeypatch.setattr(weights_file, "_read_file_aligned", lambda path: None)
        backbone = BertBackbone.from_preset(classifier_preset)
        assert weight_reads["views"] == []
        assert len(weight_reads["read"]) == len(backbone.weights)
        for view, variable in zip(weight_reads["read"], backbone.weights):
            np.testing.assert_array_equal(
                keras.ops.convert_to_numpy(variable), view
            )

    def test_dropout_seed_states_are_drawn_not_zeroed(self, classifier_preset):
        # Seed generator states are not in the file: each dropout gets its
        # own seed as in a new model (all-zero states would give every
        # dropout layer the same masks).
        backbone = BertBackbone.from_preset(classifier_preset)
        states = [
            tuple(keras.ops.convert_to_numpy(generator.state).tolist())
            for layer in backbone._flatten_layers()
            for generator in getattr(layer, "_seed_generators", None) or []
        ]
        assert len(states) == 4  # embeddings, attention, 2 in the block
        assert len(set(states)) == len(states)
        assert all(seed != 0 and step == 0 for seed, step in states)

    def test_backbone_creates_each_variable_once(self, classifier_preset, counts):
        backbone = BertBackbone.from_preset(classifier_preset)
        assert counts["variables"] == len(backbone.weights)
        assert counts["vocabulary_files"] == []
        assert counts["wordpiece_models"] == 0

    def test_vocabulary_is_not_tracked_token_by_token(self):
        # Keras' attribute tracking walks tuples element by element; the
        # vocabulary is stored past it (30k tokens cost ~0.1 s otherwise).
        from keras.src.utils import tracking

        calls = []
        real = tracking.Tracker.track

        def counting(self, attr):
            calls.append(attr)
            return real(self, attr)

        tracking.Tracker.track = counting
        try:
            BertTokenizer(vocabulary=VOCAB + [f"t{i}" for i in range(1000)])
        finally:
            tracking.Tracker.track = real
        assert not any(a == "t999" for a in calls if isinstance(a, str))
        assert len(calls) < 200
