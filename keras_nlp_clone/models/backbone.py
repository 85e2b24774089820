"""The base class of all backbones."""

import os

import keras

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.presets.files import CONFIG_FILE
from keras_nlp_clone.presets.files import MODEL_WEIGHTS_FILE
from keras_nlp_clone.presets.loader import get_preset_loader
from keras_nlp_clone.presets.registry import classproperty
from keras_nlp_clone.presets.registry import presets_for_class
from keras_nlp_clone.presets.saver import atomic_save
from keras_nlp_clone.presets.saver import save_metadata
from keras_nlp_clone.presets.saver import save_serialized_object
from keras_nlp_clone.presets.saver import saves_preset
from keras_nlp_clone.presets.weights_file import save_weights_file
from keras_nlp_clone.utils import argument_checks
from keras_nlp_clone.utils import distribution_utils
from keras_nlp_clone.utils import input_checks
from keras_nlp_clone.utils import lora_utils
from keras_nlp_clone.utils import quantization_utils
from keras_nlp_clone.utils.keras_utils import EarlyAttributeMixin


@keras_nlp_clone_export
class Backbone(EarlyAttributeMixin, keras.Model):
    """Base class for backbones: preprocessed tensors in, dense features out.

    A backbone is a functional `keras.Model` built in its subclass's
    `__init__`. It holds the pretrainable part of a model (embeddings and
    transformer layers) and no task head, and it does not handle strings:
    feed it the dict a `Preprocessor` produces.

    Called on a dict, a backbone takes its inputs by name: keys it does not
    take (such as `mask_positions`) are ignored, and a missing key raises a
    `ValueError` naming it.

    This base class adds preset loading and saving (`from_preset`,
    `save_to_preset`), the `presets` registry view, the `token_embedding`
    accessor, LoRA fine-tuning (`enable_lora`, `save_lora_weights`,
    `load_lora_weights`), int8 quantization (`quantize`) and the
    `keras.distribution` layout for sharding on a device mesh
    (`get_layout_map`, JAX only).

    Args:
        dtype: str or `keras.DTypePolicy`. The dtype policy for the model's
            computations and weights, e.g. `"float32"`, `"bfloat16"` or
            `"mixed_float16"`. Defaults to `None`, the global policy.
        **kwargs: passed to `keras.Model` (`inputs`, `outputs`, `name`).

    Examples:
    >>> backbone = keras_nlp_clone.models.Backbone.from_preset(
    ...     "all_minilm_l6_v2_en")
    >>> type(backbone).__name__
    'BertBackbone'
    """

    def __new__(cls, *args, **kwargs):
        # Subclasses create their variables before `Backbone.__init__` runs,
        # so bad sizes, and a mesh that cannot split them, are reported
        # here, first.
        argument_checks.check_constructor_arguments(
            cls, args, kwargs, attention_hidden_dim=True
        )
        distribution_utils.check_backbone_fits_distribution(cls, args, kwargs)
        return super().__new__(cls, *args, **kwargs)

    def __init__(self, *args, dtype=None, **kwargs):
        super().__init__(*args, dtype=dtype, **kwargs)
        self._mark_functional_initialized()
        quantization_utils.use_own_quantize(self)

    @classmethod
    def get_layout_map(
        cls,
        device_mesh,
        model_parallel_dim_name="model",
        data_parallel_dim_name="batch",
    ):
        """A `keras.distribution.LayoutMap` that shards this model (JAX).

        Megatron-style tensor parallelism (Shoeybi et al., 2019): the
        attention query/key/value kernels `(hidden_dim, num_heads,
        head_dim)` are split over attention heads and the feed-forward
        input kernel `(hidden_dim, intermediate_dim)` over its columns, the
        attention output `(num_heads, head_dim, hidden_dim)` and
        feed-forward output `(intermediate_dim, hidden_dim)` kernels over
        their rows, and the token embedding `(vocabulary_size, hidden_dim)`
        over `hidden_dim` (vocabularies such as GPT-2's 50,257 ids rarely
        divide a mesh axis). All else is replicated. Weights are replicated
        along the data axis, over which batches are split.

        It is a class method, as in KerasHub: make the map, set the
        distribution, then create or load the model under it.

        Args:
            device_mesh: `keras.distribution.DeviceMesh`. The devices, e.g.
                shape `(2, 4)` with axis names `("batch", "model")`.
            model_parallel_dim_name: str. The mesh axis the weights are
                split over. Defaults to `"model"`.
            data_parallel_dim_name: str. The mesh axis batches are split
                over; pass the same name as
                `ModelParallel(batch_dim_name=...)`. Defaults to `"batch"`.

        Returns:
            A `keras.distribution.LayoutMap` for `device_mesh`, keyed by
            variable path regexes.

        Raises:
            ValueError: on a backend other than JAX (Keras shards variables
                on JAX only), or when an axis name is not in the mesh. A
                backbone later built under the map raises a `ValueError`
                naming the argument when the model axis size does not
                divide `num_heads`, `hidden_dim` or `intermediate_dim`.

        Examples:
        >>> import keras
        >>> devices = keras.distribution.list_devices()  # e.g. 8 devices
        >>> mesh = keras.distribution.DeviceMesh(
        ...     (2, 4), ("batch", "model"), devices)
        >>> layout_map = keras_nlp_clone.models.BertBackbone.get_layout_map(
        ...     mesh)
        >>> keras.distribution.set_distribution(
        ...     keras.distribution.ModelParallel(
        ...         layout_map=layout_map, batch_dim_name="batch"))
        >>> backbone = keras_nlp_clone.models.BertBackbone.from_preset(
        ...     "all_minilm_l6_v2_en")

        References:
            - [Shoeybi et al., 2019](https://arxiv.org/abs/1909.08053)
        """
        return distribution_utils.backbone_layout_map(
            device_mesh, model_parallel_dim_name, data_parallel_dim_name
        )

    def __call__(self, inputs, *args, **kwargs):
        # A dict with more keys than the backbone takes (the guide passes
        # `mask_positions` along for a masked-LM head) would otherwise be
        # matched to the inputs by position, feeding a wrong tensor in
        # silently. Keep the backbone's own keys, by name.
        names = self.input  # the functional model's own input structure
        if isinstance(inputs, dict) and isinstance(names, dict):
            missing = [k for k in names if k not in inputs]
            if missing:
                raise ValueError(
                    f"{type(self).__name__} takes the inputs "
                    f"{sorted(names)}; missing {missing}. "
                    "Pass the dict a matching preprocessor produces."
                )
            inputs = {k: inputs[k] for k in names}
        # Ids past a table would be gathered silently on JAX (clamped).
        # Only concrete values are checked: see `input_checks`.
        input_checks.check_backbone_inputs(self, inputs)
        return super().__call__(inputs, *args, **kwargs)

    @property
    def token_embedding(self):
        """The `keras.layers.Embedding` of token ids (a
        `ReversibleEmbedding` in most models; language model heads reuse
        it)."""
        return self._token_embedding

    @token_embedding.setter
    def token_embedding(self, value):
        self._token_embedding = value

    def get_config(self):
        # Subclasses add their constructor arguments. Functional models'
        # default config (layers graph) is not used.
        config = {
            "name": self.name,
            "trainable": self.trainable,
        }
        policy = self.dtype_policy
        if isinstance(policy, keras.dtype_policies.DTypePolicyMap):
            policy = policy.default_policy
        # After `quantize`, the quantized layers' policies are recorded by
        # layer path (a `DTypePolicyMap`): the rebuilt backbone builds those
        # layers in int8 directly, with the variables, in the same order,
        # that the weights file holds.
        quantized = quantization_utils.quantized_policy_map(
            self._flatten_layers(include_self=False), policy.name
        )
        if quantized is not None:
            config["dtype"] = keras.dtype_policies.serialize(quantized)
        elif policy is not None and policy.name != keras.config.dtype_policy().name:
            config["dtype"] = keras.dtype_policies.serialize(policy)
        lora = getattr(self, "_lora_config", None)
        if lora is not None:
            config["lora"] = dict(lora)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        # The LoRA state is re-applied after construction, so the variables
        # (and their order in `weights`, which preset files rely on) are
        # those of the saved model.
        lora = config.pop("lora", None)
        if isinstance(config.get("dtype"), dict):
            # One policy object (a `DTypePolicyMap` after `quantize`) shared
            # by every layer, rather than one copy per layer.
            config["dtype"] = keras.dtype_policies.deserialize(config["dtype"])
        backbone = cls(**config)
        if lora is not None:
            backbone.enable_lora(**lora)
        return backbone

    def quantize(self, mode=None, config=None, filters=None, **kwargs):
        """Quantizes the backbone's weights to int8 with Keras' own int8 path.

        Every `keras.layers.Dense`, `EinsumDense` and `Embedding` (the
        attention projections, feed-forward layers, pooler, segment and
        token embeddings) gets an int8 kernel with one float32 scale per
        output channel (absmax), and quantizes its inputs per token at call
        time (`keras.Model.quantize`, int8 mode). The token embedding, a
        `ReversibleEmbedding`, stores an int8 table with one scale per
        token and also projects hidden states to logits in int8 (the tied
        language-model head). Layer norms, biases and position embeddings
        stay in full precision. The model then predicts and generates as
        before, and `save_to_preset` / `from_preset` restore it quantized
        (the quantized layers are recorded in the config).

        All arguments and layers are checked before any layer changes:
        after an error the backbone is as it was.

        Args:
            mode: str. `"int8"`, the only mode supported.
            config: must be `None`: the default int8 scheme is used.
            filters: optional. A regex string or list of them matched
                against layer names (`re.search`), or a callable
                `layer -> bool`: only the matching layers are quantized.
                Defaults to `None`, every quantizable layer.
            **kwargs: passed to `keras.Model.quantize`.

        Returns:
            None.

        Raises:
            ValueError: `mode` is not `"int8"` (e.g. `"int4"`, `"fp8"`);
                `config` is given; `filters` selects no layer; a selected
                layer is already quantized (quantizing twice); a layer
                computes in float16 (`"mixed_float16"`).

        Examples:
        >>> backbone = keras_nlp_clone.models.BertBackbone(
        ...     vocabulary_size=100, num_layers=2, num_heads=2,
        ...     hidden_dim=8, intermediate_dim=16)
        >>> backbone.quantize("int8")
        >>> backbone.get_layer("pooled_dense").kernel.dtype
        'int8'

        References:
            - [Dettmers et al., 2022](https://arxiv.org/abs/2208.07339),
              LLM.int8(): 8-bit matrix multiplication for transformers.
        """
        quantization_utils.quantize_model(
            self, mode, config=config, filters=filters, **kwargs
        )

    @classproperty
    def presets(cls):
        """Dict of built-in preset ids for this class, id -> metadata
        (`description`, `params`, ...)."""
        return presets_for_class(cls)

    @classmethod
    def from_preset(cls, preset, load_weights=True, **kwargs):
        """Instantiates a backbone from a preset.

        Args:
            preset: str. A built-in preset id (see `presets`), a local preset
                directory, a local Hugging Face checkpoint directory, an
                `hf://owner/name` handle or a `kaggle://...` handle.
            load_weights: bool. Load the pretrained weights; `False` gives a
                randomly initialised model of the preset's architecture.
                Defaults to `True`.
            **kwargs: overrides of the preset's config (e.g. `dtype`,
                `dropout`).

        Returns:
            A backbone; called on `Backbone` itself, the preset's class.

        Raises:
            keras_nlp_clone.presets.errors.PresetError: unknown id,
                malformed handle, damaged files, or a preset of another
                family than the class.
            FileNotFoundError: missing files (`PresetNotAvailableError`
                for built-in presets whose files are not on this machine).

        Examples:
        >>> backbone = keras_nlp_clone.models.BertBackbone.from_preset(
        ...     "all_minilm_l6_v2_en")
        """
        loader = get_preset_loader(preset)
        return loader.load_backbone(cls, load_weights, **kwargs)

    @saves_preset
    def save_to_preset(self, preset_dir, max_shard_size=10, format="keras_nlp_clone"):
        """Saves config, weights and metadata into a preset directory.

        Writes `config.json`, `model.weights.h5` and `metadata.json`, each
        atomically. Save a tokenizer or preprocessor to the same directory to
        make a complete preset.

        Args:
            preset_dir: str. Directory to write; created if needed.
            max_shard_size: int. Accepted for API compatibility; weights are
                written as one file.
            format: str. `"keras_nlp_clone"` (this library's layout) or
                `"keras_hub"` (KerasHub's: `keras_hub>` class names and
                Keras-layout weights, loadable by `keras_hub` 0.32's
                `from_preset` and by ours). Defaults to `"keras_nlp_clone"`.
        """
        if format != "keras_nlp_clone":
            from keras_nlp_clone.presets import keras_hub_format

            keras_hub_format.check_format(format)
            return keras_hub_format.save_keras_hub_preset(
                self, preset_dir, kind="backbone"
            )
        os.makedirs(preset_dir, exist_ok=True)
        save_serialized_object(self, preset_dir, config_file=CONFIG_FILE)
        atomic_save(
            os.path.join(preset_dir, MODEL_WEIGHTS_FILE),
            lambda path: save_weights_file(self, path),
        )
        save_metadata(self, preset_dir)

    def export_to_transformers(self, path):
        """Exports the backbone as a Hugging Face `transformers` model.

        Writes `config.json` (with the Hugging Face `model_type` and
        `architectures`, e.g. `["BertModel"]`) and `model.safetensors` into
        a new directory, which `transformers.AutoModel.from_pretrained`
        loads to a model with the same outputs. The files go to a temporary
        directory renamed to `path` at the end, so a failed export leaves
        nothing behind. Export a tokenizer to the same place with
        `Task.export_to_transformers`, or to another directory with
        `Tokenizer.export_to_transformers`.

        Args:
            path: str. The directory to create; it must not exist or be an
                empty directory.

        Raises:
            ValueError: the family has no exporter (the message lists the
                supported classes), `path` is a file or a non-empty
                directory, or the Hugging Face class cannot hold this
                configuration exactly.

        Examples:
        >>> backbone = keras_nlp_clone.models.BertBackbone.from_preset(
        ...     "all_minilm_l6_v2_en")
        >>> backbone.export_to_transformers("/tmp/minilm_hf")
        >>> import transformers
        >>> model = transformers.AutoModel.from_pretrained("/tmp/minilm_hf")
        """
        from keras_nlp_clone.presets import hf_export

        hf_export.export_to_transformers(self, path)

    # === LoRA ===

    def get_lora_target_names(self):
        """The names of the layers `enable_lora` adapts by default.

        Returns:
            list of str: `["query", "value"]`, the query and value
            projections (`EinsumDense` sublayers of every attention layer,
            self- and cross-attention).
        """
        return list(lora_utils.DEFAULT_TARGET_NAMES)

    @property
    def lora_config(self):
        """The LoRA state, `{"rank": int, "target_names": list of str}`, or
        `None` when LoRA is off."""
        config = getattr(self, "_lora_config", None)
        return None if config is None else dict(config)

    def enable_lora(self, rank, target_names=None):
        """Enables LoRA on the backbone's layers named in `target_names`.

        Each target layer (a `keras.layers.Dense`, `EinsumDense` or
        `Embedding`, matched by its `name`) gets Keras' own LoRA
        (`layer.enable_lora(rank)`): two matrices `lora_kernel_a` of shape
        `kernel.shape[:-1] + (rank,)` (random) and `lora_kernel_b` of shape
        `(rank, kernel.shape[-1])` (zeros) whose product is added to the
        frozen kernel, so the outputs are unchanged until training moves
        them. After the call the LoRA matrices are the backbone's only
        trainable variables: every other variable (kernels, biases,
        embeddings, layer norms) has `trainable=False`. Layers of a task
        outside the backbone, such as a classifier head, keep their
        trainability (they stay trainable); a head tied to the token
        embedding (GPT-2, BART) is frozen with it.

        Call it before `compile`/`fit`, or call `compile()` again after it
        (the optimizer is built on the trainable variables). The state is
        part of the config (`"lora"` key), so `save_to_preset` and
        `from_preset` restore it, LoRA weights and trainability included.
        Setting `trainable = True` on the backbone afterwards makes every
        variable trainable again (Keras' rule).

        Args:
            rank: int. The rank of the LoRA matrices, > 0 (4, 8 or 16 are
                usual).
            target_names: list of str. The names of the layers to adapt.
                Defaults to `None`, `get_lora_target_names()`: the attention
                query and value projections (`"query"`, `"value"`). Other
                names: `"key"`, `"attention_output"`,
                `"feedforward_intermediate_dense"`,
                `"feedforward_output_dense"`.

        Returns:
            None.

        Raises:
            ValueError: `rank` is not a positive int; `target_names` is
                empty or a name matches no layer; LoRA is already enabled;
                a target has a kernel constraint. Checked before anything
                changes: after an error the backbone is as it was.

        Examples:
        >>> backbone = keras_nlp_clone.models.BertBackbone(
        ...     vocabulary_size=100, num_layers=2, num_heads=2,
        ...     hidden_dim=8, intermediate_dim=16)
        >>> backbone.enable_lora(rank=4)
        >>> len(backbone.trainable_weights)  # a and b on 2 layers x 2 targets
        8

        References:
            - [Hu et al., 2021](https://arxiv.org/abs/2106.09685), LoRA:
              Low-Rank Adaptation of Large Language Models.
        """
        if target_names is None:
            target_names = self.get_lora_target_names()
        lora_utils.enable_lora(self, rank, target_names)

    def save_lora_weights(self, filepath):
        """Saves the LoRA matrices (and only them) to a safetensors file.

        The file holds one tensor per LoRA matrix, named by its variable
        path (e.g. `transformer_layer_0/self_attention/query/lora_kernel_a`),
        and the backbone class, rank and target names as metadata. It is
        written to a temporary file first and then renamed, so a crash
        never leaves a half-written file. Read it with `load_lora_weights`
        on a backbone with the same base weights.

        Args:
            filepath: str or path-like. The file to write, e.g.
                `"adapter.lora.safetensors"`; replaced if it exists.

        Returns:
            None.

        Raises:
            ValueError: LoRA is not enabled.

        Examples:
        >>> backbone.save_lora_weights("imdb.lora.safetensors")  # doctest: +SKIP
        """
        lora_utils.save_lora_weights(self, filepath)

    def load_lora_weights(self, filepath):
        """Loads LoRA matrices saved by `save_lora_weights`.

        On a backbone without LoRA, LoRA is first enabled with the file's
        rank and target names. The file is checked in full (format, backbone
        class, rank, target names, every tensor's name and shape) before any
        variable changes, so an error leaves the backbone as it was.

        Args:
            filepath: str or path-like. A file written by
                `save_lora_weights`.

        Returns:
            None.

        Raises:
            FileNotFoundError: no file at `filepath`.
            ValueError: not a LoRA weights file; saved from another backbone
                class; another rank or other target names than the LoRA
                enabled here; tensors missing, extra or of another shape
                (another model configuration). The message names what
                differs.

        Examples:
        >>> backbone = keras_nlp_clone.models.BertBackbone.from_preset(
        ...     "all_minilm_l6_v2_en")  # doctest: +SKIP
        >>> backbone.load_lora_weights("imdb.lora.safetensors")  # doctest: +SKIP
        """
        lora_utils.load_lora_weights(self, filepath)
