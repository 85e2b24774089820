"""The Python core of `BytePairTokenizer`: word splitting, merges, caches.

Private to `byte_pair_tokenizer.py`. Merges run on integer ids: a symbol is
its vocabulary id (or an internal id past the vocabulary for a string the
vocabulary lacks), and one dict maps an adjacent pair `(id_a, id_b)` to
`rank << shift | id_ab`, so one lookup gives both the rank and the merged
symbol. Results are cached per word in a bounded dict shared by every
tokenizer built from the same vocabulary and merges (keyed by content).
"""

import collections
import heapq
import itertools
import re
import threading

import regex

# GPT-2's pre-tokenization pattern (openai/gpt-2 `src/encoder.py`), for the
# `regex` package: `\p{L}`/`\p{N}` classes and a lookahead that leaves the
# last space of a run of spaces to the word that follows.
GPT2_SPLIT_PATTERN = (
    r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+"""
    r"""|\s+(?!\S)|\s+"""
)
SPLIT_REGEX = regex.compile(GPT2_SPLIT_PATTERN)

# The same pattern restricted to ASCII text, for the standard `re` module
# (about 2.5x faster than `regex` here). On ASCII, `\p{L}` is `[A-Za-z]`,
# `\p{N}` is `[0-9]` and `regex`'s `\s` is `[\t\n\v\f\r ]` (`re`'s `\s`
# would also take `\x1c`-`\x1f`, so it is spelled out).
ASCII_SPLIT_PATTERN = (
    r"""'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\t-\r A-Za-z0-9]+"""
    r"""|[\t-\r ]+(?![^\t-\r ])|[\t-\r ]+"""
)
ASCII_SPLIT_REGEX = re.compile(ASCII_SPLIT_PATTERN)

_split_ascii = ASCII_SPLIT_REGEX.findall
_split_unicode = SPLIT_REGEX.findall


def split_words(text):
    """Splits a str into GPT-2 words (the `re` pattern on ASCII text)."""
    if text.isascii():
        return _split_ascii(text)
    return _split_unicode(text)


# Words of up to this many bytes are merged by `merge_short`, longer ones
# by `merge_long` (a heap: O(n log n), where `merge_short` is quadratic).
SHORT_WORD = 64

# Each vocabulary/merges pair keeps a word cache of at most this many
# words; when full it starts afresh.
CACHE_SIZE = 100_000
# Words longer than this many characters are encoded but not cached.
MAX_CACHED_WORD_LENGTH = 256
# At most this many vocabulary/merges pairs (with their word caches) are
# kept for reuse by new tokenizers; the least recently used goes first.
MAX_SHARED_CORES = 4

# A table value is `rank << _SHIFT | merged_id`.
_SHIFT = 40
_MASK = (1 << _SHIFT) - 1


def merge_short(ids, table_get, no_rank):
    """Applies merges to a list of symbol ids, GPT-2 style (in place).

    GPT-2 repeatedly takes the lowest-ranked adjacent pair and merges every
    occurrence of it, left to right, until no adjacent pair has a rank.

    Args:
        ids: list of int symbol ids (modified and returned).
        table_get: the `get` of a dict from `(id_a, id_b)` to
            `rank << shift | id_ab`.
        no_rank: an int above every table value.

    Returns:
        The list of merged symbol ids.
    """
    if len(ids) < 2:
        return ids
    ranks = list(
        map(table_get, itertools.pairwise(ids), itertools.repeat(no_rank))
    )
    while True:
        best = min(ranks)
        if best == no_rank:
            return ids
        i = ranks.index(best)
        if ranks.count(best) == 1:
            # The pair occurs once (the common case): merge it and look up
            # the two pairs it forms with its neighbours.
            merged = ids[i + 1] = best & _MASK
            del ids[i]
            del ranks[i]
            if not ranks:
                return ids
            if i:
                ranks[i - 1] = table_get((ids[i - 1], merged), no_rank)
            if i < len(ranks):
                ranks[i] = table_get((merged, ids[i + 1]), no_rank)
            continue
        # Several occurrences: merge them all, left to right, skipping
        # overlaps ("a a a" with "a a" gives "aa a"), as GPT-2 does.
        a, b = ids[i], ids[i + 1]
        merged = best & _MASK
        out = ids[:i]
        n = len(ids)
        j = i
        while j < n:
            if j + 1 < n and ids[j] == a and ids[j + 1] == b:
                out.append(merged)
                j += 2
            else:
                out.append(ids[j])
                j += 1
        ids = out
        if len(ids) < 2:
            return ids
        ranks = list(
            map(table_get, itertools.pairwise(ids), itertools.repeat(no_rank))
        )


