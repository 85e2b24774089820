"""XLM-RoBERTa export to Hugging Face, checked against `transformers` and
sentence-transformers: the exported directories load with `AutoModel`,
`AutoModelFor...`, `AutoTokenizer` and `SentenceTransformer` and compute
our outputs and ids on real text; ours -> Hugging Face -> ours and
Hugging Face -> ours -> Hugging Face give identical tensors."""

import json
import os

import numpy as np
import pytest

from keras_nlp_clone.models import XLMRobertaBackbone
from keras_nlp_clone.models import XLMRobertaClassifier
from keras_nlp_clone.models import XLMRobertaMaskedLM
from keras_nlp_clone.models import XLMRobertaPreprocessor
from keras_nlp_clone.models import XLMRobertaTextEmbedder
from keras_nlp_clone.models import XLMRobertaTextEmbedderPreprocessor
from keras_nlp_clone.models import XLMRobertaTokenizer
from tests import real_data
from tests.models.xlm_roberta.conftest import VOCABULARY_SIZE
from tests.models.xlm_roberta.conftest import train_sentence_piece
from tests.presets.hf_export_utils import assert_same_tensors
from tests.presets.hf_export_utils import hf_forward
from tests.presets.hf_export_utils import numpy_inputs
from tests.presets.hf_export_utils import perturbed
from tests.presets.hf_export_utils import to_numpy
from tests.test_case import TestCase

SEQUENCE_LENGTH = 24
MASK_POSITIONS = np.array([[1, 2, 5], [3, 4, 6], [1, 7, 9], [2, 3, 4]], "int32")


@pytest.fixture(scope="module")
def texts():
    # Real sentences: the two shortest of 50 (padded) and two news
    # articles (truncated).
    short = sorted(real_data.rotten_tomatoes_texts(50), key=len)[:2]
    return short + list(real_data.news_texts(2))


@pytest.fixture(scope="module")
def tokenizer(xlm_proto):
    # A unigram SentencePiece model trained on 300 IMDB reviews, with
    # XLM-RoBERTa's layout (see conftest).
    return XLMRobertaTokenizer(proto=xlm_proto)


@pytest.fixture(scope="module")
def backbone():
    return XLMRobertaBackbone(
        vocabulary_size=VOCABULARY_SIZE,
        num_layers=2,
        num_heads=2,
        hidden_dim=8,
        intermediate_dim=16,
        max_sequence_length=32,
    )


@pytest.fixture(scope="module")
def preprocessor(tokenizer):
    return XLMRobertaPreprocessor(tokenizer, sequence_length=SEQUENCE_LENGTH)


@pytest.fixture(scope="module")
def inputs(preprocessor, texts):
    return numpy_inputs(preprocessor(texts))


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("xlm_roberta_export")
    return lambda name: str(root / name)


