"""Sends finished session records from the kiosk's outbox to dispatch's central records.

The outbox lives in the session log (``SessionStore``): a record is queued in the same
transaction that finishes (or rates) it, and leaves the outbox only when dispatch answers
``record_ack``. So neither a restart nor a lost network loses a record; at worst a record is
sent twice, which dispatch stores idempotently by ``session_id``.

``RecordUploader`` runs on the call engine's loop, like every other use of the store (the
SQLite connection belongs to that thread). ``kick()`` starts a drain: every queued record is
sent as ``session_record``, oldest first, at most ``window`` awaiting their acknowledgement at
once; the next window goes out as the acknowledgements come back. A drain stops at the first
send that fails (the link is down); the next ``kick()`` (the engine kicks when the link comes
up) sends everything still queued again, acknowledged or not.

An acknowledgement names only the session; the uploader remembers which version of each
record it sent, in order, and the store drops the record only if it is still that version, so
a rating that arrives while the unrated record is on its way is never lost.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections import deque
from typing import Awaitable, Callable, Optional

from kiosk.protocol import Message, SessionRecordUpload
from kiosk.sessions import SessionRecord, SessionStore

log = logging.getLogger("kiosk.call.uploader")

_MAX_COPIES = 8
_UPLOAD_FIELDS = tuple(f.name for f in dataclasses.fields(SessionRecordUpload))


def upload_message(rec: SessionRecord) -> SessionRecordUpload:
    """The wire message for one record: the record's fields, by name."""
    return SessionRecordUpload(**{name: getattr(rec, name) for name in _UPLOAD_FIELDS})


class RecordUploader:
    def __init__(self, store: SessionStore, send: Callable[[Message], Awaitable[bool]],
                 clock: Callable[[], float] = time.time, *, window: int = 50) -> None:
        if window < 1:
            raise ValueError("window must be at least 1")
        self.store = store
        self._send = send
        self._clock = clock
        self.window = window
        # session id → the versions sent on this link and not yet acknowledged, oldest first
        self._sent: dict[str, deque[SessionRecord]] = {}
        self._task: Optional[asyncio.Task] = None
        self._again = False  # a kick arrived during a drain: drain once more
        self._resend = False  # the next drain sends un-acknowledged records again
        self._stopped = False
        self.sent_count = 0  # frames put on the wire (tests, diagnostics)
        self.acked_count = 0
        self.last_drain_at: Optional[float] = None

    @property
    def in_flight(self) -> int:
        """Records sent and not acknowledged yet."""
        return len(self._sent)

    def kick(self) -> None:
        """Send what the outbox holds, soon, on the running loop; un-acknowledged records are
        sent again. Kicks while a drain runs are folded into one more drain."""
        self._resend = True
        self._schedule()

    def on_ack(self, session_id: str) -> None:
        """Dispatch stored ``session_id``: drop it from the outbox if it is still the version sent."""
        versions = self._sent.get(session_id)
        if not versions:
            # not sent on this link (a repeated ack, or one for a send we gave up on): the
            # record stays queued and is sent again, which is harmless
            log.debug("ack for %s, which is not awaiting one", session_id)
            return
        sent = versions.popleft()
        if not versions:
            del self._sent[session_id]
        self.acked_count += 1
        try:
            if not self.store.mark_uploaded(session_id, sent):
                log.debug("session %s changed since it was sent; it stays queued", session_id)
        except Exception:
            log.exception("session %s: could not take it out of the outbox", session_id)
        if not self._sent:
            self._schedule()  # the window is empty: send the next records, if any

    async def wait_idle(self) -> None:
        """Return once no drain is running (for tests and an orderly shutdown)."""
        while self._task is not None and not self._task.done():
            await asyncio.wait({self._task})

    async def stop(self) -> None:
        self._stopped = True
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    # --- the drain ------------------------------------------------------------------------

    def _schedule(self) -> None:
        if self._stopped:
            return
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._again = False
        self._task = asyncio.get_running_loop().create_task(self._drain(), name="record-upload")

    async def _drain(self) -> None:
        try:
            while True:
                self._again = False
                if not await self._drain_once():
                    return
                if not self._again:
                    return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("uploading session records failed; they stay queued")

    async def _drain_once(self) -> bool:
        """One pass over the outbox; False when the link is down."""
        resend, self._resend = self._resend, False
        self.last_drain_at = self._clock()
        room = self.window if resend else self.window - len(self._sent)
        if room <= 0:
            return True
        skip = 0 if resend else len(self._sent)
        for rec in self.store.pending_uploads(limit=room + skip):
            if room <= 0:
                break
            sid = rec.session_id
            if not resend and sid in self._sent:
                continue
            if not await self._send(upload_message(rec)):
                log.info("dispatch not reachable: %d session record(s) stay queued",
                         self.store.outbox_size())
                self._sent.clear()  # nothing sent on that link will be acknowledged now
                return False
            self.sent_count += 1
            versions = self._sent.setdefault(sid, deque())
            # a record dispatch never acknowledges is sent at every kick: remember a few copies
            # only (an ack beyond them is ignored, which just means one more send later)
            if len(versions) < _MAX_COPIES or versions[-1] != rec:
                versions.append(rec)
            self.store.note_upload_attempt(sid)
            room -= 1
        return True
