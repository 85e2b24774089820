"""Every task of every family under `mixed_float16` and `mixed_bfloat16`.

For each family a float32 task is built once (tiny config, real
tokenizer), its predictions (and greedy generations) are recorded and it is
saved as a preset. Under each mixed policy the test then loads that preset
with `from_preset` (a float32 preset restored into a mixed model) and checks:

- the dtype claims: variables float32, task outputs (logits) float32,
  attention probabilities float32, layer norms computed in float32 (their
  output equals a float32 layer norm of the same half-precision input,
  rounded once), losses float32, and a `LossScaleOptimizer` under
  `mixed_float16`;
- `predict` against the float32 logits within the tolerance of the policy
  (`TOLERANCE`, measured: see docs/mixed_precision.md);
- greedy `generate` (GPT-2, BART) gives the float32 ids;
- `fit` on raw strings runs with a finite loss, for the loaded task and for
  one built fresh under the policy.

The global policy is restored after every test (`mixed_policy`).
"""

import contextlib

import keras
import numpy as np
import pytest

from keras_nlp_clone import models
from keras_nlp_clone.layers import CachedMultiHeadAttention
from tests.models.bart.conftest import TINY_MERGES as BART_MERGES
from tests.models.bart.conftest import TINY_VOCAB as BART_VOCAB
from tests.models.bert.conftest import TINY_VOCAB as BERT_VOCAB
from tests.models.gpt2.conftest import TINY_MERGES as GPT2_MERGES
from tests.models.gpt2.conftest import TINY_VOCAB as GPT2_VOCAB
from tests.models.roberta.conftest import TINY_MERGES as ROBERTA_MERGES
from tests.models.roberta.conftest import TINY_VOCAB as ROBERTA_VOCAB
from tests.models.xlm_roberta.conftest import train_sentence_piece
from tests.test_case import TestCase

POLICIES = ["mixed_float16", "mixed_bfloat16"]

# Largest |logit - float32 logit| allowed, relative to the largest float32
# |logit| of the batch. float16 keeps 11 significant bits, bfloat16 8. The
# largest errors measured (docs/mixed_precision.md) are 3.5e-3 (float16)
# and 1.7e-2 (bfloat16, the classifiers' tiny logits on JAX).
TOLERANCE = {"mixed_float16": 1e-2, "mixed_bfloat16": 5e-2}

TEXTS = ["the quick brown fox", "the lazy dog jumped over the fox"]
SEQUENCE_LENGTH = 8
TINY = dict(
    num_layers=1,
    num_heads=2,
    hidden_dim=16,
    intermediate_dim=32,
    max_sequence_length=16,
)


@contextlib.contextmanager
def mixed_policy(name):
    """Sets the global dtype policy for the block, restoring the previous
    one even when the block fails."""
    previous = keras.config.dtype_policy()
    keras.mixed_precision.set_global_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


@pytest.fixture(autouse=True)
def _restore_global_policy():
    previous = keras.config.dtype_policy()
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


# === Families: float32 tasks built from tiny configs ===


def _encoder_family(prefix, tokenizer):
    """Classifier and masked LM of an encoder family on one backbone."""
    backbone = getattr(models, f"{prefix}Backbone")(
        vocabulary_size=tokenizer.vocabulary_size(), **TINY
    )
    classifier = getattr(models, f"{prefix}Classifier")(
        backbone,
        num_classes=3,
        preprocessor=getattr(models, f"{prefix}Preprocessor")(
            tokenizer, sequence_length=SEQUENCE_LENGTH
        ),
    )
    masked_lm = getattr(models, f"{prefix}MaskedLM")(
        backbone,
        preprocessor=getattr(models, f"{prefix}MaskedLMPreprocessor")(
            tokenizer,
            sequence_length=SEQUENCE_LENGTH,
            mask_selection_rate=0.5,
            mask_selection_length=3,
        ),
    )
    return {"classifier": classifier, "masked_lm": masked_lm}


def _bert():
    return _encoder_family(
        "Bert", models.BertTokenizer(vocabulary=list(BERT_VOCAB), lowercase=True)
    )


def _distil_bert():
    tokenizer = models.DistilBertTokenizer(
        vocabulary=list(BERT_VOCAB), lowercase=True
    )
    return _encoder_family("DistilBert", tokenizer)


def _roberta():
    tokenizer = models.RobertaTokenizer(
        vocabulary=dict(ROBERTA_VOCAB), merges=list(ROBERTA_MERGES)
    )
    return _encoder_family("Roberta", tokenizer)


