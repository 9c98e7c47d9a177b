"""A kiosk process for the crash tests: what ``kiosk demo --headless`` runs (the real
``CallEngine`` with its SQLite session log, the embedded dispatch service and a simulated
interpreter, real aiortc on loopback), reporting each step on stdout, one JSON object a line,
flushed, so that a test can SIGKILL it at a chosen moment and knows what had begun:

- ``{"started": …, "closed": [...], "queued": [...]}`` after start-up: the sessions a crash had
  left open and were closed now, and what the outbox holds for dispatch at that moment;
- ``{"state": "requesting", "session_id": …, "call": n}`` and every later state of the call (the
  requesting line comes after the session's first row is committed);
- ``{"phase": "rating" | "between", …}`` while the resident rates and between two calls.

The simulated interpreter presses "ready" ``--ready-after`` seconds after each call, as a person
does after a short wrap-up, so a call placed meanwhile waits in the queue.

    python tests/crash_kiosk.py CONFIG [--calls N] [--talk S] [--rating S] [--between S]
                                       [--ready-after S] [--drain] [--die-after-commit STATE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kiosk.call.engine import CallEngine  # noqa: E402
from kiosk.call.states import CallState  # noqa: E402
from kiosk.config import load_config  # noqa: E402
from kiosk.demo import EmbeddedServices, open_store  # noqa: E402
from kiosk.protocol import Presence  # noqa: E402


def say(**fields) -> None:
    print(json.dumps({**fields, "t": time.monotonic()}), flush=True)


def ready_after(sim, seconds: float) -> None:
    """The interpreter's "available" after a call goes out ``seconds`` later."""
    send = sim.signaling.send

    async def later(msg) -> None:
        await asyncio.sleep(seconds)
        await send(msg)

    async def delayed_send(msg) -> bool:
        if isinstance(msg, Presence) and msg.state == "available" and sim.stats.calls:
            sim._spawn(later(msg))
            return True
        return await send(msg)

    sim.signaling.send = delayed_send


def die_after_commit(store, state: str) -> None:
    """SIGKILL this process as soon as the session log has committed ``state`` (or ``ended``)."""
    def wrap(name: str):
        original = getattr(store, name)

        def committed(session_id, what, *args, **kwargs):
            rec = original(session_id, what, *args, **kwargs)
            if (what if name == "transition" else "ended") == state:
                say(committed=state, session_id=session_id)
                os.kill(os.getpid(), signal.SIGKILL)
            return rec
        setattr(store, name, committed)
    wrap("transition")
    wrap("end")


async def run(args) -> int:
    config = load_config(args.config)
    services = EmbeddedServices(config)
    await services.start()
    for sim in services.interpreters:
        ready_after(sim, args.ready_after)
    store = open_store(config)
    if args.die_after_commit:
        die_after_commit(store, args.die_after_commit)
    engine = CallEngine(config, store)
    try:
        closed = await engine.start()
        say(started=True, closed=[r.session_id for r in closed],
            queued=[r.session_id for r in store.pending_uploads()],
            journal=store.pragma("journal_mode"), synchronous=store.pragma("synchronous"))
        call = 0
        engine.machine.subscribe(lambda e: say(state=e.state.value, session_id=e.session_id, call=call))
        for call in range(1, args.calls + 1):
            sid = await engine.request_call()
            event = await engine.wait_for(CallState.CONNECTED, CallState.ENDED, timeout=60)
            if event.state is CallState.CONNECTED:
                await asyncio.sleep(args.talk)
                await engine.hang_up()
            say(phase="rating", session_id=sid, call=call)
            await asyncio.sleep(args.rating)
            await engine.rate(sid, 4)
            say(phase="between", session_id=sid, call=call)
            await asyncio.sleep(args.between)
        if args.drain:
            deadline = time.monotonic() + 30
            while store.pending_uploads() and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            say(drained=not store.pending_uploads())
        say(done=True)
    finally:
        await engine.stop()
        await services.stop()
        store.close()
    return 0


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("config", type=Path)
    p.add_argument("--calls", type=int, default=2)
    p.add_argument("--talk", type=float, default=0.6)
    p.add_argument("--rating", type=float, default=0.3)
    p.add_argument("--between", type=float, default=0.3)
    p.add_argument("--ready-after", type=float, default=1.2)
    p.add_argument("--die-after-commit", metavar="STATE", help="SIGKILL itself once STATE is committed")
    p.add_argument("--drain", action="store_true", help="at the end, wait until dispatch has every record")
    return asyncio.run(run(p.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
