"""Shared fixtures. Qt renders offscreen; calls are real aiortc calls on loopback."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything imports PySide6

import socket
import threading
import time
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]

# Threads the product starts; none may outlive the test that started it.
OWN_THREADS = ("call-engine", "demo-services")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _merge(base: dict, changes: dict) -> dict:
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value
    return base


@pytest.fixture
def demo_config(tmp_path) -> Callable[..., Any]:
    """The shipped config.yaml, moved to a free port and a temporary data folder, with a
    small picture so calls are cheap. Keyword arguments are merged into the YAML sections."""
    from kiosk.config import load_config

    def make(**sections) -> Any:
        data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
        port = free_port()
        _merge(data, {
            "kiosk": {"data_dir": str(tmp_path / "data")},
            "dispatch": {"url": f"ws://127.0.0.1:{port}/ws"},
            "server": {"port": port},
            "video": {"width": 320, "height": 240, "fps": 15},
            "simulator": {"answer_delay_s": 0.2},
        })
        _merge(data, sections)
        path = tmp_path / "config.yaml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return load_config(path)

    return make


@pytest.fixture(autouse=True)
def no_leaked_threads():
    yield
    deadline = time.monotonic() + 5
    while True:
        leaked = [t.name for t in threading.enumerate() if t.name in OWN_THREADS and t.is_alive()]
        if not leaked or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not leaked, f"threads left running: {leaked}"
