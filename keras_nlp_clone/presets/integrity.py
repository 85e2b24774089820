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

Verified-file cache: after a file's SHA-256 matched its record, its stat
signature (size, `st_mtime_ns`, `st_ctime_ns`, inode, device) and hash are
remembered in a small per-user JSON file (`verified_cache_path()`, written
atomically). Later loads skip re-hashing a file whose stat signature and
recorded SHA-256 are unchanged: any write to the file changes its mtime and
ctime, replacing it changes its inode, so a modified, truncated or swapped
file is hashed again and refused. A file whose mtime or ctime is less than
`RACY_WINDOW_S` seconds old when it is hashed is not remembered (a write in
the same timestamp tick could go unseen, as git's "racy clean" entries).
What it does not cover: a change that keeps size, mtime, ctime and inode
(setting the clock back and writing as root, raw writes to the block
device, silent media corruption, filesystems without ctime) and anyone who
can write the cache file itself (they can write the preset too). Set the
environment variable `KERAS_NLP_CLONE_VERIFIED_CACHE` to `off` to hash on
every load, or to a file path to move the cache.
"""

import hashlib
import json
import os
import tempfile
import threading
import time

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


VERIFIED_CACHE_ENV = "KERAS_NLP_CLONE_VERIFIED_CACHE"
VERIFIED_CACHE_FORMAT = "keras_nlp_clone.verified_files.v1"
# Files changed less than this long before hashing are not remembered.
RACY_WINDOW_S = 2.0
# The cache keeps the most recently verified files only.
MAX_VERIFIED_ENTRIES = 512


def verified_cache_path():
    """The per-user verified-file cache, or `None` when it is turned off.

    `$KERAS_NLP_CLONE_VERIFIED_CACHE` when set (`off`, `0` or an empty
    value turn the cache off), else
    `$XDG_CACHE_HOME/keras_nlp_clone/verified_files.json` (`~/.cache` when
    `XDG_CACHE_HOME` is unset).

    Returns:
        str or `None`.
    """
    value = os.environ.get(VERIFIED_CACHE_ENV)
    if value is not None:
        if value.strip().lower() in ("", "0", "off", "false", "no"):
            return None
        return os.path.expanduser(value)
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(
        os.path.expanduser("~"), ".cache"
    )
    return os.path.join(root, "keras_nlp_clone", "verified_files.json")


def stat_signature(path):
    """`[size, mtime_ns, ctime_ns, inode, device]` of a file (following
    links). Any write changes mtime and ctime; a replacement changes the
    inode."""
    st = os.stat(path)
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]


class VerifiedFiles:
    """The verified-file cache: real path -> stat signature and SHA-256 of
    a file whose hash matched its preset record (see the module docstring).

    Reads the cache file once; a missing, unreadable or damaged cache is an
    empty one (files are then hashed). Writes go through a temporary file
    and `os.replace`; failures to write are ignored (the cache only saves
    time). Concurrent writers may drop each other's entries, which only
    costs a re-hash.

    Args:
        path: str or `None` (no cache: `is_verified` is always `False` and
            `remember` does nothing). Defaults to `verified_cache_path()`.
    """

    def __init__(self, path=None):
        self.path = verified_cache_path() if path is None else path
        self._entries = None

    def _load(self):
        if self._entries is None:
            self._entries = {}
            if self.path is not None and os.path.isfile(self.path):
                try:
                    with open(self.path, encoding="utf-8") as f:
                        data = json.load(f)
                    if data.get("format") == VERIFIED_CACHE_FORMAT and isinstance(
                        data.get("files"), dict
                    ):
                        self._entries = data["files"]
                except (OSError, ValueError, AttributeError):
                    pass
        return self._entries

    def is_verified(self, path, sha256):
        """Whether `path` was verified with hash `sha256` and its stat
        signature has not changed since."""
        if self.path is None:
            return False
        entry = self._load().get(os.path.realpath(path))
        if not isinstance(entry, dict) or entry.get("sha256") != sha256:
            return False
        try:
            return entry.get("stat") == stat_signature(path)
        except OSError:
            return False

    def remember(self, path, signature, sha256):
        """Records that `path`, with stat `signature` taken before hashing,
        hashed to `sha256` (which matched its record). Nothing is recorded
        when the file changed while it was hashed or changed less than
        `RACY_WINDOW_S` seconds ago."""
        if self.path is None:
            return
        try:
            if stat_signature(path) != signature:
                return
        except OSError:
            return
        newest = max(signature[1], signature[2]) / 1e9
        if time.time() - newest < RACY_WINDOW_S:
            return
        entries = self._load()
        key = os.path.realpath(path)
        entries.pop(key, None)
        entries[key] = {"stat": signature, "sha256": sha256}
        while len(entries) > MAX_VERIFIED_ENTRIES:
            entries.pop(next(iter(entries)))
        try:
            directory = os.path.dirname(os.path.abspath(self.path))
            os.makedirs(directory, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp_verified_")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    json.dump({"format": VERIFIED_CACHE_FORMAT, "files": entries}, f)
                os.replace(tmp, self.path)
            except BaseException:
                if os.path.exists(tmp):
                    os.remove(tmp)
                raise
        except OSError:
            pass


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
        self.verified = VerifiedFiles()
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

    def _compare(self, relpath, digest, path=None, signature=None):
        if digest != self.records[relpath]["sha256"]:
            self._fail(relpath, "has other contents (its SHA-256 changed)")
        self._checked.add(relpath)
        if signature is not None:
            self.verified.remember(path, signature, digest)

    def _hash_needed(self, relpath, path):
        """`False` (and marks the file checked) when the verified-file cache
        vouches for it; else its stat signature, taken before hashing."""
        if self.verified.is_verified(path, self.records[relpath]["sha256"]):
            self._checked.add(relpath)
            return False
        try:
            return stat_signature(path)
        except OSError:
            return None

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
            signature = self._hash_needed(relpath, path)
            if signature is not False:
                self._compare(relpath, sha256_of_file(path), path, signature)

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
        signature = self._hash_needed(relpath, path)
        if signature is False:
            return
        result = {"path": path, "signature": signature}

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
        self._compare(
            relpath, result["digest"], result["path"], result["signature"]
        )

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
