"""The non-UI layers never import Qt: checked by importing every one of their modules in a
fresh interpreter where any Qt import fails."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from conftest import ROOT

CHECK = textwrap.dedent(
    """
    import importlib, pkgutil, sys

    class NoQt:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("PySide6", "shiboken6", "PyQt5", "PyQt6", "pytestqt"):
                raise ImportError(f"{name} imported below the UI layer")
            return None

    sys.meta_path.insert(0, NoQt())
    import kiosk
    modules = ["kiosk.config", "kiosk.protocol", "kiosk.demo", "kiosk.cli"]
    for package in ("kiosk.call", "kiosk.sessions", "kiosk.dispatch"):
        pkg = importlib.import_module(package)
        modules.append(package)
        modules += [m.name for m in pkgutil.walk_packages(pkg.__path__, package + ".")]
    for name in modules:
        importlib.import_module(name)
    qt = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6"))
    assert not qt, qt
    print(len(modules), "modules imported without Qt")
    """
)


def test_non_ui_layers_import_no_qt():
    result = subprocess.run([sys.executable, "-c", CHECK], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    count = int(result.stdout.split()[0])
    assert count >= 10  # the walk really found the packages' modules


def test_the_check_catches_a_qt_import(tmp_path):
    """The blocker itself works: a module that imports Qt fails under it."""
    bad = tmp_path / "badmod.py"
    bad.write_text("import PySide6.QtCore\n")
    code = CHECK.split("import kiosk")[0] + f"sys.path.insert(0, {str(tmp_path)!r})\nimport badmod\n"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "imported below the UI layer" in result.stderr
