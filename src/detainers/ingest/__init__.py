"""Readers for the formats agencies publish. One module per source; each declares what it reads.

Adding a source means adding a module with `KIND`, `TITLE`, `WHERE_FROM` and
`read(path, options, progress) -> Extract`, and naming it here.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

#: kind → module, in the order `detainers ingest --help` lists them.
SOURCES = {
    "ice-lesa": "detainers.ingest.ice_lesa",
    "jail-report": "detainers.ingest.jail_report",
    "jail-csv": "detainers.ingest.jail_csv",
    "287g-roster": "detainers.ingest.agreements_287g",
    "roster-snapshot": "detainers.ingest.roster_snapshot",
}


def reader(kind: str) -> ModuleType:
    """The module that reads sources of this kind."""
    return import_module(SOURCES[kind])


def catalogue() -> list[dict]:
    """Every source kind with what it reads and where such files come from (for docs and --help)."""
    rows = []
    for kind in SOURCES:
        module = reader(kind)
        rows.append({"kind": kind, "title": module.TITLE, "where_from": " ".join(module.WHERE_FROM.split()),
                     "doc": f"docs/sources/{kind}.md"})
    return rows


def catalogue_markdown() -> str:
    """docs/sources/README.md, generated from the modules' own declarations."""
    lines = ["# Sources", "",
             "What `detainers ingest KIND PATH...` reads. This page is generated from the reader modules "
             "(`python -m detainers.ingest > docs/sources/README.md`); a test keeps it in step.", "",
             "| kind | what it is | page |", "|---|---|---|"]
    for row in catalogue():
        lines.append(f"| `{row['kind']}` | {row['title']} | [{row['kind']}.md]({row['kind']}.md) |")
    lines.append("")
    lines += ["## For every source", "",
              "- **All or nothing.** A file is read, checked against the database and written in one "
              "transaction; any error names the file, sheet, row, column and value, exits with code 2, and "
              "changes nothing.",
              "- **Provenance.** Every stored row keeps the source (file name, SHA-256, sheet) and its row "
              "number as a spreadsheet shows it. `detainers sources` lists what was loaded.",
              "- **Again and newer.** The same file again is a no-op. A newer release of the same series "
              "(`--family`, by default the kind and file name) is reconciled: added, changed, and rows no "
              "longer present are listed (and kept).",
              "- **Data quality.** Optional cells that cannot be read are left empty and counted; the counts "
              "are printed and stored with the source. When more than 5% of a column's cells cannot be read "
              "the summary says so; when more than half cannot, the file is refused as probably shifted or "
              "mislabelled (files of fewer than 20 records are not judged by share).",
              "- **Duplicates.** Likely duplicates (same person, facility and day) are flagged, never dropped.",
              "- **Large files.** A CSV of 32 MB or more, of a kind whose reader can hand its rows over in "
              "chunks (today `ice-lesa`), is read in a process of its own, 50,000 records at a time, while "
              "this one checks and writes the chunk before; still one transaction, still all or nothing. "
              "Memory then stays the same whatever the file's size, and the stored rows are those of a "
              "whole-file read. An error found by the checks lists the problems of the first chunk that "
              "has any.",
              "- **Facilities.** A facility is matched to a stored one by its code, its id, or its name with "
              "city and state (never by name alone); new ones wait, unplaced, for `detainers facilities place`.",
              ""]
    for row in catalogue():
        lines += [f"## {row['kind']}", "", row["where_from"], ""]
    lines += ["## Adding a source", "",
              "Write one module under `src/detainers/ingest/` with `KIND`, `TITLE`, `WHERE_FROM` and "
              "`read(path, options, progress) -> Extract` (see `ingest/base.py`): map the file's columns onto "
              "the canonical rows of the data package, give each row its `source_row`, null and count bad "
              "optional cells in `Extract.quality`, and raise `InputError` (through `base.fail`) for anything "
              "required that cannot be read. A reader of files that can be national in size also offers "
              "`reads_in_chunks(path) -> bool` and `read(..., chunks=callback, chunk_rows=N)`, handing over "
              "the rows every N records and keeping what it must remember across the file (people seen, "
              "ids given) in a `base.SpilledState` on disk. Name the module in `SOURCES` in `ingest/__init__.py`, add its page "
              "`docs/sources/KIND.md`, regenerate this page, and test the reader on real-layout files. "
              "The loader does the rest: facility placement, checks, reconciliation with earlier releases, "
              "provenance and the one transaction.", ""]
    return "\n".join(lines)
