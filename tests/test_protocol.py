"""kiosk/protocol.py: every message type round-trips, decode refuses bad frames with the right
code, and no frame makes decode raise anything but ProtocolError."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from typing import Any, Literal, Union

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.protocol import (
    MAX_MESSAGE_BYTES, MESSAGE_TYPES, Message, ProtocolError, decode, encode,
)

TYPE_NAMES = sorted(MESSAGE_TYPES)


def hints(cls: type[Message]) -> dict[str, Any]:
    all_hints = typing.get_type_hints(cls)
    return {f.name: all_hints[f.name] for f in dataclasses.fields(cls)}


def required(cls: type[Message]) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]


def example_value(hint: Any, name: str, pick: int = 0) -> Any:
    """A valid value for a field; ``pick`` chooses among Literal options."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is Literal:
        return args[pick % len(args)]
    if origin in (Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        assert len(inner) == 1, f"{name}: unions of several types need an example here"
        return example_value(inner[0], name, pick)
    if hint is str:
        return f"{name} 手语 ✓ \"q\" \\ {pick}"
    if hint is bool:
        return True
    if hint is int:
        return 7 + pick
    if hint is float:
        return 2.5 + pick
    raise AssertionError(f"{name}: no example for field type {hint!r}; extend example_value()")


def full_example(cls: type[Message], pick: int = 0) -> Message:
    """Every field set, optional ones to a value rather than their default."""
    return cls(**{n: example_value(h, n, pick) for n, h in hints(cls).items()})


def minimal_example(cls: type[Message]) -> Message:
    h = hints(cls)
    return cls(**{n: example_value(h[n], n) for n in required(cls)})


def wire(cls: type[Message], **changes) -> dict:
    """The wire form of a full example of ``cls``, as a dict to spoil."""
    body = json.loads(encode(full_example(cls)))
    body.update(changes)
    return body


def refused(frame: str | bytes) -> ProtocolError:
    with pytest.raises(ProtocolError) as info:
        decode(frame)
    return info.value


def test_there_are_message_types_and_every_one_has_its_name():
    assert {"hello", "welcome", "error", "call_request", "queued", "ringing", "accepted", "ring",
            "accept", "offer", "answer", "ice", "hangup", "call_ended"} <= set(MESSAGE_TYPES)
    for name, cls in MESSAGE_TYPES.items():
        assert cls.type == name
        assert dataclasses.is_dataclass(cls) and issubclass(cls, Message)


# --- round trips ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", TYPE_NAMES)
def test_every_message_type_round_trips(name):
    cls = MESSAGE_TYPES[name]
    n_choices = max([len(typing.get_args(h)) for h in hints(cls).values()
                     if typing.get_origin(h) is Literal] or [1])
    examples = [full_example(cls, pick) for pick in range(n_choices)] + [minimal_example(cls)]
    for msg in examples:
        text = encode(msg)
        body = json.loads(text)
        assert body["type"] == name
        assert set(body) == {"type", *hints(cls)}
        back = decode(text)
        assert type(back) is cls and back == msg
        assert decode(text.encode("utf-8")) == msg  # bytes frames too


@pytest.mark.parametrize("name", TYPE_NAMES)
def test_optional_fields_may_be_omitted_or_null(name):
    cls = MESSAGE_TYPES[name]
    h = hints(cls)
    body = {"type": name, **{n: example_value(h[n], n) for n in required(cls)}}
    assert decode(json.dumps(body)) == minimal_example(cls)
    for n, hint in h.items():
        if type(None) in typing.get_args(hint):
            assert getattr(decode(json.dumps({**body, n: None})), n) is None


def test_encode_is_compact_and_keeps_text_readable():
    cls = MESSAGE_TYPES["hello"]
    text = encode(cls(role="kiosk", id="k-01", credential="t", location="一楼窗口"))
    assert "一楼窗口" in text and ", " not in text and ": " not in text


def test_float_fields_accept_integers():
    msg = decode(json.dumps(wire(MESSAGE_TYPES["ring"], waited_s=12)))
    assert msg.waited_s == 12


# --- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize("frame", ["", "{", "hello", "{'type': 'ring'}", '{"type": "ring",}',
                                   b"\xff\xfe\xfa", "\ufeff{}"])
def test_non_json_is_a_bad_message(frame):
    err = refused(frame)
    assert err.code == "bad_message" and "not JSON" in err.message


