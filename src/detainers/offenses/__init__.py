"""Charge classification: offense categories (DESIGN §6), charge levels, detainer lines.

    >>> from detainers.offenses import classify
    >>> classify("AGG SEXUAL ASSLT CHILD", code="11990004").category
    'sex_offense_child'
"""

from detainers.offenses.classifier import Classification, active_overrides, classify, use_overrides
from detainers.offenses.levels import level_from_code
from detainers.offenses.normalize import normalize
from detainers.offenses.taxonomy import CATEGORIES, Category, category_rank, is_violent, most_serious

#: Identifies the rule and code tables (rules.py, abbreviations.csv, ncic_groups.csv, statutes.csv).
#: Stored with every classified charge; change it whenever any table changes.
TABLES_VERSION = "2026.11-2"


def active_version() -> str:
    """The version stored with each classified charge: the tables, plus the overrides file if one is in force."""
    digest = active_overrides().digest
    return TABLES_VERSION if digest is None else f"{TABLES_VERSION}+overrides-{digest}"

__all__ = [
    "CATEGORIES",
    "Category",
    "Classification",
    "TABLES_VERSION",
    "active_version",
    "use_overrides",
    "category_rank",
    "classify",
    "is_violent",
    "level_from_code",
    "most_serious",
    "normalize",
]
