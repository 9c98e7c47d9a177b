"""Every screen, at 1280×800, 1920×1080 and 1080×1920, in Chinese and in English: rendered by
scripts/render_screens.py from a real demo call (on a virtual X screen, so video and the report
charts draw as on the kiosk) and measured there, the call also with the real-time text and the
on-screen keyboard, text only and reconnecting, and Welcome out of hours. One run serves every
test here."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "render_screens.py"
sys.path.insert(0, str(ROOT / "scripts"))

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]  # one render run serves them all

SCREENS = ("welcome", "connecting", "call", "call-text", "call-text-only", "call-reconnecting", "rating",
           "devicecheck", "staff", "admin-pin", "admin-pin-wrong", "admin-menu", "admin-log",
           "admin-details", "admin-report", "notice", "welcome-out-of-hours")
SIZES = ("1280x800", "1920x1080", "1080x1920")
CJK = re.compile(r"[\u3400-\u9fff]")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    if not shutil.which("xvfb-run") and not os.environ.get("DISPLAY"):
        pytest.skip("needs xvfb-run (scripts/system-deps.sh) or a screen")
    out = tmp_path_factory.mktemp("screens")
    report = out / "report.json"
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "RENDER_SCREENS_NESTED")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    result = subprocess.run([sys.executable, str(SCRIPT), "--out", str(out), "--check", "--report", str(report)],
                            capture_output=True, text=True, timeout=600, env=env, cwd=ROOT)
    assert report.exists(), f"no report:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    data = json.loads(report.read_text(encoding="utf-8"))
    return {"out": out, "result": result, "problems": data["problems"], "grabs": data["grabs"]}


def _problems(rendered, *kinds) -> list[str]:
    return [f"{p['screen']} {p['language']} {p['size']}: {p['what']}"
            for p in rendered["problems"] if p["kind"] in kinds]


def test_every_screen_in_both_languages_at_three_sizes(rendered):
    names = {p.name for p in rendered["out"].glob("*.png")}
    expected = {f"{screen}{lang}-{size}.png" for screen in SCREENS for lang in ("", "-en") for size in SIZES}
    assert expected <= names
    assert len(rendered["grabs"]) == len(expected)
    assert rendered["result"].returncode == (1 if rendered["problems"] else 0)


def test_texts_fit_their_boxes_and_do_not_overlap(rendered):
    assert _problems(rendered, "text", "overlap") == []
    # the measurement saw the texts: at least a title on each screen
    assert all(len(g["texts"]) >= 2 for g in rendered["grabs"])


def test_text_large_enough_to_read_at_arms_length(rendered):
    assert _problems(rendered, "text-size") == []


def test_touch_targets_at_least_12_mm_and_64_px(rendered):
    assert _problems(rendered, "touch") == []
    for grab in rendered["grabs"]:
        assert grab["touch_min_px"] >= 64
        assert grab["targets"] >= 1


def test_every_control_named_for_assistive_technology(rendered):
    assert _problems(rendered, "accessible") == []
    assert all(grab["accessible_names"] for grab in rendered["grabs"])


def test_every_action_has_a_pictogram(rendered):
    assert _problems(rendered, "pictogram") == []


def test_call_button_is_the_biggest_thing_on_welcome(rendered):
    assert _problems(rendered, "main-button") == []


def test_language_switch_changes_every_visible_string(rendered):
    """Switched live on the same screen: nothing Chinese stays in English, and every Chinese
    text shown is replaced. Exempt: the hall's name from config.yaml and the switch's own
    language names (each language's name for itself)."""
    grabs = {(g["screen"], g["language"], g["size"]): g for g in rendered["grabs"]}
    exempt = {"中文", "English", "/"}
    left = []
    for screen in SCREENS:
        for size in SIZES:
            zh, en = grabs[(screen, "zh_CN", size)], grabs[(screen, "en", size)]
            location = {s for s in zh["strings"] if "示范区" in s}
            zh_words = {s for s in zh["strings"] if CJK.search(s)} - exempt - location
            en_strings = set(en["strings"]) | set(en["accessible_names"])
            assert zh_words, f"{screen} {size}: no Chinese text seen"
            left += [f"{screen} {size}: {s!r} not translated" for s in zh_words & en_strings]
            left += [f"{screen} {size}: {s!r} in English" for s in en_strings - exempt - location
                     if CJK.search(s) and not s.endswith("中文 / English")]
    assert not left, "\n".join(left)


def test_touch_minimum_follows_the_screen_density():
    from render_screens import touch_minimum_px

    assert touch_minimum_px(96) == 64     # a 23" full-HD monitor: 12 mm is 45 px, 64 wins
    assert touch_minimum_px(150) == 71    # a 10" 1280×800 panel
    assert touch_minimum_px(254) == 120   # 10 px per mm


def test_the_on_screen_keyboard_is_measured_with_the_text(rendered):
    """The keys and Pinyin candidates are touch targets like any other (checked above), and the
    states the call screen can be in show what they are for."""
    grabs = {(g["screen"], g["language"], g["size"]): g for g in rendered["grabs"]}
    for size in SIZES:
        for language in ("zh_CN", "en"):
            text = grabs[("call-text", language, size)]
            assert text["keyboard_targets"] >= 30, (language, size)  # the letters and more
            assert grabs[("call-text-only", language, size)]["keyboard_targets"] >= 30
            assert grabs[("call", language, size)]["keyboard_targets"] == 0
        zh, en = grabs[("call-text", "zh_CN", size)], grabs[("call-text", "en", size)]
        assert "办身份证" in zh["strings"]  # a Pinyin candidate, from the real input method
        assert any("手语翻译员" in s for s in zh["strings"])
        assert any("sign language interpreter" in s for s in en["strings"])
        assert "Show video" in grabs[("call-text-only", "en", size)]["accessible_names"]
        assert any(re.fullmatch(r"Trying for \d+ seconds", s)
                   for s in grabs[("call-reconnecting", "en", size)]["strings"])
        assert any("95105" in s for s in grabs[("welcome-out-of-hours", "zh_CN", size)]["strings"])
