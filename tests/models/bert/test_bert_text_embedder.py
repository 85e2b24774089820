import keras
import numpy as np
import pytest

from keras_nlp_clone.models import BertBackbone
from keras_nlp_clone.models import BertTextEmbedder
from keras_nlp_clone.models import BertTextEmbedderPreprocessor
from keras_nlp_clone.models import TextEmbedder
from tests import real_data
from tests.test_case import TestCase

# Different lengths, so that two of the three rows are padded.
TEXTS = ["the quick brown fox jumped over the lazy dog .", "a great movie !", "bad"]


def numpy_pool(hidden, mask, mode, normalize):
    """The pooling of sentence-transformers' `Pooling` and `Normalize`
    modules, in NumPy: `hidden` (batch, length, dim), `mask` (batch,
    length) of 0/1."""
    hidden = hidden.astype("float64")
    mask = mask.astype("float64")[..., None]
    if mode == "mean":
        pooled = (hidden * mask).sum(1) / np.maximum(mask.sum(1), 1e-9)
    elif mode == "max":
        pooled = np.where(mask > 0, hidden, -np.inf).max(1)
    else:
        pooled = hidden[:, 0]
    if normalize:
        pooled /= np.maximum(np.linalg.norm(pooled, axis=-1, keepdims=True), 1e-12)
    return pooled


def _np(x):
    return keras.ops.convert_to_numpy(x)


class TestBertTextEmbedder(TestCase):
    @pytest.fixture
    def preprocessor(self, tiny_tokenizer):
        return BertTextEmbedderPreprocessor(tiny_tokenizer, sequence_length=12)

    def test_pooling_modes_match_numpy(self, tiny_backbone, preprocessor):
        x = {k: _np(v) for k, v in preprocessor(TEXTS).items()}
        mask = x["token_ids"] != 0  # `[PAD]` is id 0 in the tiny vocabulary
        assert sorted(mask.sum(1)) == [3, 6, 12]
        hidden = _np(tiny_backbone(x)["sequence_output"])
        # Padded positions hold real values, so pooling them would show.
        assert not np.allclose(
            numpy_pool(hidden, mask, "mean", False),
            numpy_pool(hidden, np.ones_like(mask), "mean", False),
            atol=1e-3,
        )
        for mode, normalize in (
            ("mean", True),
            ("mean", False),
            ("cls", True),
            ("max", False),
        ):
            embedder = BertTextEmbedder(
                tiny_backbone, preprocessor, pooling_mode=mode, normalize=normalize
            )
            # An eager call (no compilation); `predict` is tested below.
            out = _np(embedder(x))
            assert out.dtype == np.float32 and out.shape == (3, 8)
            np.testing.assert_allclose(
                out, numpy_pool(hidden, mask, mode, normalize), atol=1e-5,
                err_msg=f"pooling_mode={mode}, normalize={normalize}",
            )

    def test_dataset_and_preprocessed_inputs(self, tiny_backbone, preprocessor):
        import tensorflow as tf

        embedder = BertTextEmbedder(tiny_backbone, preprocessor)
        expected = embedder.predict(TEXTS, verbose=0)
        ds = tf.data.Dataset.from_tensor_slices(TEXTS).batch(2)
        np.testing.assert_allclose(embedder.predict(ds, verbose=0), expected, atol=1e-6)
        raw = BertTextEmbedder(tiny_backbone, preprocessor=None)
        x = {k: _np(v) for k, v in preprocessor(TEXTS).items()}
        np.testing.assert_allclose(raw.predict(x, verbose=0), expected, atol=1e-6)

    def test_save_to_preset_and_reload_gives_identical_embeddings(
        self, tiny_backbone, preprocessor, tmp_path
    ):
        embedder = BertTextEmbedder(
            tiny_backbone, preprocessor, pooling_mode="max", normalize=False
        )
        expected = embedder.predict(TEXTS, verbose=0)
        embedder.save_to_preset(str(tmp_path))
        for cls in (TextEmbedder, BertTextEmbedder):
            restored = cls.from_preset(str(tmp_path))
            assert type(restored) is BertTextEmbedder
            assert type(restored.preprocessor) is BertTextEmbedderPreprocessor
            assert restored.preprocessor.sequence_length == 12
            assert (restored.pooling_mode, restored.normalize) == ("max", False)
        np.testing.assert_array_equal(restored.predict(TEXTS, verbose=0), expected)

    def test_default_compile_is_cosine_similarity(self, tiny_backbone, preprocessor):
        # As KerasNLP's `TextEmbedder`: Adam 5e-5, cosine similarity loss
        # and metric against target embeddings. (A `fit` step costs ~40 s
        # of XLA compilation on a loaded 2-core machine; `Task.fit` on raw
        # strings is tested with the classifiers.)
        embedder = BertTextEmbedder(tiny_backbone, preprocessor)
        assert isinstance(embedder.optimizer, keras.optimizers.Adam)
        assert float(_np(embedder.optimizer.learning_rate)) == pytest.approx(5e-5)
        targets = np.random.default_rng(0).normal(size=(3, 8)).astype("float32")
        pred = embedder.predict(TEXTS, verbose=0).astype("float64")
        unit = targets / np.linalg.norm(targets, axis=1, keepdims=True)
        cosine = np.sum(pred * unit, axis=1)  # `pred` rows are unit vectors
        loss, metric = embedder.evaluate(TEXTS, targets, verbose=0)
        assert loss == pytest.approx(-cosine.mean(), abs=1e-5)
        assert metric == pytest.approx(cosine.mean(), abs=1e-5)

    def test_errors(self, tiny_backbone, tiny_inputs):
        with pytest.raises(ValueError, match=r"pooling_mode.*'sum'"):
            BertTextEmbedder(tiny_backbone, pooling_mode="sum")
        with pytest.raises(ValueError, match=r"normalize.*'yes'"):
            BertTextEmbedder(tiny_backbone, normalize="yes")
        embedder = BertTextEmbedder(tiny_backbone)
        bad = dict(tiny_inputs)
        bad["token_ids"] = tiny_inputs["token_ids"].copy()
        bad["token_ids"][1, 2] = 40  # the tiny vocabulary has 23 entries
        with pytest.raises(
            ValueError, match=r"got `token_ids` up to 40, but its `vocabulary_size` is 23"
        ):
            embedder.predict(bad, verbose=0)
        bad["token_ids"][1, 2] = -1
        with pytest.raises(ValueError, match=r"negative id in `token_ids` \(-1\)"):
            embedder.predict(bad, verbose=0)

    def test_outputs_float32_under_mixed_precision(self, tiny_backbone_kwargs, preprocessor):
        keras.mixed_precision.set_global_policy("mixed_float16")
        try:
            embedder = BertTextEmbedder(
                BertBackbone(**tiny_backbone_kwargs), preprocessor
            )
            out = embedder.predict(TEXTS, verbose=0)
        finally:
            keras.mixed_precision.set_global_policy("float32")
        assert out.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)

    def test_presets(self):
        assert BertTextEmbedder.presets.keys() == BertBackbone.presets.keys()
        assert "all_minilm_l6_v2_en" in BertTextEmbedder.presets
        assert "all_minilm_l6_v2_en" in TextEmbedder.presets