@pytest.mark.parametrize("frame", ["[]", '["ring"]', "1", '"ring"', "null", "true"])
def test_json_that_is_not_an_object_is_a_bad_message(frame):
    err = refused(frame)
    assert err.code == "bad_message" and "JSON object" in err.message


@pytest.mark.parametrize("body", [
    {"type": "telepathy", "session_id": "s"},
    {"type": "Ring", "session_id": "s"},
    {"type": "", "session_id": "s"},
    {"session_id": "s"},  # no type at all
    {"type": None},
    {"type": 5},
    {"type": ["ring"]},
    {"type": {"name": "ring"}},
])
def test_unknown_or_missing_type_is_a_bad_message(body):
    err = refused(json.dumps(body))
    assert err.code == "bad_message" and "unknown message type" in err.message


@pytest.mark.parametrize("name", TYPE_NAMES)
def test_missing_required_field_is_a_bad_message(name):
    cls = MESSAGE_TYPES[name]
    for field in required(cls):
        body = wire(cls)
        del body[field]
        err = refused(json.dumps(body))
        assert err.code == "bad_message"
        assert err.message == f"{name}: missing field {field!r}"


@pytest.mark.parametrize("name", TYPE_NAMES)
def test_unknown_extra_field_is_a_bad_message(name):
    err = refused(json.dumps(wire(MESSAGE_TYPES[name], zz_extra=1, aa_extra=None)))
    assert err.code == "bad_message"
    assert err.message == f"{name}: unknown field(s) aa_extra, zz_extra"


@pytest.mark.parametrize("name, field, value, expected", [
    ("ringing", "session_id", 5, "a string"),  # int for str
    ("offer", "sdp", None, "a string"),  # null for a required str
    ("offer", "sdp", ["v=0"], "a string"),
    ("queued", "position", True, "an integer"),  # bool for int
    ("queued", "position", 1.5, "an integer"),  # float for int
    ("queued", "position", 2.0, "an integer"),  # even a whole float
    ("queued", "position", "1", "an integer"),
    ("ring", "waited_s", False, "a number"),  # bool for float
    ("ring", "waited_s", "3", "a number"),
    ("hello", "role", "admin", "'kiosk' or 'interpreter'"),  # outside a Literal
    ("hello", "role", "Kiosk", "'kiosk' or 'interpreter'"),
    ("hello", "role", None, "'kiosk' or 'interpreter'"),
    ("hello", "protocol", "1", "an integer"),
    ("error", "code", "oops", "'bad_message'"),
    ("presence", "state", 1, "'available' or 'away'"),
    ("ice", "sdp_mline_index", "0", "an integer or null"),
    ("ice", "sdp_mline_index", 0.0, "an integer or null"),
    ("call_ended", "by", "system", "'kiosk' or 'interpreter' or 'dispatch'"),
    ("unavailable", "reason", "busy", "'no_interpreter' or 'out_of_hours'"),
])
def test_wrong_field_type_is_a_bad_message(name, field, value, expected):
    assert field in hints(MESSAGE_TYPES[name])
    err = refused(json.dumps(wire(MESSAGE_TYPES[name], **{field: value})))
    assert err.code == "bad_message"
    assert err.message.startswith(f"{name}.{field}: expected ")
    assert expected in err.message


def _padded_offer(size: int) -> str:
    """An offer frame of exactly ``size`` UTF-8 bytes."""
    empty = encode(MESSAGE_TYPES["offer"](session_id="s", sdp=""))
    return encode(MESSAGE_TYPES["offer"](session_id="s", sdp="a" * (size - len(empty))))


def test_frame_of_exactly_the_limit_is_accepted():
    frame = _padded_offer(MAX_MESSAGE_BYTES)
    assert len(frame.encode("utf-8")) == MAX_MESSAGE_BYTES
    msg = decode(frame)
    assert encode(msg) == frame
    assert decode(frame.encode("utf-8")) == msg


def test_frame_over_the_limit_is_too_large_as_text_and_as_bytes():
    frame = _padded_offer(MAX_MESSAGE_BYTES + 1)
    err = refused(frame)
    assert err.code == "too_large" and str(MAX_MESSAGE_BYTES) in err.message
    assert refused(frame.encode("utf-8")).code == "too_large"
    assert refused(b" " * (MAX_MESSAGE_BYTES + 1)).code == "too_large"  # checked before parsing


