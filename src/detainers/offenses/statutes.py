"""Statute citations inside a charge literal: "PC 245", "HS 11350", "VC 23152", "PL 120.05", "18 USC 922(g)".

The table is statutes.csv (columns code, section, category, note). `code` names the body of law:
CA-PC, CA-HS, CA-VC, CA-BP (California Penal, Health and Safety, Vehicle, Business and Professions
codes), NY-PL (New York Penal Law) and US-8, US-18, US-21 (titles of the United States Code).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from importlib import resources

from detainers.offenses.taxonomy import CATEGORY_IDS


@dataclass(frozen=True)
class StatuteMatch:
    """What a cited statute says: its category and the rule string ("statute:CA-PC-245")."""

    category: str
    rule: str


def _load() -> dict[tuple[str, str], str]:
    table: dict[tuple[str, str], str] = {}
    with resources.files(__package__).joinpath("statutes.csv").open(encoding="utf-8") as fh:
        for n, row in enumerate(csv.DictReader(fh), start=2):
            code, section, category = row["code"].strip(), row["section"].strip().upper(), row["category"].strip()
            if category not in CATEGORY_IDS or not re.fullmatch(r"[A-Z]{2}-[A-Z0-9]+", code) or not section:
                raise ValueError(f"statutes.csv, row {n}: {code!r} {section!r} → {category!r} is not a code, "
                                 f"section and category id")
            table[(code, section)] = category
    return table


#: (code, section) → category. A section may carry a subsection letter: ("CA-PC", "647(B)").
STATUTES: dict[tuple[str, str], str] = _load()

_CA_CODES = {"PC": "CA-PC", "CPC": "CA-PC", "HS": "CA-HS", "HSC": "CA-HS", "H AND S": "CA-HS",
             "VC": "CA-VC", "CVC": "CA-VC", "BP": "CA-BP", "B AND P": "CA-BP"}
# Normalised text: "PC 273A A", "VC 14601.2 A", "H AND S 11351". The optional letter is the subsection.
_CA = re.compile(r"\b(PC|CPC|HSC?|H AND S|CVC|VC|BP|B AND P) (\d+(?:\.\d+)?[A-Z]?)(?: ([A-Z])\b)?(?: (\d+(?:\.\d+)?[A-Z]?))?")
_NY = re.compile(r"\b(?:NY )?(?:PL|NYPL|PENAL LAW) (\d{2,3}\.\d{2})\b")
_US = re.compile(r"\b(8|18|21) ?USC (?:SEC(?:TION)? )?(\d+[A-Z]?)(?: ([A-Z])\b)?")
# California Penal Code 664 (attempt) and 182 (conspiracy) cite the target offense next: "PC 664/211".
_CA_INCHOATE = frozenset({"664", "182"})


def _find(code: str, section: str, sub: str | None) -> str | None:
    if sub and (code, f"{section}({sub})") in STATUTES:
        return f"{section}({sub})"
    if (code, section) in STATUTES:
        return section
    return None


def lookup(normalized: str, state: str | None = None) -> StatuteMatch | None:
    """The category of the first statute cited in normalised text that the table knows; else None."""
    if "USC" in normalized:
        for m in _US.finditer(normalized):
            code = f"US-{m.group(1)}"
            found = _find(code, m.group(2), m.group(3))
            if found:
                return StatuteMatch(STATUTES[(code, found)], f"statute:{code}-{found}")
    if state in (None, "CA"):
        for m in _CA.finditer(normalized):
            code = _CA_CODES[m.group(1)]
            section, sub = m.group(2), m.group(3)
            if code == "CA-PC" and section in _CA_INCHOATE and m.group(4) and not sub:
                section = m.group(4)
            found = _find(code, section, sub)
            if found:
                return StatuteMatch(STATUTES[(code, found)], f"statute:{code}-{found}")
    if state in (None, "NY"):
        for m in _NY.finditer(normalized):
            section = m.group(1)
            # Exact section first, then shorter prefixes: 220.39 → 220.3 → 220.
            for key in (section, section[:-1], section.split(".")[0]):
                if ("NY-PL", key) in STATUTES:
                    return StatuteMatch(STATUTES[("NY-PL", key)], f"statute:NY-PL-{key}")
    return None
