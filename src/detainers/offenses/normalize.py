"""Normalise a charge literal: uppercase, tokenise, expand jail abbreviations and misspellings."""

from __future__ import annotations

import csv
import re
from functools import lru_cache
from importlib import resources

from detainers.offenses.levels import MARKER


def _load_abbreviations() -> dict[str, str]:
    with resources.files(__package__).joinpath("abbreviations.csv").open(encoding="utf-8") as fh:
        return {row["abbreviation"].upper(): row["expansion"].upper() for row in csv.DictReader(fh)}


#: Whole-token expansions, read from abbreviations.csv (users can read and extend it).
ABBREVIATIONS: dict[str, str] = _load_abbreviations()

# Done on the raw text, before "/" splits tokens apart.
_RAW = (
    (re.compile(r"(?<![A-Z0-9])W/IN\b"), " WITHIN "),
    (re.compile(r"(?<![A-Z0-9])W/O\b"), " WITHOUT "),
    (re.compile(r"(?<![A-Z0-9])W/"), " WITH "),
    (re.compile(r"&"), " AND "),
    (re.compile(r"['`\u2019]"), ""),
)
_TOKEN = re.compile(r"[<>]=?|=<|=>|\$?\d+(?:[.,]\d+)*[A-Z]*|[A-Z0-9]+")
# Context-dependent expansions, done on the expanded token string.
_PHRASES = (
    (re.compile(r"\bMAN (?=DELIVERY\b)"), "MANUFACTURE "),
    (re.compile(r"\bCONT (?=SEXUAL\b)"), "CONTINUOUS "),
    (re.compile(r"\bCONT SUB\b"), "CONTROLLED SUBSTANCE"),
    (re.compile(r"\bCONT (?=SUBSTANCE\b)"), "CONTROLLED "),
    (re.compile(r"\bSTAT (?=RAPE\b|SEXUAL\b|SODOMY\b)"), "STATUTORY "),
    (re.compile(r"\bINDECENCY (?=LIBERTIES\b)"), "INDECENT "),
    (re.compile(r"\b(IDENTIFY|ID) (?=THEFT\b)"), "IDENTITY "),
    (re.compile(r"\bTO ID\b"), "TO IDENTIFY"),
    (re.compile(r"\bRE (?=ENTRY\b|ENTER)"), "RE"),
    (re.compile(r"\bWHILE INTOXICATION\b"), "WHILE INTOXICATED"),
    (re.compile(r"\bFIRE ARMS?\b"), "FIREARM"),
    (re.compile(r"\bB AND E\b"), "BREAKING AND ENTERING"),
    (re.compile(r"\b(FAMILY|DOMESTIC|DATING) VIOLATION\b"), r"\1 VIOLENCE"),
    (re.compile(r"\bNO INS\b"), "NO INSURANCE"),
    (re.compile(r"\bLICENSE INV\b"), "LICENSE INVALID"),
    (re.compile(r"\bU S\b"), "US"),
    (re.compile(r"\bTERRORISTIC THREATS?\b"), "TERRORISTIC THREAT"),
)

# Words a literal cut off at its last character most often stood for.
_COMPLETIONS: tuple[str, ...] = (
    "AGGRAVATED", "APPEAR", "ARREST", "ASSAULT", "BODILY", "BUILDING", "BURGLARY", "CHILD",
    "COCAINE", "CONTACT", "CONTROLLED", "DEADLY", "DELIVERY", "DETENTION", "DISABLED", "ELDERLY",
    "EXPOSURE", "FAMILY", "FIREARM", "HABITATION", "HEROIN", "IDENTIFY", "INDECENCY", "INJURY",
    "INTOXICATED", "INVALID", "KIDNAPPING", "LICENSE", "MANSLAUGHTER", "MANUFACTURE", "MARIJUANA",
    "MEMBER", "METHAMPHETAMINE", "MISCHIEF", "ORDER", "PARAPHERNALIA", "PAROLE", "PENALTY",
    "PORNOGRAPHY", "POSSESSION", "PROBATION", "PROSTITUTION", "PROTECTIVE", "ROBBERY", "SEXUAL",
    "STRANGULATION", "SUBSTANCE", "SUSPENDED", "TRAFFICKING", "TRESPASS", "VEHICLE", "WEAPON",
)
_KNOWN_WORDS = frozenset(_COMPLETIONS) | frozenset(
    w for expansion in ABBREVIATIONS.values() for w in expansion.split()
)


def _complete(token: str) -> str:
    """Finish a word cut off at the end of a literal ("STRANGUL" → STRANGULATION), if unambiguous."""
    if len(token) < 4 or not token.isalpha() or token in _KNOWN_WORDS or token in ABBREVIATIONS:
        return token
    found = [w for w in _COMPLETIONS if w.startswith(token)]
    return found[0] if len(found) == 1 else token


@lru_cache(maxsize=1 << 16)
def normalize(text: str | None) -> str:
    """Uppercase, split into words and symbols, expand abbreviations: "AGG ASSLT W/DW" → "AGGRAVATED ASSAULT WITH DEADLY WEAPON"."""
    if not text:
        return ""
    s = str(text).upper()
    for pattern, repl in _RAW:
        s = pattern.sub(repl, s)
    s = MARKER.sub(" ", s)
    tokens = _TOKEN.findall(s)
    if not tokens:
        return ""
    tokens[-1] = _complete(tokens[-1])
    s = " ".join(ABBREVIATIONS.get(t, t) for t in tokens)
    for pattern, repl in _PHRASES:
        s = pattern.sub(repl, s)
    return s
