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

from PySide6.QtCore import QEvent, QObject, QTimer, QUrl
from PySide6.QtGui import QFont, QFontDatabase, QGuiApplication
from PySide6.QtQml import QQmlApplicationEngine
from PySide6.QtQuick import QQuickWindow

from kiosk.call.engine import CallEngine
from kiosk.call.runner import CallThread
from kiosk.demo import EmbeddedServices, open_store
from kiosk.sessions.pin import PIN_FILE, PinStore
from kiosk.ui.admin import AdminViewModel
from kiosk.ui.bridge import CallBridge
from kiosk.ui.i18n import Languages
from kiosk.ui.viewmodel import KioskViewModel

log = logging.getLogger("kiosk.ui")
QML_MAIN = Path(__file__).resolve().parent / "qml" / "Main.qml"
ASSETS = Path(__file__).resolve().parents[2] / "assets"
PREFERRED_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC")
EXIT_NO_SCREEN = 3


class _Touches(QObject):
    """Tells the view-model of every press on the window (the staff panel and the admin area
    close by themselves after a while without one)."""

    PRESSES = (QEvent.Type.MouseButtonPress, QEvent.Type.TouchBegin, QEvent.Type.KeyPress)

    def __init__(self, on_touch, parent: QObject) -> None:
        super().__init__(parent)
        self._on_touch = on_touch

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in self.PRESSES:
            self._on_touch()
        return False


class KioskApp:
    """Everything behind the kiosk window. Create after the QGuiApplication exists.

    ``pin_store``: the admin PIN (default: ``PIN_FILE`` in the data folder); tests pass one
    with lighter hash parameters."""

    def __init__(self, config, *, embedded_services: bool = False,
                 services_video: Optional[tuple[int, int, int]] = None,
                 pin_store: Optional[PinStore] = None) -> None:
        self.config = config
        self.pins = pin_store or PinStore(config.data_path / PIN_FILE)
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
        self.bridge = CallBridge(self.thread, self.engine, pins=self.pins)
        self.vm = KioskViewModel(self.bridge, location=config.kiosk.location,
                                 rating_timeout_s=config.kiosk.rating_timeout_s,
                                 service_hours=config.service_hours,
                                 categories=config.kiosk.categories,
                                 idle_timeout_s=config.kiosk.idle_timeout_s)
        self.admin = AdminViewModel(self.vm, self.bridge, categories=config.kiosk.categories,
                                    timezone=config.service_hours.timezone,
                                    exports_dir=config.data_path / "exports")
        self.bridge.pinStatus.connect(self.admin.apply_pin_status)
        self.bridge.pinChecked.connect(self.admin.apply_pin_result)
        self.bridge.sessionsListed.connect(self.admin.apply_sessions)
        self.bridge.sessionEvents.connect(self.admin.apply_events)
        self.bridge.reportReady.connect(self.admin.apply_report)
        self.bridge.exported.connect(self.admin.apply_export)
        self.admin.leaveKioskRequested.connect(self._leave_kiosk)
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
        self.admin.setParent(self.qml)
        self.qml.rootContext().setContextProperty("kiosk", self.vm)
        self.qml.rootContext().setContextProperty("admin", self.admin)
        self.languages = Languages(self.qml, default=config.kiosk.language,
                                   category_names=config.kiosk.category_names, parent=self.qml)
        self.languages.follow(self.vm, self.vm.idleSeconds, config.kiosk.idle_timeout_s)
        self.qml.rootContext().setContextProperty("i18n", self.languages)
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
        self._touches = _Touches(self.vm.noteActivity, self.window)
        self.window.installEventFilter(self._touches)
        self._stopped = False

    def _leave_kiosk(self) -> None:
        """The admin confirmed "leave kiosk mode": the app ends (the desktop is underneath)."""
        log.warning("leaving kiosk mode at the admin's request")
        QGuiApplication.quit()

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
