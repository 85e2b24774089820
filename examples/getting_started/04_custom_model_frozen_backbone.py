"""Workflow 4: a custom model on a frozen pretrained backbone.

As in the guide: a `BertBackbone` from a preset with `trainable = False`,
two new trainable `TransformerEncoder` layers on its `sequence_output`, and
a `Dense` classifier on the hidden state at `backbone.cls_token_index`,
compiled with `jit_compile=True` and trained on `tf.data` batches that the
matching `BertPreprocessor` produced (mapped, cached, prefetched). Unlike
the guide, the new layers get the `padding_mask`, so they never attend to
padding.

On PyTorch, `jit_compile=True` means `torch.compile`, whose first steps
take minutes on a CPU; pass `--no_jit` to skip it there.

Run: `python examples/getting_started/04_custom_model_frozen_backbone.py`
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def parse_args(argv=None):
    parser = common.make_parser(
        __doc__.split("\n")[0],
        num_train=2_000,
        num_test=1_000,
        sequence_length=128,
        epochs=3,
    )
    parser.add_argument("--learning_rate", type=float, default=5e-5)
    parser.add_argument(
        "--no_jit", action="store_true", help="Compile with jit_compile=False."
    )
    return common.parse_args(parser, argv)


def build_model(backbone, num_layers=2, num_heads=2, intermediate_dim=512):
    """Two trainable encoder layers and a 2-class head on a frozen backbone.

    Args:
        backbone: a `BertBackbone`; it is frozen (`trainable = False`).
        num_layers: int. New `TransformerEncoder` layers. Defaults to `2`.
        num_heads: int. Heads of each new layer. Defaults to `2`.
        intermediate_dim: int. Feedforward width. Defaults to `512`.

    Returns:
        A `keras.Model` from the backbone's input dict to `(batch, 2)` logits.
    """
    import keras

    import keras_nlp_clone as keras_nlp

    backbone.trainable = False
    inputs = backbone.input
    sequence = backbone(inputs)["sequence_output"]
    for _ in range(num_layers):
        sequence = keras_nlp.layers.TransformerEncoder(
            num_heads=num_heads,
            intermediate_dim=intermediate_dim,
            dropout=0.1,
        )(sequence, padding_mask=inputs["padding_mask"])
    # Classify on the hidden state of the [CLS] token.
    outputs = keras.layers.Dense(2)(sequence[:, backbone.cls_token_index, :])
    return keras.Model(inputs, outputs)


def main(argv=None):
    """Runs the workflow; returns a dict of the measured figures."""
    args = parse_args(argv)
    timer = common.start(args)
    import keras
    import tensorflow as tf

    import keras_nlp_clone as keras_nlp

    imdb_train, imdb_test = common.imdb_datasets(args)

    preprocessor = keras_nlp.models.BertPreprocessor.from_preset(
        common.PRESET, sequence_length=args.sequence_length
    )
    backbone = keras_nlp.models.BertBackbone.from_preset(common.PRESET)
    imdb_train_preprocessed = (
        imdb_train.map(preprocessor, tf.data.AUTOTUNE).cache().prefetch(tf.data.AUTOTUNE)
    )
    imdb_test_preprocessed = (
        imdb_test.map(preprocessor, tf.data.AUTOTUNE).cache().prefetch(tf.data.AUTOTUNE)
    )

    model = build_model(backbone)
    model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer=keras.optimizers.AdamW(args.learning_rate),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
        jit_compile=not args.no_jit,
    )
    model.summary()
    trainable = sum(int(keras.ops.size(w)) for w in model.trainable_weights)
    frozen = sum(int(keras.ops.size(w)) for w in backbone.weights)
    print(f"trainable parameters {trainable:,}; frozen backbone {frozen:,}")
    history = model.fit(
        imdb_train_preprocessed,
        validation_data=imdb_test_preprocessed,
        epochs=args.epochs,
    )
    results = {
        "trainable_params": trainable,
        "frozen_params": frozen,
        "train_loss_per_epoch": [round(float(v), 4) for v in history.history["loss"]],
        "val_accuracy": float(history.history["val_sparse_categorical_accuracy"][-1]),
        "seconds": round(timer()),
    }
    print(
        f"held-out accuracy: {results['val_accuracy']:.4f} on {args.num_test} "
        f"reviews (trained on {args.num_train}, {args.sequence_length} tokens, "
        f"{args.epochs} epoch(s), backbone frozen)"
    )
    common.report("04_custom_model_frozen_backbone", results)
    return results


if __name__ == "__main__":
    main()
