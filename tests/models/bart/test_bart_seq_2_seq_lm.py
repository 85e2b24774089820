import keras
import numpy as np
import pytest

from keras_nlp_clone import samplers
from keras_nlp_clone.models import BartBackbone
from keras_nlp_clone.models import BartSeq2SeqLM
from keras_nlp_clone.models import BartSeq2SeqLMPreprocessor
from keras_nlp_clone.models import Seq2SeqLM
from keras_nlp_clone.utils.lazy_module import tf
from tests.models.bart.conftest import padded_inputs
from tests.test_case import TestCase

SOURCES = ["the quick brown fox", "a lazy dog was in the film"]


@pytest.fixture
def seq_2_seq_lm(tiny_tokenizer, tiny_backbone_kwargs):
    preprocessor = BartSeq2SeqLMPreprocessor(
        tiny_tokenizer, encoder_sequence_length=10, decoder_sequence_length=10
    )
    backbone = BartBackbone(**tiny_backbone_kwargs)
    # Noise on every weight but the embeddings: varied greedy continuations
    # that depend on the source (the initial weights repeat one token).
    rng = np.random.default_rng(0)
    for variable in backbone.weights:
        if "embedding" not in variable.path:
            noise = rng.normal(0.0, 0.2, variable.shape).astype("float32")
            variable.assign(variable + noise)
    seq_2_seq_lm = BartSeq2SeqLM(backbone, preprocessor)
    seq_2_seq_lm.compile(sampler="greedy")
    return seq_2_seq_lm


def _np(x):
    return keras.ops.convert_to_numpy(x)


def _prompt(seq_2_seq_lm, sources, length=10, decoder_text=None):
    x = sources if decoder_text is None else {
        "encoder_text": sources, "decoder_text": decoder_text
    }
    prompt = seq_2_seq_lm.preprocessor.generate_preprocess(
        x, decoder_sequence_length=length
    )
    return {k: _np(v) for k, v in prompt.items()}


def _full_recompute_greedy(seq_2_seq_lm, prompt):
    """Greedy decoding without caches: the whole model on the decoder
    sequence at every step (right-padded to a fixed length, so that every
    step has the same shapes; the causal mask hides the padding from the
    positions read), the argmax at the last real position."""
    token_ids = prompt["decoder_token_ids"].copy()
    fixed = prompt["decoder_padding_mask"].astype(bool)
    start = int(fixed.sum(axis=1).min())
    for index in range(start, token_ids.shape[1]):
        logits = _np(seq_2_seq_lm({
            "encoder_token_ids": prompt["encoder_token_ids"],
            "encoder_padding_mask": prompt["encoder_padding_mask"],
            "decoder_token_ids": token_ids,
            "decoder_padding_mask": np.ones_like(token_ids),
        }))
        next_token = logits[:, index - 1].argmax(axis=-1)
        token_ids[:, index] = np.where(fixed[:, index], token_ids[:, index], next_token)
    return token_ids


