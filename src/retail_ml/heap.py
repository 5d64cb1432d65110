"""Keep freed memory in the process while a heavy Python model runs (glibc only).

glibc serves every allocation above its mmap threshold (at most 32 MB) with a fresh ``mmap``
and unmaps it on ``free``. The recommender allocates and frees arrays of 30M rows (120-240 MB)
at every step, so each one is faulted in page by page again: on these machines the same
numpy sort of 30M rows took 4.8-5.1 s with glibc's defaults and 2.8-3.1 s with freed memory
kept for reuse (docs/benchmarks/daily_and_scale.md, "xl"). Setting ``MALLOC_MMAP_MAX_`` for
the whole dbt process would keep every model's peak for the rest of the build, next to
DuckDB's memory limit; :func:`keeping_freed_memory` keeps it only while a block runs and hands
it back to the kernel (``malloc_trim``) when the last one leaves.

Nested and concurrent use (dbt runs two Python models at once on two threads) is counted: the
first to enter switches the allocator, the last to leave switches it back and trims. Where the
C library is not glibc, it does nothing.

Kept memory is bounded: while the switch is on, a watchdog thread trims (``malloc_trim``) when
the process's resident memory passes ``RSS_CAP_FRACTION`` of the machine's. With one arena
(below) DuckDB frees into the same heap, and its small blocks pin the holes the arrays left, so
the heap only grows: the first xl build with the switch unbounded peaked at 22.3 GiB (the
machine has 23.5 GiB) against 17.1 GiB without it; bounded, 18.2 GiB.

dbt runs Python models on worker threads, and glibc gives each thread its own arena, whose
heaps hold at most 64 MB: larger blocks are mmap'd there whatever ``M_MMAP_MAX`` says. So the
processes that run dbt start with one arena (``ALLOCATOR_ENV``, read by glibc at start-up):
:func:`allocator_env` for a dbt child, :func:`exec_with_allocator_env` for a process that runs
dbt in-process (``retail_ml.daily``). Measured at ``large``: the recommender's backtest on a
worker thread 92-107 s against 118-130 s with the defaults, a lower peak; DuckDB's group-bys,
windows and joins up to 4 % slower, within noise (docs/benchmarks/daily_and_scale.md,
"The allocator").
"""

from __future__ import annotations

import ctypes
import functools
import os
import platform
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

# mallopt parameters (glibc malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
# What the switch sets: no mmap'd chunks, and no trimming of the heap's top while it is on.
_KEPT_MMAP_MAX = 0
_KEPT_TRIM_THRESHOLD = 2**31 - 1  # mallopt takes an int: ~2 GB, above any one array freed
# What it restores: glibc's default count of mmap'd chunks, and the trim threshold glibc's own
# dynamic rule reaches (twice the largest mmap threshold, 2 x 32 MB) once large blocks have
# been freed, which is where a process running these models already is.
_DEFAULT_MMAP_MAX = 65536
_RESTORED_TRIM_THRESHOLD = 64 * 2**20

# One malloc arena for every thread of a process that runs dbt (see the module docstring).
ALLOCATOR_ENV: dict[str, str] = {"MALLOC_ARENA_MAX": "1"}

# Above this share of physical memory, free memory is handed back even while the switch is on
# (xl's working set without the switch peaked at 17.1 GiB of 23.5: 0.75 leaves it room).
RSS_CAP_FRACTION = 0.75
WATCH_INTERVAL_S = 0.5

_lock = threading.Lock()
_holders = 0
_watchdog: _Watchdog | None = None

P = ParamSpec("P")
R = TypeVar("R")


def _glibc() -> ctypes.CDLL | None:
    """The process's C library when it is glibc, else None."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    library = ctypes.CDLL(None)
    if not (hasattr(library, "mallopt") and hasattr(library, "malloc_trim")):
        return None
    return library


_LIBC = _glibc()


def _mallopt(parameter: int, value: int) -> None:
    if _LIBC is not None and _LIBC.mallopt(parameter, value) != 1:
        raise OSError(f"mallopt({parameter}, {value}) was refused")


def resident_bytes() -> int:
    """This process's resident memory (Linux ``/proc``)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def rss_cap_bytes() -> int:
    """``RSS_CAP_FRACTION`` of this machine's physical memory."""
    return int(RSS_CAP_FRACTION * os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))


class _Watchdog(threading.Thread):
    """Trims the heap whenever resident memory passes :func:`rss_cap_bytes`, until stopped."""

    def __init__(self) -> None:
        super().__init__(name="retail-ml-heap-watchdog", daemon=True)
        self.stopped = threading.Event()
        self.trims = 0

    def run(self) -> None:
        while not self.stopped.wait(WATCH_INTERVAL_S):
            if _LIBC is not None and resident_bytes() > rss_cap_bytes():
                _LIBC.malloc_trim(0)
                self.trims += 1


def is_supported() -> bool:
    """Whether :func:`keeping_freed_memory` changes anything here (glibc)."""
    return _LIBC is not None


def holders() -> int:
    """How many blocks are inside :func:`keeping_freed_memory` right now."""
    return _holders


def watchdog_trims() -> int | None:
    """How many times the running watchdog trimmed; None when the switch is off."""
    return None if _watchdog is None else _watchdog.trims


@contextmanager
def keeping_freed_memory() -> Iterator[None]:
    """Within the block, freed memory stays in the process for reuse; on leaving the last
    block, the allocator's defaults come back and free memory is returned to the kernel."""
    global _holders, _watchdog
    with _lock:
        if _holders == 0:
            _mallopt(_M_TRIM_THRESHOLD, _KEPT_TRIM_THRESHOLD)
            _mallopt(_M_MMAP_MAX, _KEPT_MMAP_MAX)
            if _LIBC is not None:
                _watchdog = _Watchdog()
                _watchdog.start()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0:
                if _watchdog is not None:
                    _watchdog.stopped.set()
                    _watchdog.join()
                    _watchdog = None
                _mallopt(_M_MMAP_MAX, _DEFAULT_MMAP_MAX)
                _mallopt(_M_TRIM_THRESHOLD, _RESTORED_TRIM_THRESHOLD)
                if _LIBC is not None:
                    _LIBC.malloc_trim(0)


def allocator_env(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` with ``ALLOCATOR_ENV`` added, for a child process that runs dbt; a value already
    in ``env`` is kept (an operator's own setting wins)."""
    return {**ALLOCATOR_ENV, **env}


def exec_with_allocator_env(argv: Sequence[str]) -> None:
    """Replace this process with ``argv`` started under ``ALLOCATOR_ENV``, unless it already
    runs under it (or the C library is not glibc): returns only in that case. For the
    ``__main__`` of a command that runs dbt in its own process."""
    if _LIBC is None or all(name in os.environ for name in ALLOCATOR_ENV):
        return
    os.execve(argv[0], list(argv), allocator_env(os.environ))  # noqa: S606 - our own command


def keeps_freed_memory(function: Callable[P, R]) -> Callable[P, R]:
    """Decorator: run ``function`` inside :func:`keeping_freed_memory`."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with keeping_freed_memory():
            return function(*args, **kwargs)

    return wrapper


__all__ = [
    "ALLOCATOR_ENV",
    "allocator_env",
    "exec_with_allocator_env",
    "holders",
    "is_supported",
    "resident_bytes",
    "rss_cap_bytes",
    "watchdog_trims",
    "keeping_freed_memory",
    "keeps_freed_memory",
]
