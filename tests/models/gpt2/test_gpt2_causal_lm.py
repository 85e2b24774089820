import keras
import numpy as np
import pytest

from keras_nlp_clone import samplers
from keras_nlp_clone.models import CausalLM
from keras_nlp_clone.models import GPT2Backbone
from keras_nlp_clone.models import GPT2CausalLM
from keras_nlp_clone.models import GPT2CausalLMPreprocessor
from keras_nlp_clone.utils.lazy_module import tf
from tests.models.gpt2.conftest import EOT
from tests.test_case import TestCase


@pytest.fixture
def id_lm(causal_lm):
    """`causal_lm` without a preprocessor: token ids in and out."""
    causal_lm.preprocessor = None
    return causal_lm


@pytest.fixture
def causal_lm(tiny_tokenizer, tiny_backbone_kwargs):
    preprocessor = GPT2CausalLMPreprocessor(tiny_tokenizer, sequence_length=12)
    backbone = GPT2Backbone(**tiny_backbone_kwargs)
    # Larger weights: well separated logits, varied greedy continuations.
    for variable in backbone.token_embedding.weights:
        variable.assign(variable * 50.0)
    causal_lm = GPT2CausalLM(backbone, preprocessor)
    causal_lm.compile(sampler="greedy")
    return causal_lm


def _ids(causal_lm, rows, length):
    """Right-padded prompts `(token_ids, padding_mask)` of `length`."""
    token_ids = np.full((len(rows), length), EOT, "int32")
    padding_mask = np.zeros((len(rows), length), bool)
    for i, row in enumerate(rows):
        token_ids[i, : len(row)] = row
        padding_mask[i, : len(row)] = True
    return {"token_ids": token_ids, "padding_mask": padding_mask}


class CountingGPT2CausalLM(GPT2CausalLM):
    """Counts the Python executions of `generate_step` (traces, when
    compiled)."""

    traces = 0

    def generate_step(self, inputs, stop_token_ids=None):
        type(self).traces += 1
        return super().generate_step(inputs, stop_token_ids)


