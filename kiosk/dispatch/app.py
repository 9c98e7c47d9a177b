"""The dispatch service as an aiohttp application.

``create_app`` builds it (the WebSocket for kiosks and consoles, the console's web page and its
small JSON API), ``serve`` runs it inside another program (the demo), ``run`` on its own
(``kiosk dispatch``).

HTTP:
  GET  /                 the interpreter console (static files in ``static/``)
  POST /api/login        {"id", "password"} → {"token", "id", "name", "expires_in"}
  POST /api/logout       Bearer token
  GET  /api/config       ICE servers and timings for the console
  GET  /api/history      Bearer token → this interpreter's calls today
  GET  /healthz          numbers for monitoring
  GET  /ws               the WebSocket (see docs/protocol.md)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import ssl
import threading
import time
import weakref
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable, Optional

from aiohttp import WSCloseCode, WSMsgType, web

from kiosk import protocol
from kiosk.dispatch.accounts import PRODUCTION, Accounts, ScryptParams, new_token, token_hash
from kiosk.dispatch.hub import Connection, Hub, RoutingRules
from kiosk.dispatch.records import CentralRecords, open_central_store
from kiosk.sessions.retention import cutoff_for

log = logging.getLogger("kiosk.dispatch")

STATIC = Path(__file__).resolve().parent / "static"
CONSOLE_SESSION_S = 12 * 3600
CONSOLE_SESSIONS_FILE = "console-sessions.json"  # in data_dir: SHA-256 of tokens, id, expiry
SESSION_PREFIX = "cs_"  # console session tokens; a hello credential with it is never a password
LOGIN_FAILURES_BEFORE_LOCK = 5
MAX_LOCK_S = 30 * 60
CSP = ("default-src 'self'; connect-src 'self' ws: wss:; media-src 'self' blob:; "
       "img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'")


@dataclass(frozen=True)
class DispatchSettings:
    host: str = "127.0.0.1"
    port: int = 8765
    data_dir: Optional[Path] = None  # None: accounts and records in memory (tests)
    heartbeat_s: float = 10.0
    ring_timeout_s: float = 20.0
    wrap_up_s: float = 30.0
    # an answered call whose kiosk or interpreter link dropped waits this long for it
    resume_grace_s: float = 90.0
    resume_wait_s: float = 10.0  # … and, once back, this long to say resume
    missed_rings_to_away: int = 3
    allowed_origins: tuple[str, ...] = ()
    tls: Optional[tuple[Path, Path]] = None  # (certificate chain, key), PEM
    service_hours: object = None  # kiosk.config.ServiceHours, or None for always open
    ice_servers: tuple = ()  # handed to consoles by /api/config
    scrypt: ScryptParams = PRODUCTION
    # central records in PostgreSQL (postgresql://…) instead of SQLite in data_dir; accounts
    # stay in data_dir
    database_url: Optional[str] = field(default=None, repr=False)  # may carry a password
    # central records older than this are removed at start-up and daily; None keeps them all
    retention_years: Optional[float] = 3.0

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"


HUB = web.AppKey("hub", Hub)
SETTINGS = web.AppKey("settings", DispatchSettings)
SOCKETS = web.AppKey("sockets", weakref.WeakSet)
ACCOUNTS = web.AppKey("accounts", Accounts)
RECORDS = web.AppKey("records", CentralRecords)
GUARD = web.AppKey("guard", object)


class LoginGuard:
    """Console sessions and brute-force protection for interpreter logins.

    After ``LOGIN_FAILURES_BEFORE_LOCK`` wrong passwords for one id, that id is locked for a
    minute, doubling with each further failure up to 30 minutes. Sessions are random tokens
    kept hashed; with ``sessions_path`` (in dispatch's data folder) the hashes are also written
    to that file, so consoles come back by themselves after a restart of dispatch.
    """

    def __init__(self, accounts: Accounts, clock=time.monotonic,
                 sessions_path: Optional[Path] = None, wall_clock=time.time) -> None:
        self._accounts = accounts
        self._clock = clock
        self._wall = wall_clock  # session expiry must mean the same after a restart
        self._sessions_path = sessions_path
        self._sessions: dict[str, tuple[str, float]] = self._load_sessions()  # hash → (id, expiry)
        self._failures: dict[str, tuple[int, float]] = {}  # id → (count, locked until)

    def _load_sessions(self) -> dict[str, tuple[str, float]]:
        path = self._sessions_path
        if path is None or not path.exists():
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            now = self._wall()
            return {h: (str(i), float(e)) for h, (i, e) in data.items() if float(e) > now}
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            log.error("console sessions in %s cannot be read (%s): consoles must sign in again",
                      path, exc)
            return {}

    def _save_sessions(self) -> None:
        path = self._sessions_path
        if path is None:
            return
        now = self._wall()
        live = {h: entry for h, entry in self._sessions.items() if entry[1] > now}
        tmp = path.with_name(path.name + ".tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(live, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            log.error("console sessions cannot be saved to %s: %s", path, exc)

    def locked_for(self, interpreter_id: str) -> float:
        _, until = self._failures.get(interpreter_id, (0, 0.0))
        return max(0.0, until - self._clock())

    async def password_ok(self, interpreter_id: str, password: str) -> bool:
        if self.locked_for(interpreter_id) > 0:
            return False
        loop = asyncio.get_running_loop()
        ok = await loop.run_in_executor(None, self._accounts.check_interpreter, interpreter_id, password)
        if ok:
            self._failures.pop(interpreter_id, None)
        else:
            count = self._failures.get(interpreter_id, (0, 0.0))[0] + 1
            lock = 0.0
            if count >= LOGIN_FAILURES_BEFORE_LOCK:
                lock = min(MAX_LOCK_S, 60.0 * 2 ** (count - LOGIN_FAILURES_BEFORE_LOCK))
                log.warning("interpreter %s: %d wrong passwords, locked for %.0f s",
                            interpreter_id, count, lock)
            self._failures[interpreter_id] = (count, self._clock() + lock)
        return ok

    def open_session(self, interpreter_id: str) -> str:
        token = SESSION_PREFIX + new_token()
        self._sessions[token_hash(token)] = (interpreter_id, self._wall() + CONSOLE_SESSION_S)
        self._save_sessions()
        return token

    def session(self, token: str) -> Optional[str]:
        entry = self._sessions.get(token_hash(token))
        if entry is None:
            return None
        interpreter_id, expiry = entry
        account = self._accounts.interpreter(interpreter_id)
        if expiry < self._wall() or account is None or not account.enabled:
            self._sessions.pop(token_hash(token), None)
            self._save_sessions()
            return None
        return interpreter_id

    def close_session(self, token: str) -> None:
        if self._sessions.pop(token_hash(token), None) is not None:
            self._save_sessions()

    # the hub's Authenticator
    async def check(self, role: str, participant_id: str, credential: str) -> bool:
        if role == "kiosk":
            return self._accounts.check_kiosk(participant_id, credential)
        if credential.startswith(SESSION_PREFIX):
            # a console's session token (perhaps expired, or from before a restart of dispatch):
            # never tried as a password, so stale reconnects cannot lock the account
            return self.session(credential) == participant_id
        return await self.password_ok(participant_id, credential)


# --- the WebSocket --------------------------------------------------------------------------


def _origin_allowed(request: web.Request) -> bool:
    """Browsers send Origin on a WebSocket upgrade; only the console's own origin (and those
    configured) may connect. Kiosks are not browsers and send none."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    own = f"{request.scheme}://{request.host}"
    return origin == own or origin in request.app[SETTINGS].allowed_origins


