"""Converts Hugging Face GPT-2 checkpoints (`model_type: "gpt2"`).

A table from Hugging Face tensor names to our variables. Accepts `GPT2Model`
checkpoints (tensor names without prefix) and the `transformer.`-prefixed
names of `GPT2LMHeadModel` (its `lm_head.weight` is tied to `wte.weight`).

GPT-2's `Conv1D` layers store their weights as `(in, out)`, so they are not
transposed (unlike `nn.Linear`), and `attn.c_attn` fuses the query, key and
value projections along its output axis: it is split in three.

It also exports the other way (`export_*`, registered with
`presets.hf_export` on import): `GPT2Backbone` -> `GPT2Model`,
`GPT2CausalLM` -> `GPT2LMHeadModel` and `GPT2Tokenizer` -> `vocab.json`,
`merges.txt` and `tokenizer_config.json` (`export_byte_level_bpe`, shared
with RoBERTa and BART).
"""

import os

import numpy as np

from keras_nlp_clone.presets import hf_export
from keras_nlp_clone.presets.errors import PresetError
from keras_nlp_clone.presets.hf_conversion import assign
from keras_nlp_clone.presets.hf_conversion import assign_in_out_dense
from keras_nlp_clone.presets.hf_conversion import copy_layer_norm
from keras_nlp_clone.presets.hf_conversion import read_tokenizer_options


backbone_cls_name = "GPT2Backbone"

_LAYER_NORM_EPSILON = 1e-5
# The names of the tanh approximation of GELU in Hugging Face.
_ACTIVATIONS = ("gelu_new", "gelu_pytorch_tanh", "gelu_fast")


def convert_backbone_config(hf_config):
    """Maps a Hugging Face `GPT2Config` dict to `GPT2Backbone` arguments.

    Raises:
        PresetError: for variants this backbone does not implement (another
            activation or layer norm epsilon, cross-attention, unscaled or
            layer-scaled attention).
    """
    act = hf_config.get("activation_function", "gelu_new")
    if act not in _ACTIVATIONS:
        raise PresetError(
            f"Hugging Face GPT-2 checkpoint uses activation_function={act!r}; "
            "GPT2Backbone implements the tanh approximation of GELU only "
            f"({', '.join(repr(a) for a in _ACTIVATIONS)})."
        )
    epsilon = hf_config.get("layer_norm_epsilon", 1e-5)
    if abs(epsilon - _LAYER_NORM_EPSILON) > 1e-9:
        raise PresetError(
            "Hugging Face GPT-2 checkpoint uses layer_norm_epsilon="
            f"{epsilon}; GPT2Backbone uses {_LAYER_NORM_EPSILON} (as the "
            "published GPT-2 models), so its outputs would differ."
        )
    for key, supported in (
        ("add_cross_attention", False),
        ("scale_attn_weights", True),
        ("scale_attn_by_inverse_layer_idx", False),
    ):
        value = hf_config.get(key, supported)
        if bool(value) != supported:
            raise PresetError(
                f"Hugging Face GPT-2 checkpoint uses {key}={value!r}; "
                f"GPT2Backbone implements {key}={supported} only."
            )
    hidden_dim = hf_config["n_embd"]
    intermediate_dim = hf_config.get("n_inner") or 4 * hidden_dim
    return {
        "vocabulary_size": hf_config["vocab_size"],
        "num_layers": hf_config["n_layer"],
        "num_heads": hf_config["n_head"],
        "hidden_dim": hidden_dim,
        "intermediate_dim": intermediate_dim,
        "dropout": hf_config.get("resid_pdrop", 0.1),
        "max_sequence_length": hf_config["n_positions"],
    }


def _prefix(reader):
    keys = reader.keys()
    if "wte.weight" in keys:
        return ""
    if "transformer.wte.weight" in keys:
        return "transformer."
    raise PresetError(
        f"`{reader.preset_dir}` does not look like a GPT-2 checkpoint: no "
        "`wte.weight` (or `transformer.wte.weight`) tensor."
    )


def _copy_conv1d(dense, reader, name):
    assign_in_out_dense(
        dense, reader.get(f"{name}.weight"), reader.get(f"{name}.bias"), name
    )


