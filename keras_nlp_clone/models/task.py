"""The base class of all tasks."""

import os

import keras
import numpy as np

from keras_nlp_clone.api_export import keras_nlp_clone_export
from keras_nlp_clone.presets.errors import PresetError
from keras_nlp_clone.presets.files import TASK_CONFIG_FILE
from keras_nlp_clone.presets.files import TASK_WEIGHTS_FILE
from keras_nlp_clone.presets.loader import get_preset_loader
from keras_nlp_clone.presets.registry import classproperty
from keras_nlp_clone.presets.registry import presets_for_class
from keras_nlp_clone.presets.saver import atomic_save
from keras_nlp_clone.presets.saver import save_serialized_object
from keras_nlp_clone.presets.saver import saves_preset
from keras_nlp_clone.utils import argument_checks
from keras_nlp_clone.utils import input_checks
from keras_nlp_clone.utils import lora_utils
from keras_nlp_clone.utils import quantization_utils
from keras_nlp_clone.utils.keras_utils import EarlyAttributeMixin
from keras_nlp_clone.utils.lazy_module import tf


def _is_dataset(x):
    from keras_nlp_clone.utils.tensor_utils import tf_loaded

    return tf_loaded() and isinstance(x, tf.data.Dataset)


def _num_samples(x):
    if isinstance(x, (str, bytes)):
        return 1
    if isinstance(x, dict):
        return _num_samples(next(iter(x.values())))
    if isinstance(x, tuple):
        return _num_samples(x[0])
    return len(x)


def _slice(x, start, stop):
    if x is None:
        return None
    if isinstance(x, (str, bytes)):
        x = [x]
    if isinstance(x, dict):
        return {k: _slice(v, start, stop) for k, v in x.items()}
    if isinstance(x, tuple):
        return tuple(_slice(v, start, stop) for v in x)
    return x[start:stop]


def _to_numpy_nest(x):
    """Makes inputs sliceable and `tf.data`-ready: strings and lists become
    NumPy arrays (object arrays for strings), backend tensors NumPy arrays;
    dicts and tuples (segments) are converted leaf by leaf."""
    if x is None or isinstance(x, np.ndarray):
        return x
    if isinstance(x, dict):
        return {k: _to_numpy_nest(v) for k, v in x.items()}
    if isinstance(x, tuple):
        return tuple(_to_numpy_nest(v) for v in x)
    if isinstance(x, (str, bytes)):
        return np.asarray([x], dtype=object)
    if isinstance(x, list):
        is_text = bool(x) and isinstance(x[0], (str, bytes))
        return np.asarray(x, dtype=object if is_text else None)
    return keras.ops.convert_to_numpy(x)


# `predict`/`evaluate` preprocess in-memory inputs up to this size eagerly
# (see `Task._preprocess_in_memory`), in chunks of `_CHUNK_SIZE` examples.
_MAX_IN_MEMORY_SAMPLES = 200_000
_CHUNK_SIZE = 4096