def test_text_under_the_limit_in_characters_but_over_it_in_bytes_is_too_large():
    frame = encode(MESSAGE_TYPES["offer"](session_id="s", sdp="手" * (MAX_MESSAGE_BYTES // 3)))
    assert len(frame) < MAX_MESSAGE_BYTES < len(frame.encode("utf-8"))
    assert refused(frame).code == "too_large"
    # the same number of characters in ASCII is fine
    assert decode(encode(MESSAGE_TYPES["offer"](session_id="s", sdp="a" * (MAX_MESSAGE_BYTES // 3))))


@pytest.mark.parametrize("frame", [
    "[" * 5000,
    '{"a":' * 3000,
    '{"type":"offer","session_id":"s","sdp":' + "[" * 20000 + "]" * 20000 + "}",
])
def test_deeply_nested_json_is_a_bad_message(frame):
    assert len(frame.encode("utf-8")) <= MAX_MESSAGE_BYTES
    assert refused(frame).code == "bad_message"
    assert refused(frame.encode("utf-8")).code == "bad_message"


def test_protocol_error_carries_code_and_message():
    err = ProtocolError("bad_state", "not now")
    assert isinstance(err, ValueError)
    assert (err.code, err.message, str(err)) == ("bad_state", "not now", "not now")


# --- fuzz: decode returns a Message or raises ProtocolError, nothing else ----------------------


def _decode_or_refuse(frame: str | bytes) -> Message | None:
    try:
        msg = decode(frame)
    except ProtocolError as exc:
        assert exc.code in ("bad_message", "too_large")
        return None
    assert isinstance(msg, Message) and type(msg) is MESSAGE_TYPES[msg.type]
    return msg


_json_scalars = (st.none() | st.booleans() | st.integers()
                 | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12))
_json_values = st.recursive(
    _json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)


def _for_hint(hint: Any) -> st.SearchStrategy:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is Literal:
        return st.sampled_from(args)
    if origin in (Union, types.UnionType):
        return st.one_of(*[_for_hint(a) for a in args])
    if hint is type(None):
        return st.none()
    return {str: st.text(max_size=12), int: st.integers(), bool: st.booleans(),
            float: st.floats(allow_nan=False, allow_infinity=False) | st.integers()}[hint]


def _body_for(name: str) -> st.SearchStrategy:
    """Objects close to a ``name`` message: each field mostly of its type, sometimes anything;
    fields sometimes missing, sometimes extra ones."""
    h = hints(MESSAGE_TYPES[name])
    field_values = {n: st.one_of(_for_hint(t), _for_hint(t), _json_values) for n, t in h.items()}
    return st.tuples(
        st.fixed_dictionaries({}, optional=field_values),
        st.dictionaries(st.text(max_size=8), _json_values, max_size=2),
        st.booleans(),
    ).map(lambda t: {**t[0], **(t[1] if t[2] else {}), "type": name})


_FIELD_NAMES = sorted({n for cls in MESSAGE_TYPES.values() for n in hints(cls)})
_any_object = st.dictionaries(
    st.sampled_from(_FIELD_NAMES + ["type"]) | st.text(max_size=8), _json_values, max_size=6,
).flatmap(lambda d: st.sampled_from(TYPE_NAMES + [None]).map(
    lambda kind: d if kind is None else {**d, "type": kind}))

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.text())
def test_fuzz_arbitrary_text(frame):
    _decode_or_refuse(frame)


@FUZZ
@given(st.binary())
def test_fuzz_arbitrary_bytes(frame):
    _decode_or_refuse(frame)


@FUZZ
@given(_any_object, st.booleans())
def test_fuzz_arbitrary_json_objects(body, ascii_only):
    _decode_or_refuse(json.dumps(body, ensure_ascii=ascii_only))


@FUZZ
@given(st.sampled_from(TYPE_NAMES).flatmap(_body_for))
def test_fuzz_near_valid_messages(body):
    msg = _decode_or_refuse(json.dumps(body, ensure_ascii=False))
    if msg is None:
        return
    # what decode accepts it takes as sent, and it survives another trip unchanged
    assert msg.type == body["type"]
    for name, value in body.items():
        if name != "type":
            got = getattr(msg, name)
            assert got == value and type(got) is type(value)
    assert decode(encode(msg)) == msg


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_json_numbers_are_refused(constant):
    # a browser's JSON.parse rejects them, so they must never be relayed
    frame = '{"type":"queued","session_id":"s","position":1,"estimated_wait_s":%s}' % constant
    with pytest.raises(ProtocolError) as err:
        decode(frame)
    assert err.value.code == "bad_message"