class TestBartSeq2SeqLM(TestCase):
    def test_logits_use_the_tied_embedding(self, seq_2_seq_lm):
        inputs = padded_inputs()
        logits = seq_2_seq_lm(inputs)
        backbone = seq_2_seq_lm.backbone
        assert tuple(logits.shape) == (2, 6, backbone.vocabulary_size)
        hidden = backbone(inputs)["decoder_sequence_output"]
        expected = keras.ops.einsum(
            "bld,vd->blv", hidden, backbone.token_embedding.embeddings
        )
        self.assertAllClose(logits, expected, atol=1e-4, rtol=1e-4)

    def test_cached_decoding_equals_full_recompute(self, seq_2_seq_lm):
        # Decoder prompts of different lengths share the batch.
        prompt = _prompt(seq_2_seq_lm, SOURCES, decoder_text=["the", "a lazy"])
        assert prompt["decoder_padding_mask"].sum(axis=1).tolist() == [3, 4]
        expected = _full_recompute_greedy(seq_2_seq_lm, prompt)
        seq_2_seq_lm.preprocessor, preprocessor = None, seq_2_seq_lm.preprocessor
        out = seq_2_seq_lm.generate(prompt, stop_token_ids=None)
        assert out["decoder_token_ids"].tolist() == expected.tolist()
        # The rows depend on their sources.
        assert expected[0, 4:].tolist() != expected[1, 4:].tolist()
        self.assertAllEqual(out["encoder_token_ids"], prompt["encoder_token_ids"])
        # The logits of each cached step equal those of a full pass.
        ids = out["decoder_token_ids"]
        full = _np(seq_2_seq_lm({
            **{k: prompt[k] for k in ("encoder_token_ids", "encoder_padding_mask")},
            "decoder_token_ids": ids,
            "decoder_padding_mask": np.ones_like(ids),
        }))
        _, _, self_cache, cross_cache = seq_2_seq_lm._build_cache(
            prompt["encoder_token_ids"], prompt["encoder_padding_mask"], ids[:, :1]
        )
        encoder_states = seq_2_seq_lm.call_encoder(
            prompt["encoder_token_ids"], prompt["encoder_padding_mask"]
        )
        shape = tuple(self_cache[0].shape)
        self_cache = tuple(
            keras.ops.zeros((shape[0], 2, ids.shape[1], *shape[3:])) for _ in self_cache
        )
        for index in range(ids.shape[1]):
            logits, _, self_cache, _ = seq_2_seq_lm.call_decoder_with_cache(
                encoder_states,
                prompt["encoder_padding_mask"],
                ids[:, index : index + 1],
                self_cache,
                keras.ops.convert_to_tensor(index, "int32"),
                cross_cache,
            )
            np.testing.assert_allclose(
                _np(logits)[:, 0], full[:, index], atol=1e-4, rtol=1e-4
            )
        seq_2_seq_lm.preprocessor = preprocessor

    def test_generate_strings_lists_dicts_and_datasets(self, seq_2_seq_lm):
        text = seq_2_seq_lm.generate(SOURCES[0], max_length=10)
        assert isinstance(text, str) and len(text) > 0
        texts = seq_2_seq_lm.generate(SOURCES, max_length=10)
        assert isinstance(texts, list) and len(texts) == 2 and texts[0] == text
        ds = tf.data.Dataset.from_tensor_slices(SOURCES).batch(1)
        assert seq_2_seq_lm.generate(ds, max_length=10) == texts
        # A decoder prompt: the output starts with it.
        out = seq_2_seq_lm.generate(
            {"encoder_text": SOURCES[1], "decoder_text": "the lazy"}, max_length=10
        )
        assert isinstance(out, str) and out.startswith("the lazy")
        out = seq_2_seq_lm.generate(
            {"encoder_text": SOURCES, "decoder_text": ["the", "a"]}, max_length=10
        )
        assert isinstance(out, list) and out[0].startswith("the")
        assert out[1].startswith("a")
        ds = tf.data.Dataset.from_tensor_slices(
            {"encoder_text": SOURCES, "decoder_text": ["the", "a"]}
        ).batch(2)
        assert seq_2_seq_lm.generate(ds, max_length=10) == out
        # The strings are the detokenized generated ids.
        prompt = _prompt(seq_2_seq_lm, SOURCES)
        preprocessor, seq_2_seq_lm.preprocessor = seq_2_seq_lm.preprocessor, None
        ids = seq_2_seq_lm.generate(prompt, stop_token_ids=[2])
        seq_2_seq_lm.preprocessor = preprocessor
        assert preprocessor.generate_postprocess(ids) == texts
        # `strip_prompt` drops the decoder prompt.
        stripped = seq_2_seq_lm.generate(
            {"encoder_text": SOURCES[1], "decoder_text": "the lazy"},
            max_length=10, strip_prompt=True,
        )
        full = seq_2_seq_lm.generate(
            {"encoder_text": SOURCES[1], "decoder_text": "the lazy"}, max_length=10
        )
        assert "the lazy" + stripped == full

    def test_other_samplers(self, seq_2_seq_lm):
        prompt = _prompt(seq_2_seq_lm, SOURCES)
        seq_2_seq_lm.preprocessor = None
        for sampler in (
            samplers.BeamSampler(num_beams=2),
            samplers.ContrastiveSampler(k=3),
        ):
            seq_2_seq_lm.compile(sampler=sampler)
            out = seq_2_seq_lm.generate(prompt, stop_token_ids=None)
            ids = out["decoder_token_ids"]
            assert ids.shape == (2, 10) and ids[:, :2].tolist() == [[2, 0]] * 2

    def test_fit_on_raw_text(self, seq_2_seq_lm):
        data = {
            "encoder_text": ["the quick brown fox", "a lazy dog"] * 4,
            "decoder_text": ["the fox", "the dog"] * 4,
        }
        seq_2_seq_lm.compile(optimizer=keras.optimizers.Adam(1e-2), sampler="greedy")
        history = seq_2_seq_lm.fit(data, batch_size=4, epochs=4, verbose=0)
        losses = history.history["loss"]
        assert np.isfinite(losses).all() and losses[-1] < 0.8 * losses[0]
        ds = tf.data.Dataset.from_tensor_slices(data).batch(4)
        history = seq_2_seq_lm.fit(ds, epochs=1, verbose=0)
        assert history.history["loss"][0] < losses[0]

    def test_preset_round_trip(self, seq_2_seq_lm, tmp_path):
        seq_2_seq_lm.save_to_preset(str(tmp_path))
        restored = Seq2SeqLM.from_preset(str(tmp_path))
        assert type(restored) is BartSeq2SeqLM
        assert type(restored.preprocessor) is BartSeq2SeqLMPreprocessor
        assert restored.preprocessor.encoder_sequence_length == 10
        inputs = padded_inputs()
        np.testing.assert_array_equal(
            _np(seq_2_seq_lm(inputs)), _np(restored(inputs))
        )
        restored.compile(sampler="greedy")
        assert restored.generate(SOURCES, max_length=10) == seq_2_seq_lm.generate(
            SOURCES, max_length=10
        )

    def test_errors(self, seq_2_seq_lm):
        # "auto" stop tokens come from the preprocessor's tokenizer.
        seq_2_seq_lm.preprocessor = None
        prompt = {k: v[:1] for k, v in padded_inputs().items()}
        with pytest.raises(ValueError, match="stop_token_ids"):
            seq_2_seq_lm.generate(prompt)
