"""The written prompt-injection corpus (scripts/injection_corpus) is usable training data."""

from __future__ import annotations

from collections import Counter

from garrison.llm.injection_data import TEST_SOURCES, WRITTEN, load_written

SUBSET_PREFIXES = ("direct-", "indirect-", "benign-", "document-")


def test_written_corpus_loads_with_both_labels_per_source() -> None:
    rows = load_written()
    assert len(rows) > 5000
    by_source = Counter((r.source, r.label) for r in rows)
    sources = {r.source for r in rows}
    assert len(sources) == len(list(WRITTEN.glob("*.jsonl")))
    for source in sources:
        assert source.startswith("written-") and source not in TEST_SOURCES
        assert by_source[(source, 0)] > 500 and by_source[(source, 1)] > 500
    assert all(r.label in (0, 1) and r.subset.startswith(SUBSET_PREFIXES) for r in rows)
    # one group per source: cross-validation holds a whole written file out at a time
    assert all(r.group == r.source for r in rows)


def test_written_corpus_has_no_duplicate_texts() -> None:
    texts = [r.text.strip() for r in load_written()]
    assert len(set(texts)) == len(texts)
