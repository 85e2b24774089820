"""BERT export to Hugging Face, checked against `transformers` and
sentence-transformers: the exported directories load with `AutoModel`,
`AutoModelFor...`, `AutoTokenizer` and `SentenceTransformer` and compute
our outputs and ids on real text; `transformers` checkpoints converted to
ours and exported back hold identical tensors."""

import json
import os

import numpy as np
import pytest

from keras_nlp_clone.models import BertBackbone
from keras_nlp_clone.models import BertClassifier
from keras_nlp_clone.models import BertMaskedLM
from keras_nlp_clone.models import BertPreprocessor
from keras_nlp_clone.models import BertTextEmbedder
from keras_nlp_clone.models import BertTextEmbedderPreprocessor
from keras_nlp_clone.models import BertTokenizer
from tests import real_data
from tests.presets.hf_export_utils import assert_same_tensors
from tests.presets.hf_export_utils import hf_forward
from tests.presets.hf_export_utils import numpy_inputs
from tests.presets.hf_export_utils import perturbed
from tests.presets.hf_export_utils import read_tensors
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
    # all-MiniLM-L6-v2's real uncased vocabulary (30,522 tokens).
    return BertTokenizer(
        vocabulary=os.path.join(minilm_dir, "vocab.txt"), lowercase=True
    )


@pytest.fixture(scope="module")
def backbone(tokenizer):
    return BertBackbone(
        vocabulary_size=tokenizer.vocabulary_size(),
        num_layers=2,
        num_heads=2,
        hidden_dim=8,
        intermediate_dim=16,
        max_sequence_length=32,
    )


@pytest.fixture(scope="module")
def preprocessor(tokenizer):
    return BertPreprocessor(tokenizer, sequence_length=SEQUENCE_LENGTH)


@pytest.fixture(scope="module")
def inputs(preprocessor, texts):
    return numpy_inputs(preprocessor(texts))


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("bert_export")
    return lambda name: str(root / name)


