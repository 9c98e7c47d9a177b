"""Messages between kiosks, interpreter consoles and the dispatch service.

Every WebSocket text frame carries one JSON object with a ``type`` field naming one of the
message classes below. Both the call engine (``kiosk/call``) and the dispatch service
(``kiosk/dispatch``) use this module, so the two sides cannot drift apart; ``docs/protocol.md``
describes each message for people (and for the browser console, which cannot import Python).

``decode`` is strict: unknown types, missing or unknown fields, wrong field types and frames
over ``MAX_MESSAGE_BYTES`` raise ``ProtocolError`` with a short reason that can be sent back
to the peer in an ``error`` message.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Optional, Union

PROTOCOL_VERSION = 1
MAX_MESSAGE_BYTES = 64 * 1024  # an SDP with all candidates is ~5-10 KiB

Role = Literal["kiosk", "interpreter"]
StartedBy = Literal["resident", "staff"]
PresenceState = Literal["available", "away"]
# what dispatch says an interpreter is doing (``status``); only available/away are chosen by them
InterpreterState = Literal["available", "ringing", "in_call", "wrap_up", "away"]
UnavailableReason = Literal["no_interpreter", "out_of_hours"]
EndedBy = Literal["kiosk", "interpreter", "dispatch"]
ErrorCode = Literal[
    "bad_message",  # not JSON, unknown type, missing/unknown/mistyped field
    "too_large",  # frame over MAX_MESSAGE_BYTES
    "unsupported_protocol",  # hello with another protocol version
    "unauthenticated",  # wrong credential, or a message before hello/welcome
    "forbidden",  # a message this role may not send
    "unknown_session",  # a session this connection has no part in
    "bad_state",  # a message that does not fit the session's current state
    "already_connected",  # a second connection for the same kiosk or interpreter
]


class ProtocolError(ValueError):
    """A frame that is not a valid message. ``code`` is an ``ErrorCode``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Message:
    type: ClassVar[str] = ""


_REGISTRY: dict[str, type[Message]] = {}


def message(name: str):
    """Class decorator: a frozen dataclass registered under the wire ``type`` ``name``."""

    def wrap(cls):
        cls = dataclass(frozen=True)(cls)
        cls.type = name
        if name in _REGISTRY:
            raise RuntimeError(f"duplicate message type {name!r}")
        _REGISTRY[name] = cls
        return cls

    return wrap


# --- connection -----------------------------------------------------------------------------


@message("hello")
class Hello(Message):
    """First message of every connection, from kiosk or interpreter."""

    role: Role
    id: str  # kiosk id, or interpreter account name
    credential: str  # kiosk token, or interpreter password
    protocol: int = PROTOCOL_VERSION
    location: Optional[str] = None  # kiosk only: human-readable place, shown to interpreters


@message("welcome")
class Welcome(Message):
    """Dispatch accepted the hello."""

    role: Role
    id: str
    protocol: int = PROTOCOL_VERSION


@message("error")
class Error(Message):
    """Dispatch refused a message. The connection stays open unless the code says otherwise."""

    code: ErrorCode
    message: str
    ref_type: Optional[str] = None  # type of the message that was refused, if known
    session_id: Optional[str] = None


# --- kiosk side of a call -------------------------------------------------------------------


@message("call_request")
class CallRequest(Message):
    """Kiosk asks for an interpreter. ``session_id`` is made by the kiosk (UUID4)."""

    session_id: str
    started_by: StartedBy = "resident"
    category: Optional[str] = None


@message("queued")
class Queued(Message):
    """Dispatch to kiosk: the call waits; sent again whenever position or estimate change."""

    session_id: str
    position: int  # 1 = next to be served
    estimated_wait_s: Optional[float] = None


@message("ringing")
class Ringing(Message):
    """Dispatch to kiosk: an interpreter's console is ringing for this call."""

    session_id: str


@message("unavailable")
class Unavailable(Message):
    """Dispatch to kiosk: the call cannot be served at all; the call is over."""

    session_id: str
    reason: UnavailableReason
    detail: Optional[str] = None