def convert_weights(backbone, reader, hf_config):
    """Copies a Hugging Face GPT-2 checkpoint into a `GPT2Backbone`.

    Args:
        backbone: a built `GPT2Backbone` of the converted config.
        reader: a `SafetensorsReader` on the checkpoint.
        hf_config: the checkpoint's `config.json` as a dict.

    Raises:
        PresetError: a tensor is missing or has the wrong shape.
    """
    p = _prefix(reader)
    assign(
        backbone.token_embedding.embeddings,
        reader.get(f"{p}wte.weight"),
        f"{p}wte.weight",
    )
    assign(
        backbone.position_embedding.position_embeddings,
        reader.get(f"{p}wpe.weight"),
        f"{p}wpe.weight",
    )
    hidden_dim = backbone.hidden_dim
    for i, layer in enumerate(backbone.transformer_layers):
        name = f"{p}h.{i}"
        copy_layer_norm(layer._self_attention_layer_norm, reader, f"{name}.ln_1")
        attention = layer._self_attention_layer
        fused_name = f"{name}.attn.c_attn"
        fused_kernel = reader.get(f"{fused_name}.weight")
        fused_bias = reader.get(f"{fused_name}.bias")
        if fused_kernel.shape != (hidden_dim, 3 * hidden_dim):
            raise PresetError(
                f"Checkpoint tensor `{fused_name}.weight` has shape "
                f"{tuple(fused_kernel.shape)}; expected "
                f"{(hidden_dim, 3 * hidden_dim)} (the fused query, key and "
                "value projections)."
            )
        for j, dense in enumerate(
            (attention._query_dense, attention._key_dense, attention._value_dense)
        ):
            part = slice(j * hidden_dim, (j + 1) * hidden_dim)
            assign_in_out_dense(
                dense, fused_kernel[:, part], fused_bias[part], fused_name
            )
        _copy_conv1d(attention._output_dense, reader, f"{name}.attn.c_proj")
        copy_layer_norm(layer._feedforward_layer_norm, reader, f"{name}.ln_2")
        _copy_conv1d(
            layer._feedforward_intermediate_dense, reader, f"{name}.mlp.c_fc"
        )
        _copy_conv1d(layer._feedforward_output_dense, reader, f"{name}.mlp.c_proj")
    copy_layer_norm(backbone.layer_norm, reader, f"{p}ln_f")


def convert_tokenizer(cls, preset_dir, hf_config, **kwargs):
    """Builds a `GPT2Tokenizer` (or subclass `cls`) from `vocab.json` and
    `merges.txt` (and `add_prefix_space` from `tokenizer_config.json`).

    Raises:
        FileNotFoundError: `vocab.json` or `merges.txt` is missing.
        PresetError: `tokenizer_config.json` is damaged or gives
            `add_prefix_space` a value other than `true`/`false`/`null`.
    """
    paths = {}
    for key, filename in (("vocabulary", "vocab.json"), ("merges", "merges.txt")):
        path = os.path.join(preset_dir, filename)
        if not os.path.exists(path):
            raise FileNotFoundError(
                f"The Hugging Face GPT-2 checkpoint at `{preset_dir}` has no "
                f"`{filename}`; `vocab.json` and `merges.txt` are needed to "
                "build the tokenizer."
            )
        paths[key] = path
    add_prefix_space = read_tokenizer_options(
        preset_dir, {"add_prefix_space": (bool, None)}
    )["add_prefix_space"]
    if add_prefix_space is not None:
        kwargs.setdefault("add_prefix_space", add_prefix_space)
    return cls(**paths, **kwargs)


def convert_head(task, reader, hf_config):
    """Checks the language-model head of a `GPT2LMHeadModel` checkpoint.

    GPT-2's head is tied to the token embedding (`lm_head.weight` is
    `transformer.wte.weight`), which `GPT2CausalLM` reuses, so there is
    nothing to copy. A checkpoint with an untied head
    (`tie_word_embeddings: false` and its own `lm_head.weight`) is refused
    rather than silently given the embedding as its head.

    Raises:
        PresetError: the checkpoint's head is not tied to its embedding.
    """
    import numpy as np

    if not reader.has("lm_head.weight"):
        return
    head = reader.get("lm_head.weight")
    embedding = reader.get(f"{_prefix(reader)}wte.weight")
    if head.shape != embedding.shape or not np.array_equal(head, embedding):
        raise PresetError(
            f"The checkpoint at `{reader.preset_dir}` has a language-model "
            "head (`lm_head.weight`) that is not tied to its token embedding "
            "(`wte.weight`); GPT2CausalLM ties them, as GPT-2 does. Untied "
            "GPT-2 heads are not supported."
        )


