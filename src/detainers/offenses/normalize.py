"""Normalise a charge literal: uppercase, tokenise, expand jail abbreviations and misspellings."""

from __future__ import annotations

import csv
import re
from functools import lru_cache
from importlib import resources

from detainers.offenses import rules as _rules
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
    # Florida "VICT 12 YOA-U/16": U/16 is "under 16".
    (re.compile(r"(?<![A-Z0-9])U/(?=\s*\d)"), " UNDER "),
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
    (re.compile(r"\bUS C\b"), "USC"),
    (re.compile(r"\bB E\b"), "BREAKING AND ENTERING"),
    (re.compile(r"\bCON(?:T|TR|TRL)? SUB\b"), "CONTROLLED SUBSTANCE"),
    (re.compile(r"\bCON (?=SUBSTANCE\b)"), "CONTROLLED "),
    (re.compile(r"\bID (?=INFORMATION\b)"), "IDENTIFICATION "),
    (re.compile(r"\bCORR FAC\b"), "CORRECTIONAL FACILITY"),
    (re.compile(r"\b(CORRECTIONAL|DETENTION) FAC\b"), r"\1 FACILITY"),
    (re.compile(r"\bREG (?=CARD\b|TAGS?\b|PLATES?\b|STICKER\b)"), "REGISTRATION "),
    (re.compile(r"\bTERRORISTIC THREATS?\b"), "TERRORISTIC THREAT"),
)

# Words a literal cut off at its last character most often stood for.
_COMPLETIONS: tuple[str, ...] = (
    "AGGRAVATED", "APPEAR", "ARREST", "ASSAULT", "BODILY", "BUILDING", "BURGLARY", "CHILD",
    "COCAINE", "CONTACT", "CONTROLLED", "DEADLY", "DELIVERY", "DETENTION", "DISABLED", "ELDERLY",
    "EXPOSURE", "FAMILY", "FIREARM", "HABITATION", "HEROIN", "HOMICIDE", "IDENTIFY", "INDECENCY", "INJURY",
    "INTOXICATED", "INVALID", "KIDNAPPING", "LICENSE", "MANSLAUGHTER", "MANUFACTURE", "MARIJUANA",
    "MEMBER", "METHAMPHETAMINE", "MISCHIEF", "ORDER", "PARAPHERNALIA", "PAROLE", "PENALTY",
    "PORNOGRAPHY", "POSSESSION", "PROBATION", "PROSTITUTION", "PROTECTIVE", "ROBBERY", "SEXUAL",
    "STRANGULATION", "SUBSTANCE", "SUSPENDED", "TRAFFICKING", "TRESPASS", "VEHICLE", "WEAPON",
)
# Whole words that look like the start of a longer keyword: never "completed" or "corrected".
_WHOLE_WORDS = frozenset({
    "CONTROL", "CONTACT", "ORDER", "CHILD", "ASSAULTS", "BUILD", "VEHICLES", "WEAPONS", "PROBATE",
    "INJURE", "INJURED", "ARRESTED", "APPEARANCE", "LICENSED", "LICENSES", "TURNING", "TURNED",
})


# Whole keywords the rules read only by their stem ("VANDAL\w*"): misspellings are corrected to these.
_KEYWORDS: tuple[str, ...] = (
    "VANDALISM", "SHOPLIFTING", "EMBEZZLEMENT", "SPEEDING", "LICENSE", "TRESPASS", "HARASSMENT",
    "OBSTRUCTION", "RESISTING", "EVADING", "FORGERY", "LARCENY", "FRAUDULENT", "MOLESTATION",
    "PANDERING", "SOLICITATION", "STALKING", "THREATENING", "KIDNAPPING", "TRAFFICKING", "BURGLARY",
    "DISORDERLY", "LOITERING", "INTOXICATION", "DELIVERY", "DISTRIBUTION", "MANUFACTURE", "POSSESSION",
    "PROBATION", "VIOLATION", "CRIMINAL", "AGGRAVATED", "UNAUTHORIZED", "IDENTITY", "HABITATION",
)


def _rule_words(min_len: int) -> frozenset[str]:
    """The literal words (and stems) the text rules look for."""
    words: set[str] = set()
    patterns = [r.pattern.pattern for r in _rules.RULES] + [
        p.pattern for r in _rules.RULES for p in (r.requires, r.unless) if p is not None]
    patterns += [_rules.CHILD, _rules.SEXUAL, _rules.DRUG, _rules.DRUG_ACTION]
    for pat in patterns:
        words.update(re.findall(rf"[A-Z]{{{min_len},}}", pat))
    return frozenset(words)


