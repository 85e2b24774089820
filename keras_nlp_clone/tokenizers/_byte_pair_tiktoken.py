"""An optional fast path for `BytePairTokenizer`: `tiktoken`'s BPE core.

Private to `byte_pair_tokenizer.py`. `tiktoken` (OpenAI's Rust BPE, when it
is importable) runs the split and the merges of ASCII texts for merge tables
checked to give exactly GPT-2's ids there; everything else stays with the
Python core of `_byte_pair_core`.

Why only ASCII texts, and only checked merge tables: (1) the split pattern
runs on Rust's Unicode tables in `tiktoken` and on the `regex` package's in
the Python core; they disagree on recently assigned letters (U+11DDA is a
letter for `regex`, so `"\U00011dda醒"` is one word for us and two for
`tiktoken` and Hugging Face, and the ids differ). (2) `tiktoken` merges the
adjacent pair whose *concatenation* has the lowest rank and returns a whole
word that is a token as is, GPT-2 merges only pairs that are rules: with
GPT-2's merges 17 tokens, all partial UTF-8 sequences (e.g.
`b"\xe3\x83\xbc\xe3\x83"`), encode differently. On ASCII text neither
applies: every ASCII token of GPT-2's table encodes to itself both ways,
and so does each with a one-character context of its own class (the tests
repeat the first check and compare real text). Other merge tables are not
checked, so they do not take this path.
"""

import concurrent.futures
import gc
import hashlib
import itertools
import os
import threading

try:
    import tiktoken
except ImportError:  # The Python core runs alone.
    tiktoken = None

# Off by default: on the shared 2-core machine it saved no CPU time cold
# and cost more warm than the Python core's word cache (docs/benchmarks.md);
# its only gain is `tiktoken`'s threads on idle cores. Set to True to use it.
ENABLED = False

# SHA-256 (see `merges_digest`) of the merge tables for which ASCII text
# gets the same ids from `tiktoken` as from GPT-2's algorithm: GPT-2's
# `vocab.bpe` (also RoBERTa's and BART's `merges.txt`).
VERIFIED_MERGES = frozenset(
    {"04e3597d7996f292ca9b8b7285ca4d58a6ae171ac47d73fc7140ceb0c7a6bbc0"}
)

# Batches of fewer texts are encoded on the calling thread.
MIN_THREADED_BATCH = 16
NUM_THREADS = min(8, os.cpu_count() or 1)


def merges_digest(merges):
    """The SHA-256 hex digest of a list of `(a, b)` merge rules."""
    text = "\n".join(map(" ".join, merges))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def available(merges):
    """Whether the fast path may serve the ASCII texts of `merges`."""
    return (
        ENABLED
        and tiktoken is not None
        and merges_digest(merges) in VERIFIED_MERGES
    )


