"""Real-time text: T.140 over a WebRTC data channel (RFC 8865), no Qt.

What the RFC and T.140 ask, and what this module does about it:

- The channel's subprotocol is ``t140``; it is reliable and ordered (no ``maxRetransmits`` or
  ``maxPacketLifeTime``), negotiated in-band: the kiosk creates it before its offer and the
  console picks it up in ``ondatachannel``. The label is free; ours is ``t140`` too.
- Characters are UTF-8 T.140 text, sent as they are typed, buffered for at most 300 ms (the
  RFC's default buffering time; T.140 allows up to 500 ms). A message never splits a character.
- An erasure is BACKSPACE (U+0008), a new line is LINE SEPARATOR (U+2028). A receiver also
  takes CR LF, CR and LF as one new line and PARAGRAPH SEPARATOR as a new line.
- A BOM (U+FEFF, ZERO WIDTH NO-BREAK SPACE) opens the stream and may come at any time as a
  keep-alive: it is sent once when the channel opens and dropped on receipt.
- Other control characters (bell, ESC/CSI sequences such as SGR, SOS … ST strings) are not text
  and are dropped on receipt; U+FFFD (a possible loss of text) is shown as it is.

The text itself is shown and never stored or logged: only the counts of characters each way
(erasures and new lines included, BOMs not) leave this module.
"""

from __future__ import annotations

import asyncio
import logging
import time
import unicodedata
from typing import Callable, Optional

log = logging.getLogger("kiosk.call.rtt")

T140_PROTOCOL = "t140"
T140_LABEL = "t140"
BUFFER_S = 0.3  # RFC 8865 section 5: the default buffering time
MAX_SHOWN = 20_000  # characters of the other side's text kept for the screen

BOM = "\ufeff"
BACKSPACE = "\b"
LINE_SEPARATOR = "\u2028"
PARAGRAPH_SEPARATOR = "\u2029"
ESC = "\x1b"
SOS, ST = "\x98", "\x9c"


