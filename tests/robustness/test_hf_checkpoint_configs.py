"""Hugging Face checkpoint folders with damaged or unsupported configs.

`config.json` and `tokenizer_config.json` of a Hugging Face checkpoint are
plain JSON that people edit by hand. Each case below writes one wrong value
into a copy of a real checkpoint (all-MiniLM-L6-v2, or the real GPT-2 BPE
files) and checks that loading raises a `PresetError` naming the file, the
key and the value, instead of loading a model that tokenizes or computes
differently. The oracle is the damage itself: the test knows what it wrote.
"""

import json
import os

import pytest

from keras_nlp_clone.models import BartTokenizer
from keras_nlp_clone.models import BertBackbone
from keras_nlp_clone.models import BertTokenizer
from keras_nlp_clone.models import GPT2Tokenizer
from keras_nlp_clone.models import RobertaBackbone
from keras_nlp_clone.models import RobertaTokenizer
from keras_nlp_clone.presets.errors import PresetError
from tests.real_data import gpt2_merges_path
from tests.real_data import gpt2_vocabulary_path


def _copy_checkpoint(source, target, config=None, tokenizer_config=None):
    """A checkpoint folder of links to `source`'s files, with its own
    `config.json` (and `tokenizer_config.json` when given)."""
    os.makedirs(target)
    for name in os.listdir(source):
        if name not in ("config.json", "tokenizer_config.json"):
            os.symlink(os.path.join(source, name), os.path.join(target, name))
    if config is None:
        with open(os.path.join(source, "config.json"), encoding="utf-8") as f:
            config = json.load(f)
    with open(os.path.join(target, "config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f)
    if tokenizer_config is not None:
        path = os.path.join(target, "tokenizer_config.json")
        with open(path, "w", encoding="utf-8") as f:
            f.write(tokenizer_config)
    return target


@pytest.fixture(scope="module")
def minilm_config(minilm_dir):
    with open(os.path.join(minilm_dir, "config.json"), encoding="utf-8") as f:
        return json.load(f)


class TestBertConfigJson:
    @pytest.mark.parametrize(
        "key,value,expected",
        [
            ("hidden_size", "384", "`hidden_dim`"),
            ("num_hidden_layers", 6.5, "`num_layers`"),
            ("num_attention_heads", True, "`num_heads`"),
            ("hidden_dropout_prob", "0.1", "`dropout`"),
            ("max_position_embeddings", -1, "`max_sequence_length`"),
            ("type_vocab_size", [2], "`num_segments`"),
        ],
        ids=[
            "hidden_size_string",
            "num_hidden_layers_float",
            "num_attention_heads_bool",
            "dropout_string",
            "max_position_embeddings_negative",
            "type_vocab_size_list",
        ],
    )
    def test_wrong_value_names_config_json_and_argument(
        self, tmp_path, minilm_dir, minilm_config, key, value, expected
    ):
        config = dict(minilm_config, **{key: value})
        folder = _copy_checkpoint(minilm_dir, str(tmp_path / "ckpt"), config)
        with pytest.raises(PresetError) as info:
            BertBackbone.from_preset(folder)
        message = str(info.value)
        assert os.path.join(folder, "config.json") in message
        assert expected in message
        assert repr(value) in message

    def test_missing_key_names_the_key(self, tmp_path, minilm_dir, minilm_config):
        config = {k: v for k, v in minilm_config.items() if k != "vocab_size"}
        folder = _copy_checkpoint(minilm_dir, str(tmp_path / "ckpt"), config)
        with pytest.raises(PresetError, match="KeyError: 'vocab_size'") as info:
            BertBackbone.from_preset(folder)
        assert os.path.join(folder, "config.json") in str(info.value)

    @pytest.mark.parametrize(
        "value", [1e-5, "x"], ids=["layer_norm_eps_1e-5", "layer_norm_eps_string"]
    )
    def test_unsupported_layer_norm_epsilon_is_refused(
        self, tmp_path, minilm_dir, minilm_config, value
    ):
        # BertBackbone's layer norms use 1e-12; another value used to load
        # silently and give other outputs.
        config = dict(minilm_config, layer_norm_eps=value)
        folder = _copy_checkpoint(minilm_dir, str(tmp_path / "ckpt"), config)
        with pytest.raises(PresetError, match=r"layer_norm_eps=.*1e-12 only"):
            BertBackbone.from_preset(folder)

    def test_callers_own_override_error_is_not_blamed_on_the_file(
        self, tmp_path, minilm_dir
    ):
        folder = _copy_checkpoint(minilm_dir, str(tmp_path / "ckpt"))
        with pytest.raises(ValueError, match="`dropout`") as info:
            BertBackbone.from_preset(folder, dropout=2.0)
        assert not isinstance(info.value, PresetError)
        assert "config.json" not in str(info.value)


class TestRobertaConfigJson:
    def test_layer_norm_epsilon_string_is_refused(self, tmp_path):
        folder = str(tmp_path / "ckpt")
        config = {
            "model_type": "roberta",
            "vocab_size": 50265,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "hidden_size": 8,
            "intermediate_size": 16,
            "max_position_embeddings": 16,
            "layer_norm_eps": "1e-5",
        }
        _copy_checkpoint(str(tmp_path), folder, config)
        with pytest.raises(PresetError, match=r"layer_norm_eps='1e-5'"):
            RobertaBackbone.from_preset(folder)


class TestBertTokenizerConfigJson:
    @pytest.mark.parametrize(
        "text,match",
        [
            ('{"do_lower_case": "false"}', r"`do_lower_case` to 'false'"),
            ('{"strip_accents": "yes"}', r"`strip_accents` to 'yes'"),
            ('{"do_lower_case": 0}', r"`do_lower_case` to 0"),
            ('{"do_lower_case": tru', "not valid JSON"),
            ("[1, 2]", "must hold a JSON object"),
        ],
        ids=[
            "do_lower_case_string",
            "strip_accents_string",
            "do_lower_case_int",
            "invalid_json",
            "not_an_object",
        ],
    )
    def test_damaged_tokenizer_config_is_refused(
        self, tmp_path, minilm_dir, text, match
    ):
        folder = _copy_checkpoint(
            minilm_dir, str(tmp_path / "ckpt"), tokenizer_config=text
        )
        with pytest.raises(PresetError, match=match) as info:
            BertTokenizer.from_preset(folder)
        assert os.path.join(folder, "tokenizer_config.json") in str(info.value)

    def test_boolean_values_are_used(self, tmp_path, minilm_dir):
        folder = _copy_checkpoint(
            minilm_dir,
            str(tmp_path / "ckpt"),
            tokenizer_config='{"do_lower_case": false, "strip_accents": null}',
        )
        tokenizer = BertTokenizer.from_preset(folder)
        # The uncased vocabulary has no "Hello": a cased tokenizer gives
        # [UNK] (100) where a lowercasing one gives "hello" (7592).
        assert [int(i) for i in tokenizer("Hello")] == [100]
        folder = _copy_checkpoint(
            minilm_dir,
            str(tmp_path / "ckpt2"),
            tokenizer_config='{"do_lower_case": true}',
        )
        assert [int(i) for i in BertTokenizer.from_preset(folder)("Hello")] == [7592]


def _byte_level_checkpoint(folder, model_type, tokenizer_config):
    """The real GPT-2 vocabulary and merges (RoBERTa and BART get their
    five special tokens appended after GPT-2's ids)."""
    os.makedirs(folder)
    if model_type == "gpt2":
        os.symlink(gpt2_vocabulary_path(), os.path.join(folder, "vocab.json"))
    else:
        with open(gpt2_vocabulary_path(), encoding="utf-8") as f:
            vocabulary = json.load(f)
        for token in ("<s>", "<pad>", "</s>", "<unk>", "<mask>"):
            vocabulary[token] = len(vocabulary)
        path = os.path.join(folder, "vocab.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(vocabulary, f)
    os.symlink(gpt2_merges_path(), os.path.join(folder, "merges.txt"))
    with open(os.path.join(folder, "config.json"), "w", encoding="utf-8") as f:
        json.dump({"model_type": model_type}, f)
    with open(
        os.path.join(folder, "tokenizer_config.json"), "w", encoding="utf-8"
    ) as f:
        f.write(tokenizer_config)
    return folder


@pytest.mark.parametrize(
    "cls,model_type",
    [(GPT2Tokenizer, "gpt2"), (RobertaTokenizer, "roberta"), (BartTokenizer, "bart")],
    ids=["gpt2", "roberta", "bart"],
)
class TestByteLevelTokenizerConfigJson:
    def test_add_prefix_space_string_is_refused(self, tmp_path, cls, model_type):
        # `bool("false")` is True: this used to add a prefix space silently.
        folder = _byte_level_checkpoint(
            str(tmp_path / "ckpt"), model_type, '{"add_prefix_space": "false"}'
        )
        with pytest.raises(PresetError, match="`add_prefix_space` to 'false'"):
            cls.from_preset(folder)

    def test_add_prefix_space_boolean_is_used(self, tmp_path, cls, model_type):
        with_space = cls.from_preset(
            _byte_level_checkpoint(
                str(tmp_path / "a"), model_type, '{"add_prefix_space": true}'
            )
        )
        without = cls.from_preset(
            _byte_level_checkpoint(
                str(tmp_path / "b"), model_type, '{"add_prefix_space": false}'
            )
        )
        assert with_space.add_prefix_space is True
        assert without.add_prefix_space is False
        # GPT-2 ids: "Hello" = 15496, " Hello" = 18435.
        assert [int(i) for i in without.tokenize("Hello")] == [15496]
        assert [int(i) for i in with_space.tokenize("Hello")] == [18435]
