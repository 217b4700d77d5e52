"""Large files, in chunks: memory follows the chunk, not the file, and reading overlaps writing.

A file of at least CHUNKED_FROM bytes, of a kind whose reader can hand its rows over in chunks
(`reads_in_chunks(path)`: an ICE release as CSV), is read in a second process, CHUNK_ROWS records at a
time. This process checks each chunk against the database — which by then holds the chunks before
it, in the same transaction — and writes it while the reader reads the next one. What needs the whole
file comes at the end: the thresholds on unreadable columns, the reconciliation with earlier releases,
the outcomes that depend on every booking, the stored counts. Any error rolls everything back, as for
a whole file: the database is as it was.

What differs from a whole-file ingest is only which problems an error lists: a reader's error names
its row as always, but the checks' problems are those of the first chunk that has any.
"""

from __future__ import annotations

import gc
import os
import pickle
import subprocess
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Column, Connection, Engine, MetaData, String, Table, exists, select, text

import detainers
from detainers import audit, interrupted
from detainers.datapackage.checks import check_package
from detainers.datapackage.importer import ChunkedWriter, SourceInfo
from detainers.datapackage.reader import Package
from detainers.errors import InputError
from detainers.ingest import reader
from detainers.ingest.base import Extract, IngestOptions
from detainers.ingest.load import (
    RECONCILED,
    IngestResult,
    StoredFacilities,
    _apply_thresholds,
    _as_package,
    _check_event_dates,
    _earlier_sources,
    _place_facilities,
    _raise_for,
    _result,
)
from detainers.store import bulk, schema

#: Files at least this large are read, checked and written in chunks.
CHUNKED_FROM = 32 * 1024 * 1024
CHUNK_ROWS = 50_000
#: About the fewest bytes a record of a release takes (ICE's have 17–40 columns; the synthetic ones take
#: 380): the records of a file are estimated from its size, to decide whether its indexes are built once.
_MIN_RECORD_BYTES = 250


def wanted(module, path: Path) -> bool:
    """Whether `path`, read by `module`, is ingested in chunks."""
    reads_in_chunks = getattr(module, "reads_in_chunks", None)
    return reads_in_chunks is not None and path.stat().st_size >= CHUNKED_FROM and reads_in_chunks(path)


