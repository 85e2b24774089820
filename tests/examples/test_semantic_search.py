import re

import keras
import numpy as np
import pytest

from tests.examples.examples_loader import import_example


def test_label_agreement_on_a_hand_made_example():
    search = import_example("semantic_search")
    # Four unit vectors on a circle: 0 and 1 close, 2 and 3 close.
    angles = np.array([0.0, 0.1, 2.0, 2.2])
    embeddings = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    labels = np.array([1, 1, 0, 1])
    # Nearest other rows: 0 -> 1, 1 -> 0, 2 -> 3, 3 -> 2; the second
    # nearest: 0 -> 2, 1 -> 2, 2 -> 1, 3 -> 1.
    agreement, top1 = search.label_agreement(embeddings, labels, 2, chunk_size=3)
    assert top1 == pytest.approx((1 + 1 + 0 + 0) / 4)
    assert agreement == pytest.approx((0.5 + 0.5 + 0.0 + 0.5) / 4)


def test_semantic_search_rejects_bad_flags():
    search = import_example("semantic_search")
    for argv in (["--num_sentences", "9000"], ["--top_k", "0"],
                 ["--num_sentences", "5", "--top_k", "5"]):
        with pytest.raises(SystemExit):
            search.parse_args(argv)
    args = search.parse_args([])
    assert (args.num_sentences, args.top_k, args.sequence_length) == (8530, 10, 80)
    assert args.query == search.DEFAULT_QUERIES


@pytest.mark.large
def test_semantic_search_tiny_run(capsys):
    search = import_example("semantic_search")
    result = search.main(
        [
            "--backend", keras.backend.backend(),
            "--num_sentences", "64",
            "--top_k", "5",
            "--sequence_length", "80",
            "--query", "a dull and lifeless film",
        ]
    )
    out = capsys.readouterr().out
    summary = re.search(
        r"label agreement of the top-5 neighbours: (\d\.\d{4}) \(top-1: "
        r"(\d\.\d{4}), chance \d\.\d{4}\) over 64 sentences",
        out,
    )
    assert summary, out[-3000:]
    # Brute force over the returned embeddings: full sort, self excluded.
    e, labels = result["embeddings"], None
    texts, all_labels = import_example("movie_reviews_data").load_rotten_tomatoes()
    keep = np.sort(np.random.default_rng(1337).choice(len(texts), 64, replace=False))
    labels = all_labels[keep]
    scores = e @ e.T
    np.fill_diagonal(scores, -np.inf)
    nearest = np.argsort(-scores, axis=1)[:, :5]
    expected = (labels[nearest] == labels[:, None]).mean()
    assert float(summary.group(1)) == pytest.approx(expected, abs=1e-4)
    assert result["agreement"] == pytest.approx(expected, abs=1e-9)
    assert result["top1"] == pytest.approx(
        (labels[nearest[:, 0]] == labels).mean(), abs=1e-9
    )
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-5)
    hits = result["results"]["a dull and lifeless film"]
    assert len(hits) == 3
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    assert repr(hits[0][0]) in out
