"""Toy `next` functions and NumPy references for the sampler tests.

The "models" are pure `keras.ops` functions over fixed tables, so they can be
traced inside `jax.jit` and `tf.function(jit_compile=True)`:

- `BigramModel`: the logits of position `index` are a row of a
  `(vocab, vocab)` table picked by the token at `index - 1`; the hidden state
  returned is an embedding of that token.
- `HistoryModel`: the logits also depend on the sum of all the tokens before,
  read from a cache that stores the tokens fed so far; a sampler that does
  not carry (or, for beams, reorder) the cache gets different logits.
"""

import itertools

import keras
import numpy as np
import pytest
from keras import ops


def to_numpy(x):
    return keras.tree.map_structure(ops.convert_to_numpy, x)


def log_softmax(x):
    x = np.asarray(x, "float64")
    x = x - x.max(axis=-1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


def softmax(x):
    return np.exp(log_softmax(x))


def random_table(vocab_size, seed, scale=2.0):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(vocab_size, vocab_size)) * scale).astype("float32")


def permutation_table(successors, vocab_size):
    """Logits under which token `t` is always followed by `successors[t]`."""
    table = np.zeros((vocab_size, vocab_size), "float32")
    table[np.arange(vocab_size), successors] = 10.0
    return table


class BigramModel:
    def __init__(self, table, embeddings=None):
        self.table = np.asarray(table, "float32")
        vocab_size = self.table.shape[0]
        if embeddings is None:
            embeddings = np.eye(vocab_size, dtype="float32")
        self.embeddings = np.asarray(embeddings, "float32")

    def next(self, prompt, cache, index):
        previous = ops.take(prompt, index - 1, axis=1)
        logits = ops.take(self.table, previous, axis=0)
        hidden = ops.take(self.embeddings, previous, axis=0)
        return logits, hidden, cache

    def hidden_states(self, prompt):
        return self.embeddings[np.asarray(prompt)]

    def logits(self, prefix):
        return self.table[prefix[-1]]


class HistoryModel(BigramModel):
    """Logits `table[previous] + extra[sum(prefix) % num_buckets]`, where
    the prefix is read from the cache (`{"tokens": (batch, max_length)}`, the
    tokens fed so far, and `"steps"`, a count of calls)."""

    def __init__(self, table, num_buckets=3, seed=0):
        super().__init__(table)
        rng = np.random.default_rng(seed + 1000)
        vocab_size = self.table.shape[0]
        self.extra = (rng.normal(size=(num_buckets, vocab_size)) * 2.0).astype(
            "float32"
        )

    def initial_cache(self, prompt, index):
        prompt = np.asarray(prompt, "int32")
        tokens = np.where(np.arange(prompt.shape[1]) < index, prompt, 0)
        steps = np.zeros((prompt.shape[0],), "int32")
        return {"tokens": tokens.astype("int32"), "steps": steps}

    def next(self, prompt, cache, index):
        previous = ops.take(prompt, index - 1, axis=1)
        tokens = ops.slice_update(
            cache["tokens"],
            [0, index - 1],
            ops.cast(previous, cache["tokens"].dtype)[:, None],
        )
        total = ops.sum(tokens, axis=1) % self.extra.shape[0]
        logits = ops.take(self.table, ops.take(tokens, index - 1, axis=1), 0)
        logits = logits + ops.take(self.extra, total, axis=0)
        hidden = ops.take(self.embeddings, previous, axis=0)
        cache = {"tokens": tokens, "steps": cache["steps"] + 1}
        return logits, hidden, cache

    def logits(self, prefix):
        return (
            self.table[prefix[-1]] + self.extra[sum(prefix) % len(self.extra)]
        )


def brute_force(model, prefix, max_length, vocab_size, temperature=1.0):
    """Every continuation of `prefix` to `max_length`, with the summed
    log-probability of its new tokens, best first."""
    results = []
    for continuation in itertools.product(
        range(vocab_size), repeat=max_length - len(prefix)
    ):
        sequence = list(prefix)
        score = 0.0
        for token in continuation:
            log_probs = log_softmax(model.logits(sequence) / temperature)
            score += log_probs[token]
            sequence.append(token)
        results.append((score, sequence))
    results.sort(key=lambda r: -r[0])
    return results


def reference_greedy(model, prefix, max_length):
    sequence = list(prefix)
    while len(sequence) < max_length:
        sequence.append(int(np.argmax(model.logits(sequence))))
    return sequence


def reference_beam(model, prefix, max_length, num_beams):
    """Plain beam search (summed log-probabilities) for one sequence."""
    beams = [(0.0, list(prefix))]
    while len(beams[0][1]) < max_length:
        candidates = []
        for score, sequence in beams:
            log_probs = log_softmax(model.logits(sequence))
            for token, log_prob in enumerate(log_probs):
                candidates.append((score + log_prob, sequence + [token]))
        candidates.sort(key=lambda c: -c[0])
        beams = candidates[:num_beams]
    return beams


def reference_contrastive(model, prefix, max_length, k, alpha):
    """Contrastive search of Su et al. (2022) for one sequence, the hidden
    state of a position being the embedding of its token."""
    embeddings = model.embeddings.astype("float64")
    normalized = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    sequence = list(prefix)
    while len(sequence) < max_length:
        probs = softmax(model.logits(sequence))
        candidates = np.argsort(-probs)[:k]
        context = normalized[sequence]
        scores = [
            (1 - alpha) * probs[c] - alpha * np.max(context @ normalized[c])
            for c in candidates
        ]
        sequence.append(int(candidates[int(np.argmax(scores))]))
    return sequence


def compile_fn(fn):
    """`fn` compiled with XLA for the current backend (skips on torch)."""
    backend = keras.config.backend()
    if backend == "jax":
        import jax

        return jax.jit(fn)
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.function(fn, jit_compile=True)
    pytest.skip(
        "compiled sampling is tested on the jax and tensorflow backends"
    )


class ConstantModel:
    """The same next-token distribution at every step, whatever came
    before."""

    def __init__(self, probabilities):
        self.logits = np.log(np.asarray(probabilities, "float32"))

    def next(self, prompt, cache, index):
        batch_size = ops.shape(prompt)[0]
        logits = ops.tile(
            ops.convert_to_tensor(self.logits)[None], (batch_size, 1)
        )
        return logits, None, cache


def frequencies(tokens, vocab_size):
    tokens = np.asarray(tokens).reshape(-1)
    return np.bincount(tokens, minlength=vocab_size) / tokens.size
