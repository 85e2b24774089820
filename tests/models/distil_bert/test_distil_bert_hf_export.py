"""DistilBERT export to Hugging Face, checked against `transformers`: the
exported directories load with `AutoModel`, `AutoModelFor...` and
`AutoTokenizer` and compute our outputs and ids on real text;
`transformers` checkpoints converted to ours and exported back hold
identical tensors."""

import json
import os

import numpy as np
import pytest

from keras_nlp_clone.models import DistilBertBackbone
from keras_nlp_clone.models import DistilBertClassifier
from keras_nlp_clone.models import DistilBertMaskedLM
from keras_nlp_clone.models import DistilBertPreprocessor
from keras_nlp_clone.models import DistilBertTokenizer
from tests import real_data
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
def tokenizer(minilm_dir):
    # A real uncased BERT vocabulary (all-MiniLM-L6-v2's, 30,522 tokens).
    return DistilBertTokenizer(
        vocabulary=os.path.join(minilm_dir, "vocab.txt"), lowercase=True
    )


@pytest.fixture(scope="module")
def backbone(tokenizer):
    return DistilBertBackbone(
        vocabulary_size=tokenizer.vocabulary_size(),
        num_layers=2,
        num_heads=2,
        hidden_dim=8,
        intermediate_dim=16,
        max_sequence_length=32,
    )


@pytest.fixture(scope="module")
def preprocessor(tokenizer):
    return DistilBertPreprocessor(tokenizer, sequence_length=SEQUENCE_LENGTH)


@pytest.fixture(scope="module")
def inputs(preprocessor, texts):
    return numpy_inputs(preprocessor(texts))


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("distil_bert_export")
    return lambda name: str(root / name)


class TestDistilBertExport(TestCase):
    def test_backbone_matches_auto_model(self, backbone, inputs, export_dir):
        import transformers

        path = export_dir("backbone")
        backbone.export_to_transformers(path)
        with open(os.path.join(path, "config.json"), encoding="utf-8") as f:
            config = json.load(f)
        assert config["model_type"] == "distilbert"
        assert config["architectures"] == ["DistilBertModel"]
        model = transformers.AutoModel.from_pretrained(path).eval()
        assert type(model).__name__ == "DistilBertModel"
        real = inputs["padding_mask"].astype(bool)
        assert (~real).any()
        np.testing.assert_allclose(
            to_numpy(backbone(inputs))[real],
            hf_forward(model, inputs).last_hidden_state.numpy()[real],
            atol=1e-4,
        )

    def test_classifier_with_tokenizer(
        self, backbone, preprocessor, inputs, texts, export_dir
    ):
        import transformers

        classifier = DistilBertClassifier(
            backbone, num_classes=3, preprocessor=preprocessor
        )
        path = export_dir("classifier")
        classifier.export_to_transformers(path)
        model = transformers.AutoModelForSequenceClassification.from_pretrained(
            path
        ).eval()
        assert type(model).__name__ == "DistilBertForSequenceClassification"
        hf_tokenizer = transformers.AutoTokenizer.from_pretrained(path)
        assert type(hf_tokenizer).__name__ == "DistilBertTokenizer"
        encoded = hf_tokenizer(
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
        classifier = DistilBertClassifier(backbone, num_classes=2, hidden_dim=6)
        with pytest.raises(ValueError, match="hidden_dim=6"):
            classifier.export_to_transformers(export_dir("narrow"))
        assert not os.path.exists(export_dir("narrow"))

    def test_masked_lm(self, backbone, inputs, export_dir):
        import transformers

        masked_lm = DistilBertMaskedLM(backbone)
        path = export_dir("masked_lm")
        masked_lm.export_to_transformers(path)
        model = transformers.AutoModelForMaskedLM.from_pretrained(path).eval()
        assert type(model).__name__ == "DistilBertForMaskedLM"
        ours = masked_lm({**inputs, "mask_positions": MASK_POSITIONS})
        theirs = hf_forward(model, inputs).logits.numpy()
        np.testing.assert_allclose(
            to_numpy(ours),
            np.take_along_axis(theirs, MASK_POSITIONS[..., None], axis=1),
            atol=1e-4,
        )

    def test_tokenizer_ids_on_real_text(self, tokenizer, export_dir):
        import transformers

        path = export_dir("tokenizer")
        tokenizer.export_to_transformers(path)
        with open(os.path.join(path, "tokenizer_config.json"), encoding="utf-8") as f:
            assert json.load(f)["tokenizer_class"] == "DistilBertTokenizer"
        hf_tokenizer = transformers.AutoTokenizer.from_pretrained(path)
        texts = list(real_data.imdb_texts(50))
        theirs = hf_tokenizer(texts, add_special_tokens=False)["input_ids"]
        assert [list(ids) for ids in tokenizer(texts)] == theirs


class TestHuggingFaceRoundTrip(TestCase):
    """`transformers` checkpoint -> ours -> export: identical tensors."""

    @pytest.fixture(scope="class")
    def checkpoints(self, tmp_path_factory):
        import transformers

        config = transformers.DistilBertConfig(
            vocab_size=40,
            dim=8,
            n_layers=2,
            n_heads=2,
            hidden_dim=16,
            max_position_embeddings=32,
            num_labels=3,
        )
        root = tmp_path_factory.mktemp("hf_distil_bert")
        paths = {}
        for name in (
            "DistilBertModel",
            "DistilBertForSequenceClassification",
            "DistilBertForMaskedLM",
        ):
            path = str(root / name)
            perturbed(getattr(transformers, name)(config)).save_pretrained(path)
            paths[name] = path
        return paths

    def test_backbone(self, checkpoints, tmp_path):
        backbone = DistilBertBackbone.from_preset(checkpoints["DistilBertModel"])
        backbone.export_to_transformers(str(tmp_path / "out"))
        assert_same_tensors(checkpoints["DistilBertModel"], str(tmp_path / "out"))

    def test_classifier(self, checkpoints, tmp_path):
        path = checkpoints["DistilBertForSequenceClassification"]
        classifier = DistilBertClassifier.from_preset(
            path, num_classes=3, preprocessor=None
        )
        classifier.export_to_transformers(str(tmp_path / "out"))
        assert_same_tensors(path, str(tmp_path / "out"))

    def test_masked_lm(self, checkpoints, tmp_path):
        path = checkpoints["DistilBertForMaskedLM"]
        DistilBertMaskedLM.from_preset(path, preprocessor=None).export_to_transformers(
            str(tmp_path / "out")
        )
        assert_same_tensors(path, str(tmp_path / "out"))
