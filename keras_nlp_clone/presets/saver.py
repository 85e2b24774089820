"""Writing preset files: atomic writes, configs and metadata.

Every `save_to_preset` is one transaction (`saves_preset`,
`preset_transaction`): the files are written into a staging directory next
to the preset, their sizes and SHA-256 are recorded in `metadata.json`, and
the staging directory is then moved into place. Single files written outside
a preset (vocabularies, LoRA weights) go through `atomic_write_text` /
`atomic_save`: a temporary file renamed over the target.
"""

import contextlib
import datetime
import functools
import json
import os
import shutil
import tempfile
import threading
import uuid

from keras_nlp_clone.presets.files import METADATA_FILE
from keras_nlp_clone.presets.integrity import FILES_KEY
from keras_nlp_clone.presets.integrity import file_record
from keras_nlp_clone.presets.integrity import files_under


def atomic_write_text(path, text):
    """Writes `text` to `path` through a temporary file and `os.replace`,
    so that a crash never leaves a half-written file behind."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp_")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def atomic_save(path, save_fn):
    """Calls `save_fn(tmp_path)` then moves the result to `path`.

    `tmp_path` keeps `path`'s file name suffix (Keras checks it).
    """
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    base = os.path.basename(path)
    tmp = os.path.join(directory, f".tmp_{os.getpid()}_{base}")
    try:
        save_fn(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def save_serialized_object(obj, preset_dir, config_file):
    """Writes `keras.saving.serialize_keras_object(obj)` as JSON."""
    import keras

    config = keras.saving.serialize_keras_object(obj)
    atomic_write_text(
        os.path.join(preset_dir, config_file), json.dumps(config, indent=4)
    )


def _version_info():
    import keras

    import keras_nlp_clone

    return {
        "keras_version": keras.version(),
        "keras_nlp_clone_version": keras_nlp_clone.__version__,
        "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
    }


def save_metadata(layer, preset_dir):
    """Writes `metadata.json`: versions, parameter count and date.

    Inside a `preset_transaction` the file records of the other files are
    added when the transaction commits.

    Args:
        layer: a built Keras layer or model (its `count_params()` is saved).
        preset_dir: str. The (staging) directory.
    """
    metadata = dict(_version_info(), parameter_count=int(layer.count_params()))
    atomic_write_text(
        os.path.join(preset_dir, METADATA_FILE), json.dumps(metadata, indent=4)
    )


# === Whole-preset transactions ===

_ACTIVE = threading.local()


def _active_staging_dirs():
    if not hasattr(_ACTIVE, "staging"):
        _ACTIVE.staging = {}  # staging dir -> target dir, innermost last
    return _ACTIVE.staging


@contextlib.contextmanager
def preset_transaction(preset_dir):
    """Stages a whole `save_to_preset` in a temporary directory, then moves
    it into `preset_dir`.

    The files are written into a new directory next to `preset_dir`
    (`.<name>.partial-...`). On success, `metadata.json` gets the size and
    SHA-256 of every staged file (merged with the record of files already in
    `preset_dir`), and then:

    - when `preset_dir` does not exist (or is an empty directory), the staging
      directory is renamed to it: other processes see no preset or the whole
      preset, never part of it;
    - when `preset_dir` already holds files (a tokenizer saved into a
      backbone's preset, a task re-saved), each staged file replaces its
      namesake with `os.replace`, `metadata.json` last. Every file under its
      final name is complete (old or new); a crash in the middle of the moves
      can leave old and new files side by side, which loading detects since
      their hashes no longer match `metadata.json`.

    On an error (or `KeyboardInterrupt`) the staging directory is deleted and
    `preset_dir` is untouched. A save nested inside another (`Task` saving
    its backbone and preprocessor) writes into the outer staging directory
    and commits with it. Atomicity is against crashes and errors of this
    process: files are not `fsync`ed, so a power loss may lose the last save.

    Args:
        preset_dir: str or path-like. The preset directory to write.

    Yields:
        str, the directory to write the files into.

    Example:
    >>> with preset_transaction("/tmp/my_preset") as staging:  # doctest: +SKIP
    ...     backbone_files_written_into(staging)
    """
    preset_dir = os.fspath(preset_dir)
    target = os.path.abspath(preset_dir)
    active = _active_staging_dirs()
    if target in active:  # a nested save into the outer staging directory
        yield target
        return
    for staging, outer_target in active.items():
        if outer_target == target:  # a nested save naming the final directory
            yield staging
            return
    if os.path.exists(target) and not os.path.isdir(target):
        raise FileExistsError(
            f"Cannot save a preset to `{preset_dir}`: it is a file. Pass a "
            "directory path."
        )
    parent = os.path.dirname(target)
    os.makedirs(parent, exist_ok=True)
    # `os.mkdir` (not `tempfile.mkdtemp`, which makes it private) so that the
    # preset gets the permissions of any new directory.
    staging = os.path.join(
        parent, f".{os.path.basename(target)}.partial-{uuid.uuid4().hex[:12]}"
    )
    os.mkdir(staging)
    active[staging] = target
    try:
        yield staging
        _commit(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        active.pop(staging, None)


def saves_preset(method):
    """Makes a `save_to_preset(self, preset_dir, ...)` method one
    `preset_transaction`: the method writes into the staging directory,
    which is committed to `preset_dir` when it returns.

    Args:
        method: the undecorated `save_to_preset` method; its first argument
            after `self` is the preset directory.

    Returns:
        The wrapped method (same signature).

    Example:
    >>> class Saveable:  # doctest: +SKIP
    ...     @saves_preset
    ...     def save_to_preset(self, preset_dir):
    ...         save_serialized_object(self, preset_dir, "config.json")
    """

    @functools.wraps(method)
    def save_to_preset(self, preset_dir, *args, **kwargs):
        with preset_transaction(preset_dir) as staging:
            return method(self, staging, *args, **kwargs)

    return save_to_preset


def _read_metadata(path):
    try:
        with open(path, encoding="utf-8") as f:
            metadata = json.load(f)
    except (OSError, ValueError):
        return {}
    return metadata if isinstance(metadata, dict) else {}


def _commit(staging, target):
    """Records the staged files' hashes in `metadata.json`, then moves the
    staged files into `target` (see `preset_transaction`)."""
    staged = [p for p in files_under(staging) if p != METADATA_FILE]
    records = {p: file_record(os.path.join(staging, *p.split("/"))) for p in staged}
    new = _read_metadata(os.path.join(staging, METADATA_FILE))
    existing = os.path.isdir(target) and bool(os.listdir(target))
    metadata = _read_metadata(os.path.join(target, METADATA_FILE)) if existing else {}
    files = dict(metadata.get(FILES_KEY) or {}) if existing else {}
    metadata.update({k: v for k, v in new.items() if k != FILES_KEY})
    metadata.update(_version_info())
    files.update(records)
    metadata[FILES_KEY] = dict(sorted(files.items()))
    with open(os.path.join(staging, METADATA_FILE), "w", encoding="utf-8") as f:
        f.write(json.dumps(metadata, indent=4))
    if not existing:
        try:
            os.rename(staging, target)  # replaces an empty directory (POSIX)
            return
        except OSError:
            pass  # e.g. an empty directory on Windows: move file by file
    for relpath in staged + [METADATA_FILE]:
        destination = os.path.join(target, *relpath.split("/"))
        os.makedirs(os.path.dirname(destination), exist_ok=True)
        os.replace(os.path.join(staging, *relpath.split("/")), destination)
    shutil.rmtree(staging, ignore_errors=True)