async def _ws(request: web.Request) -> web.StreamResponse:
    if not _origin_allowed(request):
        log.warning("refused a WebSocket from origin %s", request.headers.get("Origin"))
        return web.json_response({"error": "origin not allowed"}, status=403)
    settings = request.app[SETTINGS]
    # aiohttp's own limit sits above the protocol's, so an oversized message gets a
    # protocol error reply instead of a torn-down connection.
    ws = web.WebSocketResponse(heartbeat=settings.heartbeat_s,
                               max_msg_size=4 * protocol.MAX_MESSAGE_BYTES)
    await ws.prepare(request)
    hub = request.app[HUB]
    sockets = request.app[SOCKETS]
    sockets.add(ws)
    conn = Connection(ws.send_str, ws.close)
    hub.watch_hello(conn)
    try:
        async for frame in ws:
            if frame.type is WSMsgType.TEXT:
                await hub.on_text(conn, frame.data)
            elif frame.type is WSMsgType.BINARY:
                await hub.on_binary(conn)
            elif frame.type is WSMsgType.ERROR:
                log.info("connection error: %s", ws.exception())
            if conn.closed:
                break
    finally:
        sockets.discard(ws)
        await hub.on_close(conn)
        if not ws.closed:
            await ws.close()
    return ws


# --- the console's HTTP API -----------------------------------------------------------------


def _bearer(request: web.Request) -> Optional[str]:
    auth = request.headers.get("Authorization", "")
    return auth[7:].strip() if auth.startswith("Bearer ") else None


