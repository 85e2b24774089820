"""`Backbone.get_layout_map` and `keras.distribution` on every family.

Under JAX the suite runs on eight virtual CPU devices (`XLA_FLAGS` is set in
the root `conftest.py` before JAX loads). Each check builds a model on one
device, copies its weights into the same model built under a distribution,
and compares: variables must really be sharded (`value.sharding`), and
outputs, generated ids and one training step must equal the single-device
result within 1e-5. Under TensorFlow and PyTorch, where Keras shards no
variables, the same calls must fail with an error naming JAX.
"""

import contextlib

import keras
import numpy as np
import pytest

import keras_nlp_clone as keras_nlp
from tests.models.gpt2.conftest import TINY_MERGES as GPT2_MERGES
from tests.models.gpt2.conftest import TINY_VOCAB as GPT2_VOCAB
from tests.test_case import TestCase

JAX = keras.backend.backend() == "jax"
jax_only = pytest.mark.skipif(not JAX, reason="keras.distribution is JAX-only")

MESHES = [(8, 1), (2, 4), (1, 8)]
BATCH = 8
SEQ = 10
VOCAB = 96
# num_heads, hidden_dim and intermediate_dim divide every model axis size.
TINY = dict(
    vocabulary_size=VOCAB,
    num_layers=1,
    num_heads=8,
    hidden_dim=16,
    intermediate_dim=32,
    max_sequence_length=16,
    dropout=0.0,
)
FAMILIES = {
    "bert": keras_nlp.models.BertBackbone,
    "distil_bert": keras_nlp.models.DistilBertBackbone,
    "roberta": keras_nlp.models.RobertaBackbone,
    "xlm_roberta": keras_nlp.models.XLMRobertaBackbone,
    "gpt2": keras_nlp.models.GPT2Backbone,
    "bart": keras_nlp.models.BartBackbone,
}
# Variable path suffix -> partition spec, with "model" the model axis.
EXPECTED_SPECS = {
    "token_embedding/embeddings": (None, "model"),
    "query/kernel": (None, "model", None),
    "key/kernel": (None, "model", None),
    "value/kernel": (None, "model", None),
    "query/bias": ("model", None),
    "key/bias": ("model", None),
    "value/bias": ("model", None),
    "attention_output/kernel": ("model", None, None),
    "feedforward_intermediate_dense/kernel": (None, "model"),
    "feedforward_intermediate_dense/bias": ("model",),
    "feedforward_output_dense/kernel": ("model", None),
}


def _inputs(family, seed=0):
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, VOCAB, (BATCH, SEQ)).astype("int32")
    mask = np.ones((BATCH, SEQ), "int32")
    mask[::3, SEQ - 3 :] = 0  # some padded rows
    if family == "bart":
        return {
            "encoder_token_ids": ids,
            "encoder_padding_mask": mask,
            "decoder_token_ids": ids[:, ::-1].copy(),
            "decoder_padding_mask": mask,
        }
    inputs = {"token_ids": ids, "padding_mask": mask}
    if family == "bert":
        inputs["segment_ids"] = np.zeros_like(ids)
    return inputs


def _mesh(shape):
    return keras.distribution.DeviceMesh(
        shape, ("batch", "model"), keras.distribution.list_devices()
    )


def _model_parallel(cls, shape):
    layout_map = cls.get_layout_map(_mesh(shape))
    return keras.distribution.ModelParallel(
        layout_map=layout_map, batch_dim_name="batch"
    )


@contextlib.contextmanager
def _distributed(distribution):
    keras.distribution.set_distribution(distribution)
    try:
        yield
    finally:
        keras.distribution.set_distribution(None)


def _spec_of(variable):
    spec = tuple(variable.value.sharding.spec)
    return spec + (None,) * (len(variable.shape) - len(spec))


def _check_sharded(model, model_axis_size):
    """Every split variable has its spec and shard shape; the rest is
    replicated. Returns the number of split variables."""
    split = 0
    for variable in model.weights:
        sharding = variable.value.sharding
        assert len(sharding.device_set) == 8, variable.path
        expected = next(
            (
                spec
                for suffix, spec in EXPECTED_SPECS.items()
                if variable.path.endswith(suffix)
            ),
            (None,) * len(variable.shape),
        )
        assert _spec_of(variable) == expected, variable.path
        shard = sharding.shard_shape(tuple(variable.shape))
        want = tuple(
            dim // model_axis_size if axis == "model" else dim
            for dim, axis in zip(variable.shape, expected)
        )
        assert shard == want, variable.path
        split += "model" in expected
    return split


