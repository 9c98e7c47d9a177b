"""kiosk/config.py: the shipped file, every kind of mistake (file, line, key, expectation),
service hours and the data folder."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import MappingProxyType
from zoneinfo import ZoneInfo

import pytest

from kiosk.config import Config, ConfigError, ServiceHours, load_config, parse_config

ROOT = Path(__file__).resolve().parents[1]
SHANGHAI = ZoneInfo("Asia/Shanghai")

# Comment and blank lines first, so a line number that forgot them (or counted from 0) is wrong.
MINIMAL = """\
# a counter
#
kiosk:
  id: k-01
  location: Hall 1
dispatch:
  url: wss://dispatch.example/ws
  token: secret
"""


def line_of(text: str, needle: str) -> int:
    """1-based number of the one line of ``text`` that contains ``needle``."""
    hits = [i for i, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(hits) == 1, f"{needle!r} is on lines {hits}"
    return hits[0]


def refused(text: str, source_name: str = "kiosk.yaml") -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_config(text, source_name=source_name)
    return info.value


def assert_error(err: ConfigError, line: int | None, key: str | None, *parts: str,
                 source: str = "kiosk.yaml") -> None:
    where = f"{source}, line {line}" if line else source
    prefix = f"{where}: {key}: " if key else f"{where}: "
    text = str(err)
    assert text.startswith(prefix), text
    assert err.line == line, text
    assert err.key == key, text
    for part in parts:
        assert part in text, text


# --- the shipped file -----------------------------------------------------------------------


def test_shipped_config_loads_into_frozen_dataclasses():
    path = ROOT / "config.yaml"
    cfg = load_config(path)
    assert isinstance(cfg, Config)
    assert cfg.source == path.resolve()
    assert cfg.kiosk.id == "demo-kiosk-01"
    assert cfg.kiosk.location.startswith("示范区")
    assert cfg.kiosk.data_dir is None
    assert cfg.kiosk.idle_timeout_s == 90.0 and isinstance(cfg.kiosk.idle_timeout_s, float)
    assert cfg.dispatch.url == "ws://127.0.0.1:8765/ws" and cfg.dispatch.embedded is True
    assert cfg.ice_servers == ()
    assert (cfg.video.width, cfg.video.height, cfg.video.fps) == (1280, 720, 30)
    assert cfg.service_hours.timezone == "Asia/Shanghai"
    assert dict(cfg.service_hours.weekly) == {d: ((0, 1440),) for d in
                                              ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    assert cfg.server.allowed_origins == ()

    for obj, attr, value in [(cfg, "kiosk", None), (cfg.kiosk, "id", "other"),
                             (cfg.video, "fps", 5), (cfg.dispatch, "token", "x"),
                             (cfg.service_hours, "timezone", "UTC"), (cfg.server, "port", 1)]:
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(obj, attr, value)
    # the mappings inside are read-only too
    with pytest.raises(TypeError):
        cfg.service_hours.weekly["mon"] = ()  # type: ignore[index]
    assert isinstance(cfg.server.allowed_origins, tuple)


def test_minimal_config_takes_the_defaults():
    cfg = parse_config(MINIMAL)
    assert cfg.kiosk.language == "zh_CN"
    assert (cfg.video.width, cfg.video.height, cfg.video.fps) == (1280, 720, 30)
    assert cfg.dispatch.embedded is False
    assert cfg.service_hours.is_open(datetime(2024, 6, 8, 3, 0, tzinfo=SHANGHAI))  # always open
    assert cfg.source is None


def test_ice_servers_accept_a_single_url_or_a_list():
    text = MINIMAL + (
        "ice_servers:\n"
        "  - urls: stun:stun.example.org:3478\n"
        "  - urls: [\"turn:turn.example.org:3478?transport=udp\", \"turns:turn.example.org:5349\"]\n"
        "    username: kiosk\n"
        "    credential: pw\n"
    )
    cfg = parse_config(text)
    assert cfg.ice_servers[0].urls == ("stun:stun.example.org:3478",)
    assert cfg.ice_servers[1].urls == ("turn:turn.example.org:3478?transport=udp",
                                       "turns:turn.example.org:5349")
    assert (cfg.ice_servers[1].username, cfg.ice_servers[1].credential) == ("kiosk", "pw")


# --- invalid YAML ---------------------------------------------------------------------------


def test_tab_indentation_names_the_line_of_the_tab():
    text = MINIMAL + "video:\n\tfps: 30\n"
    assert_error(refused(text), line_of(text, "\tfps"), None, "invalid YAML", "'\\t'")


@pytest.mark.parametrize("opened, what", [
    ('"Hall 1', "quoted scalar"),
    ("'Hall 1", "quoted scalar"),
])
def test_unclosed_quote_or_bracket_names_the_line_it_opened_on(opened, what):
    # the scanner only notices at the end of the file; the mistake is where the quote opened
    text = MINIMAL.replace("location: Hall 1", f"location: {opened}") + "video:\n  fps: 30\n"
    assert_error(refused(text), line_of(text, opened), None, "invalid YAML", what)


def test_unclosed_bracket_at_the_end_names_the_line_it_opened_on():
    text = MINIMAL + "ice_servers: [\n  {urls: \"stun:a.example\"}\n\n# nothing after\n"
    assert_error(refused(text), line_of(text, "ice_servers: ["), None, "invalid YAML",
                 "flow sequence")


def test_two_documents_are_refused():
    text = MINIMAL + "---\n" + MINIMAL
    assert_error(refused(text), line_of(text, "---"), None, "invalid YAML")


@pytest.mark.parametrize("value, needle", [
    ("!hall Hall 1", "!hall"),  # an unknown tag (a location that starts with '!')
    ("2024-13-45", "2024-13-45"),  # looks like a date, is not one
    ("!!int many", "!!int"),  # a tag the value does not fit
])
def test_a_value_yaml_cannot_construct_is_a_config_error_with_its_line(value, needle):
    text = MINIMAL.replace("location: Hall 1", f"location: {value}")
    assert_error(refused(text), line_of(text, needle), "kiosk.location", "cannot read the value")


# --- unknown keys ---------------------------------------------------------------------------


def test_unknown_section_suggests_the_close_one():
    text = MINIMAL + "vidoe:\n  fps: 30\n"
    assert_error(refused(text), line_of(text, "vidoe"), None,
                 "unknown key 'vidoe'", "(did you mean 'video'?)")


def test_unknown_key_in_a_section_names_the_section_and_suggests():
    text = MINIMAL + "video:\n  width: 640\n  fsp: 30\n"
    assert_error(refused(text), line_of(text, "fsp"), "video",
                 "unknown key 'fsp'", "(did you mean 'fps'?)")


def test_unknown_key_without_a_close_match_lists_the_known_keys():
    text = MINIMAL + "video:\n  zzzzzz: 1\n"
    assert_error(refused(text), line_of(text, "zzzzzz"), "video",
                 "unknown key 'zzzzzz'", "known keys: width, height, fps, camera")


def test_unknown_key_in_service_hours_suggests():
    text = MINIMAL + "service_hours:\n  timezon: Asia/Shanghai\n  mon: closed\n"
    assert_error(refused(text), line_of(text, "timezon:"), "service_hours",
                 "unknown key 'timezon'", "(did you mean 'timezone'?)")


def test_the_same_key_twice_is_refused_at_the_second():
    text = MINIMAL + "video:\n  fps: 30\n  width: 640\n  fps: 25\n"
    assert_error(refused(text), line_of(text, "fps: 25"), "video",
                 "key 'fps' appears twice", f"first on line {line_of(text, 'fps: 30')}")


# --- missing keys ---------------------------------------------------------------------------


def test_missing_kiosk_id_is_reported_at_the_kiosk_section():
    text = MINIMAL.replace("  id: k-01\n", "")
    assert_error(refused(text), line_of(text, "kiosk:"), "kiosk", "missing required key 'id'")


def test_missing_dispatch_token_is_reported_at_the_dispatch_section():
    text = MINIMAL.replace("  token: secret\n", "")
    assert_error(refused(text), line_of(text, "dispatch:"), "dispatch",
                 "missing required key 'token'")


def test_missing_section_is_reported_on_the_first_line_of_the_file():
    text = MINIMAL.split("dispatch:")[0]
    assert_error(refused(text), line_of(text, "kiosk:"), None, "missing required key 'dispatch'")


def test_a_section_that_is_not_a_mapping_is_refused():
    text = MINIMAL + "video: 30\n"
    assert_error(refused(text), line_of(text, "video: 30"), "video", "expected a mapping", "got 30")


def test_a_file_that_is_not_a_mapping_is_refused():
    assert_error(refused("# just a list\n- a\n- b\n"), 2, None, "expected a mapping", "got a list")


# --- wrong types ----------------------------------------------------------------------------


@pytest.mark.parametrize("section, line, key, expected", [
    ("video:\n  fps: thirty\n", "fps:", "video.fps", "expected an integer, got 'thirty'"),
    ("video:\n  fps: 29.97\n", "fps:", "video.fps", "expected an integer, got 29.97"),
    ("video:\n  fps: true\n", "fps:", "video.fps", "expected an integer, got True"),
    ("server:\n  heartbeat_s: fast\n", "heartbeat_s", "server.heartbeat_s",
     "expected a number, got 'fast'"),
    ("server:\n  heartbeat_s: yes\n", "heartbeat_s", "server.heartbeat_s",
     "expected a number, got True"),
    ("video:\n  camera: [a, b]\n", "camera:", "video.camera", "expected a text, got a list"),
])
def test_wrong_type_names_line_key_and_expectation(section, line, key, expected):
    text = MINIMAL + section
    assert_error(refused(text), line_of(text, line), key, expected)


def test_a_value_outside_a_choice_is_refused():
    text = MINIMAL.replace("  location: Hall 1\n", "  location: Hall 1\n  language: de\n")
    assert_error(refused(text), line_of(text, "language"), "kiosk.language",
                 "expected one of 'zh_CN', 'en', got 'de'")


def test_a_number_for_the_location_is_refused():
    text = MINIMAL.replace("location: Hall 1", "location: 42")
    assert_error(refused(text), line_of(text, "location"), "kiosk.location",
                 "expected a text, got 42")


@pytest.mark.parametrize("value", ["1", "0"])
def test_an_integer_for_a_true_false_setting_is_refused(value):
    text = MINIMAL + f"  embedded: {value}\n"
    assert_error(refused(text), line_of(text, "embedded"), "dispatch.embedded",
                 f"expected true or false, got {value}")


def test_integers_are_accepted_for_numbers_and_become_floats():
    cfg = parse_config(MINIMAL + "server:\n  heartbeat_s: 5\n")
    assert cfg.server.heartbeat_s == 5.0 and isinstance(cfg.server.heartbeat_s, float)


# --- values out of range --------------------------------------------------------------------


@pytest.mark.parametrize("section, needle, key, expected", [
    ("video:\n  fps: 0\n", "fps", "video.fps", "expected an integer from 1 to 60, got 0"),
    ("video:\n  fps: 61\n", "fps", "video.fps", "expected an integer from 1 to 60, got 61"),
    ("video:\n  width: 641\n", "width", "video.width",
     "expected an even integer from 160 to 3840, got 641"),
    ("video:\n  height: 100\n", "height", "video.height",
     "expected an even integer from 120 to 2160, got 100"),
    ("server:\n  port: 70000\n", "port", "server.port", "expected an integer from 1 to 65535"),
    ("simulator:\n  answer_delay_s: -1\n", "answer_delay_s", "simulator.answer_delay_s",
     "expected a number from 0 to 120, got -1"),
    ("server:\n  resume_grace_s: 2\n", "resume_grace_s", "server.resume_grace_s",
     "expected a number from 5 to 600, got 2"),
])
def test_out_of_range_value_names_line_key_and_range(section, needle, key, expected):
    text = MINIMAL + section
    assert_error(refused(text), line_of(text, needle), key, expected)


def test_resume_times_reach_dispatchs_settings():
    from kiosk.demo import dispatch_settings
    cfg = parse_config(MINIMAL + "server:\n  resume_grace_s: 45\n  resume_wait_s: 5\n")
    settings = dispatch_settings(cfg)
    assert (settings.resume_grace_s, settings.resume_wait_s) == (45.0, 5.0)


def test_range_limits_themselves_are_accepted():
    cfg = parse_config(MINIMAL + "video:\n  fps: 60\n  width: 160\n  height: 2160\n")
    assert (cfg.video.fps, cfg.video.width, cfg.video.height) == (60, 160, 2160)
    assert parse_config(MINIMAL + "video:\n  fps: 1\n").video.fps == 1


@pytest.mark.parametrize("kiosk_id", ["has space", "", "x" * 65, "ümlaut"])
def test_bad_kiosk_id_is_refused(kiosk_id):
    text = MINIMAL.replace("id: k-01", f"id: '{kiosk_id}'")
    assert_error(refused(text), line_of(text, "  id:"), "kiosk.id", "expected 1-64 letters")


def test_dispatch_url_must_be_a_websocket_url():
    text = MINIMAL.replace("wss://dispatch.example/ws", "https://dispatch.example/ws")
    assert_error(refused(text), line_of(text, "url:"), "dispatch.url",
                 "expected a WebSocket URL", "'https://dispatch.example/ws'")


def test_ice_server_url_with_another_scheme_is_refused():
    text = MINIMAL + (
        "ice_servers:\n"
        "  - urls: stun:ok.example.org\n"
        "  - urls: [\"turn:ok.example.org\", \"http://turn.example.org\"]\n"
    )
    assert_error(refused(text), line_of(text, "http://"), "ice_servers[1].urls",
                 "expected URLs starting with stun:, turn: or turns:")


def test_ice_server_without_urls_is_refused():
    text = MINIMAL + "ice_servers:\n  - username: kiosk\n"
    assert_error(refused(text), line_of(text, "username"), "ice_servers[0]",
                 "missing required key 'urls'")


# --- service hours --------------------------------------------------------------------------


@pytest.mark.parametrize("span", [
    "25:00-26:00", "9-17", "08:00-08:00", "17:00-09:00", "08:60-09:00", "08:00-24:01",
    "08:00-12:00, 11:00-13:00", "", "always",
])
def test_bad_service_hours_span_names_the_day(span):
    text = MINIMAL + f"service_hours:\n  timezone: Asia/Shanghai\n  tue: \"{span}\"\n"
    assert_error(refused(text), line_of(text, "tue:"), "service_hours.tue",
                 "expected opening hours like", f"got {span!r}")


def test_service_hours_day_must_be_text():
    text = MINIMAL + "service_hours:\n  mon: 8\n"
    assert_error(refused(text), line_of(text, "mon:"), "service_hours.mon", "expected a text, got 8")


def test_unknown_time_zone_is_refused():
    text = MINIMAL + "service_hours:\n  timezone: Mars/Olympus_Mons\n  mon: closed\n"
    assert_error(refused(text), line_of(text, "timezone"), "service_hours.timezone",
                 "expected a time zone name such as Asia/Shanghai", "'Mars/Olympus_Mons'")


def test_service_hours_parse_spans_and_leave_missing_days_closed():
    text = MINIMAL + (
        "service_hours:\n"
        "  timezone: Europe/Berlin\n"
        "  mon: \"13:30-17:30, 08:30-12:00\"\n"  # any order; kept sorted
        "  tue: \" 00:00 - 24:00 \"\n"
        "  sat: closed\n"
    )
    hours = parse_config(text).service_hours
    assert hours.timezone == "Europe/Berlin"
    assert hours.weekly["mon"] == ((510, 720), (810, 1050))
    assert hours.weekly["tue"] == ((0, 1440),)
    assert hours.weekly["sat"] == ()
    assert hours.weekly["sun"] == () and hours.weekly["wed"] == ()


# --- empty and missing files ----------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_empty_file_is_refused(text):
    err = refused(text)
    assert str(err) == ("kiosk.yaml: the file is empty; it needs at least the kiosk and "
                        "dispatch sections")
    assert err.line is None and err.key is None


def test_missing_file_is_refused(tmp_path):
    path = tmp_path / "nowhere" / "config.yaml"
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == f"{path}: file not found"


def test_file_that_is_not_utf8_is_refused(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_bytes(MINIMAL.replace("Hall 1", "Halle \xfc").encode("latin-1"))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}: cannot be read")


def test_load_config_names_the_file_it_read(tmp_path):
    path = tmp_path / "counter-3.yaml"
    text = MINIMAL + "video:\n  fps: 0\n"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert_error(info.value, line_of(text, "fps"), "video.fps", "from 1 to 60",
                 source="counter-3.yaml")


# --- ServiceHours ---------------------------------------------------------------------------

HALL = MINIMAL + """\
service_hours:
  timezone: Asia/Shanghai
  mon: "08:30-12:00, 13:30-17:30"
  tue: "08:30-12:00, 13:30-17:30"
  wed: "08:30-12:00, 13:30-17:30"
  thu: "08:30-12:00, 13:30-17:30"
  fri: "08:30-12:00"
  sat: closed