# === Export to Hugging Face ===
#
# The inverse of the tables above: `GPT2Backbone` -> `GPT2Model`,
# `GPT2CausalLM` -> `GPT2LMHeadModel` (the head is tied, so no tensor of its
# own) and `GPT2Tokenizer` -> `vocab.json`, `merges.txt` and
# `tokenizer_config.json`. Registered with `hf_export` at the bottom of this
# file. RoBERTa and BART reuse `export_byte_level_bpe`.


def _backbone_config(backbone, architecture):
    return {
        "architectures": [architecture],
        "model_type": "gpt2",
        "vocab_size": backbone.vocabulary_size,
        "n_positions": backbone.max_sequence_length,
        "n_embd": backbone.hidden_dim,
        "n_layer": backbone.num_layers,
        "n_head": backbone.num_heads,
        "n_inner": backbone.intermediate_dim,
        "activation_function": "gelu_new",
        "resid_pdrop": backbone.dropout,
        "embd_pdrop": backbone.dropout,
        "attn_pdrop": backbone.dropout,
        "layer_norm_epsilon": _LAYER_NORM_EPSILON,
        "initializer_range": 0.02,
        "scale_attn_weights": True,
        "scale_attn_by_inverse_layer_idx": False,
        "reorder_and_upcast_attn": False,
        "add_cross_attention": False,
        "tie_word_embeddings": True,
        "use_cache": True,
        "dtype": "float32",
    }


def _backbone_tensors(backbone, prefix=""):
    """`GPT2Model`'s tensors (names under `prefix`) from a `GPT2Backbone`."""
    tensors = {
        f"{prefix}wte.weight": hf_export.to_numpy(
            backbone.token_embedding.embeddings
        ),
        f"{prefix}wpe.weight": hf_export.to_numpy(
            backbone.position_embedding.position_embeddings
        ),
    }
    for i, layer in enumerate(backbone.transformer_layers):
        name = f"{prefix}h.{i}"
        attention = layer._self_attention_layer
        tensors.update(
            hf_export.layer_norm_to_hf(layer._self_attention_layer_norm, f"{name}.ln_1")
        )
        # `c_attn` fuses the query, key and value projections along its
        # output axis, in that order.
        parts = [
            hf_export.dense_to_in_out(dense)
            for dense in (
                attention._query_dense,
                attention._key_dense,
                attention._value_dense,
            )
        ]
        tensors[f"{name}.attn.c_attn.weight"] = np.concatenate(
            [kernel for kernel, _ in parts], axis=1
        )
        tensors[f"{name}.attn.c_attn.bias"] = np.concatenate(
            [bias for _, bias in parts]
        )
        for dense, hf_name in (
            (attention._output_dense, "attn.c_proj"),
            (layer._feedforward_intermediate_dense, "mlp.c_fc"),
            (layer._feedforward_output_dense, "mlp.c_proj"),
        ):
            kernel, bias = hf_export.dense_to_in_out(dense)
            tensors[f"{name}.{hf_name}.weight"] = kernel
            tensors[f"{name}.{hf_name}.bias"] = bias
        tensors.update(
            hf_export.layer_norm_to_hf(layer._feedforward_layer_norm, f"{name}.ln_2")
        )
    tensors.update(hf_export.layer_norm_to_hf(backbone.layer_norm, f"{prefix}ln_f"))
    return tensors


def export_backbone(backbone, directory):
    """Writes a `GPT2Backbone` as a Hugging Face `GPT2Model` directory.

    The inverse of `convert_backbone_config` and `convert_weights`:
    `config.json` (`model_type: "gpt2"`, `architectures: ["GPT2Model"]`,
    the tanh GELU `"gelu_new"`, layer norm epsilon 1e-5) and
    `model.safetensors` with `GPT2Model`'s tensor names. The query, key and
    value kernels are fused into `attn.c_attn` (`(in, out)`, as GPT-2's
    `Conv1D`). `bos_token_id`/`eos_token_id` are left to `transformers`'
    defaults (50256) unless a task with a tokenizer is exported.

    Args:
        backbone: a `keras_nlp_clone.models.GPT2Backbone`.
        directory: str. An existing, empty directory.
    """
    hf_export.write_json(
        os.path.join(directory, "config.json"),
        _backbone_config(backbone, "GPT2Model"),
    )
    hf_export.save_safetensors(
        _backbone_tensors(backbone), os.path.join(directory, "model.safetensors")
    )


