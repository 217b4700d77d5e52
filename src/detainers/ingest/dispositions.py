"""What a jail's disposition words mean: release reason, charge stage, and whether the detainer was lifted.

Jail reports end each charge line with a disposition ("RELEASED TO ICE", "BOND-SURETY",
"WARRANT WITHDRAWN", …). The packaged table `tables/dispositions.csv` says what each means;
users extend or override it with a CSV of the same columns (`--mapping` for jail-report).
A disposition in neither table is unknown, and an unknown disposition is never guessed.

Columns: `pattern`, `match` (`exact`, or `prefix` for families such as `BOND-…`),
`release_reason` (the canonical vocabulary; blank = this disposition does not release the
person), `charge_stage` (pending/convicted/dismissed/unknown), `detainer_action`
(none/lifted/cancelled), `note`. Exact patterns win over prefixes; the longest prefix wins.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from detainers.errors import InputError, Problem
from detainers.model import ReleaseReason, Stage, values

COLUMNS = ("pattern", "match", "release_reason", "charge_stage", "detainer_action", "note")
MATCHES = ("exact", "prefix")
ACTIONS = ("none", "lifted", "cancelled")
_SMALL_WORDS = frozenset({"a", "an", "and", "at", "by", "for", "in", "of", "on", "or", "the", "to"})


@dataclass(frozen=True)
class Disposition:
    """What one disposition text means."""

    text: str
    release_reason: str | None
    charge_stage: str
    detainer_action: str
    #: the table row that matched ("exact:RELEASED TO ICE", "prefix:BOND-"), or "blank"
    rule: str

    @property
    def releases(self) -> bool:
        """True when the disposition says the person left the jail."""
        return self.release_reason is not None

    @property
    def ends_detainer(self) -> bool:
        """True when the disposition says the detainer was lifted or cancelled."""
        return self.detainer_action in ("lifted", "cancelled")


#: A blank disposition: nothing has happened yet; the charge is pending and the booking open.
BLANK = Disposition("", None, Stage.PENDING.value, "none", "blank")


def normalize(text: str) -> str:
    """Compare dispositions without regard to case, spacing, or a trailing full stop."""
    return " ".join(text.replace("\u00a0", " ").split()).strip(" .").casefold()


def as_written(text: str) -> str:
    """A jail's upper-case words as a lift reason is written: 'ERROR IN ENTRY' → 'Error in Entry'."""
    words = " ".join(text.split()).lower().split(" ")
    return " ".join(w if (i and w in _SMALL_WORDS) else w[:1].upper() + w[1:] for i, w in enumerate(words))


@dataclass(frozen=True)
class _Row:
    release_reason: str | None
    charge_stage: str
    detainer_action: str
    rule: str


class Table:
    """A loaded dispositions table."""

    def __init__(self, exact: dict[str, _Row], prefix: dict[str, _Row]):
        self.exact = exact
        # Longest prefix first, so "BOND-PERSONAL" (if a user adds it as a prefix) beats "BOND-".
        self.prefix = sorted(prefix.items(), key=lambda item: -len(item[0]))

    def lookup(self, text: str | None) -> Disposition | None:
        """What `text` means; `BLANK` for an empty cell, None when the table does not know it."""
        if text is None or not text.strip():
            return BLANK
        key = normalize(text)
        row = self.exact.get(key)
        if row is None:
            row = next((r for p, r in self.prefix if key.startswith(p)), None)
        if row is None:
            return None
        return Disposition(" ".join(text.split()), row.release_reason, row.charge_stage, row.detainer_action, row.rule)


def _read_rows(text: str, name: str) -> tuple[dict[str, _Row], dict[str, _Row]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        return _rows(reader, name)
    except csv.Error as exc:  # a field over the csv module's size limit, say
        raise InputError(Problem(name, reader.line_num + 1, None, None, f"is not valid CSV ({exc})")) from None


def _rows(reader: csv.DictReader, name: str) -> tuple[dict[str, _Row], dict[str, _Row]]:
    missing = [c for c in COLUMNS[:5] if c not in (reader.fieldnames or [])]
    if missing:
        raise InputError(Problem(name, 1, None, None,
                                 f"needs the columns {','.join(COLUMNS)} (missing: {', '.join(missing)})"))
    exact: dict[str, _Row] = {}
    prefix: dict[str, _Row] = {}
    reasons, stages = values(ReleaseReason), values(Stage)
    for number, row in enumerate(reader, start=2):
        cells = {k: (row.get(k) or "").strip() for k in COLUMNS}
        if not any(cells.values()):
            continue
        if not cells["pattern"]:
            raise InputError(Problem(name, number, "pattern", None, "is empty (expected the disposition text)"))
        _check(name, number, "match", cells["match"].lower(), MATCHES)
        release = cells["release_reason"].lower() or None
        if release is not None:
            _check(name, number, "release_reason", release, reasons, blank_ok=True)
        stage = cells["charge_stage"].lower() or Stage.UNKNOWN.value
        _check(name, number, "charge_stage", stage, stages)
        action = cells["detainer_action"].lower() or "none"
        _check(name, number, "detainer_action", action, ACTIONS)
        match = cells["match"].lower()
        target = exact if match == "exact" else prefix
        target[normalize(cells["pattern"])] = _Row(release, stage, action, f"{match}:{cells['pattern']}")
    return exact, prefix


def _check(name: str, row: int, column: str, value: str, allowed: tuple[str, ...], blank_ok: bool = False) -> None:
    if value not in allowed:
        hint = " or blank" if blank_ok else ""
        raise InputError(Problem(name, row, column, value,
                                 f"is not allowed (expected one of: {', '.join(allowed)}{hint})"))


@lru_cache(maxsize=8)
def load_table(user_path: str | None = None) -> Table:
    """The packaged table, with the user's rows (if any) added or taking precedence."""
    packaged = resources.files("detainers.tables").joinpath("dispositions.csv").read_text("utf-8")
    exact, prefix = _read_rows(packaged, "dispositions.csv")
    if user_path:
        path = Path(user_path)
        try:
            text = path.read_text("utf-8-sig")
        except OSError as exc:
            raise InputError(Problem(str(path), None, None, None, f"cannot be read ({exc.strerror})")) from exc
        except UnicodeDecodeError:
            raise InputError(Problem(str(path), None, None, None,
                                     "is not UTF-8 text (save the file as UTF-8)")) from None
        user_exact, user_prefix = _read_rows(text, str(path))
        exact.update(user_exact)
        prefix.update(user_prefix)
    return Table(exact, prefix)


def table(user_path: Path | str | None = None) -> Table:
    """The table in force: packaged, plus the user's CSV when one is given."""
    return load_table(str(user_path) if user_path else None)
