"""Base preprocessor for masked language modelling."""

import keras

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.models.segment_packing_preprocessor import (
    SegmentPackingPreprocessor,
)
from keras_nlp_clone.utils import argument_checks
from keras_nlp_clone.utils.tensor_utils import preprocessing_function


@keras_nlp_clone_export
class MaskedLMPreprocessor(SegmentPackingPreprocessor):
    """Tokenizes, packs and randomly masks text for masked LM training.

    Runs the tokenizer and a `MultiSegmentPacker` as
    `TextClassifierPreprocessor` does, then a
    `keras_nlp_clone.layers.MaskedLMMaskGenerator` picks tokens to predict
    (never special tokens): of the selected tokens, `mask_token_rate` become
    the mask token, `random_token_rate` a random token, and the rest stay.

    Args:
        tokenizer: a `keras_nlp_clone.tokenizers.Tokenizer` with
            `start_token_id`, `end_token_id`, `pad_token_id` and
            `mask_token_id`.
        sequence_length: int. Packed length. Defaults to `512`.
        truncate: str. `"round_robin"` or `"waterfall"`. Defaults to
            `"round_robin"`.
        mask_selection_rate: float. Probability a token is selected.
            Defaults to `0.15`.
        mask_selection_length: int. Maximum selected tokens per sequence
            (the width of `mask_positions`). Defaults to `96`.
        mask_token_rate: float. Fraction of selected tokens replaced by the
            mask token. Defaults to `0.8`.
        random_token_rate: float. Fraction replaced by a random token.
            Defaults to `0.1`.
        **kwargs: passed to `keras.layers.Layer`.

    Call arguments:
        x: strings of shape `(batch,)` or `()`, or a tuple of them.
        y: must be `None` (labels are made from the text).
        sample_weight: must be `None`.

    Returns:
        A tuple `(x, y, sample_weight)`: `x` a dict of `"token_ids"`,
        `"segment_ids"` (for families that take them), `"padding_mask"` (each `(batch, sequence_length)`)
        and `"mask_positions"` (`(batch, mask_selection_length)`); `y` the
        original ids at the masked positions and `sample_weight` 1.0 for
        real selections, 0.0 for padding, both `(batch,
        mask_selection_length)`.

    Raises:
        ValueError: when `y` or `sample_weight` is passed; at construction,
            for a `sequence_length` or `mask_selection_length` that is not
            an integer >= 1, a rate outside [0, 1] or an unknown `truncate`.

    References:
        - [Devlin et al., 2019](https://arxiv.org/abs/1810.04805)
    """

    # Masks come from the masker's random generator: `Task.fit` maps this
    # preprocessor sequentially so that seeded runs repeat.
    _draws_random = True

    def __init__(
        self,
        tokenizer,
        sequence_length=512,
        truncate="round_robin",
        mask_selection_rate=0.15,
        mask_selection_length=96,
        mask_token_rate=0.8,
        random_token_rate=0.1,
        **kwargs,
    ):
        owner = type(self).__name__
        for name, rate in (
            ("mask_selection_rate", mask_selection_rate),
            ("mask_token_rate", mask_token_rate),
            ("random_token_rate", random_token_rate),
        ):
            argument_checks.check_number_in_range(owner, name, rate, 0, 1)
        argument_checks.check_positive_integer(
            owner,
            "mask_selection_length",
            mask_selection_length,
            allow_none=True,
        )
        super().__init__(
            tokenizer,
            sequence_length=sequence_length,
            truncate=truncate,
            **kwargs,
        )
        self.mask_selection_rate = mask_selection_rate
        self.mask_selection_length = mask_selection_length
        self.mask_token_rate = mask_token_rate
        self.random_token_rate = random_token_rate
        self._masker = None

    @property
    def masker(self):
        """The `MaskedLMMaskGenerator`, built on first use (it needs the
        tokenizer's vocabulary size and special token ids)."""
        if self._masker is None:
            from keras_nlp_clone.layers.masked_lm_mask_generator import (
                MaskedLMMaskGenerator,
            )

            tokenizer = self.tokenizer
            self._masker = MaskedLMMaskGenerator(
                mask_selection_rate=self.mask_selection_rate,
                mask_selection_length=self.mask_selection_length,
                mask_token_rate=self.mask_token_rate,
                random_token_rate=self.random_token_rate,
                vocabulary_size=tokenizer.vocabulary_size(),
                mask_token_id=tokenizer.mask_token_id,
                unselectable_token_ids=sorted(
                    set(i for i in tokenizer.special_token_ids if i is not None)
                ),
            )
        return self._masker

    @preprocessing_function
    def call(self, x, y=None, sample_weight=None):
        if y is not None or sample_weight is not None:
            raise ValueError(
                f"{self.__class__.__name__} makes its labels from the text; "
                "do not pass `y` or `sample_weight`. Received: "
                f"y={y}, sample_weight={sample_weight}."
            )
        token_ids, segment_ids, padding_mask = self._tokenize_and_pack(x)
        masked = self.masker(token_ids)
        x = self._backbone_inputs(masked["token_ids"], segment_ids, padding_mask)
        x["mask_positions"] = masked["mask_positions"]
        return keras.utils.pack_x_y_sample_weight(
            x, masked["mask_ids"], masked["mask_weights"]
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "mask_selection_rate": self.mask_selection_rate,
                "mask_selection_length": self.mask_selection_length,
                "mask_token_rate": self.mask_token_rate,
                "random_token_rate": self.random_token_rate,
            }
        )
        return config
