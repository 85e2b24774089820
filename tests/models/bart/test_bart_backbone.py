import json
import os
import shutil

import keras
import numpy as np
import pytest

from keras_nlp_clone.layers import ReversibleEmbedding
from keras_nlp_clone.models import Backbone
from keras_nlp_clone.models import BartBackbone
from keras_nlp_clone.models import BartTokenizer
from keras_nlp_clone.models import Tokenizer
from keras_nlp_clone.models.bart.bart_presets import backbone_presets
from keras_nlp_clone.presets.errors import PresetError
from keras_nlp_clone.presets.registry import BUILTIN_PRESETS
from keras_nlp_clone.presets.registry import HF_CONVERTERS
from tests.models.bart.conftest import TINY_VOCAB
from tests.models.bart.conftest import hf_bart_outputs
from tests.models.bart.conftest import make_hf_bart
from tests.test_case import TestCase


def _np(x):
    return keras.ops.convert_to_numpy(x)


def bart_param_count(vocab, hidden, layers, intermediate, positions=1024):
    """The shared token embedding, two position tables and two embedding
    layer norms; per encoder layer the self-attention (4 dense), 2 layer
    norms and the feed-forward block; per decoder layer the same plus the
    cross-attention and its layer norm."""
    embeddings = (vocab + 2 * positions) * hidden + 2 * 2 * hidden
    attention = 4 * (hidden * hidden + hidden)
    feedforward = hidden * intermediate + intermediate + intermediate * hidden + hidden
    encoder_layer = attention + feedforward + 2 * 2 * hidden
    decoder_layer = 2 * attention + feedforward + 3 * 2 * hidden
    return embeddings + layers * (encoder_layer + decoder_layer)


def _masked_max_diff(ours, ref, mask):
    real = np.asarray(mask)[..., None].astype(bool)
    return np.abs(np.where(real, ours - ref, 0)).max()


