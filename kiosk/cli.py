"""The ``kiosk`` command.

  kiosk demo        the kiosk window with embedded dispatch and a simulated interpreter
  kiosk demo --headless --calls 3   real calls without a screen; prints the session records
  kiosk run         the kiosk in kiosk mode (full screen, cannot be closed; leave through the
                    admin area) against the dispatch service in config.yaml
  kiosk dispatch    the dispatch service
  kiosk simulate    simulated interpreters logged in to a dispatch service
  kiosk accounts    add, disable and list interpreter and kiosk accounts of dispatch
  kiosk log         the newest session records
  kiosk report --from 2025-06-01 --to 2025-06-30 --format csv|xlsx|md [--out FILE] [--central]
                    figures of a period, by day, category and kiosk
  kiosk check-config
  kiosk devices     the cameras, microphones and speakers this machine has
  kiosk set-pin     the PIN of the admin area

The configuration is loaded and checked completely before anything starts: a broken file
stops the command with a message naming the line and the key, and no window opens.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import os
import sys
from pathlib import Path
from typing import Optional

from kiosk import __version__
from kiosk.config import Config, ConfigError, load_config

EXIT_CONFIG = 2


def _default_config() -> Path:
    env = os.environ.get("KIOSK_CONFIG")
    if env:
        return Path(env)
    return Path("config.yaml")


def _load(args) -> Config:
    config = load_config(args.config or _default_config())
    if getattr(args, "data_dir", None):
        kiosk_cfg = dataclasses.replace(config.kiosk, data_dir=str(Path(args.data_dir).resolve()))
        config = dataclasses.replace(config, kiosk=kiosk_cfg)
    return config


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    for noisy in ("aioice", "aiortc", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kiosk", description="Counter kiosk for remote sign-language interpreting")
    p.add_argument("--version", action="version", version=f"kiosk {__version__}")
    p.add_argument("-v", "--verbose", action="store_true")
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp):
        sp.add_argument("--config", type=Path, help="configuration file (default: ./config.yaml or $KIOSK_CONFIG)")
        return sp

    demo = common(sub.add_parser("demo", help="kiosk with embedded dispatch and simulated interpreter"))
    demo.add_argument("--headless", action="store_true", help="no window: place calls and print the records")
    demo.add_argument("--calls", type=int, default=3)
    demo.add_argument("--call-seconds", type=float, default=3.0)
    demo.add_argument("--data-dir", help="where the session log is kept (overrides the configuration)")
    demo.add_argument("--windowed", action="store_true", help="a normal window instead of full screen")
    demo.add_argument("--kiosk", action="store_true",
                      help="kiosk mode as `kiosk run` has it: no closing, leave via the admin area")
    demo.add_argument("--screenshot", type=Path, help="save the window to this PNG after start-up and quit")
    demo.add_argument("--device-check", action="store_true",
                      help="open on the technicians' device check screen")

    run = common(sub.add_parser("run", help="the kiosk against the configured dispatch service"))
    run.add_argument("--data-dir")
    run.add_argument("--windowed", action="store_true",
                     help="a normal window that closes normally, not kiosk mode (for setting up)")
    run.add_argument("--device-check", action="store_true",
                     help="open on the technicians' device check screen")
    run.add_argument("--standby", action="store_true",
                     help="load everything, then wait for a line on standard input before starting "
                          "(scripts/kiosk_supervisor.py keeps one ready for a fast restart)")

    disp = common(sub.add_parser("dispatch", help="run the dispatch service"))
    disp.add_argument("--host")
    disp.add_argument("--port", type=int)

    sim = common(sub.add_parser("simulate", help="simulated interpreters for a dispatch service"))
    sim.add_argument("--url", help="dispatch WebSocket URL (default: dispatch.url from the configuration)")
    sim.add_argument("--count", type=int, default=1)
    sim.add_argument("--password", default=None,
                     help="password of the accounts sim-interpreter-1 … (default: the demo's)")

    acc = common(sub.add_parser("accounts", help="interpreter and kiosk accounts of the dispatch service"))
    acc.add_argument("action", choices=["list", "add-interpreter", "set-password", "disable-interpreter",
                                        "enable-interpreter", "add-kiosk", "new-kiosk-token",
                                        "disable-kiosk", "enable-kiosk"])
    acc.add_argument("id", nargs="?", help="interpreter or kiosk id")
    acc.add_argument("--name", help="interpreter's display name")
    acc.add_argument("--location", default="", help="kiosk's location, shown to interpreters")
    acc.add_argument("--password-stdin", action="store_true",
                     help="read the password from standard input instead of asking for it")

    log_ = common(sub.add_parser("log", help="print the newest session records as JSON lines"))
    log_.add_argument("--limit", type=int, default=20)
    log_.add_argument("--data-dir")

    rep = common(sub.add_parser(
        "report", help="figures of a period: sessions, answer speed, talk time, ratings",
        description="Figures of the finished sessions tapped from --from to --to (both dates"
                    " inclusive, in service_hours.timezone), for the period and by day, category"
                    " and kiosk. Reads this kiosk's session log, or with --central dispatch's"
                    " central records (server.database_url, else central.sqlite3 in the"
                    " dispatch data folder)."))
    rep.add_argument("--from", dest="from_date", type=_report_date, required=True, metavar="YYYY-MM-DD")
    rep.add_argument("--to", dest="to_date", type=_report_date, required=True, metavar="YYYY-MM-DD")
    rep.add_argument("--format", choices=["csv", "xlsx", "md"], default="csv")
    rep.add_argument("--out", type=Path, help="write to this file (needed for xlsx; default: standard output)")
    rep.add_argument("--central", action="store_true", help="dispatch's central records instead of this kiosk's log")
    rep.add_argument("--data-dir", help="where the session log is kept (overrides the configuration)")

    common(sub.add_parser("check-config", help="check the configuration and print it"))
    common(sub.add_parser("devices", help="list the cameras, microphones and speakers this machine has"))
    pin = common(sub.add_parser("set-pin", help="set the PIN of the kiosk's admin area"))
    pin.add_argument("--data-dir")
    pin.add_argument("--pin-stdin", action="store_true", help="read the PIN from standard input")
    return p


def main(argv: Optional[list[str]] = None) -> int:
    args = _parser().parse_args(argv)
    _setup_logging(args.verbose)
    try:
        config = _load(args)
    except ConfigError as exc:
        print(f"kiosk: cannot start: {exc}", file=sys.stderr)
        logging.getLogger("kiosk").error("configuration refused: %s", exc)
        return EXIT_CONFIG
    try:
        return _COMMANDS[args.command](config, args)
    except (OSError, ValueError) as exc:  # a port in use, an unreadable certificate, …
        print(f"kiosk: cannot start: {exc}", file=sys.stderr)
        logging.getLogger("kiosk").exception("start-up failed")
        return 1


def _cmd_demo(config: Config, args) -> int:
    if args.headless:
        from kiosk.demo import headless_demo

        records = asyncio.run(headless_demo(config, calls=args.calls, call_seconds=args.call_seconds))
        return 0 if len(records) == args.calls else 1
    from kiosk.ui.app import run_kiosk

    return run_kiosk(config, embedded_services=True, windowed=args.windowed, screenshot=args.screenshot,
                     device_check=args.device_check, kiosk_mode=args.kiosk)


def _cmd_run(config: Config, args) -> int:
    if args.standby:
        from kiosk.ui.app import wait_as_standby

        if not wait_as_standby():
            return 0
    from kiosk.ui.app import run_kiosk

    return run_kiosk(config, embedded_services=config.dispatch.embedded, windowed=args.windowed,
                     device_check=args.device_check, kiosk_mode=not args.windowed)


def _cmd_dispatch(config: Config, args) -> int:
    from kiosk.demo import dispatch_settings
    from kiosk.dispatch import run

    settings = dispatch_settings(config)
    changes = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    run(dataclasses.replace(settings, **changes))
    return 0


def _cmd_simulate(config: Config, args) -> int:
    from kiosk.call.simulator import SimulatedInterpreter

    async def main_() -> None:
        from kiosk.demo import SIM_PASSWORD

        sims = [SimulatedInterpreter(args.url or config.dispatch.url, f"sim-interpreter-{i + 1}",
                                     args.password or SIM_PASSWORD,
                                     answer_delay_s=config.simulator.answer_delay_s,
                                     ice_servers=config.ice_servers, width=config.video.width,
                                     height=config.video.height, fps=config.video.fps)
                for i in range(args.count)]
        for s in sims:
            s.start()
        try:
            await asyncio.Event().wait()
        finally:
            for s in sims:
                await s.stop()

    try:
        asyncio.run(main_())
    except KeyboardInterrupt:
        pass
    return 0


def _read_password(args) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    import getpass

    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise ValueError("the two passwords differ")
    return first


def _cmd_accounts(config: Config, args) -> int:
    from kiosk.demo import dispatch_settings
    from kiosk.dispatch.accounts import AccountError
    from kiosk.dispatch.app import open_accounts

    accounts = open_accounts(dispatch_settings(config))
    try:
        if args.action == "list":
            for i in accounts.interpreters():
                print(f"interpreter {i.id}\t{i.name}\t{'enabled' if i.enabled else 'disabled'}")
            for k in accounts.kiosks():
                print(f"kiosk {k.id}\t{k.location}\t{'enabled' if k.enabled else 'disabled'}")
            return 0
        if not args.id:
            raise AccountError(f"{args.action} needs an id")
        if args.action == "add-interpreter":
            accounts.add_interpreter(args.id, _read_password(args), name=args.name)
        elif args.action == "set-password":
            accounts.set_password(args.id, _read_password(args))
        elif args.action in ("disable-interpreter", "enable-interpreter"):
            accounts.set_interpreter_enabled(args.id, args.action.startswith("enable"))
        elif args.action == "add-kiosk":
            print(f"token for kiosk {args.id} (put it in that kiosk's config.yaml as dispatch.token):")
            print(accounts.add_kiosk(args.id, args.location))
        elif args.action == "new-kiosk-token":
            print(accounts.new_kiosk_token(args.id))
        else:
            accounts.set_kiosk_enabled(args.id, args.action.startswith("enable"))
        print(f"{args.action} {args.id}: done", file=sys.stderr)
        return 0
    except (AccountError, ValueError) as exc:
        print(f"kiosk accounts: {exc}", file=sys.stderr)
        return 1
    finally:
        accounts.close()


def _cmd_log(config: Config, args) -> int:
    from kiosk.demo import open_store

    with open_store(config) as store:
        for rec in store.list_sessions(limit=args.limit):
            print(json.dumps(rec.to_dict(), ensure_ascii=False))
    return 0


def _report_date(text: str):
    import re
    from datetime import date

    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date like 2025-06-30, got {text!r}") from None


class _ReportError(Exception):
    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def _cmd_report(config: Config, args) -> int:
    from kiosk.sessions.reports import period_for_dates, to_csv, to_markdown, to_xlsx

    try:
        if args.to_date < args.from_date:
            raise _ReportError(f"--to {args.to_date} is before --from {args.from_date}", 2)
        if args.format == "xlsx" and args.out is None:
            raise _ReportError("--format xlsx needs --out FILE (a workbook is not written to the terminal)", 2)
        if args.out is not None and not args.out.parent.is_dir():
            raise _ReportError(f"cannot write {args.out}: the folder {args.out.parent} does not exist")
        tz = config.service_hours.timezone
        start, end = period_for_dates(args.from_date, args.to_date, tz)
        report = (_central_report if args.central else _kiosk_report)(config, start, end, tz)
        try:
            if args.format == "xlsx":
                to_xlsx(report, args.out)
            else:
                text = to_csv(report) if args.format == "csv" else to_markdown(report)
                if args.out is None:
                    sys.stdout.buffer.write(text.encode("utf-8"))
                    sys.stdout.flush()
                else:
                    with open(args.out, "w", encoding="utf-8", newline="") as f:
                        f.write(text)
        except OSError as exc:
            raise _ReportError(f"cannot write {args.out or 'the report'}: {exc.strerror or exc}") from None
    except _ReportError as exc:
        print(f"kiosk report: {exc}", file=sys.stderr)
        return exc.code
    print(f"report {report.period.label} ({tz}): {report.totals.sessions} sessions"
          + (f" -> {args.out}" if args.out else ""), file=sys.stderr)
    return 0


def _kiosk_report(config: Config, start: float, end: float, tz: str):
    """The report from this kiosk's own session log (which it does not create)."""
    import sqlite3

    from kiosk.demo import SESSION_DB, open_store
    from kiosk.sessions.reports import build_report
    from kiosk.sessions.store import StoreError

    path = config.data_path / SESSION_DB
    if not path.is_file():
        raise _ReportError(f"no session log at {path} (check kiosk.data_dir or --data-dir)")
    try:
        with open_store(config) as store:
            return build_report(store.connection, start, end, tz=tz)
    except (sqlite3.Error, StoreError) as exc:  # a damaged file, a newer kiosk's schema
        raise _ReportError(f"cannot read the session log {path}: {exc}") from None


