"""The theme's colours against WCAG 2.x contrast: 7:1 for the main texts (AAA), 4.5:1 for any
text, 3:1 for a control or a meaningful graphic against what surrounds it. The colours are read
from Theme.qml itself, and no screen may use a colour that is not there."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

QML = Path(__file__).resolve().parents[1] / "kiosk" / "ui" / "qml"
WHITE, BLACK = "#FFFFFF", "#000000"


def theme() -> dict[str, str]:
    text = (QML / "Theme.qml").read_text(encoding="utf-8")
    return dict(re.findall(r'property color (\w+):\s*"(#[0-9A-Fa-f]{6}(?:[0-9A-Fa-f]{2})?)"', text))


def rgb(colour: str, under: str = BLACK) -> tuple[float, float, float]:
    """#RRGGBB, or Qt's #AARRGGBB blended over ``under``."""
    h = colour.lstrip("#")
    if len(h) == 8:
        alpha, h = int(h[:2], 16) / 255, h[2:]
        top = [int(h[i:i + 2], 16) for i in (0, 2, 4)]
        base = rgb(under)
        return tuple((alpha * t + (1 - alpha) * b * 255) / 255 for t, b in zip(top, base))
    return tuple(int(h[i:i + 2], 16) / 255 for i in (0, 2, 4))


def luminance(c: tuple[float, float, float]) -> float:
    def lin(v: float) -> float:
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4
    r, g, b = map(lin, c)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple, b: tuple) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_formula_matches_known_values():
    assert contrast(rgb(BLACK), rgb(WHITE)) == pytest.approx(21.0)
    assert contrast(rgb("#777777"), rgb(WHITE)) == pytest.approx(4.48, abs=0.01)
    assert contrast(rgb("#FFFFFF"), rgb("#000000")) == contrast(rgb("#000000"), rgb("#FFFFFF"))
    # half-transparent black over white is mid grey
    assert rgb("#80000000", WHITE)[0] == pytest.approx(127 / 255, abs=0.01)


# (foreground, background, what) — backgrounds may be "name@video" for a see-through colour over
# the picture, checked over both a black and a white picture.
MAIN_TEXT = [
    ("text", "background", "titles and words on every screen"),
    ("textSoft", "background", "hints and clocks"),
    ("text", "panel", "staff/admin buttons, banners, cards"),
    ("textSoft", "panel", "filter labels, card details"),
    ("primaryText", "primary", "the call button and other main buttons"),
    ("neutralText", "neutral", "white buttons"),
    ("dangerText", "danger", "hang up"),
    ("text", "overlay@video", "clock, quality and notes over the interpreter's picture"),
]
ANY_TEXT = [
    ("text", "pass", "device check: ✓ works"),
    ("text", "danger", "device check: ✗ problem"),
    ("primaryText", "primary", "the PIN pad's OK key"),
]
CONTROLS = [
    ("primary", "background", "the call button on Welcome"),
    ("neutral", "background", "white buttons"),
    ("textSoft", "background", "the border of dark buttons (staff, language, skip)"),
    ("textSoft", "panel", "the border of filter buttons and period arrows"),
    ("text", "video", "the hang-up button's border over a dark picture"),
    ("danger", "videoWhite", "the hang-up button over a bright picture"),
    ("signal", "video", "the green frame when the interpreter answers"),
    ("primary", "panel", "lit progress steps, chart bars: answered"),
    ("chartSecond", "panel", "chart bars: not answered"),
    ("primary", "background", "PIN dots typed"),
    ("primary", "meter", "the microphone level in its trough"),
]


def _colour(name: str, colours: dict[str, str], picture: str) -> tuple:
    if name == "videoWhite":
        return rgb(WHITE)
    if name.endswith("@video"):
        return rgb(colours[name[:-6]], picture)
    return rgb(colours[name])


@pytest.mark.parametrize("minimum, pairs", [(7.0, MAIN_TEXT), (4.5, ANY_TEXT), (3.0, CONTROLS)],
                         ids=["main-text-7", "text-4.5", "controls-3"])
def test_theme_pairs(minimum, pairs):
    colours = theme()
    low = []
    for fg, bg, what in pairs:
        for picture in (BLACK, WHITE):
            ratio = contrast(_colour(fg, colours, picture), _colour(bg, colours, picture))
            if ratio < minimum:
                low.append(f"{fg} on {bg} ({what}): {ratio:.2f} < {minimum}")
    assert not low, "\n".join(low)


def test_every_theme_colour_is_checked():
    colours = theme()
    used = {n.split("@")[0] for pairs in (MAIN_TEXT, ANY_TEXT, CONTROLS) for p in pairs for n in p[:2]}
    decoration = {"gridLine"}  # chart grid lines carry no meaning
    assert set(colours) - used - decoration == set()


def test_no_colour_outside_the_theme():
    """A colour written into a screen would escape the checks above."""
    found = []
    for path in sorted(QML.glob("*.qml")):
        if path.name == "Theme.qml":
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("//")[0]
            if re.search(r'"#[0-9A-Fa-f]{3,8}"', code) or re.search(
                    r'"(black|white|red|green|blue|yellow|gray|grey)"', code):
                found.append(f"{path.name}:{n}: {line.strip()}")
    assert not found, "\n".join(found)
