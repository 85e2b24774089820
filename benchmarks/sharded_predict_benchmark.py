"""`predict` of a sharded backbone on eight virtual CPU devices (JAX).

Claim checked: `BertBackbone.get_layout_map` with
`keras.distribution.ModelParallel` (or `DataParallel`) runs `predict`
unchanged on meshes (8, 1), (2, 4) and (1, 8), with the same outputs as on
one device. The model is the real all-MiniLM-L6-v2 (`from_preset`, 12 heads,
so the (1, 8) mesh uses a bert_small-size random model with 8 heads instead)
on real IMDB reviews.

The eight devices are virtual: XLA splits one CPU into eight
(`--xla_force_host_platform_device_count=8`), which all share the same two
cores. Sharding there adds communication and per-device dispatch without
adding compute, so the times say that it runs and what the overhead is, not
how a real multi-accelerator mesh scales.

    python benchmarks/sharded_predict_benchmark.py
    python benchmarks/sharded_predict_benchmark.py --num_examples 64
"""

import argparse
import os
import sys
import time

# Before JAX loads: eight virtual CPU devices.
os.environ["XLA_FLAGS"] = (
    os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8"
).strip()
os.environ["KERAS_BACKEND"] = "jax"

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_utils  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "examples"))

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_nlp_clone as keras_nlp  # noqa: E402
import movie_reviews_data  # noqa: E402

PRESET = "all_minilm_l6_v2_en"
BERT_SMALL = dict(
    vocabulary_size=30522,
    num_layers=4,
    num_heads=8,
    hidden_dim=512,
    intermediate_dim=2048,
)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--num_examples", type=int, default=128)
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--sequence_length", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    return parser.parse_args()


def distribution_for(name, cls):
    if name == "one device":
        return None
    if name == "DataParallel (8)":
        return keras.distribution.DataParallel()
    shape = tuple(int(n) for n in name.split("(")[1].rstrip(")").split(","))
    mesh = keras.distribution.DeviceMesh(
        shape, ("batch", "model"), keras.distribution.list_devices()
    )
    return keras.distribution.ModelParallel(
        layout_map=cls.get_layout_map(mesh), batch_dim_name="batch"
    )


def measure(make_backbone, features, args, name):
    cls = keras_nlp.models.BertBackbone
    keras.distribution.set_distribution(distribution_for(name, cls))
    try:
        backbone = make_backbone()
        start = time.perf_counter()
        outputs = backbone.predict(features, batch_size=args.batch_size, verbose=0)
        first = time.perf_counter() - start
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            backbone.predict(features, batch_size=args.batch_size, verbose=0)
            times.append(time.perf_counter() - start)
        sharded = sum(
            "model" in tuple(getattr(v.value.sharding, "spec", ()))
            for v in backbone.weights
        )
    finally:
        keras.distribution.set_distribution(None)
    return outputs["sequence_output"], first, bench_utils.median(times), sharded


def main():
    args = parse_args()
    bench_utils.print_header(
        "Sharded predict on 8 virtual CPU devices (JAX)", backend="jax"
    )
    print(f"devices: {len(keras.distribution.list_devices())}")
    texts, _ = movie_reviews_data.load_imdb("test")
    texts = texts[: args.num_examples]
    preprocessor = keras_nlp.models.BertPreprocessor.from_preset(
        PRESET, sequence_length=args.sequence_length
    )
    features = {k: np.asarray(v) for k, v in preprocessor(texts).items()}

    small_weights = None

    def small():
        nonlocal small_weights
        backbone = keras_nlp.models.BertBackbone(**BERT_SMALL)
        if small_weights is None:
            small_weights = backbone.get_weights()
        else:
            backbone.set_weights(small_weights)
        return backbone

    rows = []
    for model_name, make, meshes in (
        (
            "all-MiniLM-L6-v2",
            lambda: keras_nlp.models.BertBackbone.from_preset(PRESET),
            ["one device", "DataParallel (8)", "ModelParallel (8,1)", "ModelParallel (2,4)"],
        ),
        (
            "bert_small (random)",
            small,
            ["one device", "ModelParallel (2,4)", "ModelParallel (1,8)"],
        ),
    ):
        reference = None
        for mesh in meshes:
            out, first, steady, sharded = measure(make, features, args, mesh)
            out = np.asarray(out)
            if reference is None:
                reference = out
            diff = float(np.abs(out - reference).max())
            rows.append(
                [
                    model_name,
                    mesh,
                    sharded,
                    f"{first:.2f}",
                    f"{steady:.2f}",
                    f"{args.num_examples / steady:.1f}",
                    f"{diff:.1e}",
                ]
            )
    bench_utils.print_table(
        [
            "model",
            "distribution",
            "sharded variables",
            "first predict s",
            "predict s (median)",
            "examples/s",
            "max |diff| vs one device",
        ],
        rows,
    )
    worst = max(float(r[-1]) for r in rows)
    print(f"outputs equal to one device within 1e-5: {'yes' if worst <= 1e-5 else 'NO'}")
    print(
        "Note: the 8 devices are virtual and share 2 CPU cores; times show "
        "the sharding overhead, not multi-device scaling."
    )


if __name__ == "__main__":
    main()