def _xlm_roberta():
    proto = train_sentence_piece(TEXTS * 4, 30)
    return _encoder_family("XLMRoberta", models.XLMRobertaTokenizer(proto=proto))


def _separate_logits(backbone):
    # Larger embeddings: well separated logits, so greedy choices are not
    # near-ties that half precision may flip.
    for variable in backbone.token_embedding.weights:
        variable.assign(variable * 50.0)


def _gpt2():
    tokenizer = models.GPT2Tokenizer(
        vocabulary=dict(GPT2_VOCAB), merges=list(GPT2_MERGES)
    )
    backbone = models.GPT2Backbone(vocabulary_size=len(GPT2_VOCAB), **TINY)
    _separate_logits(backbone)
    causal_lm = models.GPT2CausalLM(
        backbone,
        models.GPT2CausalLMPreprocessor(tokenizer, sequence_length=SEQUENCE_LENGTH),
    )
    return {"causal_lm": causal_lm}


def _bart():
    tokenizer = models.BartTokenizer(
        vocabulary=dict(BART_VOCAB), merges=list(BART_MERGES)
    )
    backbone = models.BartBackbone(vocabulary_size=len(BART_VOCAB), **TINY)
    _separate_logits(backbone)
    seq_2_seq_lm = models.BartSeq2SeqLM(
        backbone,
        models.BartSeq2SeqLMPreprocessor(
            tokenizer,
            encoder_sequence_length=SEQUENCE_LENGTH,
            decoder_sequence_length=SEQUENCE_LENGTH,
        ),
    )
    return {"seq_2_seq_lm": seq_2_seq_lm}


FAMILIES = {
    "bert": _bert,
    "distil_bert": _distil_bert,
    "roberta": _roberta,
    "xlm_roberta": _xlm_roberta,
    "gpt2": _gpt2,
    "bart": _bart,
}


def _fit_data(name, task):
    if name == "seq_2_seq_lm":
        return {"encoder_text": TEXTS, "decoder_text": TEXTS}, None
    if name == "classifier":
        return TEXTS, np.array([0, 2])
    return TEXTS, None


def _predict_inputs(task):
    """The preprocessed inputs `predict` is compared on (a masked LM's
    preprocessor draws random masks, so they are drawn once)."""
    if isinstance(task, models.Seq2SeqLM):
        x = {"encoder_text": TEXTS, "decoder_text": TEXTS}
    else:
        x = TEXTS
    x = task.preprocessor(x)
    x = keras.utils.unpack_x_y_sample_weight(x)[0]
    return {k: keras.ops.convert_to_numpy(v) for k, v in x.items()}


def _compile(task):
    # Not XLA-compiled: compiling each tiny model's train and predict steps
    # would cost more than running them (the test time budget).
    if isinstance(task, (models.CausalLM, models.Seq2SeqLM)):
        task.compile(sampler="greedy", jit_compile=False)
    else:
        task.compile(jit_compile=False)


def _generate(task):
    # Token ids out (no detokenization), greedy, fixed length.
    inputs = task.preprocessor.generate_preprocess(
        TEXTS if isinstance(task, models.CausalLM) else {"encoder_text": TEXTS},
        sequence_length=SEQUENCE_LENGTH,
    )
    inputs = {k: keras.ops.convert_to_numpy(v) for k, v in inputs.items()}
    preprocessor, task.preprocessor = task.preprocessor, None
    try:
        outputs = task.generate(inputs, stop_token_ids=None)
    finally:
        task.preprocessor = preprocessor
    key = "token_ids" if "token_ids" in outputs else "decoder_token_ids"
    return outputs[key]


@pytest.fixture(scope="module")
def float32_references(tmp_path_factory):
    """Per family (built on first use): a dict task name -> `(preset_dir,
    class, predict inputs, float32 logits, greedy ids or None)`."""
    cache = {}

    def get(family):
        if family not in cache:
            assert keras.config.dtype_policy().name == "float32"
            keras.utils.set_random_seed(7)
            references = {}
            for name, task in FAMILIES[family]().items():
                directory = str(tmp_path_factory.mktemp(f"{family}_{name}"))
                task.save_to_preset(directory)
                _compile(task)
                x = _predict_inputs(task)
                preprocessor, task.preprocessor = task.preprocessor, None
                logits = task.predict(x, verbose=0)
                task.preprocessor = preprocessor
                ids = None
                if isinstance(task, (models.CausalLM, models.Seq2SeqLM)):
                    ids = _generate(task)
                references[name] = (directory, type(task), x, logits, ids)
            cache[family] = references
        return cache[family]

    return get


