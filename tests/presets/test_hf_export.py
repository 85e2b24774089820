"""Tests of the Hugging Face export infrastructure (`presets.hf_export`):
the registry and its lookup, the atomic write of the target directory, and
the writing helpers against their import-side inverses."""

import json
import os

import keras
import numpy as np
import pytest

from keras_nlp_clone.layers import TransformerEncoder
from keras_nlp_clone.models import BertBackbone
from keras_nlp_clone.models import BertTokenizer
from keras_nlp_clone.presets import hf_conversion
from keras_nlp_clone.presets import hf_export
from tests.presets.hf_export_utils import read_tensors
from tests.test_case import TestCase

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "fox"]


class Unsupported:
    pass


class DictReader:
    """A stand-in for `SafetensorsReader` over a dict of arrays."""

    def __init__(self, tensors):
        self.tensors = tensors

    def get(self, name):
        return self.tensors[name]


@pytest.fixture
def fake_exporters():
    """Registers exporters of two throwaway classes; removes them after."""
    names = []

    def register(name, fn):
        names.append(name)
        hf_export.register_hf_exporter(name, fn)

    yield register
    for name in names:
        hf_export._EXPORTERS.pop(name, None)


def _write_config(obj, directory):
    hf_export.write_json(os.path.join(directory, "config.json"), {"a": 1})


class FakeModel:
    """A task-like object: a backbone and a preprocessor with a tokenizer."""

    def __init__(self, tokenizer):
        self.backbone = object()
        self.preprocessor = type("P", (), {"tokenizer": tokenizer})()


class FakeTokenizer:
    pass


class TestRegistry(TestCase):
    def test_unsupported_class_names_it_and_the_supported_ones(self, tmp_path):
        with pytest.raises(ValueError) as info:
            hf_export.export_to_transformers(Unsupported(), tmp_path / "out")
        message = str(info.value)
        assert "`Unsupported` cannot be exported" in message
        assert "'BertBackbone'" in message and "'BertTokenizer'" in message
        assert not os.path.exists(tmp_path / "out")

    def test_subclass_uses_parent_exporter(self, tmp_path):
        class MyTokenizer(BertTokenizer):
            pass

        MyTokenizer(vocabulary=VOCAB).export_to_transformers(tmp_path / "out")
        with open(tmp_path / "out" / "vocab.txt", encoding="utf-8") as f:
            assert f.read().split("\n")[:-1] == VOCAB

    def test_export_fn_must_be_callable(self):
        with pytest.raises(TypeError, match="must be callable"):
            hf_export.register_hf_exporter("X", "not a function")

    def test_supported_classes_lists_the_families(self):
        supported = hf_export.supported_classes()
        for name in (
            "BertBackbone",
            "BertClassifier",
            "BertMaskedLM",
            "BertTextEmbedder",
            "DistilBertBackbone",
            "XLMRobertaTokenizer",
        ):
            assert name in supported
        assert supported == sorted(supported)


