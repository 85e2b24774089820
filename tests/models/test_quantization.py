"""int8 quantization (`quantize("int8")`) of every backbone and task.

For each family a tiny random model is run in float32, quantized in place,
run again, saved to a preset and reloaded. The checks:

- the Dense/EinsumDense/Embedding kernels (and the token embedding table)
  are int8 after `quantize`, with float32 scales;
- outputs stay close to float32: max |int8 - float32| <= 5% of the
  outputs' max |float32| (measured on these tiny models: at most about
  1.5%; int8 absmax rounding of weights and activations);
- the preset round trip is exact (same variables in the same order, the
  same outputs to the last bit);
- `generate` works (GPT-2, BART) and its first greedy token is the argmax
  of the quantized model's own logits;
- bad calls (twice, unknown modes, float16) raise before anything changes.
"""

import numpy as np
import pytest

import keras
from keras_nlp_clone import models
from tests.test_case import TestCase

VOCAB = 40
TINY = dict(
    vocabulary_size=VOCAB,
    num_layers=1,
    num_heads=2,
    hidden_dim=8,
    intermediate_dim=16,
    max_sequence_length=16,
)
# Relative tolerance of int8 outputs against float32 (see the docstring).
RELATIVE_TOLERANCE = 0.05


def _np(x):
    return keras.ops.convert_to_numpy(x)


def _token_ids(first, last=0, pad=0):
    rng = np.random.default_rng(0)
    ids = rng.integers(5, VOCAB, size=(2, 8)).astype("int32")
    ids[:, 0] = first
    ids[0, 5:] = pad
    return ids


def _encoder_inputs(pad, segments=False):
    ids = _token_ids(first=2 if pad == 0 else 0, pad=pad)
    inputs = {"token_ids": ids, "padding_mask": (ids != pad).astype("int32")}
    if segments:
        inputs["segment_ids"] = np.zeros_like(ids)
    return inputs


def _with_mask_positions(inputs):
    return dict(inputs, mask_positions=np.array([[1, 2], [3, 6]], "int32"))


def _bart_inputs():
    encoder = _token_ids(first=0, pad=1)
    decoder = _token_ids(first=2, pad=1)[:, :6]
    return {
        "encoder_token_ids": encoder,
        "encoder_padding_mask": (encoder != 1).astype("int32"),
        "decoder_token_ids": decoder,
        "decoder_padding_mask": (decoder != 1).astype("int32"),
    }


# family -> (backbone class, backbone inputs, [(task class, kwargs, inputs)]).
FAMILIES = {
    "bert": (
        models.BertBackbone,
        _encoder_inputs(pad=0, segments=True),
        [
            (models.BertClassifier, {"num_classes": 3}, None),
            (models.BertMaskedLM, {}, _with_mask_positions),
        ],
    ),
    "distil_bert": (
        models.DistilBertBackbone,
        _encoder_inputs(pad=0),
        [
            (models.DistilBertClassifier, {"num_classes": 3}, None),
            (models.DistilBertMaskedLM, {}, _with_mask_positions),
        ],
    ),
    "roberta": (
        models.RobertaBackbone,
        _encoder_inputs(pad=1),
        [
            (models.RobertaClassifier, {"num_classes": 3}, None),
            (models.RobertaMaskedLM, {}, _with_mask_positions),
        ],
    ),
    "xlm_roberta": (
        models.XLMRobertaBackbone,
        _encoder_inputs(pad=1),
        [
            (models.XLMRobertaClassifier, {"num_classes": 3}, None),
            (models.XLMRobertaMaskedLM, {}, _with_mask_positions),
        ],
    ),
    "gpt2": (
        models.GPT2Backbone,
        _encoder_inputs(pad=0),
        [(models.GPT2CausalLM, {}, None)],
    ),
    "bart": (models.BartBackbone, _bart_inputs(), [(models.BartSeq2SeqLM, {}, None)]),
}
TASK_CASES = [
    pytest.param((family, i), id=f"{family}-{task_cls.__name__}")
    for family, (_, _, tasks) in FAMILIES.items()
    for i, (task_cls, _, _) in enumerate(tasks)
]


def _outputs(model, inputs):
    # Eager calls (no compiled function per model): `predict` is checked
    # once per task, in `test_predict_close_to_float`.
    out = model(inputs)
    if isinstance(out, dict):
        return {k: _np(v) for k, v in out.items()}
    return {"out": _np(out)}