def merge_long(ids, table_get, no_rank):
    """`merge_short` in O(n log n), for long words.

    A heap of `(value, position, id_a, id_b)` candidates over a linked list
    of symbols; every occurrence of the lowest rank is merged, left to
    right, before the pairs this creates are queued, exactly as GPT-2's
    loop does.
    """
    n = len(ids)
    if n < 2:
        return ids
    mask = _MASK
    tokens = list(ids)
    nxt = list(range(1, n + 1))
    nxt[-1] = -1
    prev = list(range(-1, n - 1))
    heap = [
        (value, i, tokens[i], tokens[i + 1])
        for i, value in enumerate(
            map(
                table_get,
                itertools.pairwise(tokens),
                itertools.repeat(no_rank),
            )
        )
        if value != no_rank
    ]
    if not heap:
        return tokens
    heapq.heapify(heap)
    while heap:
        value = heap[0][0]
        merged_id = value & mask
        merged = []
        while heap and heap[0][0] == value:
            _, i, a, b = heapq.heappop(heap)
            j = nxt[i] if tokens[i] is not None else -1
            if j < 0 or tokens[i] != a or tokens[j] != b:
                continue  # Stale: a symbol was merged away since.
            tokens[i] = merged_id
            tokens[j] = None
            nxt[i] = nxt[j]
            if nxt[j] >= 0:
                prev[nxt[j]] = i
            merged.append(i)
        for i in merged:
            if tokens[i] is None:
                continue
            p = prev[i]
            if p >= 0:
                v = table_get((tokens[p], tokens[i]), no_rank)
                if v != no_rank:
                    heapq.heappush(heap, (v, p, tokens[p], tokens[i]))
            q = nxt[i]
            if q >= 0:
                v = table_get((tokens[i], tokens[q]), no_rank)
                if v != no_rank:
                    heapq.heappush(heap, (v, i, tokens[i], tokens[q]))
    return [t for t in tokens if t is not None]


class MergeTable:
    """Merge rules on integer symbol ids.

    Symbols are vocabulary ids; a string the vocabulary lacks (a byte
    symbol, a piece or the result of a merge) gets an internal id at or
    past `limit` (one past the largest vocabulary id), so that merges need
    not be checked against the vocabulary up front: an internal id left in
    a word's result is reported then.

    Args:
        vocabulary: dict of str token -> int id (validated).
        merges: list of `(a, b)` str pairs, by rank (later duplicates win,
            as in GPT-2's `dict(zip(merges, range(len(merges))))`).
        byte_symbols: list of the 256 byte-level symbols (str), by byte.
    """

    def __init__(self, vocabulary, merges, byte_symbols):
        self.limit = max(vocabulary.values()) + 1
        if self.limit + 256 + 3 * len(merges) >= 1 << _SHIFT:
            raise ValueError(
                f"Token ids up to {self.limit - 1} are too large for a "
                "byte-pair tokenizer (ids must stay below 2**40)."
            )
        symbol_ids = dict(vocabulary)
        extra = []  # internal id - limit -> str
        get = symbol_ids.get

        def symbol_id(s):
            i = get(s)
            if i is None:
                i = symbol_ids[s] = self.limit + len(extra)
                extra.append(s)
            return i

        self.byte_ids = [symbol_id(s) for s in byte_symbols]
        firsts = [a for a, _ in merges]
        seconds = [b for _, b in merges]
        ids_a = list(map(get, firsts))
        ids_b = list(map(get, seconds))
        ids_ab = list(map(get, map(str.__add__, firsts, seconds)))
        if None in ids_a or None in ids_b or None in ids_ab:
            ids_a = list(map(symbol_id, firsts))
            ids_b = list(map(symbol_id, seconds))
            ids_ab = list(map(symbol_id, map(str.__add__, firsts, seconds)))
        self.table = dict(
            zip(
                zip(ids_a, ids_b),
                [rank << _SHIFT | i for rank, i in enumerate(ids_ab)],
            )
        )
        self.no_rank = (len(merges) + 1) << _SHIFT
        self.extra = extra

    def symbol(self, symbol_id, id_to_token):
        """The str of a symbol id (vocabulary or internal)."""
        if symbol_id >= self.limit:
            return self.extra[symbol_id - self.limit]
        return id_to_token[symbol_id]


class WordCache(dict):
    """A bounded dict from word to its tuple of ids (or token strings);
    a missing word is encoded by `encode_word` and stored (a `dict`
    subclass, so that hits cost one C-level lookup in `map`)."""

    def __init__(self, encode_word, max_size=CACHE_SIZE):
        super().__init__()
        self.encode_word = encode_word
        self.max_size = max_size

    def __missing__(self, word):
        result = self.encode_word(word)
        if len(word) <= MAX_CACHED_WORD_LENGTH:
            if len(self) >= self.max_size:
                self.clear()
            self[word] = result
        return result


_SHARED = collections.OrderedDict()
_SHARED_LOCK = threading.Lock()


def shared(key, build):
    """Returns the object stored under `key`, or `build()` stored there.

    At most `MAX_SHARED_CORES` objects are kept, least recently used
    evicted first.
    """
    with _SHARED_LOCK:
        value = _SHARED.get(key)
        if value is not None:
            _SHARED.move_to_end(key)
            return value
    value = build()
    with _SHARED_LOCK:
        value = _SHARED.setdefault(key, value)
        _SHARED.move_to_end(key)
        while len(_SHARED) > MAX_SHARED_CORES:
            _SHARED.popitem(last=False)
    return value


def clear_shared():
    """Forgets every shared vocabulary/merges core and its word cache."""
    with _SHARED_LOCK:
        _SHARED.clear()


def shared_size():
    """The number of shared cores kept."""
    return len(_SHARED)