class TestGPT2CausalLM(TestCase):
    def test_logits_use_the_tied_embedding(self, causal_lm):
        inputs = _ids(causal_lm, [[EOT, 260, 261], [EOT, 5]], 6)
        logits = causal_lm(inputs)
        assert tuple(logits.shape) == (2, 6, causal_lm.backbone.vocabulary_size)
        hidden = causal_lm.backbone(inputs)
        embeddings = causal_lm.backbone.token_embedding.embeddings
        expected = keras.ops.einsum("bld,vd->blv", hidden, embeddings)
        self.assertAllClose(logits, expected, atol=1e-4, rtol=1e-4)

    def test_generate_strings(self, causal_lm):
        text = causal_lm.generate("the quick", max_length=10)
        assert isinstance(text, str) and text.startswith("the quick")
        assert len(text) > len("the quick")
        texts = causal_lm.generate(["the quick", "a lazy dog"], max_length=10)
        assert isinstance(texts, list) and len(texts) == 2
        assert texts[0] == text and texts[1].startswith("a lazy dog")
        ds = tf.data.Dataset.from_tensor_slices(["the quick", "a lazy dog"]).batch(1)
        assert causal_lm.generate(ds, max_length=10) == texts
        # `strip_prompt` returns only the continuation.
        stripped = causal_lm.generate(["the quick"], max_length=10, strip_prompt=True)
        assert "the quick" + stripped[0] == text

    def test_generate_token_ids_without_preprocessor(self, causal_lm):
        preprocessor = causal_lm.preprocessor
        causal_lm.preprocessor = None
        prompt = preprocessor.generate_preprocess(["the quick"], sequence_length=10)
        prompt = {k: keras.ops.convert_to_numpy(v) for k, v in prompt.items()}
        out = causal_lm.generate(prompt, stop_token_ids=None)
        assert set(out) == {"token_ids", "padding_mask"}
        assert out["token_ids"].shape == (1, 10)
        self.assertAllEqual(out["token_ids"][:, :3], prompt["token_ids"][:, :3])
        assert out["padding_mask"].all()
        # The same ids as with the preprocessor (stop tokens aside).
        causal_lm.preprocessor = preprocessor
        text = causal_lm.generate("the quick", max_length=10, stop_token_ids=None)
        assert text == preprocessor.generate_postprocess(out)[0]
        # One unbatched example in, one out.
        causal_lm.preprocessor = None
        single = causal_lm.generate(
            {k: v[0] for k, v in prompt.items()}, stop_token_ids=None
        )
        self.assertAllEqual(single["token_ids"], out["token_ids"][0])
        with pytest.raises(ValueError, match="no preprocessor"):
            causal_lm.generate(prompt)

    @pytest.mark.parametrize("rows", [1, 3])
    def test_generation_head_equals_tied_embedding(self, id_lm, rows):
        # The head picks its layout by the number of rows (one row: the
        # transposed embedding; several: the embedding as it is, oneDNN on
        # PyTorch), and must follow weight updates.
        hidden_dim = id_lm.backbone.hidden_dim
        x = np.random.default_rng(rows).standard_normal((rows, 1, hidden_dim))
        x = keras.ops.convert_to_tensor(x.astype("float32"))
        embeddings = id_lm.backbone.token_embedding.embeddings
        for scale in (1.0, -2.0):
            embeddings.assign(keras.ops.convert_to_numpy(embeddings) * scale)
            logits = id_lm._head_projection()(x)
            expected = np.einsum(
                "bld,vd->blv",
                keras.ops.convert_to_numpy(x),
                keras.ops.convert_to_numpy(embeddings),
            )
            self.assertAllClose(logits, expected, atol=1e-3, rtol=1e-4)

    def test_mixed_prompt_lengths_equal_single_prompts(self, id_lm):
        rows = [[EOT, 260, 261, 262, 263], [EOT, 5], [EOT, 40, 41]]
        batch = id_lm.generate(_ids(id_lm, rows, 12), stop_token_ids=None)
        for i, row in enumerate(rows):
            single = id_lm.generate(_ids(id_lm, [row], 12), stop_token_ids=None)
            self.assertAllEqual(batch["token_ids"][i], single["token_ids"][0])
            # The prompt is kept.
            self.assertAllEqual(batch["token_ids"][i, : len(row)], row)

    def test_cached_generation_equals_full_recomputation(self, id_lm):
        rows = [[EOT, 260, 261], [EOT, 5, 40, 41, 42]]
        out = id_lm.generate(_ids(id_lm, rows, 12), stop_token_ids=None)
        for i, row in enumerate(rows):
            tokens = list(row)
            while len(tokens) < 12:
                # The whole sequence, padded to one shape (causal attention:
                # the padding after a position does not change its logits).
                inputs = _ids(id_lm, [tokens], 12)
                logits = keras.ops.convert_to_numpy(id_lm(inputs))
                tokens.append(int(np.argmax(logits[0, len(tokens) - 1])))
            self.assertAllEqual(out["token_ids"][i], tokens)

    def test_stop_tokens_end_generation(self, id_lm):
        prompt = _ids(id_lm, [[EOT, 260, 261]], 12)
        free = id_lm.generate(prompt, stop_token_ids=None)["token_ids"][0]
        stop = int(free[5])
        first = 3 + list(free[3:]).index(stop)
        out = id_lm.generate(prompt, stop_token_ids=[stop])
        ids, mask = out["token_ids"][0], out["padding_mask"][0]
        self.assertAllEqual(ids[: first + 1], free[: first + 1])
        # Generation stopped: later positions keep the prompt's padding.
        self.assertAllEqual(ids[first + 1 :], [EOT] * (11 - first))
        self.assertAllEqual(mask, [True] * (first + 1) + [False] * (11 - first))
        # Two rows: the loop goes on until both have stopped.
        out = id_lm.generate(
            _ids(id_lm, [[EOT, 260, 261], [EOT, 5]], 12), stop_token_ids=[stop]
        )
        self.assertAllEqual(out["token_ids"][0, : first + 1], free[: first + 1])

    def test_stop_token_id_errors(self, causal_lm):
        with pytest.raises(ValueError, match="stop_token_ids"):
            causal_lm.generate("the", stop_token_ids="eos")
        with pytest.raises(ValueError, match="empty"):
            causal_lm.generate("the", stop_token_ids=[])

    def test_compiled_once_per_shape(self, tiny_tokenizer, tiny_backbone_kwargs):
        if keras.config.backend() == "torch":
            pytest.skip("PyTorch generation runs eagerly (nothing is traced).")
        preprocessor = GPT2CausalLMPreprocessor(tiny_tokenizer, sequence_length=8)
        causal_lm = CountingGPT2CausalLM(
            GPT2Backbone(**tiny_backbone_kwargs), preprocessor
        )
        causal_lm.compile(sampler="greedy")
        CountingGPT2CausalLM.traces = 0
        first = causal_lm.generate(["the quick", "a"])
        assert causal_lm.generate(["a lazy dog", "it is"]) is not None
        assert causal_lm.generate(["the quick", "a"]) == first
        assert CountingGPT2CausalLM.traces == 1
        causal_lm.generate(["the quick"])  # another batch size
        assert CountingGPT2CausalLM.traces == 2
        # A new sampler compiles a new function.
        causal_lm.compile(sampler="top_k")
        causal_lm.generate(["the quick"])
        assert CountingGPT2CausalLM.traces == 3

    def test_tensorflow_generate_is_compiled_without_autograph(self, id_lm):
        # The loop uses `keras.ops` control flow; AutoGraph's conversion of
        # every traced function's source was most of the first call.
        if keras.config.backend() != "tensorflow":
            pytest.skip("TensorFlow's tf.function only.")
        function = id_lm.make_generate_function()
        assert function._autograph is False
        assert function._jit_compile is True

    @pytest.mark.parametrize(
        "sampler",
        [
            "greedy",
            "top_k",
            "top_p",
            "random",
            "beam",
            "contrastive",
        ],
    )
    def test_every_sampler_generates(self, id_lm, sampler):
        id_lm.compile(sampler=sampler)
        assert isinstance(id_lm.sampler, samplers.Sampler)
        out = id_lm.generate(
            _ids(id_lm, [[EOT, 260, 261], [EOT, 5]], 8), stop_token_ids=None
        )
        assert out["token_ids"].shape == (2, 8)
        self.assertAllEqual(out["token_ids"][0, :3], [EOT, 260, 261])
        self.assertAllEqual(out["token_ids"][1, :2], [EOT, 5])

    def test_seeded_sampling_is_reproducible(self, id_lm):
        prompt = _ids(id_lm, [[EOT, 260]] * 4, 12)
        id_lm.compile(sampler=samplers.RandomSampler(seed=7))
        first = id_lm.generate(prompt, stop_token_ids=None)["token_ids"]
        second = id_lm.generate(prompt, stop_token_ids=None)["token_ids"]
        # The seed state advances between calls...
        assert not np.array_equal(first, second)
        # ...and a sampler with the same seed repeats the sequence.
        id_lm.compile(sampler=samplers.RandomSampler(seed=7))
        again = id_lm.generate(prompt, stop_token_ids=None)["token_ids"]
        self.assertAllEqual(again, first)

    def test_unknown_sampler(self, causal_lm):
        with pytest.raises(ValueError, match="sampler"):
            causal_lm.compile(sampler="nucleus_beam")

    def test_fit_on_raw_strings(self, causal_lm):
        causal_lm.compile(optimizer=keras.optimizers.Adam(1e-2), sampler="greedy")
        texts = ["the quick brown fox jumped over the lazy dog"] * 16
        history = causal_lm.fit(texts, batch_size=8, epochs=4, verbose=0)
        losses = history.history["loss"]
        assert losses[-1] < 0.7 * losses[0]
        # (Learning real text: test_gpt2_causal_lm_training.py.)
        assert causal_lm.generate("the quick", max_length=10).startswith("the quick")

    def test_preset_round_trip(self, causal_lm, tmp_path):
        expected = causal_lm.generate(["the quick", "a"], max_length=10)
        causal_lm.save_to_preset(str(tmp_path))
        restored = CausalLM.from_preset(str(tmp_path))
        assert type(restored) is GPT2CausalLM
        assert type(restored.preprocessor) is GPT2CausalLMPreprocessor
        restored.compile(sampler="greedy")
        assert restored.generate(["the quick", "a"], max_length=10) == expected

    def test_generation_follows_weight_updates(self, id_lm):
        # The LM head's kernel may be cached between calls (PyTorch): it
        # must follow changes of the tied embedding.
        prompt = _ids(id_lm, [[EOT, 260, 261]], 8)
        before = id_lm.generate(prompt, stop_token_ids=None)["token_ids"]
        embeddings = id_lm.backbone.token_embedding.embeddings
        values = keras.ops.convert_to_numpy(embeddings)
        # Make token 7 the most likely next token everywhere.
        boosted = values.copy()
        boosted[7] = 0.0
        hidden = keras.ops.convert_to_numpy(
            id_lm.backbone({**prompt})
        )[0, 2]
        boosted[7] = 1e3 * hidden / np.linalg.norm(hidden)
        embeddings.assign(boosted)
        after = id_lm.generate(prompt, stop_token_ids=None)["token_ids"]
        assert after[0, 3] == 7 and before[0, 3] != 7
