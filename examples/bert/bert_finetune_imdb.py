"""Fine-tune the pretrained BERT on IMDB movie review sentiment.

Loads the backbone and tokenizer that `bert_pretrain.py` saved, with
`BertBackbone.from_preset(<dir>)` and `BertTokenizer.from_preset(<dir>)`,
puts a `BertPreprocessor` and a 2-class `BertClassifier` head on them, and
fine-tunes on real IMDB reviews from the fixed split of
`examples/movie_reviews_data.py`. Raw review strings go into a `tf.data`
pipeline (shuffled, batched); the classifier's preprocessor tokenizes and
packs them on the fly inside that pipeline. Accuracy is measured on
held-out reviews of the test split, which training never sees.

`--from_scratch` trains the same architecture from random weights (same
vocabulary, same settings), which shows what pretraining contributed.

    python examples/bert/bert_pretrain.py --output_dir /tmp/bert_tiny
    python examples/bert/bert_finetune_imdb.py --pretrained_dir /tmp/bert_tiny
"""

import argparse
import os
import sys
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
for _path in (_HERE, os.path.dirname(_HERE)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import bert_config
import bert_pretrain
import example_utils

NUM_IMDB_TRAIN = 20_000
NUM_IMDB_TEST = 5_000


def parse_args(argv=None):
    """Parses the command line flags of the fine-tuning script.

    Args:
        argv: list of str, the flags; `None` reads `sys.argv`.

    Returns:
        An `argparse.Namespace`.

    Raises:
        SystemExit: on unknown or invalid flags (argparse's behaviour).
    """
    config = bert_config.FINETUNING_CONFIG
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--backend",
        choices=bert_pretrain.BACKENDS,
        default="tensorflow",
        help="Keras backend, set as KERAS_BACKEND before Keras is imported.",
    )
    parser.add_argument(
        "--pretrained_dir",
        default=bert_pretrain.DEFAULT_OUTPUT_DIR,
        help="The preset directory bert_pretrain.py wrote (its --output_dir).",
    )
    parser.add_argument(
        "--from_scratch",
        action="store_true",
        help="Ignore the pretrained weights: same architecture and "
        "vocabulary, random initialisation (a baseline).",
    )
    parser.add_argument(
        "--num_train",
        type=int,
        default=config["num_train"],
        help="Training reviews, the first N of the fixed 20,000-review "
        "training split.",
    )
    parser.add_argument(
        "--num_test",
        type=int,
        default=config["num_test"],
        help="Held-out reviews, the first N of the fixed 5,000-review test "
        "split.",
    )
    parser.add_argument(
        "--sequence_length",
        type=int,
        default=config["sequence_length"],
        help="Tokens per review after truncation, [CLS] and [SEP] included; "
        "at most the backbone's max_sequence_length.",
    )
    parser.add_argument("--batch_size", type=int, default=config["batch_size"])
    parser.add_argument("--epochs", type=int, default=config["epochs"])
    parser.add_argument("--learning_rate", type=float, default=config["learning_rate"])
    parser.add_argument(
        "--warmup_fraction",
        type=float,
        default=config["warmup_fraction"],
        help="Share of the steps spent warming the learning rate up.",
    )
    parser.add_argument("--weight_decay", type=float, default=config["weight_decay"])
    parser.add_argument("--seed", type=int, default=1337)
    parser.add_argument(
        "--verbose", type=int, default=2, choices=(0, 1, 2), help="Keras fit verbosity."
    )
    args = parser.parse_args(argv)
    for name in ("num_train", "num_test", "sequence_length", "batch_size", "epochs"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be >= 1, got {getattr(args, name)}.")
    if args.num_train > NUM_IMDB_TRAIN or args.num_test > NUM_IMDB_TEST:
        parser.error(
            f"The fixed split has {NUM_IMDB_TRAIN:,} training and "
            f"{NUM_IMDB_TEST:,} test reviews; got --num_train "
            f"{args.num_train} --num_test {args.num_test}."
        )
    if not 0.0 <= args.warmup_fraction < 1.0:
        parser.error("--warmup_fraction must be in [0, 1).")
    return args


def clean_review(text):
    """Replaces the `<br />` line breaks of IMDB reviews with spaces.

    Args:
        text: str, a review.

    Returns:
        The review without HTML line breaks.
    """
    return text.replace("<br />", " ")


def make_review_dataset(texts, labels, batch_size, shuffle, seed=None):
    """Builds a `tf.data` pipeline of raw review strings and labels.

    Args:
        texts: list of str.
        labels: int array, 1 for positive.
        batch_size: int.
        shuffle: bool. Reshuffle every epoch (seeded by `seed`).
        seed: optional int.

    Returns:
        A batched `tf.data.Dataset` of `(strings, labels)`; the classifier
        maps its preprocessor over it during `fit` and `evaluate`.
    """
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((tf.constant(texts), labels))
    if shuffle:
        ds = ds.shuffle(len(texts), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size)


def main(argv=None):
    """Runs fine-tuning; returns a dict of the measured figures.

    Args:
        argv: list of str, the command line flags (see `parse_args`);
            `None` reads `sys.argv`.

    Returns:
        A dict with `accuracy` (held-out), `num_test`, `num_train`,
        `pretrained` (False with `--from_scratch`), `train_seconds`,
        `total_seconds`.

    Raises:
        RuntimeError: Keras was imported earlier with another backend.
        FileNotFoundError: `--pretrained_dir` holds no preset.
        ValueError: `--sequence_length` exceeds the backbone's
            `max_sequence_length`.
        ImportError: the `movie-reviews` data package is not installed.
    """
    args = parse_args(argv)
    example_utils.select_backend(args.backend)

    import bert_model
    import keras
    import movie_reviews_data

    import keras_nlp_clone as keras_nlp

    start = time.perf_counter()
    keras.utils.set_random_seed(args.seed)
    print(f"Keras {keras.__version__}, backend {keras.backend.backend()}")

    # === Pretrained backbone and tokenizer from the preset ===
    if not os.path.exists(os.path.join(args.pretrained_dir, "config.json")):
        raise FileNotFoundError(
            f"No preset in `{args.pretrained_dir}`: run bert_pretrain.py "
            f"--output_dir {args.pretrained_dir} first."
        )
    tokenizer = keras_nlp.models.BertTokenizer.from_preset(args.pretrained_dir)
    backbone = keras_nlp.models.BertBackbone.from_preset(
        args.pretrained_dir, load_weights=not args.from_scratch
    )
    if args.sequence_length > backbone.max_sequence_length:
        raise ValueError(
            f"--sequence_length {args.sequence_length} exceeds the "
            f"backbone's max_sequence_length {backbone.max_sequence_length} "
            "(the --sequence_length it was pretrained with)."
        )
    preprocessor = keras_nlp.models.BertPreprocessor(
        tokenizer, sequence_length=args.sequence_length
    )
    classifier = keras_nlp.models.BertClassifier(
        backbone, num_classes=2, preprocessor=preprocessor
    )
    kind = "random" if args.from_scratch else "pretrained"
    print(
        f"BertClassifier on the {kind} backbone from {args.pretrained_dir}: "
        f"{classifier.count_params():,} parameters, vocabulary "
        f"{tokenizer.vocabulary_size()}"
    )

    # === Data: raw strings from the fixed IMDB split ===
    train_texts, train_labels = movie_reviews_data.load_imdb("train", seed=1337)
    test_texts, test_labels = movie_reviews_data.load_imdb("test", seed=1337)
    train_texts = [clean_review(t) for t in train_texts[: args.num_train]]
    train_labels = train_labels[: args.num_train]
    test_texts = [clean_review(t) for t in test_texts[: args.num_test]]
    test_labels = test_labels[: args.num_test]
    train_ds = make_review_dataset(
        train_texts, train_labels, args.batch_size, shuffle=True, seed=args.seed
    )
    test_ds = make_review_dataset(test_texts, test_labels, args.batch_size, False)
    print(
        f"IMDB: {len(train_texts)} training reviews "
        f"({int(train_labels.sum())} positive), {len(test_texts)} held-out "
        f"reviews ({int(test_labels.sum())} positive)"
    )

    # === Fine-tune ===
    steps = args.epochs * -(-len(train_texts) // args.batch_size)
    schedule = bert_model.WarmupLinearDecay(
        args.learning_rate,
        total_steps=steps,
        warmup_steps=int(args.warmup_fraction * steps),
    )
    classifier.compile(
        optimizer=bert_model.build_optimizer(schedule, args.weight_decay),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    train_start = time.perf_counter()
    classifier.fit(train_ds, epochs=args.epochs, verbose=args.verbose)
    train_seconds = time.perf_counter() - train_start

    # === Held-out accuracy ===
    result = classifier.evaluate(test_ds, verbose=0, return_dict=True)
    accuracy = float(result["accuracy"])
    total_seconds = time.perf_counter() - start
    print(
        f"held-out accuracy: {accuracy:.3f} on {len(test_texts)} reviews "
        f"({kind} backbone, trained on {len(train_texts)}, seq len "
        f"{args.sequence_length}, {args.epochs} epoch(s), {train_seconds:.0f} "
        f"s training) in {total_seconds:.0f} s [backend "
        f"{keras.backend.backend()}]"
    )
    return {
        "accuracy": accuracy,
        "num_test": len(test_texts),
        "num_train": len(train_texts),
        "pretrained": not args.from_scratch,
        "train_seconds": train_seconds,
        "total_seconds": total_seconds,
    }


if __name__ == "__main__":
    main()
