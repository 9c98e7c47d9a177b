"""Who is online, which calls wait, who is ringing whom: the dispatch service's state.

The hub is plain asyncio code with no I/O of its own: connections hand it decoded messages and
it answers through ``Connection.send``. Every message is checked against the sender's role and
the call's state before anything changes; a refused message gets an ``error`` reply and leaves
the state exactly as it was.

Routing: calls wait in one FIFO queue; the oldest call rings the interpreter who has been free
the longest. A ring that is declined or not answered within ``ring_timeout_s`` goes to the next
interpreter; an interpreter who misses ``missed_rings_to_away`` rings in a row is set away.
After each call an interpreter has ``wrap_up_s`` before the next ring. Waiting kiosks hear their
place in the queue and an estimated wait whenever either changes.

Signaling blinks: media goes peer to peer, so an answered call is not ended when one side's
WebSocket drops. Dispatch keeps it for ``resume_grace_s``; the side that says hello again is
put back into its call at once (an interpreter is then never rung meanwhile) and confirms with
``resume`` within ``resume_wait_s``. After a restart of dispatch the call is unknown: the two
sides each claim it with ``resume`` naming the other, and dispatch adopts it when both claims
match.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Awaitable, Callable, Optional, Protocol

from kiosk import protocol
from kiosk.tasks import Tasks
from kiosk.protocol import (
    Accept, Accepted, Answer, CallEnded, CallRequest, Cancel, Decline, Error, Hangup, Hello, Ice,
    Message, Offer, Presence, ProtocolError, Queued, RecordAck, Resume, Resumed, Ring, Ringing,
    SessionRecordUpload, Status, Unavailable, Welcome,
)

log = logging.getLogger("kiosk.dispatch")

KIOSK_MESSAGES = (CallRequest, Cancel, Offer, Ice, Hangup, SessionRecordUpload, Resume)
INTERPRETER_MESSAGES = (Presence, Accept, Decline, Answer, Ice, Hangup, Resume)
ENDS_KEPT_S = 600.0  # how long the end of a call is kept for a side that was away at the time
HELLO_TIMEOUT_S = 10.0
INITIAL_HANDLE_S = 300.0  # assumed length of a call (talk + wrap-up) before any was seen


@dataclass(frozen=True)
class RoutingRules:
    ring_timeout_s: float = 20.0
    wrap_up_s: float = 30.0
    missed_rings_to_away: int = 3
    # an answered call whose kiosk or interpreter link dropped waits this long for it to return
    resume_grace_s: float = 90.0
    # a side put back into its call at hello must say ``resume`` within this time
    resume_wait_s: float = 10.0
    # is the service open at this (UTC) moment, and when does it open next (text for the kiosk)
    is_open: Callable[[datetime], bool] = lambda at: True
    next_opening: Callable[[datetime], Optional[str]] = lambda at: None


class Authenticator(Protocol):
    async def check(self, role: str, participant_id: str, credential: str) -> bool: ...


class RecordSink(Protocol):
    def put_kiosk_record(self, rec: SessionRecordUpload) -> None: ...

    def put_routing(self, session_id: str, kiosk_id: str, *, location: Optional[str],
                    requested_at: float, queue_s: Optional[float], rings: int, declines: int,
                    missed_rings: int, interpreter_id: Optional[str], outcome: str) -> None: ...


class Connection:
    """One WebSocket, as the hub sees it. ``send_text`` and ``close`` are given by the server."""

    def __init__(self, send_text: Callable[[str], Awaitable[None]],
                 close: Callable[[], Awaitable[None]]) -> None:
        self._send_text = send_text
        self._close = close
        self.participant: Optional[Participant] = None
        self.closed = False  # the hub is done with this connection: nothing more is sent
        self._close_started = False  # the socket itself has been asked to close
        self.authenticating = False

    async def send(self, msg: Message) -> None:
        if self.closed:
            return
        try:
            await self._send_text(protocol.encode(msg))
        except (ConnectionError, RuntimeError) as exc:
            log.info("send %s failed: %s", msg.type, exc)

    async def error(self, code: str, message: str, ref_type: Optional[str] = None,
                    session_id: Optional[str] = None) -> None:
        # the message may quote the peer's input, which can hold unpaired surrogates
        message = message.encode("utf-8", "backslashreplace").decode("utf-8")
        await self.send(Error(code=code, message=message, ref_type=ref_type, session_id=session_id))

    async def close(self) -> None:
        # not keyed on ``closed``: ``Hub.on_close`` sets that first, and the socket of a
        # replaced connection must still be closed afterwards
        self.closed = True
        if not self._close_started:
            self._close_started = True
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
    claim: Optional["Claim"] = None  # an unknown call it says it is in (after a restart)


@dataclass(eq=False)
class Interpreter(Participant):
    presence: str = "away"  # what the interpreter chose: available or away
    free_since: float = field(default_factory=time.monotonic)
    ringing: Optional["Call"] = None
    call: Optional["Call"] = None
    wrap_up_until: Optional[float] = None
    missed_in_a_row: int = 0
    last_status: Optional[str] = None
    wrap_up_task: Optional[asyncio.Task] = None
    claim: Optional["Claim"] = None  # an unknown call it says it is in (after a restart)

    @property
    def on_duty(self) -> bool:
        return self.presence == "available"

    def state(self, now: float) -> str:
        if self.ringing is not None:
            return "ringing"
        if self.call is not None or self.claim is not None:
            return "in_call"
        if self.presence != "available":
            return "away"
        if self.wrap_up_until is not None and now < self.wrap_up_until:
            return "wrap_up"
        return "available"


@dataclass(eq=False)
class Call:
    session_id: str
    kiosk: Kiosk
    started_by: str
    category: Optional[str]
    requested_at: float = field(default_factory=time.monotonic)
    requested_wall: float = field(default_factory=time.time)
    state: str = "queued"  # queued → ringing → active
    interpreter: Optional[Interpreter] = None
    tried: set[str] = field(default_factory=set)  # declined or missed: ring someone else
    last_position: Optional[int] = None
    last_estimate: Optional[float] = None
    rings: int = 0
    declines: int = 0
    missed: int = 0
    answered_after: Optional[float] = None
    accepted_at: Optional[float] = None
    ring_task: Optional[asyncio.Task] = None
    adopted: bool = False  # known again from both sides' resume after a restart of dispatch
    # "kiosk"/"interpreter" → the timer of a side that is away or has not resumed yet
    away: dict[str, asyncio.Task] = field(default_factory=dict)


@dataclass(eq=False)
class Claim:
    """A ``resume`` for a call dispatch does not know: waits for the other side's matching one."""

    session_id: str
    participant: Participant
    peer_id: str
    task: Optional[asyncio.Task] = None


