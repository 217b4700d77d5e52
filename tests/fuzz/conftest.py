"""Hypothesis profiles for the fuzz tests.

`ci` (the default) runs the same 100 examples per target every time (10 for slow ones; derandomized, so
a run of the suite cannot fail by chance) and keeps the whole of tests/fuzz
under a minute on two cores; `long` (`DETAINERS_FUZZ=long`, what `make fuzz` runs) runs thousands
and keeps what it finds in `.hypothesis/` (git-ignored) so that the next run starts from it.
`DETAINERS_FUZZ_EXAMPLES=N` sets the examples per target of either profile (e.g. for a timed run).

The profiles are applied by the fuzz tests themselves (`FUZZ`, `HEAVY` in tests/fuzz/support.py),
not loaded globally, so the other hypothesis tests of the suite keep their own settings.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_SUPPRESS = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
             HealthCheck.function_scoped_fixture, HealthCheck.large_base_example]

settings.register_profile("ci", max_examples=100, deadline=None, database=None, derandomize=True,
                          suppress_health_check=_SUPPRESS, print_blob=True)
settings.register_profile("long", max_examples=20_000, deadline=None, suppress_health_check=_SUPPRESS,
                          print_blob=True)

PROFILE = "long" if os.environ.get("DETAINERS_FUZZ", "").strip().lower() == "long" else "ci"