class TestBertExport(TestCase):
    def test_backbone_matches_auto_model(self, backbone, inputs, export_dir):
        import transformers

        path = export_dir("backbone")
        backbone.export_to_transformers(path)
        assert sorted(os.listdir(path)) == ["config.json", "model.safetensors"]
        with open(os.path.join(path, "config.json"), encoding="utf-8") as f:
            config = json.load(f)
        assert config["model_type"] == "bert"
        assert config["architectures"] == ["BertModel"]

        model = transformers.AutoModel.from_pretrained(path).eval()
        assert type(model).__name__ == "BertModel"
        theirs = hf_forward(model, inputs)
        ours = backbone(inputs)
        real = inputs["padding_mask"].astype(bool)
        assert (~real).any()  # padding is exercised
        np.testing.assert_allclose(
            to_numpy(ours["sequence_output"])[real],
            theirs.last_hidden_state.numpy()[real],
            atol=1e-4,
        )
        np.testing.assert_allclose(
            to_numpy(ours["pooled_output"]),
            theirs.pooler_output.numpy(),
            atol=1e-4,
        )

    def test_classifier_with_tokenizer(
        self, backbone, preprocessor, inputs, texts, export_dir
    ):
        import transformers

        classifier = BertClassifier(backbone, num_classes=3, preprocessor=preprocessor)
        path = export_dir("classifier")
        classifier.export_to_transformers(path)
        assert sorted(os.listdir(path)) == [
            "config.json",
            "model.safetensors",
            "special_tokens_map.json",
            "tokenizer_config.json",
            "vocab.txt",
        ]
        model = transformers.AutoModelForSequenceClassification.from_pretrained(
            path
        ).eval()
        assert type(model).__name__ == "BertForSequenceClassification"
        assert model.config.num_labels == 3

        hf_tokenizer = transformers.AutoTokenizer.from_pretrained(path)
        encoded = hf_tokenizer(
            texts,
            padding="max_length",
            truncation=True,
            max_length=SEQUENCE_LENGTH,
            return_tensors="np",
        )
        np.testing.assert_array_equal(encoded["input_ids"], inputs["token_ids"])
        np.testing.assert_array_equal(
            encoded["attention_mask"], inputs["padding_mask"]
        )
        np.testing.assert_allclose(
            to_numpy(classifier(inputs)),
            hf_forward(model, inputs).logits.numpy(),
            atol=1e-4,
        )

    def test_classifier_activation_other_than_softmax_is_refused(
        self, backbone, inputs, export_dir
    ):
        import transformers

        softmax = BertClassifier(backbone, num_classes=2, activation="softmax")
        softmax.export_to_transformers(export_dir("softmax"))
        model = transformers.AutoModelForSequenceClassification.from_pretrained(
            export_dir("softmax")
        ).eval()
        logits = hf_forward(model, inputs).logits.numpy()
        probabilities = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
        np.testing.assert_allclose(to_numpy(softmax(inputs)), probabilities, atol=1e-5)

        sigmoid = BertClassifier(backbone, num_classes=2, activation="sigmoid")
        with pytest.raises(ValueError, match="activation='sigmoid'"):
            sigmoid.export_to_transformers(export_dir("sigmoid"))
        assert not os.path.exists(export_dir("sigmoid"))

    def test_masked_lm(self, backbone, inputs, export_dir):
        import transformers

        masked_lm = BertMaskedLM(backbone)
        path = export_dir("masked_lm")
        masked_lm.export_to_transformers(path)
        model = transformers.AutoModelForMaskedLM.from_pretrained(path).eval()
        assert type(model).__name__ == "BertForMaskedLM"
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
        assert sorted(os.listdir(path)) == [
            "special_tokens_map.json",
            "tokenizer_config.json",
            "vocab.txt",
        ]
        hf_tokenizer = transformers.AutoTokenizer.from_pretrained(path)
        texts = list(real_data.news_texts(100))
        texts += list(real_data.rotten_tomatoes_texts(100))
        theirs = hf_tokenizer(texts, add_special_tokens=False)["input_ids"]
        ours = [list(ids) for ids in tokenizer(texts)]
        assert ours == theirs

    def test_cased_tokenizer_keeps_case_and_accents(self, export_dir):
        import transformers

        vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "Café", "café", "cafe"]
        tokenizer = BertTokenizer(vocabulary=vocab, lowercase=False)
        path = export_dir("cased_tokenizer")
        tokenizer.export_to_transformers(path)
        hf_tokenizer = transformers.AutoTokenizer.from_pretrained(path)
        text = ["Café café cafe CAFE"]
        assert [list(ids) for ids in tokenizer(text)] == [[5, 6, 7, 1]]
        assert hf_tokenizer(text, add_special_tokens=False)["input_ids"] == [
            [5, 6, 7, 1]
        ]

    def test_tokenizer_without_splitting_is_refused(self, export_dir):
        tokenizer = BertTokenizer(
            vocabulary=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the"],
            split=False,
        )
        with pytest.raises(ValueError, match="split=False"):
            tokenizer.export_to_transformers(export_dir("unsplit"))

    @pytest.mark.parametrize(
        "pooling_mode, normalize", [("mean", True), ("cls", False)]
    )
    def test_text_embedder_as_sentence_transformer(
        self, backbone, tokenizer, texts, export_dir, pooling_mode, normalize
    ):
        from sentence_transformers import SentenceTransformer

        embedder = BertTextEmbedder(
            backbone,
            preprocessor=BertTextEmbedderPreprocessor(tokenizer, sequence_length=20),
            pooling_mode=pooling_mode,
            normalize=normalize,
        )
        path = export_dir(f"embedder_{pooling_mode}")
        embedder.export_to_transformers(path)
        with open(os.path.join(path, "modules.json"), encoding="utf-8") as f:
            modules = [m["type"].rsplit(".", 1)[1] for m in json.load(f)]
        assert modules == ["Transformer", "Pooling"] + ["Normalize"] * normalize

        model = SentenceTransformer(path, device="cpu")
        assert model.max_seq_length == 20
        theirs = model.encode(texts, convert_to_numpy=True)
        ours = to_numpy(embedder.predict(texts, verbose=0))
        np.testing.assert_allclose(ours, theirs, atol=1e-5)


