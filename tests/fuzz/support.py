"""Shared pieces of the fuzz tests: settings, structure-aware strategies, and the property every reader keeps.

The property: a reader returns its records, or raises `InputError` whose message names the file;
never another exception, never a hang. Dates it returns are real dates in the years 1900–2100.
"""

from __future__ import annotations

import csv
import io
import os
import signal
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st

from detainers.errors import InputError
from tests.fuzz.conftest import PROFILE

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
CORPUS = REPO / "tests" / "corpus"

_env_examples = os.environ.get("DETAINERS_FUZZ_EXAMPLES", "").strip()
FUZZ = settings(settings.get_profile(PROFILE), **({"max_examples": int(_env_examples)} if _env_examples else {}))
#: For targets whose examples are slow (a workbook written per example, a database import): a tenth.
HEAVY = settings(FUZZ, max_examples=max(5, FUZZ.max_examples // 10))
#: Seconds one example may take before it counts as a hang.
HANG_SECONDS = 10.0

EARLIEST, LATEST = date(1900, 1, 1), date(2100, 12, 31)


class Hang(AssertionError):
    """An example ran longer than HANG_SECONDS."""


@contextmanager
def no_hang(seconds: float = HANG_SECONDS):
    """Fail (instead of waiting forever) when the body runs longer than `seconds`."""
    def alarm(signum, frame):
        raise Hang(f"took longer than {seconds} s (a hang)")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def reads_cleanly(call, *names: str | Path):
    """Run a reader: its result, or None when it raised InputError naming one of `names`.

    Any other exception (and a hang) fails the example.
    """
    with no_hang():
        try:
            return call()
        except InputError as exc:
            message = str(exc)
            assert exc.problems, "InputError without problems"
            assert any(str(n) in message for n in names), f"the error does not name the file: {message[:300]!r}"
            return None


def assert_dates_in_bounds(rows: dict[str, list[dict]] | list[dict]) -> None:
    """Every date (or datetime) in the rows is within the accepted years."""
    groups = rows.values() if isinstance(rows, dict) else [rows]
    for group in groups:
        for row in group:
            for key, value in row.items():
                if isinstance(value, (date, datetime)):
                    day = value.date() if isinstance(value, datetime) else value
                    assert EARLIEST <= day <= LATEST, f"{key} = {value!r} is outside 1900–2100"


# ---------------------------------------------------------------- cells

#: Texts that break naive readers: formulas, markers, invisible and bidirectional characters, numbers.
NASTY = [
    "", " ", "\t", "\u00a0", "\0", "\r", "\n", "\r\n", '"', '""', "'", ",", ";", "\\",
    "=1+1", "=HYPERLINK(\"http://x\")", "+1", "-1", "@SUM(A1)", "=cmd|' /C calc'!A0", "'=1",
    "\u202e", "\u200f", "\u200e", "\u2066x\u2069", "\ufeff", "\u200b", "\u2028", "\u0085", "\x1f", "\x7f",
    "e\u0301", "\u0301", "Z\u0335\u0336\u0337\u0338", "ß", "ﬃ", "İ", "ǅ", "Ⅻ", "²", "٣", "𝟗", "🙂", "\U0010ffff",
    "NaN", "nan", "inf", "-inf", "Infinity", "1e309", "-0", "0x1F", "9" * 30, "9" * 5000, "1" * 4301,
    "(b)(6)", "(b)(6), (b)(7)(c)", "(b)(7)(c); (b)(6)", "(b)(6)  (b)(6)  (b)(6)  (b)(6)  (b)(6)  (b)(6)  (b)(6) x",
    "null", "None", "N/A", "-", "TRUE", "FALSE",
    "ICE DETAINER", "I-247A", "IMMIGRATION HOLD", "4200",
]

#: Dates written every way a clerk or an export might, valid or not.
DATE_SPELLINGS = [
    "2019-02-30", "2019-13-01", "13/45/2019", "00/00/0000", "0000-00-00", "1899-12-31", "1900-01-01",
    "2100-12-31", "2101-01-01", "9999-12-31", "0001-01-01", "2019-1-1", "2019/01/01", "01.02.2019",
    "Dec 31, 2019", "31-Dec-2019", "2019-01-01T25:00", "2019-01-01 12:60", "01/02/2019 13:00 PM",
    "01/02/2019 0:00 AM", "2019-01-01T00:00:00.123456789", "20190101", "2019-W01-1", "43466", "43466.5",
    "٢٠١٩-٠١-٠١", "２０１９-０１-０１", "2019-01-01\n", " 2019-01-01 ", "2019-01-01x",
]


#: Cells longer than the csv module's field limit (131,072 characters), or just long.
HUGE = st.sampled_from(["A" * 131_073, "x " * 70_000, "é" * 20_000])


@st.composite
def date_text(draw) -> str:
    """A date as text: ISO, US, with a time, or one of the odd spellings."""
    day = draw(st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)))
    hour, minute, second = draw(st.integers(0, 30)), draw(st.integers(0, 70)), draw(st.integers(0, 70))
    forms = [
        day.isoformat(),
        f"{day.month}/{day.day}/{day.year:04d}",
        f"{day.month:02d}/{day.day:02d}/{day.year:04d} {hour}:{minute:02d}",
        f"{day.month:02d}/{day.day:02d}/{day.year:04d} {hour}:{minute:02d}:{second:02d} {draw(st.sampled_from(['AM', 'PM', 'am']))}",
        f"{day.isoformat()}T{hour:02d}:{minute:02d}:{second:02d}",
        f"{day.isoformat()} {hour:02d}:{minute:02d}",
        day.strftime("%B %d, %Y") if day.year >= 1000 else day.isoformat(),
        day.strftime("%d-%b-%y"),
        f"{day.day:02d}.{day.month:02d}.{day.year}",
        draw(st.sampled_from(DATE_SPELLINGS)),
    ]
    return draw(st.sampled_from(forms))


