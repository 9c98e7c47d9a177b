"""Two languages through Qt's translation system: every text on screen is wrapped for
translation and translated in both .ts files, the .qm files are built when missing, and the
Welcome screen's switch changes the language at once (and it goes back for the next person)."""

from __future__ import annotations

import ast
import os
import re
import shutil
import sys
import time
import typing
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QPointF, Qt, QTranslator
from PySide6.QtQuick import QQuickItem
from PySide6.QtTest import QTest

from kiosk.call.states import CallEvent, CallState
from kiosk.ui.i18n import LANGUAGES, TRANSLATIONS, ensure_compiled, qm_file, ts_file

ROOT = Path(__file__).resolve().parents[1]
UI = ROOT / "kiosk" / "ui"
sys.path.insert(0, str(ROOT / "scripts"))
import translations  # noqa: E402

CJK = re.compile(r"[\u3400-\u9fff\uff01-\uff5e\u3000-\u303f]")
WRAPPERS = re.compile(r"(qsTr|qsTranslate|QT_TR_NOOP|QT_TRANSLATE_NOOP)\(\s*(\"[^\"]*\"\s*,\s*)?$")
STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
TEXT_KEYS = re.compile(r"^\s*(text|title|label|value|detail|resultText|placeholderText|accessibleName|"
                       r"Accessible\.name|Accessible\.description)\s*:")


# --- every text wrapped --------------------------------------------------------------------------

def _without_comment(line: str) -> str:
    """The line up to a // that is not inside a string."""
    quote = None
    for i, c in enumerate(line):
        if quote:
            if c == "\\":
                continue
            if c == quote:
                quote = None
        elif c in "\"'":
            quote = c
        elif line.startswith("//", i):
            return line[:i]
    return line


def bare_qml_strings(source: str) -> list[str]:
    """String literals a person would read that are not inside qsTr()/qsTranslate(): any with a
    Chinese character, and any with a word in a text property. Lines marked i18n-exempt are
    skipped (a command to type, each language's own name)."""
    found = []
    for n, line in enumerate(source.splitlines(), 1):
        if "i18n-exempt" in line:
            continue
        code = _without_comment(line)
        for m in STRING.finditer(code):
            literal = m.group()[1:-1]
            if WRAPPERS.search(code[:m.start()]):
                continue
            compared = re.search(r"[!=]==?\s*$", code[:m.start()]) or re.match(r"\s*[!=]==?", code[m.end():])
            if CJK.search(literal) or (TEXT_KEYS.match(code) and not compared
                                       and re.search(r"[A-Za-z]{2,}", literal)):
                found.append(f"{n}: {line.strip()}")
    return found


def test_bare_string_scan_finds_what_it_should():
    assert bare_qml_strings('    text: "结束通话"') != []
    assert bare_qml_strings('    text: ok ? qsTr("好") : "不好"') != []
    assert bare_qml_strings('    text: "Hang up"') != []
    assert bare_qml_strings('    Accessible.name: "Start"') != []
    assert bare_qml_strings('    text: qsTr("结束通话")') == []
    assert bare_qml_strings('    text: qsTranslate("Category", "社保")') == []
    assert bare_qml_strings('    text: qsTr("已等待 %1").arg(clock(s))') == []
    assert bare_qml_strings('    icon: "hang-up"') == []
    assert bare_qml_strings('    text: "kiosk set-pin"  // i18n-exempt: a command') == []
    assert bare_qml_strings('    text: level === "good" ? qsTr("好") : qsTr("差")') == []
    assert bare_qml_strings('    // a comment with "好差评" in quotes') == []
    assert bare_qml_strings('    text: "http://x"  // not a comment start inside the string') != []


def test_no_bare_user_visible_string_in_qml():
    found = []
    for path in sorted((UI / "qml").glob("*.qml")):
        found += [f"{path.name}:{line}" for line in bare_qml_strings(path.read_text(encoding="utf-8"))]
    assert not found, "not wrapped in qsTr():\n" + "\n".join(found)


def bare_python_strings(source: str) -> list[str]:
    """Chinese string constants in Python outside docstrings and translate()/QT_TRANSLATE_NOOP
    calls (the screens' texts are written in Chinese, so a bare one is an untranslated one)."""
    tree = ast.parse(source)
    lines = source.splitlines()
    wrapped, docstrings = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in ("translate", "tr", "QT_TR_NOOP", "QT_TRANSLATE_NOOP"):
                wrapped.update(id(a) for a in node.args)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    found = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Constant) and isinstance(node.value, str) and CJK.search(node.value)
                and id(node) not in wrapped and id(node) not in docstrings
                and "i18n-exempt" not in lines[node.lineno - 1]):
            found.append(f"{node.lineno}: {lines[node.lineno - 1].strip()}")
    return found


