import keras
import numpy as np
import pytest

from keras_nlp_clone.models import TextEmbedder
from keras_nlp_clone.models import XLMRobertaTextEmbedder
from keras_nlp_clone.models import XLMRobertaTextEmbedderPreprocessor
from tests import real_data
from tests.models.bert.test_bert_text_embedder import numpy_pool
from tests.models.roberta.conftest import hf_outputs
from tests.test_case import TestCase


def _np(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


class TestXLMRobertaTextEmbedder(TestCase):
    @pytest.fixture(scope="class")
    def texts(self):
        return list(real_data.rotten_tomatoes_texts(4))

    def test_matches_transformers_with_numpy_pooling(self, hf_xlm_roberta, texts):
        directory, hf_model = hf_xlm_roberta["XLMRobertaModel"]
        embedder = TextEmbedder.from_preset(directory)
        assert type(embedder) is XLMRobertaTextEmbedder
        assert type(embedder.preprocessor) is XLMRobertaTextEmbedderPreprocessor
        # 256 capped at the checkpoint's 32 positions.
        assert embedder.preprocessor.sequence_length == 32
        encoded = embedder.preprocessor(texts)
        token_ids = _np(encoded["token_ids"])
        mask = (token_ids != 1).astype("int32")  # `<pad>` is id 1
        assert 0 < mask.sum(1).min() < mask.shape[1]  # some rows padded
        hidden = hf_outputs(hf_model, token_ids, mask).last_hidden_state.numpy()
        for mode in ("mean", "max"):  # "cls": the BERT tests
            model = XLMRobertaTextEmbedder(
                embedder.backbone, embedder.preprocessor, pooling_mode=mode
            )
            out = _np(model(encoded))  # eager; `predict` is tested below
            assert out.dtype == np.float32 and out.shape == (4, 16)
            np.testing.assert_allclose(
                out, numpy_pool(hidden, mask, mode, True), atol=1e-5,
                err_msg=f"pooling_mode={mode}",
            )

    def test_preprocessor_matches_hf_tokenizer(self, hf_xlm_roberta, texts):
        import transformers

        directory, _ = hf_xlm_roberta["XLMRobertaModel"]
        preprocessor = XLMRobertaTextEmbedderPreprocessor.from_preset(
            directory, sequence_length=24
        )
        assert XLMRobertaTextEmbedderPreprocessor(
            preprocessor.tokenizer
        ).sequence_length == 256
        out = preprocessor(texts)
        assert set(out) == {"token_ids", "padding_mask"}
        hf = transformers.XLMRobertaTokenizer.from_pretrained(directory)(
            texts, padding="max_length", truncation=True, max_length=24
        )
        np.testing.assert_array_equal(_np(out["token_ids"]), hf["input_ids"])
        np.testing.assert_array_equal(
            _np(out["padding_mask"]).astype("int32"), hf["attention_mask"]
        )

    def test_preset_round_trip_and_errors(
        self, tiny_backbone, tiny_tokenizer, tiny_inputs, tmp_path
    ):
        with pytest.raises(ValueError, match=r"pooling_mode.*'first'"):
            XLMRobertaTextEmbedder(tiny_backbone, pooling_mode="first")
        embedder = XLMRobertaTextEmbedder(
            tiny_backbone,
            XLMRobertaTextEmbedderPreprocessor(tiny_tokenizer, sequence_length=8),
            pooling_mode="cls",
        )
        texts = ["a great film !", "an awful movie"]
        expected = embedder.predict(texts, verbose=0)
        embedder.save_to_preset(str(tmp_path))
        restored = XLMRobertaTextEmbedder.from_preset(str(tmp_path))
        assert restored.pooling_mode == "cls" and restored.normalize
        np.testing.assert_array_equal(restored.predict(texts, verbose=0), expected)

        raw = XLMRobertaTextEmbedder(tiny_backbone)
        bad = dict(tiny_inputs)
        bad["token_ids"] = tiny_inputs["token_ids"].copy()
        bad["token_ids"][0, 3] = 802  # vocabulary_size is 802
        with pytest.raises(
            ValueError, match=r"got `token_ids` up to 802, but its `vocabulary_size` is 802"
        ):
            raw.predict(bad, verbose=0)
