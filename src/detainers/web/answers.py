"""Answers of the JSON API kept in memory while the records stay the same (statistics, public reports).

The statistics a dashboard asks for are the same between loads, and a load happens every few days
while the questions come many times a second. An answer is kept under its question and the records'
version token (store/version.py), which every write changes in its own transaction; the token is
read for each request, so a kept answer is never served after the records changed, nor across
another process's write. Kept answers are the exact bytes first sent, and are bounded in number
and in total size.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

from fastapi import Request
from sqlalchemy import Connection

from detainers.store import version

#: Bounds for one server process.
MAX_ANSWERS = 256
MAX_BYTES = 64 * 1024 * 1024
#: Answers larger than this are not kept (one would crowd out the rest).
MAX_ANSWER_BYTES = 16 * 1024 * 1024


class Answers:
    """A bounded, thread-safe store of answer bytes by (question, version token)."""

    def __init__(self, max_answers: int = MAX_ANSWERS, max_bytes: int = MAX_BYTES) -> None:
        self._kept: OrderedDict[tuple, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.max_answers, self.max_bytes = max_answers, max_bytes
        self.hits = self.misses = 0

    def get(self, question: tuple, token: str) -> bytes | None:
        key = (question, token)
        with self._lock:
            body = self._kept.get(key)
            if body is None:
                self.misses += 1
                return None
            self._kept.move_to_end(key)
            self.hits += 1
            return body

    def put(self, question: tuple, token: str, body: bytes) -> None:
        if len(body) > MAX_ANSWER_BYTES:
            return
        key = (question, token)
        with self._lock:
            old = self._kept.pop(key, None)
            if old is not None:
                self._bytes -= len(old)
            self._kept[key] = body
            self._bytes += len(body)
            while self._kept and (len(self._kept) > self.max_answers or self._bytes > self.max_bytes):
                _, dropped = self._kept.popitem(last=False)
                self._bytes -= len(dropped)


def of(request: Request) -> Answers:
    """The app's store of answers (one per app, made on first use)."""
    state = request.app.state
    answers = getattr(state, "answers", None)
    if answers is None:
        with _MAKING:
            answers = getattr(state, "answers", None)
            if answers is None:
                answers = state.answers = Answers()
    return answers


_MAKING = threading.Lock()


def kept_or_made(request: Request, conn: Connection, question: tuple, make: Callable[[], bytes]) -> bytes:
    """The answer kept for `question` under the records' version token, read first on `conn` (an answer
    is then never kept under a newer token than its data); else `make()`'s, kept under that token."""
    kept = of(request)
    token = version.current(conn)
    body = kept.get(question, token) if token else None
    if body is None:
        body = make()
        if token:
            kept.put(question, token, body)
    return body
