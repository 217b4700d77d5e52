"""Charge classification: offense categories (DESIGN §6), charge levels, detainer lines.

    >>> from detainers.offenses import classify
    >>> classify("AGG SEXUAL ASSLT CHILD", code="11990004").category
    'sex_offense_child'
"""

from detainers.offenses.classifier import Classification, classify
from detainers.offenses.levels import level_from_code
from detainers.offenses.normalize import normalize
from detainers.offenses.taxonomy import CATEGORIES, Category, category_rank, is_violent, most_serious

#: Identifies the rule and code tables (rules.py, abbreviations.csv, ncic_groups.csv).
#: Stored with every classified charge; change it whenever any table changes.
TABLES_VERSION = "2026.11-1"

__all__ = [
    "CATEGORIES",
    "Category",
    "Classification",
    "TABLES_VERSION",
    "category_rank",
    "classify",
    "is_violent",
    "level_from_code",
    "most_serious",
    "normalize",
]
