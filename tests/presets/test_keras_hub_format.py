"""KerasHub's preset format, both ways, against `keras_hub` 0.32 itself.

For each family (BERT, DistilBERT, RoBERTa, XLM-RoBERTa, GPT-2, BART):

- a task preset saved by KerasHub (`save_to_preset` of a small model whose
  weights are all redrawn, so a misplaced array cannot hide behind initial
  values) loads with our `from_preset` as backbone, tokenizer and task,
  giving KerasHub's outputs within 1e-5 and its token ids;
- a task of ours saved with `save_to_preset(..., format="keras_hub")` loads
  with `keras_hub.models.<Task>.from_preset`, giving our outputs within 1e-5
  and our token ids.

The oracle is KerasHub running on the same inputs in the same process. Both
libraries are imported together; the tests also check that each loader
builds its own library's classes.
"""

import contextlib
import json
import os

import keras
import numpy as np
import pytest

keras_hub = pytest.importorskip("keras_hub")

import keras_nlp_clone as ours
from keras_nlp_clone.presets import keras_hub_format
from keras_nlp_clone.presets.errors import PresetError
from tests import real_data
from tests.models.gpt2.conftest import TINY_MERGES as GPT2_MERGES
from tests.models.gpt2.conftest import TINY_VOCAB as GPT2_VOCAB
from tests.models.roberta.conftest import TINY_MERGES
from tests.models.roberta.conftest import TINY_VOCAB
from tests.models.xlm_roberta.conftest import train_sentence_piece
from tests.test_case import TestCase

WORD_PIECES = [
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "quick", "brown",
    "fox", "jump", "##ed", "over", "lazy", "dog", "a", "is", "##s",
]
TEXTS = ["the quick brown fox jumped", "a lazy dog is over the foxs"]
SIZES = {"num_layers": 2, "num_heads": 2, "hidden_dim": 8, "intermediate_dim": 16}
MAX_LENGTH = 12
SEQUENCE_LENGTH = 8
NUM_PIECES = 120


@pytest.fixture(scope="module")
def proto():
    return train_sentence_piece(real_data.imdb_texts(40), NUM_PIECES)


# name: (tokenizer kwargs, vocabulary size, task, task kwargs,
#        preprocessor, preprocessor kwargs); KerasHub's class names, ours
#        via `OUR_NAMES`.
FAMILIES = {
    "bert": ("Bert", "word_piece", "BertTextClassifier", {"num_classes": 3},
             "BertTextClassifierPreprocessor"),
    "distil_bert": ("DistilBert", "word_piece", "DistilBertTextClassifier",
                    {"num_classes": 3}, "DistilBertTextClassifierPreprocessor"),
    "roberta": ("Roberta", "roberta_bpe", "RobertaTextClassifier",
                {"num_classes": 3}, "RobertaTextClassifierPreprocessor"),
    "xlm_roberta": ("XLMRoberta", "sentence_piece", "XLMRobertaTextClassifier",
                    {"num_classes": 3}, "XLMRobertaTextClassifierPreprocessor"),
    "gpt2": ("GPT2", "gpt2_bpe", "GPT2CausalLM", {}, "GPT2CausalLMPreprocessor"),
    "bart": ("Bart", "roberta_bpe", "BartSeq2SeqLM", {},
             "BartSeq2SeqLMPreprocessor"),
    "roberta_mlm": ("Roberta", "roberta_bpe", "RobertaMaskedLM", {},
                    "RobertaMaskedLMPreprocessor"),
    "xlm_roberta_mlm": ("XLMRoberta", "sentence_piece", "XLMRobertaMaskedLM", {},
                        "XLMRobertaMaskedLMPreprocessor"),
}
MASKED_LM_FAMILIES = ("roberta_mlm", "xlm_roberta_mlm")
# No tokens are masked at random, so both libraries' preprocessors give the
# same ids; the heads read fixed positions instead (`_inputs`).
MASKED_LM_PREPROCESSOR = {"mask_selection_rate": 0.0, "mask_selection_length": 4}
MASK_POSITIONS = np.array([[1, 2, 3, 4], [0, 5, 6, 7]], dtype="int32")
OUR_NAMES = {
    "BertTextClassifier": "BertClassifier",
    "BertTextClassifierPreprocessor": "BertPreprocessor",
    "DistilBertTextClassifier": "DistilBertClassifier",
    "DistilBertTextClassifierPreprocessor": "DistilBertPreprocessor",
    "RobertaTextClassifier": "RobertaClassifier",
    "RobertaTextClassifierPreprocessor": "RobertaPreprocessor",
    "XLMRobertaTextClassifier": "XLMRobertaClassifier",
    "XLMRobertaTextClassifierPreprocessor": "XLMRobertaPreprocessor",
}


