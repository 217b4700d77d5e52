"""What a literal says besides its offense: that it is the detainer itself, or an attempt/conspiracy/solicitation."""

from __future__ import annotations

import re

_AGENCY = (
    r"(?:ICE|INS|DHS|BICE|ERO|CBP|USCIS|IMMIGRATION|IMM|US IMMIGRATION|HOMELAND SECURITY|BORDER PATROL"
    r"|IMMIGRATION AND CUSTOMS ENFORCEMENT|IMMIGRATION CUSTOMS ENFORCEMENT"
    r"|IMMIGRATION AND NATURALIZATION SERVICE?|DEPORTATION)"
)
_HOLD = r"(?:DETAINERS?|HOLDS?|DETAIN|DETENTION|WARRANT|NOTIFICATION|NOTIFY|REQUEST)"
_DETAINER = re.compile(
    rf"\b{_AGENCY}(?: \w+)? {_HOLD}\b"
    rf"|\b{_HOLD} (?:FOR |BY |FROM )?(?:THE )?{_AGENCY}\b"
    r"|\bI 247[ADNX]?\b"
    rf"|^(?:US )?{_AGENCY}(?: {_AGENCY})?$"
)
# With the jail's detainer code (4200) a shorter wording is enough: "DETAINER", "HOLD".
_DETAINER_WITH_CODE = re.compile(rf"\b(?:{_HOLD}|{_AGENCY})\b")
DETAINER_CODE = "4200"

_MODIFIERS = (
    ("attempt", re.compile(
        r"(?<!SUICIDE )\b(?:ATTEMPTED|ATTEMPTING|ATTEMPT)\b(?! TO (?:ELUDE|EVADE|FLEE))"
        # California Penal Code 664 is the attempt statute: "PC 664/211".
        r"|\b(?:PC|CPC) 664\b")),
    ("conspiracy", re.compile(r"\b(?:CONSPIRACY|CONSPIRE\w*|CONSPIRING)\b|\b(?:PC|CPC) 182\b")),
    ("solicitation", re.compile(r"\b(?:SOLICITATION|SOLICITING|SOLICIT)\b")),
)


def detainer_rule(normalized: str, code: str | None = None) -> str | None:
    """The rule string when a line is the immigration detainer or hold itself (not a charge), else None."""
    if _DETAINER.search(normalized):
        return "detainer:text"
    if code == DETAINER_CODE and _DETAINER_WITH_CODE.search(normalized):
        return "detainer:code-4200"
    return None


def modifier(normalized: str) -> str | None:
    """"attempt", "conspiracy" or "solicitation" (whichever the text names first), else None."""
    best: tuple[int, str] | None = None
    for name, pattern in _MODIFIERS:
        m = pattern.search(normalized)
        if m and (best is None or m.start() < best[0]):
            best = (m.start(), name)
    return best[1] if best else None
