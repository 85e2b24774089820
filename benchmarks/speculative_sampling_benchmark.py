"""Greedy generation with and without a draft model (speculative decoding).

Claim checked: `SpeculativeSampler` returns exactly the target's greedy ids,
and with a draft that agrees with the target often enough it produces more
tokens per second than plain greedy decoding of the target.

The pair: random weights give almost no agreement between two models, so
the pair is built to make acceptance meaningful, and says so. The target is
a GPT-2 of `--layers` blocks (hidden `--hidden`, 8 heads, intermediate
`4 * hidden`, vocabulary `--vocab`); its blocks after the first have their
attention and feed-forward output projections multiplied by
`--residual_scale` (default 0.1), so they add small corrections to the
residual stream, as the later layers of a trained model often do. The draft
is a one-block GPT-2 holding the target's token and position embeddings,
first block and final layer norm (a "truncated target", the cheapest draft
that shares the target's vocabulary and head). Both have random weights
otherwise (token embeddings times 2 and position embeddings times 10, so
the greedy continuation varies instead of repeating a token).

For each `K` in `--ks` the target is compiled with
`SpeculativeSampler(K)` and `draft_model=draft`; the baseline is
`sampler="greedy"`. Each row generates from a `--prompt`-token prompt to
`--length` tokens, batch 1, `stop_token_ids=None`. "first s" includes
tracing and compilation, "steady s" is the median of `--repeats` later calls
and "tok/s" the new tokens divided by it. "ids equal" compares the ids with
the greedy baseline.

"acceptance" is the per-token agreement rate `alpha`: the fraction of
generated positions where the draft's most probable token, given the
target's greedy prefix, is the target's token (one full forward pass of each
model over the generated sequence). "tok/pass" is the mean number of tokens
written per target pass, counted exactly for batch 1 from those agreements
(an iteration accepts the run of agreeing positions, at most `K`, then takes
one target token).

Usage:
    python benchmarks/speculative_sampling_benchmark.py [--backend jax]
        [--ks 2 4 8] [--layers 8] [--hidden 384] [--vocab 8192]
        [--residual_scale 0.1] [--prompt 16] [--length 144] [--repeats 3]
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_utils

BACKEND = bench_utils.set_backend()

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_nlp_clone import samplers  # noqa: E402
from keras_nlp_clone.models import GPT2Backbone  # noqa: E402
from keras_nlp_clone.models import GPT2CausalLM  # noqa: E402


def build(args, num_layers, seed):
    keras.utils.set_random_seed(seed)
    backbone = GPT2Backbone(
        vocabulary_size=args.vocab,
        num_layers=num_layers,
        num_heads=8,
        hidden_dim=args.hidden,
        intermediate_dim=4 * args.hidden,
        max_sequence_length=args.length,
    )
    for variable in backbone.token_embedding.weights:
        variable.assign(variable * 2.0)
    for variable in backbone.position_embedding.weights:
        variable.assign(variable * 10.0)
    return GPT2CausalLM(backbone)


def make_pair(args):
    target = build(args, args.layers, seed=1)
    for layer in target.backbone.transformer_layers[1:]:
        for dense in (
            layer._self_attention_layer._output_dense,
            layer._feedforward_output_dense,
        ):
            for variable in dense.weights:
                variable.assign(variable * args.residual_scale)
    draft = build(args, 1, seed=2)
    source, dest = target.backbone, draft.backbone
    for a, b in [
        (source.token_embedding, dest.token_embedding),
        (source.position_embedding, dest.position_embedding),
        (source.transformer_layers[0], dest.transformer_layers[0]),
        (source.layer_norm, dest.layer_norm),
    ]:
        for x, y in zip(a.weights, b.weights):
            y.assign(x)
    return target, draft


def timed(causal_lm, inputs, repeats):
    start = time.perf_counter()
    out = causal_lm.generate(inputs, stop_token_ids=None)
    first = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = causal_lm.generate(inputs, stop_token_ids=None)
        times.append(time.perf_counter() - start)
    return out["token_ids"], first, bench_utils.median(times)


def agreement(target, draft, token_ids, prompt_length):
    """Per generated position: does the draft's argmax (given the target's
    prefix) equal the target's token?"""
    inputs = {
        "token_ids": token_ids,
        "padding_mask": np.ones_like(token_ids, bool),
    }
    logits = keras.ops.convert_to_numpy(draft(inputs))
    predicted = logits[0, prompt_length - 1 : -1].argmax(-1)
    return predicted == token_ids[0, prompt_length:]


def tokens_per_pass(agrees, k):
    position, passes = 0, 0
    while position < len(agrees):
        run = 0
        while run < k and position + run < len(agrees) and agrees[position + run]:
            run += 1
        position += run + 1
        passes += 1
    return len(agrees) / passes


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", default=BACKEND)
    parser.add_argument("--ks", type=int, nargs="+", default=[2, 4, 8])
    parser.add_argument("--layers", type=int, default=8)
    parser.add_argument("--hidden", type=int, default=384)
    parser.add_argument("--vocab", type=int, default=8192)
    parser.add_argument("--residual_scale", type=float, default=0.1)
    parser.add_argument("--prompt", type=int, default=16)
    parser.add_argument("--length", type=int, default=144)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    target, draft = make_pair(args)
    rng = np.random.default_rng(0)
    token_ids = np.zeros((1, args.length), "int32")
    token_ids[0, : args.prompt] = rng.integers(0, args.vocab, args.prompt)
    padding_mask = np.zeros((1, args.length), bool)
    padding_mask[0, : args.prompt] = True
    inputs = {"token_ids": token_ids, "padding_mask": padding_mask}
    new_tokens = args.length - args.prompt

    target.compile(sampler="greedy")
    reference, first, steady = timed(target, inputs, args.repeats)
    agrees = agreement(target, draft, reference, args.prompt)
    draft.compile(sampler="greedy")
    _, draft_first, draft_steady = timed(draft, inputs, args.repeats)
    rows = [
        ["target greedy", "-", f"{first:.2f}", f"{steady:.3f}",
         f"{new_tokens / steady:.0f}", "-", "1.00", "-", "yes"],
        ["draft greedy (alone)", "-", f"{draft_first:.2f}",
         f"{draft_steady:.3f}", f"{new_tokens / draft_steady:.0f}", "-",
         "-", "-", "-"],
    ]
    for k in args.ks:
        target.compile(
            sampler=samplers.SpeculativeSampler(k), draft_model=draft
        )
        ids, first, steady_k = timed(target, inputs, args.repeats)
        rows.append(
            [f"speculative K={k}", k, f"{first:.2f}", f"{steady_k:.3f}",
             f"{new_tokens / steady_k:.0f}", f"{steady / steady_k:.2f}x",
             f"{tokens_per_pass(agrees, k):.2f}", f"{agrees.mean():.3f}",
             "yes" if np.array_equal(ids, reference) else "NO"]
        )
    bench_utils.print_header(
        "Speculative decoding: greedy generate with and without a draft",
        backend=args.backend,
    )
    print(
        f"# target: GPT-2 {args.layers} blocks, hidden {args.hidden}, vocab "
        f"{args.vocab}, blocks 2+ output projections x{args.residual_scale}; "
        f"draft: its embeddings + first block + final norm; batch 1, "
        f"{args.prompt} -> {args.length} tokens ({new_tokens} new)"
    )
    bench_utils.print_table(
        ["run", "K", "first s", "steady s", "tok/s", "speedup", "tok/pass",
         "acceptance", "ids equal"],
        rows,
    )


if __name__ == "__main__":
    main()