@pytest.mark.large
class TestBertTextEmbedderMiniLM(TestCase):
    """The real all-MiniLM-L6-v2 against sentence-transformers."""

    CARD_SENTENCES = [
        "The weather is lovely today.",
        "It's so sunny outside!",
        "He drove to the stadium.",
    ]
    NUM_TEXTS = 64
    SEQUENCE_LENGTH = 64

    @pytest.fixture(scope="class")
    def embedder(self):
        return BertTextEmbedder.from_preset("all_minilm_l6_v2_en")

    @pytest.fixture(scope="class")
    def reference(self, minilm_dir):
        """sentence-transformers' embeddings of the model card sentences and
        of 64 Rotten Tomatoes sentences, per pooling mode (its `Pooling`
        module on its own transformer's token embeddings, then L2
        normalization)."""
        import torch
        from sentence_transformers import SentenceTransformer
        from sentence_transformers.sentence_transformer.modules import Pooling

        model = SentenceTransformer(minilm_dir, device="cpu")
        assert model.max_seq_length == 256
        texts = list(real_data.rotten_tomatoes_texts(self.NUM_TEXTS))
        features = model.preprocess(texts)
        # Every sentence fits in SEQUENCE_LENGTH tokens, so packing to it
        # truncates nothing; a few are long enough to matter.
        lengths = features["attention_mask"].sum(1)
        assert lengths.max() <= self.SEQUENCE_LENGTH and lengths.max() > 40
        with torch.no_grad():
            out = model[0](dict(features))
            pooled = {
                mode: Pooling(384, pooling_mode=mode)(dict(out))[
                    "sentence_embedding"
                ].numpy()
                for mode in ("mean", "cls", "max")
            }
        pooled = {
            mode: v / np.linalg.norm(v, axis=1, keepdims=True)
            for mode, v in pooled.items()
        }
        card = model.encode(self.CARD_SENTENCES, convert_to_numpy=True)
        return texts, pooled, card

    def test_model_card_similarities(self, embedder, reference):
        assert embedder.preprocessor.sequence_length == 256
        out = embedder.predict(self.CARD_SENTENCES, verbose=0)
        np.testing.assert_allclose(out, reference[2], atol=1e-5)
        similarities = out @ out.T
        np.testing.assert_allclose(
            [similarities[0, 1], similarities[0, 2], similarities[1, 2]],
            [0.6660, 0.1046, 0.1411],
            atol=5e-5,
        )

    def test_matches_sentence_transformers_on_rotten_tomatoes(
        self, embedder, reference
    ):
        texts, pooled, _ = reference
        preprocessor = BertTextEmbedderPreprocessor.from_preset(
            "all_minilm_l6_v2_en", sequence_length=self.SEQUENCE_LENGTH
        )
        x = preprocessor(texts)
        for mode in ("mean", "cls", "max"):
            model = BertTextEmbedder(
                embedder.backbone, preprocessor, pooling_mode=mode
            )
            # An eager call: `predict` on raw strings is the card test's.
            out = _np(model(x))
            np.testing.assert_allclose(
                out, pooled[mode], atol=1e-5, err_msg=f"pooling_mode={mode}"
            )