class TestXLMRobertaExport(TestCase):
    def test_backbone_matches_auto_model_and_comes_back(
        self, backbone, inputs, export_dir
    ):
        import transformers

        path = export_dir("backbone")
        backbone.export_to_transformers(path)
        with open(os.path.join(path, "config.json"), encoding="utf-8") as f:
            config = json.load(f)
        assert config["model_type"] == "xlm-roberta"
        assert config["architectures"] == ["XLMRobertaModel"]
        assert config["max_position_embeddings"] == 34
        model = transformers.AutoModel.from_pretrained(path).eval()
        assert type(model).__name__ == "XLMRobertaModel"
        real = inputs["padding_mask"].astype(bool)
        assert (~real).any()
        np.testing.assert_allclose(
            to_numpy(backbone(inputs))[real],
            hf_forward(model, inputs).last_hidden_state.numpy()[real],
            atol=1e-4,
        )
        # Ours -> Hugging Face -> ours: every weight unchanged.
        restored = XLMRobertaBackbone.from_preset(path)
        assert restored.max_sequence_length == backbone.max_sequence_length
        for before, after in zip(backbone.weights, restored.weights):
            assert before.path == after.path
            np.testing.assert_array_equal(to_numpy(before), to_numpy(after))

    def test_classifier_with_tokenizer(
        self, backbone, preprocessor, inputs, texts, export_dir
    ):
        import transformers

        classifier = XLMRobertaClassifier(
            backbone, num_classes=3, preprocessor=preprocessor
        )
        path = export_dir("classifier")
        classifier.export_to_transformers(path)
        assert sorted(os.listdir(path)) == [
            "config.json",
            "model.safetensors",
            "sentencepiece.bpe.model",
            "special_tokens_map.json",
            "tokenizer_config.json",
        ]
        model = transformers.AutoModelForSequenceClassification.from_pretrained(
            path
        ).eval()
        assert type(model).__name__ == "XLMRobertaForSequenceClassification"
        encoded = transformers.AutoTokenizer.from_pretrained(path)(
            texts,
            padding="max_length",
            truncation=True,
            max_length=SEQUENCE_LENGTH,
            return_tensors="np",
        )
        np.testing.assert_array_equal(encoded["input_ids"], inputs["token_ids"])
        np.testing.assert_allclose(
            to_numpy(classifier(inputs)),
            hf_forward(model, inputs).logits.numpy(),
            atol=1e-4,
        )

    def test_classifier_of_another_width_is_refused(self, backbone, export_dir):
        classifier = XLMRobertaClassifier(backbone, num_classes=2, hidden_dim=6)
        with pytest.raises(ValueError, match="hidden_dim=6"):
            classifier.export_to_transformers(export_dir("narrow"))

    def test_masked_lm(self, backbone, inputs, export_dir):
        import transformers

        masked_lm = XLMRobertaMaskedLM(backbone)
        path = export_dir("masked_lm")
        masked_lm.export_to_transformers(path)
        model = transformers.AutoModelForMaskedLM.from_pretrained(path).eval()
        assert type(model).__name__ == "XLMRobertaForMaskedLM"
        ours = masked_lm({**inputs, "mask_positions": MASK_POSITIONS})
        theirs = hf_forward(model, inputs).logits.numpy()
        np.testing.assert_allclose(
            to_numpy(ours),
            np.take_along_axis(theirs, MASK_POSITIONS[..., None], axis=1),
            atol=1e-4,
        )

    @pytest.mark.parametrize("use_fast", [True, False])
    def test_tokenizer_ids_on_real_text(self, tokenizer, export_dir, use_fast):
        import transformers

        path = export_dir(f"tokenizer_{use_fast}")
        tokenizer.export_to_transformers(path)
        hf_tokenizer = transformers.AutoTokenizer.from_pretrained(
            path, use_fast=use_fast
        )
        texts = list(real_data.news_texts(100))
        texts += list(real_data.rotten_tomatoes_texts(100))
        theirs = hf_tokenizer(texts, add_special_tokens=False)["input_ids"]
        assert [list(ids) for ids in tokenizer(texts)] == theirs
        assert hf_tokenizer.mask_token_id == tokenizer.mask_token_id

    def test_bpe_sentence_piece_model_is_refused(self, export_dir):
        proto = train_sentence_piece(
            real_data.imdb_texts(30), 300, model_type="bpe"
        )
        with pytest.raises(ValueError, match="of type BPE"):
            XLMRobertaTokenizer(proto=proto).export_to_transformers(
                export_dir("bpe")
            )

    def test_text_embedder_as_sentence_transformer(
        self, backbone, tokenizer, texts, export_dir
    ):
        from sentence_transformers import SentenceTransformer

        embedder = XLMRobertaTextEmbedder(
            backbone,
            preprocessor=XLMRobertaTextEmbedderPreprocessor(
                tokenizer, sequence_length=20
            ),
            pooling_mode="max",
            normalize=True,
        )
        path = export_dir("embedder")
        embedder.export_to_transformers(path)
        model = SentenceTransformer(path, device="cpu")
        np.testing.assert_allclose(
            to_numpy(embedder.predict(texts, verbose=0)),
            model.encode(texts, convert_to_numpy=True),
            atol=1e-5,
        )


class TestHuggingFaceRoundTrip(TestCase):
    """`transformers` checkpoint -> ours -> export: identical tensors.

    Our backbone folds the token type row into the position table and
    drops position rows 0 and 1 (unused by right-padded inputs), so the
    checkpoints here have those tensors at zero, as our exports do.
    """

    @pytest.fixture(scope="class")
    def checkpoints(self, tmp_path_factory, xlm_proto):
        import torch
        import transformers

        config = transformers.XLMRobertaConfig(
            vocab_size=VOCABULARY_SIZE,
            hidden_size=8,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=16,
            max_position_embeddings=34,
            layer_norm_eps=1e-5,
            pad_token_id=1,
            bos_token_id=0,
            eos_token_id=2,
            type_vocab_size=1,
            num_labels=3,
        )
        root = tmp_path_factory.mktemp("hf_xlm_roberta")
        paths = {}
        for name, kwargs in (
            ("XLMRobertaModel", {"add_pooling_layer": False}),
            ("XLMRobertaForSequenceClassification", {}),
            ("XLMRobertaForMaskedLM", {}),
        ):
            model = perturbed(getattr(transformers, name)(config, **kwargs))
            base = getattr(model, "roberta", model)
            with torch.no_grad():
                base.embeddings.token_type_embeddings.weight.zero_()
                base.embeddings.position_embeddings.weight[:2].zero_()
            path = root / name
            model.save_pretrained(str(path))
            (path / "sentencepiece.bpe.model").write_bytes(xlm_proto)
            paths[name] = str(path)
        return paths

    def test_backbone(self, checkpoints, tmp_path):
        path = checkpoints["XLMRobertaModel"]
        XLMRobertaBackbone.from_preset(path).export_to_transformers(
            str(tmp_path / "out")
        )
        assert_same_tensors(path, str(tmp_path / "out"))

    def test_classifier(self, checkpoints, tmp_path):
        path = checkpoints["XLMRobertaForSequenceClassification"]
        classifier = XLMRobertaClassifier.from_preset(
            path, num_classes=3, preprocessor=None
        )
        classifier.export_to_transformers(str(tmp_path / "out"))
        assert_same_tensors(path, str(tmp_path / "out"))

    def test_masked_lm_with_tokenizer(self, checkpoints, tmp_path):
        path = checkpoints["XLMRobertaForMaskedLM"]
        masked_lm = XLMRobertaMaskedLM.from_preset(path)
        masked_lm.export_to_transformers(str(tmp_path / "out"))
        assert_same_tensors(path, str(tmp_path / "out"))
        with open(os.path.join(path, "sentencepiece.bpe.model"), "rb") as f:
            expected = f.read()
        with open(tmp_path / "out" / "sentencepiece.bpe.model", "rb") as f:
            assert f.read() == expected