async def _login(request: web.Request) -> web.Response:
    try:
        body = await request.json()
        interpreter_id, password = body["id"], body["password"]
        if not isinstance(interpreter_id, str) or not isinstance(password, str):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        return web.json_response({"error": "send {\"id\": ..., \"password\": ...}"}, status=400)
    guard: LoginGuard = request.app[GUARD]
    locked = guard.locked_for(interpreter_id)
    if locked > 0:
        return web.json_response({"error": "too many wrong passwords", "retry_after_s": round(locked)},
                                 status=429, headers={"Retry-After": str(round(locked))})
    if not await guard.password_ok(interpreter_id, password):
        log.info("console login refused for %r", interpreter_id)
        return web.json_response({"error": "wrong id or password"}, status=401)
    account = request.app[ACCOUNTS].interpreter(interpreter_id)
    log.info("interpreter %s logged in to the console", interpreter_id)
    return web.json_response({"token": guard.open_session(interpreter_id), "id": interpreter_id,
                              "name": account.name if account else interpreter_id,
                              "expires_in": CONSOLE_SESSION_S})


async def _logout(request: web.Request) -> web.Response:
    token = _bearer(request)
    if token:
        request.app[GUARD].close_session(token)
    return web.Response(status=204)


async def _config(request: web.Request) -> web.Response:
    token = _bearer(request)
    if token is None or request.app[GUARD].session(token) is None:
        # the ICE servers carry TURN credentials: for logged-in consoles only
        return web.json_response({"error": "log in first"}, status=401)
    settings = request.app[SETTINGS]
    servers = [{"urls": list(s.urls), **({"username": s.username} if s.username else {}),
                **({"credential": s.credential} if s.credential else {})}
               for s in settings.ice_servers]
    return web.json_response({"ice_servers": servers, "ring_timeout_s": settings.ring_timeout_s,
                              "wrap_up_s": settings.wrap_up_s})


async def _history(request: web.Request) -> web.Response:
    token = _bearer(request)
    interpreter_id = request.app[GUARD].session(token) if token else None
    if interpreter_id is None:
        return web.json_response({"error": "log in first"}, status=401)
    local_midnight = datetime.now().astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
    calls = request.app[RECORDS].interpreter_history(interpreter_id, local_midnight.timestamp())
    return web.json_response({"calls": calls})


async def _healthz(request: web.Request) -> web.Response:
    return web.json_response(request.app[HUB].health())


async def _index(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "index.html")


@web.middleware
async def _security_headers(request: web.Request, handler):
    response = await handler(request)
    if not isinstance(response, web.WebSocketResponse) and response.prepared is False:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if request.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
    return response


async def _close_sockets(app: web.Application) -> None:
    for ws in list(app[SOCKETS]):
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"dispatch shutting down")


async def _stores(app: web.Application):
    """Accounts and central records stay open for the app's lifetime."""
    yield
    await app[HUB].shutdown()
    app[RECORDS].close()
    app[ACCOUNTS].close()


RETENTION_INTERVAL_S = 24 * 3600.0


def apply_retention(records: CentralRecords, retention_years: float, now: float,
                    stop: Optional[Callable[[], bool]] = None) -> int:
    """Remove the central records older than ``retention_years`` (in batches; the report
    summaries follow). The log says how many, never what they were."""
    try:
        removed = records.remove_older_than(cutoff_for(retention_years, now), stop=stop)
    except Exception:
        log.exception("could not remove old central session records")
        return 0
    if removed:
        log.info("removed %d central session record(s) older than %g years", removed, retention_years)
    return removed


async def _retention(app: web.Application):
    """Retention at start-up and then daily, in a worker thread (a batch at a time holds the
    records), stopped with the app: the batch under way ends before the records close."""
    years = app[SETTINGS].retention_years
    stopping = threading.Event()
    running: list[asyncio.Future] = []

    async def daily() -> None:
        while True:
            job = asyncio.ensure_future(asyncio.to_thread(
                apply_retention, app[RECORDS], years, time.time(), stopping.is_set))
            running[:] = [job]
            await asyncio.shield(job)
            running.clear()
            await asyncio.sleep(RETENTION_INTERVAL_S)

    task = asyncio.create_task(daily()) if years else None
    yield
    if task is not None:
        stopping.set()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        for job in running:
            await job


