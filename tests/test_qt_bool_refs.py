"""A kiosk process emits Qt signals for every video frame all day long. PySide6 6.12 on Python
3.11 loses a reference to True on every emit, which aborts the process after a few thousand
(kiosk/ui/__init__.py). This runs far more emits than True has references, in a process that
imports the kiosk's UI package as the kiosk does."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT

SCRIPT = """
import sys
import kiosk.ui  # the kiosk's Qt layer, as kiosk.ui.app imports it
from PySide6.QtCore import QCoreApplication, QObject, Signal
A = type("A", (QObject,), {"s": Signal(object)})
app = QCoreApplication([])
a = A()
emits = 50_000  # a bare interpreter holds a few thousand references to True
for _ in range(emits):
    a.s.emit(None)
print("ok", emits)
"""


def test_a_long_day_of_signal_emits_does_not_abort_the_kiosk():
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("ok")


def test_without_the_guard_the_same_emits_abort():
    """The guard is what keeps it alive (if PySide6 is fixed, this fails: drop the guard)."""
    if sys.version_info >= (3, 12):
        return
    bare = SCRIPT.replace("import kiosk.ui  # the kiosk's Qt layer, as kiosk.ui.app imports it\n", "")
    result = subprocess.run([sys.executable, "-c", bare], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode != 0 and "bool_dealloc" in result.stderr
