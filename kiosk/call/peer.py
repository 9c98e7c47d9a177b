"""aiortc peer connections with explicit ICE configuration.

aiortc silently falls back to a public STUN server when given no configuration and then waits
up to 5 s for it on every offer; the kiosk therefore always passes the configured list (empty
= host candidates only, for a LAN and for tests).
"""

from __future__ import annotations

from typing import Iterable, Protocol

from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection
from aiortc.rtcconfiguration import RTCBundlePolicy
from aiortc.sdp import candidate_from_sdp

from kiosk.protocol import Ice


class IceServerLike(Protocol):
    urls: tuple[str, ...]
    username: str | None
    credential: str | None


def rtc_configuration(ice_servers: Iterable[IceServerLike]) -> RTCConfiguration:
    servers = [RTCIceServer(urls=list(s.urls), username=s.username, credential=s.credential)
               for s in ice_servers]
    # One transport for audio and video: half the sockets and STUN checks of the default.
    return RTCConfiguration(iceServers=servers, bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)


def make_peer(ice_servers: Iterable[IceServerLike]) -> RTCPeerConnection:
    return RTCPeerConnection(rtc_configuration(ice_servers))


async def add_remote_candidate(pc: RTCPeerConnection, msg: Ice) -> None:
    """Apply a trickled candidate from the other side (browsers trickle; aiortc does not)."""
    if msg.candidate is None or msg.candidate == "":
        await pc.addIceCandidate(None)
        return
    text = msg.candidate[len("candidate:"):] if msg.candidate.startswith("candidate:") else msg.candidate
    candidate = candidate_from_sdp(text)
    candidate.sdpMid = msg.sdp_mid
    candidate.sdpMLineIndex = msg.sdp_mline_index
    await pc.addIceCandidate(candidate)