class TestHuggingFaceRoundTrip(TestCase):
    """`transformers` checkpoint -> ours -> export: identical tensors."""

    @pytest.fixture(scope="class")
    def checkpoints(self, tmp_path_factory):
        import transformers

        config = transformers.BertConfig(
            vocab_size=40,
            hidden_size=8,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=16,
            max_position_embeddings=32,
            type_vocab_size=2,
            num_labels=3,
        )
        root = tmp_path_factory.mktemp("hf_bert")
        paths = {}
        for name in ("BertModel", "BertForSequenceClassification", "BertForMaskedLM"):
            path = str(root / name)
            perturbed(getattr(transformers, name)(config)).save_pretrained(path)
            paths[name] = path
        return paths

    def test_backbone(self, checkpoints, tmp_path):
        backbone = BertBackbone.from_preset(checkpoints["BertModel"])
        backbone.export_to_transformers(str(tmp_path / "out"))
        assert_same_tensors(checkpoints["BertModel"], str(tmp_path / "out"))

    def test_old_checkpoint_with_position_ids_buffer(self, checkpoints, tmp_path):
        # transformers < 4.31 saved the `position_ids` buffer; it is not a
        # weight: the import ignores it and the export leaves it out.
        from safetensors.numpy import load_file
        from safetensors.numpy import save_file

        old = tmp_path / "old"
        old.mkdir()
        tensors = load_file(os.path.join(checkpoints["BertModel"], "model.safetensors"))
        tensors["embeddings.position_ids"] = np.arange(32, dtype="int64")[None]
        save_file(tensors, str(old / "model.safetensors"), metadata={"format": "pt"})
        with open(os.path.join(checkpoints["BertModel"], "config.json")) as f:
            (old / "config.json").write_text(f.read())
        BertBackbone.from_preset(str(old)).export_to_transformers(str(tmp_path / "out"))
        exported = read_tensors(str(tmp_path / "out"))
        assert "embeddings.position_ids" not in exported
        assert sorted(exported) == sorted(set(tensors) - {"embeddings.position_ids"})
        assert_same_tensors(checkpoints["BertModel"], str(tmp_path / "out"))

    def test_classifier(self, checkpoints, tmp_path):
        path = checkpoints["BertForSequenceClassification"]
        classifier = BertClassifier.from_preset(path, num_classes=3, preprocessor=None)
        classifier.export_to_transformers(str(tmp_path / "out"))
        assert_same_tensors(path, str(tmp_path / "out"))

    def test_masked_lm(self, checkpoints, tmp_path):
        path = checkpoints["BertForMaskedLM"]
        BertMaskedLM.from_preset(path, preprocessor=None).export_to_transformers(
            str(tmp_path / "out")
        )
        assert_same_tensors(path, str(tmp_path / "out"))


@pytest.mark.large
class TestMiniLMExport(TestCase):
    def test_all_minilm_l6_v2_round_trip(self, minilm_dir, tmp_path):
        import torch
        import transformers
        from sentence_transformers import SentenceTransformer

        embedder = BertTextEmbedder.from_preset("all_minilm_l6_v2_en")
        path = str(tmp_path / "minilm")
        embedder.export_to_transformers(path)
        # The weights come back bit-identical, the pooler included. (Our
        # embeddings equal sentence-transformers' is tested in
        # test_bert_text_embedder.py.)
        assert_same_tensors(minilm_dir, path)

        texts = list(real_data.rotten_tomatoes_texts(16))
        reference = SentenceTransformer(minilm_dir, device="cpu")
        exported = SentenceTransformer(path, device="cpu")
        expected = reference.encode(texts, convert_to_numpy=True)
        np.testing.assert_allclose(
            exported.encode(texts, convert_to_numpy=True), expected, atol=1e-5
        )

        model = transformers.AutoModel.from_pretrained(path).eval()
        original = transformers.AutoModel.from_pretrained(minilm_dir).eval()
        encoded = transformers.AutoTokenizer.from_pretrained(path)(
            texts[:4], padding=True, return_tensors="pt"
        )
        with torch.no_grad():
            np.testing.assert_allclose(
                model(**encoded).last_hidden_state.numpy(),
                original(**encoded).last_hidden_state.numpy(),
                atol=1e-5,
            )
