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
