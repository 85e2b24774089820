import keras
import numpy as np
import pytest

from keras_nlp_clone.metrics import Perplexity
from tests.test_case import TestCase

VOCAB = 101


def numpy_perplexity(labels, logits, weights):
    """exp of the weighted mean token cross-entropy, in float64 NumPy."""
    logits = np.asarray(logits, "float64")
    log_probs = logits - logits.max(-1, keepdims=True)
    log_probs -= np.log(np.exp(log_probs).sum(-1, keepdims=True))
    safe = np.where(weights > 0, labels, 0)
    nll = -np.take_along_axis(log_probs, safe[..., None], -1)[..., 0]
    return float(np.exp((nll * weights).sum() / weights.sum()))


@pytest.fixture(scope="module")
def gpt2_batches():
    """Three batches of a tiny random GPT-2: (input ids, labels with -100 on
    padding, logits, the model's own loss)."""
    import torch
    import transformers

    torch.manual_seed(0)
    config = transformers.GPT2Config(
        vocab_size=VOCAB,
        n_positions=32,
        n_embd=16,
        n_layer=1,
        n_head=2,
    )
    model = transformers.GPT2LMHeadModel(config).eval()
    rng = np.random.default_rng(3)
    batches = []
    # One shape for every batch (JAX compiles each eager op once per
    # shape); right padding of different lengths, ignored as -100 labels,
    # gives each batch a different number of tokens.
    batch_size, length = 3, 16
    for _ in range(3):
        ids = rng.integers(1, VOCAB, size=(batch_size, length))
        lengths = rng.integers(3, length + 1, size=batch_size)
        lengths[0] = length
        labels = np.where(np.arange(length) < lengths[:, None], ids, -100)
        with torch.no_grad():
            out = model(
                input_ids=torch.tensor(ids),
                attention_mask=torch.tensor((labels != -100).astype("int64")),
                labels=torch.tensor(labels),
            )
        batches.append((ids, labels, out.logits.numpy(), float(out.loss)))
    return batches


