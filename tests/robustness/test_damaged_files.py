"""Damaged vocabularies, merges files and preset configs.

Each case writes one damaged file and checks the exact error type and that
the message names the file (and the line, for line-based files) and what is
wrong. The oracle is the damage itself: the test knows which line it broke
and which token or value it wrote. Loading never leaves a half-built object:
a tokenizer keeps its previous vocabulary when a new one is refused.
"""

import json
import os
import re

import pytest

from keras_nlp_clone.models import Backbone
from keras_nlp_clone.models import BertTokenizer
from keras_nlp_clone.models import GPT2Tokenizer
from keras_nlp_clone.presets.errors import PresetError
from keras_nlp_clone.tokenizers import BytePairTokenizer
from keras_nlp_clone.tokenizers import SentencePieceTokenizer
from keras_nlp_clone.tokenizers import WordPieceTokenizer
from tests.presets.preset_fixtures import VOCAB
from tests.presets.preset_fixtures import drop_records
from tests.presets.preset_fixtures import pristine_preset  # noqa: F401
from tests.presets.preset_fixtures import saved_preset  # noqa: F401
from tests.test_case import TestCase

BPE_VOCAB = {"a": 0, "b": 1, "ab": 2, "<|endoftext|>": 3}


def write(directory, name, content):
    path = os.path.join(directory, name)
    mode = "wb" if isinstance(content, bytes) else "w"
    kwargs = {} if isinstance(content, bytes) else {"encoding": "utf-8"}
    with open(path, mode, **kwargs) as f:
        f.write(content)
    return path


def edit_json(directory, name, edit):
    """Applies `edit` to the JSON file `name` of a preset (records dropped,
    so that the type checks, not the SHA-256 check, see the damage)."""
    drop_records(directory)
    path = os.path.join(directory, name)
    with open(path, encoding="utf-8") as f:
        config = json.load(f)
    edit(config)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(config, f)


def set_key(key, value):
    def edit(config):
        config["config"][key] = value

    return edit


class TestDamagedWordPieceVocabulary(TestCase):
    def test_duplicate_token_in_file_names_file_and_lines(self, tmp_path):
        path = write(tmp_path, "vocab.txt", "\n".join(VOCAB + ["a"]) + "\n")
        with pytest.raises(ValueError) as info:
            WordPieceTokenizer(vocabulary=path)
        message = str(info.value)
        assert path in message
        assert "'a' twice (lines 6 and 9)" in message

    def test_duplicate_token_in_list_names_ids(self):
        with pytest.raises(ValueError, match=r"'b' twice \(ids 6 and 8\)"):
            WordPieceTokenizer(vocabulary=VOCAB + ["b"])

    def test_missing_special_token_names_file(self, tmp_path):
        tokens = [t for t in VOCAB if t != "[SEP]"]
        path = write(tmp_path, "vocab.txt", "\n".join(tokens) + "\n")
        with pytest.raises(ValueError) as info:
            BertTokenizer(vocabulary=path)
        message = str(info.value)
        assert path in message and "`sep_token`='[SEP]'" in message

    def test_missing_oov_token_names_file(self, tmp_path):
        path = write(tmp_path, "vocab.txt", "a\nb\n")
        with pytest.raises(ValueError) as info:
            WordPieceTokenizer(vocabulary=path)
        assert path in str(info.value) and "'[UNK]'" in str(info.value)

    def test_non_utf8_file_names_file_and_line(self, tmp_path):
        path = write(tmp_path, "vocab.txt", b"[UNK]\na\n\xff\xfe\n")
        with pytest.raises(ValueError) as info:
            WordPieceTokenizer(vocabulary=path)
        assert not isinstance(info.value, UnicodeDecodeError)
        assert path in str(info.value) and "line 3" in str(info.value)

    def test_refused_file_keeps_previous_vocabulary(self, tmp_path):
        tokenizer = WordPieceTokenizer(vocabulary=VOCAB)
        path = write(tmp_path, "vocab.txt", "[UNK]\na\na\n")
        with pytest.raises(ValueError, match="twice"):
            tokenizer.set_vocabulary(path)
        assert tokenizer.get_vocabulary() == VOCAB
        assert tokenizer.token_to_id("b") == 6

    def test_duplicate_in_preset_vocabulary_names_file_and_lines(
        self, saved_preset  # noqa: F811
    ):
        drop_records(saved_preset)
        path = os.path.join(saved_preset, "assets", "tokenizer", "vocabulary.txt")
        with open(path, "a", encoding="utf-8") as f:
            f.write("[CLS]\n")
        with pytest.raises(PresetError) as info:
            BertTokenizer.from_preset(str(saved_preset))
        message = str(info.value)
        assert "vocabulary.txt" in message
        assert "'[CLS]' twice (lines 3 and 9)" in message


