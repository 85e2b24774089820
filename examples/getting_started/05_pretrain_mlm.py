"""Workflow 5: pretrain a BERT backbone with masked language modelling.

As in the guide, without next-sentence prediction:

1. Preprocess unlabeled text on the fly in `tf.data`: the BERT preprocessor
   (the vocabulary of the offline preset; the guide reuses
   `bert_tiny_en_uncased`'s, which is the same uncased BERT vocabulary),
   then a `MaskedLMMaskGenerator` that hides 25% of the tokens (at most 64
   per review) as `[MASK]`, giving `(features, mask_ids, mask_weights)`.
2. A new, randomly initialised `BertBackbone` (2 layers, 2 heads, hidden
   128, intermediate 512) with a `MaskedLMHead` tied to its token
   embedding, compiled with `jit_compile=True` and trained on the text of
   IMDB training reviews, labels dropped. Held-out reviews measure the
   masked-token accuracy before and after.
3. The pretrained backbone and its tokenizer are saved with
   `save_to_preset`, loaded back into a new `BertClassifier` with
   `from_preset(<dir>, num_classes=2)`, and fine-tuned on labelled reviews.

The guide pretrains on 25,000 reviews at 256 tokens for 3 epochs (masked
accuracy 0.14). The defaults here (4,000 reviews at 128 tokens, 2 epochs)
finish on two CPU cores.

Run: `python examples/getting_started/05_pretrain_mlm.py`
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

PRESET_NAME = "bert_mlm_pretrained_imdb"


def parse_args(argv=None):
    parser = common.make_parser(
        __doc__.split("\n")[0],
        num_train=4_000,
        num_test=1_000,
        sequence_length=128,
        epochs=2,
    )
    parser.add_argument("--learning_rate", type=float, default=5e-4)
    parser.add_argument(
        "--mask_selection_length", type=int, default=None,
        help="Masked positions per review; defaults to sequence_length / 4 "
        "(the guide: 64 of 256).",
    )
    parser.add_argument(
        "--finetune_epochs", type=int, default=2,
        help="Epochs of classification fine-tuning of the pretrained backbone.",
    )
    parser.add_argument(
        "--finetune_learning_rate", type=float, default=5e-4,
        help="Fine-tuning learning rate. The classifier's own default, 5e-5, "
        "suits large pretrained backbones; this small one, pretrained "
        "briefly, needs the pretraining rate to move in a few hundred steps.",
    )
    parser.add_argument(
        "--no_jit", action="store_true", help="Compile with jit_compile=False."
    )
    args = common.parse_args(parser, argv)
    if args.mask_selection_length is None:
        args.mask_selection_length = max(1, args.sequence_length // 4)
    return args


def build_pretraining_model(vocabulary_size, max_sequence_length):
    """The guide's tiny BERT with a tied masked-LM head.

    Args:
        vocabulary_size: int. Size of the token vocabulary.
        max_sequence_length: int. Longest input the backbone accepts.

    Returns:
        `(backbone, pretraining_model)`; the model maps the dict
        `token_ids`, `segment_ids`, `padding_mask`, `mask_positions` to
        logits of shape `(batch, num_masks, vocabulary_size)`.
    """
    import keras

    import keras_nlp_clone as keras_nlp

    backbone = keras_nlp.models.BertBackbone(
        vocabulary_size=vocabulary_size,
        num_layers=2,
        num_heads=2,
        hidden_dim=128,
        intermediate_dim=512,
        max_sequence_length=max_sequence_length,
    )
    # Project back to the vocabulary with the input embedding matrix.
    mlm_head = keras_nlp.layers.MaskedLMHead(
        token_embedding=backbone.token_embedding,
    )
    inputs = {
        "token_ids": keras.Input(shape=(None,), dtype="int32", name="token_ids"),
        "segment_ids": keras.Input(shape=(None,), dtype="int32", name="segment_ids"),
        "padding_mask": keras.Input(shape=(None,), dtype="int32", name="padding_mask"),
        "mask_positions": keras.Input(
            shape=(None,), dtype="int32", name="mask_positions"
        ),
    }
    sequence = backbone(inputs)["sequence_output"]
    outputs = mlm_head(sequence, mask_positions=inputs["mask_positions"])
    return backbone, keras.Model(inputs, outputs)


def main(argv=None):
    """Runs the workflow; returns a dict of the measured figures."""
    args = parse_args(argv)
    timer = common.start(args)
    import keras
    import tensorflow as tf

    import keras_nlp_clone as keras_nlp

    imdb_train, imdb_test = common.imdb_datasets(args)

    # === Preprocessing: tokenize, pack, mask, all inside tf.data ===
    preprocessor = keras_nlp.models.BertPreprocessor.from_preset(
        common.PRESET, sequence_length=args.sequence_length
    )
    tokenizer = preprocessor.tokenizer
    masker = keras_nlp.layers.MaskedLMMaskGenerator(
        vocabulary_size=tokenizer.vocabulary_size(),
        mask_selection_rate=0.25,
        mask_selection_length=args.mask_selection_length,
        mask_token_id=tokenizer.token_to_id("[MASK]"),
        unselectable_token_ids=[
            tokenizer.token_to_id(x) for x in ["[CLS]", "[PAD]", "[SEP]"]
        ],
    )

    def preprocess(inputs, label):
        # The label is dropped: pretraining sees the text alone.
        inputs = preprocessor(inputs)
        masked_inputs = masker(inputs["token_ids"])
        features = {
            "token_ids": masked_inputs["token_ids"],
            "segment_ids": inputs["segment_ids"],
            "padding_mask": inputs["padding_mask"],
            "mask_positions": masked_inputs["mask_positions"],
        }
        return features, masked_inputs["mask_ids"], masked_inputs["mask_weights"]

    pretrain_ds = imdb_train.map(preprocess, num_parallel_calls=tf.data.AUTOTUNE).prefetch(
        tf.data.AUTOTUNE
    )
    # A fixed masking of the held-out text, so every measurement sees the
    # same masks.
    pretrain_val_ds = imdb_test.map(preprocess).cache().prefetch(tf.data.AUTOTUNE)
    print(pretrain_ds.unbatch().take(1).get_single_element())

    # === Model ===
    backbone, pretraining_model = build_pretraining_model(
        tokenizer.vocabulary_size(), args.sequence_length
    )
    pretraining_model.summary()
    pretraining_model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer=keras.optimizers.AdamW(learning_rate=args.learning_rate),
        weighted_metrics=[keras.metrics.SparseCategoricalAccuracy()],
        jit_compile=not args.no_jit,
    )
    before_loss, before_accuracy = pretraining_model.evaluate(pretrain_val_ds)
    history = pretraining_model.fit(
        pretrain_ds, validation_data=pretrain_val_ds, epochs=args.epochs
    )
    after_loss = float(history.history["val_loss"][-1])
    after_accuracy = float(history.history["val_sparse_categorical_accuracy"][-1])
    print(
        f"masked-token accuracy on held-out reviews: {before_accuracy:.4f} "
        f"before pretraining, {after_accuracy:.4f} after (loss "
        f"{before_loss:.3f} -> {after_loss:.3f})"
    )

    # === Save the pretrained backbone, reuse it in a new task ===
    preset_dir = os.path.join(args.output_dir, PRESET_NAME)
    backbone.save_to_preset(preset_dir)
    tokenizer.save_to_preset(preset_dir)
    classifier = keras_nlp.models.BertClassifier.from_preset(
        preset_dir, num_classes=2
    )
    classifier.preprocessor.sequence_length = args.sequence_length
    classifier.compile(
        optimizer=keras.optimizers.AdamW(args.finetune_learning_rate)
    )
    reloaded = classifier.backbone.token_embedding.embeddings
    max_diff = float(
        keras.ops.max(
            keras.ops.abs(reloaded - backbone.token_embedding.embeddings)
        )
    )
    print(f"reloaded backbone from {preset_dir}: max embedding diff {max_diff}")
    finetune = classifier.fit(
        imdb_train, validation_data=imdb_test, epochs=args.finetune_epochs
    )
    results = {
        "mlm_val_loss_before": float(before_loss),
        "mlm_val_loss_after": after_loss,
        "mlm_val_accuracy_before": float(before_accuracy),
        "mlm_val_accuracy_after": after_accuracy,
        "reload_max_diff": max_diff,
        "finetune_val_accuracy": float(
            finetune.history["val_sparse_categorical_accuracy"][-1]
        ),
        "seconds": round(timer()),
    }
    print(
        f"held-out accuracy: {results['finetune_val_accuracy']:.4f} on "
        f"{args.num_test} reviews (classifier on the backbone pretrained "
        f"here, {args.finetune_epochs} epoch(s) of fine-tuning)"
    )
    common.report("05_pretrain_mlm", results)
    return results


if __name__ == "__main__":
    main()
