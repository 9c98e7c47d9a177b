"""The WebSocket link to dispatch, kept up by itself.

``SignalingClient`` connects, says ``hello``, waits for ``welcome`` and then delivers every
decoded message to ``on_message``. When the link drops it reconnects with growing, jittered
delays; ``on_link`` hears every change (True = usable). It never raises into its owner: a
refused hello, a dead network or a malformed frame is logged and retried or skipped.
"""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
from typing import Awaitable, Callable, Optional

import aiohttp

from kiosk import protocol
from kiosk.protocol import Hello, Message, ProtocolError, Welcome

log = logging.getLogger("kiosk.call.signaling")

BACKOFF_S = (0.2, 1.0, 2.0, 3.0, 5.0)


class SignalingClient:
    def __init__(self, url: str, hello: Hello,
                 on_message: Callable[[Message], Awaitable[None] | None],
                 on_link: Callable[[bool], None] | None = None,
                 connect_timeout_s: float = 5.0, heartbeat_s: float = 10.0,
                 ssl_context: Optional[ssl.SSLContext] = None) -> None:
        self.url = url
        self._hello = hello
        self._on_message = on_message
        self._on_link = on_link
        self._connect_timeout = connect_timeout_s
        self._heartbeat = heartbeat_s
        self._ssl = ssl_context if ssl_context is not None else True  # True: system CAs
        self._ws: Optional[aiohttp.ClientWebSocketResponse] = None
        self._session: Optional[aiohttp.ClientSession] = None
        self._task: Optional[asyncio.Task] = None
        self.ready = asyncio.Event()
        self.last_error: Optional[str] = None
        self.connects = 0
        self._stopping = False

    @property
    def ssl_param(self):
        """aiohttp's ``ssl=``: what dispatch's certificate is verified with (True: system CAs)."""
        return self._ssl

    @property
    def connected(self) -> bool:
        return self.ready.is_set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="signaling")

    async def stop(self) -> None:
        task, self._task = self._task, None
        self._stopping = True
        # Close the socket first: the reader then ends by itself. Cancelling a task that waits
        # in aiohttp's WebSocket reader alone can leave it hanging.
        await self._close_ws()
        if task:
            task.cancel()
            try:
                await asyncio.wait_for(task, 5)
            except (asyncio.CancelledError, asyncio.TimeoutError):
                pass
        if self._session:
            await self._session.close()
            self._session = None

    async def wait_ready(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self.ready.wait(), timeout)
            return True
        except asyncio.TimeoutError:
            return False

    async def send(self, msg: Message) -> bool:
        """Send one message; False when the link is down (the caller decides what that means)."""
        ws = self._ws
        if ws is None or ws.closed or not self.ready.is_set():
            return False
        try:
            await ws.send_str(protocol.encode(msg))
            return True
        except (ConnectionError, aiohttp.ClientError, RuntimeError) as exc:
            log.warning("send %s failed: %s", msg.type, exc)
            return False

    async def _close_ws(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None and not ws.closed:
            await ws.close()

    def _set_link(self, up: bool) -> None:
        if up == self.ready.is_set():
            return
        if up:
            self.ready.set()
        else:
            self.ready.clear()
        if self._on_link:
            self._on_link(up)

    async def _run(self) -> None:
        attempt = 0
        self._session = aiohttp.ClientSession()
        while not self._stopping:
            try:
                await self._session_once()
                attempt = 0  # it worked for a while: start the back-off again
            except asyncio.CancelledError:
                self._set_link(False)
                raise
            except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
                self.last_error = f"cannot reach dispatch at {self.url}: {exc or type(exc).__name__}"
                log.warning("%s", self.last_error)
            except _Refused as exc:
                self.last_error = str(exc)
                log.error("dispatch refused this kiosk: %s", exc)
            self._set_link(False)
            await self._close_ws()
            if self._stopping:
                return
            delay = BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)]
            attempt += 1
            await asyncio.sleep(delay * random.uniform(0.7, 1.3))

    async def _session_once(self) -> None:
        assert self._session is not None
        self._ws = await asyncio.wait_for(
            self._session.ws_connect(self.url, heartbeat=self._heartbeat, ssl=self._ssl,
                                     max_msg_size=protocol.MAX_MESSAGE_BYTES),
            self._connect_timeout,
        )
        ws = self._ws
        await ws.send_str(protocol.encode(self._hello))
        first = await asyncio.wait_for(ws.receive(), self._connect_timeout)
        reply = self._decode(first)
        if not isinstance(reply, Welcome):
            detail = getattr(reply, "message", None) or getattr(first, "extra", None) or first.type
            raise _Refused(f"hello refused: {detail}")
        self.connects += 1
        self.last_error = None
        log.info("connected to dispatch %s as %s %s", self.url, self._hello.role, self._hello.id)
        self._set_link(True)
        async for frame in ws:
            msg = self._decode(frame)
            if msg is None:
                continue
            try:
                result = self._on_message(msg)
                if asyncio.iscoroutine(result):
                    await result
            except Exception:
                log.exception("handling %s failed", msg.type)
        log.warning("dispatch connection closed (%s)", ws.close_code)

    @staticmethod
    def _decode(frame: aiohttp.WSMessage) -> Optional[Message]:
        if frame.type is not aiohttp.WSMsgType.TEXT:
            if frame.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED,
                              aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.ERROR):
                return None
            log.warning("ignoring non-text frame from dispatch: %s", frame.type)
            return None
        try:
            return protocol.decode(frame.data)
        except ProtocolError as exc:
            log.warning("ignoring malformed message from dispatch: %s", exc)
            return None


class _Refused(Exception):
    pass