def to_t140(text: str) -> str:
    """Typed text as T.140: every kind of new line becomes LINE SEPARATOR; BOMs and control
    characters other than new lines are not text and are left out."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace(PARAGRAPH_SEPARATOR, "\n")
    out = []
    for ch in text:
        if ch == "\n":
            out.append(LINE_SEPARATOR)
        elif ch == BOM or unicodedata.category(ch) == "Cc":
            continue
        else:
            out.append(ch)
    return "".join(out)


def erase_last(text: str) -> str:
    """``text`` without its last character as a person sees it (a base and its combining marks
    go together)."""
    end = len(text)
    while end > 0 and unicodedata.combining(text[end - 1]):
        end -= 1
    return text[:max(0, end - 1)]


class T140Buffer:
    """The sending side's buffer: text typed goes out at once when nothing was sent in the
    last ``buffer_s`` seconds, otherwise when that interval is over, all in one message.

    An erasure of a character still in the buffer takes it out of the buffer instead of
    sending it and a BACKSPACE. Pure: the caller asks ``take(now)`` when ``due(now)`` says."""

    def __init__(self, buffer_s: float = BUFFER_S) -> None:
        self.buffer_s = buffer_s
        self._pending: list[str] = []
        self._last_sent: Optional[float] = None

    @property
    def pending(self) -> str:
        return "".join(self._pending)

    def add(self, text: str) -> None:
        self._pending.extend(to_t140(text))

    def erase(self, count: int = 1) -> None:
        for _ in range(max(0, count)):
            if self._pending and self._pending[-1] != BACKSPACE:
                # a base character takes its combining marks with it, as on the screen
                while self._pending and unicodedata.combining(self._pending[-1]):
                    self._pending.pop()
                if self._pending:
                    self._pending.pop()
            else:
                self._pending.append(BACKSPACE)

    def due(self, now: float) -> Optional[float]:
        """When the pending text should go out (``now`` or later); None: nothing pending."""
        if not self._pending:
            return None
        if self._last_sent is None:
            return now
        return max(now, self._last_sent + self.buffer_s)

    def take(self, now: float) -> str:
        """The pending text if it is due (it then counts as sent at ``now``), else ""."""
        due = self.due(now)
        if due is None or due > now:
            return ""
        text, self._pending = "".join(self._pending), []
        self._last_sent = now
        return text

    def clear(self) -> None:
        self._pending = []


class T140Text:
    """The receiving side: T.140 messages in, the text to show out (new lines as "\\n")."""

    def __init__(self, max_shown: int = MAX_SHOWN) -> None:
        self.text = ""
        self.received = 0  # T.140 characters, erasures and new lines included, BOMs not
        self._max = max_shown
        self._after_cr = False
        self._escape: Optional[str] = None  # None, "esc", "csi" or "sos": inside a control sequence

    def feed(self, chunk: str) -> str:
        out = list(self.text)
        for ch in chunk:
            if self._escape is not None:
                self._skip_control(ch)
                continue
            if ch == "\n" and self._after_cr:  # CR LF is one new line
                self._after_cr = False
                continue
            self._after_cr = ch == "\r"
            if ch == BOM:
                continue
            self.received += 1
            if ch == BACKSPACE:
                while out and unicodedata.combining(out[-1]):
                    out.pop()
                if out:
                    out.pop()
            elif ch in (LINE_SEPARATOR, PARAGRAPH_SEPARATOR, "\r", "\n"):
                out.append("\n")
            elif ch == ESC:
                self._escape = "esc"
                self.received -= 1
            elif ch == SOS:
                self._escape = "sos"
                self.received -= 1
            elif unicodedata.category(ch) == "Cc":
                self.received -= 1  # bell and the like: not text
            else:
                out.append(ch)
        if len(out) > self._max:
            out = out[-self._max:]
        self.text = "".join(out)
        return self.text

    def _skip_control(self, ch: str) -> None:
        if self._escape == "esc":
            # ESC [ starts a CSI sequence (e.g. SGR); ESC and one other character end here
            self._escape = "csi" if ch == "[" else None
        elif self._escape == "csi":
            if "\x40" <= ch <= "\x7e":
                self._escape = None
        elif self._escape == "sos" and ch == ST:
            self._escape = None

    def clear(self) -> None:
        self.text = ""
        self._after_cr = False
        self._escape = None


class TextLink:
    """Real-time text of one call, across its peer connections (a reconnect brings a new one).

    Lives on the call engine's asyncio loop. ``attach`` binds the T.140 channel of each new
    peer connection; typed text waits in the buffer while no channel is open. ``on_text`` gets
    the other side's whole text after every change (the screen shows it as it is)."""

    def __init__(self, *, buffer_s: float = BUFFER_S,
                 on_text: Optional[Callable[[str], None]] = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._buffer = T140Buffer(buffer_s)
        self._remote = T140Text()
        self._clock = clock
        self.on_text = on_text
        self.sent = 0  # T.140 characters sent (BOMs not)
        self._channel = None
        self._timer: Optional[asyncio.TimerHandle] = None
        self._closed = False

    @property
    def received(self) -> int:
        return self._remote.received

    @property
    def remote_text(self) -> str:
        return self._remote.text

    @property
    def channel(self):
        return self._channel

    def attach(self, channel) -> None:
        """The T.140 channel of a new peer connection (RTCDataChannel, protocol ``t140``)."""
        self._channel = channel

        def on_open() -> None:
            if channel is self._channel and not self._closed:
                self._send_raw(channel, BOM)  # the start of a T.140 stream
                self._schedule()

        def on_message(message) -> None:
            if channel is not self._channel or self._closed:
                return
            if isinstance(message, bytes):
                message = message.decode("utf-8", errors="replace")
            self._remote.feed(message)
            if self.on_text:
                self.on_text(self._remote.text)

        channel.on("open", on_open)
        channel.on("message", on_message)
        if channel.readyState == "open":
            on_open()

    def send_text(self, text: str) -> None:
        if self._closed or not text:
            return
        self._buffer.add(text)
        self._schedule()

    def erase(self, count: int = 1) -> None:
        if self._closed or count <= 0:
            return
        self._buffer.erase(count)
        self._schedule()

    def _schedule(self) -> None:
        if self._timer is not None:
            return
        due = self._buffer.due(self._clock())
        if due is None:
            return
        delay = max(0.0, due - self._clock())
        self._timer = asyncio.get_running_loop().call_later(delay, self._flush)

    def _flush(self) -> None:
        self._timer = None
        channel = self._channel
        if self._closed or channel is None or channel.readyState != "open":
            return  # sent when the (next) channel opens
        text = self._buffer.take(self._clock())
        if text:
            self._send_raw(channel, text)
            self.sent += len(text)
        self._schedule()

    @staticmethod
    def _send_raw(channel, text: str) -> None:
        try:
            channel.send(text)
        except Exception as exc:  # the channel closed under us: the text stays unsent
            log.warning("real-time text could not be sent: %s", type(exc).__name__)

    def close(self) -> None:
        """The call ended: nothing of the text stays (the counts do)."""
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._buffer.clear()
        self._remote.clear()
        channel, self._channel = self._channel, None
        if channel is not None:
            try:
                channel.close()
            except Exception:
                pass


def open_t140_channel(pc):
    """Create the T.140 channel on a peer connection before its offer (RFC 8865: subprotocol
    ``t140``, reliable, ordered; in-band negotiation)."""
    return pc.createDataChannel(T140_LABEL, ordered=True, protocol=T140_PROTOCOL)