def ingest(engine: Engine, kind: str, path: Path, options: IngestOptions, sha: str, family: str,
           progress: Callable[[int], None] | None, actor: str | None,
           stage: Callable[[str], None] | None) -> IngestResult:
    """Ingest `path` chunk by chunk in one transaction (see the module's description)."""
    with _Reader(kind, path, options) as chunks, interrupted.guard(engine, f"ingest ({kind})", str(path)) as mark, \
            engine.begin() as conn:
        if stage is not None:
            stage(f"reading, checking and writing, {CHUNK_ROWS:,} records at a time")
        earlier = _earlier_sources(conn, family)
        keys = _ReleaseKeys(conn) if earlier and kind != "roster-snapshot" else None
        writer = ChunkedWriter(conn, path, sha, SourceInfo(kind=kind, family=family, as_of=options.as_of),
                               expected_rows=path.stat().st_size // _MIN_RECORD_BYTES)
        stored, placed = StoredFacilities.read(conn), {}
        extract = None
        for extract in chunks.read(progress):
            pkg = _as_package(extract, sha)
            _place_facilities(conn, pkg, placed, stored)
            problems = check_package(conn, pkg)
            _check_event_dates(pkg, problems)
            _raise_for(path, problems, extract.sheet)
            if keys is not None:
                keys.add(pkg)
            writer.write(pkg)
            # The cycle collector is off while a file is ingested (`load.ingest`); whatever a chunk left in
            # cycles is collected between chunks, so that memory follows the chunk, not the file.
            extract.rows, pkg = {}, None  # written: let go of them before the collector looks
            gc.collect()
        assert extract is not None  # the last one is the whole file's (with the rows after the last chunk)
        _apply_thresholds(path, extract)
        removed = keys.removed(earlier) if keys is not None else {}
        written = writer.finish(synthetic=extract.synthetic, notes=list(extract.notes),
                                quality=dict(sorted(extract.quality.items())), rows_read=extract.records,
                                stage=stage)
        result = _result(conn, kind, path, sha, family, written, extract, earlier[-1] if earlier else None,
                         removed, writer.without_booking)
        audit.record(conn, "ingest", {"kind": kind, "path": str(path), "sha256": sha,
                                      "source_id": written.source_id}, actor)
        mark.done(conn)
    return result


class _Reader:
    """The file's reader, in a process of its own (`python -m detainers.ingest.chunked`), handing over
    chunks as pickles through a pipe: a pipe holds little, so the reader waits while the writer is
    behind, and memory stays bounded.

    A fresh interpreter shares nothing with this process — not the database connection, not a web
    server's threads — and does not re-run the program that started it. It stops when the reading
    ends, and is stopped when the writing fails first.
    """

    def __init__(self, kind: str, path: Path, options: IngestOptions) -> None:
        self.args = (kind, path, options, CHUNK_ROWS)

    def __enter__(self) -> "_Reader":
        # The same code as this process runs, wherever it was imported from.
        here = str(Path(detainers.__file__).resolve().parents[1])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH")) if p)}
        self.process = subprocess.Popen([sys.executable, "-m", "detainers.ingest.chunked"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, env=env)
        with self.process.stdin as request:
            pickle.dump(self.args, request)
        return self

    def __exit__(self, *exc) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.stdout.close()
        self.process.wait()

    def read(self, progress: Callable[[int], None] | None):
        """Each chunk as an Extract of its rows; the last is the whole file's Extract (counts, notes,
        quality) with the rows after the last chunk."""
        while True:
            what, payload = self._next()
            if what == "progress":
                if progress is not None:
                    progress(payload)
            elif what == "chunk":
                yield payload
            elif what == "done":
                yield payload
                return
            elif what == "refused":
                problems, more = payload
                raise InputError(problems, more=more)
            else:
                raise RuntimeError(f"The reader of the file failed:\n{payload}")

    def _next(self):
        head = self.process.stdout.read(8)
        if len(head) < 8:
            raise RuntimeError(f"The reader of the file stopped without a word (exit code {self.process.wait()})")
        return pickle.loads(self.process.stdout.read(int.from_bytes(head, "big")))


def _serve() -> None:
    """In the reader process: read the file named on stdin, writing each chunk, progress and the end
    to stdout as length-prefixed pickles."""
    out = sys.stdout.buffer

    def send(what: str, payload) -> None:
        data = pickle.dumps((what, payload), protocol=pickle.HIGHEST_PROTOCOL)
        out.write(len(data).to_bytes(8, "big"))
        out.write(data)
        out.flush()

    # The rows are objects that form no cycles (see `parallel.bulk_objects`): the cycle collector is off, and
    # run only between chunks, when the fewest objects are alive, so that a stray cycle cannot pile up.
    gc.disable()
    try:
        kind, path, options, chunk_rows = pickle.load(sys.stdin.buffer)

        def chunk(extract: Extract) -> None:
            send("chunk", Extract(extract.kind, extract.path, extract.rows, sheet=extract.sheet))
            extract.rows = {}  # sent: let go of them before the collector looks (the reader would, after)
            gc.collect()

        extract = reader(kind).read(path, options, lambda n: send("progress", n), chunks=chunk,
                                    chunk_rows=chunk_rows)
        send("done", extract)
    except InputError as exc:
        send("refused", (exc.problems, exc.more))
    except BrokenPipeError:  # the writer stopped first: nothing to tell, and nothing to flush at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except BaseException:  # noqa: BLE001 — told to the writer, which raises it
        send("failed", traceback.format_exc())


class _ReleaseKeys:
    """The keys of a release being written in chunks, in a temporary table, so that what earlier releases
    of its series had and it no longer has can be listed at the end without holding them in memory."""

    _TABLE = Table("release_keys", MetaData(), Column("file", String), Column("key", String))

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        ending = " ON COMMIT DROP" if conn.dialect.name == "postgresql" else ""
        conn.execute(text(f"CREATE TEMPORARY TABLE release_keys (file VARCHAR, key VARCHAR){ending}"))
        conn.execute(text("CREATE INDEX release_keys_file_key ON release_keys (file, key)"))

    def add(self, pkg: Package) -> None:
        for spec in RECONCILED:
            key = spec.key[0]
            bulk.insert_rows(self.conn, self._TABLE, ("file", "key"), ((spec.name, r[key]) for r in pkg.rows(spec.name)))

    def removed(self, earlier: list[int]) -> dict[str, list[str]]:
        removed: dict[str, list[str]] = {}
        for spec in RECONCILED:
            table = schema.metadata.tables[spec.table]
            key = table.c[spec.key[0]]
            gone = sorted(v for (v,) in self.conn.execute(  # sorted here: databases' collations differ
                select(key).where(table.c.source_id.in_(earlier), ~exists().where(
                    self._TABLE.c.file == spec.name, self._TABLE.c.key == key))))
            if gone:
                removed[spec.name] = gone
        self.conn.execute(text("DROP TABLE release_keys"))
        return removed


if __name__ == "__main__":
    _serve()
