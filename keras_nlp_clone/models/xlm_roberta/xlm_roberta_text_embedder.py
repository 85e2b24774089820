"""XLM-RoBERTa text embedder (sentence-transformers style)."""

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.models.text_embedder import TextEmbedder
from keras_nlp_clone.models.xlm_roberta.xlm_roberta_backbone import (
    XLMRobertaBackbone,
)
from keras_nlp_clone.models.xlm_roberta.xlm_roberta_text_embedder_preprocessor import (
    XLMRobertaTextEmbedderPreprocessor,
)


@keras_nlp_clone_export
class XLMRobertaTextEmbedder(TextEmbedder):
    """XLM-RoBERTa sentence embeddings: strings in, one vector per string
    out.

    Runs an `XLMRobertaBackbone` and pools its `sequence_output` over the
    non-padding tokens (`pooling_mode="mean"`, the default), then
    L2-normalizes: the architecture of the multilingual sentence-transformers
    models built on XLM-RoBERTa (Hugging Face XLM-RoBERTa directories load
    with `from_preset`). `"cls"` pools
    the `<s>` state, `"max"` takes the elementwise maximum; see
    `TextEmbedder`. Equal within 1e-5 to Hugging Face's `XLMRobertaModel`
    followed by mean pooling on the same weights. With an
    `XLMRobertaTextEmbedderPreprocessor` it takes raw strings in `predict`,
    `fit` and `evaluate`; with `preprocessor=None`, the backbone's input
    dict.

    Args:
        backbone: `keras_nlp_clone.models.XLMRobertaBackbone`.
        preprocessor:
            `keras_nlp_clone.models.XLMRobertaTextEmbedderPreprocessor` or
            `None`. Defaults to `None` (inputs must be preprocessed).
        pooling_mode: str. `"mean"`, `"cls"` or `"max"`. Defaults to
            `"mean"`.
        normalize: bool. L2-normalize the embeddings. Defaults to `True`.
        **kwargs: passed to `Task` (`name`, `compile`).

    Returns:
        From `predict`: a float32 array of shape `(num_samples,
        hidden_dim)`.

    Raises:
        ValueError: an unknown `pooling_mode`; preprocessed `token_ids`
            outside `[0, vocabulary_size)`.

    Examples:
    >>> embedder = keras_nlp_clone.models.XLMRobertaTextEmbedder.from_preset(
    ...     "/path/to/hf_xlm_roberta_dir")  # doctest: +SKIP
    >>> embedder.predict(["Le renard brun.", "The brown fox."]).shape
    (2, 768)

    References:
        - [Conneau et al., 2020](https://arxiv.org/abs/1911.02116)
        - [Reimers and Gurevych, 2020](https://arxiv.org/abs/2004.09813)
    """

    backbone_cls = XLMRobertaBackbone
    preprocessor_cls = XLMRobertaTextEmbedderPreprocessor