def _tokenizer_args(kind, proto):
    if kind == "word_piece":
        return {"vocabulary": list(WORD_PIECES)}, len(WORD_PIECES)
    if kind == "roberta_bpe":
        return {"vocabulary": dict(TINY_VOCAB), "merges": list(TINY_MERGES)}, len(
            TINY_VOCAB
        )
    if kind == "gpt2_bpe":
        return {"vocabulary": dict(GPT2_VOCAB), "merges": list(GPT2_MERGES)}, len(
            GPT2_VOCAB
        )
    # XLM-RoBERTa: fairseq's offset of one, plus `<mask>`.
    return {"proto": proto}, NUM_PIECES + 2


@contextlib.contextmanager
def _zeros_for_initializers():
    """Variables start as zeros instead of calling their initializers.

    `_build` overwrites every weight; under JAX each initializer otherwise
    compiles once per shape, most of the time of this file (a test-only
    patch of Keras' backend variable class).
    """
    variable_cls = keras.src.backend.Variable
    original = variable_cls._initialize_with_initializer

    def zeros(self, initializer):
        value = np.zeros(self._shape, dtype=keras.backend.standardize_dtype(self._dtype))
        self._initialize(self._convert_to_tensor(value))

    variable_cls._initialize_with_initializer = zeros
    try:
        yield
    finally:
        variable_cls._initialize_with_initializer = original


def _build(library, family, proto, **backbone_overrides):
    """A tiny task of `library` (`keras_hub.models` or ours) with every
    weight redrawn from a seeded normal distribution."""
    with _zeros_for_initializers():
        task = _build_task(library, family, proto, **backbone_overrides)
    rng = np.random.default_rng(sum(map(ord, family)))
    for variable in task.weights:
        variable.assign(
            rng.normal(0.0, 0.5, size=tuple(variable.shape)).astype(variable.dtype)
        )
    return task


def _build_task(library, family, proto, **backbone_overrides):
    prefix, kind, task_name, task_kwargs, preprocessor_name = FAMILIES[family]
    is_ours = library is ours.models
    tokenizer_args, vocabulary_size = _tokenizer_args(kind, proto)
    tokenizer = getattr(library, f"{prefix}Tokenizer")(**tokenizer_args)
    backbone = getattr(library, f"{prefix}Backbone")(
        vocabulary_size=vocabulary_size,
        max_sequence_length=MAX_LENGTH,
        **SIZES,
        **backbone_overrides,
    )
    if family == "bart":
        lengths = {
            "encoder_sequence_length": SEQUENCE_LENGTH,
            "decoder_sequence_length": SEQUENCE_LENGTH,
        }
    else:
        lengths = {"sequence_length": SEQUENCE_LENGTH}
    if family in MASKED_LM_FAMILIES:
        lengths.update(MASKED_LM_PREPROCESSOR)
    name = OUR_NAMES.get(preprocessor_name, preprocessor_name) if is_ours else (
        preprocessor_name
    )
    preprocessor = getattr(library, name)(tokenizer, **lengths)
    name = OUR_NAMES.get(task_name, task_name) if is_ours else task_name
    return getattr(library, name)(
        backbone=backbone, preprocessor=preprocessor, **task_kwargs
    )


def _inputs(preprocessor, family):
    raw = {"encoder_text": TEXTS, "decoder_text": TEXTS} if family == "bart" else TEXTS
    x, _, _ = keras.utils.unpack_x_y_sample_weight(preprocessor(raw))
    x = {k: keras.ops.convert_to_numpy(v) for k, v in x.items()}
    if family in MASKED_LM_FAMILIES:
        np.testing.assert_array_equal(x["mask_positions"], 0)  # none drawn
        x["mask_positions"] = MASK_POSITIONS
    return x


def _backbone_inputs(x):
    return {k: v for k, v in x.items() if k != "mask_positions"}


def _numpy(x):
    return keras.tree.map_structure(keras.ops.convert_to_numpy, x)


def _ids(tokenizer):
    rows = tokenizer(TEXTS)
    return [[int(i) for i in keras.ops.convert_to_numpy(row)] for row in rows]