def _copy(model):
    return [np.array(w) for w in model.get_weights()]


def _assert_weights_equal(model, weights, atol=1e-5):
    for variable, value in zip(model.weights, weights):
        np.testing.assert_allclose(
            np.asarray(variable.value), value, atol=atol, rtol=0, err_msg=variable.path
        )


@jax_only
class TestLayoutMap(TestCase):
    @pytest.mark.parametrize("shape", MESHES, ids=str)
    @pytest.mark.parametrize("family", list(FAMILIES))
    def test_every_family_is_sharded_on_every_mesh(self, family, shape):
        cls = FAMILIES[family]
        with _distributed(_model_parallel(cls, shape)):
            backbone = cls(**TINY)
        split = _check_sharded(backbone, model_axis_size=shape[1])
        # Per attention block: q/k/v kernels and biases and the output
        # kernel (7); per feed-forward block 3; plus the token table.
        attention_blocks = 3 if family == "bart" else 1
        ffn_blocks = 2 if family == "bart" else 1
        assert split == 7 * attention_blocks + 3 * ffn_blocks + 1

    @pytest.mark.parametrize("family", list(FAMILIES))
    def test_outputs_equal_single_device(self, family):
        cls = FAMILIES[family]
        reference = cls(**TINY)
        weights = _copy(reference)
        inputs = _inputs(family)
        expected = reference.predict(inputs, batch_size=BATCH, verbose=0)
        with _distributed(_model_parallel(cls, (2, 4))):
            backbone = cls(**TINY)
            backbone.set_weights(weights)
            _check_sharded(backbone, model_axis_size=4)
            outputs = backbone.predict(inputs, batch_size=BATCH, verbose=0)
        self.assertAllClose(outputs, expected, atol=1e-5, rtol=0)

    @pytest.mark.parametrize("shape", [(8, 1), (1, 8), "data_parallel"], ids=str)
    def test_bert_outputs_on_other_meshes(self, shape):
        cls = FAMILIES["bert"]
        reference = cls(**TINY)
        weights = _copy(reference)
        inputs = _inputs("bert")
        expected = reference.predict(inputs, batch_size=BATCH, verbose=0)
        if shape == "data_parallel":
            distribution = keras.distribution.DataParallel()
        else:
            distribution = _model_parallel(cls, shape)
        with _distributed(distribution):
            backbone = cls(**TINY)
            backbone.set_weights(weights)
            outputs = backbone.predict(inputs, batch_size=BATCH, verbose=0)
        if shape == (1, 8):
            _check_sharded(backbone, model_axis_size=8)
        self.assertAllClose(outputs, expected, atol=1e-5, rtol=0)

    def test_mesh_that_does_not_divide_raises_before_any_weight(self):
        cls = FAMILIES["gpt2"]
        with _distributed(_model_parallel(cls, (2, 4))):
            with pytest.raises(ValueError, match=r"`num_heads`=6 is not divisible by 4"):
                cls(**dict(TINY, num_heads=6, hidden_dim=12))
            with pytest.raises(ValueError, match=r"`intermediate_dim`=30"):
                cls(**dict(TINY, intermediate_dim=30))
            # Positional arguments are checked too.
            with pytest.raises(ValueError, match=r"`num_heads`=2"):
                cls(VOCAB, 1, 2, 16, 32)

    def test_bad_mesh_arguments(self):
        mesh = _mesh((2, 4))
        get = FAMILIES["bert"].get_layout_map
        with pytest.raises(ValueError, match="'tensor' is not an axis"):
            get(mesh, model_parallel_dim_name="tensor")
        with pytest.raises(ValueError, match="'data' is not an axis"):
            get(mesh, data_parallel_dim_name="data")
        with pytest.raises(ValueError, match="must differ"):
            get(mesh, model_parallel_dim_name="batch")
        with pytest.raises(ValueError, match="must be a `keras.distribution.DeviceMesh`"):
            get((2, 4))
        # Other axis names work.
        mesh = keras.distribution.DeviceMesh(
            (4, 2), ("data", "tensor"), keras.distribution.list_devices()
        )
        layout_map = get(mesh, "tensor", "data")
        assert tuple(layout_map["transformer_layer_0/self_attention/query/kernel"].axes) == (
            None,
            "tensor",
            None,
        )