class TestDamagedBytePairFiles(TestCase):
    def test_duplicate_key_in_vocabulary_json(self, tmp_path):
        path = write(tmp_path, "vocab.json", '{"a": 0, "b": 1, "a": 2}')
        with pytest.raises(ValueError) as info:
            BytePairTokenizer(vocabulary=path, merges=["a b"])
        message = str(info.value)
        assert path in message and "'a' twice (ids 0 and 2)" in message

    def test_duplicate_id_in_vocabulary_json(self, tmp_path):
        path = write(tmp_path, "vocab.json", '{"a": 0, "b": 1, "ab": 1}')
        with pytest.raises(ValueError) as info:
            BytePairTokenizer(vocabulary=path, merges=["a b"])
        message = str(info.value)
        assert path in message and "both 'b' and 'ab' to id 1" in message

    def test_vocabulary_json_list_instead_of_object(self, tmp_path):
        path = write(tmp_path, "vocab.json", '["a", "b"]')
        with pytest.raises(ValueError) as info:
            BytePairTokenizer(vocabulary=path, merges=["a b"])
        assert path in str(info.value) and "Received: list" in str(info.value)

    def test_vocabulary_json_string_id(self, tmp_path):
        path = write(tmp_path, "vocab.json", '{"a": "0", "b": 1}')
        with pytest.raises(ValueError) as info:
            BytePairTokenizer(vocabulary=path, merges=["a b"])
        assert path in str(info.value) and "'a': '0' (str)" in str(info.value)

    def test_missing_special_token_names_vocabulary_file(self, tmp_path):
        path = write(tmp_path, "vocab.json", '{"a": 0, "b": 1, "ab": 2}')
        with pytest.raises(ValueError) as info:
            GPT2Tokenizer(vocabulary=path, merges=["a b"])
        message = str(info.value)
        assert path in message and "'<|endoftext|>'" in message

    def test_merge_line_with_three_fields(self, tmp_path):
        path = write(tmp_path, "merges.txt", "#version: 0.2\na b\na b c\n")
        with pytest.raises(ValueError) as info:
            BytePairTokenizer(vocabulary=BPE_VOCAB, merges=path)
        message = str(info.value)
        assert f"line 3 of {path!r}" in message and "'a b c'" in message

    def test_merge_line_with_one_field(self, tmp_path):
        path = write(tmp_path, "merges.txt", "#version: 0.2\nab\n")
        with pytest.raises(ValueError) as info:
            BytePairTokenizer(vocabulary=BPE_VOCAB, merges=path)
        assert f"line 2 of {path!r}" in str(info.value)

    def test_merge_piece_not_in_vocabulary(self, tmp_path):
        vocab = write(tmp_path, "vocab.json", json.dumps(BPE_VOCAB))
        path = write(tmp_path, "merges.txt", "#version: 0.2\na b\nab x\n")
        with pytest.raises(ValueError) as info:
            BytePairTokenizer(vocabulary=vocab, merges=path)
        message = str(info.value)
        assert f"line 3 of {path!r}" in message
        assert "token 'x'" in message and vocab in message

    def test_version_header_is_accepted(self, tmp_path):
        path = write(tmp_path, "merges.txt", "#version: 0.2\na b\n")
        tokenizer = BytePairTokenizer(vocabulary=BPE_VOCAB, merges=path)
        assert tokenizer.merges == ["a b"]
        assert list(tokenizer.tokenize("ab")) == [2]

    def test_version_header_past_first_line_is_a_bad_line(self, tmp_path):
        path = write(tmp_path, "merges.txt", "a b\n#version: 0.2\n")
        with pytest.raises(ValueError) as info:
            BytePairTokenizer(vocabulary=BPE_VOCAB, merges=path)
        assert f"line 2 of {path!r}" in str(info.value)

    def test_non_utf8_merges_file_names_file_and_line(self, tmp_path):
        path = write(tmp_path, "merges.txt", b"#version: 0.2\na b\n\xc3\x28\n")
        with pytest.raises(ValueError) as info:
            BytePairTokenizer(vocabulary=BPE_VOCAB, merges=path)
        assert not isinstance(info.value, UnicodeDecodeError)
        assert path in str(info.value) and "line 3" in str(info.value)

    def test_refused_merges_keep_previous_state(self, tmp_path):
        tokenizer = BytePairTokenizer(vocabulary=BPE_VOCAB, merges=["a b"])
        path = write(tmp_path, "merges.txt", "a b\nab zz\n")
        with pytest.raises(ValueError, match="line 2"):
            tokenizer.set_vocabulary_and_merges(BPE_VOCAB, path)
        assert tokenizer.merges == ["a b"]
        assert list(tokenizer.tokenize("ab")) == [2]


