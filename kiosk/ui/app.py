"""Start-up of the kiosk window: the call thread, the engine, the bridge, the view-model and QML.

``KioskApp`` wires the parts together and is what the tests drive; ``run_kiosk`` adds the
``QGuiApplication`` and the event loop for the ``kiosk`` command.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from pathlib import Path
from typing import Optional

from PySide6.QtCore import QObject, QTimer, QUrl
from PySide6.QtGui import QFont, QFontDatabase, QGuiApplication
from PySide6.QtQml import QQmlApplicationEngine
from PySide6.QtQuick import QQuickWindow

from kiosk.call.engine import CallEngine
from kiosk.call.runner import CallThread
from kiosk.demo import EmbeddedServices, open_store
from kiosk.ui.bridge import CallBridge
from kiosk.ui.viewmodel import KioskViewModel

log = logging.getLogger("kiosk.ui")
QML_MAIN = Path(__file__).resolve().parent / "qml" / "Main.qml"
ASSETS = Path(__file__).resolve().parents[2] / "assets"
PREFERRED_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC")
EXIT_NO_SCREEN = 3


class KioskApp:
    """Everything behind the kiosk window. Create after the QGuiApplication exists."""

    def __init__(self, config, *, embedded_services: bool = False,
                 services_video: Optional[tuple[int, int, int]] = None) -> None:
        self.config = config
        self.thread = CallThread("call-engine").start()
        self.services: Optional[EmbeddedServices] = None
        self.services_thread: Optional[CallThread] = None
        if embedded_services:
            self.services_thread = CallThread("demo-services").start()
            self.services = EmbeddedServices(config, sim_video=services_video)

        async def build() -> CallEngine:
            # SQLite connections belong to the thread that made them: make the store there.
            return CallEngine(config, open_store(config))

        self.engine: CallEngine = self.thread.call(build())
        self.bridge = CallBridge(self.thread, self.engine)
        self.vm = KioskViewModel(self.bridge, location=config.kiosk.location,
                                 rating_timeout_s=config.kiosk.rating_timeout_s,
                                 service_hours=config.service_hours)
        self.bridge.event.connect(self.vm.apply_event)
        self.bridge.linkChanged.connect(self.vm.set_online)
        self.bridge.quality.connect(self.vm.apply_quality)
        self.bridge.devices.connect(self.vm.apply_devices)
        self.bridge.deviceCheck.connect(self.vm.apply_device_check)
        self.vm.remoteSinkAttached.connect(self.bridge.remote.set_sink)
        self.vm.selfSinkAttached.connect(self.bridge.local.set_sink)

        self.qml = QQmlApplicationEngine()
        # The engine destroys its screens before its children: the view-model outlives every
        # binding that reads it.
        self.vm.setParent(self.qml)
        self.qml.rootContext().setContextProperty("kiosk", self.vm)
        self.qml.rootContext().setContextProperty("assetsUrl", QUrl.fromLocalFile(str(ASSETS) + "/").toString())
        self._qml_warnings: list[str] = []
        self.qml.warnings.connect(lambda ws: self._qml_warnings.extend(w.toString() for w in ws))
        self.qml.load(QUrl.fromLocalFile(str(QML_MAIN)))
        roots = self.qml.rootObjects()
        if not roots:
            self.thread.call(_close_store(self.engine), 5)
            self.thread.stop()
            if self.services_thread is not None:
                self.services_thread.stop()
            raise RuntimeError("the kiosk screens could not be loaded: " + "; ".join(self._qml_warnings))
        self.window: QQuickWindow = roots[0]
        self._stopped = False

    @property
    def qml_warnings(self) -> list[str]:
        return list(self._qml_warnings)

    def find(self, object_name: str) -> Optional[QObject]:
        """The screen item called ``object_name``, searched through the visual tree too
        (items made by a Repeater have no QObject parent)."""
        found = self.window.findChild(QObject, object_name)
        if found is not None:
            return found
        todo = [self.window.contentItem()]
        while todo:
            item = todo.pop()
            if item.objectName() == object_name:
                return item
            todo.extend(item.childItems())
        return None

    def start(self, timeout: float = 20.0) -> None:
        if self.services is not None:
            self.services_thread.call(self.services.start(), timeout)
        closed = self.thread.call(self.engine.start(), timeout)
        if closed:
            log.warning("closed %d session(s) left open by an earlier stop", len(closed))

    def shutdown(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        try:
            self.thread.call(self.engine.stop(), 15)
            self.thread.call(_close_store(self.engine), 5)
        except Exception:
            log.exception("stopping the call engine failed")
        self.thread.stop()
        if self.services is not None:
            try:
                self.services_thread.call(self.services.stop(), 15)
            except Exception:
                log.exception("stopping the demo services failed")
            self.services_thread.stop()
        self.qml.deleteLater()


async def _close_store(engine: CallEngine) -> None:
    engine.store.close()


def pick_font(app: QGuiApplication) -> None:
    families = set(QFontDatabase.families())
    for family in PREFERRED_FONTS:
        if family in families:
            font = QFont(family)
            font.setPointSize(max(app.font().pointSize(), 14))
            app.setFont(font)
            return
    log.warning("no CJK font found (install fonts-noto-cjk): Chinese text may not show")


def _quit_on_signals(app: QGuiApplication) -> None:
    """SIGTERM (systemd, a technician) and Ctrl+C end the kiosk cleanly: an open call is ended
    and recorded, the window closes. Python runs its signal handlers only when it gets control,
    so a timer gives it a moment four times a second."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, _frame: (log.info("signal %d: stopping", signum), app.quit()))
    tick = QTimer(app)
    tick.timeout.connect(lambda: None)
    tick.start(250)


def _has_screen() -> bool:
    if os.environ.get("QT_QPA_PLATFORM") or sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def run_kiosk(config, *, embedded_services: bool, windowed: bool = False,
              screenshot: Optional[Path] = None, device_check: bool = False) -> int:
    if screenshot is not None and not _has_screen():
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    if not _has_screen():
        print("kiosk: no screen found (DISPLAY is not set). Start it on the kiosk's display, "
              "under xvfb-run, or try `kiosk demo --headless`.", file=sys.stderr)
        return EXIT_NO_SCREEN
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    app.setApplicationName("counter-kiosk")
    pick_font(app)
    kiosk_app = KioskApp(config, embedded_services=embedded_services)
    app.aboutToQuit.connect(kiosk_app.shutdown)
    _quit_on_signals(app)
    kiosk_app.start()
    if device_check:
        kiosk_app.vm.openDeviceCheck()
    if windowed or screenshot is not None:
        kiosk_app.window.show()
    else:
        kiosk_app.window.showFullScreen()
    if screenshot is not None:
        def grab() -> None:
            image = kiosk_app.window.grabWindow()
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            ok = image.save(str(screenshot))
            print(f"screenshot of the {kiosk_app.vm.screen} screen "
                  f"{'saved to' if ok else 'could not be saved to'} {screenshot}", flush=True)
            app.quit()

        QTimer.singleShot(1500, grab)
    code = app.exec()
    kiosk_app.shutdown()
    log.info("kiosk stopped")
    return code