"""


@pytest.fixture
def hall() -> ServiceHours:
    return parse_config(HALL).service_hours


def sh(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A moment in Shanghai in the week of Monday 2024-06-03 (day 3 = Mon … day 9 = Sun)."""
    return datetime(2024, 6, day, hour, minute, second, tzinfo=SHANGHAI)


@pytest.mark.parametrize("at, open_", [
    (sh(3, 8, 30), True),
    (sh(3, 8, 29, 59), False),
    (sh(3, 11, 59, 59), True),
    (sh(3, 12, 0), False),  # the end is exclusive
    (sh(3, 13, 30), True),
    (sh(3, 17, 29), True),
    (sh(3, 17, 30), False),
    (sh(3, 3, 0), False),
    (sh(7, 10, 0), True),  # Friday morning
    (sh(7, 14, 0), False),  # Friday afternoon: no second span
    (sh(8, 10, 0), False),  # Saturday: closed
    (sh(9, 10, 0), False),  # Sunday: not listed, so closed
])
def test_is_open_at_local_times(hall, at, open_):
    assert hall.is_open(at) is open_


def test_is_open_converts_to_the_configured_time_zone(hall):
    # Monday 00:30 UTC is 08:30 in Shanghai; Monday 08:30 UTC is 16:30 there; 10:00 UTC is 18:00
    assert hall.is_open(datetime(2024, 6, 3, 0, 30, tzinfo=timezone.utc))
    assert hall.is_open(datetime(2024, 6, 3, 8, 30, tzinfo=timezone.utc))
    assert not hall.is_open(datetime(2024, 6, 3, 10, 0, tzinfo=timezone.utc))
    # Sunday 20:00 in Berlin (summer time, UTC+2) is Monday 02:00 in Shanghai: closed;
    # Monday 02:45 in Berlin is Monday 08:45 in Shanghai: open, though Berlin's clock says 02:45
    berlin = ZoneInfo("Europe/Berlin")
    assert not hall.is_open(datetime(2024, 6, 9, 20, 0, tzinfo=berlin))
    assert hall.is_open(datetime(2024, 6, 3, 2, 45, tzinfo=berlin))
    # Friday 03:00 UTC is Friday 11:00 in Shanghai: open; Friday 23:30 UTC is Saturday there
    assert hall.is_open(datetime(2024, 6, 7, 3, 0, tzinfo=timezone.utc))
    assert not hall.is_open(datetime(2024, 6, 7, 23, 30, tzinfo=timezone.utc))