def _tiny_gpt2_lm(preprocessor=None):
    backbone = keras_nlp.models.GPT2Backbone(**dict(TINY, vocabulary_size=len(GPT2_VOCAB)))
    return keras_nlp.models.GPT2CausalLM(backbone=backbone, preprocessor=preprocessor)


def _tiny_bart_lm():
    backbone = keras_nlp.models.BartBackbone(**TINY)
    return keras_nlp.models.BartSeq2SeqLM(backbone=backbone, preprocessor=None)


def _train_step_data(task_name):
    rng = np.random.default_rng(1)
    if task_name == "bert_classifier":
        return _inputs("bert"), rng.integers(0, 2, (BATCH,)).astype("int32")
    if task_name == "gpt2_causal_lm":
        x = _inputs("gpt2")
        x["token_ids"] = x["token_ids"] % len(GPT2_VOCAB)
        return x, rng.integers(1, len(GPT2_VOCAB), (BATCH, SEQ)).astype("int32")
    return _inputs("bart"), rng.integers(1, VOCAB, (BATCH, SEQ)).astype("int32")


def _make_task(task_name):
    if task_name == "bert_classifier":
        backbone = keras_nlp.models.BertBackbone(**TINY)
        return keras_nlp.models.BertClassifier(
            backbone=backbone, num_classes=2, preprocessor=None, dropout=0.0
        )
    if task_name == "gpt2_causal_lm":
        return _tiny_gpt2_lm()
    return _tiny_bart_lm()


def _compile_sgd(task):
    task.compile(
        optimizer=keras.optimizers.SGD(learning_rate=0.5),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )


@jax_only
class TestDistributedTasks(TestCase):
    @pytest.mark.parametrize(
        "task_name, shape",
        [
            ("bert_classifier", (8, 1)),
            ("gpt2_causal_lm", (2, 4)),
            ("bart_seq_2_seq_lm", (1, 8)),
        ],
        ids=str,
    )
    def test_training_step_equals_single_device(self, task_name, shape):
        x, y = _train_step_data(task_name)
        reference = _make_task(task_name)
        initial = _copy(reference)
        _compile_sgd(reference)
        # The loss of the one step is computed before the update.
        history = reference.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
        expected_loss = history.history["loss"][0]
        trained = _copy(reference)
        assert max(np.abs(a - b).max() for a, b in zip(initial, trained)) > 1e-3

        with _distributed(_model_parallel(keras_nlp.models.Backbone, shape)):
            task = _make_task(task_name)
            task.set_weights(initial)
            _compile_sgd(task)
            history = task.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
        assert history.history["loss"][0] == pytest.approx(expected_loss, abs=1e-5)
        _assert_weights_equal(task, trained)
        _check_sharded(task.backbone, model_axis_size=shape[1])

    @pytest.mark.parametrize("distribution_kind", ["model_parallel", "data_parallel"])
    def test_gpt2_generate_on_strings_equals_single_device(self, distribution_kind):
        tokenizer = keras_nlp.models.GPT2Tokenizer(
            vocabulary=dict(GPT2_VOCAB), merges=list(GPT2_MERGES)
        )
        preprocessor = keras_nlp.models.GPT2CausalLMPreprocessor(
            tokenizer=tokenizer, sequence_length=16
        )
        prompts = ["the quick", "a lazy dog", "the", "it is over the brown"] * 2
        reference = _tiny_gpt2_lm(preprocessor)
        weights = _copy(reference)
        reference.compile(sampler="greedy")
        expected = reference.generate(prompts, max_length=16)
        if distribution_kind == "data_parallel":
            distribution = keras.distribution.DataParallel()
        else:
            distribution = _model_parallel(keras_nlp.models.GPT2Backbone, (2, 4))
        with _distributed(distribution):
            causal_lm = _tiny_gpt2_lm(preprocessor)
            causal_lm.set_weights(weights)
            causal_lm.compile(sampler="greedy")
            outputs = causal_lm.generate(prompts, max_length=16)
        assert outputs == expected
        assert all(len(o) > len(p) for o, p in zip(outputs, prompts))

    def test_bart_generate_with_caches_equals_single_device(self):
        x = _inputs("bart")
        prompt = {
            "encoder_token_ids": x["encoder_token_ids"],
            "encoder_padding_mask": x["encoder_padding_mask"],
            "decoder_token_ids": np.pad(x["decoder_token_ids"][:, :2], ((0, 0), (0, 6))),
            "decoder_padding_mask": np.pad(np.ones((BATCH, 2), "int32"), ((0, 0), (0, 6))),
        }
        reference = _tiny_bart_lm()
        weights = _copy(reference)
        reference.compile(sampler="greedy")
        expected = reference.generate(prompt, stop_token_ids=None)
        with _distributed(_model_parallel(keras_nlp.models.BartBackbone, (2, 4))):
            seq_2_seq_lm = _tiny_bart_lm()
            seq_2_seq_lm.set_weights(weights)
            seq_2_seq_lm.compile(sampler="greedy")
            outputs = seq_2_seq_lm.generate(prompt, stop_token_ids=None)
        self.assertAllEqual(outputs, expected)
        # Generation filled every padded decoder position.
        assert np.all(np.asarray(outputs["decoder_padding_mask"]))


