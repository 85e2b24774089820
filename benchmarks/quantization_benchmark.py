"""int8 quantization: accuracy, preset size and speed against float32.

Claims checked (issue 11): after `quantize("int8")` the preset's weights
file is at most 0.3x the float32 one, and `predict` takes at most 1.2x the
float32 time on CPU. Also measured: the max logit difference and the greedy
(argmax) agreement with full precision.

Two models:

- the real all-MiniLM-L6-v2 `BertBackbone.from_preset("all_minilm_l6_v2_en")`
  on real IMDB reviews (`examples/movie_reviews_data.py`), sequence length
  128. Its "logits" are the tied vocabulary projection of the sequence
  output (`token_embedding(x, reverse=True)`), compared at real tokens;
- a GPT-2 converted from a random `transformers.GPT2LMHeadModel` (hidden
  256, 4 layers, 4 heads, the tiny byte-level test vocabulary, 128
  positions) saved to a temporary directory and loaded with
  `GPT2CausalLM.from_preset(dir)`; greedy agreement is over generated
  tokens (32 per prompt after 8 prompt tokens).

    python benchmarks/quantization_benchmark.py --backend jax
"""

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_utils  # noqa: E402

BACKEND = bench_utils.set_backend()
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "examples"))
sys.path.insert(0, ROOT)

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_nlp_clone as keras_nlp  # noqa: E402
import movie_reviews_data  # noqa: E402

WEIGHTS = "model.weights.h5"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=bench_utils.BACKENDS, default=BACKEND)
    parser.add_argument("--num_examples", type=int, default=64)
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    return parser.parse_args()


def timed(fn, repeats):
    fn()  # compile / warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return bench_utils.median(times), out


def weights_size(model, directory):
    model.save_to_preset(directory)
    return os.path.getsize(os.path.join(directory, WEIGHTS))


def minilm(args, tmp):
    texts, _ = movie_reviews_data.load_imdb("test")
    texts = texts[: args.num_examples]
    preprocessor = keras_nlp.models.BertPreprocessor.from_preset(
        "all_minilm_l6_v2_en", sequence_length=128
    )
    x = {k: keras.ops.convert_to_numpy(v) for k, v in preprocessor(texts).items()}
    real = x["padding_mask"].astype(bool)
    results = {}
    for name in ("float32", "int8"):
        backbone = keras_nlp.models.BertBackbone.from_preset("all_minilm_l6_v2_en")
        if name == "int8":
            start = time.perf_counter()
            backbone.quantize("int8")
            results["quantize_s"] = time.perf_counter() - start
        seconds, out = timed(
            lambda: backbone.predict(x, batch_size=args.batch_size, verbose=0),
            args.repeats,
        )
        hidden = out["sequence_output"][real]
        logits = keras.ops.convert_to_numpy(
            backbone.token_embedding(hidden, reverse=True)
        )
        results[name] = {
            "seconds": seconds,
            "size": weights_size(backbone, os.path.join(tmp, f"minilm_{name}")),
            "hidden": hidden,
            "logits": logits,
        }
    f, q = results["float32"], results["int8"]
    return {
        "model": "all-MiniLM-L6-v2 (real), IMDB",
        "max_logit_diff": float(np.abs(q["logits"] - f["logits"]).max()),
        "logit_range": float(np.abs(f["logits"]).max()),
        "max_hidden_diff": float(np.abs(q["hidden"] - f["hidden"]).max()),
        "agreement": float(
            (q["logits"].argmax(-1) == f["logits"].argmax(-1)).mean()
        ),
        "size": (f["size"], q["size"]),
        "predict": (f["seconds"], q["seconds"]),
        "generate": None,
        "quantize_s": results["quantize_s"],
    }


def gpt2(args, tmp):
    import torch
    import transformers

    from tests.models.gpt2.conftest import TINY_MERGES
    from tests.models.gpt2.conftest import TINY_VOCAB
    from tests.models.gpt2.conftest import write_tokenizer_files

    import pathlib

    directory = pathlib.Path(tmp) / "hf_gpt2"
    torch.manual_seed(0)
    config = transformers.GPT2Config(
        vocab_size=len(TINY_VOCAB), n_positions=128, n_embd=256, n_layer=4,
        n_head=4,
    )
    transformers.GPT2LMHeadModel(config).save_pretrained(directory)
    write_tokenizer_files(directory, TINY_VOCAB, TINY_MERGES)
    rng = np.random.default_rng(0)
    ids = np.zeros((8, 40), "int32")
    ids[:, :8] = rng.integers(0, len(TINY_VOCAB) - 1, size=(8, 8))
    prompt = {"token_ids": ids, "padding_mask": ids != 0}
    prompt["padding_mask"][:, :8] = True
    full = {"token_ids": ids, "padding_mask": np.ones_like(ids, bool)}
    results = {}
    for name in ("float32", "int8"):
        lm = keras_nlp.models.GPT2CausalLM.from_preset(str(directory))
        lm.preprocessor = None
        if name == "int8":
            lm.quantize("int8")
        lm.compile(sampler="greedy")
        predict_s, logits = timed(
            lambda: lm.predict(full, batch_size=8, verbose=0), args.repeats
        )
        generate_s, generated = timed(
            lambda: lm.generate(prompt, stop_token_ids=None)["token_ids"],
            args.repeats,
        )
        results[name] = {
            "predict": predict_s,
            "generate": generate_s,
            "logits": logits,
            "generated": generated[:, 8:],
            "size": weights_size(lm.backbone, os.path.join(tmp, f"gpt2_{name}")),
        }
    f, q = results["float32"], results["int8"]
    return {
        "model": "GPT-2 converted (random, hidden 256, 4 layers)",
        "max_logit_diff": float(np.abs(q["logits"] - f["logits"]).max()),
        "logit_range": float(np.abs(f["logits"]).max()),
        "max_hidden_diff": None,
        "agreement": float((q["generated"] == f["generated"]).mean()),
        "size": (f["size"], q["size"]),
        "predict": (f["predict"], q["predict"]),
        "generate": (f["generate"], q["generate"]),
        "quantize_s": None,
    }


def main():
    args = parse_args()
    bench_utils.print_header("int8 quantization vs float32", args.backend)
    rows = []
    notes = []
    with tempfile.TemporaryDirectory() as tmp:
        for result in (minilm(args, tmp), gpt2(args, tmp)):
            if result["max_hidden_diff"] is not None:
                notes.append(
                    f"{result['model']}: max abs sequence_output difference "
                    f"{result['max_hidden_diff']:.4f}; quantize() took "
                    f"{result['quantize_s']:.2f} s"
                )
            size_f, size_q = result["size"]
            predict_f, predict_q = result["predict"]
            generate = result["generate"]
            rows.append([
                result["model"],
                f"{result['max_logit_diff']:.4f} (largest logit "
                f"{result['logit_range']:.2f})",
                f"{100 * result['agreement']:.1f}%",
                f"{size_f / 1e6:.1f} -> {size_q / 1e6:.1f} MB "
                f"({size_q / size_f:.2f}x)",
                f"{predict_f:.3f} -> {predict_q:.3f} s "
                f"({predict_q / predict_f:.2f}x)",
                "-" if generate is None else (
                    f"{generate[0]:.3f} -> {generate[1]:.3f} s "
                    f"({generate[1] / generate[0]:.2f}x)"
                ),
            ])
    bench_utils.print_table(
        [
            "model", "max logit diff", "greedy agreement", "weights file",
            "predict", "generate",
        ],
        rows,
    )
    for note in notes:
        print(f"# {note}")


if __name__ == "__main__":
    main()
