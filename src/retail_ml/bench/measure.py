"""Running one benchmark step in its own child process and measuring it.

Peak RSS comes from `os.wait4` on that very child: the kernel reports the child's own maximum
resident set size (and that of any descendant it waited for), so every step is measured on a
fresh process and no step's peak leaks into another's (unlike `getrusage(RUSAGE_CHILDREN)`,
which is a max over every child the parent ever reaped). It is the peak of the largest single
process, which is the whole step here: dbt (Python models included) and DuckDB run in one process.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path


@dataclass(frozen=True)
class StepRun:
    """What one measured child process did."""

    name: str
    argv: list[str]
    returncode: int
    wall_s: float
    peak_rss_bytes: int
    log_path: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def log_tail(self, chars: int = 3000) -> str:
        text = Path(self.log_path).read_text(errors="replace")
        return text[-chars:]


def run_measured(
    name: str, argv: list[str], *, env: dict[str, str], cwd: Path, log_path: Path
) -> StepRun:
    """Runs argv as a child (output to log_path), returns its wall time and peak RSS."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        started = time.perf_counter()
        process = subprocess.Popen(  # noqa: S603 - argv built by the bench, no shell
            argv, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT
        )
        _, status, usage = os.wait4(process.pid, 0)
        wall_s = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    return StepRun(
        name=name,
        argv=argv,
        returncode=process.returncode,
        wall_s=round(wall_s, 3),
        peak_rss_bytes=int(usage.ru_maxrss) * 1024,  # Linux reports KiB
        log_path=str(log_path),
    )


def _memory_bytes() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def machine_info() -> dict[str, object]:
    """Cores, memory, load and the versions that matter for the numbers."""
    try:
        usable_cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        usable_cores = os.cpu_count()
    return {
        "cores": os.cpu_count(),
        "usable_cores": usable_cores,
        "memory_bytes": _memory_bytes(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "dbt_core": _version("dbt-core"),
        "dbt_duckdb": _version("dbt-duckdb"),
        "duckdb": _version("duckdb"),
        "pandas": _version("pandas"),
        "executable": sys.executable,
    }
