"""Workflow 6: build and train a transformer classifier from scratch.

The guide's recipe, with its settings as the defaults:

1. Learn a 20,000-token WordPiece vocabulary from the IMDB training text
   with `compute_word_piece_vocabulary` (lowercased, accents stripped,
   reserved `[PAD] [START] [END] [MASK] [UNK]`), and tokenize with
   `WordPieceTokenizer`.
2. `StartEndPacker` adds `[START]`/`[END]` and pads to 512 tokens inside
   `tf.data`.
3. A tiny model: `TokenAndPositionEmbedding` (embedding 64), one
   `TransformerEncoder` (2 heads, intermediate 128, dropout 0.1) and a
   `Dense(2)` on the `[START]` position, compiled with `AdamW(5e-5)` and
   `jit_compile=True`, trained for 3 epochs with batch size 16.

The guide reports 0.87 held-out accuracy (25,000 training reviews); this
split trains on 20,000 and holds out 5,000.

Run: `python examples/getting_started/06_transformer_from_scratch.py`
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

RESERVED_TOKENS = ["[PAD]", "[START]", "[END]", "[MASK]", "[UNK]"]


def parse_args(argv=None):
    parser = common.make_parser(
        __doc__.split("\n")[0],
        num_train=20_000,
        num_test=5_000,
        sequence_length=512,
        epochs=3,
    )
    parser.add_argument("--vocabulary_size", type=int, default=20_000)
    parser.add_argument("--embedding_dim", type=int, default=64)
    parser.add_argument("--num_heads", type=int, default=2)
    parser.add_argument("--intermediate_dim", type=int, default=128)
    parser.add_argument("--learning_rate", type=float, default=5e-5)
    parser.add_argument(
        "--no_jit", action="store_true", help="Compile with jit_compile=False."
    )
    return common.parse_args(parser, argv)


def build_model(vocabulary_size, sequence_length, embedding_dim, num_heads,
                intermediate_dim):
    """The guide's one-layer transformer classifier.

    Args:
        vocabulary_size: int. Rows of the token embedding.
        sequence_length: int. Longest input (position embedding rows).
        embedding_dim: int. Hidden size.
        num_heads: int. Attention heads.
        intermediate_dim: int. Feedforward width.

    Returns:
        A `keras.Model` from `token_ids` `(batch, seq)` int32 to `(batch, 2)`
        logits, classifying on position 0 (`[START]`).
    """
    import keras

    import keras_nlp_clone as keras_nlp

    token_id_input = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    outputs = keras_nlp.layers.TokenAndPositionEmbedding(
        vocabulary_size=vocabulary_size,
        sequence_length=sequence_length,
        embedding_dim=embedding_dim,
    )(token_id_input)
    outputs = keras_nlp.layers.TransformerEncoder(
        num_heads=num_heads,
        intermediate_dim=intermediate_dim,
        dropout=0.1,
    )(outputs)
    # Classify on the "[START]" token.
    outputs = keras.layers.Dense(2)(outputs[:, 0, :])
    return keras.Model(inputs=token_id_input, outputs=outputs)


def main(argv=None):
    """Runs the workflow; returns a dict of the measured figures."""
    args = parse_args(argv)
    timer = common.start(args)
    import keras
    import tensorflow as tf

    import keras_nlp_clone as keras_nlp

    imdb_train, imdb_test = common.imdb_datasets(args)

    # === A vocabulary learned from the training text ===
    vocab = keras_nlp.tokenizers.compute_word_piece_vocabulary(
        imdb_train.map(lambda x, y: x),
        vocabulary_size=args.vocabulary_size,
        lowercase=True,
        strip_accents=True,
        reserved_tokens=RESERVED_TOKENS,
    )
    vocabulary_seconds = timer()
    print(f"learned {len(vocab)} WordPiece tokens in {vocabulary_seconds:.0f} s")
    tokenizer = keras_nlp.tokenizers.WordPieceTokenizer(
        vocabulary=vocab,
        lowercase=True,
        strip_accents=True,
        oov_token="[UNK]",
    )

    # === Tokenize and pack inside tf.data ===
    packer = keras_nlp.layers.StartEndPacker(
        start_value=tokenizer.token_to_id("[START]"),
        end_value=tokenizer.token_to_id("[END]"),
        pad_value=tokenizer.token_to_id("[PAD]"),
        sequence_length=args.sequence_length,
    )

    def preprocess(x, y):
        token_ids = packer(tokenizer(x))
        return token_ids, y

    train_ds = imdb_train.map(preprocess, num_parallel_calls=tf.data.AUTOTUNE).prefetch(
        tf.data.AUTOTUNE
    )
    val_ds = imdb_test.map(preprocess, num_parallel_calls=tf.data.AUTOTUNE).prefetch(
        tf.data.AUTOTUNE
    )
    print(train_ds.unbatch().take(1).get_single_element())

    # === Model, trained on the classification objective ===
    model = build_model(
        len(vocab),
        packer.sequence_length,
        args.embedding_dim,
        args.num_heads,
        args.intermediate_dim,
    )
    model.summary()
    model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer=keras.optimizers.AdamW(args.learning_rate),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
        jit_compile=not args.no_jit,
    )
    history = model.fit(train_ds, validation_data=val_ds, epochs=args.epochs)
    results = {
        "vocabulary_size": len(vocab),
        "val_accuracy_per_epoch": [
            round(float(v), 4)
            for v in history.history["val_sparse_categorical_accuracy"]
        ],
        "val_accuracy": float(history.history["val_sparse_categorical_accuracy"][-1]),
        "val_loss": float(history.history["val_loss"][-1]),
        "seconds": round(timer()),
    }
    print(
        f"held-out accuracy: {results['val_accuracy']:.4f} on {args.num_test} "
        f"reviews (trained from scratch on {args.num_train}, "
        f"{args.sequence_length} tokens, {args.epochs} epoch(s))"
    )
    common.report("06_transformer_from_scratch", results)
    return results


if __name__ == "__main__":
    main()
