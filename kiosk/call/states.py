"""The call as a fixed list of states, and the rules for moving between them.

``idle → requesting → queued → ringing → connecting → connected ⇄ reconnecting → ended(reason)``

``CallMachine`` refuses any other move with ``IllegalTransition``; every accepted move produces
one frozen ``CallEvent`` (a snapshot that can be handed to another thread as it is).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from enum import Enum
from typing import Callable, Optional


class CallState(str, Enum):
    IDLE = "idle"
    REQUESTING = "requesting"
    QUEUED = "queued"
    RINGING = "ringing"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    ENDED = "ended"


class EndReason(str, Enum):
    COMPLETED = "completed"  # answered call hung up by either side
    CANCELLED_BY_CALLER = "cancelled_by_caller"  # kiosk withdrew before an answer
    NO_INTERPRETER = "no_interpreter"  # nobody online to take it
    OUT_OF_HOURS = "out_of_hours"
    DECLINED = "declined"  # every interpreter declined / dispatch gave up
    DISPATCH_UNREACHABLE = "dispatch_unreachable"  # no signaling at the tap or before answer
    NETWORK_LOST = "network_lost"  # media or signaling lost during the call
    DEVICE_ERROR = "device_error"  # camera/microphone failed so the call cannot go on
    INTERRUPTED = "interrupted"  # the kiosk app stopped (crash, power) with the call open


S = CallState
ALLOWED: dict[CallState, frozenset[CallState]] = {
    S.IDLE: frozenset({S.REQUESTING}),
    S.REQUESTING: frozenset({S.QUEUED, S.RINGING, S.ENDED}),
    S.QUEUED: frozenset({S.RINGING, S.ENDED}),
    # a ring that times out or is declined puts the call back in the queue
    S.RINGING: frozenset({S.QUEUED, S.CONNECTING, S.ENDED}),
    S.CONNECTING: frozenset({S.CONNECTED, S.ENDED}),
    S.CONNECTED: frozenset({S.RECONNECTING, S.ENDED}),
    S.RECONNECTING: frozenset({S.CONNECTED, S.ENDED}),
    S.ENDED: frozenset({S.IDLE}),
}
ACTIVE = frozenset(set(CallState) - {S.IDLE, S.ENDED})
BEFORE_ANSWER = frozenset({S.REQUESTING, S.QUEUED, S.RINGING})


class IllegalTransition(RuntimeError):
    pass


@dataclass(frozen=True)
class CallEvent:
    """Everything a screen needs to show about the current call, at one moment."""

    state: CallState
    session_id: Optional[str] = None
    reason: Optional[EndReason] = None
    started_by: str = "resident"
    category: Optional[str] = None
    queue_position: Optional[int] = None
    estimated_wait_s: Optional[float] = None
    interpreter_id: Optional[str] = None
    requested_at: Optional[float] = None
    answered_at: Optional[float] = None
    connected_at: Optional[float] = None
    ended_at: Optional[float] = None
    at: float = 0.0

    @property
    def answered(self) -> bool:
        return self.answered_at is not None


class CallMachine:
    """Holds the current ``CallEvent`` and checks every move against ``ALLOWED``."""

    def __init__(self, listener: Callable[[CallEvent], None] | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._listeners: list[Callable[[CallEvent], None]] = [listener] if listener else []
        self.current = CallEvent(state=S.IDLE, at=clock())

    def subscribe(self, listener: Callable[[CallEvent], None]) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[[CallEvent], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    @property
    def state(self) -> CallState:
        return self.current.state

    def move(self, state: CallState, **changes) -> CallEvent:
        if state not in ALLOWED[self.current.state]:
            raise IllegalTransition(f"{self.current.state.value} → {state.value}")
        if state is S.ENDED and not isinstance(changes.get("reason"), EndReason):
            raise IllegalTransition("ended needs an EndReason")
        return self._publish(replace(self.current, state=state, at=self._clock(), **changes))

    def update(self, **changes) -> CallEvent:
        """Change details (queue position, estimate) without changing state."""
        return self._publish(replace(self.current, at=self._clock(), **changes))

    def reset(self) -> CallEvent:
        if self.current.state is not S.ENDED:
            raise IllegalTransition(f"{self.current.state.value} → idle")
        return self._publish(CallEvent(state=S.IDLE, at=self._clock()))

    def _publish(self, event: CallEvent) -> CallEvent:
        self.current = event
        for listener in list(self._listeners):
            listener(event)
        return event
