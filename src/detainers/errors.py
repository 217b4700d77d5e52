"""Error types. `InputError` means the user's input is wrong (exit 2); the rest are ours (exit 1)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, pointing at the cell."""

    file: str
    row: int | None
    column: str | None
    value: str | None
    expected: str

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column}")
        head = ", ".join(where)
        if self.value is None:
            return f"{head}: {self.expected}"
        return f"{head}: {self.value!r} {self.expected}"


class InputError(Exception):
    """Bad input: nothing was changed. Carries every problem found (up to a cap)."""

    def __init__(self, problems: list[Problem] | Problem | str, *, more: int = 0):
        if isinstance(problems, (Problem, str)):
            problems = [problems]  # type: ignore[list-item]
        self.problems: list = list(problems)
        self.more = more
        #: What was changed after all (e.g. earlier files of a multi-file ingest); None: nothing.
        self.changed: str | None = None
        super().__init__(self.message())

    def message(self) -> str:
        lines = [str(p) for p in self.problems]
        if self.more:
            lines.append(f"… and {self.more} more problems of the same kinds.")
        return "\n".join(lines)


class StoreError(Exception):
    """The database cannot be opened or used (bad URL, server down)."""