@st.composite
def redaction_text(draw) -> str:
    """ICE's exemption markers, many of them, with the separators releases use, sometimes with junk after."""
    markers = draw(st.lists(st.sampled_from(["(b)(6)", "(b)(7)(c)", "(b)(7)(e)", "(B)(6)"]), min_size=1, max_size=30))
    separator = draw(st.sampled_from([", ", " ; ", " and ", "/", " & ", ",  "]) | st.text(" \t", min_size=1, max_size=8))
    return separator.join(markers) + draw(st.sampled_from(["", "", " x", ".", "  (b)", ",,"]))


def text_cell(max_size: int = 60) -> st.SearchStrategy[str]:
    """A text cell: random unicode (control characters included), a nasty value, a date, a number."""
    return st.one_of(
        st.text(max_size=max_size),
        st.text(alphabet=st.characters(codec="ascii"), max_size=max_size),
        st.sampled_from(NASTY),
        date_text(),
        redaction_text(),
        st.integers().map(str),
        st.floats().map(repr),
        st.binary(max_size=20).map(lambda b: b.decode("latin-1")),
        HUGE,
    )


#: Cell values a spreadsheet library hands back (calamine: str, int, float, bool, datetime, date, time, timedelta).
typed_cell = st.one_of(
    st.none(), text_cell(), st.integers(min_value=-(2 ** 63), max_value=2 ** 63), st.floats(),
    st.booleans(), st.datetimes(), st.dates(), st.times(), st.timedeltas(),
    st.sampled_from([datetime.max, datetime.min, date.max, date.min, datetime(1899, 12, 31), time.max,
                     timedelta.max, float("nan"), float("inf"), 1e308, -1e308, 0.5, 43466.0, 2 ** 53 + 1]),
)


# ---------------------------------------------------------------- tables

def read_rows(path: Path) -> list[list[str]]:
    """A sample CSV as rows of text cells (the starting point of the mutations)."""
    text = path.read_bytes().decode("utf-8-sig")
    return [list(r) for r in csv.reader(io.StringIO(text, newline=""))]


