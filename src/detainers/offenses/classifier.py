"""classify(): one charge line → category, level, modifier and whether it is the detainer itself."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from detainers.offenses import codes, markers, rules, statutes
from detainers.offenses import overrides as _overrides_mod
from detainers.offenses.levels import level_from_code, level_from_text
from detainers.offenses.normalize import normalize
from detainers.offenses.taxonomy import is_violent

# Categories a code in the sexual groups (NCIC 11, 36) may refine to "child" when the text names a child.
_CHILD_REFINES = frozenset({"assault", "sexual_assault", "sex_offense_other"})


@dataclass(frozen=True)
class Classification:
    """The category of one charge line and what decided it."""

    text: str
    normalized: str
    category: str
    violent: bool
    rule: str
    level: str
    modifier: str | None
    is_detainer: bool
    confident: bool
    runner_up: str | None

    def explain(self) -> str:
        """Several lines saying how the text was read and which rule decided (for `--explain`)."""
        lines = [
            f"text:       {self.text!r}",
            f"normalized: {self.normalized}",
            f"category:   {self.category}" + (" (violent)" if self.violent else ""),
            f"rule:       {self.rule}" + ("" if self.confident else "  (nothing matched)"),
            f"level:      {self.level}",
        ]
        if self.modifier:
            lines.append(f"modifier:   {self.modifier}")
        if self.is_detainer:
            lines.append("detainer:   yes - the immigration detainer itself, not a criminal charge")
        lines.append(f"runner-up:  {self.runner_up or '-'}")
        return "\n".join(lines)


@dataclass(frozen=True)
class _Candidate:
    category: str
    rule: str
    keeps_modifier: bool = True


# Text rules that still decide before a cited statute: court events, registration, a child victim.
_BEFORE_STATUTE = frozenset({
    "text:revocation", "text:failure-to-appear", "text:contempt", "text:sex-offender-registration",
    "text:child-statutory", "text:child-named-offense", "text:child-sexual",
})


def _candidates(normalized: str, code: str | None, state: str | None) -> list[_Candidate]:
    """Every category the text and code support, best first."""
    matched = rules.matching_rules(normalized, state)
    strong = [_Candidate(r.category, name, r.keeps_modifier) for name, r in matched if not r.weak]
    weak = [_Candidate(r.category, name, r.keeps_modifier) for name, r in matched if r.weak]
    cited = statutes.lookup(normalized, state) if any(ch.isdigit() for ch in normalized) else None
    if cited is not None:
        category = cited.category
        if category in ("sexual_assault", "sex_offense_other") and rules.CHILD_RE.search(normalized):
            category = "sex_offense_child"
        at = next((i for i, c in enumerate(strong) if c.rule not in _BEFORE_STATUTE), len(strong))
        strong.insert(at, _Candidate(category, cited.rule))
    hit = codes.lookup(code)
    if hit is None:
        return strong + weak
    code_cand = _Candidate(hit.category, hit.rule)
    if hit.category in ("sexual_assault", "sex_offense_other") and rules.CHILD_RE.search(normalized) and (
        not strong or (strong[0].category in _CHILD_REFINES and not strong[0].rule.endswith("registration"))
    ):
        # A sexual-offense code plus a child in the text: "AGG ASSLT CHILD" under 1199 lost "SEXUAL" to truncation.
        return [_Candidate("sex_offense_child", f"{hit.rule}+text:child"), *strong, code_cand, *weak]
    return [*strong, code_cand, *weak]


def _classify(text: str | None, code: str | None, level: str | None, state: str | None) -> Classification:
    raw = "" if text is None else str(text)
    norm = normalize(raw)
    st = state.strip().upper() if state else None
    code_s = codes.clean_code(code)

    detainer = markers.detainer_rule(norm, code_s)
    if detainer:
        # The detainer is not a charge: its level column ("F", "X") says nothing about an offense.
        return Classification(raw, norm, "immigration", False, detainer, "unknown", None, True, True, None)

    lvl = level_from_code(level, st)
    if lvl == "unknown":
        lvl = level_from_text(raw)
    cands = _candidates(norm, code_s, st)
    if not cands:
        return Classification(raw, norm, "other", False, "fallback:other", lvl, markers.modifier(norm),
                              False, False, None)
    best = cands[0]
    runner_up = next((c.category for c in cands[1:] if c.category != best.category), None)
    return Classification(
        text=raw,
        normalized=norm,
        category=best.category,
        violent=is_violent(best.category),
        rule=best.rule,
        level=lvl,
        modifier=markers.modifier(norm) if best.keeps_modifier else None,
        is_detainer=False,
        confident=True,
        runner_up=runner_up,
    )


def _with_overrides(text, code, level, state) -> Classification:
    found = _classify(text, code, level, state)
    if found.is_detainer or _overrides is _overrides_mod.NONE:
        return found
    hit = _overrides.lookup(found.normalized, codes.clean_code(code))
    if hit is None or hit[0] == found.category:
        return found
    category, rule = hit
    return Classification(found.text, found.normalized, category, is_violent(category), rule, found.level,
                          found.modifier, False, True, found.category)


_cached = lru_cache(maxsize=1 << 18)(_with_overrides)
_overrides = _overrides_mod.from_environment()


def classify(text: str | None, code: str | None = None, level: str | None = None,
             state: str | None = None) -> Classification:
    """Classify one charge line (DESIGN §6) from its text, optional offense code, level code and state."""
    return _cached(text, code, level, state)


def use_overrides(overrides: "_overrides_mod.Overrides") -> None:
    """Put a set of overrides in force for this process (and forget cached answers)."""
    global _overrides
    _overrides = overrides
    _cached.cache_clear()


def active_overrides() -> "_overrides_mod.Overrides":
    return _overrides


classify.cache_clear = _cached.cache_clear  # type: ignore[attr-defined]
