"""Time to build a small backbone with random weights, per backend.

Claim checked: building a bert_tiny-size backbone (2 layers, hidden 128) with
random weights takes under 1 s on every backend, including JAX, where Keras'
random initializers compile `jax.random` once per new weight shape. The
families' kernel initializers (`keras_nlp_clone.utils.host_initializers`)
draw with NumPy on JAX instead.

For each of three configs with new shapes (so nothing is cached from the
previous one), the script prints the wall time of `BertBackbone(...)` and of
`GPT2Backbone(...)`, and, for the same list of weight shapes, the time Keras'
`TruncatedNormal` and our `HostTruncatedNormal` take to draw them.

    python benchmarks/backbone_build_benchmark.py --backend jax
"""

import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_utils  # noqa: E402

BACKEND = bench_utils.set_backend(default="jax")
TARGET_S = 1.0

import keras  # noqa: E402

import keras_nlp_clone as keras_nlp  # noqa: E402
from keras_nlp_clone.utils.host_initializers import (  # noqa: E402
    HostTruncatedNormal,
)

CONFIGS = [
    dict(vocabulary_size=30522, num_layers=2, num_heads=2, hidden_dim=128,
         intermediate_dim=512, max_sequence_length=512),
    dict(vocabulary_size=30000, num_layers=2, num_heads=2, hidden_dim=96,
         intermediate_dim=384, max_sequence_length=256),
    dict(vocabulary_size=20000, num_layers=2, num_heads=4, hidden_dim=160,
         intermediate_dim=640, max_sequence_length=384),
]


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def draw_all(initializer_cls, shapes):
    for shape in shapes:
        keras.ops.convert_to_numpy(initializer_cls(stddev=0.02)(shape))


def main():
    bench_utils.print_header("Backbone build time (random weights)", BACKEND)
    rows = []
    worst = 0.0
    for i, config in enumerate(CONFIGS):
        bert_s, bert = timed(lambda: keras_nlp.models.BertBackbone(**config))
        gpt2_s, _ = timed(lambda: keras_nlp.models.GPT2Backbone(**config))
        shapes = [
            tuple(v.shape)
            for v in bert.weights
            if len(v.shape) >= 2 and math.prod(v.shape) > 0
        ]
        # Shift every shape so neither initializer has seen it before.
        keras_shapes = [(s[0] + 1,) + s[1:] for s in shapes]
        host_shapes = [(s[0] + 2,) + s[1:] for s in shapes]
        keras_s, _ = timed(
            lambda: draw_all(keras.initializers.TruncatedNormal, keras_shapes)
        )
        host_s, _ = timed(lambda: draw_all(HostTruncatedNormal, host_shapes))
        worst = max(worst, bert_s, gpt2_s)
        rows.append(
            [
                f"{config['hidden_dim']}/{config['num_heads']}/"
                f"{config['vocabulary_size']}",
                f"{bert_s:.2f}",
                f"{gpt2_s:.2f}",
                str(len(shapes)),
                f"{keras_s:.2f}",
                f"{host_s:.2f}",
            ]
        )
    bench_utils.print_table(
        [
            "config (hidden/heads/vocab)",
            "BertBackbone s",
            "GPT2Backbone s",
            "kernel shapes",
            "keras TruncatedNormal s",
            "HostTruncatedNormal s",
        ],
        rows,
    )
    met = "met" if worst < TARGET_S else "NOT met"
    print(f"\nTarget: every build < {TARGET_S} s: {met} (worst {worst:.2f} s).")


if __name__ == "__main__":
    main()
