"""Every source declares what it reads; the docs page is generated from those declarations."""

from pathlib import Path

from detainers.ingest import SOURCES, catalogue, catalogue_markdown, reader

DOCS = Path(__file__).parent.parent / "docs" / "sources"


def test_every_reader_declares_itself():
    for kind in SOURCES:
        module = reader(kind)
        assert module.KIND == kind
        assert module.TITLE and len(module.WHERE_FROM) > 80 and callable(module.read)
        assert (DOCS / f"{kind}.md").is_file(), f"docs/sources/{kind}.md is missing"


def test_docs_index_is_current():
    assert (DOCS / "README.md").read_text(encoding="utf-8") == catalogue_markdown(), (
        "regenerate: python -m detainers.ingest > docs/sources/README.md")
    assert [row["kind"] for row in catalogue()] == list(SOURCES)
