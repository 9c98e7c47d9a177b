"""Start-up of the kiosk window: the call thread, the engine, the bridge, the view-model and QML.

``KioskApp`` wires the parts together and is what the tests drive; ``run_kiosk`` adds the
``QGuiApplication`` and the event loop for the ``kiosk`` command.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections import deque
from pathlib import Path
from typing import Callable, Optional

from PySide6.QtCore import QEvent, QLockFile, QObject, Qt, QTimer, QUrl
from PySide6.QtGui import (
    QCursor, QFont, QFontDatabase, QGuiApplication, QInputDevice, QKeyEvent, QKeySequence, QWindow,
)
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
EXIT_ALREADY_RUNNING = 4
EXIT_LEFT_KIOSK = 10  # kiosk mode left on purpose: the supervisor and systemd do not restart it
LOCK_FILE = "kiosk.lock"  # in the data folder: one kiosk per session log
STATUS_FILE = "status.json"  # in the data folder: the screen shown now, for supervisors and checks
# Keys that close a window on common desktops. In kiosk mode they do nothing.
CLOSE_KEYS = (
    (Qt.KeyboardModifier.AltModifier, Qt.Key.Key_F4),
    (Qt.KeyboardModifier.NoModifier, Qt.Key.Key_Escape),
    (Qt.KeyboardModifier.ControlModifier, Qt.Key.Key_Q),
    (Qt.KeyboardModifier.ControlModifier, Qt.Key.Key_W),
)
_MODIFIER_MASK = (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
                  | Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.MetaModifier)


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


class KioskGuard(QObject):
    """Kiosk mode on the window: full screen, frameless, on top; the close keys and the window
    manager's close are refused; the window comes back to full screen if something makes it
    smaller. ``leave()`` is the only way out (the admin area, the technician keys while no
    PIN is set, SIGTERM from systemd)."""

    def __init__(self, window: QQuickWindow, *, exit_keys: Optional[str],
                 may_use_exit_keys: Callable[[], bool], on_leave: Callable[[int], None]) -> None:
        super().__init__(window)
        self.window = window
        self.leaving = False
        self.refused: deque[str] = deque(maxlen=100)  # what was refused lately, newest last
        self._may_use_exit_keys = may_use_exit_keys
        self._on_leave = on_leave
        self._exit_key = None
        if exit_keys:
            seq = QKeySequence.fromString(exit_keys, QKeySequence.SequenceFormat.PortableText)
            if seq.count() == 1 and seq[0].key() != Qt.Key.Key_unknown:
                self._exit_key = (seq[0].keyboardModifiers() & _MODIFIER_MASK, seq[0].key())
            else:
                log.error("kiosk.technician_exit_keys %r is not a key combination Qt knows: "
                          "leaving works only through the admin area", exit_keys)
        window.setFlags(window.flags() | Qt.WindowType.FramelessWindowHint
                        | Qt.WindowType.WindowStaysOnTopHint)
        window.installEventFilter(self)
        window.visibilityChanged.connect(self._visibility_changed)

    def show(self) -> None:
        self.window.showFullScreen()

    def leave(self, why: str, code: int = EXIT_LEFT_KIOSK) -> None:
        """The window may close and the app ends with ``code`` (``EXIT_LEFT_KIOSK``: on
        purpose, not to be restarted; 0: stopped by a signal)."""
        if self.leaving:
            return
        self.leaving = True
        log.warning("leaving kiosk mode: %s", why)
        self._on_leave(code)

    def _refuse(self, what: str) -> bool:
        self.refused.append(what)
        log.info("kiosk mode: %s refused", what)
        return True

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.Close and not self.leaving:
            event.ignore()
            return self._refuse("closing the window")
        if kind in (QEvent.Type.KeyPress, QEvent.Type.ShortcutOverride) and isinstance(event, QKeyEvent):
            combo = (event.modifiers() & _MODIFIER_MASK, event.key())
            if self._exit_key is not None and combo == self._exit_key:
                if kind == QEvent.Type.KeyPress:
                    if self._may_use_exit_keys():
                        self.leave("the technician keys (no admin PIN set)")
                    else:
                        self._refuse("the technician keys (an admin PIN is set: use the admin area)")
                event.accept()
                return True
            if any(combo == (mods, key) for mods, key in CLOSE_KEYS):
                event.accept()
                if kind == QEvent.Type.KeyPress:
                    self._refuse(QKeySequence(event.keyCombination()).toString() or "a close key")
                return True
        return False

    def _visibility_changed(self, visibility) -> None:
        if not self.leaving and visibility in (QWindow.Visibility.Minimized, QWindow.Visibility.Windowed,
                                                QWindow.Visibility.Maximized):
            log.info("kiosk mode: the window left full screen (%s); back to full screen", visibility.name)
            QTimer.singleShot(0, self.window.showFullScreen)


def cursor_hidden(setting: str, kiosk_mode: bool) -> bool:
    """``kiosk.cursor``: "hidden", "shown", or "auto" (hidden in kiosk mode when the machine
    has a touch screen)."""
    if setting == "hidden":
        return True
    if setting == "shown" or not kiosk_mode:
        return False
    return any(d.type() == QInputDevice.DeviceType.TouchScreen for d in QInputDevice.devices())


class InstanceLock:
    """One kiosk per data folder (its session log, its camera): a lock file that the system
    frees when the holder dies, so a kiosk restarted after a crash takes it over at once."""

    def __init__(self, data_path: Path) -> None:
        data_path.mkdir(parents=True, exist_ok=True)
        self.path = data_path / LOCK_FILE
        self._lock = QLockFile(str(self.path))
        self._lock.setStaleLockTime(0)  # never by age: only when the holder no longer runs

    def acquire(self) -> bool:
        return self._lock.tryLock(0)

    def holder(self) -> str:
        info = self._lock.getLockInfo()  # (pid, host, app name); pid 0 if unreadable
        pid, host = (info[0], info[1]) if isinstance(info, tuple) and len(info) >= 2 else (0, "")
        return f"process {pid} on {host or 'this machine'}" if pid else "another process"

    def release(self) -> None:
        self._lock.unlock()


class StatusFile:
    """``status.json`` in the data folder, rewritten (atomically) whenever the screen changes:
    the process, the screen shown and whether a frame of it has been drawn. The supervisor's
    test and a hall's monitoring read it; with systemd's ``Type=notify`` the first drawn
    Welcome screen is also announced as READY=1."""

    def __init__(self, path: Path, vm: KioskViewModel, window: QQuickWindow, kiosk_mode: bool) -> None:
        self.path = path
        self._vm = vm
        self._kiosk_mode = kiosk_mode
        self._started = time.time()
        self._drawn = False
        self._screen: Optional[str] = None
        self._notified = False
        vm.changed.connect(self._update)
        window.frameSwapped.connect(self._frame)
        self._update()

    def _frame(self) -> None:
        if not self._drawn:
            self._drawn = True
            self._write()

    def _update(self) -> None:
        if self._vm.screen != self._screen:
            self._screen = self._vm.screen
            self._write()

    def stopped(self) -> None:
        """The kiosk has ended cleanly: no screen any more."""
        try:
            self._vm.changed.disconnect(self._update)
        except (RuntimeError, TypeError):  # the view-model is already gone
            pass
        self._screen = "stopped"
        self._write()

    def _write(self) -> None:
        data = {"pid": os.getpid(), "screen": self._screen or self._vm.screen, "drawn": self._drawn,
                "kiosk_mode": self._kiosk_mode, "started_at": self._started, "updated_at": time.time()}
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            tmp.write_text(json.dumps(data), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError as exc:
            log.warning("cannot write %s: %s", self.path, exc)
        if self._drawn and data["screen"] == "welcome" and not self._notified:
            self._notified = True
            _sd_notify(b"READY=1\nSTATUS=on the Welcome screen")


def _sd_notify(message: bytes) -> None:
    """systemd's notification protocol (a datagram to $NOTIFY_SOCKET), if systemd asked for it."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(address)
            sock.sendall(message)
    except OSError as exc:
        log.warning("cannot notify systemd: %s", exc)


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
        self.bridge.text.connect(self.vm.apply_remote_text)
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
        self.guard: Optional[KioskGuard] = None
        self._stopped = False

    def lock_down(self) -> KioskGuard:
        """Kiosk mode (``kiosk run``): see ``KioskGuard``. Show the window with ``guard.show()``."""
        if self.guard is None:
            self.guard = KioskGuard(self.window, exit_keys=self.config.kiosk.technician_exit_keys,
                                    may_use_exit_keys=lambda: not self.pins.has_pin(),
                                    on_leave=QGuiApplication.exit)
        return self.guard

    def quit(self, why: str, code: int = EXIT_LEFT_KIOSK) -> None:
        """End the app; in kiosk mode this is the one way the window may close."""
        if self.guard is not None:
            self.guard.leave(why, code)
        else:
            log.info("stopping: %s", why)
            QGuiApplication.quit()

    def _leave_kiosk(self) -> None:
        """The admin confirmed "leave kiosk mode": the app ends (the desktop is underneath)."""
        self.quit("the admin area's leave button")

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


