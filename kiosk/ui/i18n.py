"""The kiosk's two languages, Chinese (the default) and English, through Qt's own translations.

Every word on screen is written in Chinese in the QML (``qsTr``) and the Python (``tr``); the
translations live in ``assets/translations/kiosk_<language>.ts`` (edited with Qt Linguist,
refreshed by ``scripts/translations.py update``). Qt reads the compiled ``.qm`` files, which
are not kept in the repository: ``./run setup`` builds them, and ``ensure_compiled`` builds any
that are missing or older than their ``.ts`` when the kiosk starts, so a fresh copy works.

``Languages`` is what the Welcome screen's switch talks to (``i18n`` in QML): it swaps the
translator and has the QML engine redo every translated text at once, while the screen stays
up. The kiosk goes back to its configured language when it returns to Welcome for the next
person (after a rating, or after the idle time with nobody touching it).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable, Mapping, Optional

from PySide6.QtCore import (
    Property, QCoreApplication, QLocale, QObject, QTimer, QTranslator, Signal, Slot,
)
from PySide6.QtQml import QQmlEngine

log = logging.getLogger("kiosk.ui.i18n")

TRANSLATIONS = Path(__file__).resolve().parents[2] / "assets" / "translations"
DEFAULT = "zh_CN"
# the language codes, and each language's own name for itself (the switch shows both)
LANGUAGES = {"zh_CN": "中文", "en": "English"}  # i18n-exempt: never translated


def ts_file(language: str, folder: Path = TRANSLATIONS) -> Path:
    return folder / f"kiosk_{language}.ts"


def qm_file(language: str, folder: Path = TRANSLATIONS) -> Path:
    return folder / f"kiosk_{language}.qm"


def lrelease_command() -> list[str]:
    """Qt's lrelease as shipped with PySide6 (the venv's ``pyside6-lrelease``)."""
    here = Path(sys.executable).parent
    for name in ("pyside6-lrelease", "pyside6-lrelease.exe"):
        if (here / name).exists():
            return [str(here / name)]
    found = shutil.which("pyside6-lrelease")
    if found:
        return [found]
    import PySide6

    binary = Path(PySide6.__file__).parent / ("lrelease.exe" if os.name == "nt" else "lrelease")
    return [str(binary)]


def compile_ts(ts: Path, qm: Path) -> None:
    """``ts`` → ``qm`` with lrelease; raises RuntimeError with lrelease's words if it fails."""
    result = subprocess.run([*lrelease_command(), "-silent", str(ts), "-qm", str(qm)],
                            capture_output=True, text=True, timeout=60)
    if result.returncode != 0 or not qm.exists():
        raise RuntimeError(f"lrelease {ts.name} failed: {(result.stderr or result.stdout).strip()}")


def ensure_compiled(folder: Path = TRANSLATIONS) -> list[Path]:
    """Builds every ``.qm`` that is missing or older than its ``.ts``; returns those built.
    A failure is logged (the kiosk then shows the Chinese source texts), never raised."""
    built = []
    for ts in sorted(folder.glob("kiosk_*.ts")):
        qm = ts.with_suffix(".qm")
        if qm.exists() and qm.stat().st_mtime >= ts.stat().st_mtime:
            continue
        try:
            compile_ts(ts, qm)
            built.append(qm)
        except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
            log.error("the translation %s could not be built: %s", ts.name, exc)
    return built


class Languages(QObject):
    """The language switch. ``language``: the code shown now (zh_CN or en)."""

    changed = Signal()

    def __init__(self, engine: QQmlEngine, default: str = DEFAULT, folder: Path = TRANSLATIONS,
                 category_names: Optional[Mapping[str, Mapping[str, str]]] = None,
                 parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        # config.yaml kiosk.category_names: the staff's matters as the hall names them per language
        self._category_names = {lang: dict(names) for lang, names in (category_names or {}).items()}
        self._engine = engine
        self._folder = folder
        self._default = default if default in LANGUAGES else DEFAULT
        self._language = ""
        self._translator: Optional[QTranslator] = None
        ensure_compiled(folder)
        self.setLanguage(self._default)

    def _get_language(self) -> str:
        return self._language

    def _get_default(self) -> str:
        return self._default

    def _get_names(self) -> list:
        return [{"code": code, "name": name} for code, name in LANGUAGES.items()]

    language = Property(str, _get_language, notify=changed)
    defaultLanguage = Property(str, _get_default, constant=True)
    names = Property(list, _get_names, constant=True)

    @Slot(str)
    def setLanguage(self, language: str) -> None:
        if language not in LANGUAGES:
            log.warning("unknown language %r ignored", language)
            return
        if language == self._language:
            return
        app = QCoreApplication.instance()
        translator = QTranslator(self)
        qm = qm_file(language, self._folder)
        if not translator.load(str(qm)):
            log.error("the %s translation %s could not be loaded: showing the source texts", language, qm)
            translator = None
        if self._translator is not None:
            app.removeTranslator(self._translator)
            self._translator.deleteLater()
        self._translator = translator
        if translator is not None:
            app.installTranslator(translator)
        self._language = language
        QLocale.setDefault(QLocale(language))
        self._engine.setUiLanguage(language)
        self._engine.retranslate()
        log.info("language: %s", language)
        self.changed.emit()

    @Slot(str, result=str)
    def categoryName(self, name: str) -> str:
        """The configured name of a matter in the language shown now ("" if none is set)."""
        return self._category_names.get(self._language, {}).get(name, "")

    @Slot()
    def toggle(self) -> None:
        """The Welcome screen's switch: the other language."""
        codes = list(LANGUAGES)
        self.setLanguage(codes[(codes.index(self._language) + 1) % len(codes)])

    @Slot()
    def reset(self) -> None:
        """Back to the configured language, for the next person."""
        self.setLanguage(self._default)

    def follow(self, vm: QObject, idle_seconds: Callable[[], float], idle_timeout_s: float) -> None:
        """Go back to the configured language when the kiosk returns to Welcome after a
        session (from the rating screen), or when Welcome has not been touched for
        ``idle_timeout_s``. ``vm``: the KioskViewModel (its ``changed`` and ``screen``)."""
        last = {"screen": vm.property("screen")}

        def screen_changed() -> None:
            screen = vm.property("screen")
            if screen == "welcome" and last["screen"] == "rating":
                self.reset()
            last["screen"] = screen

        def tick() -> None:
            if (self._language != self._default and vm.property("screen") == "welcome"
                    and idle_seconds() > idle_timeout_s):
                self.reset()

        vm.changed.connect(screen_changed)
        timer = QTimer(self)
        timer.setInterval(1000)
        timer.timeout.connect(tick)
        timer.start()
        self._idle_timer = timer

