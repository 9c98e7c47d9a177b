"""Who is online, which calls wait, who is ringing whom: the dispatch service's state.

The hub is plain asyncio code with no I/O of its own: connections hand it decoded messages and
it answers through ``Connection.send``. Every message is checked against the sender's role and
the call's state before anything changes; a refused message gets an ``error`` reply and leaves
the state exactly as it was.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Awaitable, Callable, Mapping, Optional

from kiosk import protocol
from kiosk.protocol import (
    Accept, Accepted, Answer, CallEnded, CallRequest, Cancel, Decline, Error, Hangup, Hello, Ice,
    Message, Offer, Presence, ProtocolError, Queued, Ring, Ringing, Unavailable, Welcome,
)

log = logging.getLogger("kiosk.dispatch")

KIOSK_MESSAGES = (CallRequest, Cancel, Offer, Ice, Hangup)
INTERPRETER_MESSAGES = (Presence, Accept, Decline, Answer, Ice, Hangup)


class Connection:
    """One WebSocket, as the hub sees it. ``send_text`` and ``close`` are given by the server."""

    def __init__(self, send_text: Callable[[str], Awaitable[None]],
                 close: Callable[[], Awaitable[None]]) -> None:
        self._send_text = send_text
        self._close = close
        self.participant: Optional[Participant] = None
        self.closed = False

    async def send(self, msg: Message) -> None:
        if self.closed:
            return
        try:
            await self._send_text(protocol.encode(msg))
        except (ConnectionError, RuntimeError) as exc:
            log.info("send %s failed: %s", msg.type, exc)

    async def error(self, code: str, message: str, ref_type: Optional[str] = None,
                    session_id: Optional[str] = None) -> None:
        await self.send(Error(code=code, message=message, ref_type=ref_type, session_id=session_id))

    async def close(self) -> None:
        if not self.closed:
            self.closed = True
            await self._close()


@dataclass(eq=False)
class Participant:
    id: str
    conn: Connection

    async def send(self, msg: Message) -> None:
        await self.conn.send(msg)


@dataclass(eq=False)
class Kiosk(Participant):
    location: str = ""
    call: Optional["Call"] = None


@dataclass(eq=False)
class Interpreter(Participant):
    presence: str = "away"  # what the interpreter chose: available or away
    free_since: float = field(default_factory=time.monotonic)
    ringing: Optional["Call"] = None
    call: Optional["Call"] = None

    @property
    def free(self) -> bool:
        return self.presence == "available" and self.ringing is None and self.call is None


@dataclass(eq=False)
class Call:
    session_id: str
    kiosk: Kiosk
    started_by: str
    category: Optional[str]
    requested_at: float = field(default_factory=time.monotonic)
    state: str = "queued"  # queued → ringing → active
    interpreter: Optional[Interpreter] = None
    declined_by: set[str] = field(default_factory=set)
    last_position: Optional[int] = None


class Hub:
    def __init__(self, kiosk_tokens: Mapping[str, str] | None = None,
                 interpreter_passwords: Mapping[str, str] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._kiosk_tokens = dict(kiosk_tokens or {})
        self._interpreter_passwords = dict(interpreter_passwords or {})
        self._clock = clock
        self.kiosks: dict[str, Kiosk] = {}
        self.interpreters: dict[str, Interpreter] = {}
        self.queue: deque[Call] = deque()
        self.calls: dict[str, Call] = {}

    # --- numbers for /healthz -------------------------------------------------------------

    def health(self) -> dict:
        return {
            "ok": True,
            "kiosks_online": len(self.kiosks),
            "interpreters_online": len(self.interpreters),
            "interpreters_available": sum(1 for i in self.interpreters.values() if i.free),
            "calls_queued": len(self.queue),
            "calls_ringing": sum(1 for c in self.calls.values() if c.state == "ringing"),
            "calls_active": sum(1 for c in self.calls.values() if c.state == "active"),
        }

    # --- frames in ------------------------------------------------------------------------

    async def on_text(self, conn: Connection, text: str) -> None:
        try:
            msg = protocol.decode(text)
        except ProtocolError as exc:
            log.info("refused a frame from %s: %s", _who(conn), exc.message)
            await conn.error(exc.code, exc.message)
            if conn.participant is None:
                await conn.close()
            return
        if conn.participant is None:
            await self._hello(conn, msg)
            return
        participant = conn.participant
        allowed = KIOSK_MESSAGES if isinstance(participant, Kiosk) else INTERPRETER_MESSAGES
        if isinstance(msg, Hello):
            await conn.error("bad_state", "already said hello", msg.type)
        elif not isinstance(msg, allowed):
            role = "kiosk" if isinstance(participant, Kiosk) else "interpreter"
            log.warning("%s sent %s, which a %s may not send", _who(conn), msg.type, role)
            await conn.error("forbidden", f"a {role} may not send {msg.type}", msg.type)
        elif isinstance(participant, Kiosk):
            await self._from_kiosk(participant, msg)
        else:
            await self._from_interpreter(participant, msg)

    async def on_close(self, conn: Connection) -> None:
        conn.closed = True
        p = conn.participant
        if p is None:
            return
        conn.participant = None
        if isinstance(p, Kiosk):
            if self.kiosks.get(p.id) is p:
                del self.kiosks[p.id]
            log.info("kiosk %s disconnected", p.id)
            if p.call is not None:
                await self._kiosk_gone(p.call)
        else:
            if self.interpreters.get(p.id) is p:
                del self.interpreters[p.id]
            log.info("interpreter %s disconnected", p.id)
            await self._interpreter_gone(p)
        await self._route()

    # --- hello ----------------------------------------------------------------------------

    async def _hello(self, conn: Connection, msg: Message) -> None:
        if not isinstance(msg, Hello):
            await conn.error("unauthenticated", "say hello first", msg.type)
            await conn.close()
            return
        if msg.protocol != protocol.PROTOCOL_VERSION:
            await conn.error("unsupported_protocol",
                             f"this dispatch speaks protocol {protocol.PROTOCOL_VERSION}", msg.type)
            await conn.close()
            return
        table = self._kiosk_tokens if msg.role == "kiosk" else self._interpreter_passwords
        if table and table.get(msg.id) != msg.credential:
            log.warning("refused %s %r: wrong credential", msg.role, msg.id)
            await conn.error("unauthenticated", "unknown id or wrong credential", msg.type)
            await conn.close()
            return
        registry = self.kiosks if msg.role == "kiosk" else self.interpreters
        old = registry.get(msg.id)
        if old is not None:
            # the same kiosk or interpreter connecting again: the newer connection wins
            log.info("%s %s connected again; closing its older connection", msg.role, msg.id)
            old_conn = old.conn
            await self.on_close(old_conn)
            await old_conn.close()
        if msg.role == "kiosk":
            participant: Participant = Kiosk(msg.id, conn, location=msg.location or msg.id)
        else:
            participant = Interpreter(msg.id, conn, free_since=self._clock())
        registry[msg.id] = participant
        conn.participant = participant
        log.info("%s %s connected", msg.role, msg.id)
        await conn.send(Welcome(role=msg.role, id=msg.id))

    # --- kiosk ----------------------------------------------------------------------------

    async def _from_kiosk(self, kiosk: Kiosk, msg: Message) -> None:
        if isinstance(msg, CallRequest):
            await self._call_request(kiosk, msg)
            return
        call = kiosk.call
        if call is None or call.session_id != msg.session_id:
            await kiosk.conn.error("unknown_session", "not a call of this kiosk", msg.type, msg.session_id)
            return
        if isinstance(msg, Cancel) or (isinstance(msg, Hangup) and call.state != "active"):
            if call.state == "active":
                await kiosk.conn.error("bad_state", "the call was answered: hang up instead",
                                       msg.type, msg.session_id)
                return
            log.info("call %s cancelled by kiosk %s while %s", call.session_id, kiosk.id, call.state)
            await self._drop_unanswered(call, notify_reason="cancelled", by="kiosk")
            await self._route()
        elif isinstance(msg, Hangup):
            await self._hang_up(call, by="kiosk", reason=msg.reason)
            await self._route()
        elif isinstance(msg, (Offer, Ice)):
            if call.state != "active":
                await kiosk.conn.error("bad_state", f"{msg.type} before the call was accepted",
                                       msg.type, msg.session_id)
                return
            await call.interpreter.send(msg)

    async def _call_request(self, kiosk: Kiosk, msg: CallRequest) -> None:
        if kiosk.call is not None:
            await kiosk.conn.error("bad_state", "this kiosk already has a call", msg.type, msg.session_id)
            return
        if msg.session_id in self.calls:
            await kiosk.conn.error("bad_state", "session id already in use", msg.type, msg.session_id)
            return
        if not any(i.presence == "available" for i in self.interpreters.values()):
            log.info("call %s from %s: no interpreter online", msg.session_id, kiosk.id)
            await kiosk.send(Unavailable(session_id=msg.session_id, reason="no_interpreter"))
            return
        call = Call(msg.session_id, kiosk, msg.started_by, msg.category, requested_at=self._clock())
        kiosk.call = call
        self.calls[call.session_id] = call
        self.queue.append(call)
        log.info("call %s from %s queued (%d waiting)", call.session_id, kiosk.id, len(self.queue))
        # every call enters the queue first, even when an interpreter is free right now
        call.last_position = len(self.queue)
        await kiosk.send(Queued(session_id=call.session_id, position=call.last_position))
        await self._route()

    # --- interpreter ----------------------------------------------------------------------

    async def _from_interpreter(self, interp: Interpreter, msg: Message) -> None:
        if isinstance(msg, Presence):
            if interp.presence != msg.state:
                interp.presence = msg.state
                if msg.state == "available" and interp.free:
                    interp.free_since = self._clock()
                log.info("interpreter %s is %s", interp.id, msg.state)
                await self._route()
            return
        sid = msg.session_id
        if interp.ringing is not None and interp.ringing.session_id == sid:
            call = interp.ringing
        elif interp.call is not None and interp.call.session_id == sid:
            call = interp.call
        else:
            await interp.conn.error("unknown_session", "not a call routed to you", msg.type, sid)
            return
        if isinstance(msg, Accept):
            if call.state != "ringing":
                await interp.conn.error("bad_state", "this call is not ringing", msg.type, sid)
                return
            call.state = "active"
            interp.ringing, interp.call = None, call
            log.info("call %s accepted by %s after %.1f s", sid, interp.id, self._clock() - call.requested_at)
            await call.kiosk.send(Accepted(session_id=sid, interpreter_id=interp.id))
        elif isinstance(msg, Decline):
            if call.state != "ringing":
                await interp.conn.error("bad_state", "this call is not ringing", msg.type, sid)
                return
            log.info("call %s declined by %s", sid, interp.id)
            interp.ringing = None
            interp.free_since = self._clock()
            call.declined_by.add(interp.id)
            await self._requeue(call)
            await self._route()
        elif isinstance(msg, Hangup):
            if call.state != "active":
                await interp.conn.error("bad_state", "decline a ringing call instead", msg.type, sid)
                return
            await self._hang_up(call, by="interpreter", reason=msg.reason)
            await self._route()
        elif isinstance(msg, (Answer, Ice)):
            if call.state != "active":
                await interp.conn.error("bad_state", f"{msg.type} before accepting", msg.type, sid)
                return
            await call.kiosk.send(msg)

    # --- routing --------------------------------------------------------------------------

    async def _route(self) -> None:
        """Ring free interpreters for waiting calls (oldest call first, longest-free
        interpreter first), then tell every waiting kiosk its place in the queue."""
        progress = True
        while progress:
            progress = False
            for call in list(self.queue):
                candidates = [i for i in self.interpreters.values()
                              if i.free and i.id not in call.declined_by]
                if not candidates:
                    continue
                interp = min(candidates, key=lambda i: i.free_since)
                self.queue.remove(call)
                call.state, call.interpreter, call.last_position = "ringing", interp, None
                interp.ringing = call
                log.info("call %s rings %s", call.session_id, interp.id)
                await interp.send(Ring(session_id=call.session_id, kiosk_id=call.kiosk.id,
                                       location=call.kiosk.location,
                                       waited_s=round(self._clock() - call.requested_at, 3),
                                       started_by=call.started_by, category=call.category))
                await call.kiosk.send(Ringing(session_id=call.session_id))
                progress = True
                break
        await self._end_hopeless()
        for position, call in enumerate(self.queue, start=1):
            if call.last_position != position:
                call.last_position = position
                await call.kiosk.send(Queued(session_id=call.session_id, position=position))

    async def _end_hopeless(self) -> None:
        """A waiting call that every available interpreter has declined cannot be served."""
        available = {i.id for i in self.interpreters.values() if i.presence == "available"}
        for call in list(self.queue):
            if available and available <= call.declined_by:
                log.info("call %s declined by every available interpreter", call.session_id)
                await self._drop_unanswered(call, notify_reason=None, by="dispatch")
                await call.kiosk.send(CallEnded(session_id=call.session_id, reason="declined", by="dispatch"))

    async def _requeue(self, call: Call) -> None:
        call.state, call.interpreter = "queued", None
        self.queue.appendleft(call)

    async def _drop_unanswered(self, call: Call, notify_reason: Optional[str], by: str) -> None:
        if call in self.queue:
            self.queue.remove(call)
        if call.state == "ringing" and call.interpreter is not None:
            interp = call.interpreter
            interp.ringing = None
            if notify_reason:
                await interp.send(CallEnded(session_id=call.session_id, reason=notify_reason, by=by))
        self._forget(call)

    async def _hang_up(self, call: Call, by: str, reason: str) -> None:
        interp = call.interpreter
        log.info("call %s hung up by %s (%s)", call.session_id, by, reason)
        other = interp if by == "kiosk" else call.kiosk
        await other.send(CallEnded(session_id=call.session_id, reason="hangup", by=by))
        self._release(interp)
        self._forget(call)

    async def _kiosk_gone(self, call: Call) -> None:
        if call.state == "active":
            await call.interpreter.send(CallEnded(session_id=call.session_id, reason="peer_gone", by="kiosk"))
            self._release(call.interpreter)
            self._forget(call)
        else:
            await self._drop_unanswered(call, notify_reason="peer_gone", by="kiosk")

    async def _interpreter_gone(self, interp: Interpreter) -> None:
        if interp.ringing is not None:
            call, interp.ringing = interp.ringing, None
            await self._requeue(call)
        if interp.call is not None:
            call, interp.call = interp.call, None
            await call.kiosk.send(CallEnded(session_id=call.session_id, reason="peer_gone", by="interpreter"))
            self._forget(call)

    def _release(self, interp: Optional[Interpreter]) -> None:
        if interp is not None:
            interp.call = None
            interp.free_since = self._clock()

    def _forget(self, call: Call) -> None:
        self.calls.pop(call.session_id, None)
        if call.kiosk.call is call:
            call.kiosk.call = None


def _who(conn: Connection) -> str:
    p = conn.participant
    if p is None:
        return "an unidentified connection"
    return f"{'kiosk' if isinstance(p, Kiosk) else 'interpreter'} {p.id}"