class TestDamagedSentencePieceProto(TestCase):
    def test_text_file_is_not_a_proto(self, tmp_path):
        path = write(tmp_path, "spm.model", b"not a sentencepiece model")
        with pytest.raises(ValueError) as info:
            SentencePieceTokenizer(proto=path)
        message = str(info.value)
        assert path in message and "not a valid serialized" in message

    def test_empty_file_names_file(self, tmp_path):
        path = write(tmp_path, "spm.model", b"")
        with pytest.raises(ValueError) as info:
            SentencePieceTokenizer(proto=path)
        assert path in str(info.value) and "is empty" in str(info.value)


class TestDamagedPresetConfigs(TestCase):
    def test_num_layers_as_string(self, saved_preset):  # noqa: F811
        edit_json(saved_preset, "config.json", set_key("num_layers", "2"))
        with pytest.raises(PresetError) as info:
            Backbone.from_preset(str(saved_preset))
        message = str(info.value)
        assert "`config.json`" in message and "num_layers='2'" in message

    def test_vocabulary_size_as_float(self, saved_preset):  # noqa: F811
        edit_json(saved_preset, "config.json", set_key("vocabulary_size", 1.5))
        with pytest.raises(PresetError) as info:
            Backbone.from_preset(str(saved_preset))
        message = str(info.value)
        assert "`config.json`" in message and "vocabulary_size=1.5" in message

    def test_dropout_as_string(self, saved_preset):  # noqa: F811
        edit_json(saved_preset, "config.json", set_key("dropout", "0.1"))
        with pytest.raises(PresetError) as info:
            Backbone.from_preset(str(saved_preset))
        assert re.search(
            r"`config.json` sets `dropout` to '0.1' \(str\).*needs a number",
            str(info.value),
        )

    def test_config_entry_is_a_list(self, saved_preset):  # noqa: F811
        def edit(config):
            config["config"] = [1, 2]

        edit_json(saved_preset, "config.json", edit)
        with pytest.raises(PresetError) as info:
            Backbone.from_preset(str(saved_preset))
        message = str(info.value)
        assert "`config.json`" in message and "it is a list" in message

    def test_tokenizer_bool_as_string(self, saved_preset):  # noqa: F811
        edit_json(saved_preset, "tokenizer.json", set_key("lowercase", "yes"))
        with pytest.raises(PresetError) as info:
            BertTokenizer.from_preset(str(saved_preset))
        assert re.search(
            r"`tokenizer.json` sets `lowercase` to 'yes' \(str\).*true or false",
            str(info.value),
        )

    def test_tokenizer_sequence_length_as_string(self, saved_preset):  # noqa: F811
        edit_json(saved_preset, "tokenizer.json", set_key("sequence_length", "8"))
        with pytest.raises(PresetError) as info:
            BertTokenizer.from_preset(str(saved_preset))
        message = str(info.value)
        assert "`tokenizer.json`" in message and "sequence_length='8'" in message

    def test_tokenizer_config_entry_is_a_list(self, saved_preset):  # noqa: F811
        def edit(config):
            config["config"] = ["a"]

        edit_json(saved_preset, "tokenizer.json", edit)
        with pytest.raises(PresetError) as info:
            BertTokenizer.from_preset(str(saved_preset))
        message = str(info.value)
        assert "`tokenizer.json`" in message and "it is a list" in message
