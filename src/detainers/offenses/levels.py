"""Charge level (felony / misdemeanor / infraction / unknown) from level codes and charge text."""

from __future__ import annotations

import re

_FELONY_CODES = frozenset({"F", "F1", "F2", "F3", "FS", "FX", "S", "SJ", "P", "CF", "CAP"})
_MISDEMEANOR_CODES = frozenset({"M", "MA", "MB", "MC", "A", "B", "C", "MU"})
# Texas jail systems also write the felony degree as a bare digit ("1" = first degree).
_TEXAS_DIGITS = frozenset({"1", "2", "3"})
_TEXAS = frozenset({"TX", "TEXAS", "48"})

# Ohio/Colorado "F4", Pennsylvania "M2": a class letter plus a digit.
_NUMBERED = re.compile(r"([FM])\d")
_WORDS = (
    (re.compile(r"\bFELONY\b|\bFEL\b"), "felony"),
    (re.compile(r"\bMISDEMEANOR\b|\bMISD\b"), "misdemeanor"),
    (re.compile(r"\bINFRACTION\b"), "infraction"),
)
# "(F3)", "(MA)", "(FS)" and the same cut off at the end of a literal: "BOD(F3".
MARKER = re.compile(r"\(\s*(F[1-6SX]?|SJ|CF|CAP|M[ABC1-4]?|FEL|MISD)\s*(?:\)|$)")
# "FEL" after "BY" is a felon ("POSS WEAPON BY FEL"), not a level.
_TEXT_WORDS = (
    (re.compile(r"\bFELONY\b|(?<!\bBY )\bFEL\b"), "felony"),
    (re.compile(r"\bMISDEMEANOR\b|\bMISD\b"), "misdemeanor"),
    (re.compile(r"\bINFRACTION\b"), "infraction"),
)


def level_from_code(code: str | None, state: str | None = None) -> str:
    """Level named by a level code or word: "F3", "MB", "felony", "class A felony" …; else "unknown".

    "X" (written on detainer lines) and anything unrecognised give "unknown".
    """
    if code is None:
        return "unknown"
    c = " ".join(str(code).upper().split())
    if not c:
        return "unknown"
    if c in _FELONY_CODES:
        return "felony"
    if c in _MISDEMEANOR_CODES:
        return "misdemeanor"
    m = _NUMBERED.fullmatch(c)
    if m:
        return "felony" if m.group(1) == "F" else "misdemeanor"
    if c in _TEXAS_DIGITS and state is not None and state.strip().upper() in _TEXAS:
        return "felony"
    for pattern, level in _WORDS:
        if pattern.search(c):
            return level
    return "unknown"


def level_from_text(text: str) -> str:
    """Level stated inside a charge literal: "(MA)", "(F3", "FELONY", "MISD"; else "unknown"."""
    upper = text.upper()
    markers = MARKER.findall(upper)
    if markers:
        return level_from_code(markers[-1])
    for pattern, level in _TEXT_WORDS:
        if pattern.search(upper):
            return level
    return "unknown"