class TestPerplexity(TestCase):
    @pytest.mark.large
    def test_gpt2_logits_match_hf_loss_and_numpy(self, gpt2_batches):
        # HF shifts inside the model: position t predicts label t + 1.
        metric = Perplexity(from_logits=True, mask_token_id=-100)
        nll_sum, n_tokens = 0.0, 0
        for ids, labels, logits, loss in gpt2_batches:
            y_true, y_pred = labels[:, 1:], logits[:, :-1]
            metric.update_state(y_true, y_pred)
            # One batch: exp(HF loss) and the NumPy oracle agree with ours.
            single = Perplexity(from_logits=True, mask_token_id=-100)
            single.update_state(y_true, y_pred)
            np.testing.assert_allclose(
                float(single.result()), np.exp(loss), rtol=1e-5
            )
            np.testing.assert_allclose(
                float(single.result()),
                numpy_perplexity(y_true, y_pred, (y_true != -100) * 1.0),
                rtol=1e-5,
            )
            # HF's recipe across batches: token-weighted mean of the losses.
            num_tokens = int((y_true != -100).sum())
            nll_sum += loss * num_tokens
            n_tokens += num_tokens
        expected = np.exp(nll_sum / n_tokens)
        np.testing.assert_allclose(float(metric.result()), expected, rtol=1e-5)
        all_true = np.concatenate([b[1][:, 1:] for b in gpt2_batches])
        all_pred = np.concatenate([b[2][:, :-1] for b in gpt2_batches])
        np.testing.assert_allclose(
            float(metric.result()),
            numpy_perplexity(all_true, all_pred, (all_true != -100) * 1.0),
            rtol=1e-5,
        )
        # Averaging the batch means (older KerasNLP, equal batch sizes here)
        # differs, since the batches have different numbers of tokens.
        old = np.exp(np.mean([b[3] for b in gpt2_batches]))
        assert abs(float(metric.result()) - old) > 1e-3

    def test_probabilities_sample_weight_and_mask(self):
        rng = np.random.default_rng(0)
        logits = rng.normal(size=(4, 6, 11)).astype("float32")
        labels = rng.integers(0, 11, size=(4, 6))
        labels[:, -2:] = 0
        sample_weight = rng.uniform(0.5, 2.0, size=(4, 6)).astype("float32")
        probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)

        metric = Perplexity(from_logits=False, mask_token_id=0)
        metric.update_state(labels, probs, sample_weight=sample_weight)
        weights = sample_weight * (labels != 0)
        np.testing.assert_allclose(
            float(metric.result()),
            numpy_perplexity(labels, logits, weights),
            rtol=1e-5,
        )
        # A per-sequence weight of shape (batch,) broadcasts over tokens.
        metric = Perplexity(from_logits=True)
        per_sequence = np.array([1.0, 0.0, 2.0, 1.0], "float32")
        metric.update_state(labels, logits, sample_weight=per_sequence)
        np.testing.assert_allclose(
            float(metric.result()),
            numpy_perplexity(
                labels, logits, np.broadcast_to(per_sequence[:, None], (4, 6))
            ),
            rtol=1e-5,
        )

    def test_keras_nlp_docstring_value(self):
        # KerasNLP's documented example: 14.352535 (uniform "probabilities",
        # renormalized by the loss).
        np.random.seed(42)
        target = np.random.randint(10, size=[2, 5])
        logits = np.random.uniform(size=(2, 5, 10))
        metric = Perplexity()
        np.testing.assert_allclose(
            float(metric(target, logits)), 14.352535, rtol=1e-6
        )
        np.random.seed(42)
        target = np.random.randint(10, size=[2, 5])
        logits = np.random.uniform(size=(2, 5, 10))
        metric = Perplexity(mask_token_id=0)
        np.testing.assert_allclose(
            float(metric(target, logits)), 14.352535, rtol=1e-6
        )

    def test_empty_and_reset(self):
        metric = Perplexity(from_logits=True, mask_token_id=0)
        assert float(metric.result()) == 0.0
        # Every token masked: nothing counted, still the defined 0.0.
        metric.update_state(np.zeros((2, 3), "int32"), np.ones((2, 3, 5)))
        assert float(metric.result()) == 0.0
        metric.update_state(np.array([[1]]), np.log([[[0.5, 0.25, 0.25]]]))
        np.testing.assert_allclose(float(metric.result()), 4.0, rtol=1e-6)
        metric.reset_state()
        assert float(metric.result()) == 0.0

    def test_compile_fit_evaluate(self):
        rng = np.random.default_rng(1)
        x = rng.integers(1, 20, size=(12, 7))
        x[:5, 4:] = 0
        y = np.roll(x, -1, axis=1)
        inputs = keras.Input(shape=(7,), dtype="int32")
        hidden = keras.layers.Embedding(20, 8)(inputs)
        outputs = keras.layers.Dense(20)(hidden)
        model = keras.Model(inputs, outputs)
        model.compile(
            optimizer="sgd",
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=[Perplexity(from_logits=True, mask_token_id=0)],
        )
        model.fit(x, y, batch_size=4, epochs=1, verbose=0)
        results = model.evaluate(
            x, y, batch_size=5, return_dict=True, verbose=0
        )
        logits = keras.ops.convert_to_numpy(model.predict(x, verbose=0))
        expected = numpy_perplexity(y, logits, (y != 0) * 1.0)
        np.testing.assert_allclose(results["perplexity"], expected, rtol=1e-5)

    def test_bad_inputs(self):
        metric = Perplexity(from_logits=True)
        with pytest.raises(ValueError, match=r"y_pred.shape\[:-1\]"):
            metric.update_state(np.zeros((2, 3), "int32"), np.zeros((2, 4, 5)))
        with pytest.raises(ValueError, match="one more dimension"):
            metric.update_state(np.zeros((2, 3), "int32"), np.zeros((2, 3)))
        with pytest.raises(ValueError, match="empty batch"):
            metric.update_state(np.zeros((0, 3), "int32"), np.zeros((0, 3, 5)))
        with pytest.raises(TypeError, match="floating point"):
            metric.update_state(
                np.zeros((2, 3), "int32"), np.zeros((2, 3, 5), "int32")
            )
        with pytest.raises(TypeError, match="not strings"):
            metric.update_state(np.array([["a", "b"]]), np.zeros((1, 2, 5)))
        with pytest.raises(ValueError, match="floating point"):
            Perplexity(dtype="int32")
        with pytest.raises(ValueError, match="mask_token_id"):
            Perplexity(mask_token_id=0.5)
        # Nothing was counted by the failed updates.
        assert float(metric.result()) == 0.0

    def test_config_round_trip(self):
        metric = Perplexity(
            from_logits=True, mask_token_id=3, dtype="float64", name="ppl"
        )
        config = metric.get_config()
        assert config["from_logits"] is True
        assert config["mask_token_id"] == 3
        restored = Perplexity.from_config(config)
        assert restored.get_config() == config
        assert restored.dtype == "float64"
        restored = keras.saving.deserialize_keras_object(
            keras.saving.serialize_keras_object(metric)
        )
        assert isinstance(restored, Perplexity)
        assert restored.get_config() == config
