"""The offense categories of DESIGN §6: ids, labels, ranks, and seriousness ordering."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    """One offense category: stable id, label, rank (1 = most serious) and violent flag."""

    id: str
    label: str
    rank: int
    violent: bool


_TABLE: tuple[tuple[str, str], ...] = (
    ("homicide", "Homicide"),
    ("sex_offense_child", "Sexual offense against a child"),
    ("sexual_assault", "Sexual assault"),
    ("kidnapping", "Kidnapping and human trafficking"),
    ("robbery", "Robbery"),
    ("assault", "Assault, threats and family violence"),
    ("weapons", "Weapons"),
    ("drug_trafficking", "Drug manufacture, delivery and trafficking"),
    ("burglary", "Burglary"),
    ("arson_property_damage", "Arson and property damage"),
    ("theft_fraud", "Theft and fraud"),
    ("dui", "Driving while intoxicated"),
    ("drug_possession", "Drug possession"),
    ("sex_offense_other", "Other sexual offense"),
    ("obstruction", "Obstruction, resisting, evading, escape"),
    ("court_supervision", "Court, probation, parole and warrants"),
    ("traffic", "Traffic"),
    ("public_order", "Public order"),
    ("immigration", "Immigration"),
    ("other", "Other"),
)

#: How many of the first categories count as violent (DESIGN §6).
VIOLENT_COUNT = 7

CATEGORIES: tuple[Category, ...] = tuple(
    Category(id=cid, label=label, rank=i, violent=i <= VIOLENT_COUNT)
    for i, (cid, label) in enumerate(_TABLE, start=1)
)
CATEGORY_IDS: tuple[str, ...] = tuple(c.id for c in CATEGORIES)
_BY_ID: dict[str, Category] = {c.id: c for c in CATEGORIES}

#: Tie-break between charges of the same category: felony first.
LEVEL_ORDER: dict[str, int] = {"felony": 0, "misdemeanor": 1, "infraction": 2, "unknown": 3}


def category(category_id: str) -> Category:
    """The Category with this id; ValueError names the allowed ids otherwise."""
    try:
        return _BY_ID[category_id]
    except (KeyError, TypeError):
        raise ValueError(
            f"{category_id!r} is not an offense category (expected one of: {', '.join(CATEGORY_IDS)})"
        ) from None


def category_rank(category_id: str) -> int:
    """Rank of a category: 1 (homicide) is the most serious, 20 (other) the least."""
    return category(category_id).rank


def is_violent(category_id: str) -> bool:
    """True for the seven violent categories (homicide … assault, weapons)."""
    return category(category_id).violent


def _seriousness(item: tuple[str | None, str | None]) -> tuple[int, int]:
    cat, level = item
    # A missing category sorts after "other" rather than failing a whole report.
    rank = len(CATEGORIES) + 1 if cat is None else category_rank(cat)
    return rank, LEVEL_ORDER.get(str(level).lower() if level else "unknown", LEVEL_ORDER["unknown"])


def most_serious(
    items: Iterable[tuple[str | None, str | None]],
) -> tuple[str | None, str | None] | None:
    """The most serious (category, level) pair: lowest rank, then felony > misdemeanor > infraction > unknown.

    Returns the pair as given (the first of equals), or None for no items.
    """
    best = None
    best_key = None
    for item in items:
        key = _seriousness(item)
        if best_key is None or key < best_key:
            best, best_key = item, key
    return best