class TestAtomicWrite(TestCase):
    @pytest.fixture
    def backbone(self):
        return BertBackbone(
            vocabulary_size=len(VOCAB),
            num_layers=1,
            num_heads=2,
            hidden_dim=4,
            intermediate_dim=8,
            max_sequence_length=8,
        )

    def test_non_empty_directory_is_refused_and_kept(self, backbone, tmp_path):
        target = tmp_path / "out"
        target.mkdir()
        (target / "notes.txt").write_text("keep me")
        with pytest.raises(ValueError, match="is not empty"):
            backbone.export_to_transformers(str(target))
        assert os.listdir(target) == ["notes.txt"]
        assert sorted(os.listdir(tmp_path)) == ["out"]

    def test_file_target_is_refused(self, backbone, tmp_path):
        (tmp_path / "out").write_text("")
        with pytest.raises(ValueError, match="it is a file"):
            backbone.export_to_transformers(str(tmp_path / "out"))

    def test_empty_directory_and_missing_parents_are_accepted(
        self, backbone, tmp_path
    ):
        (tmp_path / "empty").mkdir()
        backbone.export_to_transformers(str(tmp_path / "empty"))
        backbone.export_to_transformers(str(tmp_path / "a" / "b"))
        for target in ("empty", os.path.join("a", "b")):
            assert sorted(os.listdir(tmp_path / target)) == [
                "config.json",
                "model.safetensors",
            ]
        # No temporary directory is left next to the targets.
        assert sorted(os.listdir(tmp_path)) == ["a", "empty"]

    def test_failed_export_leaves_nothing(self, fake_exporters, tmp_path):
        def failing(obj, directory):
            _write_config(obj, directory)
            raise ValueError("refused")

        fake_exporters("Unsupported", failing)
        with pytest.raises(ValueError, match="refused"):
            hf_export.export_to_transformers(Unsupported(), tmp_path / "out")
        assert os.listdir(tmp_path) == []

    def test_task_tokenizer_files_join_the_model_files(
        self, fake_exporters, tmp_path
    ):
        def tokenizer_files(obj, directory):
            hf_export.write_json(os.path.join(directory, "tokenizer_config.json"), {})

        fake_exporters("FakeModel", _write_config)
        fake_exporters("FakeTokenizer", tokenizer_files)
        hf_export.export_to_transformers(
            FakeModel(FakeTokenizer()), tmp_path / "out"
        )
        assert sorted(os.listdir(tmp_path / "out")) == [
            "config.json",
            "tokenizer_config.json",
        ]
        assert os.listdir(tmp_path) == ["out"]

    def test_tokenizer_writing_a_model_file_is_an_error(
        self, fake_exporters, tmp_path
    ):
        fake_exporters("FakeModel", _write_config)
        fake_exporters("FakeTokenizer", _write_config)
        with pytest.raises(ValueError, match="wrote `config.json`"):
            hf_export.export_to_transformers(
                FakeModel(FakeTokenizer()), tmp_path / "out"
            )
        assert os.listdir(tmp_path) == []

    def test_task_without_tokenizer_exporter_is_refused_first(
        self, fake_exporters, tmp_path
    ):
        fake_exporters("FakeModel", _write_config)
        with pytest.raises(ValueError, match="`Unsupported` cannot be exported"):
            hf_export.export_to_transformers(
                FakeModel(Unsupported()), tmp_path / "out"
            )
        assert os.listdir(tmp_path) == []