class Hub:
    def __init__(self, auth: Authenticator, rules: RoutingRules = RoutingRules(),
                 records: Optional[RecordSink] = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._auth = auth
        self.rules = rules
        self._records = records
        self._clock = clock
        self.kiosks: dict[str, Kiosk] = {}
        self.interpreters: dict[str, Interpreter] = {}
        self.queue: deque[Call] = deque()
        self.calls: dict[str, Call] = {}
        self._tasks = Tasks(log, "dispatch")
        self._handle_s = INITIAL_HANDLE_S  # moving average of talk + wrap-up, for estimates
        self.claims: dict[str, Claim] = {}
        # (session id, role) → (call_ended that side missed while away, when to forget it)
        self._missed_ends: OrderedDict[tuple[str, str], tuple[CallEnded, float]] = OrderedDict()

    # --- numbers for /healthz -------------------------------------------------------------

    def health(self) -> dict:
        return {
            "ok": True,
            "kiosks_online": len(self.kiosks),
            "interpreters_online": len(self.interpreters),
            "interpreters_available": sum(1 for i in self.interpreters.values() if self._free(i)),
            "calls_queued": len(self.queue),
            "calls_ringing": sum(1 for c in self.calls.values() if c.state == "ringing"),
            "calls_active": sum(1 for c in self.calls.values() if c.state == "active"),
        }

    async def shutdown(self) -> None:
        await self._tasks.cancel_all()

    # --- frames in ------------------------------------------------------------------------

    async def on_text(self, conn: Connection, text: str) -> None:
        try:
            msg = protocol.decode(text)
            _check_sendable(msg)
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

    async def on_binary(self, conn: Connection) -> None:
        await conn.error("bad_message", "binary frames are not part of the protocol")
        if conn.participant is None:
            await conn.close()

    async def on_close(self, conn: Connection) -> None:
        conn.closed = True
        p = conn.participant
        if p is None:
            return
        conn.participant = None
        self._drop_claim(p)
        if isinstance(p, Kiosk):
            if self.kiosks.get(p.id) is p:
                del self.kiosks[p.id]
            log.info("kiosk %s disconnected", p.id)
            call = p.call if p.call is not None and p.call.kiosk is p else None
            if call is not None and call.state == "active":
                self._away(call, "kiosk")
            elif call is not None:
                await self._kiosk_gone(call)
        else:
            if self.interpreters.get(p.id) is p:
                del self.interpreters[p.id]
            log.info("interpreter %s disconnected", p.id)
            self._cancel_wrap_up(p)
            await self._interpreter_gone(p)
        await self._route()

    def watch_hello(self, conn: Connection) -> None:
        """Close a connection that has not said a valid hello within ``HELLO_TIMEOUT_S``."""

        async def watch() -> None:
            await asyncio.sleep(HELLO_TIMEOUT_S)
            if conn.participant is None and not conn.closed and not conn.authenticating:
                await conn.error("unauthenticated", "no hello in time")
                await conn.close()

        self._spawn(watch())

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
        conn.authenticating = True
        try:
            ok = await self._auth.check(msg.role, msg.id, msg.credential)
        finally:
            conn.authenticating = False
        if conn.closed:
            return  # the socket went away while the credential was being checked
        if not ok:
            log.warning("refused %s %r: unknown, disabled or wrong credential", msg.role, msg.id)
            await conn.error("unauthenticated", "unknown id or wrong credential", msg.type)
            await conn.close()
            return
        registry = self.kiosks if msg.role == "kiosk" else self.interpreters
        old = registry.get(msg.id)
        if old is not None:
            # the same kiosk or interpreter connecting again: the newer connection wins
            log.info("%s %s connected again; closing its older connection", msg.role, msg.id)
            old_conn = old.conn
            await old_conn.error("already_connected",
                                 f"{msg.role} {msg.id} connected again; this connection is closed")
            await self.on_close(old_conn)
            # in the background: a vanished peer never answers the close handshake, and the
            # new connection must not wait for it
            self._spawn(old_conn.close())
        if msg.role == "kiosk":
            participant: Participant = Kiosk(msg.id, conn, location=msg.location or msg.id)
        else:
            participant = Interpreter(msg.id, conn, free_since=self._clock())
        registry[msg.id] = participant
        conn.participant = participant
        log.info("%s %s connected", msg.role, msg.id)
        self._put_back(participant)
        await conn.send(Welcome(role=msg.role, id=msg.id))
        if isinstance(participant, Interpreter):
            await self._status(participant)

    # --- kiosk ----------------------------------------------------------------------------

    async def _from_kiosk(self, kiosk: Kiosk, msg: Message) -> None:
        if isinstance(msg, Resume):
            await self._resume(kiosk, "kiosk", msg)
            return
        if isinstance(msg, CallRequest):
            # a kiosk that asks for a new call has left the one it was put back into
            if kiosk.call is not None and "kiosk" in kiosk.call.away:
                await self._side_left(kiosk.call, "kiosk")
            self._drop_claim(kiosk)
            await self._call_request(kiosk, msg)
            return
        if isinstance(msg, SessionRecordUpload):
            await self._record_upload(kiosk, msg)
            return
        call = kiosk.call
        if call is None or call.session_id != msg.session_id:
            await kiosk.conn.error("unknown_session", "not a call of this kiosk", msg.type, msg.session_id)
            return
        self._resumed_quietly(call, "kiosk")
        if isinstance(msg, Cancel) or (isinstance(msg, Hangup) and call.state != "active"):
            if call.state == "active":
                await kiosk.conn.error("bad_state", "the call was answered: hang up instead",
                                       msg.type, msg.session_id)
                return
            log.info("call %s cancelled by kiosk %s while %s", call.session_id, kiosk.id, call.state)
            await self._drop_unanswered(call, notify_reason="cancelled", by="kiosk",
                                        outcome="cancelled")
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
        now_utc = datetime.now(timezone.utc)
        if not self.rules.is_open(now_utc):
            log.info("call %s from %s: outside service hours", msg.session_id, kiosk.id)
            await kiosk.send(Unavailable(session_id=msg.session_id, reason="out_of_hours",
                                         detail=self.rules.next_opening(now_utc)))
            self._record_unserved(kiosk, msg, "out_of_hours")
            return
        if not any(i.on_duty for i in self.interpreters.values()):
            log.info("call %s from %s: no interpreter online", msg.session_id, kiosk.id)
            await kiosk.send(Unavailable(session_id=msg.session_id, reason="no_interpreter"))
            self._record_unserved(kiosk, msg, "no_interpreter")
            return
        call = Call(msg.session_id, kiosk, msg.started_by, msg.category, requested_at=self._clock())
        kiosk.call = call
        self.calls[call.session_id] = call
        self.queue.append(call)
        log.info("call %s from %s queued (%d waiting)", call.session_id, kiosk.id, len(self.queue))
        # every call enters the queue first, even when an interpreter is free right now
        await self._tell_position(call, len(self.queue), force=True)
        await self._route()

    async def _record_upload(self, kiosk: Kiosk, msg: SessionRecordUpload) -> None:
        if msg.kiosk_id != kiosk.id:
            log.warning("kiosk %s sent a record of kiosk %s", kiosk.id, msg.kiosk_id)
            await kiosk.conn.error("forbidden", "a kiosk may send only its own records", msg.type,
                                   msg.session_id)
            return
        if self._records is not None:
            try:
                self._records.put_kiosk_record(msg)
            except Exception:
                log.exception("could not store the record of session %s", msg.session_id)
                return  # no ack: the kiosk keeps it and sends it again
        await kiosk.send(RecordAck(session_id=msg.session_id))

    # --- interpreter ----------------------------------------------------------------------

    async def _from_interpreter(self, interp: Interpreter, msg: Message) -> None:
        if isinstance(msg, Presence):
            await self._presence(interp, msg.state)
            return
        if isinstance(msg, Resume):
            await self._resume(interp, "interpreter", msg)
            return
        sid = msg.session_id
        if interp.ringing is not None and interp.ringing.session_id == sid:
            call = interp.ringing
        elif interp.call is not None and interp.call.session_id == sid:
            call = interp.call
        else:
            await interp.conn.error("unknown_session", "not a call routed to you", msg.type, sid)
            return
        if call is interp.call:
            self._resumed_quietly(call, "interpreter")
        if isinstance(msg, Accept):
            if call.state != "ringing":
                await interp.conn.error("bad_state", "this call is not ringing", msg.type, sid)
                return
            self._stop_ring_timer(call)
            call.state = "active"
            call.accepted_at = self._clock()
            call.answered_after = call.accepted_at - call.requested_at
            interp.ringing, interp.call = None, call
            interp.missed_in_a_row = 0
            log.info("call %s accepted by %s after %.1f s", sid, interp.id, call.answered_after)
            # routing is complete now: stored at once, so a restart of dispatch mid-call loses none
            self._store_routing(call, "answered")
            await call.kiosk.send(Accepted(session_id=sid, interpreter_id=interp.id))
            await self._status(interp)
        elif isinstance(msg, Decline):
            if call.state != "ringing":
                await interp.conn.error("bad_state", "this call is not ringing", msg.type, sid)
                return
            log.info("call %s declined by %s", sid, interp.id)
            interp.missed_in_a_row = 0
            call.declines += 1
            await self._unring(call, interp)
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

    async def _presence(self, interp: Interpreter, state: str, reason: Optional[str] = None) -> None:
        changed = interp.presence != state
        interp.presence = state
        if state == "available" and interp.wrap_up_until is not None:
            interp.wrap_up_until = None  # "ready now" ends the wrap-up pause early
            self._cancel_wrap_up(interp)
            changed = True
        if state == "available" and changed and interp.ringing is None and interp.call is None:
            interp.free_since = self._clock()
            interp.missed_in_a_row = 0
        if changed:
            log.info("interpreter %s is %s", interp.id, state)
        await self._status(interp, reason)
        if changed:
            await self._route()

    async def _status(self, interp: Interpreter, reason: Optional[str] = None) -> None:
        """Tell the interpreter their state if it changed (or a reason explains a change)."""
        now = self._clock()
        state = interp.state(now)
        if state == interp.last_status and reason is None:
            return
        interp.last_status = state
        wrap_up = round(interp.wrap_up_until - now, 1) if state == "wrap_up" else None
        await interp.send(Status(state=state, reason=reason, wrap_up_s=wrap_up,
                                 missed_rings=interp.missed_in_a_row))

    # --- routing --------------------------------------------------------------------------

    def _free(self, interp: Interpreter) -> bool:
        return interp.state(self._clock()) == "available"

    async def _route(self) -> None:
        """Ring free interpreters for waiting calls (oldest call first, longest-free
        interpreter first), then tell every waiting kiosk its place and estimated wait."""
        progress = True
        while progress:
            progress = False
            for call in list(self.queue):
                candidates = [i for i in self.interpreters.values()
                              if self._free(i) and i.id not in call.tried]
                if not candidates:
                    continue
                interp = min(candidates, key=lambda i: i.free_since)
                await self._ring(call, interp)
                progress = True
                break
        await self._end_hopeless()
        for position, call in enumerate(self.queue, start=1):
            await self._tell_position(call, position)

    async def _ring(self, call: Call, interp: Interpreter) -> None:
        self.queue.remove(call)
        call.state, call.interpreter, call.last_position = "ringing", interp, None
        call.rings += 1
        interp.ringing = call
        log.info("call %s rings %s", call.session_id, interp.id)
        await interp.send(Ring(session_id=call.session_id, kiosk_id=call.kiosk.id,
                               location=call.kiosk.location,
                               waited_s=round(self._clock() - call.requested_at, 3),
                               started_by=call.started_by, category=call.category,
                               timeout_s=self.rules.ring_timeout_s))
        await self._status(interp)
        await call.kiosk.send(Ringing(session_id=call.session_id))
        call.ring_task = self._spawn(self._ring_timeout(call, interp))

    async def _ring_timeout(self, call: Call, interp: Interpreter) -> None:
        await asyncio.sleep(self.rules.ring_timeout_s)
        if call.state != "ringing" or call.interpreter is not interp:
            return
        call.ring_task = None  # this task is ending: nothing to cancel
        interp.missed_in_a_row += 1
        call.missed += 1
        log.info("call %s: %s did not answer in %.0f s (%d in a row)", call.session_id, interp.id,
                 self.rules.ring_timeout_s, interp.missed_in_a_row)
        await interp.send(CallEnded(session_id=call.session_id, reason="ring_timeout", by="dispatch"))
        await self._unring(call, interp)
        if interp.missed_in_a_row >= self.rules.missed_rings_to_away:
            log.info("interpreter %s missed %d rings in a row: set away", interp.id, interp.missed_in_a_row)
            await self._presence(interp, "away", reason="missed_rings")
        await self._route()

    def _stop_ring_timer(self, call: Call) -> None:
        if call.ring_task is not None and call.ring_task is not asyncio.current_task():
            call.ring_task.cancel()
        call.ring_task = None

    async def _unring(self, call: Call, interp: Interpreter) -> None:
        """A ring ended without an answer: the call goes back to the front of the queue and
        will ring somebody else."""
        self._stop_ring_timer(call)
        interp.ringing = None
        interp.free_since = self._clock()
        call.tried.add(interp.id)
        call.state, call.interpreter = "queued", None
        self.queue.appendleft(call)
        await self._status(interp)

    async def _end_hopeless(self) -> None:
        """Waiting calls that no interpreter can take: nobody on duty any more, or every
        interpreter on duty has already declined or missed this call."""
        on_duty = {i.id for i in self.interpreters.values() if i.on_duty}
        for call in list(self.queue):
            if not on_duty:
                log.info("call %s: no interpreter on duty any more", call.session_id)
                await self._drop_unanswered(call, notify_reason=None, by="dispatch",
                                            outcome="no_interpreter")
                await call.kiosk.send(Unavailable(session_id=call.session_id, reason="no_interpreter"))
            elif on_duty <= call.tried:
                log.info("call %s declined or missed by every interpreter on duty", call.session_id)
                await self._drop_unanswered(call, notify_reason=None, by="dispatch", outcome="declined")
                await call.kiosk.send(CallEnded(session_id=call.session_id, reason="declined", by="dispatch"))

    async def _tell_position(self, call: Call, position: int, force: bool = False) -> None:
        estimate = self._estimate(position)
        if force or call.last_position != position or call.last_estimate != estimate:
            call.last_position, call.last_estimate = position, estimate
            await call.kiosk.send(Queued(session_id=call.session_id, position=position,
                                         estimated_wait_s=estimate))

    def _estimate(self, position: int) -> Optional[float]:
        """Seconds until the call at ``position`` is answered, roughly: the calls ahead are
        shared among the interpreters on duty, each taking the average call length. Rounded to
        10 s so that the kiosk is not told every small change."""
        on_duty = [i for i in self.interpreters.values() if i.on_duty]
        if not on_duty:
            return None
        if position == 1 and any(self._free(i) for i in on_duty):
            return 0.0
        rounds = math.ceil(position / len(on_duty))
        return float(round(rounds * self._handle_s / 10) * 10)

    # --- ending calls ---------------------------------------------------------------------

    async def _drop_unanswered(self, call: Call, notify_reason: Optional[str], by: str,
                               outcome: str) -> None:
        if call in self.queue:
            self.queue.remove(call)
        self._stop_ring_timer(call)
        if call.state == "ringing" and call.interpreter is not None:
            interp = call.interpreter
            interp.ringing = None
            interp.free_since = self._clock()
            if notify_reason:
                await interp.send(CallEnded(session_id=call.session_id, reason=notify_reason, by=by))
            await self._status(interp)
        self._forget(call, outcome)

    async def _hang_up(self, call: Call, by: str, reason: str) -> None:
        interp = call.interpreter
        log.info("call %s hung up by %s (%s)", call.session_id, by, reason)
        other, role = (interp, "interpreter") if by == "kiosk" else (call.kiosk, "kiosk")
        # a side that gave up reconnecting the media says so; the other side ends the same way
        ended = "network_lost" if reason == "network_lost" else "hangup"
        await self._tell_end(other, role, CallEnded(session_id=call.session_id, reason=ended, by=by))
        self._stop_away_timers(call)
        await self._release(interp, call)
        self._forget(call, "answered")

    async def _kiosk_gone(self, call: Call) -> None:
        await self._drop_unanswered(call, notify_reason="peer_gone", by="kiosk", outcome="kiosk_gone")

    async def _interpreter_gone(self, interp: Interpreter) -> None:
        if interp.ringing is not None:
            call, interp.ringing = interp.ringing, None
            self._stop_ring_timer(call)
            call.state, call.interpreter = "queued", None
            self.queue.appendleft(call)
        if interp.call is not None and interp.call.interpreter is interp:
            self._away(interp.call, "interpreter")

    # --- links that drop during an answered call ------------------------------------------

    def _away(self, call: Call, role: str) -> None:
        """One side's link dropped during the answered call: its media may still flow, so the
        call waits ``resume_grace_s`` for that side to say hello again."""
        log.info("call %s: the %s's link dropped; waiting %.0f s for it to come back",
                 call.session_id, role, self.rules.resume_grace_s)
        self._set_away_timer(call, role, self.rules.resume_grace_s, "did not come back")

    def _set_away_timer(self, call: Call, role: str, delay: float, why: str) -> None:
        old = call.away.pop(role, None)
        if old is not None and old is not asyncio.current_task():
            old.cancel()

        async def expire() -> None:
            await asyncio.sleep(delay)
            if call.away.get(role) is not asyncio.current_task() or self.calls.get(call.session_id) is not call:
                return
            log.info("call %s: the %s %s within %.0f s: the call is over", call.session_id, role,
                     why, delay)
            await self._side_left(call, role)
            await self._route()

        call.away[role] = self._spawn(expire())

    @staticmethod
    def _stop_away_timers(call: Call) -> None:
        for task in call.away.values():
            if task is not asyncio.current_task():
                task.cancel()
        call.away.clear()

    def _put_back(self, participant: Participant) -> None:
        """At hello: a side whose answered call waits for it is put back into that call (it
        must confirm with ``resume``; an interpreter is not rung meanwhile)."""
        role = "kiosk" if isinstance(participant, Kiosk) else "interpreter"
        for call in self.calls.values():
            side = call.kiosk if role == "kiosk" else call.interpreter
            if call.state == "active" and role in call.away and side is not None and side.id == participant.id:
                if role == "kiosk":
                    call.kiosk = participant
                else:
                    call.interpreter = participant
                participant.call = call
                log.info("call %s: the %s is back; waiting for its resume", call.session_id, role)
                self._set_away_timer(call, role, self.rules.resume_wait_s, "did not resume its call")
                return

    def _resumed_quietly(self, call: Call, role: str) -> None:
        """Any message about the call from a side that was put back counts as its resume."""
        task = call.away.pop(role, None)
        if task is not None:
            task.cancel()

    async def _side_left(self, call: Call, role: str) -> None:
        """A side of an answered call is gone for good: the other side hears ``peer_gone``."""
        self._stop_away_timers(call)
        interp = call.interpreter
        if role == "kiosk":
            await self._tell_end(interp, "interpreter",
                                 CallEnded(session_id=call.session_id, reason="peer_gone", by="kiosk"))
            await self._release(interp, call)
        else:
            if interp is not None and interp.call is call:
                interp.call = None
            await self._tell_end(call.kiosk, "kiosk",
                                 CallEnded(session_id=call.session_id, reason="peer_gone", by="interpreter"))
            if interp is not None and self.interpreters.get(interp.id) is interp:
                await self._status(interp)
        self._forget(call, "answered")

    async def _tell_end(self, participant: Optional[Participant], role: str, msg: CallEnded) -> None:
        """Send a ``call_ended``; a side that is away gets it when it resumes."""
        if participant is None:
            return
        if participant.conn.closed:
            now = self._clock()
            self._missed_ends[(msg.session_id, role)] = (msg, now + ENDS_KEPT_S)
            while self._missed_ends:
                key, (_, until) = next(iter(self._missed_ends.items()))
                if until > now:
                    break
                del self._missed_ends[key]
            return
        await participant.send(msg)

    async def _resume(self, p: Participant, role: str, msg: Resume) -> None:
        sid = msg.session_id
        call = self.calls.get(sid)
        if call is not None:
            side = call.kiosk if role == "kiosk" else call.interpreter
            if call.state != "active" or side is None or side.id != p.id:
                await p.conn.error("unknown_session", "not an answered call of yours", msg.type, sid)
                return
            if p.call is not None and p.call is not call:
                await p.conn.error("bad_state", "you are in another call", msg.type, sid)
                return
            if side is not p:  # normally done at hello already
                if role == "kiosk":
                    call.kiosk = p
                else:
                    call.interpreter = p
                p.call = call
            self._resumed_quietly(call, role)
            log.info("call %s resumed by the %s", sid, role)
            await p.send(Resumed(session_id=sid))
            if isinstance(p, Interpreter):
                await self._status(p)
            return
        missed = self._missed_ends.pop((sid, role), None)
        if missed is not None:
            await p.send(missed[0])
            return
        if p.call is not None:
            await p.conn.error("bad_state", "you are in another call", msg.type, sid)
            return
        await self._claim(p, role, msg)

    async def _claim(self, p: Participant, role: str, msg: Resume) -> None:
        """A call dispatch does not know (it restarted): adopt it once the other side claims it
        too, naming each other."""
        sid = msg.session_id
        other = self.claims.get(sid)
        if (other is not None and other.participant is not p
                and isinstance(other.participant, Kiosk) != isinstance(p, Kiosk)
                and other.participant.id == msg.peer_id and other.peer_id == p.id
                and not other.participant.conn.closed):
            self._drop_claim(other.participant)
            kiosk, interp = (p, other.participant) if isinstance(p, Kiosk) else (other.participant, p)
            call = Call(sid, kiosk, "resident", None, requested_at=self._clock(), state="active",
                        interpreter=interp, adopted=True)
            kiosk.call, interp.call = call, call
            self.calls[sid] = call
            log.info("call %s between kiosk %s and %s adopted after a restart", sid, kiosk.id, interp.id)
            await kiosk.send(Resumed(session_id=sid))
            await interp.send(Resumed(session_id=sid))
            await self._status(interp)
            return
        if other is not None and other.participant is not p:
            await p.conn.error("unknown_session", "this call is claimed by someone else", msg.type, sid)
            return
        self._drop_claim(p)
        claim = Claim(sid, p, msg.peer_id)
        p.claim = claim
        self.claims[sid] = claim
        log.info("%s %s claims unknown call %s with %s", role, p.id, sid, msg.peer_id)

        async def expire() -> None:
            await asyncio.sleep(self.rules.resume_grace_s)
            if p.claim is not claim:
                return
            self._drop_claim(p)
            log.info("call %s: %s never claimed it; over", sid, msg.peer_id)
            by = "interpreter" if role == "kiosk" else "kiosk"
            await p.send(CallEnded(session_id=sid, reason="peer_gone", by=by))
            if isinstance(p, Interpreter):
                await self._status(p)
            await self._route()

        claim.task = self._spawn(expire())
        if isinstance(p, Interpreter):
            await self._status(p)

    def _drop_claim(self, p: Participant) -> None:
        claim, p.claim = p.claim, None
        if claim is None:
            return
        if self.claims.get(claim.session_id) is claim:
            del self.claims[claim.session_id]
        if claim.task is not None and claim.task is not asyncio.current_task():
            claim.task.cancel()

    async def _release(self, interp: Optional[Interpreter], call: Call) -> None:
        """After a call: the interpreter's wrap-up pause, then back in the pool."""
        if interp is None:
            return
        if interp.call is call:
            interp.call = None
        now = self._clock()
        if call.accepted_at is not None:  # an adopted call's length is not known
            talk = now - call.accepted_at
            self._handle_s = 0.8 * self._handle_s + 0.2 * (talk + self.rules.wrap_up_s)
        self._cancel_wrap_up(interp)
        if self.rules.wrap_up_s > 0 and interp.on_duty:
            interp.wrap_up_until = now + self.rules.wrap_up_s
            interp.wrap_up_task = self._spawn(self._wrap_up_over(interp))
        interp.free_since = now + (self.rules.wrap_up_s if interp.on_duty else 0)
        await self._status(interp)

    @staticmethod
    def _cancel_wrap_up(interp: Interpreter) -> None:
        task, interp.wrap_up_task = interp.wrap_up_task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def _wrap_up_over(self, interp: Interpreter) -> None:
        await asyncio.sleep(self.rules.wrap_up_s)
        if (interp.wrap_up_until is None or interp.wrap_up_task is not asyncio.current_task()
                or self.interpreters.get(interp.id) is not interp):
            return
        interp.wrap_up_until = None
        interp.wrap_up_task = None
        await self._status(interp, reason="wrap_up_over")
        await self._route()

    def _forget(self, call: Call, outcome: str) -> None:
        self.calls.pop(call.session_id, None)
        if call.kiosk.call is call:
            call.kiosk.call = None
        if call.interpreter is not None and call.interpreter.call is call:
            call.interpreter.call = None
        # an adopted call's routing facts were stored at its accept, before the restart
        if not call.adopted:
            self._store_routing(call, outcome)

    def _store_routing(self, call: Call, outcome: str) -> None:
        if self._records is None:
            return
        interp = call.interpreter if outcome == "answered" else None
        try:
            self._records.put_routing(
                call.session_id, call.kiosk.id, location=call.kiosk.location,
                requested_at=call.requested_wall, queue_s=call.answered_after,
                rings=call.rings, declines=call.declines, missed_rings=call.missed,
                interpreter_id=interp.id if interp else None, outcome=outcome)
        except Exception:
            log.exception("could not store the routing facts of session %s", call.session_id)

    def _record_unserved(self, kiosk: Kiosk, msg: CallRequest, outcome: str) -> None:
        if self._records is None:
            return
        try:
            self._records.put_routing(msg.session_id, kiosk.id, location=kiosk.location,
                                      requested_at=time.time(), queue_s=None, rings=0, declines=0,
                                      missed_rings=0, interpreter_id=None, outcome=outcome)
        except Exception:
            log.exception("could not store the routing facts of session %s", msg.session_id)

    def _spawn(self, coro) -> asyncio.Task:
        return self._tasks.spawn(coro)


def _check_sendable(msg: Message) -> None:
    """JSON escapes such as ``\\ud800`` decode to unpaired surrogates, which no text frame can
    carry: relaying or echoing such a message would fail in the middle of the hub's work."""
    try:
        protocol.encode(msg).encode("utf-8")
    except UnicodeEncodeError:
        raise ProtocolError("bad_message", "a string holds an unpaired UTF-16 surrogate") from None


def _who(conn: Connection) -> str:
    p = conn.participant
    if p is None:
        return "an unidentified connection"
    return f"{'kiosk' if isinstance(p, Kiosk) else 'interpreter'} {p.id}"
