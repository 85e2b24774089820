"""Every public name of KerasNLP's API listing (models, layers, tokenizers,
samplers, metrics) exists in `keras_nlp_clone`, as a new user would check
it (`hasattr` on the package), with a docstring."""

import pytest

import keras_nlp_clone as keras_nlp

# `module.Name` for each class and function of KerasNLP's public API in the
# project's reference listing.
PUBLIC_NAMES = [
    "models.Backbone",
    "models.Preprocessor",
    "models.Task",
    "models.Tokenizer",
    "models.TextClassifier",
    "models.TextClassifierPreprocessor",
    "models.MaskedLM",
    "models.MaskedLMPreprocessor",
    "models.CausalLM",
    "models.CausalLMPreprocessor",
    "models.Seq2SeqLM",
    "models.Seq2SeqLMPreprocessor",
    "models.BertBackbone",
    "models.BertClassifier",
    "models.BertMaskedLM",
    "models.BertMaskedLMPreprocessor",
    "models.BertPreprocessor",
    "models.BertTextClassifier",
    "models.BertTextClassifierPreprocessor",
    "models.BertTextEmbedder",
    "models.BertTextEmbedderPreprocessor",
    "models.BertTokenizer",
    "models.RobertaBackbone",
    "models.RobertaClassifier",
    "models.RobertaMaskedLM",
    "models.RobertaMaskedLMPreprocessor",
    "models.RobertaPreprocessor",
    "models.RobertaTextClassifier",
    "models.RobertaTextClassifierPreprocessor",
    "models.RobertaTokenizer",
    "models.XLMRobertaBackbone",
    "models.XLMRobertaClassifier",
    "models.XLMRobertaMaskedLM",
    "models.XLMRobertaMaskedLMPreprocessor",
    "models.XLMRobertaPreprocessor",
    "models.XLMRobertaTextClassifier",
    "models.XLMRobertaTextClassifierPreprocessor",
    "models.XLMRobertaTextEmbedder",
    "models.XLMRobertaTextEmbedderPreprocessor",
    "models.XLMRobertaTokenizer",
    "models.DistilBertBackbone",
    "models.DistilBertClassifier",
    "models.DistilBertMaskedLM",
    "models.DistilBertMaskedLMPreprocessor",
    "models.DistilBertPreprocessor",
    "models.DistilBertTextClassifier",
    "models.DistilBertTextClassifierPreprocessor",
    "models.DistilBertTokenizer",
    "models.GPT2Backbone",
    "models.GPT2CausalLM",
    "models.GPT2CausalLMPreprocessor",
    "models.GPT2Preprocessor",
    "models.GPT2Tokenizer",
    "models.BartBackbone",
    "models.BartSeq2SeqLM",
    "models.BartSeq2SeqLMPreprocessor",
    "models.BartTokenizer",
    "layers.AlibiBias",
    "layers.CachedMultiHeadAttention",
    "layers.FNetEncoder",
    "layers.MaskedLMHead",
    "layers.MaskedLMMaskGenerator",
    "layers.MultiSegmentPacker",
    "layers.PositionEmbedding",
    "layers.RandomDeletion",
    "layers.RandomSwap",
    "layers.ReversibleEmbedding",
    "layers.RotaryEmbedding",
    "layers.SinePositionEncoding",
    "layers.StartEndPacker",
    "layers.TokenAndPositionEmbedding",
    "layers.TransformerDecoder",
    "layers.TransformerEncoder",
    "tokenizers.BytePairTokenizer",
    "tokenizers.ByteTokenizer",
    "tokenizers.SentencePieceTokenizer",
    "tokenizers.Tokenizer",
    "tokenizers.UnicodeCodepointTokenizer",
    "tokenizers.WordPieceTokenizer",
    "tokenizers.compute_sentence_piece_proto",
    "tokenizers.compute_word_piece_vocabulary",
    "samplers.BeamSampler",
    "samplers.ContrastiveSampler",
    "samplers.GreedySampler",
    "samplers.RandomSampler",
    "samplers.Sampler",
    "samplers.SpeculativeSampler",
    "samplers.TopKSampler",
    "samplers.TopPSampler",
    "samplers.deserialize",
    "samplers.get",
    "samplers.serialize",
    "metrics.Bleu",
    "metrics.EditDistance",
    "metrics.Perplexity",
    "metrics.RougeL",
    "metrics.RougeN",
]


@pytest.mark.parametrize("path", PUBLIC_NAMES)
def test_public_name_exists_with_docstring(path):
    module_name, name = path.split(".", 1)
    module = getattr(keras_nlp, module_name)
    assert hasattr(module, name), f"keras_nlp.{path} is missing"
    doc = getattr(module, name).__doc__ or ""
    assert len(doc.strip()) > 40, f"keras_nlp.{path} has no docstring"


def test_listing_covers_every_module():
    modules = {p.split(".")[0] for p in PUBLIC_NAMES}
    assert modules == {"layers", "metrics", "models", "samplers", "tokenizers"}
