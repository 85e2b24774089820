"""LoRA on every backbone: `enable_lora`, `save_lora_weights`,
`load_lora_weights`, presets, training and generation."""

import os

import keras
import numpy as np
import pytest

from keras_nlp_clone import models
from keras_nlp_clone.models import Backbone
from keras_nlp_clone.utils import lora_utils
from tests.test_case import TestCase

VOCABULARY_SIZE = 64
FAMILIES = {
    "bert": models.BertBackbone,
    "distil_bert": models.DistilBertBackbone,
    "roberta": models.RobertaBackbone,
    "xlm_roberta": models.XLMRobertaBackbone,
    "gpt2": models.GPT2Backbone,
    "bart": models.BartBackbone,
}
# Attention layers per transformer layer: BART's decoder layers also
# cross-attend.
ATTENTION_LAYERS = {"bart": 3}


def tiny_backbone(family="bert", num_layers=1, hidden_dim=8, seed=0):
    keras.utils.set_random_seed(seed)
    return FAMILIES[family](
        vocabulary_size=VOCABULARY_SIZE,
        num_layers=num_layers,
        num_heads=2,
        hidden_dim=hidden_dim,
        intermediate_dim=16,
        max_sequence_length=16,
        dropout=0.0,
    )


def tiny_inputs(backbone, batch_size=2, length=6):
    """Random token ids, all-ones padding masks, zero segment ids, by the
    backbone's input names."""
    rng = np.random.default_rng(0)
    inputs = {}
    for name in backbone.input:
        if "mask" in name:
            inputs[name] = np.ones((batch_size, length), "int32")
        elif "segment" in name:
            inputs[name] = np.zeros((batch_size, length), "int32")
        else:
            inputs[name] = rng.integers(4, VOCABULARY_SIZE, (batch_size, length))
    return inputs


def _np(x):
    return keras.ops.convert_to_numpy(x)


def outputs_of(backbone, inputs):
    return keras.tree.map_structure(_np, backbone(inputs))


def randomize_lora(backbone, scale=0.5, seed=1):
    """Non-zero LoRA matrices (b starts at zero: no effect until trained)."""
    rng = np.random.default_rng(seed)
    for variable in backbone.trainable_weights:
        assert "lora" in variable.path
        variable.assign(rng.normal(0, scale, variable.shape).astype("float32"))


def snapshot(model):
    return [_np(v).copy() for v in model.weights]


def state(backbone):
    """What a failed call must leave as it was."""
    return (
        backbone.lora_config,
        [v.path for v in backbone.weights],
        [v.trainable for v in backbone.weights],
        [getattr(layer, "lora_enabled", False) for layer in backbone._flatten_layers()],
    )


def lora_paths(backbone, names=("query", "value")):
    return sorted(
        f"{layer.path}/lora_kernel_{ab}"
        for layer in backbone._flatten_layers(include_self=False)
        if isinstance(layer, keras.layers.EinsumDense) and layer.name in names
        for ab in "ab"
    )


