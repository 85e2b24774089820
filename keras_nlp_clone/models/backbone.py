"""The base class of all backbones."""

import os

import keras

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.utils import distribution_utils
from keras_nlp_clone.utils import preset_utils
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
    `save_to_preset`), the `presets` registry view and the `token_embedding`
    accessor.

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
        # so a mesh that cannot split them is reported here, first.
        distribution_utils.check_backbone_fits_distribution(cls, args, kwargs)
        return super().__new__(cls, *args, **kwargs)

    def __init__(self, *args, dtype=None, **kwargs):
        super().__init__(*args, dtype=dtype, **kwargs)
        self._mark_functional_initialized()

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
        if policy is not None and policy.name != keras.config.dtype_policy().name:
            config["dtype"] = keras.dtype_policies.serialize(policy)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    @preset_utils.classproperty
    def presets(cls):
        """Dict of built-in preset ids for this class, id -> metadata
        (`description`, `params`, ...)."""
        return preset_utils.presets_for_class(cls)

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
            keras_nlp_clone.utils.preset_utils.PresetError: unknown id,
                malformed handle, damaged files, or a preset of another
                family than the class.
            FileNotFoundError: missing files (`PresetNotAvailableError`
                for built-in presets whose files are not on this machine).

        Examples:
        >>> backbone = keras_nlp_clone.models.BertBackbone.from_preset(
        ...     "all_minilm_l6_v2_en")
        """
        loader = preset_utils.get_preset_loader(preset)
        return loader.load_backbone(cls, load_weights, **kwargs)

    def save_to_preset(self, preset_dir, max_shard_size=10):
        """Saves config, weights and metadata into a preset directory.

        Writes `config.json`, `model.weights.h5` and `metadata.json`, each
        atomically. Save a tokenizer or preprocessor to the same directory to
        make a complete preset.

        Args:
            preset_dir: str. Directory to write; created if needed.
            max_shard_size: int. Accepted for API compatibility; weights are
                written as one file.
        """
        os.makedirs(preset_dir, exist_ok=True)
        preset_utils.save_serialized_object(
            self, preset_dir, config_file=preset_utils.CONFIG_FILE
        )
        preset_utils.atomic_save(
            os.path.join(preset_dir, preset_utils.MODEL_WEIGHTS_FILE),
            lambda path: preset_utils.save_weights_file(self, path),
        )
        preset_utils.save_metadata(self, preset_dir)
