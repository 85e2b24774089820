"""RoBERTa export to Hugging Face `transformers` (`export_to_transformers`).

Oracles: `transformers` itself. A small random `RobertaBackbone` (hidden
32, 2 layers, 4 heads, every weight perturbed so that no layer norm or bias
sits at its initial value) shared by a `RobertaMaskedLM` and a
`RobertaClassifier` (3 classes, heads perturbed too) is exported, with a
RoBERTa-style tokenizer built from the real GPT-2 files (RoBERTa's special
tokens at ids 0-3, GPT-2's tokens after them, `<mask>` last). `AutoModel`,
`AutoModelForMaskedLM`, `AutoModelForSequenceClassification` and
`AutoTokenizer` load the directories; hidden states, logits and token ids
on real news text are compared with ours. The other direction starts from
random Hugging Face checkpoints: loaded with our `from_preset` and exported
again, every tensor comes back identical.
"""

import json
import os

import keras
import numpy as np
import pytest

from keras_nlp_clone.models import RobertaBackbone
from keras_nlp_clone.models import RobertaClassifier
from keras_nlp_clone.models import RobertaMaskedLM
from keras_nlp_clone.models import RobertaMaskedLMPreprocessor
from keras_nlp_clone.models import RobertaPreprocessor
from keras_nlp_clone.models import RobertaTokenizer
from tests import real_data
from tests.test_case import TestCase

SEQUENCE_LENGTH = 24
PAD = 1


def _perturb(variables, seed, scale=0.3):
    """Adds normal noise (std `scale`) to each variable."""
    rng = np.random.default_rng(seed)
    for variable in variables:
        value = np.asarray(variable.numpy())
        variable.assign(value + scale * rng.standard_normal(value.shape))


def _read_safetensors(path):
    from safetensors.numpy import load_file

    return load_file(path)


@pytest.fixture(scope="module")
def tokenizer():
    with open(real_data.gpt2_vocabulary_path(), encoding="utf-8") as f:
        gpt2 = json.load(f)
    vocabulary = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    vocabulary.update({token: 4 + i for token, i in gpt2.items()})
    vocabulary["<mask>"] = len(vocabulary)
    return RobertaTokenizer(
        vocabulary=vocabulary, merges=real_data.gpt2_merges_path()
    )


@pytest.fixture(scope="module")
def tasks(tokenizer):
    backbone = RobertaBackbone(
        vocabulary_size=tokenizer.vocabulary_size(),
        num_layers=2,
        num_heads=4,
        hidden_dim=32,
        intermediate_dim=64,
        max_sequence_length=32,
    )
    _perturb(backbone.weights, seed=0)
    masked_lm = RobertaMaskedLM(
        backbone,
        preprocessor=RobertaMaskedLMPreprocessor(
            tokenizer, sequence_length=SEQUENCE_LENGTH
        ),
    )
    head = masked_lm.masked_lm_head
    _perturb(
        head._intermediate_dense.weights
        + head._intermediate_layer_norm.weights
        + [head._output_bias],
        seed=1,
    )
    classifier = RobertaClassifier(
        backbone,
        num_classes=3,
        preprocessor=RobertaPreprocessor(tokenizer, sequence_length=SEQUENCE_LENGTH),
    )
    _perturb(classifier.pooled_dense.weights + classifier.output_dense.weights, 2)
    return {"backbone": backbone, "masked_lm": masked_lm, "classifier": classifier}


@pytest.fixture(scope="module")
def exported(tasks, tokenizer, tmp_path_factory):
    root = tmp_path_factory.mktemp("roberta_export")
    paths = {name: str(root / name) for name in (*tasks, "tokenizer")}
    for name, obj in tasks.items():
        obj.export_to_transformers(paths[name])
    tokenizer.export_to_transformers(paths["tokenizer"])
    return paths


@pytest.fixture(scope="module")
def news_batch(tasks):
    """Three real news openings, packed `<s> ... </s>` and right-padded
    with `<pad>` to 24 tokens (some rows truncated, some padded)."""
    texts = [
        text[:length] for text, length in zip(real_data.news_texts(3), (40, 200, 80))
    ]
    x = tasks["classifier"].preprocessor(texts)
    batch = {key: np.asarray(value).astype("int32") for key, value in x.items()}
    assert (batch["padding_mask"] == 0).any() and batch["padding_mask"].all(1).any()
    return batch