def test_python_scan_finds_what_it_should():
    assert bare_python_strings('x = "结束通话"\n') != []
    assert bare_python_strings('x = QCoreApplication.translate("Kiosk", "结束通话")\n') == []
    assert bare_python_strings('def f():\n    """结束通话"""\n') == []
    assert bare_python_strings('NAMES = {"zh_CN": "中文"}  # i18n-exempt\n') == []


def test_no_bare_user_visible_string_in_python():
    found = []
    for path in sorted(UI.glob("*.py")):
        found += [f"{path.name}:{line}" for line in bare_python_strings(path.read_text(encoding="utf-8"))]
    assert not found, "not wrapped for translation:\n" + "\n".join(found)


# --- every text translated -------------------------------------------------------------------

@pytest.mark.parametrize("language", list(LANGUAGES))
def test_ts_file_has_every_text_translated(language):
    """lupdate into a copy of the .ts: nothing new, nothing gone, nothing unfinished."""
    assert translations.problems(language) == []


def test_check_fails_on_a_new_or_unfinished_text(tmp_path):
    folder = tmp_path / "translations"
    shutil.copytree(TRANSLATIONS, folder, ignore=shutil.ignore_patterns("*.qm"))
    extra = tmp_path / "Extra.qml"
    extra.write_text('import QtQuick\nText { text: qsTr("一句新的话") }\n', encoding="utf-8")
    found = translations.problems("en", folder, translations.sources() + [extra])
    assert any("一句新的话" in p and "new text" in p for p in found)
    # a translation left unfinished in Qt Linguist
    ts = ts_file("en", folder)
    text = ts.read_text(encoding="utf-8")
    text = text.replace("<translation>End call</translation>",
                        '<translation type="unfinished">End call</translation>', 1)
    ts.write_text(text, encoding="utf-8")
    found = translations.problems("en", folder)
    assert any("结束通话" in p and "not translated" in p for p in found)


def test_update_fills_the_chinese_file_with_the_texts_themselves(tmp_path):
    original = ts_file("zh_CN").read_text(encoding="utf-8")
    assert "<translation>结束通话</translation>" in original
    ts = tmp_path / "kiosk_zh_CN.ts"
    ts.write_text(original.replace("<translation>结束通话</translation>",
                                   '<translation type="unfinished"></translation>', 1), encoding="utf-8")
    translations._translate_to_itself(ts)
    assert ts.read_text(encoding="utf-8") == original


# --- .qm built on demand ------------------------------------------------------------------------

def test_qm_built_when_missing_or_stale(tmp_path, qapp):
    folder = tmp_path / "translations"
    folder.mkdir()
    for language in LANGUAGES:
        shutil.copy(ts_file(language), folder)
    built = ensure_compiled(folder)
    assert sorted(p.name for p in built) == sorted(qm_file(lang, folder).name for lang in LANGUAGES)
    assert ensure_compiled(folder) == []  # up to date: nothing to do
    later = time.time() + 5
    os.utime(ts_file("en", folder), (later, later))
    assert ensure_compiled(folder) == [qm_file("en", folder)]
    translator = QTranslator()
    assert translator.load(str(qm_file("en", folder)))
    assert translator.translate("CallScreen", "结束通话") == "End call"
    assert translator.translate("Category", "社保") == "Social insurance"


# --- the switch on Welcome -------------------------------------------------------------------------

@pytest.fixture
def window_app(qtbot, demo_config):
    """The kiosk window without its services: the screens and the language switch only."""
    from kiosk.ui.app import KioskApp

    def make(**kiosk):
        config = demo_config(kiosk=kiosk) if kiosk else demo_config()
        app = KioskApp(config)
        app.window.resize(1280, 800)
        app.window.show()
        apps.append(app)
        return app

    apps = []
    yield make
    for app in apps:
        app.shutdown()
    QCoreApplication.processEvents()


def _visible_texts(app) -> list[str]:
    out, todo = [], [app.find("welcomeScreen")]
    while todo:
        item = todo.pop()
        if not item.isVisible():
            continue
        todo.extend(item.childItems())
        if item.inherits("QQuickText") and (item.property("text") or "").strip():
            out.append(item.property("text"))
    return out


def _tap(app, name: str) -> None:
    item = app.find(name)
    assert isinstance(item, QQuickItem) and item.isVisible()
    centre = item.mapToScene(QPointF(item.width() / 2, item.height() / 2)).toPoint()
    QTest.mouseClick(app.window, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, centre)


