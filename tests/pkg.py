"""Build small data packages for tests: rows as dicts, missing columns left empty."""

from __future__ import annotations

import csv
from pathlib import Path

from detainers.datapackage.spec import FILES_BY_NAME


def write_package(path: Path, files: dict[str, list[dict]], *, synthetic: bool | None = None) -> Path:
    """Write `files` ({"people.csv": [{...}, ...]}) as a package folder at `path`."""
    path.mkdir(parents=True, exist_ok=True)
    for name, rows in files.items():
        columns = list(FILES_BY_NAME[name].column_names)
        with (path / name).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(columns)
            for row in rows:
                unknown = set(row) - set(columns)
                assert not unknown, f"{name}: unknown columns {unknown}"
                writer.writerow(["" if row.get(c) is None else str(row.get(c)) for c in columns])
    if synthetic is not None:
        (path / "package.toml").write_text(f"synthetic = {'true' if synthetic else 'false'}\n", encoding="utf-8")
    return path


def base_places() -> dict[str, list[dict]]:
    """Two same-name counties in different states, with jails, policies, a region."""
    return {
        "jurisdictions.csv": [
            {"jurisdiction_id": "nc-franklin", "name": "Franklin County", "state": "NC", "kind": "county",
             "fips": "37069"},
            {"jurisdiction_id": "oh-franklin", "name": "Franklin County", "state": "OH", "kind": "county",
             "fips": "39049"},
        ],
        "policies.csv": [
            {"jurisdiction_id": "nc-franklin", "effective_from": "2010-01-01", "effective_to": "2019-01-01",
             "stance": "honors", "agreement": "287g-jem"},
            {"jurisdiction_id": "nc-franklin", "effective_from": "2019-01-01", "stance": "declines",
             "criteria": "Only with a judicial warrant", "source": "Board minutes 2018-12-10"},
            {"jurisdiction_id": "oh-franklin", "effective_from": "2010-01-01", "stance": "honors"},
        ],
        "facilities.csv": [
            {"facility_id": "nc-franklin-jail", "name": "Franklin County Jail", "jurisdiction_id": "nc-franklin",
             "kind": "county_jail", "state": "NC"},
            {"facility_id": "oh-franklin-jail", "name": "Franklin County Jail", "jurisdiction_id": "oh-franklin",
             "kind": "county_jail", "state": "OH"},
        ],
        "regions.csv": [{"region": "Triangle", "jurisdiction_id": "nc-franklin"}],
    }