class TiktokenCore:
    """A `tiktoken.Encoding` built from a vocabulary and merges.

    Ranks are the 256 bytes, then the merges in order (the rank of a merge
    is that of the bytes of its result). A rank maps back to the
    vocabulary's id (or token string) through a list; when every rank is
    already its id (GPT-2's own files) no mapping runs.

    Args:
        vocabulary: dict of str token -> int id.
        id_to_token: dict of int id -> str token.
        merges: list of `(a, b)` str pairs, by rank.
        byte_symbols: list of the 256 byte-level symbols (str), by byte.
        token_to_bytes: callable, a token str -> the bytes it stands for.

    Raises:
        ValueError: when the table cannot be expressed exactly (two merges
            with the same result, a byte symbol or merge result missing
            from the vocabulary); the caller then keeps the Python core.
    """

    def __init__(
        self, vocabulary, id_to_token, merges, byte_symbols, token_to_bytes
    ):
        byte_ids = [vocabulary.get(s) for s in byte_symbols]
        results = list(map(str.__add__, *zip(*merges))) if merges else []
        result_ids = list(map(vocabulary.get, results))
        if None in byte_ids or None in result_ids:
            raise ValueError("A byte symbol or merge result is not a token.")
        if sorted(byte_ids) == list(range(256)):
            byte_ranks = byte_ids  # GPT-2: the bytes' ids are 0..255.
        else:
            byte_ranks = list(range(256))  # Any order: bytes never merge.
        ranks = {bytes([b]): r for b, r in enumerate(byte_ranks)}
        ranks.update(
            zip(
                _results_bytes(results, byte_symbols, token_to_bytes),
                range(256, 256 + len(merges)),
            )
        )
        if len(ranks) != 256 + len(merges):
            raise ValueError("Two merges give the same bytes.")
        rank_to_id = [0] * len(ranks)
        for r, token_id in zip(byte_ranks, byte_ids):
            rank_to_id[r] = token_id
        rank_to_id[256:] = result_ids
        self.rank_to_id = rank_to_id
        self.identity = rank_to_id == list(range(len(rank_to_id)))
        self._rank_to_token = None
        self._id_to_token = id_to_token
        from keras_nlp_clone.tokenizers._byte_pair_core import (
            GPT2_SPLIT_PATTERN,
        )

        self.encoding = tiktoken.Encoding(
            name="keras_nlp_clone_byte_pair",
            pat_str=GPT2_SPLIT_PATTERN,
            mergeable_ranks=ranks,
            special_tokens={},
        )

    def encode(self, texts, output_string=False):
        """Tokenizes a list of ASCII str into a list of lists of ids (or of
        token strings with `output_string=True`)."""
        rows = _encode_parallel(self.encoding._core_bpe.encode_ordinary, texts)
        if output_string:
            if self._rank_to_token is None:
                self._rank_to_token = [
                    self._id_to_token[i] for i in self.rank_to_id
                ]
            lookup = self._rank_to_token.__getitem__
        elif self.identity:
            return rows
        else:
            lookup = self.rank_to_id.__getitem__
        return [list(map(lookup, row)) for row in rows]


_POOL = None
_POOL_LOCK = threading.Lock()


def _pool():
    """A thread pool kept for the process (`tiktoken` releases the GIL
    while it encodes, so its calls run in parallel)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = concurrent.futures.ThreadPoolExecutor(
                NUM_THREADS, thread_name_prefix="keras_nlp_clone_bpe"
            )
        return _POOL


def _encode_parallel(encode, texts):
    """`list(map(encode, texts))`, in contiguous slices on the pool's
    threads when there are enough texts."""
    n = len(texts)
    if n < MIN_THREADED_BATCH:
        return list(map(encode, texts))
    # A few slices per thread, so that a slow one does not hold the rest.
    size = max(MIN_THREADED_BATCH // 2, -(-n // (4 * NUM_THREADS)))
    futures = [
        _pool().submit(lambda s: list(map(encode, s)), texts[i : i + size])
        for i in range(0, n, size)
    ]
    return list(itertools.chain.from_iterable(f.result() for f in futures))


def _results_bytes(results, byte_symbols, token_to_bytes):
    """The bytes of each str in `results` (byte-level tokens): one
    `str.translate` of them all to Latin-1, then slices."""
    table = {ord(s): b for b, s in enumerate(byte_symbols)}
    try:
        data = "".join(results).translate(table).encode("latin-1")
    except UnicodeEncodeError:  # A character outside the byte symbols.
        return list(map(token_to_bytes, results))
    ends = list(itertools.accumulate(map(len, results)))
    return list(map(data.__getitem__, map(slice, [0] + ends[:-1], ends)))


_LOCK = threading.Lock()


def build(shared, byte_symbols, token_to_bytes):
    """The `TiktokenCore` of a shared vocabulary, built once and kept on
    it (`shared.vocabulary`, `shared.id_to_token`, `shared.merges`), or
    `None` where the fast
    path does not apply."""
    if not ENABLED:
        return None
    with _LOCK:
        core = getattr(shared, "_tiktoken_core", False)
        if core is not False:
            return core
        core = None
        if available(shared.merges):
            # About 100,000 new objects, none in a cycle: the cyclic
            # garbage collector would only walk the process's heap (up to
            # 0.4 s more here).
            gc_was_enabled = gc.isenabled()
            gc.disable()
            try:
                core = TiktokenCore(
                    shared.vocabulary,
                    shared.id_to_token,
                    shared.merges,
                    byte_symbols,
                    token_to_bytes,
                )
            except ValueError:
                core = None
            finally:
                if gc_was_enabled:
                    gc.enable()
        shared._tiktoken_core = core
        return core
