"""Offense codes: NCIC uniform offense codes (4 digits) and Texas 8-digit codes sharing their prefix."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from importlib import resources

from detainers.offenses.markers import DETAINER_CODE
from detainers.offenses.taxonomy import CATEGORY_IDS


@dataclass(frozen=True)
class CodeMatch:
    """What an offense code says: its category and the rule string ("ncic:3562", "ncic-group:13")."""

    category: str
    rule: str
    full: bool


def _load() -> dict[str, str]:
    table: dict[str, str] = {}
    with resources.files(__package__).joinpath("ncic_groups.csv").open(encoding="utf-8") as fh:
        for n, row in enumerate(csv.DictReader(fh), start=2):
            code, category = row["code"].strip(), row["category"].strip()
            if category not in CATEGORY_IDS or len(code) not in (2, 4) or not code.isdigit():
                raise ValueError(f"ncic_groups.csv, row {n}: {code!r} → {category!r} is not a 2- or 4-digit code "
                                 f"and a category id")
            table[code] = category
    return table


#: 2-digit NCIC groups and the few full 4-digit codes that refine them.
NCIC: dict[str, str] = _load()
_SEPARATORS = re.compile(r"[\s.\-]")


def clean_code(code: str | int | None) -> str | None:
    """The code as a digit string ("13-99-0031" → "13990031"), or None when it is not numeric."""
    if code is None:
        return None
    s = _SEPARATORS.sub("", str(code))
    return s if s.isdigit() else None


def lookup(code: str | int | None) -> CodeMatch | None:
    """Category named by an NCIC code (4 digits) or a Texas offense code (8 digits, NCIC prefix); else None."""
    digits = clean_code(code)
    if digits is None or len(digits) not in (4, 8) or digits == DETAINER_CODE:
        return None
    prefix = digits[:4]
    if prefix in NCIC:
        return CodeMatch(NCIC[prefix], f"ncic:{prefix}", True)
    group = digits[:2]
    if group in NCIC:
        return CodeMatch(NCIC[group], f"ncic-group:{group}", False)
    return None
