import numpy as np
import pytest

from keras_nlp_clone.layers.multi_segment_packer import MultiSegmentPacker
from keras_nlp_clone.utils.lazy_module import tf
from tests.test_case import TestCase


class TestMultiSegmentPacker(TestCase):
    def test_preprocessing_layer_two_ragged_segments(self):
        self.run_preprocessing_layer_test(
            cls=MultiSegmentPacker,
            init_kwargs={
                "sequence_length": 8,
                "start_value": 101,
                "end_value": 102,
            },
            input_data=([[1, 2, 3], [4]], [[5, 6], [7, 8, 9]]),
            expected_output=(
                [
                    [101, 1, 2, 3, 102, 5, 6, 102],
                    [101, 4, 102, 7, 8, 9, 102, 0],
                ],
                [[0, 0, 0, 0, 0, 1, 1, 1], [0, 0, 0, 1, 1, 1, 1, 0]],
            ),
        )

    def test_preprocessing_layer_single_unbatched_segment(self):
        self.run_preprocessing_layer_test(
            cls=MultiSegmentPacker,
            init_kwargs={
                "sequence_length": 6,
                "start_value": 101,
                "end_value": 102,
            },
            input_data=np.array([1, 2, 3]),
            expected_output=([101, 1, 2, 3, 102, 0], [0] * 6),
            batched=False,
        )

    def test_bert_layout_unbatched_pair(self):
        packer = MultiSegmentPacker(
            sequence_length=8, start_value=101, end_value=102
        )
        token_ids, segment_ids = packer((np.array([1, 2, 3]), np.array([4, 5])))
        self.assertAllEqual(token_ids, [101, 1, 2, 3, 102, 4, 5, 102])
        self.assertAllEqual(segment_ids, [0, 0, 0, 0, 0, 1, 1, 1])

    def test_round_robin_truncation(self):
        packer = MultiSegmentPacker(
            sequence_length=7, start_value=101, end_value=102
        )
        token_ids, segment_ids = packer(
            ([[1, 2, 3, 4], [1]], [[5, 6, 7], [5]])
        )
        self.assertAllEqual(
            token_ids,
            [[101, 1, 2, 102, 5, 6, 102], [101, 1, 102, 5, 102, 0, 0]],
        )
        self.assertAllEqual(
            segment_ids, [[0, 0, 0, 0, 1, 1, 1], [0, 0, 0, 1, 1, 0, 0]]
        )

    def test_waterfall_truncation(self):
        packer = MultiSegmentPacker(
            sequence_length=7,
            start_value=101,
            end_value=102,
            truncate="waterfall",
        )
        token_ids, segment_ids = packer(
            (np.array([[1, 2, 3, 4]]), np.array([[5, 6, 7]]))
        )
        self.assertAllEqual(token_ids, [[101, 1, 2, 3, 4, 102, 102]])
        self.assertAllEqual(segment_ids, [[0, 0, 0, 0, 0, 0, 1]])

    def test_three_segments_with_separate_sep_value(self):
        packer = MultiSegmentPacker(
            sequence_length=10,
            start_value=0,
            end_value=2,
            sep_value=[2, 2],
            pad_value=1,
        )
        token_ids, segment_ids = packer(([[5]], [[6, 7]], [[8]]))
        self.assertAllEqual(token_ids, [[0, 5, 2, 2, 6, 7, 2, 2, 8, 2]])
        self.assertAllEqual(segment_ids, [[0, 0, 0, 0, 1, 1, 1, 1, 2, 2]])

    def test_string_tokens_and_left_padding(self):
        packer = MultiSegmentPacker(
            sequence_length=7,
            start_value="[CLS]",
            end_value="[SEP]",
            pad_value="[PAD]",
            padding_side="left",
        )
        token_ids, segment_ids = packer((["a", "b"], ["c"]))
        self.assertAllEqual(
            token_ids, ["[PAD]", "[CLS]", "a", "b", "[SEP]", "c", "[SEP]"]
        )
        self.assertAllEqual(segment_ids, [0, 0, 0, 0, 0, 1, 1])

    def test_call_overrides(self):
        packer = MultiSegmentPacker(
            sequence_length=8, start_value=101, end_value=102
        )
        token_ids, segment_ids = packer(
            ([[1, 2]], [[3, 4, 5]]),
            sequence_length=5,
            add_start_value=False,
            add_end_value=False,
        )
        # Only the separator remains: 4 content slots, round robin 2 + 2.
        self.assertAllEqual(token_ids, [[1, 2, 102, 3, 4]])
        self.assertAllEqual(segment_ids, [[0, 0, 0, 1, 1]])

    def test_in_tf_data_with_two_segments(self):
        packer = MultiSegmentPacker(
            sequence_length=6, start_value=101, end_value=102
        )
        ds = tf.data.Dataset.from_tensor_slices(
            (tf.ragged.constant([[1, 2], [3]]), tf.ragged.constant([[4], [5]]))
        ).batch(2)
        token_ids, segment_ids = next(iter(ds.map(lambda a, b: packer((a, b)))))
        assert token_ids.numpy().tolist() == [
            [101, 1, 2, 102, 4, 102],
            [101, 3, 102, 5, 102, 0],
        ]
        assert segment_ids.dtype == tf.int32

    def test_config(self):
        packer = MultiSegmentPacker(
            sequence_length=9,
            start_value="<s>",
            end_value="</s>",
            sep_value=["</s>", "</s>"],
            pad_value="<pad>",
            truncate="waterfall",
            padding_side="left",
        )
        config = packer.get_config()
        revived = MultiSegmentPacker.from_config(config)
        assert revived.get_config() == config
        assert config["sep_value"] == ["</s>", "</s>"]
        assert config["truncate"] == "waterfall"

    def test_invalid_truncate(self):
        with pytest.raises(ValueError, match="truncate='longest_first'"):
            MultiSegmentPacker(
                sequence_length=8,
                start_value=1,
                end_value=2,
                truncate="longest_first",
            )

    def test_invalid_padding_side(self):
        with pytest.raises(ValueError, match="padding_side"):
            MultiSegmentPacker(
                sequence_length=8, start_value=1, end_value=2, padding_side=""
            )

    def test_sequence_length_too_short(self):
        packer = MultiSegmentPacker(
            sequence_length=2, start_value=1, end_value=2
        )
        with pytest.raises(ValueError, match="3 special tokens"):
            packer(([[5]], [[6]]))

    def test_mixed_batching_raises(self):
        packer = MultiSegmentPacker(
            sequence_length=8, start_value=1, end_value=2
        )
        with pytest.raises(ValueError, match="batched alike"):
            packer((np.array([5, 6]), np.array([[7]])))
