"""The charge classifier: any text, code, level and state → a category of the list, the same every time."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from detainers.offenses import CATEGORIES, classify, normalize
from detainers.offenses import overrides
from detainers.offenses.classifier import _with_overrides
from tests.fuzz.support import DATA, FUZZ, HUGE, encoded, no_hang, reads_cleanly, text_cell

CATEGORY_IDS = frozenset(c.id for c in CATEGORIES)
LEVELS = frozenset({"felony", "misdemeanor", "infraction", "unknown"})
with (DATA / "charges" / "labelled.csv").open(encoding="utf-8", newline="") as fh:
    LITERALS = sorted({row[next(iter(row))] for row in csv.DictReader(fh)})
#: Characters that make text look the same and compare different.
ODD = ["\u202e", "\u202d", "\u200f", "\u200e", "\u2066", "\u2069", "\u200b", "\u200d", "\ufeff", "\u0301", "\u0338",
       "\u0327", "\u00a0", "\u3000", "\0", "\x1b", "\r", "\n", "\t", "\x85", "\u2028", "İ", "ß", "ﬃ", "/", "&", "(F3",
       "(MA)", "W/", "U/", "PC 664/", "$", "<", "=<"]


@st.composite
def charge_text(draw) -> str:
    """A real literal with odd characters spliced in, cut, repeated or cased; or anything at all."""
    kind = draw(st.integers(0, 4))
    if kind == 0:
        return draw(st.text(max_size=300))
    if kind == 1:
        return draw(HUGE | st.text(min_size=1000, max_size=5000)
                    | st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=20, max_size=3000))
    text = draw(st.sampled_from(LITERALS))
    for _ in range(draw(st.integers(0, 6))):
        at = draw(st.integers(0, len(text)))
        op = draw(st.integers(0, 4))
        if op == 0:
            text = text[:at] + draw(st.sampled_from(ODD)) + text[at:]
        elif op == 1:
            text = text[:at]
        elif op == 2:  # repeated, up to 200,000 characters: time grows with length, and megabytes take seconds
            text = (text * draw(st.integers(2, 50)))[:200_000]
        elif op == 3:
            text = draw(st.sampled_from([text.lower(), text.casefold(), text.swapcase(), text.title()]))
        else:
            text = text[:at] + draw(text_cell(20)) + text[at:]
    return text


codes = st.one_of(st.none(), st.sampled_from(["4200", "1199", "13990031", "13-99-0031", "0305", " 4200 ", "²³", "٤٢٠٠"]),
                  st.integers(-1, 10 ** 12).map(str), text_cell(20))
levels = st.one_of(st.none(), st.sampled_from(["F", "F3", "MA", "X", "1", "felony", "class A felony"]), text_cell(20))
states = st.one_of(st.none(), st.sampled_from(["TX", "CA", "NY", "PA", "tx ", "48", "TEXAS"]), text_cell(5))


@FUZZ
@given(text=charge_text(), code=codes, level=levels, state=states)
def test_classify(text, code, level, state):
    with no_hang():
        found = classify(text, code, level, state)
        again = _with_overrides(text, code, level, state)  # not from the cache
    assert found.category in CATEGORY_IDS
    assert found.level in LEVELS
    assert found.runner_up is None or found.runner_up in CATEGORY_IDS
    assert not found.is_detainer or found.category == "immigration"
    assert found == again, "the same charge was classified twice differently"
    assert isinstance(found.explain(), str)


@FUZZ
@given(text=charge_text())
def test_normalize(text):
    with no_hang():
        out = normalize(text)
    assert isinstance(out, str) and out == out.strip()
    assert all(c.isascii() or c.isdigit() or c.isupper() or not c.isalpha() for c in out)


@FUZZ
@given(rows=st.lists(st.tuples(st.sampled_from(["text", "code", "TEXT", "", "x"]), charge_text(),
                               st.sampled_from(sorted(CATEGORY_IDS)) | text_cell(10)), max_size=5),
       data=st.data())
def test_overrides_file(rows, data):
    """A user's overrides file: loaded, or refused naming the file."""
    out = [["match", "value", "category", "note"]] + [[m, v, c, ""] for m, v, c in rows]
    lines = []
    for r in out:
        lines.append(",".join('"' + str(c).replace('"', '""') + '"' for c in r))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "overrides.csv"
        path.write_bytes(data.draw(encoded("\n".join(lines))))
        loaded = reads_cleanly(lambda: overrides.load(path), path)
        if loaded is not None:
            for category in [*loaded.texts.values(), *loaded.codes.values()]:
                assert category in CATEGORY_IDS
