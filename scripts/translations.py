#!/usr/bin/env python3
"""The kiosk's translation files (assets/translations/kiosk_<language>.ts).

    .venv/bin/python scripts/translations.py build    # .ts -> .qm (./run setup does this)
    .venv/bin/python scripts/translations.py update   # find new texts in the QML and Python
    .venv/bin/python scripts/translations.py check    # exit 1 if a text is new, gone or untranslated

The texts are written in Chinese in the sources, so the Chinese file translates each text to
itself (``update`` fills it in); the English file is translated by hand (Qt Linguist, or any
editor: each new text arrives as ``type="unfinished"``). ``check`` runs lupdate into a copy, so
it never changes the files in the repository; the test suite runs it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kiosk.ui.i18n import LANGUAGES, TRANSLATIONS, compile_ts, qm_file, ts_file  # noqa: E402

SOURCE_LANGUAGE = "zh_CN"


def sources() -> list[Path]:
    """Every file with texts for the screen: the QML and the Python of the kiosk window."""
    ui = ROOT / "kiosk" / "ui"
    return sorted(ui.glob("qml/*.qml")) + sorted(ui.glob("*.py"))


def lupdate_command() -> list[str]:
    here = Path(sys.executable).parent
    if (here / "pyside6-lupdate").exists():
        return [str(here / "pyside6-lupdate")]
    return [shutil.which("pyside6-lupdate") or "pyside6-lupdate"]


def lupdate(ts: Path, language: str, files: Optional[list[Path]] = None) -> str:
    result = subprocess.run(
        [*lupdate_command(), "-silent", "-locations", "none", "-no-obsolete",
         "-source-language", SOURCE_LANGUAGE, "-target-language", language,
         *map(str, files if files is not None else sources()), "-ts", str(ts)],
        capture_output=True, text=True, timeout=120, cwd=ROOT)
    if result.returncode != 0:
        raise SystemExit(f"lupdate failed: {result.stderr or result.stdout}")
    return result.stdout + result.stderr


def messages(ts: Path) -> dict[tuple[str, str], dict]:
    """{(context, source): {"translation": text, "type": "" | unfinished | vanished | obsolete}}"""
    out = {}
    for context in ET.parse(ts).getroot().iter("context"):
        name = context.findtext("name")
        for message in context.iter("message"):
            translation = message.find("translation")
            out[(name, message.findtext("source"))] = {
                "translation": "".join(translation.itertext()) if translation is not None else "",
                "type": translation.get("type", "") if translation is not None else "unfinished",
            }
    return out


def problems(language: str, folder: Path = TRANSLATIONS, files: Optional[list[Path]] = None) -> list[str]:
    """What is wrong with one language's .ts against the sources as they are now (or ``files``)."""
    ts = ts_file(language, folder)
    if not ts.exists():
        return [f"{ts.name} is missing"]
    before = messages(ts)
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / ts.name
        shutil.copy(ts, copy)
        lupdate(copy, language, files)
        after = messages(copy)
    found = []
    for key in sorted(set(after) - set(before)):
        found.append(f"{ts.name}: new text {key[0]}: {key[1]!r} (run scripts/translations.py update)")
    for key in sorted(set(before) - set(after)):
        found.append(f"{ts.name}: text no longer in the sources {key[0]}: {key[1]!r}")
    for key, m in sorted(after.items()):
        if key in before and (m["type"] in ("unfinished", "vanished", "obsolete") or not m["translation"]):
            found.append(f"{ts.name}: not translated {key[0]}: {key[1]!r}")
    return found


def update() -> None:
    TRANSLATIONS.mkdir(parents=True, exist_ok=True)
    for language in LANGUAGES:
        ts = ts_file(language)
        print(lupdate(ts, language).strip())
        if language == SOURCE_LANGUAGE:
            _translate_to_itself(ts)


def _translate_to_itself(ts: Path) -> None:
    """The source language's file: each new text translates to itself (lupdate's own layout
    kept, so the file only changes where a text came or went)."""
    text = ts.read_text(encoding="utf-8")
    filled = re.sub(r'(<source>([^<]*)</source>\s*(?:<comment>[^<]*</comment>\s*)?)'
                    r'<translation type="unfinished">\s*</translation>',
                    lambda m: f"{m.group(1)}<translation>{m.group(2)}</translation>", text)
    if filled != text:
        ts.write_text(filled, encoding="utf-8")


def build() -> None:
    for language in LANGUAGES:
        compile_ts(ts_file(language), qm_file(language))
        print(f"built {qm_file(language).relative_to(ROOT)}")


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "build"
    if command == "build":
        build()
    elif command == "update":
        update()
    elif command == "check":
        found = [p for language in LANGUAGES for p in problems(language)]
        print("\n".join(found) or "translations complete")
        return 1 if found else 0
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
