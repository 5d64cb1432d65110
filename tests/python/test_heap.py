"""Tests for retail_ml.heap: freed memory is kept inside the block (so large arrays are not
faulted in again) and handed back to the kernel when the last block leaves, measured on this
process's resident memory with real numpy arrays."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from retail_ml import heap

MB = 2**20
ARRAY_BYTES = 256 * MB


def allocate_touch_and_free() -> None:
    """A 256 MB array, every page written, then freed: what the recommender does per step."""
    array = np.ones(ARRAY_BYTES // 8, dtype=np.float64)
    assert array[-1] == 1.0
    del array


needs_glibc = pytest.mark.skipif(not heap.is_supported(), reason="glibc's mallopt only")


@needs_glibc
def test_without_the_block_a_freed_large_array_leaves_the_process():
    before = heap.resident_bytes()
    allocate_touch_and_free()
    assert heap.resident_bytes() - before < 64 * MB


@needs_glibc
def test_inside_the_block_it_is_kept_and_leaving_the_block_returns_it():
    before = heap.resident_bytes()
    with heap.keeping_freed_memory():
        allocate_touch_and_free()
        kept = heap.resident_bytes() - before
        # Reused, not faulted in again: a second array of the same size adds nothing.
        allocate_touch_and_free()
        kept_again = heap.resident_bytes() - before
    after = heap.resident_bytes() - before
    assert kept > 200 * MB
    assert kept_again < kept + 64 * MB
    assert after < 64 * MB


@needs_glibc
def test_the_allocator_is_switched_back_only_when_the_last_holder_leaves():
    entered = threading.Event()
    leave = threading.Event()

    def other_model() -> None:
        with heap.keeping_freed_memory():
            entered.set()
            leave.wait(timeout=30)

    thread = threading.Thread(target=other_model)
    thread.start()
    entered.wait(timeout=30)
    before = heap.resident_bytes()
    try:
        with heap.keeping_freed_memory():
            assert heap.holders() == 2
        assert heap.holders() == 1
        # The other model is still running: memory freed now is still kept.
        allocate_touch_and_free()
        assert heap.resident_bytes() - before > 200 * MB
    finally:
        leave.set()
        thread.join(timeout=30)
    assert heap.holders() == 0
    assert heap.resident_bytes() - before < 64 * MB


@needs_glibc
def test_past_the_cap_the_watchdog_hands_kept_memory_back(monkeypatch):
    before = heap.resident_bytes()
    with heap.keeping_freed_memory():
        allocate_touch_and_free()
        assert heap.resident_bytes() - before > 200 * MB
        assert heap.watchdog_trims() == 0  # far below 0.75 of the machine
        # A cap this process is already above: the next check trims.
        monkeypatch.setattr(heap, "RSS_CAP_FRACTION", 1e-6)
        for _ in range(100):
            if heap.watchdog_trims():
                break
            time.sleep(0.05)
        assert heap.watchdog_trims() > 0
        assert heap.resident_bytes() - before < 64 * MB
    assert heap.watchdog_trims() is None


def test_an_exception_leaves_the_block_and_switches_back():
    with pytest.raises(RuntimeError, match="boom"):
        with heap.keeping_freed_memory():
            raise RuntimeError("boom")
    assert heap.holders() == 0


def test_the_decorator_keeps_the_function_and_its_result():
    @heap.keeps_freed_memory
    def double(value: int) -> int:
        """Twice the value."""
        assert heap.holders() == 1
        return 2 * value

    assert double(21) == 42
    assert double.__doc__ == "Twice the value."
    assert heap.holders() == 0


THREAD_PROBE = """
import os
import subprocess
import sys
import threading
import numpy as np
from retail_ml import heap

def model():
    np.ones(1000).sum()  # the worker thread gets its arena, as dbt's threads have before a model
    before = heap.resident_bytes()
    with heap.keeping_freed_memory():
        array = np.ones(2**25)  # 256 MB
        array[-1] = 2.0
        del array
        print("kept", (heap.resident_bytes() - before) >> 20)
    print("after", (heap.resident_bytes() - before) >> 20)

thread = threading.Thread(target=model)
thread.start()
thread.join()
"""


def run_thread_probe(env: dict[str, str]) -> dict[str, int]:
    """THREAD_PROBE in a fresh interpreter under ``env``: MB kept inside and after the block."""
    result = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", THREAD_PROBE], env=env, capture_output=True, text=True,
        check=True, timeout=120,
    )
    return {key: int(value) for key, value in (line.split() for line in result.stdout.splitlines())}


def env_without_allocator_settings() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if name not in heap.ALLOCATOR_ENV}


@needs_glibc
def test_on_a_worker_thread_only_the_allocator_env_keeps_a_large_array():
    # dbt runs Python models on worker threads, whose own arenas mmap anything above 64 MB.
    plain = run_thread_probe(env_without_allocator_settings())
    assert plain["kept"] < 64
    under = run_thread_probe(heap.allocator_env(env_without_allocator_settings()))
    assert under["kept"] > 200
    assert under["after"] < 64


@needs_glibc
def test_exec_with_allocator_env_restarts_the_command_once_under_it():
    show = "import os; print(os.environ.get('MALLOC_ARENA_MAX'))"
    script = (
        "import sys; from retail_ml import heap; "
        f"heap.exec_with_allocator_env([sys.executable, '-c', {show!r}]); print('not replaced')"
    )
    started = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", script], env=env_without_allocator_settings(),
        capture_output=True, text=True, check=True, timeout=60,
    )
    assert started.stdout.split() == [heap.ALLOCATOR_ENV["MALLOC_ARENA_MAX"]]
    operator_set = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script], env={**os.environ, "MALLOC_ARENA_MAX": "4"},
        capture_output=True, text=True, check=True, timeout=60,
    )
    assert operator_set.stdout.split() == ["not", "replaced"]


def test_allocator_env_keeps_an_operators_own_value():
    assert heap.allocator_env({"MALLOC_ARENA_MAX": "4", "X": "y"}) == {
        "MALLOC_ARENA_MAX": "4", "X": "y"}
    assert heap.allocator_env({"X": "y"})["MALLOC_ARENA_MAX"] == "1"