class TestEnableLora(TestCase):
    @pytest.mark.parametrize("family", sorted(FAMILIES))
    def test_every_family(self, family):
        backbone = tiny_backbone(family)
        inputs = tiny_inputs(backbone)
        before = outputs_of(backbone, inputs)
        num_variables = len(backbone.weights)
        backbone.enable_lora(rank=2)

        assert backbone.lora_config == {"rank": 2, "target_names": ["query", "value"]}
        trainable = sorted(v.path for v in backbone.trainable_weights)
        # Default targets: query and value of every attention layer.
        assert trainable == lora_paths(backbone)
        assert len(trainable) == 2 * 2 * ATTENTION_LAYERS.get(family, 1)
        assert len(backbone.weights) == num_variables + len(trainable)
        frozen = [v for v in backbone.weights if "lora" not in v.path]
        assert frozen and not any(v.trainable for v in frozen)
        # `(hidden, heads, rank)` and `(rank, head_dim)`.
        for variable in backbone.trainable_weights:
            expected = (8, 2, 2) if variable.path.endswith("_a") else (2, 4)
            assert tuple(variable.shape) == expected
        # `b` starts at zero: the outputs are unchanged... (to float32
        # rounding: on PyTorch, `TransformerEncoder` runs fused ops without
        # LoRA and the Keras sublayers with it).
        keras.tree.map_structure(
            lambda x, y: np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-7),
            before,
            outputs_of(backbone, inputs),
        )
        # ...and the LoRA matrices are in the forward pass.
        randomize_lora(backbone, scale=1.0)
        after = keras.tree.flatten(outputs_of(backbone, inputs))
        assert max(
            np.abs(x - y).max() for x, y in zip(keras.tree.flatten(before), after)
        ) > 1e-3

    def test_other_targets(self):
        backbone = tiny_backbone("gpt2")
        backbone.enable_lora(3, target_names=["attention_output", "feedforward_intermediate_dense"])
        shapes = {v.path: tuple(v.shape) for v in backbone.trainable_weights}
        layer = "transformer_layer_0"
        assert shapes == {
            f"{layer}/self_attention/attention_output/lora_kernel_a": (2, 4, 3),
            f"{layer}/self_attention/attention_output/lora_kernel_b": (3, 8),
            f"{layer}/feedforward_intermediate_dense/lora_kernel_a": (8, 3),
            f"{layer}/feedforward_intermediate_dense/lora_kernel_b": (3, 16),
        }
        # A single name is a list of one.
        other = tiny_backbone("bert")
        other.enable_lora(1, target_names="key")
        assert other.lora_config["target_names"] == ["key"]
        assert len(other.trainable_weights) == 2

    def test_bad_input_changes_nothing(self):
        backbone = tiny_backbone("bert")
        unchanged = state(backbone)
        for rank in (0, -1, 2.5, True, "8", None):
            with pytest.raises(ValueError, match=f"rank={rank!r}"):
                backbone.enable_lora(rank)
            assert state(backbone) == unchanged
        for names in ([], "", ["query", 3], {"query": 1}):
            with pytest.raises(ValueError, match="target_names"):
                backbone.enable_lora(2, target_names=names)
            assert state(backbone) == unchanged
        # One unmatched name refuses the whole call (the other exists).
        with pytest.raises(ValueError, match=r"\['querry'\] match no .*'query'"):
            backbone.enable_lora(2, target_names=["value", "querry"])
        assert state(backbone) == unchanged

        backbone.enable_lora(2)
        enabled = state(backbone)
        for names in (None, ["key"]):
            with pytest.raises(ValueError, match=r"already enabled .*rank 2"):
                backbone.enable_lora(4, target_names=names)
            assert state(backbone) == enabled

    def test_fit_trains_only_the_lora_matrices_and_the_head(self):
        backbone = tiny_backbone("bert")
        classifier = models.BertClassifier(backbone, num_classes=2, dropout=0.0)
        backbone.enable_lora(2)
        # Non-zero `b` (at zero, one step moves `b` and leaves `a`) and
        # larger embeddings (the tiny model's attention scores are near zero).
        randomize_lora(backbone)
        embeddings = backbone.token_embedding.embeddings
        embeddings.assign(embeddings * 20.0)
        classifier.compile(
            optimizer=keras.optimizers.Adam(1e-2),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        head = [v.path for v in classifier.trainable_weights if "lora" not in v.path]
        assert head and not any(v.path in head for v in backbone.weights)
        assert len(classifier.trainable_weights) == len(lora_paths(backbone)) + len(head)
        before = {id(v): _np(v).copy() for v in classifier.weights}

        inputs = tiny_inputs(backbone, batch_size=8)
        labels = np.arange(8) % 2
        classifier.fit(inputs, labels, batch_size=4, epochs=1, verbose=0)

        for variable in classifier.weights:
            changed = not np.array_equal(before[id(variable)], _np(variable))
            trains = "lora" in variable.path or variable.path in head
            assert changed == trains, variable.path


class TestLoraWeightsFile(TestCase):
    def test_save_and_load(self, tmp_path):
        source = tiny_backbone("bert", num_layers=2)
        target = type(source).from_config(source.get_config())
        target.set_weights(source.get_weights())  # Same base weights.
        source.enable_lora(2)
        randomize_lora(source)
        path = tmp_path / "adapter.lora.safetensors"
        source.save_lora_weights(path)

        # Only the LoRA matrices, named by path, with their settings; no
        # temporary file left behind.
        from safetensors import safe_open

        with safe_open(str(path), framework="numpy") as f:
            assert sorted(f.keys()) == lora_paths(source)
            assert f.metadata() == {
                "format": "keras_nlp_clone.lora.v1",
                "backbone_class": "BertBackbone",
                "rank": "2",
                "target_names": '["query", "value"]',
            }
            for variable in source.trainable_weights:
                np.testing.assert_array_equal(f.get_tensor(variable.path), _np(variable))
        assert os.listdir(tmp_path) == ["adapter.lora.safetensors"]

        # A backbone without LoRA takes the file's settings...
        target.load_lora_weights(str(path))
        assert target.lora_config == source.lora_config
        assert [v.trainable for v in target.weights] == [
            v.trainable for v in source.weights
        ]
        inputs = tiny_inputs(source)
        keras.tree.map_structure(
            lambda x, y: np.testing.assert_array_equal(x, y),
            outputs_of(source, inputs),
            outputs_of(target, inputs),
        )
        # ...and one with the same LoRA takes new values.
        randomize_lora(source, seed=2)
        source.save_lora_weights(path)
        target.load_lora_weights(path)
        for x, y in zip(source.trainable_weights, target.trainable_weights):
            np.testing.assert_array_equal(_np(x), _np(y))

    def test_errors_leave_the_model_unchanged(self, tmp_path):
        def saved(backbone, name, **kwargs):
            backbone.enable_lora(**{"rank": 2, **kwargs})
            path = str(tmp_path / name)
            backbone.save_lora_weights(path)
            return path

        bert_file = saved(tiny_backbone("bert", num_layers=2), "bert")
        gpt2_file = saved(tiny_backbone("gpt2", num_layers=2), "gpt2")
        wide_file = saved(tiny_backbone("bert", num_layers=2, hidden_dim=16), "wide")
        deep_file = saved(tiny_backbone("bert", num_layers=3), "deep")
        key_file = saved(tiny_backbone("bert", num_layers=2), "key", target_names=["key"])
        from safetensors.numpy import save_file

        other_file = str(tmp_path / "other.safetensors")
        save_file({"x": np.zeros(2, "float32")}, other_file)

        plain = tiny_backbone("bert", num_layers=2)
        enabled = tiny_backbone("bert", num_layers=2)
        enabled.enable_lora(4)
        randomize_lora(enabled)
        with pytest.raises(ValueError, match="not enabled"):
            plain.save_lora_weights(str(tmp_path / "none"))
        cases = [
            (plain, str(tmp_path / "missing"), FileNotFoundError, "No LoRA weights file"),
            (plain, other_file, ValueError, "not a LoRA weights file"),
            (plain, gpt2_file, ValueError, "saved from a `GPT2Backbone`, not a `BertBackbone`"),
            (plain, wide_file, ValueError, r"shapes differ: .*\(16, 2, 2\) in the file, \(8, 2, 2\) here"),
            (plain, deep_file, ValueError, "in the file but not in this model: .*transformer_layer_2"),
            (enabled, bert_file, ValueError, "rank 2 in the file, 4 here"),
            (enabled, key_file, ValueError, r"target_names \['key'\] in the file"),
        ]
        for backbone, path, error, message in cases:
            before = (state(backbone), snapshot(backbone))
            with pytest.raises(error, match=message):
                backbone.load_lora_weights(path)
            after = (state(backbone), snapshot(backbone))
            assert after[0] == before[0]
            for x, y in zip(before[1], after[1]):
                np.testing.assert_array_equal(x, y)
        # After all that, the right file still loads.
        plain.load_lora_weights(bert_file)
        assert plain.lora_config == {"rank": 2, "target_names": ["query", "value"]}


class TestLoraPresets(TestCase):
    def test_backbone_preset_round_trip(self, tmp_path):
        backbone = tiny_backbone("gpt2", num_layers=2)
        backbone.enable_lora(2, target_names=["query", "value", "feedforward_output_dense"])
        randomize_lora(backbone)
        assert backbone.get_config()["lora"] == backbone.lora_config
        backbone.save_to_preset(str(tmp_path))
        restored = Backbone.from_preset(str(tmp_path))
        assert type(restored) is models.GPT2Backbone
        assert restored.lora_config == backbone.lora_config
        assert [v.path for v in restored.weights] == [v.path for v in backbone.weights]
        assert [v.trainable for v in restored.weights] == [
            v.trainable for v in backbone.weights
        ]
        for x, y in zip(snapshot(backbone), snapshot(restored)):
            np.testing.assert_array_equal(x, y)

    def test_task_preset_round_trip(self, tmp_path):
        backbone = tiny_backbone("roberta")
        classifier = models.RobertaClassifier(backbone, num_classes=3)
        backbone_ids = {id(v) for v in backbone.weights}
        for variable in classifier.weights:
            if id(variable) not in backbone_ids:  # The head: larger logits.
                variable.assign(variable + 0.5)
        inputs = tiny_inputs(backbone)
        base = classifier.predict(inputs, verbose=0)  # Compiles `predict`.
        backbone.enable_lora(2)
        randomize_lora(backbone, scale=1.0)
        # The compiled function is rebuilt with the LoRA matrices.
        lora = classifier.predict(inputs, verbose=0)
        self.assertAllClose(lora, classifier(inputs), atol=1e-5, rtol=1e-5)
        assert np.abs(lora - base).max() > 1e-4  # Stale: exactly `base`.
        classifier.save_to_preset(str(tmp_path))
        restored = models.RobertaClassifier.from_preset(str(tmp_path))
        assert restored.backbone.lora_config == backbone.lora_config
        assert [v.path for v in restored.trainable_weights] == [
            v.path for v in classifier.trainable_weights
        ]
        np.testing.assert_array_equal(
            _np(classifier.predict(inputs, verbose=0)),
            _np(restored.predict(inputs, verbose=0)),
        )


ALL_PROJECTIONS = [
    "query",
    "key",
    "value",
    "attention_output",
    "feedforward_intermediate_dense",
    "feedforward_output_dense",
]


class TestLoraGeneration(TestCase):
    """Cached decoding (with its PyTorch fast path) sees the LoRA-adjusted
    projections: generation equals greedy decoding by full forward
    passes."""

    def test_gpt2(self):
        backbone = tiny_backbone("gpt2", num_layers=2, hidden_dim=16)
        causal_lm = models.GPT2CausalLM(backbone, preprocessor=None)
        causal_lm.compile(sampler="greedy")
        for variable in backbone.token_embedding.weights:
            variable.assign(variable * 50.0)  # Well-separated logits.
        rows = [[1, 20, 21], [1, 5, 40, 41, 42]]
        token_ids = np.zeros((2, 10), "int32")
        padding_mask = np.zeros((2, 10), bool)
        for i, row in enumerate(rows):
            token_ids[i, : len(row)] = row
            padding_mask[i, : len(row)] = True
        prompt = {"token_ids": token_ids, "padding_mask": padding_mask}
        base = causal_lm.generate(prompt, stop_token_ids=None)["token_ids"]

        backbone.enable_lora(2, target_names=ALL_PROJECTIONS)
        randomize_lora(backbone, scale=1.0)
        out = causal_lm.generate(prompt, stop_token_ids=None)["token_ids"]
        for i, row in enumerate(rows):
            tokens = list(row)
            while len(tokens) < 10:
                ids = np.zeros((1, 10), "int32")
                ids[0, : len(tokens)] = tokens
                logits = _np(causal_lm({"token_ids": ids, "padding_mask": ids >= 0}))
                tokens.append(int(np.argmax(logits[0, len(tokens) - 1])))
            self.assertAllEqual(out[i], tokens)
        # The LoRA matrices changed the continuation.
        assert out.tolist() != base.tolist()

    def test_bart(self):
        backbone = tiny_backbone("bart", hidden_dim=16)
        seq_2_seq_lm = models.BartSeq2SeqLM(backbone, preprocessor=None)
        seq_2_seq_lm.compile(sampler="greedy")
        backbone.enable_lora(2, target_names=ALL_PROJECTIONS)
        randomize_lora(backbone, scale=1.0)
        encoder = np.array([[0, 20, 21, 2, 1, 1], [0, 23, 24, 5, 40, 2]], "int32")
        decoder = np.ones((2, 8), "int32")
        decoder[:, :2] = [2, 0]
        decoder[1, 2] = 30
        fixed = decoder != 1
        prompt = {
            "encoder_token_ids": encoder,
            "encoder_padding_mask": encoder != 1,
            "decoder_token_ids": decoder,
            "decoder_padding_mask": fixed,
        }
        out = seq_2_seq_lm.generate(prompt, stop_token_ids=None)["decoder_token_ids"]
        expected = decoder.copy()
        for index in range(2, 8):
            logits = _np(seq_2_seq_lm({**prompt, "decoder_token_ids": expected,
                                       "decoder_padding_mask": np.ones_like(fixed)}))
            next_token = logits[:, index - 1].argmax(axis=-1)
            expected[:, index] = np.where(fixed[:, index], expected[:, index], next_token)
        assert _np(out).tolist() == expected.tolist()
