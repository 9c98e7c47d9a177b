"""What the benchmarks in ``bench/`` share: facts about the machine they ran on and how each one
rewrites only its own marked section of ``docs/performance.md``."""

from __future__ import annotations

import os
import platform
import socket
import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "performance.md"
NEW_DOC = ("# Performance\n\nFigures measured on real hardware by the scripts in `bench/`. "
           "Each script rewrites only its own section.\n")


def write_section(path: Path, start: str, end: str, section: str) -> None:
    """Replace the text from marker ``start`` to marker ``end`` of ``path`` with ``section``
    (which carries both markers), or append it when the markers are missing; every other byte
    stays. Written to a temporary file beside it and renamed over the original."""
    text = path.read_text(encoding="utf-8") if path.exists() else NEW_DOC
    section = section.rstrip("\n") + "\n"
    i, j = text.find(start), text.find(end)
    if i != -1 and j != -1 and j > i:
        rest = text[j + len(end):]
        text = text[:i] + section + (rest[1:] if rest.startswith("\n") else rest)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=str(path.parent))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def mem_total_gib() -> Optional[float]:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return None


def pkg_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def machine_line() -> str:
    """One sentence about the machine, for the top of a section."""
    mem = mem_total_gib()
    return (f"{os.cpu_count()} CPUs (`nproc`), {cpu_model()}, "
            f"{'?' if mem is None else f'{mem:.1f}'} GiB RAM, Linux {platform.release()}, "
            f"Python {platform.python_version()}")