def _rules(settings: DispatchSettings) -> RoutingRules:
    hours = settings.service_hours
    common = dict(resume_grace_s=settings.resume_grace_s, resume_wait_s=settings.resume_wait_s)
    if hours is None:
        return RoutingRules(settings.ring_timeout_s, settings.wrap_up_s, settings.missed_rings_to_away,
                            **common)

    def next_opening(at: datetime) -> Optional[str]:
        opening = hours.next_opening(at)
        return opening.isoformat(timespec="minutes") if opening else None

    return RoutingRules(settings.ring_timeout_s, settings.wrap_up_s, settings.missed_rings_to_away,
                        is_open=hours.is_open, next_opening=next_opening, **common)


def open_accounts(settings: DispatchSettings) -> Accounts:
    path = settings.data_dir / "accounts.sqlite3" if settings.data_dir else ":memory:"
    return Accounts(path, settings.scrypt)


def open_records(settings: DispatchSettings) -> CentralRecords:
    """PostgreSQL when ``database_url`` is set, else SQLite in ``data_dir`` (or in memory).
    The report summaries are kept in the local days of the service hours' time zone, the zone
    the reports are asked in."""
    records = open_central_store(
        database_url=settings.database_url,
        path=settings.data_dir / "central.sqlite3" if settings.data_dir else ":memory:")
    hours = settings.service_hours
    if hours is not None:
        try:
            if records.set_report_zone(hours.timezone):
                log.info("report summaries rebuilt for the time zone %s", hours.timezone)
        except BaseException:
            records.close()
            raise
    return records


def create_app(settings: DispatchSettings = DispatchSettings(), *,
               accounts: Optional[Accounts] = None) -> web.Application:
    # aiohttp rounds timers over 5 s to whole seconds: thousands of kiosks that reconnected
    # together would then all be pinged in the same loop pass (measured: stalls of ~100 ms
    # every heartbeat at 2,000 kiosks, bench/dispatch_load.py). Unrounded, the pings stay
    # spread over the moments the kiosks connected.
    app = web.Application(middlewares=[_security_headers], client_max_size=256 * 1024,
                          handler_args={"timeout_ceil_threshold": 3600})
    app[SETTINGS] = settings
    app[ACCOUNTS] = accounts or open_accounts(settings)
    try:
        app[RECORDS] = open_records(settings)
    except BaseException:
        if accounts is None:
            app[ACCOUNTS].close()
        raise
    sessions = settings.data_dir / CONSOLE_SESSIONS_FILE if settings.data_dir else None
    guard = LoginGuard(app[ACCOUNTS], sessions_path=sessions)
    app[GUARD] = guard
    app[HUB] = Hub(guard, _rules(settings), records=app[RECORDS])
    app[SOCKETS] = weakref.WeakSet()
    app.router.add_get("/ws", _ws)
    app.router.add_get("/healthz", _healthz)
    app.router.add_post("/api/login", _login)
    app.router.add_post("/api/logout", _logout)
    app.router.add_get("/api/config", _config)
    app.router.add_get("/api/history", _history)
    if STATIC.is_dir():
        app.router.add_get("/", _index)
        app.router.add_static("/static/", STATIC, follow_symlinks=False)
    app.on_shutdown.append(_close_sockets)
    app.cleanup_ctx.append(_stores)
    app.cleanup_ctx.append(_retention)  # cleaned up first: stopped before the records close
    return app


def ssl_context(settings: DispatchSettings) -> Optional[ssl.SSLContext]:
    if not settings.tls:
        return None
    cert, key = settings.tls
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(str(cert), str(key))
    except (OSError, ssl.SSLError) as exc:
        raise OSError(f"dispatch cannot use the TLS certificate {cert} / key {key}: {exc}") from exc
    return context


class RunningDispatch:
    def __init__(self, runner: web.AppRunner, app: web.Application) -> None:
        self._runner = runner
        self.app = app

    @property
    def hub(self) -> Hub:
        return self.app[HUB]

    @property
    def accounts(self) -> Accounts:
        return self.app[ACCOUNTS]

    @property
    def records(self) -> CentralRecords:
        return self.app[RECORDS]

    async def stop(self) -> None:
        await self._runner.cleanup()


async def serve(settings: DispatchSettings, *, accounts: Optional[Accounts] = None) -> RunningDispatch:
    app = create_app(settings, accounts=accounts)
    runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port, ssl_context=ssl_context(settings))
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise OSError(f"dispatch cannot listen on {settings.host}:{settings.port}: {exc.strerror}") from exc
    scheme = "wss" if settings.tls else "ws"
    log.info("dispatch listening on %s://%s:%d/ws", scheme, settings.host, settings.port)
    return RunningDispatch(runner, app)


def run(settings: DispatchSettings) -> None:
    web.run_app(create_app(settings), host=settings.host, port=settings.port, access_log=None,
                ssl_context=ssl_context(settings), print=lambda s: log.info("%s", s))