def _torch_inputs(batch):
    import torch

    return {
        "input_ids": torch.tensor(batch["token_ids"], dtype=torch.long),
        "attention_mask": torch.tensor(batch["padding_mask"], dtype=torch.long),
    }


def _load(auto_class, directory):
    import transformers

    model, info = getattr(transformers, auto_class).from_pretrained(
        directory, output_loading_info=True
    )
    return model.eval(), info


class TestRobertaExportToTransformers(TestCase):
    def test_configs(self, exported, tokenizer):
        expected = {
            "backbone": "RobertaModel",
            "masked_lm": "RobertaForMaskedLM",
            "classifier": "RobertaForSequenceClassification",
        }
        for name, architecture in expected.items():
            with open(os.path.join(exported[name], "config.json")) as f:
                config = json.load(f)
            assert config["model_type"] == "roberta"
            assert config["architectures"] == [architecture]
            assert config["pad_token_id"] == PAD
            assert config["max_position_embeddings"] == 32 + PAD + 1
        assert "vocab.json" in os.listdir(exported["classifier"])
        assert "vocab.json" not in os.listdir(exported["backbone"])

    def test_backbone_hidden_states_match(self, tasks, exported, news_batch):
        import torch

        model, info = _load("AutoModel", exported["backbone"])
        assert type(model).__name__ == "RobertaModel"
        # Our backbone has no pooler: it is the only thing left missing.
        assert sorted(info["missing_keys"]) == [
            "pooler.dense.bias",
            "pooler.dense.weight",
        ]
        assert not info["unexpected_keys"]
        with torch.no_grad():
            ref = model(**_torch_inputs(news_batch)).last_hidden_state.numpy()
        ours = keras.ops.convert_to_numpy(tasks["backbone"](news_batch))
        real = news_batch["padding_mask"].astype(bool)
        np.testing.assert_allclose(ours[real], ref[real], atol=1e-4, rtol=0)
        assert ref[real].std() > 0.5

    def test_masked_lm_logits_match(self, tasks, exported, news_batch):
        import torch

        model, info = _load("AutoModelForMaskedLM", exported["masked_lm"])
        assert type(model).__name__ == "RobertaForMaskedLM"
        assert not info["missing_keys"] and not info["unexpected_keys"]
        mask_positions = np.array([[1, 3, 5], [2, 10, 20], [4, 6, 7]], "int32")
        with torch.no_grad():
            ref = model(**_torch_inputs(news_batch)).logits.numpy()
        ref = np.take_along_axis(ref, mask_positions[..., None], axis=1)
        ours = keras.ops.convert_to_numpy(
            tasks["masked_lm"]({**news_batch, "mask_positions": mask_positions})
        )
        np.testing.assert_allclose(ours, ref, atol=1e-4, rtol=0)
        assert ref.std() > 1.0

    def test_classifier_logits_match(self, tasks, exported, news_batch):
        import torch

        model, info = _load(
            "AutoModelForSequenceClassification", exported["classifier"]
        )
        assert type(model).__name__ == "RobertaForSequenceClassification"
        assert model.config.num_labels == 3
        assert not info["missing_keys"] and not info["unexpected_keys"]
        with torch.no_grad():
            ref = model(**_torch_inputs(news_batch)).logits.numpy()
        ours = keras.ops.convert_to_numpy(tasks["classifier"](news_batch))
        np.testing.assert_allclose(ours, ref, atol=1e-4, rtol=0)
        assert ref.std() > 0.1

    def test_softmax_classifier_exports_its_logits(
        self, tasks, news_batch, tmp_path
    ):
        import torch

        source = tasks["classifier"]
        classifier = RobertaClassifier(
            source.backbone, num_classes=3, activation="softmax"
        )
        classifier.pooled_dense.set_weights(source.pooled_dense.get_weights())
        classifier.output_dense.set_weights(source.output_dense.get_weights())
        classifier.export_to_transformers(str(tmp_path / "softmax"))
        model, _ = _load(
            "AutoModelForSequenceClassification", str(tmp_path / "softmax")
        )
        with torch.no_grad():
            logits = model(**_torch_inputs(news_batch)).logits
        ours = keras.ops.convert_to_numpy(classifier(news_batch))
        np.testing.assert_allclose(
            ours, torch.softmax(logits, -1).numpy(), atol=1e-5, rtol=0
        )

    @pytest.mark.parametrize(
        "kwargs, match",
        [
            ({"hidden_dim": 8}, "hidden_dim=8"),
            ({"activation": "sigmoid"}, "activation='sigmoid'"),
        ],
    )
    def test_heads_without_a_transformers_twin_are_refused(
        self, tasks, tmp_path, kwargs, match
    ):
        classifier = RobertaClassifier(tasks["backbone"], num_classes=2, **kwargs)
        with pytest.raises(ValueError, match=match):
            classifier.export_to_transformers(str(tmp_path / "out"))
        assert not os.path.exists(tmp_path / "out")

    def test_tokenizer_ids_match_on_real_text(self, tasks, tokenizer, exported):
        import transformers

        texts = list(real_data.news_texts(8)) + [
            "The <mask> sat on the mat.</s> A second  one,\n\nwith émojis 🤗.",
        ]
        preprocessor = tasks["classifier"].preprocessor
        for name in ("tokenizer", "classifier"):
            hf = transformers.AutoTokenizer.from_pretrained(exported[name])
            assert (hf.pad_token_id, hf.mask_token_id) == (
                PAD,
                tokenizer.mask_token_id,
            )
            for text in texts:
                ids = tokenizer(text)
                assert hf(text, add_special_tokens=False)["input_ids"] == ids
                # With its special tokens: our preprocessor's packing.
                packed = hf(text, truncation=True, max_length=SEQUENCE_LENGTH)
                x = preprocessor([text])
                n = int(np.asarray(x["padding_mask"]).sum())
                assert packed["input_ids"] == np.asarray(x["token_ids"])[0, :n].tolist()