@st.composite
def mutated_table(draw, rows: list[list], cell=None, header_rows: tuple[int, ...] = (0,), max_ops: int = 6,
                  hot_columns: tuple[int, ...] = ()):
    """`rows` after a few structure-aware edits: cells replaced, columns swapped, dropped or duplicated,
    rows dropped, duplicated, truncated or padded, header cells renamed, blank and footer rows added.
    `hot_columns`: the columns the reader reads, edited more often than the others."""
    cell = cell if cell is not None else text_cell()
    table = [list(r) for r in rows]
    for _ in range(draw(st.integers(0, max_ops))):
        if not table:
            table.append([draw(cell)])
            continue
        op = draw(st.sampled_from(["cell", "cell", "cell", "cell", "swap", "drop_col", "dup_col", "drop_row",
                                   "dup_row", "truncate", "pad", "header", "blank", "footer", "empty_row_cells"]))
        r = draw(st.integers(0, len(table) - 1))
        width = max(len(x) for x in table) or 1
        c = draw(st.integers(0, width - 1))
        if hot_columns and draw(st.integers(0, 3)):
            c = draw(st.sampled_from(hot_columns))
        if op == "cell":
            if c < len(table[r]):
                table[r][c] = draw(cell)
            else:
                table[r].append(draw(cell))
        elif op == "swap":
            c2 = draw(st.integers(0, width - 1))
            for row in table:
                if c < len(row) and c2 < len(row):
                    row[c], row[c2] = row[c2], row[c]
        elif op == "drop_col":
            for row in table:
                if c < len(row):
                    del row[c]
        elif op == "dup_col":
            for row in table:
                if c < len(row):
                    row.insert(c, row[c])
        elif op == "drop_row":
            del table[r]
        elif op == "dup_row":
            table.insert(r, list(table[r]))
        elif op == "truncate":
            table[r] = table[r][: draw(st.integers(0, len(table[r])))]
        elif op == "pad":
            table[r] = table[r] + [draw(cell) for _ in range(draw(st.integers(1, 3)))]
        elif op == "header":
            h = draw(st.sampled_from(header_rows)) if header_rows else 0
            if h < len(table) and c < len(table[h]) and isinstance(table[h][c], str):
                old = table[h][c]
                table[h][c] = draw(st.sampled_from([old.upper(), old.lower(), f" {old} ", old.replace(" ", "_"),
                                                    old[:-1], old + "s", "\ufeff" + old, old.replace(" ", "  ")])
                                   | cell)
        elif op == "blank":
            table.insert(r, [""] * draw(st.integers(0, width)))
        elif op == "footer":
            table.insert(r if draw(st.booleans()) else len(table), [draw(cell)])
        elif op == "empty_row_cells":
            table[r] = ["" for _ in table[r]]
    return table


def to_csv(rows: list[list]) -> str:
    out = io.StringIO(newline="")
    csv.writer(out).writerows([["" if c is None else str(c) for c in r] for r in rows])
    return out.getvalue()


@st.composite
def encoded(draw, text: str) -> bytes:
    """CSV text as bytes: UTF-8 (with or without BOM), Windows-1252, UTF-16; sometimes cut or spliced."""
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16"]))
    data = text.encode(encoding, errors="replace")
    if draw(st.integers(0, 4)) == 0:
        data = data.replace(b"\r\n", draw(st.sampled_from([b"\n", b"\r", b"\n\r"])))
    choice = draw(st.integers(0, 5))
    if choice == 0 and data:
        data = data[: draw(st.integers(0, len(data)))]  # truncated mid-write
    elif choice == 1:
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=16)) + data[at:]  # random bytes spliced in
    elif choice == 2 and data:
        at = draw(st.integers(0, len(data) - 1))
        data = data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1:]  # a flipped byte
    return data


@st.composite
def mutated_bytes(draw, data: bytes, max_edits: int = 4) -> bytes:
    """A binary file (a workbook) with bytes flipped, cut, duplicated or spliced in."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, max_edits))):
        if not out:
            out += draw(st.binary(min_size=1, max_size=64))
            continue
        at = draw(st.integers(0, len(out) - 1))
        op = draw(st.sampled_from(["flip", "cut", "splice", "dup", "zero"]))
        if op == "flip":
            out[at] ^= draw(st.integers(1, 255))
        elif op == "cut":
            del out[at: at + draw(st.integers(1, 4096))]
        elif op == "splice":
            out[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif op == "dup":
            out[at:at] = out[at: at + draw(st.integers(1, 512))]
        else:
            out[at: at + 8] = b"\0" * 8
    return bytes(out)
