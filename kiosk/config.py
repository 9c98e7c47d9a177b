"""``config.yaml`` loaded into frozen dataclasses, checked completely before anything starts.

Every mistake is reported with the file, the line, the dotted key and what was expected::

    config.yaml, line 14: video.fps: expected an integer from 1 to 60, got 'thirty'

The schema is the dataclasses below; one validator walks the YAML node tree against them, so
line numbers come from the YAML itself and every section is checked the same way.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import difflib
import re
import types
import typing
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, Mapping, Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

APP_NAME = "counter-kiosk"


class ConfigError(Exception):
    """A configuration that cannot be used. ``str()`` is the whole message for a person."""

    def __init__(self, message: str, *, source: str = "config.yaml", line: Optional[int] = None,
                 key: Optional[str] = None) -> None:
        where = f"{source}, line {line}" if line else source
        text = f"{where}: {key}: {message}" if key else f"{where}: {message}"
        super().__init__(text)
        self.line = line
        self.key = key


def _check(fn, expected: str):
    """Field metadata: ``fn(value)`` must be true; ``expected`` completes 'expected …'."""
    return {"check": fn, "expected": expected}


def _range(lo, hi, kind="a number"):
    return _check(lambda v: lo <= v <= hi, f"{kind} from {lo} to {hi}")


_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
# a key combination such as "Ctrl+Alt+Shift+F12": at least two modifiers and one key, so that
# nobody presses it by chance on a keyboard left at the counter
_MODIFIERS = ("ctrl", "alt", "shift", "meta")
_KEY = re.compile(r"^(F([1-9]|1[0-9]|2[0-4])|[A-Z0-9]|Home|End|Insert|Delete|Pause|Print|Backspace|Tab)$",
                  re.IGNORECASE)


def key_combination_ok(text: str) -> bool:
    parts = [p.strip() for p in text.split("+")]
    *mods, key = parts
    return (len(mods) >= 2 and len({m.lower() for m in mods}) == len(mods)
            and all(m.lower() in _MODIFIERS for m in mods) and bool(_KEY.match(key)))


@dataclass(frozen=True)
class IceServer:
    urls: tuple[str, ...] = field(metadata=_check(
        lambda v: len(v) > 0 and all(u.startswith(("stun:", "turn:", "turns:")) for u in v),
        "URLs starting with stun:, turn: or turns:"))
    username: Optional[str] = None
    credential: Optional[str] = None


@dataclass(frozen=True)
class KioskConfig:
    id: str = field(metadata=_check(lambda v: bool(_ID.match(v)),
                                    "1-64 letters, digits, '.', '_' or '-'"))
    location: str = field(metadata=_check(lambda v: bool(v.strip()), "a non-empty text"))
    language: Literal["zh_CN", "en"] = "zh_CN"
    idle_timeout_s: float = field(default=90.0, metadata=_range(10, 3600))
    rating_timeout_s: float = field(default=20.0, metadata=_range(5, 300))
    data_dir: Optional[str] = None
    # the matters staff pick when they start a session for a resident (the record keeps it)
    categories: tuple[str, ...] = field(
        default=("社保", "医疗", "民政", "企业登记", "其他"),
        metadata=_check(lambda v: 0 < len(v) <= 20 and all(c.strip() and len(c) <= 32 for c in v)
                        and len(set(v)) == len(v), "1 to 20 different names of at most 32 characters"))
    # the matters in another language, for the Welcome screen's language switch:
    # {en: {社保: Social insurance}}; one left out shows as the translation files have it
    category_names: Mapping[str, Mapping[str, str]] = field(
        default_factory=lambda: MappingProxyType({}),
        metadata=_check(lambda v: all(k in ("zh_CN", "en") for k in v)
                        and all(t.strip() and len(t) <= 40 for names in v.values() for t in names.values()),
                        "languages zh_CN or en, each with names of at most 40 characters"))
    retention_years: float = field(default=3.0, metadata=_range(0.1, 50))  # older records are removed
    # the mouse pointer: "auto" hides it when the machine has a touch screen, "hidden", "shown"
    cursor: Literal["auto", "hidden", "shown"] = "auto"
    # keys that leave kiosk mode while no admin PIN is set (a technician setting the kiosk
    # up); null = only through the admin area
    technician_exit_keys: Optional[str] = field(default="Ctrl+Alt+Shift+F12", metadata=_check(
        key_combination_ok, "a key combination with at least two of Ctrl, Alt, Shift, Meta "
                            "and one key, such as \"Ctrl+Alt+Shift+F12\", or null"))


@dataclass(frozen=True)
class DispatchClientConfig:
    url: str = field(metadata=_check(lambda v: v.startswith(("ws://", "wss://")),
                                     "a WebSocket URL starting with ws:// or wss://"))
    token: str = field(metadata=_check(lambda v: bool(v), "a non-empty token"))
    embedded: bool = False  # start the dispatch service inside the kiosk (demo)
    ca_file: Optional[str] = None  # PEM certificates to trust for wss:// (a private CA)


@dataclass(frozen=True)
class VideoConfig:
    width: int = field(default=1280, metadata=_check(lambda v: 160 <= v <= 3840 and v % 2 == 0,
                                                     "an even integer from 160 to 3840"))
    height: int = field(default=720, metadata=_check(lambda v: 120 <= v <= 2160 and v % 2 == 0,
                                                     "an even integer from 120 to 2160"))
    fps: int = field(default=30, metadata=_range(1, 60, "an integer"))
    camera: str = "synthetic"


@dataclass(frozen=True)
class AudioConfig:
    input: str = "synthetic"
    output: str = "synthetic"
    # WebRTC's audio processing on the microphone (kiosk/call/aec.py): on for an open speaker
    # and microphone; off for a headset or a speakerphone that cancels echo itself
    echo_cancellation: bool = True
    noise_suppression: bool = True
    high_pass_filter: bool = True

    @property
    def processing(self) -> bool:
        """Whether any processing runs on the microphone's audio."""
        return self.echo_cancellation or self.noise_suppression or self.high_pass_filter