def test_next_opening_is_at_itself_when_open(hall):
    at = sh(3, 9, 15, 42)
    assert hall.next_opening(at) == at
    utc = datetime(2024, 6, 3, 1, 0, tzinfo=timezone.utc)  # 09:00 in Shanghai
    assert hall.next_opening(utc) == utc


@pytest.mark.parametrize("at, expected", [
    (sh(3, 7, 0), sh(3, 8, 30)),  # before the morning span
    (sh(3, 8, 29, 30), sh(3, 8, 30)),  # seconds before the start
    (sh(3, 12, 0), sh(3, 13, 30)),  # lunch break
    (sh(3, 17, 30), sh(4, 8, 30)),  # evening: the next day
    (sh(7, 12, 0), sh(10, 8, 30)),  # Friday after closing: Monday, over the weekend
    (sh(8, 10, 0), sh(10, 8, 30)),  # Saturday
    (sh(9, 23, 59), sh(10, 8, 30)),  # Sunday night wraps to Monday
])
def test_next_opening_finds_the_next_span_start(hall, at, expected):
    got = hall.next_opening(at)
    assert got == expected
    assert got.utcoffset() == timedelta(hours=8)
    assert hall.is_open(got)


def test_next_opening_converts_from_another_zone(hall):
    # Monday 10:00 UTC = 18:00 Shanghai: next is Tuesday 08:30 Shanghai = Tuesday 00:30 UTC
    got = hall.next_opening(datetime(2024, 6, 3, 10, 0, tzinfo=timezone.utc))
    assert got == datetime(2024, 6, 4, 0, 30, tzinfo=timezone.utc)