@jax_only
class TestRealCheckpoint(TestCase):
    def test_minilm_from_preset_sharded_predicts_as_on_one_device(self, imdb_reviews):
        texts = [text for text, _ in imdb_reviews[:BATCH]]
        labels = np.array([label for _, label in imdb_reviews[:BATCH]])
        preprocessor = keras_nlp.models.BertPreprocessor.from_preset(
            "all_minilm_l6_v2_en", sequence_length=64
        )
        reference = keras_nlp.models.BertBackbone.from_preset("all_minilm_l6_v2_en")
        features = preprocessor(texts)
        expected = reference.predict(features, batch_size=BATCH, verbose=0)
        cls = keras_nlp.models.BertBackbone
        with _distributed(_model_parallel(cls, (2, 4))):
            backbone = cls.from_preset("all_minilm_l6_v2_en")
            outputs = backbone.predict(features, batch_size=BATCH, verbose=0)
            classifier = keras_nlp.models.BertClassifier(
                backbone=backbone, num_classes=2, preprocessor=preprocessor
            )
            # Raw strings through the task's tf.data pipeline, sharded.
            results = classifier.evaluate(
                texts, labels, batch_size=BATCH, return_dict=True, verbose=0
            )
        kernel = backbone.get_layer("transformer_layer_0")._self_attention_layer
        kernel = kernel._query_dense.kernel
        assert _spec_of(kernel) == (None, "model", None)
        assert kernel.value.sharding.shard_shape((384, 12, 32)) == (384, 3, 32)
        _check_sharded(backbone, model_axis_size=4)
        self.assertAllClose(outputs, expected, atol=1e-5, rtol=0)
        assert np.isfinite(results["loss"])
        # all-MiniLM-L6-v2 has 12 heads: an 8-way model axis cannot split it.
        with _distributed(_model_parallel(cls, (1, 8))):
            with pytest.raises(ValueError, match=r"`num_heads`=12 .* sizes dividing 8: \[1, 2, 4\]"):
                cls.from_preset("all_minilm_l6_v2_en")


@pytest.mark.skipif(JAX, reason="the non-JAX error")
class TestOtherBackends(TestCase):
    def test_get_layout_map_names_jax(self):
        mesh = keras.distribution.DeviceMesh((1,), ("model",), ["cpu:0"])
        with pytest.raises(ValueError, match="needs the JAX backend.*KERAS_BACKEND=jax"):
            keras_nlp.models.BertBackbone.get_layout_map(mesh, data_parallel_dim_name="model")

    @pytest.mark.skipif(
        keras.backend.backend() != "tensorflow",
        reason="Keras has no distribution backend to set one under PyTorch",
    )
    def test_building_under_a_distribution_names_jax(self):
        mesh = keras.distribution.DeviceMesh((1,), ("batch",), ["cpu:0"])
        with _distributed(keras.distribution.DataParallel(device_mesh=mesh)):
            with pytest.raises(ValueError, match="Building `GPT2Backbone` under `DataParallel` needs the JAX backend"):
                keras_nlp.models.GPT2Backbone(**TINY)
