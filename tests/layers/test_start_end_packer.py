import numpy as np
import pytest

from keras_nlp_clone.layers.start_end_packer import StartEndPacker
from keras_nlp_clone.utils.lazy_module import tf
from tests.test_case import TestCase


class TestStartEndPacker(TestCase):
    def test_preprocessing_layer_batched_ragged(self):
        self.run_preprocessing_layer_test(
            cls=StartEndPacker,
            init_kwargs={
                "sequence_length": 6,
                "start_value": 1,
                "end_value": 2,
                "pad_value": 0,
            },
            input_data=[[5, 6, 7], [8]],
            expected_output=[[1, 5, 6, 7, 2, 0], [1, 8, 2, 0, 0, 0]],
        )

    def test_preprocessing_layer_unbatched(self):
        self.run_preprocessing_layer_test(
            cls=StartEndPacker,
            init_kwargs={"sequence_length": 5, "start_value": 1},
            input_data=np.array([5, 6]),
            expected_output=[1, 5, 6, 0, 0],
            batched=False,
        )

    def test_dense_input_truncates_and_keeps_end(self):
        packer = StartEndPacker(sequence_length=5, start_value=1, end_value=2)
        outputs = packer(np.array([[5, 6, 7, 8, 9, 10]]))
        self.assertAllEqual(outputs, [[1, 5, 6, 7, 2]])

    def test_truncation_without_special_tokens(self):
        packer = StartEndPacker(sequence_length=3)
        self.assertAllEqual(packer([[5, 6, 7, 8], [9]]), [[5, 6, 7], [9, 0, 0]])

    def test_multi_token_start_end_and_pad_value(self):
        packer = StartEndPacker(
            sequence_length=8,
            start_value=[1, 3],
            end_value=[2, 4],
            pad_value=-1,
        )
        self.assertAllEqual(
            packer([[5, 6], [7]]),
            [[1, 3, 5, 6, 2, 4, -1, -1], [1, 3, 7, 2, 4, -1, -1, -1]],
        )

    def test_left_padding_and_padding_mask(self):
        packer = StartEndPacker(
            sequence_length=5,
            start_value=1,
            end_value=2,
            padding_side="left",
            return_padding_mask=True,
        )
        token_ids, padding_mask = packer([[5, 6], [7, 8, 9, 10]])
        self.assertAllEqual(token_ids, [[0, 1, 5, 6, 2], [1, 7, 8, 9, 2]])
        self.assertAllEqual(
            padding_mask,
            [[False, True, True, True, True], [True] * 5],
        )

    def test_padding_mask_when_pad_value_in_content(self):
        packer = StartEndPacker(
            sequence_length=4, pad_value=0, return_padding_mask=True
        )
        _, padding_mask = packer([[0, 5]])
        self.assertAllEqual(padding_mask, [[True, True, False, False]])

    def test_string_tokens(self):
        packer = StartEndPacker(
            sequence_length=5,
            start_value="[CLS]",
            end_value="[SEP]",
            pad_value="[PAD]",
        )
        self.assertAllEqual(
            packer(["a", "b"]), ["[CLS]", "a", "b", "[SEP]", "[PAD]"]
        )

    def test_call_overrides(self):
        packer = StartEndPacker(sequence_length=6, start_value=1, end_value=2)
        outputs = packer(
            [[5, 6, 7]],
            sequence_length=4,
            add_start_value=False,
            add_end_value=True,
        )
        self.assertAllEqual(outputs, [[5, 6, 7, 2]])
        outputs = packer([[5, 6, 7]], add_start_value=True, add_end_value=False)
        self.assertAllEqual(outputs, [[1, 5, 6, 7, 0, 0]])

    def test_sequence_length_none_pads_to_longest(self):
        packer = StartEndPacker(sequence_length=None, end_value=2)
        self.assertAllEqual(packer([[5, 6], [7]]), [[5, 6, 2], [7, 2, 0]])

    def test_in_tf_data_with_strings(self):
        packer = StartEndPacker(
            sequence_length=4, start_value="<s>", pad_value="<pad>"
        )
        ds = tf.data.Dataset.from_tensor_slices(
            tf.ragged.constant([["a", "b"], ["c"]])
        ).batch(2)
        outputs = next(iter(ds.map(packer)))
        assert outputs.numpy().tolist() == [
            [b"<s>", b"a", b"b", b"<pad>"],
            [b"<s>", b"c", b"<pad>", b"<pad>"],
        ]

    def test_config(self):
        packer = StartEndPacker(
            sequence_length=7,
            start_value=[1, 2],
            end_value=3,
            pad_value=9,
            return_padding_mask=True,
            padding_side="left",
            name="packer",
        )
        config = packer.get_config()
        for key, value in {
            "sequence_length": 7,
            "start_value": [1, 2],
            "end_value": 3,
            "pad_value": 9,
            "return_padding_mask": True,
            "padding_side": "left",
            "name": "packer",
        }.items():
            assert config[key] == value

    @pytest.mark.parametrize("sequence_length", [0, -1, 2.5, "8"])
    def test_invalid_sequence_length(self, sequence_length):
        with pytest.raises(ValueError, match="sequence_length"):
            StartEndPacker(sequence_length=sequence_length)

    def test_invalid_padding_side(self):
        with pytest.raises(ValueError, match="padding_side='center'"):
            StartEndPacker(sequence_length=4, padding_side="center")

    def test_sequence_length_too_short_for_special_tokens(self):
        packer = StartEndPacker(
            sequence_length=2, start_value=[1, 2], end_value=3
        )
        with pytest.raises(ValueError, match="at least 4"):
            packer([[5, 6]])