@pytest.fixture(scope="module")
def keras_hub_presets(tmp_path_factory, proto):
    """Per family: a preset saved by KerasHub, and KerasHub's outputs."""
    presets = {}
    root = tmp_path_factory.mktemp("keras_hub_presets")
    for family in FAMILIES:
        task = _build(keras_hub.models, family, proto)
        preset = str(root / family)
        task.save_to_preset(preset)
        x = _inputs(task.preprocessor, family)
        if family == "bart":
            # KerasHub's BART preprocessor config leaves out its sequence
            # lengths: reloaded, it packs to its defaults. Compare with that.
            reloaded = keras_hub.models.BartSeq2SeqLMPreprocessor.from_preset(preset)
            reloaded_x = _inputs(reloaded, family)
        else:
            reloaded_x = x
        presets[family] = {
            "dir": preset,
            "x": x,
            "reloaded_x": reloaded_x,
            "backbone": _numpy(task.backbone(_backbone_inputs(x))),
            "task": _numpy(task(x)),
            "ids": _ids(task.preprocessor.tokenizer),
        }
        keras.backend.clear_session(free_memory=False)
    return presets


class TestLoadKerasHubPresets(TestCase):
    @pytest.mark.parametrize("family", list(FAMILIES))
    def test_backbone_tokenizer_and_task(self, keras_hub_presets, family):
        saved = keras_hub_presets[family]
        prefix, _, task_name, _, _ = FAMILIES[family]
        backbone_cls = getattr(ours.models, f"{prefix}Backbone")
        task_cls = getattr(ours.models, OUR_NAMES.get(task_name, task_name))

        backbone = backbone_cls.from_preset(saved["dir"])
        assert type(backbone) is backbone_cls
        self.assertAllClose(
            backbone(_backbone_inputs(saved["x"])), saved["backbone"], atol=1e-5
        )

        tokenizer = getattr(ours.models, f"{prefix}Tokenizer").from_preset(
            saved["dir"]
        )
        assert _ids(tokenizer) == saved["ids"]

        # Through the base class too: KerasHub's `task.json` names its class.
        task = keras_hub_format_base(task_cls).from_preset(saved["dir"])
        assert type(task) is task_cls
        assert type(task.backbone) is backbone_cls
        self.assertAllClose(task(saved["x"]), saved["task"], atol=1e-5)
        x = _inputs(task.preprocessor, family)
        expected = saved["reloaded_x"]
        assert sorted(x) == sorted(expected)
        for key in x:
            if "padding_mask" in key or key == "mask_positions":
                np.testing.assert_array_equal(x[key], expected[key])
            else:
                # KerasHub pads GPT-2 with id 0, we with `<|endoftext|>`
                # (as Hugging Face); padded positions are masked.
                mask = expected[key.replace("token_ids", "padding_mask")]
                np.testing.assert_array_equal(x[key][mask], expected[key][mask])

    def test_bert_uses_keras_hubs_gelu(self, keras_hub_presets):
        preset = keras_hub_presets["bert"]["dir"]
        backbone = ours.models.BertBackbone.from_preset(preset)
        assert backbone.intermediate_activation == "gelu_approximate"
        # With our default exact GELU the outputs differ: the override is
        # what makes them equal.
        exact = ours.models.BertBackbone.from_preset(
            keras_hub_presets["bert"]["dir"], intermediate_activation="gelu"
        )
        output = exact(keras_hub_presets["bert"]["x"])["sequence_output"]
        difference = np.abs(
            keras.ops.convert_to_numpy(output)
            - keras_hub_presets["bert"]["backbone"]["sequence_output"]
        ).max()
        assert difference > 1e-5

    def test_keras_hub_bert_to_transformers(self, keras_hub_presets, tmp_path):
        # KerasHub -> ours -> Hugging Face: the tanh GELU travels as
        # `hidden_act="gelu_new"`, so `transformers` gives KerasHub's output.
        torch = pytest.importorskip("torch")
        transformers = pytest.importorskip("transformers")
        saved = keras_hub_presets["bert"]
        backbone = ours.models.BertBackbone.from_preset(saved["dir"])
        backbone.export_to_transformers(str(tmp_path / "hf"))
        model = transformers.BertModel.from_pretrained(str(tmp_path / "hf")).eval()
        assert model.config.hidden_act == "gelu_new"
        x = saved["x"]
        with torch.no_grad():
            output = model(
                input_ids=torch.tensor(x["token_ids"], dtype=torch.long),
                token_type_ids=torch.tensor(x["segment_ids"], dtype=torch.long),
                attention_mask=torch.tensor(x["padding_mask"], dtype=torch.long),
            ).last_hidden_state.numpy()
        mask = x["padding_mask"].astype(bool)
        np.testing.assert_allclose(
            output[mask], saved["backbone"]["sequence_output"][mask], atol=1e-5
        )
        # And back: the Hugging Face directory loads with the same GELU.
        restored = ours.models.BertBackbone.from_preset(str(tmp_path / "hf"))
        assert restored.intermediate_activation == "gelu_approximate"

    def test_weights_of_another_config_are_refused(self, keras_hub_presets, tmp_path):
        # KerasHub's weights of a one-layer model in a two-layer preset.
        with _zeros_for_initializers():
            other = keras_hub.models.BertBackbone(
                vocabulary_size=len(WORD_PIECES), max_sequence_length=MAX_LENGTH,
                **{**SIZES, "num_layers": 1},
            )
        path = str(tmp_path / "model.weights.h5")
        other.save_weights(path)
        backbone = ours.models.BertBackbone.from_preset(
            keras_hub_presets["bert"]["dir"]
        )
        before = [np.array(keras.ops.convert_to_numpy(v)) for v in backbone.weights]
        with pytest.raises(PresetError, match="model.weights.h5") as error:
            keras_hub_format.load_backbone_weights(backbone, path)
        assert "layers/transformer_encoder_1/" in str(error.value)
        # Nothing was assigned.
        for value, variable in zip(before, backbone.weights):
            np.testing.assert_array_equal(keras.ops.convert_to_numpy(variable), value)

    def test_extra_arrays_are_refused(self, keras_hub_presets, tmp_path):
        import h5py

        path = str(tmp_path / "model.weights.h5")
        with h5py.File(path, "w") as out, h5py.File(
            os.path.join(keras_hub_presets["roberta"]["dir"], "model.weights.h5"), "r"
        ) as source:
            for name in ("layers",):
                source.copy(name, out)
            out.create_dataset("layers/dense/vars/0", data=np.zeros((8, 8), "float32"))
        with _zeros_for_initializers():
            backbone = ours.models.RobertaBackbone.from_preset(
                keras_hub_presets["roberta"]["dir"], load_weights=False
            )
        with pytest.raises(PresetError, match="no place for.*layers/dense/vars/0"):
            keras_hub_format.load_backbone_weights(backbone, path)

    def test_damaged_file(self, keras_hub_presets, tmp_path):
        path = tmp_path / "model.weights.h5"
        path.write_bytes(b"not an hdf5 file")
        with _zeros_for_initializers():
            backbone = ours.models.GPT2Backbone.from_preset(
                keras_hub_presets["gpt2"]["dir"], load_weights=False
            )
        with pytest.raises(PresetError, match="Could not load weights from .*model"):
            keras_hub_format.load_backbone_weights(backbone, str(path))

    def test_registered_names_do_not_shadow(self):
        # Both libraries register `BertBackbone`, under their own package.
        assert keras.saving.get_registered_object(
            "keras_hub>BertBackbone"
        ) is keras_hub.models.BertBackbone
        assert keras.saving.get_registered_object(
            "keras_nlp_clone>BertBackbone"
        ) is ours.models.BertBackbone


