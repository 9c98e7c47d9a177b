"""The kiosk window in tests: opened the way the app opens it, tapped the way a finger taps."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from PySide6.QtCore import QPointF, Qt
from PySide6.QtQuick import QQuickItem
from PySide6.QtTest import QTest

from kiosk.ui.app import KioskApp


def tap(app: KioskApp, object_name: str) -> None:
    """A real mouse press and release on the centre of a QML item, through the window."""
    item = app.find(object_name)
    assert isinstance(item, QQuickItem), f"no item {object_name!r}"
    assert item.isVisible() and item.isEnabled(), f"{object_name} cannot be tapped"
    centre = item.mapToScene(QPointF(item.width() / 2, item.height() / 2)).toPoint()
    QTest.mouseClick(app.window, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, centre)


@contextmanager
def running_kiosk(config, **kwargs) -> Iterator[KioskApp]:
    """The kiosk at 1280×800 (offscreen) with the embedded dispatch and simulated interpreter,
    started; shut down afterwards."""
    app = KioskApp(config, embedded_services=True, **kwargs)
    app.window.resize(1280, 800)
    app.window.show()
    app.start()
    try:
        yield app
    finally:
        app.shutdown()