def _canonical_hf_roberta(class_name, directory):
    """Saves a random (perturbed) Hugging Face RoBERTa `class_name` in the
    form our export writes: the token-type row and the position rows before
    `pad_token_id + 1` zero. (Our backbone folds the first into its
    position table and drops the second, so they cannot come back.)"""
    import torch
    import transformers

    config = transformers.RobertaConfig(
        vocab_size=300,
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=32,
        max_position_embeddings=34,
        layer_norm_eps=1e-5,
        type_vocab_size=1,
        num_labels=3,
    )
    torch.manual_seed(0)
    model = getattr(transformers, class_name)(config)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(0.1 * torch.randn_like(parameter))
        embeddings = model.base_model.embeddings
        embeddings.token_type_embeddings.weight.zero_()
        embeddings.position_embeddings.weight[: PAD + 1].zero_()
    model.save_pretrained(directory)


class TestRobertaTransformersRoundTrip(TestCase):
    @pytest.mark.parametrize(
        "class_name, load",
        [
            (
                "RobertaForMaskedLM",
                lambda d: RobertaMaskedLM.from_preset(d, preprocessor=None),
            ),
            (
                "RobertaForSequenceClassification",
                lambda d: RobertaClassifier.from_preset(
                    d, num_classes=3, preprocessor=None
                ),
            ),
            ("RobertaModel", RobertaBackbone.from_preset),
        ],
    )
    def test_hf_to_ours_to_hf_is_identical(self, class_name, load, tmp_path):
        source = tmp_path / "hf"
        _canonical_hf_roberta(class_name, source)
        load(str(source)).export_to_transformers(str(tmp_path / "again"))
        before = _read_safetensors(str(source / "model.safetensors"))
        after = _read_safetensors(str(tmp_path / "again" / "model.safetensors"))
        if class_name == "RobertaModel":
            # Our backbone has no pooler (as KerasNLP's); nothing else is lost.
            assert sorted(set(before) - set(after)) == [
                "pooler.dense.bias",
                "pooler.dense.weight",
            ]
            before = {k: v for k, v in before.items() if k in after}
        assert sorted(after) == sorted(before)
        for key, value in before.items():
            np.testing.assert_array_equal(after[key], value, err_msg=key)
