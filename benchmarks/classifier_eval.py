"""Accuracy and throughput of the charge classifier against the hand-labelled set.

    python benchmarks/classifier_eval.py [--file tests/data/charges/labelled.csv]
                                         [--split dev|heldout|all]
                                         [--show-errors N] [--json OUT]

The labelled set (tests/data/charges/labelled.csv) was written by hand from the
category definitions in docs/categories.md and DESIGN §6, never from the rules,
so this measures how far the rules agree with a records clerk. It prints:

- overall accuracy, and accuracy on the violent categories (strings whose label
  is one of the first seven categories);
- precision, recall and support per category;
- the confusion matrix (rows = label, columns = predicted; only non-empty rows
  and columns);
- level accuracy where the set gives a level;
- detainer-line recognition (rows whose note starts with "detainer line");
- the first N errors with text, label, predicted category and rule;
- throughput: 1,000,000 strings drawn (seeded) from the set with the cache warm,
  as in real files where strings repeat, and the cold rate on the distinct
  strings with the cache cleared.

`--split` measures a fixed part of the set: a row is *held out* when
int(sha1(text.strip().upper()).hexdigest(), 16) % 10 < 3 (about 30%), and *dev*
otherwise. Tune rules by looking only at dev errors; report held-out figures to
show how well the rules generalise. The default is `all`.

It always exits 0: it is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import random
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FILE = ROOT / "tests" / "data" / "charges" / "labelled.csv"
WARM_N = 1_000_000
SEED = 20261101


def _load(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(f)]


SPLITS = ("dev", "heldout", "all")


def is_heldout(text: str) -> bool:
    """A row is held out when sha1 of its trimmed, uppercased text is < 3 mod 10 (30%)."""
    digest = hashlib.sha1(text.strip().upper().encode("utf-8")).hexdigest()
    return int(digest, 16) % 10 < 3


def select_split(rows, split: str):
    """The rows of one split: "dev" (70%), "heldout" (30%) or "all"."""
    if split == "all":
        return list(rows)
    want = split == "heldout"
    return [r for r in rows if is_heldout(r["text"]) == want]


def _call(classify, row):
    return classify(row["text"], code=row["code"] or None, state=row["state"] or None)


def _cache_clearers(classify):
    """Every cache_clear reachable from classify: its own, or module-level lru_cache wrappers."""
    clearers = {}
    if hasattr(classify, "cache_clear"):
        clearers["classify"] = classify.cache_clear
    module = sys.modules.get(getattr(classify, "__module__", ""), None)
    if module is not None:
        for name in dir(module):
            obj = getattr(module, name, None)
            if callable(obj) and hasattr(obj, "cache_clear") and obj.cache_clear not in clearers.values():
                clearers[f"{module.__name__}.{name}"] = obj.cache_clear
    return clearers


def _pct(n: int, d: int) -> str:
    return f"{100.0 * n / d:5.1f}%" if d else "   n/a"


def evaluate(rows, classify, category_ids, violent_ids):
    results = []
    for row in rows:
        try:
            c = _call(classify, row)
            pred, rule, level, det = c.category, c.rule, c.level, c.is_detainer
        except Exception as exc:  # a crash is an error to report, not a reason to stop measuring
            pred, rule, level, det = "<error>", f"{type(exc).__name__}: {exc}", None, None
        results.append({"text": row["text"], "code": row["code"], "state": row["state"],
                        "label": row["category"], "predicted": pred, "rule": rule,
                        "level_label": row["level"], "level": level, "is_detainer": det,
                        "note": row["note"]})

    n = len(results)
    correct = sum(r["label"] == r["predicted"] for r in results)
    violent = [r for r in results if r["label"] in violent_ids]
    violent_correct = sum(r["label"] == r["predicted"] for r in violent)

    per_cat = {}
    for cat in category_ids:
        tp = sum(r["label"] == cat and r["predicted"] == cat for r in results)
        support = sum(r["label"] == cat for r in results)
        predicted = sum(r["predicted"] == cat for r in results)
        per_cat[cat] = {
            "precision": tp / predicted if predicted else None,
            "recall": tp / support if support else None,
            "support": support,
            "predicted": predicted,
        }
        p, rc = per_cat[cat]["precision"], per_cat[cat]["recall"]
        per_cat[cat]["f1"] = (2 * p * rc / (p + rc)) if p and rc else 0.0

    confusion: dict[str, Counter] = defaultdict(Counter)
    for r in results:
        confusion[r["label"]][r["predicted"]] += 1

    leveled = [r for r in results if r["level_label"]]
    level_correct = sum(r["level"] == r["level_label"] for r in leveled)

    detainer_rows = [r for r in results if r["note"].lower().startswith("detainer line")]
    detainer_ok = sum(bool(r["is_detainer"]) for r in detainer_rows)
    false_detainers = [r for r in results
                       if r["is_detainer"] and not r["note"].lower().startswith("detainer line")]

    fallback = sum(str(r["rule"]).startswith("fallback") for r in results)

    return {
        "n": n,
        "correct": correct,
        "accuracy": correct / n if n else None,
        "violent_n": len(violent),
        "violent_correct": violent_correct,
        "violent_accuracy": violent_correct / len(violent) if violent else None,
        "per_category": per_cat,
        "confusion": {k: dict(v) for k, v in confusion.items()},
        "level_n": len(leveled),
        "level_correct": level_correct,
        "level_accuracy": level_correct / len(leveled) if leveled else None,
        "detainer_n": len(detainer_rows),
        "detainer_recognised": detainer_ok,
        "false_detainers": [r["text"] for r in false_detainers],
        "fallback_other": fallback,
        "errors": [r for r in results if r["label"] != r["predicted"]],
        "level_errors": [r for r in leveled if r["level"] != r["level_label"]],
    }


def throughput(rows, classify):
    keys = [(r["text"], r["code"] or None, r["state"] or None) for r in rows]
    clearers = _cache_clearers(classify)

    # Cold: the distinct strings once each, cache cleared before every pass.
    cold_rates = []
    for _ in range(5):
        for clear in clearers.values():
            clear()
        t0 = time.perf_counter()
        for text, code, state in keys:
            classify(text, code=code, state=state)
        cold_rates.append(len(keys) / (time.perf_counter() - t0))

    # Warm: 1,000,000 strings drawn (seeded) from the set, as in real files where strings repeat.
    rng = random.Random(SEED)
    sample = [keys[rng.randrange(len(keys))] for _ in range(WARM_N)]
    for text, code, state in keys:
        classify(text, code=code, state=state)
    t0 = time.perf_counter()
    for text, code, state in sample:
        classify(text, code=code, state=state)
    warm_s = time.perf_counter() - t0

    return {
        "cache_clear": bool(clearers),
        "caches_cleared": sorted(clearers),
        "cold_distinct": len(keys),
        "cold_rate_median": statistics.median(cold_rates),
        "cold_rate_best": max(cold_rates),
        "warm_n": WARM_N,
        "warm_seconds": warm_s,
        "warm_rate": WARM_N / warm_s,
    }


def _fmt(x):
    return "  n/a" if x is None else f"{x:5.3f}"


def report(m, tp, categories, show_errors: int) -> None:
    ids = [c.id for c in categories]
    rank = {c.id: c.rank for c in categories}
    print(f"labelled strings: {m['n']}")
    print(f"overall accuracy: {m['correct']}/{m['n']} = {_pct(m['correct'], m['n'])}")
    print(f"violent accuracy: {m['violent_correct']}/{m['violent_n']} = "
          f"{_pct(m['violent_correct'], m['violent_n'])}  (labels in the first seven categories)")
    print(f"level accuracy:   {m['level_correct']}/{m['level_n']} = {_pct(m['level_correct'], m['level_n'])}"
          "  (rows with a level label)")
    print(f"detainer lines:   {m['detainer_recognised']}/{m['detainer_n']} recognised as the detainer"
          f"; {len(m['false_detainers'])} other lines wrongly flagged as detainer")
    print(f"fallback:other:   {m['fallback_other']} strings matched no rule")

    print("\nper category (rank id: precision recall f1 support predicted)")
    for cat in ids:
        s = m["per_category"][cat]
        print(f"  {rank[cat]:>2} {cat:<22} P {_fmt(s['precision'])}  R {_fmt(s['recall'])}  "
              f"F1 {_fmt(s['f1'])}  n {s['support']:>4}  pred {s['predicted']:>4}")
    worst = sorted((c for c in ids if m["per_category"][c]["support"]),
                   key=lambda c: (m["per_category"][c]["f1"], m["per_category"][c]["recall"] or 0))[:5]
    print("worst 5 by F1: " + ", ".join(
        f"{c} (F1 {m['per_category'][c]['f1']:.2f}, R {m['per_category'][c]['recall']:.2f})" for c in worst))

    # Confusion matrix: rows = label, columns = predicted, only non-empty ones, columns by rank number.
    conf = m["confusion"]
    rows = [c for c in ids if c in conf] + sorted(c for c in conf if c not in rank)
    cols_set = {p for v in conf.values() for p in v}
    cols = [c for c in ids if c in cols_set] + sorted(c for c in cols_set if c not in rank)
    head = [str(rank.get(c, "?")) if c in rank else c[:3] for c in cols]
    w = max(3, max(len(h) for h in head) if head else 3)
    print("\nconfusion matrix (rows = label, columns = predicted by rank number; '.' = 0)")
    print(" " * 26 + "".join(h.rjust(w + 1) for h in head))
    for r in rows:
        cells = "".join((str(conf[r].get(c, 0)) if conf[r].get(c, 0) else ".").rjust(w + 1) for c in cols)
        print(f"  {str(rank.get(r, '?')):>2} {r:<22}" + cells)

    if show_errors:
        print(f"\nfirst {min(show_errors, len(m['errors']))} of {len(m['errors'])} errors "
              "(text | code | state | label -> predicted | rule)")
        for e in m["errors"][:show_errors]:
            print(f"  {e['text']!r} | {e['code'] or '-'} | {e['state'] or '-'} | "
                  f"{e['label']} -> {e['predicted']} | {e['rule']}")
        if m["level_errors"]:
            print(f"\nfirst {min(show_errors, len(m['level_errors']))} of {len(m['level_errors'])} level errors")
            for e in m["level_errors"][:show_errors]:
                print(f"  {e['text']!r}: label {e['level_label']} -> {e['level']}")
        if m["false_detainers"]:
            print("\nlines wrongly flagged as the detainer: " + "; ".join(map(repr, m["false_detainers"])))

    print("\nthroughput")
    print(f"  warm: {tp['warm_n']:,} strings drawn (seed {SEED}) from the set in {tp['warm_seconds']:.2f} s "
          f"= {tp['warm_rate']:,.0f} charges/s")
    if tp["cache_clear"]:
        print(f"  cold: {tp['cold_distinct']:,} distinct strings, cache cleared: median "
              f"{tp['cold_rate_median']:,.0f} charges/s, best {tp['cold_rate_best']:,.0f} (5 passes)")
        print(f"        caches cleared: {', '.join(tp['caches_cleared'])}")
    else:
        print("  cold: no cache_clear found; the cold rate below is with whatever caching classify does")
        print(f"        {tp['cold_rate_median']:,.0f} charges/s")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--file", type=Path, default=DEFAULT_FILE, help="labelled CSV (text,code,state,category,level,note)")
    ap.add_argument("--split", choices=SPLITS, default="all",
                    help="dev (70%%), heldout (30%%, by sha1 of the text) or all (default)")
    ap.add_argument("--show-errors", type=int, default=20, metavar="N", help="print the first N errors (default 20)")
    ap.add_argument("--json", type=Path, metavar="OUT", help="also write all figures as JSON to OUT")
    ap.add_argument("--no-throughput", action="store_true", help="skip the throughput measurement")
    args = ap.parse_args(argv)

    try:
        from detainers.offenses import CATEGORIES, TABLES_VERSION, classify
    except Exception as exc:
        print(f"cannot import detainers.offenses: {exc}")
        return 0
    try:
        rows = select_split(_load(args.file), args.split)
    except OSError as exc:
        print(f"cannot read {args.file}: {exc}")
        return 0

    category_ids = [c.id for c in CATEGORIES]
    violent_ids = {c.id for c in sorted(CATEGORIES, key=lambda c: c.rank)[:7]}
    print(f"classifier tables {TABLES_VERSION}; file {args.file}; split {args.split}")
    m = evaluate(rows, classify, category_ids, violent_ids)
    tp = throughput(rows, classify) if not args.no_throughput and rows else {
        "cache_clear": False, "cold_distinct": 0, "cold_rate_median": 0.0, "cold_rate_best": 0.0,
        "warm_n": 0, "warm_seconds": 0.0, "warm_rate": 0.0}
    report(m, tp, CATEGORIES, args.show_errors)

    if args.json:
        out = {"tables_version": TABLES_VERSION, "file": str(args.file), "split": args.split, **m,
               "throughput": tp}
        args.json.write_text(json.dumps(out, indent=2, default=str), encoding="utf-8")
        print(f"\nJSON written to {args.json}")
    return 0


if __name__ == "__main__":
    try:
        main()
    except Exception as exc:  # a measurement never fails the caller
        print(f"classifier_eval: {type(exc).__name__}: {exc}")
    sys.exit(0)
