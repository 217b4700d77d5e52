"""`detainers reclassify`: classify every stored charge again, after the tables or overrides changed.

Categories a source gave are kept (only whether the line is a detainer is checked
again); every other charge gets the current classifier's answer, rule and version.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import Connection, select

from detainers import audit
from detainers.offenses import active_version, classify
from detainers.store import bulk
from detainers.store import version as records_version
from detainers.store.schema import charges

_COLUMNS = ("category", "classifier_rule", "classifier_version", "is_detainer_line")


def reclassify(conn: Connection) -> dict:
    """Re-derive categories in the caller's transaction; returns what changed, by category."""
    version = active_version()
    query = select(charges.c.charge_id, charges.c.description, charges.c.code, charges.c.level,
                   charges.c.category, charges.c.category_origin, charges.c.classifier_rule,
                   charges.c.classifier_version, charges.c.is_detainer_line)
    moves: Counter = Counter()
    writes = []
    total = 0
    for row in conn.execute(query).all():
        total += 1
        c = classify(row.description, code=row.code, level=row.level)
        category = row.category if row.category_origin == "source" else c.category
        new = (category, c.rule, version, bool(c.is_detainer))
        old = (row.category, row.classifier_rule, row.classifier_version, bool(row.is_detainer_line))
        if new != old:
            writes.append((row.charge_id, *new))
            if category != row.category:
                moves[(row.category, category)] += 1
    bulk.update_rows(conn, charges, ("charge_id",), _COLUMNS, writes)
    result = {
        "charges": total, "updated": len(writes), "version": version,
        "category_changes": [{"from": a, "to": b, "charges": n} for (a, b), n in sorted(moves.items())],
    }
    records_version.bump(conn)
    audit.record(conn, "reclassify", {"version": version, "updated": len(writes),
                                      "category_changes": sum(moves.values())})
    return result