@message("cancel")
class Cancel(Message):
    """Kiosk withdraws its call before it was answered."""

    session_id: str


@message("accepted")
class Accepted(Message):
    """Dispatch to kiosk: an interpreter took the call; the kiosk now sends its offer."""

    session_id: str
    interpreter_id: str


# --- interpreter side of a call -------------------------------------------------------------


@message("presence")
class Presence(Message):
    """Interpreter sets their own availability."""

    state: PresenceState


@message("status")
class Status(Message):
    """Dispatch to interpreter: your state now, sent on every change (and after welcome).

    ``reason`` says why dispatch changed it on its own: ``missed_rings`` (set away after
    missing rings in a row), ``wrap_up_over`` (back to available after the wrap-up pause).
    ``wrap_up_s`` is the pause left while ``state`` is ``wrap_up``.
    """

    state: InterpreterState
    reason: Optional[str] = None
    wrap_up_s: Optional[float] = None
    missed_rings: int = 0


@message("ring")
class Ring(Message):
    """Dispatch to interpreter: a call for you. Answer with accept or decline."""

    session_id: str
    kiosk_id: str
    location: str
    waited_s: float
    started_by: StartedBy = "resident"
    category: Optional[str] = None
    timeout_s: Optional[float] = None  # the ring moves on to another interpreter after this


@message("accept")
class Accept(Message):
    session_id: str


@message("decline")
class Decline(Message):
    session_id: str


# --- both sides: media negotiation and the end of a call ------------------------------------


@message("offer")
class Offer(Message):
    """SDP offer, kiosk to interpreter (relayed by dispatch).

    ``attempt`` counts the media connections of the session: 0 for the first, 1, 2, … for each
    fresh peer connection after the media stopped. An offer with a higher attempt replaces the
    interpreter's peer connection for the same call."""

    session_id: str
    sdp: str
    attempt: int = 0


@message("answer")
class Answer(Message):
    """SDP answer, interpreter to kiosk (relayed by dispatch); ``attempt`` as in its offer."""

    session_id: str
    sdp: str
    attempt: int = 0


@message("ice")
class Ice(Message):
    """A trickled ICE candidate (relayed). ``candidate`` null means end of candidates.
    ``attempt``: the offer/answer this candidate belongs to (older ones are ignored)."""

    session_id: str
    candidate: Optional[str] = None
    sdp_mid: Optional[str] = None
    sdp_mline_index: Optional[int] = None
    attempt: int = 0


@message("hangup")
class Hangup(Message):
    """Either side ends the call it is in."""

    session_id: str
    reason: str = "completed"


@message("resume")
class Resume(Message):
    """Kiosk or interpreter, after a new ``welcome``: "I am still in this answered call."

    Sent when the link to dispatch dropped (or dispatch restarted) during a call; the media
    goes on peer to peer meanwhile. ``peer_id`` names the other side: the interpreter id for a
    kiosk, the kiosk id for an interpreter (dispatch needs it after a restart, when it no longer
    knows the call). Answered with ``resumed`` or with ``call_ended``."""

    session_id: str
    peer_id: str


@message("resumed")
class Resumed(Message):
    """Dispatch to kiosk or interpreter: the call is known (again) and relays go on."""

    session_id: str


@message("call_ended")
class CallEnded(Message):
    """Dispatch to a participant: the call is over because of the other side or of dispatch.

    ``reason``: ``hangup`` (the other side hung up), ``network_lost`` (the other side gave up
    reconnecting the media), ``peer_gone`` (the other side's connection vanished and did not
    come back within the grace period), ``cancelled`` (the kiosk withdrew before answer; sent to a ringing interpreter),
    ``ring_timeout`` (to an interpreter who did not answer in time), ``declined`` (to a kiosk
    whose call every interpreter on duty declined or missed).
    """

    session_id: str
    reason: str
    by: EndedBy


# --- central records ------------------------------------------------------------------------