def _central_report(config: Config, start: float, end: float, tz: str):
    """The report from dispatch's central records, only read: PostgreSQL at
    server.database_url, else central.sqlite3 in the dispatch data folder."""
    from kiosk.sessions.reports import build_report

    url = config.server.database_url
    if url:
        import psycopg

        from kiosk.dispatch.records import describe_url

        try:
            with psycopg.connect(url, autocommit=True, connect_timeout=10) as db:
                return build_report(db, start, end, tz=tz, dialect="postgresql")
        except psycopg.Error as exc:
            raise _ReportError(f"cannot read the central records at {describe_url(url)}:"
                               f" {str(exc).strip()}") from None
    import sqlite3

    path = config.dispatch_data_path / "central.sqlite3"
    if not path.is_file():
        raise _ReportError(f"no central records at {path} (check server.data_dir)")
    db = sqlite3.connect(str(path), timeout=10)
    try:
        db.execute("PRAGMA query_only = ON")
        return build_report(db, start, end, tz=tz)
    except sqlite3.Error as exc:
        raise _ReportError(f"cannot read the central records at {path}: {exc}") from None
    finally:
        db.close()


def _cmd_set_pin(config: Config, args) -> int:
    from kiosk.sessions.pin import PIN_FILE, PinError, PinStore

    if args.pin_stdin:
        pin = sys.stdin.readline().strip()
    else:
        import getpass

        pin = getpass.getpass("new admin PIN (4-12 digits): ")
        if getpass.getpass("again: ") != pin:
            print("kiosk set-pin: the two PINs differ", file=sys.stderr)
            return 1
    try:
        PinStore(config.data_path / PIN_FILE).set_pin(pin)
    except PinError as exc:
        print(f"kiosk set-pin: {exc}", file=sys.stderr)
        return 1
    print(f"admin PIN set (stored as a salted scrypt hash in {config.data_path / PIN_FILE})")
    return 0


