"""XLM-RoBERTa text classifier."""

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.models.roberta.roberta_classifier import RobertaClassifier
from keras_nlp_clone.models.xlm_roberta.xlm_roberta_backbone import (
    XLMRobertaBackbone,
)
from keras_nlp_clone.models.xlm_roberta.xlm_roberta_preprocessor import (
    XLMRobertaPreprocessor,
)


@keras_nlp_clone_export
class XLMRobertaClassifier(RobertaClassifier):
    """XLM-RoBERTa with a classification head: strings in, class scores out.

    The head of `RobertaClassifier` (as Hugging Face's
    `XLMRobertaClassificationHead`): the `<s>` hidden state, dropout, a
    tanh dense layer of `hidden_dim` units, dropout, and a dense layer to
    `num_classes` outputs, on an `XLMRobertaBackbone`. With an
    `XLMRobertaPreprocessor` it takes raw strings (or pairs) in `fit`,
    `evaluate` and `predict`. `XLMRobertaTextClassifier` is the same class
    under its newer name.

    Args:
        backbone: `keras_nlp_clone.models.XLMRobertaBackbone`.
        num_classes: int. Number of classes.
        preprocessor: `keras_nlp_clone.models.XLMRobertaPreprocessor` or
            `None`. Defaults to `None` (inputs must be preprocessed).
        activation: `None`, a string or a callable: the activation of the
            output layer; `None` returns logits. Defaults to `None`.
        hidden_dim: int or `None`. Units of the tanh dense layer; `None`
            uses the backbone's `hidden_dim`. Defaults to `None`.
        dropout: float. Dropout before each dense layer of the head.
            Defaults to `0.0`.
        **kwargs: passed to `Task` (`name`, `compile`).

    Returns:
        From `predict`: a float array of shape `(num_samples,
        num_classes)`.

    Examples:
    >>> classifier = keras_nlp_clone.models.XLMRobertaClassifier \\
    ...     .from_preset("xlm_roberta_base_multi", num_classes=2)
    >>> classifier.fit(x=["Quel film !", "A total waste."], y=[1, 0],
    ...                batch_size=2)

    References:
        - [Conneau et al., 2020](https://arxiv.org/abs/1911.02116)
    """

    backbone_cls = XLMRobertaBackbone
    preprocessor_cls = XLMRobertaPreprocessor


XLMRobertaTextClassifier = XLMRobertaClassifier
