"""BERT text embedder (sentence-transformers style)."""

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.models.bert.bert_backbone import BertBackbone
from keras_nlp_clone.models.bert.bert_text_embedder_preprocessor import (
    BertTextEmbedderPreprocessor,
)
from keras_nlp_clone.models.text_embedder import TextEmbedder


@keras_nlp_clone_export
class BertTextEmbedder(TextEmbedder):
    """BERT sentence embeddings: strings in, one vector per string out.

    Runs a `BertBackbone` and pools its `sequence_output` over the
    non-padding tokens (`pooling_mode="mean"`, the default), then
    L2-normalizes: the architecture of sentence-transformers'
    all-MiniLM-L6-v2. `BertTextEmbedder.from_preset("all_minilm_l6_v2_en")`
    gives that model's embeddings (equal to sentence-transformers' within
    1e-5 on real sentences, on every backend). `"cls"` pools the `[CLS]`
    state, `"max"` takes the elementwise maximum; see `TextEmbedder`. With
    a `BertTextEmbedderPreprocessor` it takes raw strings in `predict`,
    `fit` and `evaluate`; with `preprocessor=None`, the backbone's input
    dict. It compiles itself with Adam 5e-5 and a cosine similarity loss
    against target embeddings.

    Args:
        backbone: `keras_nlp_clone.models.BertBackbone`.
        preprocessor: `keras_nlp_clone.models.BertTextEmbedderPreprocessor`
            or `None`. Defaults to `None` (inputs must be preprocessed).
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
    >>> embedder = keras_nlp_clone.models.BertTextEmbedder.from_preset(
    ...     "all_minilm_l6_v2_en")
    >>> e = embedder.predict(["The weather is lovely today.",
    ...                       "It's so sunny outside!",
    ...                       "He drove to the stadium."])
    >>> (e @ e.T).round(4)  # cosine similarities
    [[1.     0.666  0.1046]
     [0.666  1.     0.1411]
     [0.1046 0.1411 1.    ]]

    Preprocessed inputs:
    >>> embedder = keras_nlp_clone.models.BertTextEmbedder.from_preset(
    ...     "all_minilm_l6_v2_en", preprocessor=None)
    >>> x = {"token_ids": np.array([[101, 7592, 102, 0]]),
    ...      "segment_ids": np.zeros((1, 4), "int32"),
    ...      "padding_mask": np.array([[1, 1, 1, 0]])}
    >>> embedder.predict(x).shape
    (1, 384)

    References:
        - [Devlin et al., 2019](https://arxiv.org/abs/1810.04805)
        - [Reimers and Gurevych, 2019](https://arxiv.org/abs/1908.10084)
    """

    backbone_cls = BertBackbone
    preprocessor_cls = BertTextEmbedderPreprocessor
