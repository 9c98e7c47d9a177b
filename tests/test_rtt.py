"""Real-time text (kiosk/call/rtt.py): T.140 buffering, erasure and new lines, and the channel
between two real aiortc peer connections on loopback."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiortc import RTCConfiguration, RTCPeerConnection

from kiosk.call.rtt import (
    BACKSPACE, BOM, BUFFER_S, LINE_SEPARATOR, T140_PROTOCOL, T140Buffer, T140Text, TextLink,
    erase_last, open_t140_channel, to_t140,
)

# --- what goes on the wire ---------------------------------------------------------------------


def test_new_lines_become_line_separators_and_controls_are_left_out():
    assert to_t140("a\nb\r\nc\rd\u2029e") == f"a{LINE_SEPARATOR}b{LINE_SEPARATOR}c{LINE_SEPARATOR}d{LINE_SEPARATOR}e"
    assert to_t140(f"{BOM}x\x07y\tz") == "xyz"
    assert to_t140("你好，世界") == "你好，世界"


def test_first_text_goes_at_once_then_at_most_every_300_ms():
    buf = T140Buffer()
    buf.add("H")
    assert buf.due(10.0) == 10.0
    assert buf.take(10.0) == "H"
    buf.add("e")
    assert buf.due(10.1) == pytest.approx(10.0 + BUFFER_S)
    assert buf.take(10.1) == ""  # not yet: one message per interval
    buf.add("llo")
    assert buf.take(10.3) == "ello"  # what was typed meanwhile goes together
    assert buf.due(10.31) is None  # nothing pending
    buf.add("!")
    assert buf.take(11.0) == "!"  # after a pause it goes at once again


def test_erasing_a_character_still_in_the_buffer_takes_it_out():
    buf = T140Buffer()
    buf.add("ab")
    assert buf.take(0.0) == "ab"
    buf.add("c")
    buf.erase()  # c never went out: no need to send it and a backspace
    assert buf.pending == ""
    buf.erase(2)  # b and a went out: two backspaces
    assert buf.pending == BACKSPACE * 2
    buf.add("é")  # e + combining acute, erased as one
    buf.erase()
    assert buf.pending == BACKSPACE * 2
    buf.add("x\n")
    buf.erase()
    assert buf.take(1.0) == BACKSPACE * 2 + "x"


# --- what the other side shows -----------------------------------------------------------------


def test_receiver_applies_erasures_new_lines_and_drops_boms():
    rx = T140Text()
    assert rx.feed(BOM + "Hallo") == "Hallo"
    assert rx.feed(BACKSPACE * 4 + "ello" + LINE_SEPARATOR + "你好") == "Hello\n你好"
    assert rx.feed(BOM) == "Hello\n你好"  # a keep-alive changes nothing
    assert rx.feed(BACKSPACE * 3) == "Hello"  # 好, 你, the new line
    assert rx.received == 5 + 8 + 1 + 2 + 3  # BOMs do not count; erasures do


def test_receiver_takes_every_kind_of_new_line_and_skips_control_sequences():
    rx = T140Text()
    rx.feed("a\r")
    rx.feed("\nb\rc\nd\u2029e")  # CR LF split over two messages is still one new line
    assert rx.text == "a\nb\nc\nd\ne"
    rx.clear()
    rx.feed("x\x1b[31my\x1b[0m\x07z\x98private\x9c!")  # SGR colours, a bell, an SOS string
    assert rx.text == "xyz!"
    rx.clear()
    rx.feed("e\u0301" + BACKSPACE + "\ufffd")  # a combining sequence erased as one; loss marker kept
    assert rx.text == "\ufffd"


def test_erase_last_and_the_screen_limit():
    assert erase_last("ae\u0301") == "a"
    assert erase_last("") == ""
    rx = T140Text(max_shown=10)
    rx.feed("x" * 25 + "end")
    assert rx.text == "x" * 7 + "end" and rx.received == 28


def test_a_buffer_of_zero_sends_everything_at_once():
    buf = T140Buffer(buffer_s=0.0)
    buf.add("a")
    assert buf.take(5.0) == "a"
    buf.add("b")
    assert buf.take(5.0) == "b"


# --- two real peer connections ------------------------------------------------------------------


async def _connect(a: RTCPeerConnection, b: RTCPeerConnection) -> None:
    await a.setLocalDescription(await a.createOffer())
    await b.setRemoteDescription(a.localDescription)
    await b.setLocalDescription(await b.createAnswer())
    await a.setRemoteDescription(b.localDescription)


@pytest.mark.asyncio
async def test_text_flows_both_ways_over_a_t140_channel():
    kiosk = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    other = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    shown: list[tuple[float, str]] = []
    link = TextLink(on_text=lambda text: shown.append((time.monotonic(), text)))
    channel = open_t140_channel(kiosk)
    link.attach(channel)
    remote_channel: asyncio.Future = asyncio.get_running_loop().create_future()
    received: list[tuple[float, str]] = []

    @other.on("datachannel")
    def on_channel(ch) -> None:
        ch.on("message", lambda m: received.append((time.monotonic(), m)))
        remote_channel.set_result(ch)

    try:
        # typed before the channel is open: kept, then sent after the opening BOM
        link.send_text("早")
        await _connect(kiosk, other)
        ch = await asyncio.wait_for(remote_channel, 10)
        assert (ch.protocol, ch.label, ch.ordered) == (T140_PROTOCOL, "t140", True)
        assert ch.maxRetransmits is None and ch.maxPacketLifeTime is None  # reliable
        deadline = time.monotonic() + 5
        while "".join(m for _, m in received) != BOM + "早":
            assert time.monotonic() < deadline, received
            await asyncio.sleep(0.01)

        # typing letter by letter: the first goes at once, the rest at most every 300 ms
        await asyncio.sleep(BUFFER_S + 0.1)  # a pause: the next letter goes at once
        received.clear()
        start = time.monotonic()
        for ch_ in "hello":
            link.send_text(ch_)
            await asyncio.sleep(0.06)
        link.erase(1)
        link.send_text("p\n")
        while T140Text().feed("".join(m for _, m in received)) != "hellp\n":
            assert time.monotonic() - start < 5, received
            await asyncio.sleep(0.01)
        assert received[0][1] == "h"  # alone: nothing waited for it
        gaps = [b[0] - a[0] for a, b in zip(received, received[1:])]
        assert all(g > BUFFER_S - 0.05 for g in gaps), gaps
        assert len(received) <= 3
        assert link.sent == len("早hello") + 3  # the backspace, p and the new line count too

        # the other side types: the whole text is handed up after each message
        ch.send(BOM + "ok" + BACKSPACE + "K" + LINE_SEPARATOR + "好")
        deadline = time.monotonic() + 5
        while not shown or shown[-1][1] != "oK\n好":
            assert time.monotonic() < deadline, shown
            await asyncio.sleep(0.01)
        assert link.received == 6 and link.remote_text == "oK\n好"

        # the call ends: nothing of the text stays, nothing more is sent
        link.close()
        assert link.remote_text == "" and link.channel is None
        link.send_text("late")
        await asyncio.sleep(0.4)
        assert "late" not in "".join(m for _, m in received)
    finally:
        await kiosk.close()
        await other.close()


@pytest.mark.asyncio
async def test_a_new_peer_connection_carries_the_text_on():
    """A reconnect makes a new peer connection: the same TextLink goes on over its channel,
    with what was typed while no channel was open."""
    link = TextLink()
    got: list[str] = []
    pcs = []
    try:
        for word in ("one", "two"):
            a = RTCPeerConnection(RTCConfiguration(iceServers=[]))
            b = RTCPeerConnection(RTCConfiguration(iceServers=[]))
            pcs += [a, b]
            b.on("datachannel", lambda ch: ch.on("message", got.append))
            link.attach(open_t140_channel(a))
            link.send_text(word)
            await _connect(a, b)
            deadline = time.monotonic() + 10
            while word not in "".join(got):
                assert time.monotonic() < deadline, got
                await asyncio.sleep(0.02)
            await a.close()
        assert "".join(got).replace(BOM, "") == "onetwo"
        assert link.sent == 6
    finally:
        link.close()
        for pc in pcs:
            await pc.close()