def _assert_close_to_float(quantized, reference):
    for key in reference:
        scale = np.abs(reference[key]).max()
        error = np.abs(quantized[key] - reference[key]).max()
        assert error <= RELATIVE_TOLERANCE * scale, (key, error, scale)
        # Quantization did change the arithmetic.
        assert error > 0, key


def _assert_int8_kernels(model):
    from keras_nlp_clone.utils.quantization_utils import leaf_layers

    quantizable = (
        keras.layers.Dense,
        keras.layers.EinsumDense,
        keras.layers.Embedding,
    )
    layers = [l for l in leaf_layers(model) if isinstance(l, quantizable)]
    assert layers
    for layer in layers:
        kernel = layer._embeddings if isinstance(
            layer, keras.layers.Embedding
        ) else layer._kernel
        scale = (
            layer.embeddings_scale
            if isinstance(layer, keras.layers.Embedding)
            else layer.kernel_scale
        )
        assert kernel.dtype == "int8", layer.path
        assert scale.dtype == "float32", layer.path
        assert layer.quantization_mode == "int8", layer.path


def _assert_same_variables(a, b):
    assert [(v.path, v.dtype, tuple(v.shape)) for v in a.weights] == [
        (v.path, v.dtype, tuple(v.shape)) for v in b.weights
    ]
    for x, y in zip(a.weights, b.weights):
        np.testing.assert_array_equal(_np(x), _np(y), err_msg=x.path)


@pytest.fixture(scope="module", params=TASK_CASES)
def quantized_task(request, tmp_path_factory):
    """A dict: the task (quantized in place), its inputs, float32 and int8
    outputs (task and backbone), the saved preset and the reloaded task."""
    family, index = request.param
    backbone_cls, backbone_inputs, tasks = FAMILIES[family]
    task_cls, kwargs, make_inputs = tasks[index]
    inputs = backbone_inputs if make_inputs is None else make_inputs(
        backbone_inputs
    )
    keras.utils.set_random_seed(2)
    task = task_cls(backbone=backbone_cls(**TINY), preprocessor=None, **kwargs)
    # The backbone alone is checked with each family's first task.
    check_backbone = index == 0
    reference = _outputs(task, inputs)
    if check_backbone:
        backbone_reference = _outputs(task.backbone, backbone_inputs)
    task.quantize("int8")
    preset = str(tmp_path_factory.mktemp(f"q_{family}_{index}"))
    task.save_to_preset(preset)
    result = {
        "task": task,
        "inputs": inputs,
        "reference": reference,
        "quantized": _outputs(task, inputs),
        "preset": preset,
        "reloaded": task_cls.from_preset(preset),
    }
    if check_backbone:
        result["backbone"] = {
            "inputs": backbone_inputs,
            "reference": backbone_reference,
            "quantized": _outputs(task.backbone, backbone_inputs),
        }
    return result


