"""The table that says what a lift reason means (DESIGN §4 rule 4).

The packaged table is `tables/lift_reasons.csv`; users add or override rows with
a CSV of the same columns named by `DETAINERS_LIFT_REASONS`. A reason that is in
neither table is `unmapped`, and an unmapped reason never becomes a guess.
"""

from __future__ import annotations

import csv
import os
from functools import lru_cache
from importlib import resources
from pathlib import Path

from detainers.errors import InputError, Problem

ENV_TABLE = "DETAINERS_LIFT_REASONS"

#: What a reason can mean. `lifted`/`cancelled` end the detainer on the lift date;
#: `honored`/`declined`/`transferred` are ICE-side records of what happened at release.
MEANINGS = ("lifted", "cancelled", "honored", "declined", "transferred", "unknown")
UNMAPPED = "unmapped"


def normalize_reason(reason: str) -> str:
    """Compare reasons without regard to case, spacing or trailing dots."""
    return " ".join(reason.replace("\u00a0", " ").split()).strip(" .").casefold()


def _read_table(text: str, name: str) -> dict[str, str]:
    table: dict[str, str] = {}
    reader = csv.DictReader(text.splitlines())
    if reader.fieldnames is None or not {"reason", "means"} <= set(reader.fieldnames):
        raise InputError(Problem(name, 1, None, None, "needs the columns reason,means[,note]"))
    for number, row in enumerate(reader, start=2):
        means = (row.get("means") or "").strip().lower()
        if means not in MEANINGS:
            raise InputError(Problem(name, number, "means", row.get("means"),
                                     f"is not allowed (expected one of: {', '.join(MEANINGS)})"))
        table[normalize_reason(row["reason"] or "")] = means
    return table


@lru_cache(maxsize=8)
def load_table(user_path: str | None = None) -> dict[str, str]:
    """The packaged table, with the user's rows (if any) taking precedence."""
    packaged = resources.files("detainers.tables").joinpath("lift_reasons.csv").read_text("utf-8")
    table = _read_table(packaged, "lift_reasons.csv")
    if user_path:
        path = Path(user_path)
        try:
            text = path.read_text("utf-8-sig")
        except OSError as exc:
            raise InputError(Problem(str(path), None, None, None, f"cannot be read ({exc.strerror})")) from exc
        table.update(_read_table(text, str(path)))
    return table


def active_table() -> dict[str, str]:
    """The table in force for this process (packaged plus `DETAINERS_LIFT_REASONS`)."""
    return load_table(os.environ.get(ENV_TABLE) or None)


def meaning(reason: str | None, table: dict[str, str] | None = None) -> str | None:
    """What a lift reason means; None for a blank reason, `unmapped` for an unknown one."""
    if reason is None or not reason.strip():
        return None
    table = active_table() if table is None else table
    return table.get(normalize_reason(reason), UNMAPPED)