class TestBartBackbone(TestCase):
    def test_output_shapes_and_attributes(self, tiny_backbone, tiny_inputs):
        outputs = tiny_backbone(tiny_inputs)
        assert sorted(outputs) == ["decoder_sequence_output", "encoder_sequence_output"]
        assert tuple(outputs["encoder_sequence_output"].shape) == (2, 8, 16)
        assert tuple(outputs["decoder_sequence_output"].shape) == (2, 6, 16)
        assert sorted(tiny_backbone.input) == [
            "decoder_padding_mask", "decoder_token_ids",
            "encoder_padding_mask", "encoder_token_ids",
        ]
        embedding = tiny_backbone.token_embedding
        assert isinstance(embedding, ReversibleEmbedding) and embedding.tie_weights
        assert tuple(embedding.embeddings.shape) == (len(TINY_VOCAB), 16)
        logits = embedding(outputs["decoder_sequence_output"], reverse=True)
        assert tuple(logits.shape) == (2, 6, len(TINY_VOCAB))
        assert len(tiny_backbone.encoder_transformer_layers) == 2
        assert len(tiny_backbone.decoder_transformer_layers) == 2
        for layer in tiny_backbone.decoder_transformer_layers:
            assert not layer.normalize_first
            assert layer._cross_attention_layer is not None
        for layer in tiny_backbone.encoder_transformer_layers:
            assert not layer.normalize_first and layer.layer_norm_epsilon == 1e-5
        assert tiny_backbone.count_params() == bart_param_count(
            len(TINY_VOCAB), 16, 2, 32, 16
        )

    def test_causal_decoder_and_padding(self, tiny_backbone, tiny_inputs):
        row = {k: v[1:] for k, v in tiny_inputs.items()}
        full = tiny_backbone(row)
        # A later decoder token does not change earlier decoder outputs.
        changed = dict(row, decoder_token_ids=row["decoder_token_ids"].copy())
        changed["decoder_token_ids"][0, 4:] = [5, 6]
        out = tiny_backbone(changed)
        dec, dec_full = _np(out["decoder_sequence_output"]), _np(
            full["decoder_sequence_output"]
        )
        np.testing.assert_allclose(dec[:, :4], dec_full[:, :4], atol=1e-5)
        assert np.abs(dec[:, 4:] - dec_full[:, 4:]).max() > 1e-3
        # Changing an encoder token changes every decoder output.
        changed = dict(row, encoder_token_ids=row["encoder_token_ids"].copy())
        changed["encoder_token_ids"][0, 3] = 9
        dec = _np(tiny_backbone(changed)["decoder_sequence_output"])
        assert np.abs(dec - dec_full).max(axis=-1).min() > 1e-4
        # Extra right padding of both sequences leaves real positions alone.
        short = {k: v[:1] for k, v in tiny_inputs.items()}
        trimmed = {
            "encoder_token_ids": short["encoder_token_ids"][:, :4],
            "encoder_padding_mask": short["encoder_padding_mask"][:, :4],
            "decoder_token_ids": short["decoder_token_ids"][:, :3],
            "decoder_padding_mask": short["decoder_padding_mask"][:, :3],
        }
        a, b = tiny_backbone(trimmed), tiny_backbone(short)
        np.testing.assert_allclose(
            _np(a["encoder_sequence_output"]),
            _np(b["encoder_sequence_output"])[:, :4],
            atol=1e-5,
        )
        np.testing.assert_allclose(
            _np(a["decoder_sequence_output"]),
            _np(b["decoder_sequence_output"])[:, :3],
            atol=1e-5,
        )

    def test_config_and_preset_round_trip(self, tiny_backbone, tiny_inputs, tmp_path):
        config = tiny_backbone.get_config()
        assert config["max_sequence_length"] == 16 and config["dropout"] == 0.1
        assert BartBackbone.from_config(config).get_config() == config
        tiny_backbone.save_to_preset(str(tmp_path))
        restored = Backbone.from_preset(str(tmp_path))
        assert type(restored) is BartBackbone
        expected = tiny_backbone.predict(tiny_inputs, verbose=0)
        actual = restored.predict(tiny_inputs, verbose=0)
        for key in expected:
            np.testing.assert_array_equal(expected[key], actual[key])

    def test_mixed_precision(self, tiny_backbone_kwargs, tiny_inputs):
        backbone = BartBackbone(**tiny_backbone_kwargs, dtype="mixed_bfloat16")
        outputs = backbone(tiny_inputs)
        for value in outputs.values():
            assert keras.backend.standardize_dtype(value.dtype) == "bfloat16"
        assert all(w.dtype == "float32" for w in backbone.weights)

    def test_errors(self, tiny_backbone):
        with pytest.raises(ValueError, match="divisible by `num_heads`"):
            BartBackbone(
                vocabulary_size=10,
                num_layers=1,
                num_heads=3,
                hidden_dim=8,
                intermediate_dim=16,
            )
        x = np.ones((1, 17), "int32")
        y = np.ones((1, 2), "int32")
        with pytest.raises(ValueError, match="sequence_length=16"):
            tiny_backbone({
                "encoder_token_ids": x, "encoder_padding_mask": x,
                "decoder_token_ids": y, "decoder_padding_mask": y,
            })
        with pytest.raises(ValueError, match="decoder_padding_mask"):
            tiny_backbone({"encoder_token_ids": x, "encoder_padding_mask": x,
                           "decoder_token_ids": y})

    def test_presets_registry_and_parameter_counts(self):
        # (vocab, hidden, layers, intermediate) of the published checkpoints
        # (facebook/bart-base, bart-large, bart-large-cnn).
        shapes = {
            "bart_base_en": (50265, 768, 6, 3072),
            "bart_large_en": (50265, 1024, 12, 4096),
            "bart_large_en_cnn": (50265, 1024, 12, 4096),
        }
        assert set(backbone_presets) == set(shapes)
        presets = BartBackbone.presets
        assert set(presets) == set(shapes)
        assert set(BartTokenizer.presets) == set(shapes)
        for preset_id, shape in shapes.items():
            assert presets[preset_id]["params"] == bart_param_count(*shape)
            entry = BUILTIN_PRESETS[preset_id]
            assert entry["backbone"] == "BartBackbone"
            assert entry["kaggle_handle"] == f"kaggle://keras/bart/keras/{preset_id}"
        assert presets["bart_base_en"]["params"] == 139417344
        assert presets["bart_large_en"]["params"] == 406287360
        assert presets["bart_base_en"]["description"] == (
            "6-layer BART model where case is maintained. Trained on "
            "BookCorpus, English Wikipedia and CommonCrawl."
        )
        assert "CNN+DM" in presets["bart_large_en_cnn"]["description"]
        assert HF_CONVERTERS["bart"].backbone_cls_name == "BartBackbone"