class TestQuantizedModels(TestCase):
    def test_kernels_are_int8(self, quantized_task):
        task = quantized_task["task"]
        _assert_int8_kernels(task)
        assert task.backbone.token_embedding.embeddings.dtype == "int8"
        # Layer norms stay in float32.
        norms = [v for v in task.weights if v.path.endswith(("gamma", "beta"))]
        assert norms and all(v.dtype == "float32" for v in norms)

    def test_outputs_close_to_float(self, quantized_task):
        _assert_close_to_float(
            quantized_task["quantized"], quantized_task["reference"]
        )
        if "backbone" in quantized_task:
            backbone = quantized_task["backbone"]
            _assert_close_to_float(backbone["quantized"], backbone["reference"])

    def test_predict(self, quantized_task):
        task = quantized_task["task"]
        predicted = task.predict(quantized_task["inputs"], verbose=0)
        self.assertAllClose(
            predicted, quantized_task["quantized"]["out"], atol=1e-5, rtol=1e-5
        )

    def test_task_preset_round_trip_is_exact(self, quantized_task):
        task, reloaded = quantized_task["task"], quantized_task["reloaded"]
        assert type(reloaded) is type(task)
        _assert_same_variables(task, reloaded)
        again = _outputs(reloaded, quantized_task["inputs"])
        np.testing.assert_array_equal(again["out"], quantized_task["quantized"]["out"])

    def test_backbone_preset_round_trip_is_exact(self, quantized_task):
        if "backbone" not in quantized_task:
            pytest.skip("checked with the family's first task")
        expected = quantized_task["backbone"]
        backbone = quantized_task["task"].backbone
        reloaded = models.Backbone.from_preset(quantized_task["preset"])
        _assert_same_variables(backbone, reloaded)
        again = _outputs(reloaded, expected["inputs"])
        for key, value in expected["quantized"].items():
            np.testing.assert_array_equal(again[key], value)
        # The reloaded backbone records its quantization again.
        assert reloaded.get_config()["dtype"] == backbone.get_config()["dtype"]
        # Without weights, the preset still builds the int8 architecture.
        bare = models.Backbone.from_preset(
            quantized_task["preset"], load_weights=False
        )
        assert [v.dtype for v in bare.weights] == [v.dtype for v in backbone.weights]


    def test_generate(self, quantized_task):
        # Greedy generation runs with the int8 cache path and head: the
        # first new token is the argmax of the quantized model's logits.
        task = quantized_task["task"]
        if isinstance(task, models.Seq2SeqLM):  # (also a CausalLM)
            decoder = np.ones((2, 6), "int32")
            decoder[:, :2] = [2, 0]
            inputs = quantized_task["inputs"]
            prompt = {
                "encoder_token_ids": inputs["encoder_token_ids"],
                "encoder_padding_mask": inputs["encoder_padding_mask"],
                "decoder_token_ids": decoder,
                "decoder_padding_mask": (decoder != 1).astype("int32"),
            }
            key, last = "decoder_token_ids", 1
        elif isinstance(task, models.CausalLM):
            ids = np.zeros((2, 8), "int32")
            ids[:, :4] = [[7, 8, 9, 10], [11, 12, 13, 14]]
            prompt = {"token_ids": ids, "padding_mask": ids != 0}
            key, last = "token_ids", 3
        else:
            pytest.skip(f"{type(task).__name__} does not generate")
        task.compile(sampler="greedy")
        out = task.generate(prompt, stop_token_ids=None)[key]
        assert out.shape == prompt[key].shape
        np.testing.assert_array_equal(out[:, : last + 1], prompt[key][:, : last + 1])
        logits = _np(task(prompt))
        np.testing.assert_array_equal(
            out[:, last + 1], np.argmax(logits[:, last], axis=-1)
        )


class TestQuantizeErrors(TestCase):
    @pytest.fixture(scope="class")
    def classifier(self):
        keras.utils.set_random_seed(5)
        return models.BertClassifier(
            models.BertBackbone(**TINY), num_classes=2, preprocessor=None
        )

    def _state(self, model):
        return [(v.path, v.dtype) for v in model.weights]

    @pytest.mark.parametrize("mode", ["int4", "fp8", "float8", "foo", None, 8])
    def test_unknown_mode(self, classifier, mode):
        before = self._state(classifier)
        with pytest.raises(ValueError, match=r"supports mode='int8' only.*mode="):
            classifier.quantize(mode)
        with pytest.raises(ValueError, match=r"mode="):
            classifier.backbone.quantize(mode)
        assert self._state(classifier) == before

    def test_config_and_filters_errors(self, classifier):
        before = self._state(classifier)
        config = keras.quantizers.Int8QuantizationConfig()
        with pytest.raises(ValueError, match="takes no `config`"):
            classifier.quantize("int8", config=config)
        with pytest.raises(ValueError, match="found no Dense"):
            classifier.quantize("int8", filters="no_such_layer")
        with pytest.raises(ValueError, match="`filters` must be"):
            classifier.quantize("int8", filters=3)
        assert self._state(classifier) == before

    def test_quantizing_twice(self):
        keras.utils.set_random_seed(6)
        backbone = models.BertBackbone(**TINY)
        task = models.BertClassifier(backbone, num_classes=2, preprocessor=None)
        inputs = _encoder_inputs(pad=0, segments=True)
        backbone.quantize("int8")
        before = self._state(task)
        out = _np(task.predict(inputs, verbose=0))
        for model in (backbone, task):
            with pytest.raises(ValueError, match="already quantized.*once"):
                model.quantize("int8")
        assert self._state(task) == before
        np.testing.assert_array_equal(_np(task.predict(inputs, verbose=0)), out)
        # The head alone can still be quantized, selected by `filters`.
        task.quantize("int8", filters="logits")
        assert task.get_layer("logits").kernel.dtype == "int8"

    def test_float16_compute_dtype_refused(self):
        backbone = models.BertBackbone(**TINY, dtype="mixed_float16")
        before = self._state(backbone)
        with pytest.raises(ValueError, match="float16.*Nothing was changed"):
            backbone.quantize("int8")
        assert self._state(backbone) == before