def _token_id_config(task):
    """`bos/eos/pad_token_id` of a task's tokenizer, when it has one."""
    tokenizer = getattr(task.preprocessor, "tokenizer", None)
    if tokenizer is None:
        return {}
    return {
        "bos_token_id": tokenizer.start_token_id,
        "eos_token_id": tokenizer.end_token_id,
        "pad_token_id": tokenizer.pad_token_id,
    }


def export_causal_lm(task, directory):
    """Writes a `GPT2CausalLM` as a Hugging Face `GPT2LMHeadModel`
    directory.

    The backbone's tensors under `transformer.`; the language-model head
    is the token embedding (`tie_word_embeddings: true`), so it has no
    tensor of its own, as in `GPT2LMHeadModel.save_pretrained`. When the
    task has a preprocessor, `bos_token_id`, `eos_token_id` and
    `pad_token_id` come from its tokenizer (`"<|endoftext|>"`), so that
    `generate` stops where ours does; the tokenizer's files are written by
    `export_tokenizer` (through `hf_export.export_to_transformers`).

    Args:
        task: a `keras_nlp_clone.models.GPT2CausalLM`.
        directory: str. An existing, empty directory.
    """
    backbone = task.backbone
    config = _backbone_config(backbone, "GPT2LMHeadModel")
    config.update(_token_id_config(task))
    hf_export.write_json(os.path.join(directory, "config.json"), config)
    hf_export.save_safetensors(
        _backbone_tensors(backbone, prefix="transformer."),
        os.path.join(directory, "model.safetensors"),
    )