class TestWritingHelpers(TestCase):
    def test_dense_to_hf_inverts_copy_dense(self):
        rng = np.random.default_rng(0)
        # A plain dense layer, and the per-head kernels of attention.
        # Zero initializers: the values are overwritten, and JAX would
        # compile a random initializer per shape.
        zeros = {"kernel_initializer": "zeros"}
        layers = [
            keras.layers.Dense(5, **zeros),
            keras.layers.EinsumDense(
                "abc,cde->abde", (None, 2, 3), bias_axes="de", **zeros
            ),
            keras.layers.EinsumDense(
                "abcd,cde->abe", (None, 4), bias_axes="e", **zeros
            ),
        ]
        input_shapes = [(1, 4), (1, 1, 4), (1, 1, 2, 3)]
        hf_shapes = [((5, 4), (5,)), ((6, 4), (6,)), ((4, 6), (4,))]
        for layer, shape, (w_shape, b_shape) in zip(layers, input_shapes, hf_shapes):
            layer.build(shape)
            tensors = {
                "x.weight": rng.standard_normal(w_shape).astype("float32"),
                "x.bias": rng.standard_normal(b_shape).astype("float32"),
            }
            hf_conversion.copy_dense(layer, DictReader(tensors), "x")
            exported = hf_export.dense_to_hf(layer, "x")
            assert sorted(exported) == ["x.bias", "x.weight"]
            for name, value in tensors.items():
                np.testing.assert_array_equal(exported[name], value)

    def test_dense_to_hf_without_bias_needs_out_dim(self):
        layer = keras.layers.Dense(3, use_bias=False)
        layer.build((1, 2))  # random kernel: the transpose is checked
        with pytest.raises(ValueError, match="pass `out_dim`"):
            hf_export.dense_to_hf(layer, "x")
        weight = hf_export.dense_to_hf(layer, "x", out_dim=3)["x.weight"]
        np.testing.assert_array_equal(
            weight, keras.ops.convert_to_numpy(layer.kernel).T
        )

    def test_dense_to_in_out_inverts_assign_in_out_dense(self):
        rng = np.random.default_rng(1)
        layer = keras.layers.EinsumDense(
            "abc,cde->abde", (None, 2, 3), bias_axes="de", kernel_initializer="zeros"
        )
        layer.build((1, 1, 4))
        kernel = rng.standard_normal((4, 6)).astype("float32")
        bias = rng.standard_normal((6,)).astype("float32")
        hf_conversion.assign_in_out_dense(layer, kernel, bias, "c_attn")
        out_kernel, out_bias = hf_export.dense_to_in_out(layer)
        np.testing.assert_array_equal(out_kernel, kernel)
        np.testing.assert_array_equal(out_bias, bias)

    def test_transformer_encoder_to_hf_inverts_copy_transformer_encoder(self):
        rng = np.random.default_rng(2)
        layer = TransformerEncoder(
            intermediate_dim=8, num_heads=2, kernel_initializer="zeros"
        )
        layer.build((1, 3, 4))
        names = hf_conversion.bert_encoder_layer_names("encoder.layer.0")
        shapes = {
            "query": (4, 4),
            "key": (4, 4),
            "value": (4, 4),
            "attention_output": (4, 4),
            "intermediate": (8, 4),
            "output": (4, 8),
        }
        tensors = {}
        for key, prefix in names.items():
            shape = shapes.get(key, (4,))
            tensors[f"{prefix}.weight"] = rng.standard_normal(shape).astype("float32")
            tensors[f"{prefix}.bias"] = rng.standard_normal(shape[:1]).astype(
                "float32"
            )
        hf_conversion.copy_transformer_encoder(layer, DictReader(tensors), names)
        exported = hf_export.transformer_encoder_to_hf(layer, names)
        assert sorted(exported) == sorted(tensors)
        for name, value in tensors.items():
            np.testing.assert_array_equal(exported[name], value, err_msg=name)

    def test_save_safetensors_writes_pt_metadata(self, tmp_path):
        from safetensors import safe_open

        path = str(tmp_path / "model.safetensors")
        value = np.arange(6, dtype="float32").reshape(2, 3)
        hf_export.save_safetensors({"w": value.T}, path)
        with safe_open(path, framework="numpy") as f:
            assert f.metadata() == {"format": "pt"}
        np.testing.assert_array_equal(read_tensors(str(tmp_path))["w"], value.T)
        with pytest.raises(TypeError, match="pass NumPy arrays"):
            hf_export.save_safetensors({"w": [1.0]}, path)

    def test_to_numpy_refuses_quantized_values(self):
        variable = keras.Variable(
            np.ones((2, 2), "int8"), dtype="int8", trainable=False, name="k"
        )
        with pytest.raises(ValueError, match="quantized"):
            hf_export.to_numpy(variable)
        half = hf_export.to_numpy(keras.Variable(np.ones(2), dtype="bfloat16"))
        assert half.dtype == np.float32

    def test_write_json_keeps_unicode_and_order(self, tmp_path):
        path = str(tmp_path / "c.json")
        hf_export.write_json(path, {"b": "é", "a": 1})
        with open(path, encoding="utf-8") as f:
            text = f.read()
        assert text.index('"b"') < text.index('"a"') and "é" in text
        assert json.loads(text) == {"b": "é", "a": 1}
