"""A UDP relay the test controls: the media of a call on loopback goes through it, and
``cut = True`` drops every packet silently, like a pulled cable.

``MediaRelay.rewrite(sdp)`` replaces each UDP candidate in an SDP with a relay port on
127.0.0.1 that forwards to the real candidate; give each side the other side's SDP rewritten,
and no packet between the two peers can go around the relay.
"""

from __future__ import annotations

import asyncio
import re

CANDIDATE = re.compile(r"^(a=candidate:\S+ \d+ udp \d+ )(\S+) (\d+)( typ .*)$", re.I | re.M)


class _Front(asyncio.DatagramProtocol):
    def __init__(self, relay: "_Relay") -> None:
        self.relay = relay

    def datagram_received(self, data: bytes, addr) -> None:
        self.relay.from_client(data, addr)


class _Back(asyncio.DatagramProtocol):
    def __init__(self, relay: "_Relay") -> None:
        self.relay = relay

    def datagram_received(self, data: bytes, addr) -> None:
        self.relay.from_target(data)


class _Relay:
    """One candidate: the client talks to ``front``; ``back`` talks to the real candidate."""

    def __init__(self, owner: "MediaRelay", target: tuple[str, int]) -> None:
        self.owner = owner
        self.target = target
        self.client = None
        self.front = self.back = None

    async def open(self) -> int:
        loop = asyncio.get_running_loop()
        self.front, _ = await loop.create_datagram_endpoint(lambda: _Front(self), local_addr=("127.0.0.1", 0))
        self.back, _ = await loop.create_datagram_endpoint(lambda: _Back(self), local_addr=("127.0.0.1", 0))
        return self.front.get_extra_info("sockname")[1]

    def from_client(self, data: bytes, addr) -> None:
        self.client = addr
        if not self.owner.cut:
            self.owner.forwarded += 1
            self.back.sendto(data, self.target)

    def from_target(self, data: bytes) -> None:
        if not self.owner.cut and self.client is not None:
            self.owner.forwarded += 1
            self.front.sendto(data, self.client)

    def close(self) -> None:
        for t in (self.front, self.back):
            if t is not None:
                t.close()


class MediaRelay:
    def __init__(self) -> None:
        self.cut = False
        self.forwarded = 0
        self._relays: list[_Relay] = []

    async def rewrite(self, sdp: str) -> str:
        out, last = [], 0
        for m in CANDIDATE.finditer(sdp):
            if ":" in m.group(2):  # IPv6: dropped, so that nothing goes around the relay
                out.append(sdp[last:m.start()])
                last = m.end() + 1 if sdp[m.end():m.end() + 1] == "\n" else m.end()
                continue
            relay = _Relay(self, (m.group(2), int(m.group(3))))
            self._relays.append(relay)
            port = await relay.open()
            out.append(sdp[last:m.start()] + f"{m.group(1)}127.0.0.1 {port}{m.group(4)}")
            last = m.end()
        out.append(sdp[last:])
        return "".join(out)

    def close(self) -> None:
        for relay in self._relays:
            relay.close()
        self._relays.clear()