@message("session_record")
class SessionRecordUpload(Message):
    """Kiosk to dispatch: one finished session from the kiosk's log (no personal data).

    Sent from the kiosk's outbox until acknowledged; dispatch stores it idempotently by
    ``session_id``, so sending it again is harmless. ``kiosk_id`` must be the sender's own.
    """

    session_id: str
    kiosk_id: str
    started_by: StartedBy
    category: Optional[str]
    state: str
    requested_at: float
    answered_at: Optional[float]
    connected_at: Optional[float]
    ended_at: Optional[float]
    wait_s: Optional[float]
    talk_s: Optional[float]
    end_reason: Optional[str]
    ended_by: Optional[str]
    interpreter_id: Optional[str]
    rating: Optional[int]
    rated_at: Optional[float]
    app_version: str
    quality: Optional[str] = None  # JSON summary of the call's quality, see docs/protocol.md
    text_chars_sent: int = 0  # real-time text characters typed at the kiosk (never the text)
    text_chars_received: int = 0  # … typed by the interpreter
    media_gaps: int = 0  # times the media stopped mid-call and was reconnected
    media_gap_s: float = 0.0  # seconds without media over those gaps


@message("record_ack")
class RecordAck(Message):
    """Dispatch to kiosk: the session record is stored centrally; drop it from the outbox."""

    session_id: str


MESSAGE_TYPES: dict[str, type[Message]] = _REGISTRY


# --- encoding -------------------------------------------------------------------------------


def encode(msg: Message) -> str:
    body = {"type": msg.type}
    body.update(dataclasses.asdict(msg))
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def _type_ok(value: Any, hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if origin is Literal:
        return any(value == a and type(value) is type(a) for a in typing.get_args(hint))
    if origin in (Union, types.UnionType):
        return any(_type_ok(value, a) for a in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if hint is bool:
        return isinstance(value, bool)
    raise TypeError(f"unsupported field type {hint!r}")


def _describe(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin is Literal:
        return " or ".join(repr(a) for a in typing.get_args(hint))
    if origin in (Union, types.UnionType):
        return " or ".join(_describe(a) for a in typing.get_args(hint))
    if hint is type(None):
        return "null"
    return {float: "a number", int: "an integer", str: "a string", bool: "true/false"}.get(
        hint, str(hint)
    )


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type[Message]) -> dict[str, Any]:
    if cls not in _HINTS:
        all_hints = typing.get_type_hints(cls)
        _HINTS[cls] = {f.name: all_hints[f.name] for f in dataclasses.fields(cls)}
    return _HINTS[cls]


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def decode(data: str | bytes) -> Message:
    """Parse one frame into its message, or raise ``ProtocolError``."""
    if len(data) > MAX_MESSAGE_BYTES or (
        isinstance(data, str) and len(data.encode("utf-8", "surrogatepass")) > MAX_MESSAGE_BYTES
    ):
        raise ProtocolError("too_large", f"message larger than {MAX_MESSAGE_BYTES} bytes")
    try:
        body = json.loads(data, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError("bad_message", f"not JSON: {exc}") from None
    except RecursionError:  # a few KiB of '[' nest deeper than the parser's stack allows
        raise ProtocolError("bad_message", "not JSON: nested too deeply") from None
    if not isinstance(body, dict):
        raise ProtocolError("bad_message", "a message must be a JSON object")
    kind = body.pop("type", None)
    if not isinstance(kind, str) or kind not in MESSAGE_TYPES:
        raise ProtocolError("bad_message", f"unknown message type {kind!r}")
    cls = MESSAGE_TYPES[kind]
    hints = _hints(cls)
    unknown = sorted(set(body) - set(hints))
    if unknown:
        raise ProtocolError("bad_message", f"{kind}: unknown field(s) {', '.join(unknown)}")
    for f in dataclasses.fields(cls):
        if f.name not in body:
            if f.default is dataclasses.MISSING:
                raise ProtocolError("bad_message", f"{kind}: missing field {f.name!r}")
            continue
        if not _type_ok(body[f.name], hints[f.name]):
            raise ProtocolError(
                "bad_message", f"{kind}.{f.name}: expected {_describe(hints[f.name])}"
            )
    return cls(**body)