_ABBREVIATION_WORDS = frozenset(w for e in ABBREVIATIONS.values() for w in e.split())
#: Words the rules read; a token one typing slip away from exactly one of them is corrected to it.
SPELLING_TARGETS: frozenset[str] = (
    _rule_words(5) | frozenset(_COMPLETIONS) | frozenset(_KEYWORDS) | _ABBREVIATION_WORDS
) - frozenset(ABBREVIATIONS)
# A token that is a known word or stem plus an ordinary ending ("REPORTING", "JUMPING") is a real word.
_STEMS = _rule_words(4) | SPELLING_TARGETS
_ENDINGS = ("S", "ES", "ED", "ING", "INGS", "ER", "ERS", "ION", "IONS", "LY", "AL", "MENT", "ANCE", "Y", "E")
_KNOWN_WORDS = (frozenset(_COMPLETIONS) | frozenset(
    w for expansion in ABBREVIATIONS.values() for w in expansion.split()
) | SPELLING_TARGETS | _WHOLE_WORDS)


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


def _build_index() -> dict[str, frozenset[str]]:
    index: dict[str, set[str]] = {}
    for w in SPELLING_TARGETS:
        if len(w) < 5:
            continue
        one = _deletes(w)
        for d in {w} | one | {d2 for d1 in one for d2 in _deletes(d1)}:
            index.setdefault(d, set()).add(w)
    return {k: frozenset(v) for k, v in index.items()}


_INDEX = _build_index()
_LONGEST = max(map(len, SPELLING_TARGETS))


_VOWELS = frozenset("AEIOUY")


def _osa(a: str, b: str) -> int:
    """Edit distance with an adjacent swap as one edit, and a consonant swapped for another as two.

    Clerks misspell vowels ("HOMOCIDE", "VANDELISM"); a different consonant usually makes a
    different word ("SETTING" is not "SEXTING", "TURNING" is not "BURNING").
    """
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            x, y = a[i - 1], b[j - 1]
            cost = 0 if x == y else (1 if x in _VOWELS and y in _VOWELS else 2)
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and x == b[j - 2] and a[i - 2] == y:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


def _is_transposition(a: str, b: str) -> bool:
    if len(a) != len(b):
        return False
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]


def _correct(token: str) -> str:
    """A misspelt keyword → the keyword ("HOMOCIDE" → HOMICIDE, "CHLID" → CHILD), when exactly one fits.

    One slip (a letter missing or extra, a wrong vowel, or two letters swapped) for words of six
    letters or more; two slips for words of nine or more; only a swap for five-letter words.
    """
    n = len(token)
    # Longer than every target by more than two letters: no candidate (and the deletes would take hours).
    if n < 5 or n > _LONGEST + 2 or not token.isalpha() or token in _KNOWN_WORDS or token in ABBREVIATIONS:
        return token
    if any(token.endswith(e) and token[: -len(e)] in _STEMS for e in _ENDINGS):
        return token
    one = _deletes(token)
    keys = {token} | one | ({d2 for d1 in one for d2 in _deletes(d1)} if n >= 9 else set())
    cands = {w for k in keys for w in _INDEX.get(k, ())}
    best: list[str] = []
    best_d = 3
    for w in cands:
        # A rule word the token begins (truncation) is not a slip. A slip keeps the first two letters:
        # "KEEPING" is not "PEEPING", "BORDER" is not "ORDER".
        if w.startswith(token):
            return token
        if token.startswith(w):  # a stem the rules already read with \w* ("INTOXICAT"): not a candidate
            continue
        if w[:2] != token[:2]:
            continue
        d = _osa(token, w)
        ok = (d == 1 and (n >= 6 or _is_transposition(token, w))) or (d == 2 and n >= 9 and len(w) >= 8)
        if not ok:
            continue
        if d < best_d:
            best, best_d = [w], d
        elif d == best_d:
            best.append(w)
    if len(best) != 1:
        return token
    return ABBREVIATIONS.get(best[0], best[0])


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
    s = " ".join(ABBREVIATIONS[t] if t in ABBREVIATIONS else _correct(t) for t in tokens)
    for pattern, repl in _PHRASES:
        s = pattern.sub(repl, s)
    return s
