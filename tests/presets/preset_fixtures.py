"""Fixtures shared by the preset tests: one tiny BERT preset per module,
copied for each test that damages it."""

import json
import os
import shutil

import pytest

from keras_nlp_clone.models import BertBackbone
from keras_nlp_clone.models import BertTokenizer

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b", "c"]
TINY_BERT = dict(
    vocabulary_size=len(VOCAB),
    num_layers=1,
    num_heads=2,
    hidden_dim=4,
    intermediate_dim=8,
    max_sequence_length=8,
)


@pytest.fixture(scope="module")
def pristine_preset(tmp_path_factory):
    """A tiny BERT backbone + tokenizer preset, saved once per module.
    Tests must not modify it (use `saved_preset`)."""
    directory = tmp_path_factory.mktemp("pristine") / "preset"
    BertBackbone(**TINY_BERT).save_to_preset(str(directory))
    BertTokenizer(vocabulary=VOCAB).save_to_preset(str(directory))
    return directory


@pytest.fixture
def saved_preset(pristine_preset, tmp_path):
    """A fresh copy of `pristine_preset` that a test may damage."""
    directory = tmp_path / "preset"
    shutil.copytree(pristine_preset, directory)
    return directory


def drop_records(directory):
    """Removes the file records of `metadata.json`, so that `directory`
    loads like a preset saved before records existed (tests that edit
    preset files by hand check what happens without them)."""
    path = os.path.join(directory, "metadata.json")
    with open(path, encoding="utf-8") as f:
        metadata = json.load(f)
    del metadata["files"]
    with open(path, "w", encoding="utf-8") as f:
        json.dump(metadata, f)