def test_next_opening_wraps_a_whole_week():
    hours = ServiceHours(timezone="Asia/Shanghai", weekly=MappingProxyType({"mon": ((510, 720),)}))
    assert hours.next_opening(sh(3, 13, 0)) == sh(10, 8, 30)  # Monday afternoon: next Monday
    assert hours.next_opening(sh(3, 8, 0)) == sh(3, 8, 30)
    assert hours.next_opening(sh(5, 8, 0)) == sh(10, 8, 30)


def test_next_opening_is_none_when_never_open():
    hours = ServiceHours(timezone="Asia/Shanghai", weekly=MappingProxyType({}))
    assert not hours.is_open(sh(3, 10, 0))
    assert hours.next_opening(sh(3, 10, 0)) is None


def test_whole_day_spans_are_open_until_midnight():
    hours = parse_config(MINIMAL + "service_hours:\n  sat: \"00:00-24:00\"\n").service_hours
    assert hours.is_open(sh(8, 0, 0)) and hours.is_open(sh(8, 23, 59, 59))
    assert not hours.is_open(sh(9, 0, 0))


# --- the data folder ------------------------------------------------------------------------


def test_relative_data_dir_is_resolved_against_the_config_folder(tmp_path, monkeypatch):
    folder = tmp_path / "etc" / "kiosk"
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text(
        MINIMAL.replace("  location: Hall 1\n", "  location: Hall 1\n  data_dir: sessions/db\n"),
        encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # a relative path to the file, and a working folder elsewhere
    cfg = load_config(Path("etc/kiosk/config.yaml"))
    assert cfg.data_path == folder.resolve() / "sessions" / "db"
    assert cfg.data_path.is_absolute()


def test_absolute_data_dir_is_kept(tmp_path):
    target = tmp_path / "elsewhere"
    path = tmp_path / "config.yaml"
    path.write_text(MINIMAL.replace("  location: Hall 1\n",
                                    f"  location: Hall 1\n  data_dir: '{target}'\n"), encoding="utf-8")
    assert load_config(path).data_path == target


def test_parse_config_resolves_data_dir_against_base_dir(tmp_path):
    text = MINIMAL.replace("  location: Hall 1\n", "  location: Hall 1\n  data_dir: data\n")
    cfg = parse_config(text, source_name="c.yaml", base_dir=tmp_path)
    assert cfg.source == tmp_path / "c.yaml"
    assert cfg.data_path == tmp_path / "data"


def test_tls_needs_both_files():
    with pytest.raises(ConfigError) as err:
        parse_config(MINIMAL + "server:\n  tls_cert: cert.pem\n")
    assert "tls_cert and tls_key go together" in str(err.value)
    cfg = parse_config(MINIMAL + "server:\n  tls_cert: cert.pem\n  tls_key: key.pem\n",
                       base_dir=Path("/etc/kiosk"))
    assert cfg.tls_files == (Path("/etc/kiosk/cert.pem"), Path("/etc/kiosk/key.pem"))


def test_dispatch_data_lives_beside_the_session_log_by_default(tmp_path):
    cfg = parse_config(MINIMAL, base_dir=tmp_path)
    assert cfg.dispatch_data_path == cfg.data_path / "dispatch"
    cfg = parse_config(MINIMAL + "server:\n  data_dir: central\n", base_dir=tmp_path)
    assert cfg.dispatch_data_path == tmp_path / "central"