# === Dtype checks ===


def _check_layer_norms_compute_in_float32(task, x):
    """Each layer norm's output equals a float32 layer norm of its (half
    precision) input, rounded to the compute dtype once: a layer norm
    computed in float16/bfloat16 would be off by several units in the last
    place."""
    norms = [
        layer
        for layer in task.backbone._flatten_layers()
        if isinstance(layer, keras.layers.LayerNormalization)
    ]
    assert norms
    compute_dtype = task.backbone.compute_dtype
    rng = np.random.default_rng(0)
    for norm in norms[:2]:
        dim = norm.gamma.shape[-1]
        # Large mean, small spread: the case half precision gets wrong.
        inputs = (100.0 + rng.normal(size=(2, 3, dim))).astype("float32")
        inputs = keras.ops.cast(inputs, compute_dtype)
        outputs = norm(inputs)
        assert keras.backend.standardize_dtype(outputs.dtype) == compute_dtype
        x32 = keras.ops.convert_to_numpy(keras.ops.cast(inputs, "float32"))
        mean = x32.mean(-1, keepdims=True)
        variance = x32.var(-1, keepdims=True)
        expected = (x32 - mean) / np.sqrt(variance + norm.epsilon)
        expected = expected * keras.ops.convert_to_numpy(norm.gamma)
        expected = expected + keras.ops.convert_to_numpy(norm.beta)
        expected = keras.ops.cast(expected.astype("float32"), compute_dtype)
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(keras.ops.cast(outputs, "float32")),
            keras.ops.convert_to_numpy(keras.ops.cast(expected, "float32")),
            rtol=2 ** -7 if compute_dtype == "bfloat16" else 2 ** -10,
            atol=1e-2,
        )


def _check_attention_probabilities_are_float32(task):
    attention = [
        layer
        for layer in task.backbone._flatten_layers()
        if isinstance(layer, CachedMultiHeadAttention)
    ][0]
    dim = attention._query_dense.kernel.shape[0]
    x = keras.ops.cast(np.ones((1, 4, dim), "float32"), attention.compute_dtype)
    outputs = attention(x, x, return_attention_scores=True)
    output, scores = outputs[0], outputs[-1]
    assert keras.backend.standardize_dtype(output.dtype) == attention.compute_dtype
    assert keras.backend.standardize_dtype(scores.dtype) == "float32"


def _check_dtypes(task, policy, x):
    assert task.dtype_policy.name == policy
    assert {v.dtype for v in task.weights} == {"float32"}
    _check_attention_probabilities_are_float32(task)
    _check_layer_norms_compute_in_float32(task, x)
    assert task.loss.dtype == "float32"
    if policy == "mixed_float16":
        assert isinstance(task.optimizer, keras.optimizers.LossScaleOptimizer)


class TestMixedPrecision(TestCase):
    @pytest.mark.parametrize("policy", POLICIES)
    @pytest.mark.parametrize("family", list(FAMILIES))
    def test_family(self, family, policy, float32_references):
        references = float32_references(family)
        with mixed_policy(policy):
            for name, (directory, cls, x, expected, ids) in references.items():
                task = cls.from_preset(directory)
                _compile(task)
                _check_dtypes(task, policy, x)

                preprocessor, task.preprocessor = task.preprocessor, None
                logits = task.predict(x, verbose=0)
                task.preprocessor = preprocessor
                assert logits.dtype == np.float32
                error = np.max(np.abs(logits - expected))
                scale = np.max(np.abs(expected))
                print(f"{family} {name} {policy} max|diff|={error:.3g} "
                      f"max|logit|={scale:.3g} rel={error / scale:.3g}")
                assert error <= TOLERANCE[policy] * scale, (error, scale)

                if ids is not None:
                    np.testing.assert_array_equal(_generate(task), ids)

                x_fit, y_fit = _fit_data(name, task)
                history = task.fit(x_fit, y_fit, batch_size=2, verbose=0)
                assert np.isfinite(history.history["loss"]).all()

            # Built fresh under the policy: float32 variables and logits.
            for name, task in FAMILIES[family]().items():
                x = references[name][2]
                assert task.dtype_policy.name == policy
                assert {v.dtype for v in task.weights} == {"float32"}
                logits = task(x)
                assert keras.backend.standardize_dtype(logits.dtype) == "float32"