def test_switch_on_welcome_changes_every_text_at_once(qtbot, window_app):
    app = window_app()
    qtbot.waitUntil(lambda: app.find("startCallButton").isVisible())
    assert app.languages.language == "zh_CN"
    chinese = _visible_texts(app)
    assert "手语翻译服务" in chinese
    _tap(app, "languageSwitch")
    qtbot.waitUntil(lambda: "Sign Language Interpreting" in _visible_texts(app), timeout=3000)
    english = _visible_texts(app)
    keep = {"中文", "English", "/", app.config.kiosk.location}
    assert [t for t in english if CJK.search(t) and t not in keep] == []
    assert app.find("startCallButton").property("text") == "Tap here\nfor an interpreter"
    assert app.find("languageName_en").property("font").underline()
    assert app.qml_warnings == []
    _tap(app, "languageSwitch")
    qtbot.waitUntil(lambda: _visible_texts(app) and "手语翻译服务" in _visible_texts(app), timeout=3000)
    assert sorted(_visible_texts(app)) == sorted(chinese)


def test_configured_language_is_the_start_and_the_return(qtbot, window_app):
    app = window_app(language="en")
    qtbot.waitUntil(lambda: "Sign Language Interpreting" in _visible_texts(app), timeout=3000)
    app.languages.setLanguage("zh_CN")
    qtbot.waitUntil(lambda: "手语翻译服务" in _visible_texts(app), timeout=3000)
    app.languages.reset()
    qtbot.waitUntil(lambda: "Sign Language Interpreting" in _visible_texts(app), timeout=3000)


def test_next_person_gets_the_default_language(qtbot, window_app):
    app = window_app()
    app.languages.setLanguage("en")
    # a resident rated the call: Welcome comes back in Chinese
    app.vm.apply_event(CallEvent(state=CallState.ENDED, session_id="s1", answered_at=time.time() - 60,
                                    connected_at=time.time() - 59, ended_at=time.time()))
    assert app.vm.screen == "rating"
    assert app.languages.language == "en"
    app.vm.skipRating()
    assert app.vm.screen == "welcome"
    assert app.languages.language == "zh_CN"
    # nobody touched Welcome for the idle time
    app.languages.setLanguage("en")
    app.vm._last_touch -= app.config.kiosk.idle_timeout_s + 1
    qtbot.waitUntil(lambda: app.languages.language == "zh_CN", timeout=3000)
    # while someone uses it, it stays
    app.languages.setLanguage("en")
    app.vm.noteActivity()
    qtbot.wait(1500)
    assert app.languages.language == "en"


def test_category_names_follow_the_language(qtbot, window_app):
    app = window_app()
    app.vm.openStaffPanel()
    qtbot.waitUntil(lambda: app.find("staffCategory0") is not None and app.find("staffCategory0").isVisible())
    assert app.find("staffCategory0").property("text") == "社保"
    app.languages.setLanguage("en")
    qtbot.waitUntil(lambda: app.find("staffCategory0").property("text") == "Social insurance", timeout=3000)


def test_a_matter_the_translations_do_not_know_is_shown_as_configured(qtbot, window_app):
    app = window_app(categories=["社保", "残疾证办理"])
    app.languages.setLanguage("en")
    app.vm.openStaffPanel()
    qtbot.waitUntil(lambda: app.find("staffCategory1") is not None and app.find("staffCategory1").isVisible())
    assert app.find("staffCategory0").property("text") == "Social insurance"
    assert app.find("staffCategory1").property("text") == "残疾证办理"


def test_config_names_a_matter_per_language(qtbot, window_app):
    app = window_app(categories=["社保", "残疾证办理"],
                     category_names={"en": {"残疾证办理": "Disability card", "社保": "Social security"}})
    app.vm.openStaffPanel()
    qtbot.waitUntil(lambda: app.find("staffCategory1") is not None and app.find("staffCategory1").isVisible())
    assert app.find("staffCategory1").property("text") == "残疾证办理"
    app.languages.setLanguage("en")
    qtbot.waitUntil(lambda: app.find("staffCategory1").property("text") == "Disability card", timeout=3000)
    assert app.find("staffCategory0").property("text") == "Social security"  # config.yaml wins
    app.languages.setLanguage("zh_CN")
    qtbot.waitUntil(lambda: app.find("staffCategory1").property("text") == "残疾证办理", timeout=3000)
    assert app.qml_warnings == []


def test_category_names_in_config_are_checked(demo_config):
    from kiosk.config import ConfigError

    with pytest.raises(ConfigError, match="category_names"):
        demo_config(kiosk={"category_names": {"fr": {"社保": "Sécurité sociale"}}})


def test_unknown_language_is_refused(window_app):
    app = window_app()
    app.languages.setLanguage("fr")
    assert app.languages.language == "zh_CN"


def test_kiosk_config_language_field_matches_the_switch():
    from kiosk.config import KioskConfig

    assert set(typing.get_args(typing.get_type_hints(KioskConfig)["language"])) == set(LANGUAGES)