Span = tuple[int, int]  # minutes from midnight, end exclusive (24:00 = 1440)


def _parse_day(text: str) -> tuple[Span, ...]:
    text = text.strip()
    if text.lower() == "closed":
        return ()
    spans = []
    for part in text.split(","):
        m = _SPAN.match(part)
        if not m:
            raise ValueError(part.strip())
        h1, m1, h2, m2 = map(int, m.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if m1 > 59 or m2 > 59 or h1 > 23 or end > 1440 or end <= start:
            raise ValueError(part.strip())
        spans.append((start, end))
    spans.sort()
    for (_, e1), (s2, _) in zip(spans, spans[1:]):
        if s2 < e1:
            raise ValueError(text)
    return tuple(spans)


ALTERNATIVE_KINDS = ("text_hotline", "sms", "web", "email", "wechat")
_PHONE = re.compile(r"^\+?[0-9][0-9 -]{1,30}[0-9]$")
_ALTERNATIVE_VALUES = {  # kind: (check, what is expected)
    "text_hotline": (lambda v: bool(_PHONE.match(v)), "a number such as 12345 or +86 10 1234 5678"),
    "sms": (lambda v: bool(_PHONE.match(v)), "a number such as 12345 or +86 10 1234 5678"),
    "web": (lambda v: bool(re.match(r"^(https?://)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+(/\S*)?$", v)),
            "a web address such as https://example.gov.cn/help"),
    "email": (lambda v: bool(re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", v)), "an e-mail address"),
    "wechat": (lambda v: bool(v.strip()) and len(v) <= 40, "an account name of at most 40 characters"),
}


@dataclass(frozen=True)
class Alternative:
    """Another way to reach the service while no interpreter is on duty, shown on Welcome.
    The screen names the kind in the resident's language; the value is shown as written."""

    kind: Literal["text_hotline", "sms", "web", "email", "wechat"]
    value: str = field(metadata=_check(lambda v: 0 < len(v.strip()) <= 64, "a text of 1 to 64 characters"))


@dataclass(frozen=True)
class ServiceHours:
    timezone: str = field(default="Asia/Shanghai", metadata=_check(
        lambda v: _zone_ok(v), "a time zone name such as Asia/Shanghai"))
    weekly: Mapping[str, tuple[Span, ...]] = field(
        default_factory=lambda: MappingProxyType({d: ((0, 1440),) for d in _DAYS}))
    alternatives: tuple[Alternative, ...] = ()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_open(self, at: datetime) -> bool:
        local = at.astimezone(self.zone)
        minute = local.hour * 60 + local.minute
        return any(s <= minute < e for s, e in self.weekly.get(_DAYS[local.weekday()], ()))

    def next_opening(self, at: datetime) -> Optional[datetime]:
        """The next moment the service opens after ``at`` (``at`` itself if open now)."""
        if self.is_open(at):
            return at
        local = at.astimezone(self.zone)
        minute = local.hour * 60 + local.minute
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        for day in range(8):
            date = midnight + timedelta(days=day)
            for start, _ in self.weekly.get(_DAYS[date.weekday()], ()):
                if day > 0 or start > minute:
                    naive = date.replace(tzinfo=None) + timedelta(minutes=start)
                    return naive.replace(tzinfo=self.zone)
        return None


def _zone_ok(name: str) -> bool:
    try:
        ZoneInfo(name)
        return True
    except (ZoneInfoNotFoundError, ValueError):
        return False


@dataclass(frozen=True)
class SimulatorConfig:
    interpreters: int = field(default=1, metadata=_range(0, 50, "an integer"))
    answer_delay_s: float = field(default=2.0, metadata=_range(0, 120))


@dataclass(frozen=True)
class ServerConfig:
    """The dispatch service (``kiosk dispatch``, and the demo's embedded one)."""

    host: str = "127.0.0.1"
    port: int = field(default=8765, metadata=_range(1, 65535, "an integer"))
    data_dir: Optional[str] = None  # accounts and central records; None = <user data>/dispatch
    heartbeat_s: float = field(default=10.0, metadata=_range(1, 120))
    ring_timeout_s: float = field(default=20.0, metadata=_range(3, 300))
    wrap_up_s: float = field(default=30.0, metadata=_range(0, 600))
    missed_rings_to_away: int = field(default=3, metadata=_range(1, 20, "an integer"))
    # browser origins, besides dispatch's own, allowed to open the WebSocket (console pages)
    allowed_origins: tuple[str, ...] = field(default=(), metadata=_check(
        lambda v: all(o.startswith(("http://", "https://")) for o in v),
        "origins such as https://console.example.gov.cn"))
    tls_cert: Optional[str] = None  # PEM certificate chain: serve https/wss when set
    tls_key: Optional[str] = None
    # central records in PostgreSQL (postgresql://user:pass@host/db) instead of SQLite, for a
    # city with many kiosks and several dispatch processes
    database_url: Optional[str] = field(default=None, metadata=_check(
        lambda v: v.startswith(("postgresql://", "postgres://")), "a URL starting with postgresql://"))
    # central records older than this are removed (at start-up and daily)
    retention_years: float = field(default=3.0, metadata=_range(0.1, 50))
    # an answered call whose kiosk or console lost its link to dispatch is kept this long for
    # it to come back (the media may still flow); once back, it has resume_wait_s to resume
    resume_grace_s: float = field(default=90.0, metadata=_range(5, 600))
    resume_wait_s: float = field(default=10.0, metadata=_range(1, 120))


@dataclass(frozen=True)
class Config:
    kiosk: KioskConfig
    dispatch: DispatchClientConfig
    ice_servers: tuple[IceServer, ...] = ()
    video: VideoConfig = field(default_factory=VideoConfig)
    audio: AudioConfig = field(default_factory=AudioConfig)
    service_hours: ServiceHours = field(default_factory=ServiceHours)
    simulator: SimulatorConfig = field(default_factory=SimulatorConfig)
    server: ServerConfig = field(default_factory=ServerConfig)
    source: Optional[Path] = field(default=None, metadata={"yaml": False})

    @property
    def data_path(self) -> Path:
        own = self._resolve(self.kiosk.data_dir)
        if own is not None:
            return own
        import platformdirs

        return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))

    def _resolve(self, value: Optional[str]) -> Optional[Path]:
        if not value:
            return None
        path = Path(value).expanduser()
        if not path.is_absolute() and self.source is not None:
            path = self.source.parent / path
        return path

    @property
    def dispatch_data_path(self) -> Path:
        """Where the dispatch service keeps its accounts and central records."""
        return self._resolve(self.server.data_dir) or self.data_path / "dispatch"

    @property
    def dispatch_ca_path(self) -> Optional[Path]:
        return self._resolve(self.dispatch.ca_file)

    @property
    def tls_files(self) -> Optional[tuple[Path, Path]]:
        cert, key = self._resolve(self.server.tls_cert), self._resolve(self.server.tls_key)
        return (cert, key) if cert and key else None


# --- the validator ------------------------------------------------------------------------

class _Walker:
    def __init__(self, loader: yaml.SafeLoader, source: str) -> None:
        self.loader = loader
        self.source = source

    def fail(self, node: Optional[yaml.Node], key: str, message: str):
        line = node.start_mark.line + 1 if node is not None else None
        raise ConfigError(message, source=self.source, line=line, key=key or None)

    def scalar(self, node: yaml.Node, key: str = "") -> Any:
        try:
            return self.loader.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, TypeError, OverflowError) as exc:
            # an unknown tag (!x), a date that is not one (2024-13-45), !!int on a word …
            reason = getattr(exc, "problem", None) or str(exc)
            self.fail(node, key, f"cannot read the value {node.value!r}: {reason} "
                                 "(put text in quotes)")

    def shown(self, node: yaml.Node) -> str:
        if isinstance(node, yaml.ScalarNode):
            return repr(self.scalar(node))
        return "a list" if isinstance(node, yaml.SequenceNode) else "a mapping"

    def mapping(self, node: yaml.Node, key: str) -> list[tuple[str, yaml.Node, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, key, f"expected a mapping (key: value lines), got {self.shown(node)}")
        seen: dict[str, yaml.Node] = {}
        pairs = []
        for knode, vnode in node.value:
            name = self.scalar(knode, key)
            if not isinstance(name, str):
                self.fail(knode, key, f"keys must be text, got {name!r}")
            if name in seen:
                self.fail(knode, key, f"key '{name}' appears twice (first on line "
                                      f"{seen[name].start_mark.line + 1})")
            seen[name] = knode
            pairs.append((name, knode, vnode))
        return pairs

    def dataclass(self, cls: type, node: yaml.Node, key: str, owner: Optional[yaml.Node] = None) -> Any:
        """``owner`` is the key node naming this section: a missing key is reported there."""
        pairs = self.mapping(node, key)
        hints = typing.get_type_hints(cls)
        fields = {f.name: f for f in dataclasses.fields(cls) if f.metadata.get("yaml", True)}
        if cls is ServiceHours:
            return self.service_hours(pairs, node, key)
        values = {}
        for name, knode, vnode in pairs:
            if name not in fields:
                close = difflib.get_close_matches(name, fields, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else f" (known keys: {', '.join(fields)})"
                self.fail(knode, key, f"unknown key '{name}'{hint}")
            sub = f"{key}.{name}" if key else name
            values[name] = self.value(hints[name], vnode, sub, fields[name], knode)
        for name, f in fields.items():
            if name not in values and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                self.fail(owner or node, key, f"missing required key '{name}'")
        return cls(**values)

    def value(self, hint: Any, node: yaml.Node, key: str, f: Optional[dataclasses.Field] = None,
              owner: Optional[yaml.Node] = None) -> Any:
        value = self.typed(hint, node, key, owner)
        if f is not None and "check" in f.metadata and value is not None:
            if not f.metadata["check"](value):
                self.fail(node, key, f"expected {f.metadata['expected']}, got {self.shown(node)}")
        return value

    def typed(self, hint: Any, node: yaml.Node, key: str, owner: Optional[yaml.Node] = None) -> Any:
        origin = typing.get_origin(hint)
        args = typing.get_args(hint)
        if origin in (typing.Union, types.UnionType):
            if isinstance(node, yaml.ScalarNode) and self.scalar(node) is None and type(None) in args:
                return None
            inner = [a for a in args if a is not type(None)]
            return self.typed(inner[0], node, key, owner)
        if dataclasses.is_dataclass(hint):
            return self.dataclass(hint, node, key, owner)
        if origin is tuple:
            items = node.value if isinstance(node, yaml.SequenceNode) else None
            if items is None:
                if args[0] is str and isinstance(node, yaml.ScalarNode) and isinstance(self.scalar(node), str):
                    return (self.scalar(node),)
                self.fail(node, key, f"expected a list, got {self.shown(node)}")
            return tuple(self.typed(args[0], item, f"{key}[{i}]") for i, item in enumerate(items))
        if origin in (collections.abc.Mapping, dict):
            pairs = self.mapping(node, key)
            return MappingProxyType({n: self.typed(args[1], v, f"{key}.{n}") for n, _, v in pairs})
        if not isinstance(node, yaml.ScalarNode):
            self.fail(node, key, f"expected {_expected(hint)}, got {self.shown(node)}")
        value = self.scalar(node, key)
        if origin is Literal:
            if value not in args:
                self.fail(node, key, f"expected one of {', '.join(repr(a) for a in args)}, got {value!r}")
            return value
        ok = {
            str: lambda v: isinstance(v, str),
            bool: lambda v: isinstance(v, bool),
            int: lambda v: isinstance(v, int) and not isinstance(v, bool),
            float: lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        }[hint](value)
        if not ok:
            self.fail(node, key, f"expected {_expected(hint)}, got {value!r}")
        return float(value) if hint is float else value

    def service_hours(self, pairs, node, key) -> ServiceHours:
        timezone = ServiceHours.timezone
        weekly: dict[str, tuple[Span, ...]] = {d: () for d in _DAYS}
        tz_field = next(f for f in dataclasses.fields(ServiceHours) if f.name == "timezone")
        any_day = False
        alternatives: tuple[Alternative, ...] = ()
        for name, knode, vnode in pairs:
            sub = f"{key}.{name}"
            if name == "timezone":
                timezone = self.value(str, vnode, sub, tz_field)
            elif name == "alternatives":
                alternatives = self.alternatives(vnode, sub)
            elif name in _DAYS:
                any_day = True
                text = self.typed(str, vnode, sub)
                try:
                    weekly[name] = _parse_day(text)
                except ValueError:
                    self.fail(vnode, sub, "expected opening hours like \"08:30-12:00, 13:30-17:30\", "
                                          f"\"00:00-24:00\" or \"closed\", got {text!r}")
            else:
                close = difflib.get_close_matches(name, ("timezone", "alternatives") + _DAYS, n=1)
                hint = (f" (did you mean '{close[0]}'?)" if close
                        else " (use timezone, alternatives, mon … sun)")
                self.fail(knode, key, f"unknown key '{name}'{hint}")
        if not any_day:
            return ServiceHours(timezone=timezone, alternatives=alternatives)
        return ServiceHours(timezone=timezone, weekly=MappingProxyType(weekly), alternatives=alternatives)

    def alternatives(self, node: yaml.Node, key: str) -> tuple[Alternative, ...]:
        """A list of {kind, value}; each value is checked against its kind."""
        if isinstance(node, yaml.ScalarNode) and self.scalar(node) is None:
            return ()
        if not isinstance(node, yaml.SequenceNode):
            self.fail(node, key, "expected a list of {kind: …, value: …} entries, got " + self.shown(node))
        if len(node.value) > 4:
            self.fail(node.value[4], key, f"at most 4 alternatives fit on the screen, got {len(node.value)}")
        found = []
        for i, item in enumerate(node.value):
            sub = f"{key}[{i}]"
            alt = self.dataclass(Alternative, item, sub)
            check, expected = _ALTERNATIVE_VALUES[alt.kind]
            if not check(alt.value.strip()):
                vnode = next(v for k, v in item.value if k.value == "value")
                self.fail(vnode, f"{sub}.value", f"expected {expected} for kind {alt.kind}, got {alt.value!r}")
            found.append(dataclasses.replace(alt, value=alt.value.strip()))
        return tuple(found)


def _expected(hint: Any) -> str:
    return {str: "a text", bool: "true or false", int: "an integer", float: "a number"}.get(hint, str(hint))


def parse_config(text: str, source_name: str = "config.yaml", base_dir: Optional[Path] = None,
                 source: Optional[Path] = None) -> Config:
    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "not valid YAML"
        if exc.context_mark is not None and exc.problem_mark is not None \
                and exc.problem_mark.index >= len(text):
            # an unclosed quote or bracket runs to the end of the file: name where it began
            mark = exc.context_mark
            problem = f"{problem} {exc.context} that starts on this line"
        raise ConfigError(f"invalid YAML: {problem}", source=source_name,
                          line=mark.line + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", source=source_name) from None
    if node is None:
        raise ConfigError("the file is empty; it needs at least the kiosk and dispatch sections",
                          source=source_name)
    walker = _Walker(yaml.SafeLoader(""), source_name)
    config = walker.dataclass(Config, node, "")
    if bool(config.server.tls_cert) != bool(config.server.tls_key):
        raise ConfigError("tls_cert and tls_key go together: set both (https/wss) or neither",
                          source=source_name, key="server")
    if source is None and base_dir is not None:
        source = base_dir / source_name
    return dataclasses.replace(config, source=source)


def load_config(path: str | Path) -> Config:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", source=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot be read: {exc}", source=str(path)) from None
    return parse_config(text, source_name=path.name, source=path.resolve())
