"""The kiosk-mode settings of config.yaml: the alternatives shown out of hours, the technician
keys and the mouse pointer; every mistake names its line and key."""

from __future__ import annotations

import pytest

from kiosk.config import ConfigError, key_combination_ok, load_config, parse_config
from conftest import ROOT

MINIMAL = """\
kiosk:
  id: k-01
  location: Hall 1
dispatch:
  url: wss://dispatch.example/ws
  token: secret
"""


def refused(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(text, source_name="kiosk.yaml")
    return str(info.value)


def line_of(text: str, needle: str) -> int:
    hits = [i for i, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(hits) == 1
    return hits[0]


def test_shipped_config_has_alternatives_keys_and_pointer_setting():
    cfg = load_config(ROOT / "config.yaml")
    assert [(a.kind, a.value) for a in cfg.service_hours.alternatives] == [
        ("sms", "12110"), ("web", "https://www.gov.cn")]
    assert cfg.kiosk.technician_exit_keys == "Ctrl+Alt+Shift+F12"
    assert cfg.kiosk.cursor == "auto"


def test_defaults_without_the_new_keys():
    cfg = parse_config(MINIMAL)
    assert cfg.service_hours.alternatives == ()
    assert cfg.kiosk.cursor == "auto"
    assert cfg.kiosk.technician_exit_keys == "Ctrl+Alt+Shift+F12"


def test_alternatives_are_read_with_days_and_without():
    text = MINIMAL + ("service_hours:\n  mon: \"08:30-17:30\"\n  alternatives:\n"
                      "    - {kind: text_hotline, value: \" +86 10 1234 5678 \"}\n"
                      "    - kind: email\n      value: help@example.gov.cn\n"
                      "    - {kind: wechat, value: 示范区政务服务}\n")
    hours = parse_config(text).service_hours
    assert [(a.kind, a.value) for a in hours.alternatives] == [
        ("text_hotline", "+86 10 1234 5678"), ("email", "help@example.gov.cn"), ("wechat", "示范区政务服务")]
    assert hours.weekly["mon"] == ((510, 1050),) and hours.weekly["tue"] == ()
    only = parse_config(MINIMAL + "service_hours:\n  alternatives: [{kind: sms, value: '12345'}]\n").service_hours
    assert only.alternatives[0].value == "12345" and only.weekly["sun"] == ((0, 1440),)


@pytest.mark.parametrize("entry, key, expected", [
    ("{kind: fax, value: '123'}", "service_hours.alternatives[0].kind", "expected one of 'text_hotline'"),
    ("{kind: sms, value: call us}", "service_hours.alternatives[0].value", "expected a number such as 12345"),
    ("{kind: web, value: 'not an address'}", "service_hours.alternatives[0].value", "a web address"),
    ("{kind: email, value: nobody}", "service_hours.alternatives[0].value", "an e-mail address"),
    ("{kind: sms, value: 12345}", "service_hours.alternatives[0].value", "expected a text, got 12345"),
    ("{kind: sms}", "service_hours.alternatives[0]", "missing required key 'value'"),
    ("{kind: sms, value: '1', number: '2'}", "service_hours.alternatives[0]", "unknown key 'number'"),
])
def test_a_bad_alternative_names_its_line_key_and_expectation(entry, key, expected):
    text = MINIMAL + f"service_hours:\n  mon: closed\n  alternatives:\n    - {{kind: sms, value: '12345'}}\n    - {entry}\n"
    message = refused(text)
    key = key.replace("[0]", "[1]")
    assert message.startswith(f"kiosk.yaml, line {line_of(text, entry)}: {key}: "), message
    assert expected in message, message


def test_alternatives_must_be_a_list_of_at_most_four():
    text = MINIMAL + "service_hours:\n  alternatives: 12345\n"
    assert refused(text).startswith(f"kiosk.yaml, line {line_of(text, '12345')}: service_hours.alternatives: "
                                    "expected a list")
    five = "".join(f"    - {{kind: sms, value: '1234{i}'}}\n" for i in range(5))
    text = MINIMAL + "service_hours:\n  alternatives:\n" + five
    message = refused(text)
    assert f"line {line_of(text, '12344')}" in message and "at most 4 alternatives" in message


def test_technician_keys_and_cursor_are_checked():
    assert parse_config(MINIMAL.replace("  location: Hall 1\n", "  location: Hall 1\n  technician_exit_keys: null\n")
                        ).kiosk.technician_exit_keys is None
    text = MINIMAL.replace("  location: Hall 1\n", "  location: Hall 1\n  technician_exit_keys: Ctrl+Q\n")
    message = refused(text)
    assert message.startswith(f"kiosk.yaml, line {line_of(text, 'Ctrl+Q')}: kiosk.technician_exit_keys: "
                              "expected a key combination with at least two of Ctrl, Alt, Shift, Meta"), message
    text = MINIMAL.replace("  location: Hall 1\n", "  location: Hall 1\n  cursor: invisible\n")
    assert "kiosk.cursor: expected one of 'auto', 'hidden', 'shown', got 'invisible'" in refused(text)
    for combo, ok in [("Ctrl+Alt+Shift+F12", True), ("alt+shift+k", True), ("Ctrl+Q", False),
                      ("Ctrl+Ctrl+Q", False), ("Ctrl+Alt+", False), ("Hyper+Alt+Q", False)]:
        assert key_combination_ok(combo) is ok, combo
