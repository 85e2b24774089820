"""File hashes of a preset: recorded when it is saved, checked when it loads.

`save_to_preset` records, in `metadata.json` under `"files"`, the size and
SHA-256 of every file it wrote (`{"model.weights.h5": {"bytes": ...,
"sha256": "..."}}`, paths relative to the preset directory, `/`-separated).
Loading checks each file it is about to read against that record, once per
`from_preset` call, and stops with a `PresetError` naming the file when it is
missing, has another size (truncated or appended to) or other contents (a
flipped bit). Presets without the record (saved before it existed, by
KerasHub, or Hugging Face directories) load unchecked.

Cost: hashing streams the file in 1 MiB blocks (`hashlib.file_digest`); the
weights file is hashed in a background thread while the model is being
built, so `from_preset` waits only for what is left (see
`FileChecker.check_in_background`).
"""

import hashlib
import json
import os
import threading

from keras_nlp_clone.presets.errors import PresetError
from keras_nlp_clone.presets.files import METADATA_FILE

FILES_KEY = "files"


def sha256_of_file(path):
    """The SHA-256 of a file, read in blocks (never whole into memory).

    Args:
        path: str. The file.

    Returns:
        str, 64 lowercase hex digits.

    Example:
    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile(delete=False) as f:
    ...     _ = f.write(b"abc")
    >>> sha256_of_file(f.name)[:16]
    'ba7816bf8f01cfea'
    """
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def file_record(path):
    """The integrity record of one file: `{"bytes": int, "sha256": str}`."""
    return {"bytes": os.path.getsize(path), "sha256": sha256_of_file(path)}


def files_under(directory):
    """Every regular file below `directory`, as sorted `/`-separated paths
    relative to it."""
    found = []
    for root, _, names in os.walk(directory):
        for name in names:
            path = os.path.join(root, name)
            if os.path.isfile(path):
                found.append(os.path.relpath(path, directory).replace(os.sep, "/"))
    return sorted(found)


def read_file_records(preset_dir):
    """The `"files"` record of a preset's `metadata.json`.

    Returns:
        dict, relative path -> `{"bytes", "sha256"}`; empty when the preset
        has no `metadata.json` or it records no files.

    Raises:
        PresetError: `metadata.json` is not valid JSON, or its record is
            malformed.
    """
    path = os.path.join(preset_dir, METADATA_FILE)
    if not os.path.exists(path):
        return {}
    try:
        with open(path, encoding="utf-8") as f:
            metadata = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise PresetError(
            f"`{path}` is damaged: it is not valid JSON ({e}). Re-save the "
            "preset, or download it again."
        ) from e
    records = metadata.get(FILES_KEY, {}) if isinstance(metadata, dict) else {}
    if not isinstance(records, dict) or not all(
        isinstance(r, dict) and isinstance(r.get("sha256"), str) for r in records.values()
    ):
        raise PresetError(
            f"`{path}` is damaged: its `{FILES_KEY}` entry is not a map of "
            "file names to `{\"bytes\", \"sha256\"}`. Re-save the preset, or "
            "download it again."
        )
    return records


class FileChecker:
    """Checks the files of one preset directory against its recorded hashes,
    each file at most once.

    Args:
        preset_dir: str. The preset directory.

    Raises:
        PresetError: from the constructor when `metadata.json` is damaged;
            from `check` when a recorded file is missing or changed.

    Example:
    >>> checker = FileChecker(preset_dir)  # doctest: +SKIP
    >>> checker.check("config.json")  # doctest: +SKIP
    """

    def __init__(self, preset_dir):
        self.preset_dir = preset_dir
        self.records = read_file_records(preset_dir)
        self._checked = set()
        self._pending = {}

    def _fail(self, relpath, what):
        path = os.path.join(self.preset_dir, *relpath.split("/"))
        raise PresetError(
            f"`{path}` {what} since the preset was saved (`{METADATA_FILE}` "
            "records the size and SHA-256 of every file). The preset is "
            "damaged or was edited by hand: download it again or re-save it "
            "with `save_to_preset`. To load it anyway, delete the "
            f"`{FILES_KEY}` entry of `{METADATA_FILE}`."
        )

    def _check_size(self, relpath):
        """Checks existence and size; returns the path, or `None` when the
        file is not recorded."""
        record = self.records.get(relpath)
        if record is None:
            return None
        path = os.path.join(self.preset_dir, *relpath.split("/"))
        if not os.path.isfile(path):
            self._fail(relpath, "is missing")
        size = os.path.getsize(path)
        if "bytes" in record and size != record["bytes"]:
            self._fail(
                relpath,
                f"has {size} bytes instead of {record['bytes']} (truncated or "
                "overwritten)",
            )
        return path

    def _compare(self, relpath, digest):
        if digest != self.records[relpath]["sha256"]:
            self._fail(relpath, "has other contents (its SHA-256 changed)")
        self._checked.add(relpath)

    def check(self, relpath):
        """Checks one file (a `/`-separated path relative to the preset)
        against its record; files without a record pass.

        Raises:
            PresetError: the file is missing, has another size or other
                contents. The message names the file and the way out.
        """
        if relpath in self._checked:
            return
        if relpath in self._pending:
            self.wait(relpath)
            return
        path = self._check_size(relpath)
        if path is not None:
            self._compare(relpath, sha256_of_file(path))

    def check_in_background(self, relpath):
        """Starts hashing a (large) file in a thread; `wait` (or `check`)
        collects the result. Hashing releases the GIL, so it overlaps with
        building the model. Size and existence are checked at once.

        Raises:
            PresetError: the file is missing or has another size.
        """
        if relpath in self._checked or relpath in self._pending:
            return
        path = self._check_size(relpath)
        if path is None:
            return
        result = {}

        def run():
            try:
                result["digest"] = sha256_of_file(path)
            except OSError as e:  # reported by `wait`
                result["error"] = e

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        self._pending[relpath] = (thread, result)

    def wait(self, relpath):
        """Waits for a `check_in_background` hash and checks it.

        Raises:
            PresetError: the file has other contents.
        """
        thread, result = self._pending.pop(relpath)
        thread.join()
        if "error" in result:
            self._fail(relpath, f"could not be read ({result['error']})")
        self._compare(relpath, result["digest"])

    def check_tree(self, reldir):
        """Checks every recorded file below `reldir` (e.g. the tokenizer's
        assets).

        Raises:
            PresetError: one of them is missing or changed.
        """
        prefix = reldir.replace(os.sep, "/").rstrip("/") + "/"
        for relpath in sorted(self.records):
            if relpath.startswith(prefix):
                self.check(relpath)