def keras_hub_format_base(task_cls):
    """The task base class (`TextClassifier`, `CausalLM`, `Seq2SeqLM`,
    `MaskedLM`)."""
    models = ours.models
    for base in (
        models.TextClassifier, models.CausalLM, models.Seq2SeqLM, models.MaskedLM
    ):
        if issubclass(task_cls, base):
            return base
    raise AssertionError(task_cls)


class TestWriteKerasHubPresets(TestCase):
    @pytest.mark.parametrize("family", list(FAMILIES))
    def test_keras_hub_loads_our_task(self, family, proto, tmp_path):
        overrides = (
            {"intermediate_activation": "gelu_approximate"} if family == "bert" else {}
        )
        task = _build(ours.models, family, proto, **overrides)
        preset = str(tmp_path / family)
        task.save_to_preset(preset, format="keras_hub")
        x = _inputs(task.preprocessor, family)
        expected = _numpy(task(x))
        ids = _ids(task.preprocessor.tokenizer)

        with open(os.path.join(preset, "config.json")) as f:
            config = json.load(f)
        prefix, _, task_name, _, _ = FAMILIES[family]
        assert config["registered_name"] == f"keras_hub>{prefix}Backbone"
        assert config["module"].startswith("keras_hub.src.models.")
        with open(os.path.join(preset, "metadata.json")) as f:
            assert json.load(f)["keras_hub_version"] == "0.32.0"

        restored = getattr(keras_hub.models, task_name).from_preset(preset)
        assert type(restored).__module__.startswith("keras_hub.")
        assert type(restored.backbone).__module__.startswith("keras_hub.")
        self.assertAllClose(restored(x), expected, atol=1e-5)
        assert _ids(restored.preprocessor.tokenizer) == ids

    def test_exact_gelu_bert_warns(self, proto, tmp_path):
        backbone = _build(ours.models, "bert", proto).backbone
        with pytest.warns(UserWarning, match="intermediate_activation='gelu'"):
            backbone.save_to_preset(str(tmp_path / "bert"), format="keras_hub")
        with open(tmp_path / "bert" / "config.json") as f:
            assert "intermediate_activation" not in json.load(f)["config"]

    def test_backbone_and_tokenizer_saved_apart(self, proto, tmp_path):
        # KerasHub's loader needs `config.json`, also for a tokenizer.
        task = _build(ours.models, "xlm_roberta", proto)
        task.backbone.save_to_preset(str(tmp_path / "tok"), format="keras_hub")
        tokenizer = task.preprocessor.tokenizer
        tokenizer.save_to_preset(str(tmp_path / "tok"), format="keras_hub")
        restored = keras_hub.models.XLMRobertaTokenizer.from_preset(
            str(tmp_path / "tok")
        )
        assert _ids(restored) == _ids(tokenizer)

    def test_round_trip_through_our_loader(self, proto, tmp_path):
        task = _build(ours.models, "distil_bert", proto)
        task.save_to_preset(str(tmp_path / "p"), format="keras_hub")
        restored = ours.models.DistilBertClassifier.from_preset(str(tmp_path / "p"))
        x = _inputs(task.preprocessor, "distil_bert")
        self.assertAllClose(restored(x), task(x), atol=0)

    @pytest.mark.parametrize("prefix", ["Bert", "DistilBert"])
    def test_bert_masked_lm_is_refused(self, prefix, tmp_path):
        # Its head's layer norm epsilon (1e-12) is not KerasHub's (1e-5).
        gelu = {"intermediate_activation": "gelu_approximate"} if prefix == "Bert" else {}
        with _zeros_for_initializers():
            backbone = getattr(ours.models, f"{prefix}Backbone")(
                vocabulary_size=len(WORD_PIECES), max_sequence_length=MAX_LENGTH,
                **{**SIZES, "num_layers": 1}, **gelu,
            )
            task = getattr(ours.models, f"{prefix}MaskedLM")(backbone)
        preset = tmp_path / "p"
        with pytest.raises(PresetError, match=f"`{prefix}MaskedLM`.*epsilon=1e-12"):
            task.save_to_preset(str(preset), format="keras_hub")
        assert not preset.exists() or not any(preset.iterdir())
        # The preprocessor alone has a counterpart, and KerasHub loads it.
        preprocessor = getattr(ours.models, f"{prefix}MaskedLMPreprocessor")(
            getattr(ours.models, f"{prefix}Tokenizer")(vocabulary=list(WORD_PIECES)),
            sequence_length=SEQUENCE_LENGTH,
        )
        backbone.save_to_preset(str(preset), format="keras_hub")
        preprocessor.save_to_preset(str(preset), format="keras_hub")
        restored = getattr(
            keras_hub.models, f"{prefix}MaskedLMPreprocessor"
        ).from_preset(str(preset))
        assert restored.sequence_length == SEQUENCE_LENGTH
        assert restored.mask_selection_length == preprocessor.mask_selection_length

    def test_keras_hub_bert_masked_lm_is_refused(self, tmp_path):
        with _zeros_for_initializers():
            backbone = keras_hub.models.BertBackbone(
                vocabulary_size=len(WORD_PIECES), max_sequence_length=MAX_LENGTH,
                **{**SIZES, "num_layers": 1},
            )
            task = keras_hub.models.BertMaskedLM(backbone)
        task.save_to_preset(str(tmp_path / "p"))
        with pytest.raises(PresetError, match="task.weights.h5.*epsilon=1e-12"):
            ours.models.BertMaskedLM.from_preset(str(tmp_path / "p"))

    def test_unknown_format(self, tmp_path):
        tokenizer = ours.models.BertTokenizer(vocabulary=list(WORD_PIECES))
        with pytest.raises(ValueError, match="format='onnx'"):
            tokenizer.save_to_preset(str(tmp_path / "t"), format="onnx")
