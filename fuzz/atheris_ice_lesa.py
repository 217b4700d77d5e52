"""Coverage-guided fuzzing of the ICE ERO-LESA CSV reader with atheris (optional: `pip install atheris`).

    .venv/bin/python fuzz/atheris_ice_lesa.py -max_total_time=300

The input is the bytes of a CSV release; the reader must return records or raise InputError.
"""

import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from detainers.errors import InputError
    from detainers.ingest import ice_lesa
    from detainers.ingest.base import IngestOptions

_FOLDER = Path(tempfile.mkdtemp(prefix="atheris-lesa-"))
_PATH = _FOLDER / "release.csv"
_HEADER = (b"Detainer Prepare Date,Facility State,Detention Facility,Detention Facility Code,Facility City,"
           b"Gender,Citizenship Country,Birth Date,Birth Year,Most Serious Conviction (MSC) Charge,"
           b"MSC Charge Code,Detainer Lift Reason,Detainer Type,Unique Identifier\r\n")


def one(data: bytes) -> None:
    # Half the inputs start from a valid header, so that the fuzzer reaches the row mapping quickly.
    _PATH.write_bytes((_HEADER + data) if data[:1] in (b"\x00", b"1") else data)
    try:
        ice_lesa.read(_PATH, IngestOptions())
    except InputError as exc:
        if str(_PATH) not in str(exc):
            raise AssertionError(f"the error does not name the file: {exc}") from None


if __name__ == "__main__":
    atheris.Setup(sys.argv, one)
    atheris.Fuzz()