class TestBartBackboneConversion(TestCase):
    @pytest.mark.parametrize("name", ["BartModel", "BartForConditionalGeneration"])
    def test_matches_transformers(self, hf_bart, tiny_inputs, name):
        directory, hf_model = hf_bart[name]
        backbone = Backbone.from_preset(directory)
        assert type(backbone) is BartBackbone
        assert backbone.max_sequence_length == 32
        assert (backbone.num_layers, backbone.num_heads) == (2, 4)
        assert (backbone.hidden_dim, backbone.intermediate_dim) == (16, 32)
        ours = backbone.predict(tiny_inputs, verbose=0)
        # `BartForConditionalGeneration` wraps a `BartModel` as `.model`.
        base = hf_model if name == "BartModel" else hf_model.model
        ref = hf_bart_outputs(base, tiny_inputs)
        ref_decoder = ref.last_hidden_state.numpy()
        ref_encoder = ref.encoder_last_hidden_state.numpy()
        assert _masked_max_diff(
            ours["encoder_sequence_output"], ref_encoder,
            tiny_inputs["encoder_padding_mask"],
        ) < 1e-4
        assert _masked_max_diff(
            ours["decoder_sequence_output"], ref_decoder,
            tiny_inputs["decoder_padding_mask"],
        ) < 1e-4
        # The references are far from trivial.
        assert np.abs(ref_encoder).max() > 0.5 and np.abs(ref_decoder).max() > 0.5

    def test_tokenizer_from_checkpoint(self, hf_bart):
        directory, _ = hf_bart["BartModel"]
        tokenizer = Tokenizer.from_preset(directory)
        assert type(tokenizer) is BartTokenizer
        assert (tokenizer.start_token_id, tokenizer.end_token_id) == (0, 2)
        assert tokenizer.pad_token_id == 1
        assert tokenizer("the fox") == [TINY_VOCAB["the"], TINY_VOCAB["Ġfox"]]

    def test_converter_errors(self, hf_bart, tmp_path):
        directory, _ = hf_bart["BartModel"]
        copy = tmp_path / "copy"
        shutil.copytree(directory, copy)
        config = json.loads((copy / "config.json").read_text())
        for key, value, match in (
            ("activation_function", "relu", "activation_function='relu'"),
            ("scale_embedding", True, "scale_embedding=True"),
            ("decoder_layers", 3, "decoder_layers=3"),
            ("encoder_ffn_dim", 64, "encoder_ffn_dim=64"),
        ):
            (copy / "config.json").write_text(json.dumps({**config, key: value}))
            with pytest.raises(PresetError, match=match):
                BartBackbone.from_preset(str(copy))
        (copy / "config.json").write_text(json.dumps(config))
        os.remove(copy / "merges.txt")
        with pytest.raises(FileNotFoundError, match="merges.txt"):
            Tokenizer.from_preset(str(copy))

    def test_untied_embeddings_raise(self, tmp_path):
        directory, _ = make_hf_bart(
            tmp_path / "untied", "BartModel", tie_word_embeddings=False
        )
        with pytest.raises(PresetError, match="untied"):
            BartBackbone.from_preset(directory)

