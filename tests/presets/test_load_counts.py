"""`from_preset` does each piece of work once: every variable is created
once (no layer built twice), the vocabulary file is parsed once and its
WordPiece models are built once each, the weights file is hashed once."""

import keras
import pytest

from keras_nlp_clone.models import BertBackbone
from keras_nlp_clone.models import BertClassifier
from keras_nlp_clone.models import BertPreprocessor
from keras_nlp_clone.models import BertTokenizer
from keras_nlp_clone.presets import integrity
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
    return counts


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
