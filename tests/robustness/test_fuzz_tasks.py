"""Fuzzed robustness of every task's `predict` on raw strings.

Every task (classifiers, masked LMs, text embedders, the GPT-2 causal LM and
the BART seq2seq LM) is built once per module on one tiny backbone per
family (2 layers, hidden 8-16, the tiny vocabularies of `fuzz_strategies`)
with its preprocessor, and predicts on fuzzed strings (see
`fuzz_strategies`) and on a fixed batch holding the empty string and a
100 kB string. Checked: output shapes as documented, all values finite.
Every batch has 4 strings, so each task compiles its predict function once.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from keras_nlp_clone import models
from tests.robustness import fuzz_strategies as fs

BATCH = 4
SEQUENCE_LENGTH = 8
NUM_CLASSES = 3
MASK_SELECTION_LENGTH = 3

# Task -> (family tokenizer case, backbone class, preprocessor class).
TASKS = {
    "BertClassifier": ("bert", "BertBackbone", "BertPreprocessor"),
    "BertMaskedLM": ("bert", "BertBackbone", "BertMaskedLMPreprocessor"),
    "BertTextEmbedder": (
        "bert", "BertBackbone", "BertTextEmbedderPreprocessor",
    ),
    "DistilBertClassifier": (
        "distil_bert", "DistilBertBackbone", "DistilBertPreprocessor",
    ),
    "DistilBertMaskedLM": (
        "distil_bert", "DistilBertBackbone", "DistilBertMaskedLMPreprocessor",
    ),
    "RobertaClassifier": ("roberta", "RobertaBackbone", "RobertaPreprocessor"),
    "RobertaMaskedLM": (
        "roberta", "RobertaBackbone", "RobertaMaskedLMPreprocessor",
    ),
    "XLMRobertaClassifier": (
        "xlm_roberta", "XLMRobertaBackbone", "XLMRobertaPreprocessor",
    ),
    "XLMRobertaMaskedLM": (
        "xlm_roberta", "XLMRobertaBackbone", "XLMRobertaMaskedLMPreprocessor",
    ),
    "XLMRobertaTextEmbedder": (
        "xlm_roberta",
        "XLMRobertaBackbone",
        "XLMRobertaTextEmbedderPreprocessor",
    ),
    "GPT2CausalLM": ("gpt2", "GPT2Backbone", "GPT2CausalLMPreprocessor"),
    "BartSeq2SeqLM": ("bart", "BartBackbone", "BartSeq2SeqLMPreprocessor"),
}
HIDDEN = {"bert": 8, "distil_bert": 8}  # 16 for the other families

EDGE_TEXTS = [
    "",
    "x" * 100_000,
    "\U0001F468\u200d\U0001F469\u200d\U0001F467 \u0301 \x00",
    "שלום مرحبا 中文",
]


@pytest.fixture(scope="module")
def tasks():
    proto = fs.tiny_sentence_piece_proto()
    tokenizers, backbones, built = {}, {}, {}
    for task_name, (family, backbone_name, preprocessor_name) in TASKS.items():
        if family not in tokenizers:
            tokenizers[family] = fs.make_tokenizer(family, proto)
            hidden = HIDDEN.get(family, 16)
            backbones[family] = getattr(models, backbone_name)(
                vocabulary_size=tokenizers[family].vocabulary_size(),
                num_layers=2,
                num_heads=2,
                hidden_dim=hidden,
                intermediate_dim=2 * hidden,
                max_sequence_length=16,
            )
        preprocessor_cls = getattr(models, preprocessor_name)
        if family == "bart":
            preprocessor = preprocessor_cls(
                tokenizers[family],
                encoder_sequence_length=SEQUENCE_LENGTH,
                decoder_sequence_length=SEQUENCE_LENGTH,
            )
        elif "MaskedLM" in preprocessor_name:
            preprocessor = preprocessor_cls(
                tokenizers[family],
                sequence_length=SEQUENCE_LENGTH,
                mask_selection_length=MASK_SELECTION_LENGTH,
            )
        else:
            preprocessor = preprocessor_cls(
                tokenizers[family], sequence_length=SEQUENCE_LENGTH
            )
        kwargs = {"num_classes": NUM_CLASSES} if "Classifier" in task_name else {}
        built[task_name] = getattr(models, task_name)(
            backbones[family], preprocessor=preprocessor, **kwargs
        )
    return built


def expected_shape(task_name, task):
    vocabulary_size = task.backbone.vocabulary_size
    if "Classifier" in task_name:
        return (BATCH, NUM_CLASSES)
    if "MaskedLM" in task_name:
        return (BATCH, MASK_SELECTION_LENGTH, vocabulary_size)
    if "TextEmbedder" in task_name:
        return (BATCH, task.backbone.hidden_dim)
    return (BATCH, SEQUENCE_LENGTH, vocabulary_size)


def predict(task_name, task, texts):
    if task_name == "BartSeq2SeqLM":
        # Targets are the sources reversed: other strings, same batch.
        texts = {"encoder_text": texts, "decoder_text": texts[::-1]}
    return task.predict(texts, batch_size=BATCH, verbose=0)


def check_outputs(task_name, task, outputs):
    outputs = np.asarray(outputs)
    assert outputs.shape == expected_shape(task_name, task)
    assert np.isfinite(outputs).all()
    if "TextEmbedder" in task_name:
        # Normalized embeddings (`normalize=True`, the default).
        np.testing.assert_allclose(
            np.linalg.norm(outputs, axis=-1), 1.0, atol=1e-4
        )


@pytest.mark.parametrize("task_name", list(TASKS))
def test_predict_on_fuzzed_strings(tasks, task_name):
    task = tasks[task_name]

    @settings(max_examples=2)
    @given(
        st.lists(
            st.one_of(st.just(""), fs.fuzz_text()),
            min_size=BATCH,
            max_size=BATCH,
        )
    )
    def check(texts):
        check_outputs(task_name, task, predict(task_name, task, texts))

    check()


@pytest.mark.parametrize("task_name", list(TASKS))
def test_predict_on_empty_and_100_kb_strings(tasks, task_name):
    task = tasks[task_name]
    check_outputs(task_name, task, predict(task_name, task, EDGE_TEXTS))
