"""Coverage-guided fuzzing of the charge classifier with atheris (optional: `pip install atheris`).

    .venv/bin/python fuzz/atheris_classifier.py -max_total_time=300

Any exception, or a category outside the list, is a crash; libFuzzer writes the input to crash-*.
"""

import sys

import atheris

with atheris.instrument_imports():
    from detainers.offenses import CATEGORIES, classify

_IDS = frozenset(c.id for c in CATEGORIES)


def one(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    text = fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 4000))
    code = fdp.ConsumeUnicodeNoSurrogates(12) if fdp.ConsumeBool() else None
    level = fdp.ConsumeUnicodeNoSurrogates(6) if fdp.ConsumeBool() else None
    state = fdp.ConsumeUnicodeNoSurrogates(3) if fdp.ConsumeBool() else None
    found = classify(text, code, level, state)
    if found.category not in _IDS:
        raise AssertionError(f"{found.category!r} is not a category")


if __name__ == "__main__":
    atheris.Setup(sys.argv, one)
    atheris.Fuzz()
