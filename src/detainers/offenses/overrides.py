"""User overrides: a text or an offense code → a category, loaded from a CSV; overrides win.

The file (named by `DETAINERS_OVERRIDES`, or `--overrides` on `detainers classify`)
has the columns `match` (`text` or `code`), `value`, `category`, and optional
`note`. A text override matches the charge text after normalisation, so
`agg asslt child` and `AGG ASSLT CHILD   ` are the same text.
"""

from __future__ import annotations

import csv
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from detainers.errors import InputError, Problem
from detainers.offenses.normalize import normalize
from detainers.offenses.taxonomy import CATEGORIES

ENV_OVERRIDES = "DETAINERS_OVERRIDES"
_IDS = frozenset(c.id for c in CATEGORIES)


@dataclass(frozen=True)
class Overrides:
    texts: dict[str, str] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)
    #: First 8 hex digits of the file's SHA-256: part of the classifier version when overrides are in force.
    digest: str | None = None

    def lookup(self, normalized: str, code: str | None) -> tuple[str, str] | None:
        """(category, rule) when an override applies."""
        if normalized in self.texts:
            return self.texts[normalized], "override:text"
        if code and code in self.codes:
            return self.codes[code], "override:code"
        return None


NONE = Overrides()


def load(path: Path | str) -> Overrides:
    """Read and check an overrides file; InputError names the row and column of any problem."""
    path = Path(path)
    try:
        data = path.read_bytes()
        text = data.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(Problem(str(path), None, None, None, f"cannot be read as UTF-8 text ({exc})")) from None
    reader = csv.DictReader(text.splitlines())
    try:
        fieldnames, records = reader.fieldnames, list(reader)
    except csv.Error as exc:  # a cell over the csv module's field limit, say
        raise InputError(Problem(str(path), reader.line_num + 1, None, None, f"is not valid CSV ({exc})")) from None
    if not fieldnames or not {"match", "value", "category"} <= set(fieldnames):
        raise InputError(Problem(str(path), 1, None, None, "needs the columns match,value,category[,note]"))
    texts, codes, problems = {}, {}, []
    for number, row in enumerate(records, start=2):
        match = (row["match"] or "").strip().lower()
        value = (row["value"] or "").strip()
        category = (row["category"] or "").strip()
        if not (match or value or category):
            continue
        if match not in ("text", "code"):
            problems.append(Problem(str(path), number, "match", row["match"], "is not allowed (expected text or code)"))
        elif not value:
            problems.append(Problem(str(path), number, "value", None, "is empty (expected the text or code to match)"))
        elif category not in _IDS:
            problems.append(Problem(str(path), number, "category", category,
                                    "is not a category id (expected one of: " + ", ".join(sorted(_IDS)) + ")"))
        elif match == "text":
            texts[normalize(value)] = category
        else:
            codes[value.upper()] = category
    if problems:
        raise InputError(problems)
    return Overrides(texts, codes, hashlib.sha256(data).hexdigest()[:8])


def from_environment() -> Overrides:
    """The overrides named by DETAINERS_OVERRIDES, or none."""
    path = os.environ.get(ENV_OVERRIDES)
    return load(path) if path else NONE