def _cmd_devices(config: Config, args) -> int:
    from kiosk.call.audio import AudioUnavailable, list_devices
    from kiosk.call.camera import list_cameras

    cameras = list_cameras()
    print("cameras (video.camera):" if cameras else "cameras: none found")
    for cam in cameras:
        print(f"  {cam.name}\t{cam.device}")
    try:
        devices = list_devices()
    except AudioUnavailable as exc:
        print(f"audio: {exc}")
        return 0
    for kind, label in (("input", "microphones (audio.input)"), ("output", "speakers (audio.output)")):
        found = [d for d in devices if d.channels(kind) > 0]
        print(f"{label}:" if found else f"{label.split()[0]}: none found")
        for d in found:
            print(f"  {d.index}: {d.name}")
    return 0


def _cmd_check_config(config: Config, args) -> int:
    print(f"configuration ok: {config.source}")
    print(f"kiosk {config.kiosk.id} at {config.kiosk.location}; dispatch {config.dispatch.url}"
          f"{' (embedded)' if config.dispatch.embedded else ''}; session log in {config.data_path}")
    return 0


_COMMANDS = {
    "demo": _cmd_demo,
    "run": _cmd_run,
    "dispatch": _cmd_dispatch,
    "simulate": _cmd_simulate,
    "accounts": _cmd_accounts,
    "log": _cmd_log,
    "report": _cmd_report,
    "check-config": _cmd_check_config,
    "devices": _cmd_devices,
    "set-pin": _cmd_set_pin,
}

if __name__ == "__main__":
    sys.exit(main())