def export_byte_level_bpe(tokenizer, directory, tokenizer_class, special_tokens):
    """Writes a byte-level BPE tokenizer as Hugging Face tokenizer files.

    Shared by GPT-2, RoBERTa and BART: `vocab.json` (token -> id, by id),
    `merges.txt` (a `#version: 0.2` line, then one rule per line, by rank),
    `tokenizer_config.json` (`tokenizer_class`, `add_prefix_space`, the
    special tokens, `added_tokens_decoder`, and `model_max_length` when the
    tokenizer has a `sequence_length`) and `special_tokens_map.json`.
    Every special and unsplittable token becomes an added token that is
    never split and absorbs no neighbouring space (`lstrip`/`rstrip` false,
    also for RoBERTa's `"<mask>"`, whose published Hugging Face tokenizer
    strips the space before it), which is what our tokenizer does;
    unsplittable tokens that are not special tokens are added with
    `special: false`.

    Args:
        tokenizer: a `keras_nlp_clone.tokenizers.BytePairTokenizer` with a
            vocabulary.
        directory: str. An existing, empty directory.
        tokenizer_class: str. The `transformers` class to name, e.g.
            `"GPT2Tokenizer"`.
        special_tokens: dict, Hugging Face role (`"bos_token"`,
            `"eos_token"`, `"unk_token"`, `"pad_token"`, `"cls_token"`, ...)
            -> token string.

    Raises:
        ValueError: `tokenizer` has no vocabulary, or its `add_prefix_space`
            is on (see below).
    """
    vocabulary = tokenizer.vocabulary
    if vocabulary is None:
        raise ValueError(
            f"`{type(tokenizer).__name__}` has no vocabulary to export; set "
            "one (`vocabulary=`/`merges=`, `load_assets` or `from_preset`) "
            "first."
        )
    if tokenizer.add_prefix_space:
        # Ours prepends one space to each string, always; `transformers`'
        # byte-level pre-tokenizer prepends one to every piece between
        # added tokens, and only when the piece does not already start with
        # a space, so ids would differ on such strings.
        raise ValueError(
            f"`{type(tokenizer).__name__}` has add_prefix_space=True, which "
            "Hugging Face tokenizers apply differently (to every piece "
            "between special tokens, and only when it does not start with a "
            "space), so the exported tokenizer would not always give our "
            "ids. Export a tokenizer with add_prefix_space=False (the "
            "published GPT-2, RoBERTa and BART setting) and add the space "
            "to the text yourself."
        )
    vocabulary = dict(sorted(vocabulary.items(), key=lambda item: item[1]))
    hf_export.write_json(os.path.join(directory, "vocab.json"), vocabulary)
    with open(os.path.join(directory, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n")
        f.write("".join(f"{rule}\n" for rule in tokenizer.merges))
    special_values = set(special_tokens.values())
    added = list(special_values) + [
        token
        for token in (tokenizer.unsplittable_tokens or [])
        if token not in special_values
    ]
    added_tokens_decoder = {
        str(vocabulary[token]): {
            "content": token,
            "lstrip": False,
            "normalized": False,
            "rstrip": False,
            "single_word": False,
            "special": token in special_values,
        }
        for token in sorted(added, key=lambda token: vocabulary[token])
    }
    config = {
        "tokenizer_class": tokenizer_class,
        "add_prefix_space": False,
        "errors": "replace",
        "added_tokens_decoder": added_tokens_decoder,
        **special_tokens,
    }
    if tokenizer.sequence_length is not None:
        config["model_max_length"] = tokenizer.sequence_length
    hf_export.write_json(os.path.join(directory, "tokenizer_config.json"), config)
    hf_export.write_json(
        os.path.join(directory, "special_tokens_map.json"), dict(special_tokens)
    )


def export_tokenizer(tokenizer, directory):
    """Writes a `GPT2Tokenizer` as Hugging Face `GPT2Tokenizer` files.

    `vocab.json`, `merges.txt`, `tokenizer_config.json` and
    `special_tokens_map.json` (see `export_byte_level_bpe`), with
    `"<|endoftext|>"` as the beginning, end, unknown and padding token, as
    our tokenizer declares it. `AutoTokenizer` on the directory gives our
    ids (it adds no special tokens, like ours).

    Args:
        tokenizer: a `keras_nlp_clone.models.GPT2Tokenizer`.
        directory: str. An existing, empty directory.

    Raises:
        ValueError: see `export_byte_level_bpe`.
    """
    token = tokenizer.end_token
    export_byte_level_bpe(
        tokenizer,
        directory,
        "GPT2Tokenizer",
        {
            "bos_token": token,
            "eos_token": token,
            "unk_token": token,
            "pad_token": token,
        },
    )


hf_export.register_hf_exporter("GPT2Backbone", export_backbone)
hf_export.register_hf_exporter("GPT2CausalLM", export_causal_lm)
hf_export.register_hf_exporter("GPT2Tokenizer", export_tokenizer)


# === KerasHub preset format (presets/keras_hub_format.py) ===
#
# Our class names -> KerasHub's class and module, and our layer paths ->
# KerasHub's object paths in its `model.weights.h5` / `task.weights.h5`
# (checked against files saved by `keras_hub` 0.32).


def _register_keras_hub_family():
    from keras_nlp_clone.presets.keras_hub_format import KerasHubFamily
    from keras_nlp_clone.presets.keras_hub_format import register_keras_hub_family
    from keras_nlp_clone.presets.keras_hub_format import transformer_decoder_paths
    module = "keras_hub.src.models.gpt2."
    classes = {
        "GPT2Backbone": ("GPT2Backbone", module + "gpt2_backbone"),
        "GPT2Tokenizer": ("GPT2Tokenizer", module + "gpt2_tokenizer"),
        "GPT2Preprocessor": ("GPT2Preprocessor", module + "gpt2_preprocessor"),
        "GPT2CausalLMPreprocessor": ("GPT2CausalLMPreprocessor", module + "gpt2_causal_lm_preprocessor"),
        "GPT2CausalLM": ("GPT2CausalLM", module + "gpt2_causal_lm"),
    }
    backbone_layers = [
        ("token_embedding", "reversible_embedding"),
        ("position_embedding", "position_embedding"),
        *transformer_decoder_paths("transformer_layer_{i}", "transformer_decoder{_i}"),
        ("layer_norm", "layer_normalization"),
    ]
    register_keras_hub_family(
        KerasHubFamily(
            backbone_name="GPT2Backbone",
            classes=classes,
            backbone_layers=backbone_layers,
            # The language-model head is the tied token embedding.
            head_layers={"GPT2CausalLM": []},
        )
    )


_register_keras_hub_family()