@keras_nlp_clone_export
class Task(EarlyAttributeMixin, keras.Model):
    """Base class for tasks: a backbone, a head and a preprocessor.

    A task is a functional `keras.Model` that runs a backbone and
    task-specific layers; with a `preprocessor` it takes raw inputs (strings,
    `tf.data` datasets of strings) in `fit`, `evaluate` and `predict`, mapping
    the preprocessor over the data in a `tf.data` pipeline (batched,
    parallel, prefetched) whatever the Keras backend. With
    `preprocessor=None` it takes the backbone's input dict directly.

    Tasks compile themselves with sensible defaults on construction, so
    `fit`/`evaluate`/`predict` work without a `compile()` call; call
    `compile()` to override them.

    Subclasses set `backbone_cls` and `preprocessor_cls`, and build the
    functional model in `__init__` after assigning `self.backbone` and
    `self.preprocessor`.

    Args:
        compile: bool. Compile with the task's defaults. Defaults to `True`.
        **kwargs: passed to `keras.Model` (`inputs`, `outputs`, `name`).
    """

    backbone_cls = None
    preprocessor_cls = None

    def __new__(cls, *args, **kwargs):
        # `num_classes=0`, `dropout=1.5` or an unknown activation name are
        # reported by name here, before the subclass builds any layer.
        argument_checks.check_constructor_arguments(cls, args, kwargs)
        return super().__new__(cls, *args, **kwargs)

    def __init__(self, *args, compile=True, **kwargs):
        super().__init__(*args, **kwargs)
        self._mark_functional_initialized()
        quantization_utils.use_own_quantize(self)
        if getattr(self, "_backbone", None) is not None:
            self.dtype_policy = self._backbone.dtype_policy
        if compile:
            self.compile()

    def compile(self, *args, jit_compile="auto", **kwargs):
        """Configures training; arguments as `keras.Model.compile`.

        On the TensorFlow backend `jit_compile="auto"` means `False` here
        (Keras would pick XLA): for these models on CPU, XLA roughly
        doubled the time of the first `fit` step and did not speed the
        train step up (measured on a 2-layer, hidden-128 BERT classifier;
        see "Fit on raw strings" in `docs/benchmarks.md`). Pass
        `jit_compile=True` to get XLA. JAX always compiles with XLA and
        PyTorch never does, as in Keras.

        Args:
            *args: passed to `keras.Model.compile` (`optimizer`, `loss`,
                ...).
            jit_compile: bool or `"auto"`. Compile the train, test and
                predict functions with XLA. Defaults to `"auto"`: `False`
                on TensorFlow, Keras' own choice otherwise.
            **kwargs: passed to `keras.Model.compile`.
        """
        if jit_compile == "auto" and keras.backend.backend() == "tensorflow":
            jit_compile = False
        super().compile(*args, jit_compile=jit_compile, **kwargs)

    @property
    def backbone(self):
        """The `Backbone` this task runs."""
        return getattr(self, "_backbone", None)

    @backbone.setter
    def backbone(self, value):
        object.__setattr__(self, "_backbone", value)
        if value is not None:
            # Lets `Backbone.enable_lora` drop this task's compiled
            # functions, which were traced without the LoRA matrices.
            lora_utils.register_task(value, self)

    @property
    def preprocessor(self):
        """The `Preprocessor` applied to raw inputs, or `None`."""
        return getattr(self, "_preprocessor", None)

    @preprocessor.setter
    def preprocessor(self, value):
        object.__setattr__(self, "_preprocessor", value)

    # === Data handling ===

    def _preprocess_samples(self, x, y=None, sample_weight=None):
        return self.preprocessor(x, y=y, sample_weight=sample_weight)

    def _preprocess_fn(self):
        """The preprocessor as a `tf.function`, cached per preprocessor.

        `tf.data` traces its map function for every new dataset, i.e. on
        every `fit`/`evaluate`/`predict` call. Mapping a cached
        `tf.function` makes that trace a single call op, so the
        preprocessor itself is traced once per input structure, not once
        per call.
        """
        cache = self.__dict__.get("_preprocess_fn_cache")
        if cache is None or cache[0] is not self.preprocessor:
            # No AutoGraph: the preprocessors are graph code (Keras layers
            # run unconverted anyway), and converting this method cost
            # about 0.2 s of the first `fit`/`predict`.
            fn = tf.function(
                self._preprocess_samples, reduce_retracing=True, autograph=False
            )
            cache = (self.preprocessor, fn)
            object.__setattr__(self, "_preprocess_fn_cache", cache)
        return cache[1]

    def _make_dataset(
        self, x, y, sample_weight, batch_size, shuffle, repeat=False
    ):
        """The `tf.data` pipeline of `fit`/`evaluate`/`predict`.

        In-memory inputs are sliced, shuffled (`shuffle=True`), batched,
        then repeated without end when `repeat=True`, and the preprocessor
        is mapped over the batches. `fit` repeats and gives Keras
        `steps_per_epoch` on JAX and TensorFlow, so one iterator runs
        through all epochs and the next epoch's first batches are prepared
        while the current one ends. Random preprocessing (masked LM masks)
        draws from the preprocessor's own generator, new every epoch on
        every backend; a preprocessor that draws randomness
        (`_draws_random`) is mapped sequentially, so that under
        `keras.utils.set_random_seed` batches get their draws in a fixed
        order and runs repeat.

        On PyTorch, a pipeline built here from in-memory inputs runs with
        `tf.data` autotuning off: with it on, about one `fit` call in three
        waited about 0.7 s for every batch (1.7 s a step against 1.0 s for
        the quickstart's model under mixed bfloat16 on 2 cores; 7 such
        calls in 20, none in 23 with it off;
        `benchmarks/fit_call_benchmark.py`, docs/benchmarks.md). A
        user's `tf.data.Dataset` keeps its own options.
        """
        if _is_dataset(x):
            if y is not None or sample_weight is not None:
                raise ValueError(
                    "When `x` is a `tf.data.Dataset`, pass labels and sample "
                    "weights inside it (`(x, y)` or `(x, y, sample_weight)` "
                    "elements), not as `y=`/`sample_weight=`. Received "
                    f"y={type(y).__name__}, "
                    f"sample_weight={type(sample_weight).__name__}."
                )
            ds = x
        else:
            data = keras.utils.pack_x_y_sample_weight(
                _to_numpy_nest(x), _to_numpy_nest(y), _to_numpy_nest(sample_weight)
            )
            ds = tf.data.Dataset.from_tensor_slices(data)
            if shuffle:
                ds = ds.shuffle(_num_samples(x), reshuffle_each_iteration=True)
            ds = ds.batch(batch_size or 32)
            if repeat:
                ds = ds.repeat()
        if self.preprocessor is not None:
            draws_random = getattr(self.preprocessor, "_draws_random", False)
            ds = ds.map(
                self._preprocess_fn(),
                num_parallel_calls=None if draws_random else tf.data.AUTOTUNE,
                deterministic=True,
            )
        if self.backbone is not None:
            ds = input_checks.assert_ids_in_dataset(
                self.backbone, ds, owner=type(self).__name__
            )
        ds = ds.prefetch(tf.data.AUTOTUNE)
        if not _is_dataset(x) and keras.backend.backend() == "torch":
            options = tf.data.Options()
            options.autotune.enabled = False
            ds = ds.with_options(options)
        return ds

    def _check_ids(self, x):
        """Checks concrete token/segment ids against the backbone's
        tables (`input_checks`); raises a `ValueError` naming the input."""
        if self.backbone is not None and x is not None:
            input_checks.check_backbone_inputs(
                self.backbone, x, owner=type(self).__name__
            )

    def _needs_pipeline(self, x):
        return self.preprocessor is not None or _is_dataset(x)

    def fit(
        self,
        x=None,
        y=None,
        batch_size=None,
        sample_weight=None,
        validation_data=None,
        validation_split=None,
        **kwargs,
    ):
        """Trains the task; `x` may be raw strings or a `tf.data.Dataset`.

        Args:
            x: raw inputs (list or array of strings, or a tuple of them for
                sentence pairs), a `tf.data.Dataset` of batched `(x, y)`
                elements, or preprocessed inputs when
                `preprocessor=None`.
            y: labels, shape `(num_samples,)`. Not with a dataset.
            batch_size: int. Defaults to 32 for arrays.
            sample_weight: optional weights, shape `(num_samples,)`.
            validation_data: `(x, y)` raw data or a `tf.data.Dataset`.
            validation_split: float in [0, 1): fraction of `x`/`y` held out
                for validation (from the end, before shuffling). Not with a
                dataset.
            **kwargs: passed to `keras.Model.fit` (`epochs`, `callbacks`,
                `shuffle`, ...).

        Returns:
            A `keras.callbacks.History`.
        """
        self._build_optimizer()
        if not self._needs_pipeline(x):
            self._check_ids(x)
            if isinstance(validation_data, (tuple, list)):
                self._check_ids(validation_data[0])
            return super().fit(
                x=x,
                y=y,
                batch_size=batch_size,
                sample_weight=sample_weight,
                validation_data=validation_data,
                validation_split=validation_split or 0.0,
                **kwargs,
            )
        if validation_split:
            if _is_dataset(x):
                raise ValueError(
                    "`validation_split` is not supported with a "
                    "`tf.data.Dataset`; pass `validation_data` instead."
                )
            n = _num_samples(x)
            cut = int(n * (1.0 - validation_split))
            validation_data = (
                _slice(x, cut, n),
                _slice(y, cut, n),
                _slice(sample_weight, cut, n),
            )
            x, y, sample_weight = (
                _slice(x, 0, cut),
                _slice(y, 0, cut),
                _slice(sample_weight, 0, cut),
            )
        shuffle = kwargs.pop("shuffle", True)
        # Not on PyTorch: Keras' torch trainer with `steps_per_epoch` shifts
        # the batches of later epochs (losses differ from the array path).
        in_memory = (
            not _is_dataset(x)
            and _num_samples(x) > 0
            and keras.backend.backend() != "torch"
        )
        ds = self._make_dataset(
            x, y, sample_weight, batch_size, shuffle, repeat=in_memory
        )
        if in_memory and kwargs.get("steps_per_epoch") is None:
            kwargs["steps_per_epoch"] = -(-_num_samples(x) // (batch_size or 32))
        if validation_data is not None:
            if not _is_dataset(validation_data):
                validation_data = keras.utils.unpack_x_y_sample_weight(
                    tuple(validation_data)
                )
                validation_data = self._make_dataset(
                    *validation_data,
                    kwargs.get("validation_batch_size") or batch_size,
                    False,
                )
            else:
                validation_data = self._make_dataset(
                    validation_data, None, None, None, False
                )
        # The dataset shuffles itself (above); Keras must not try to.
        return super().fit(
            x=ds, validation_data=validation_data, shuffle=False, **kwargs
        )

    def _build_optimizer(self):
        """Creates the optimizer's variables eagerly, before `fit` traces
        its train step.

        Keras' TensorFlow trainer (without a distribution strategy) builds
        the optimizer inside the traced train function, where each of its
        variables (two per weight for Adam) is created through a
        `tf.cond` initializer: that took about a third of the first `fit`
        step of a 2-layer BERT classifier (see "Fit on raw strings" in
        `docs/benchmarks.md`). The variables are the same zeros either
        way; JAX and PyTorch build the optimizer eagerly already.
        """
        optimizer = getattr(self, "optimizer", None)
        if optimizer is None or optimizer.built or not self.built:
            return
        optimizer.build(self.trainable_variables)

    def evaluate(self, x=None, y=None, batch_size=None, sample_weight=None, **kwargs):
        """Evaluates the task; inputs as in `fit`. Returns the loss and
        metrics (a list, or a dict with `return_dict=True`)."""
        # `fit` evaluates its (already preprocessed) validation data through
        # this method with `_use_cached_eval_dataset=True`.
        if kwargs.get("_use_cached_eval_dataset") or not self._needs_pipeline(x):
            if not kwargs.get("_use_cached_eval_dataset"):
                self._check_ids(x)
            return super().evaluate(
                x=x, y=y, batch_size=batch_size, sample_weight=sample_weight, **kwargs
            )
        if not _is_dataset(x) and _num_samples(x) <= _MAX_IN_MEMORY_SAMPLES:
            x, y, sample_weight = self._preprocess_in_memory(x, y, sample_weight)
            self._check_ids(x)
            return super().evaluate(
                x=x, y=y, batch_size=batch_size, sample_weight=sample_weight, **kwargs
            )
        ds = self._make_dataset(x, y, sample_weight, batch_size, False)
        return super().evaluate(x=ds, **kwargs)

    def predict(self, x=None, batch_size=None, **kwargs):
        """Runs the task on raw inputs, a dataset, or preprocessed inputs.

        Returns:
            The task's outputs as NumPy arrays, e.g. logits of shape
            `(num_samples, num_classes)` for a classifier.
        """
        if not self._needs_pipeline(x):
            self._check_ids(x)
            return super().predict(x=x, batch_size=batch_size, **kwargs)
        if not _is_dataset(x) and _num_samples(x) <= _MAX_IN_MEMORY_SAMPLES:
            x, _, _ = self._preprocess_in_memory(x)
            self._check_ids(x)
            return super().predict(x=x, batch_size=batch_size, **kwargs)
        ds = self._make_dataset(x, None, None, batch_size, False)
        return super().predict(x=ds, **kwargs)

    def _preprocess_in_memory(self, x, y=None, sample_weight=None):
        """Preprocesses in-memory inputs eagerly, in large chunks.

        For `predict` and `evaluate` on arrays or lists (each example is
        preprocessed once per call either way), one vectorised eager call
        per chunk of `_CHUNK_SIZE` examples costs a fraction of a
        `tf.data` pipeline's per-batch work, and the model then runs on
        NumPy arrays. `fit` keeps the streaming pipeline, so that random
        preprocessing (e.g. masking) is redrawn every epoch.
        """
        n = _num_samples(x)
        x, y, sample_weight = (
            _to_numpy_nest(x),
            _to_numpy_nest(y),
            _to_numpy_nest(sample_weight),
        )
        chunks = []
        for start in range(0, max(n, 1), _CHUNK_SIZE):
            stop = min(start + _CHUNK_SIZE, n)
            out = self.preprocessor(
                _slice(x, start, stop),
                y=_slice(y, start, stop),
                sample_weight=_slice(sample_weight, start, stop),
            )
            out = keras.utils.unpack_x_y_sample_weight(out)
            chunks.append(
                tuple(
                    None
                    if part is None
                    else tf.nest.map_structure(keras.ops.convert_to_numpy, part)
                    for part in out
                )
            )
        if len(chunks) == 1:
            return chunks[0]
        return tuple(
            None
            if parts[0] is None
            else tf.nest.map_structure(
                lambda *leaves: np.concatenate(leaves, axis=0), *parts
            )
            for parts in zip(*chunks)
        )

    def _preprocess_eager(self, x, y=None, sample_weight=None):
        if self.preprocessor is None:
            return x, y, sample_weight
        out = self.preprocessor(x, y=y, sample_weight=sample_weight)
        return keras.utils.unpack_x_y_sample_weight(out)

    def train_on_batch(self, x, y=None, sample_weight=None, **kwargs):
        """One gradient step on a batch of raw (or preprocessed) data."""
        x, y, sample_weight = self._preprocess_eager(x, y, sample_weight)
        return super().train_on_batch(x, y, sample_weight=sample_weight, **kwargs)

    def test_on_batch(self, x, y=None, sample_weight=None, **kwargs):
        """Loss and metrics on a batch of raw (or preprocessed) data."""
        x, y, sample_weight = self._preprocess_eager(x, y, sample_weight)
        return super().test_on_batch(x, y, sample_weight=sample_weight, **kwargs)

    def predict_on_batch(self, x, **kwargs):
        """Outputs for a batch of raw (or preprocessed) data."""
        x, _, _ = self._preprocess_eager(x)
        return super().predict_on_batch(x, **kwargs)

    # === Config and presets ===

    def get_config(self):
        config = {
            "backbone": keras.layers.serialize(self.backbone),
            "preprocessor": (
                keras.layers.serialize(self.preprocessor)
                if self.preprocessor is not None
                else None
            ),
            "name": self.name,
            "trainable": self.trainable,
        }
        # Quantized head layers (the backbone records its own), by path ->
        # policy name; `from_config` quantizes them again after building.
        quantized = {
            layer.path: quantization_utils.concrete_policy(layer).name
            for layer in self._quantizable_head_layers()
            if quantization_utils.concrete_policy(layer).quantization_mode
        }
        if quantized:
            config["quantized_head_layers"] = quantized
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        quantized = config.pop("quantized_head_layers", None)
        for key in ("backbone", "preprocessor"):
            if isinstance(config.get(key), dict):
                config[key] = keras.layers.deserialize(config[key])
        task = cls(**config)
        if quantized:
            task._quantize_head_layers(quantized)
        return task

    def _quantizable_head_layers(self):
        """The leaf layers of the task that are not the backbone's."""
        if self.backbone is None:
            return []
        in_backbone = {id(layer) for layer in self.backbone._flatten_layers()}
        return [
            layer
            for layer in quantization_utils.leaf_layers(self)
            if id(layer) not in in_backbone
        ]

    def _quantize_head_layers(self, policies):
        """Quantizes the head layers named by path in `policies` (path ->
        policy name, as `get_config` records them) after the task is
        built: the same steps, hence the same variables in the same order,
        as the `quantize` call of the saved task."""
        head = {layer.path: layer for layer in self._quantizable_head_layers()}
        missing = sorted(set(policies) - set(head))
        if missing:
            raise ValueError(
                f"The saved `{type(self).__name__}` config lists quantized "
                f"head layers {missing}, which this task does not have "
                f"(its head layers: {sorted(head)}). The config was saved "
                "from a task with another architecture; re-save it."
            )
        modes = {keras.dtype_policies.get(name).quantization_mode for name in (
            policies.values()
        )}
        ids = {id(head[path]) for path in policies}
        for mode in sorted(modes):
            quantization_utils.quantize_model(
                self, mode, filters=lambda layer: id(layer) in ids
            )

    def quantize(self, mode=None, config=None, filters=None, **kwargs):
        """Quantizes the task's weights, backbone and head, to int8.

        The backbone's layers are quantized as `Backbone.quantize`
        describes; the head's `Dense` layers (a classifier's `pooled_dense`
        and `logits`, a masked LM head's intermediate dense) too. A head
        tied to the token embedding (masked LM, GPT-2, BART) projects with
        the embedding's int8 table. `predict`, `generate` and
        `save_to_preset` / `from_preset` keep working.

        All arguments and layers are checked before any layer changes:
        after an error the task is as it was.

        Args:
            mode: str. `"int8"`, the only mode supported.
            config: must be `None`: the default int8 scheme is used.
            filters: optional. A regex string or list of them matched
                against layer names, or a callable `layer -> bool`: only
                the matching layers are quantized (e.g. the head of a task
                built on an already quantized backbone). Defaults to
                `None`, every quantizable layer.
            **kwargs: passed to `keras.Model.quantize`.

        Returns:
            None.

        Raises:
            ValueError: `mode` is not `"int8"`; `config` is given;
                `filters` selects no layer; a selected layer is already
                quantized (quantizing twice); a layer computes in float16.

        Examples:
        >>> classifier = keras_nlp_clone.models.BertClassifier.from_preset(
        ...     "all_minilm_l6_v2_en", num_classes=2)  # doctest: +SKIP
        >>> classifier.quantize("int8")  # doctest: +SKIP
        >>> classifier.predict(["What a film!"])  # doctest: +SKIP
        """
        quantization_utils.quantize_model(
            self, mode, config=config, filters=filters, **kwargs
        )

    @classproperty
    def presets(cls):
        """Dict of built-in preset ids usable with this class's
        `from_preset`, id -> metadata."""
        return presets_for_class(cls)

    @classmethod
    def from_preset(cls, preset, load_weights=True, **kwargs):
        """Instantiates a task from a preset.

        From a backbone preset, builds a new task head (e.g. pass
        `num_classes` for a classifier) on the pretrained backbone with the
        preset's preprocessor. From a task preset saved with
        `save_to_preset`, restores the whole task including head weights.

        Args:
            preset: str. A built-in preset id, a local preset or Hugging Face
                directory, `hf://owner/name` or `kaggle://...`.
            load_weights: bool. Load pretrained weights. Defaults to `True`.
            **kwargs: task constructor arguments (`num_classes`,
                `preprocessor`, `activation`, ...).

        Returns:
            A task; called on a base class such as `TextClassifier`, the
            family's subclass.

        Raises:
            keras_nlp_clone.presets.errors.PresetError: unknown id,
                damaged files or a preset of another family.
        """
        loader = get_preset_loader(preset)
        return loader.load_task(cls, load_weights, **kwargs)

    @saves_preset
    def save_to_preset(self, preset_dir, max_shard_size=10, format="keras_nlp_clone"):
        """Saves backbone, preprocessor, task config and head weights.

        Args:
            preset_dir: str. Directory to write; created if needed.
            max_shard_size: int. Accepted for API compatibility.
            format: str. `"keras_nlp_clone"` (this library's layout) or
                `"keras_hub"` (KerasHub's: `keras_hub>` class names and
                Keras-layout weights, loadable by `keras_hub` 0.32's
                `from_preset` and by ours). Defaults to `"keras_nlp_clone"`.
        """
        if format != "keras_nlp_clone":
            from keras_nlp_clone.presets import keras_hub_format

            keras_hub_format.check_format(format)
            return keras_hub_format.save_keras_hub_preset(
                self, preset_dir, kind="task"
            )
        self.backbone.save_to_preset(preset_dir)
        if self.preprocessor is not None:
            self.preprocessor.save_to_preset(preset_dir)
        save_serialized_object(self, preset_dir, config_file=TASK_CONFIG_FILE)
        atomic_save(
            os.path.join(preset_dir, TASK_WEIGHTS_FILE),
            self.save_task_weights,
        )

    def export_to_transformers(self, path):
        """Exports the task as a Hugging Face `transformers` model with its
        head, plus its tokenizer, in one directory.

        Writes `config.json` (the Hugging Face head class in
        `architectures`, e.g. `["BertForSequenceClassification"]`) and
        `model.safetensors` with the backbone and head weights; when the
        task has a preprocessor, its tokenizer's files (vocabulary,
        `tokenizer_config.json`, `special_tokens_map.json`) go to the same
        directory, as KerasHub does, so `AutoModelFor...` and
        `AutoTokenizer` both load from `path`. A `BertTextEmbedder` gives a
        sentence-transformers directory. The files go to a temporary
        directory renamed to `path` at the end.

        Args:
            path: str. The directory to create; it must not exist or be an
                empty directory.

        Raises:
            ValueError: the task (or its tokenizer) has no exporter (the
                message lists the supported classes), `path` is a file or a
                non-empty directory, or the head has no exact Hugging Face
                counterpart (e.g. a classifier head of another width).

        Examples:
        >>> classifier = keras_nlp_clone.models.BertClassifier.from_preset(
        ...     "all_minilm_l6_v2_en", num_classes=2)
        >>> classifier.export_to_transformers("/tmp/minilm_classifier")
        >>> import transformers
        >>> model = transformers.AutoModelForSequenceClassification \\
        ...     .from_pretrained("/tmp/minilm_classifier")
        >>> tokenizer = transformers.AutoTokenizer.from_pretrained(
        ...     "/tmp/minilm_classifier")
        """
        from keras_nlp_clone.presets import hf_export

        hf_export.export_to_transformers(self, path)

    def _head_layers(self):
        return [
            layer
            for layer in self.layers
            if layer is not self.backbone and layer.weights
        ]

    def save_task_weights(self, filepath):
        """Saves the weights of the task's own layers (not the backbone's)
        to an HDF5 file `filepath` (ending in `.weights.h5`)."""
        import h5py

        with h5py.File(filepath, "w") as f:
            for layer in self._head_layers():
                group = f.create_group(layer.name)
                for i, weight in enumerate(layer.weights):
                    group.create_dataset(
                        str(i), data=keras.ops.convert_to_numpy(weight)
                    )

    def load_task_weights(self, filepath):
        """Loads weights saved by `save_task_weights` into the head layers.

        Raises:
            keras_nlp_clone.presets.errors.PresetError: the file is
                damaged or does not match this task's head.
        """
        import h5py

        from keras_nlp_clone.presets import keras_hub_format

        if keras_hub_format.is_keras_layout(filepath):  # KerasHub's file
            return keras_hub_format.load_task_weights(self, filepath)
        try:
            with h5py.File(filepath, "r") as f:
                for layer in self._head_layers():
                    group = f[layer.name]
                    for i, weight in enumerate(layer.weights):
                        value = group[str(i)][()]
                        if tuple(value.shape) != tuple(weight.shape):
                            raise ValueError(
                                f"`{layer.name}` weight {i} has shape "
                                f"{tuple(weight.shape)}, file has "
                                f"{tuple(value.shape)}"
                            )
                        weight.assign(value)
        except (OSError, KeyError, ValueError) as e:
            raise PresetError(
                f"Could not load task weights from `{filepath}`: {e}. The "
                "file is damaged or was saved from a task with another "
                "config."
            ) from e