def _quit_on_signals(app: QGuiApplication, kiosk_app: "KioskApp") -> None:
    """SIGTERM (systemd, a technician) and Ctrl+C end the kiosk cleanly: an open call is ended
    and recorded, the window closes. Python runs its signal handlers only when it gets control,
    so a timer gives it a moment four times a second."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, _frame: kiosk_app.quit(f"signal {signum}", 0))
    tick = QTimer(app)
    tick.timeout.connect(lambda: None)
    tick.start(250)


KEYBOARD_CONFIG = "qtvirtualkeyboard"  # the on-screen keyboard's folder in the config folder
_private_config: Optional[Path] = None
PRIVATE_CONFIG_PREFIX = "kiosk-config-"  # + the kiosk's process id + "-" + random


def _remove_orphan_configs(base: Path) -> None:
    """Private config folders (see ``use_onscreen_keyboard``) of kiosks no longer running."""
    uid = os.getuid() if hasattr(os, "getuid") else None
    for folder in base.glob(PRIVATE_CONFIG_PREFIX + "*-*"):
        pid = folder.name[len(PRIVATE_CONFIG_PREFIX):].split("-", 1)[0]
        try:
            if not pid.isdigit() or folder.is_symlink() or (uid is not None and folder.stat().st_uid != uid):
                continue
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
            log.info("removed %s, left by a kiosk that did not end normally", folder)
        except OSError:
            continue  # alive under another user, or unreadable: not ours to remove


def use_onscreen_keyboard() -> Path:
    """Qt's on-screen keyboard (Pinyin and English) for the real-time text, without a memory.

    Call before the QGuiApplication exists (else Qt keeps the platform's input method). The
    keyboard's Pinyin learns every word the resident picks into
    ``<config>/qtvirtualkeyboard/pinyin/usr_dict.dat``, ``<config>`` being Qt's generic config
    location (``$XDG_CONFIG_HOME``, else ``~/.config``); it ignores
    ``VirtualKeyboardSettings.userDataPath``. So this process gets its own config folder: a
    new private (0700) temporary folder, removed when the process ends, in ``XDG_CONFIG_HOME``.
    It is made in ``XDG_RUNTIME_DIR`` when there is one (the user's tmpfs: memory, emptied at
    logout), else in the temporary folder; one left by a kiosk that was killed (SIGKILL, a
    crash) is removed when the next kiosk starts.
    Everything else the user's real config folder holds (PulseAudio's cookie and client.conf,
    fontconfig, …) is linked into it, so only the keyboard's words land in the temporary
    folder. The kiosk's own files do not move: its data folder is platformdirs'
    ``user_data_dir`` (``XDG_DATA_HOME``), and its configuration is a file named on the command
    line. Returns the private folder."""
    global _private_config
    os.environ.setdefault("QT_IM_MODULE", "qtvirtualkeyboard")
    if _private_config is not None:
        return _private_config  # done already in this process
    current = os.environ.get("XDG_CONFIG_HOME", "")
    real = Path(current) if current and os.path.isabs(current) else Path.home() / ".config"
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    base = Path(runtime) if runtime and os.path.isdir(runtime) else Path(tempfile.gettempdir())
    _remove_orphan_configs(base)
    private = Path(tempfile.mkdtemp(prefix=f"{PRIVATE_CONFIG_PREFIX}{os.getpid()}-", dir=base))
    try:
        entries = list(real.iterdir()) if real.is_dir() else []
    except OSError as exc:
        log.warning("config folder %s unreadable: %s", real, exc)
        entries = []
    for entry in entries:
        if entry.name != KEYBOARD_CONFIG:
            try:
                (private / entry.name).symlink_to(entry)
            except OSError as exc:
                log.warning("could not link %s into the kiosk's config folder: %s", entry, exc)
    os.environ["XDG_CONFIG_HOME"] = str(private)
    _private_config = private
    atexit.register(shutil.rmtree, private, ignore_errors=True)
    log.info("on-screen keyboard: words typed are kept only in %s until the kiosk ends", private)
    return private


def _has_screen() -> bool:
    if os.environ.get("QT_QPA_PLATFORM") or sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def wait_as_standby() -> bool:
    """``kiosk run --standby``: Python, Qt and the call engine are loaded (importing this module
    did that), the application and its fonts are made; then wait for the supervisor's line on
    standard input. False when the supervisor went away instead (end quietly)."""
    if _has_screen():
        use_onscreen_keyboard()  # before the application: its input method is chosen there
        app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
        app.setApplicationName("counter-kiosk")
        pick_font(app)
    log.info("standby: loaded, waiting for the word to start")
    line = sys.stdin.readline()
    if not line:
        log.info("standby: the supervisor has gone; ending")
        return False
    log.info("standby: starting")
    return True


def run_kiosk(config, *, embedded_services: bool, windowed: bool = False,
              screenshot: Optional[Path] = None, device_check: bool = False,
              kiosk_mode: bool = False) -> int:
    """``kiosk_mode``: ``KioskGuard`` (``kiosk run``); else a window that closes normally,
    full screen unless ``windowed`` (``kiosk demo``)."""
    if screenshot is not None and not _has_screen():
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    if not _has_screen():
        print("kiosk: no screen found (DISPLAY is not set). Start it on the kiosk's display, "
              "under xvfb-run, or try `kiosk demo --headless`.", file=sys.stderr)
        return EXIT_NO_SCREEN
    # Qt's on-screen keyboard for the real-time text (Pinyin and English), with no memory of
    # the words typed: before the QGuiApplication exists
    use_onscreen_keyboard()
    lock = InstanceLock(config.data_path)
    if not lock.acquire():
        print(f"kiosk: cannot start: a kiosk is already running with the data folder "
              f"{config.data_path} ({lock.holder()}). Only one kiosk may run at a time; "
              f"stop the other one first (lock file {lock.path}).", file=sys.stderr)
        log.error("second instance refused: %s holds %s", lock.holder(), lock.path)
        return EXIT_ALREADY_RUNNING
    try:
        return _run_locked(config, embedded_services=embedded_services, windowed=windowed,
                           screenshot=screenshot, device_check=device_check,
                           kiosk_mode=kiosk_mode and screenshot is None)
    finally:
        lock.release()


def _run_locked(config, *, embedded_services: bool, windowed: bool, screenshot: Optional[Path],
                device_check: bool, kiosk_mode: bool) -> int:
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    app.setApplicationName("counter-kiosk")
    pick_font(app)
    kiosk_app = KioskApp(config, embedded_services=embedded_services)
    app.aboutToQuit.connect(kiosk_app.shutdown)
    _quit_on_signals(app, kiosk_app)
    if cursor_hidden(config.kiosk.cursor, kiosk_mode):
        QGuiApplication.setOverrideCursor(QCursor(Qt.CursorShape.BlankCursor))
        log.info("mouse pointer hidden (kiosk.cursor: %s)", config.kiosk.cursor)
    status = StatusFile(config.data_path / STATUS_FILE, kiosk_app.vm, kiosk_app.window, kiosk_mode)
    kiosk_app.start()
    if device_check:
        kiosk_app.vm.openDeviceCheck()
    if kiosk_mode:
        kiosk_app.lock_down().show()
        keys = config.kiosk.technician_exit_keys
        log.info("kiosk mode: leave through the admin area%s", f" (or {keys} while no admin PIN is set)"
                 if keys and not kiosk_app.pins.has_pin() else "")
    elif windowed or screenshot is not None:
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
    status.stopped()
    log.info("kiosk stopped")
    return code
