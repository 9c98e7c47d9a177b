"""One side of the network-fault test, run in its own network namespace (``ip netns exec``).

``python tests/netfault_agent.py kiosk CONFIG [nodispatch]``: dispatch (listening on every
address of the namespace; not with ``nodispatch``) and the kiosk's call engine. Commands on
stdin, one per line: ``call``, ``hangup``, ``frames``, ``record SESSION_ID``, ``quit``.

``python tests/netfault_agent.py interpreter URL ID PASSWORD [CONFIG]``: the simulated
interpreter (and, with CONFIG, dispatch in the same process).

Both print one JSON object per line on stdout: what happened, for the test to wait on.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import sys


def emit(**event) -> None:
    sys.stdout.write(json.dumps(event, default=str) + "\n")
    sys.stdout.flush()


async def start_dispatch(config):
    from kiosk.demo import dispatch_settings, provision_demo
    from kiosk.dispatch.app import open_accounts, serve

    settings = dispatch_settings(config)
    accounts = open_accounts(settings)
    provision_demo(accounts, config)
    return await serve(settings, accounts=accounts)


async def kiosk(config_path: str, mode: str = "") -> None:
    from kiosk.call.engine import CallEngine
    from kiosk.config import load_config
    from kiosk.demo import open_store

    config = load_config(config_path)
    server = await start_dispatch(config) if mode != "nodispatch" else None
    store = open_store(config)
    engine = CallEngine(config, store)
    engine.machine.subscribe(lambda e: emit(
        event="state", state=e.state.value, session_id=e.session_id, interpreter_id=e.interpreter_id,
        reason=e.reason.value if e.reason else None))
    engine.on_link_change = lambda up: emit(event="link", up=up)
    await engine.start()
    await engine.signaling.wait_ready(10)
    emit(event="ready")
    reader = await _stdin()
    try:
        while line := (await reader.readline()).decode().strip():
            cmd, _, arg = line.partition(" ")
            if cmd == "call":
                await engine.request_call()
            elif cmd == "hangup":
                await engine.hang_up()
            elif cmd == "frames":
                emit(event="frames", video=engine.counters.video_received,
                     audio=engine.counters.audio_received)
            elif cmd == "record":
                rec = store.get(arg)
                emit(event="record", record=dataclasses.asdict(rec) if rec else None,
                     central=server.records.get(arg) if server else None)
            elif cmd == "quit":
                break
    finally:
        await engine.stop()
        if server is not None:
            await server.stop()
        store.close()


async def interpreter(url: str, interpreter_id: str, password: str, config_path: str = "") -> None:
    from kiosk.call.simulator import SimulatedInterpreter
    from kiosk.config import load_config

    server = await start_dispatch(load_config(config_path)) if config_path else None

    sim = SimulatedInterpreter(url, interpreter_id, password, answer_delay_s=0.2,
                               width=320, height=240, fps=15)
    sim.start()
    report = asyncio.get_running_loop().create_task(_report(sim))
    try:
        reader = await _stdin()
        while line := (await reader.readline()).decode().strip():
            if line == "quit":
                break
        report.cancel()
    finally:
        await sim.stop()
        if server is not None:
            await server.stop()


async def _stdin() -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


async def _report(sim) -> None:
    last = None
    was_available = False
    while True:
        await asyncio.sleep(0.2)
        if sim.available.is_set() != was_available:
            was_available = sim.available.is_set()
            emit(event="available" if was_available else "unavailable")
        if sim.stats.calls:
            c = sim.stats.calls[-1]
            view = dict(session_id=c.session_id, kiosk_id=c.kiosk_id, connected=c.connected,
                        attempt=c.attempt, reconnecting=c.reconnecting, gaps=c.gaps,
                        ended_reason=c.ended_reason, resumed=c.resumed,
                        frames=c.video_frames // 30)  # every ~2 s of video at 15 fps
            if view != last:
                last = view
                emit(event="call", **view)


def main() -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    mode, *args = sys.argv[1:]
    asyncio.run(kiosk(*args) if mode == "kiosk" else interpreter(*args))


if __name__ == "__main__":
    main()
