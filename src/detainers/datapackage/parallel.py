"""Work on another core: forked worker processes that see this process's memory as it is.

A large import is pure Python for much of its time, and Python runs on one core at a time. Forked
processes need nothing sent to them — they start with a copy of this process's memory — so they
can read files or derive values from rows already read, while this process writes. Only what they
give back is sent (pickled) through a pipe. Where forking is not available, or the machine has one
core, the caller does the work itself, with the same result.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import Callable


def cores() -> int:
    """How many worker processes can run at once (1: do the work here)."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return os.cpu_count() or 1


def pool(workers: int) -> ProcessPoolExecutor:
    """A pool of forked workers (call `shutdown` when done)."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"))


_TASK: tuple | None = None  # (fn, args, the pipe's sending end), for the process being forked


def _run_task() -> None:
    fn, args, send = _TASK
    try:
        answer = (True, fn(*args))
    except BaseException as exc:  # told to the parent, which raises it
        answer = (False, exc)
    try:
        send.send(answer)
    except Exception as exc:  # an answer or error that cannot be pickled
        send.send((False, RuntimeError(f"the worker process could not send its answer: {exc!r}")))
    send.close()


def _run_stream() -> None:
    fn, args, send = _TASK
    try:
        for item in fn(*args):
            send.send((True, item))
    except BaseException as exc:  # told to the parent, which raises it at the next `next()`
        try:
            send.send((False, exc))
        except Exception as unsent:  # an error that cannot be pickled
            send.send((False, RuntimeError(f"the worker process failed: {exc!r} ({unsent!r})")))
    send.close()


class _Forked:
    """A process forked at once to run `run`, which calls `fn(*args)` (inherited, not sent) and sends
    what it gives through a pipe."""

    def __init__(self, run: Callable[[], None], fn: Callable, args: tuple) -> None:
        global _TASK
        context = multiprocessing.get_context("fork")
        self._answer, send = context.Pipe(duplex=False)
        self._process = context.Process(target=run, daemon=True)
        _TASK = (fn, args, send)
        try:
            self._process.start()
        finally:
            _TASK = None
            send.close()

    def _receive(self):
        """The next thing sent; raises what the work raised, or ChildProcessError if it sent nothing."""
        try:
            ok, value = self._answer.recv()
        except EOFError:
            self._process.join()
            raise ChildProcessError(f"a worker process stopped without an answer (exit code "
                                    f"{self._process.exitcode})") from None
        if not ok:
            raise value
        return value

    @property
    def exitcode(self) -> int | None:
        """The process's exit code once it has ended (negative: the signal that ended it)."""
        return self._process.exitcode

    def stop(self) -> None:
        """End the process if it is still working."""
        if self._process.is_alive():
            self._process.kill()
        self._process.join()
        self._answer.close()


class Child(_Forked):
    """`fn(*args)` in a forked process, started at once. Its arguments are not sent but inherited;
    `result()` waits for the answer; `stop()` ends the process if it is still working."""

    def __init__(self, fn: Callable, *args) -> None:
        super().__init__(_run_task, fn, args)

    def result(self):
        try:
            return self._receive()
        finally:
            self._answer.close()
            self._process.join()


class Stream(_Forked):
    """`fn(*args)`, a generator, in a forked process started at once: each value it yields is sent as
    soon as it is made, so the parent can use the first while the child works on the next. Arguments
    are inherited, not sent. `next()` waits for the next value (and raises what the generator raised);
    `stop()` ends the process if it is still working."""

    def __init__(self, fn: Callable, *args) -> None:
        super().__init__(_run_stream, fn, args)

    def next(self):
        return self._receive()

    def waiting(self, timeout: float = 0) -> bool:
        """Whether `next()` would answer at once (waiting up to `timeout` seconds for that): a value,
        the generator's error, or the end of the process, is there to be received."""
        return self._answer.poll(timeout)


class _Here:
    """What `in_child` gives with one core: the answer, worked out here."""

    def __init__(self, fn: Callable, *args) -> None:
        self._value = fn(*args)

    def result(self):
        return self._value

    def stop(self) -> None:
        pass


def in_child(fn: Callable, *args) -> Child | _Here:
    """`fn(*args)` on another core (`Child`); with one core, here and now."""
    return Child(fn, *args) if cores() > 1 else _Here(fn, *args)


_loads = 0  # how many bulk loads in this process have the cycle collector off
_loads_lock = threading.Lock()
_was_on = True  # whether the collector was on before the first of the loads running now


@contextmanager
def bulk_objects() -> Iterator[None]:
    """Python's cycle collector off while an import makes millions of objects; on again after (if it was).

    A load's rows are dicts of strings, dates and numbers, freed by reference counting as soon as they
    are dropped; they form no cycles. The collector nonetheless walks every live object again each
    time enough new ones have been made, and a large load holds millions: linking 1M detainers to
    their bookings took 7.2 s with it and 2.3 s without (measured on the 1M package). Processes forked
    meanwhile (`pool`, `Child`) start with it off. Loads in several threads at once turn it on again
    when the last one ends.
    """
    global _loads, _was_on
    with _loads_lock:
        if _loads == 0:
            _was_on = gc.isenabled()
            gc.disable()
        _loads += 1
    try:
        yield
    finally:
        with _loads_lock:
            _loads -= 1
            if _loads == 0 and _was_on:
                gc.enable()
