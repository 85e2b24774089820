"""Where the time of `fit` goes: the first step, or one train step on PyTorch.

Claims checked (issue 15): the first `fit` step takes <= 2 s, and PyTorch
`fit` runs >= 1.2x a plain `transformers` loop. This script does not time
targets; it prints the profiles that say what the time is made of:

- `--case first_step`: one `fit` call of a fresh bert_tiny `BertClassifier`
  on `--examples` raw IMDB reviews (one step at the default batch 32):
  seconds to build the model, to the end of the first train step and to
  the end of the call, then a second call. `--log_compiles` (JAX) logs
  every XLA compilation with its seconds; `--profile PATH` writes a
  cProfile of the first call and prints its top entries by cumulative
  time.
- `--case torch_step` (PyTorch backend): `torch.profiler` of 5 train steps
  of ours (`train_on_batch` on one preprocessed batch) and of a
  `transformers` `BertForSequenceClassification` with `torch.optim.Adam`
  on the same token ids, one PyTorch thread each (`--threads`): median
  step seconds and the operators by self CPU time.

Model: bert_tiny (2 layers, hidden 128, 2 heads, intermediate 512), the
real 30,522-token vocabulary of all-MiniLM-L6-v2, random weights, sequence
length 128, Adam(5e-5): `fit_benchmark.build_classifier`.

    python benchmarks/fit_profile.py --backend jax --log_compiles
    python benchmarks/fit_profile.py --backend tensorflow --profile /tmp/tf.prof
    python benchmarks/fit_profile.py --backend torch --case torch_step
"""

import argparse
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
import bench_utils  # noqa: E402

BACKEND = bench_utils.set_backend(default="jax")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=bench_utils.BACKENDS)
    parser.add_argument(
        "--case", choices=["first_step", "torch_step"], default="first_step"
    )
    parser.add_argument("--examples", type=int, default=32)
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--sequence_length", type=int, default=128)
    parser.add_argument("--threads", type=int, default=1,
                        help="PyTorch intra-op threads (torch_step).")
    parser.add_argument("--steps", type=int, default=15,
                        help="Timed steps for the median (torch_step).")
    parser.add_argument("--log_compiles", action="store_true",
                        help="JAX: log every compilation.")
    parser.add_argument("--profile", help="cProfile output path (first_step).")
    return parser.parse_args()


def first_step(args):
    """Prints the phases of a fresh classifier's first `fit` call (see the
    module docstring, `--case first_step`)."""
    import cProfile
    import logging
    import pstats

    import keras
    import numpy as np

    import fit_benchmark

    if args.log_compiles:
        if BACKEND != "jax":
            raise SystemExit("--log_compiles is for --backend jax.")
        import jax

        jax.config.update("jax_log_compiles", True)
        logging.basicConfig(level=logging.WARNING, format="# %(message)s")
    import keras_nlp_clone  # noqa: F401  (imported outside the timing)

    texts, labels = fit_benchmark.imdb_data(args.examples)
    labels = np.asarray(labels, "int32")
    start = time.perf_counter()
    classifier, _ = fit_benchmark.build_classifier(
        sequence_length=args.sequence_length
    )
    print(f"build s: {time.perf_counter() - start:.3f}")

    batch_ends = []

    class StepTimer(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            batch_ends.append(time.perf_counter())

    profiler = cProfile.Profile() if args.profile else None
    start = time.perf_counter()
    if profiler:
        profiler.enable()
    classifier.fit(
        texts, labels, batch_size=args.batch_size, epochs=1,
        callbacks=[StepTimer()], verbose=0,
    )
    if profiler:
        profiler.disable()
    end = time.perf_counter()
    print(f"first step s: {batch_ends[0] - start:.3f} "
          f"(whole first call {end - start:.3f})")
    start = time.perf_counter()
    classifier.fit(texts, labels, batch_size=args.batch_size, epochs=1,
                   verbose=0)
    print(f"second call s: {time.perf_counter() - start:.3f}")
    if profiler:
        profiler.dump_stats(args.profile)
        stats = pstats.Stats(args.profile)
        stats.sort_stats("cumulative").print_stats(40)


def torch_step(args):
    """Prints median step seconds and `torch.profiler` tables of ours and of
    `transformers` on one batch (`--case torch_step`).

    Raises:
        SystemExit: the backend is not PyTorch.
    """
    if BACKEND != "torch":
        raise SystemExit("--case torch_step needs --backend torch.")
    import keras
    import numpy as np
    import torch
    import transformers
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile

    import fit_benchmark

    torch.set_num_threads(args.threads)
    texts, labels = fit_benchmark.imdb_data(args.batch_size)
    labels = np.asarray(labels, "int32")
    classifier, preprocessor = fit_benchmark.build_classifier(
        sequence_length=args.sequence_length, with_preprocessor=False
    )
    x = {
        k: keras.ops.convert_to_numpy(v)
        for k, v in preprocessor(texts).items()
    }

    def ours():
        classifier.train_on_batch(x, labels)

    config = transformers.BertConfig(
        vocab_size=preprocessor.tokenizer.vocabulary_size(),
        hidden_size=fit_benchmark.BERT_TINY["hidden_dim"],
        num_hidden_layers=fit_benchmark.BERT_TINY["num_layers"],
        num_attention_heads=fit_benchmark.BERT_TINY["num_heads"],
        intermediate_size=fit_benchmark.BERT_TINY["intermediate_dim"],
        num_labels=2,
    )
    torch.manual_seed(0)
    model = transformers.BertForSequenceClassification(config).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-5)
    encoded = {
        "input_ids": torch.as_tensor(x["token_ids"]).long(),
        "attention_mask": torch.as_tensor(x["padding_mask"]).long(),
        "token_type_ids": torch.as_tensor(x["segment_ids"]).long(),
    }
    targets = torch.as_tensor(labels).long()

    def reference():
        model(**encoded, labels=targets).loss.backward()
        optimizer.step()
        optimizer.zero_grad()

    for name, step in (("ours", ours), ("transformers", reference)):
        for _ in range(3):
            step()
        times = []
        for _ in range(args.steps):
            start = time.perf_counter()
            step()
            times.append(time.perf_counter() - start)
        print(f"{name}: median step s {statistics.median(times):.4f} "
              f"(batch {args.batch_size}, {args.threads} thread(s))")
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(5):
                step()
        print(prof.key_averages().table(
            sort_by="self_cpu_time_total", row_limit=20
        ))


def main():
    args = parse_args()
    bench_utils.print_header(f"fit profile, case {args.case}")
    if args.case == "first_step":
        first_step(args)
    else:
        torch_step(args)


if __name__ == "__main__":
    main()
