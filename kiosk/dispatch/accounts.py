"""Who may connect to dispatch: kiosks with their own tokens, interpreters with passwords.

Kept in dispatch's own SQLite database. Nothing secret is stored in the clear:

- interpreter passwords (chosen by people, so guessable) are stored as scrypt hashes with
  N=2^17, r=8, p=1 (OWASP's figure); checking one costs ~0.3 s and 128 MiB, so it runs in a
  worker thread and never blocks the dispatch loop;
- kiosk tokens and console session tokens are 256-bit random secrets made here, so a single
  SHA-256 is enough to store them (nothing to brute-force) and checking is cheap enough for
  thousands of kiosks reconnecting at once.

Comparisons are constant-time. A disabled account can no longer log in; its history stays.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from kiosk.sessions.sqlite import open_database

ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
MIN_PASSWORD = 8


@dataclass(frozen=True)
class ScryptParams:
    n: int = 2 ** 17
    r: int = 8
    p: int = 1

    @property
    def maxmem(self) -> int:
        return 128 * self.n * self.r * self.p + 16 * 1024 * 1024


PRODUCTION = ScryptParams()


class AccountError(ValueError):
    """A request about an account that cannot be carried out; ``str()`` is for a person."""


def hash_password(password: str, params: ScryptParams = PRODUCTION) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=params.n, r=params.r,
                            p=params.p, maxmem=params.maxmem, dklen=32)
    return "$".join(("scrypt", str(params.n), str(params.r), str(params.p),
                     base64.b64encode(salt).decode(), base64.b64encode(digest).decode()))


def verify_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        params = ScryptParams(int(n), int(r), int(p))
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), n=params.n,
                             r=params.r, p=params.p, maxmem=params.maxmem, dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Interpreter:
    id: str
    name: str
    enabled: bool
    created_at: float


@dataclass(frozen=True)
class KioskAccount:
    id: str
    location: str
    enabled: bool
    created_at: float


def _check_id(kind: str, value: str) -> None:
    if not isinstance(value, str) or not ID_PATTERN.match(value):
        raise AccountError(f"{kind} id must be 1-64 letters, digits, '.', '_' or '-', not {value!r}")


class Accounts:
    """Interpreter and kiosk accounts in ``path`` (SQLite). Use from one thread at a time."""

    def __init__(self, path: Path | str, params: ScryptParams = PRODUCTION) -> None:
        self.params = params
        # checked from worker threads too (scrypt runs off the dispatch loop)
        self._db = open_database(path, any_thread=True)
        self._db.executescript("""
            CREATE TABLE IF NOT EXISTS interpreters (
                id            TEXT PRIMARY KEY,
                name          TEXT NOT NULL,
                password_hash TEXT NOT NULL,
                enabled       INTEGER NOT NULL DEFAULT 1,
                created_at    REAL NOT NULL
            );
            CREATE TABLE IF NOT EXISTS kiosks (
                id          TEXT PRIMARY KEY,
                location    TEXT NOT NULL,
                token_hash  TEXT NOT NULL,
                enabled     INTEGER NOT NULL DEFAULT 1,
                created_at  REAL NOT NULL
            );
        """)

    def close(self) -> None:
        self._db.close()

    def _dummy_hash(self) -> str:
        if not hasattr(self, "_dummy"):
            self._dummy = hash_password(new_token(), self.params)
        return self._dummy

    # --- interpreters ---------------------------------------------------------------------

    def add_interpreter(self, interpreter_id: str, password: str, name: Optional[str] = None) -> None:
        _check_id("interpreter", interpreter_id)
        if len(password) < MIN_PASSWORD:
            raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")
        if self.interpreter(interpreter_id) is not None:
            raise AccountError(f"interpreter {interpreter_id} already exists")
        self._db.execute(
            "INSERT INTO interpreters (id, name, password_hash, created_at) VALUES (?, ?, ?, ?)",
            (interpreter_id, name or interpreter_id, hash_password(password, self.params), time.time()))

    def set_password(self, interpreter_id: str, password: str) -> None:
        if len(password) < MIN_PASSWORD:
            raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")
        self._require("interpreters", interpreter_id)
        self._db.execute("UPDATE interpreters SET password_hash = ? WHERE id = ?",
                         (hash_password(password, self.params), interpreter_id))

    def set_interpreter_enabled(self, interpreter_id: str, enabled: bool) -> None:
        self._require("interpreters", interpreter_id)
        self._db.execute("UPDATE interpreters SET enabled = ? WHERE id = ?", (int(enabled), interpreter_id))

    def interpreter(self, interpreter_id: str) -> Optional[Interpreter]:
        row = self._db.execute("SELECT id, name, enabled, created_at FROM interpreters WHERE id = ?",
                               (interpreter_id,)).fetchone()
        return Interpreter(row[0], row[1], bool(row[2]), row[3]) if row else None

    def interpreters(self) -> list[Interpreter]:
        rows = self._db.execute("SELECT id, name, enabled, created_at FROM interpreters ORDER BY id")
        return [Interpreter(r[0], r[1], bool(r[2]), r[3]) for r in rows]

    def check_interpreter(self, interpreter_id: str, password: str) -> bool:
        """Slow on purpose (scrypt): call it from a worker thread."""
        row = self._db.execute("SELECT password_hash, enabled FROM interpreters WHERE id = ?",
                               (interpreter_id,)).fetchone()
        if row is None:
            # spend the same time as for a real account, so timing does not tell which ids exist
            verify_password(password, self._dummy_hash())
            return False
        return verify_password(password, row[0]) and bool(row[1])

    # --- kiosks ---------------------------------------------------------------------------

    def add_kiosk(self, kiosk_id: str, location: str = "", token: Optional[str] = None) -> str:
        """Register a kiosk; returns its token (made here unless given)."""
        _check_id("kiosk", kiosk_id)
        if self.kiosk(kiosk_id) is not None:
            raise AccountError(f"kiosk {kiosk_id} already exists")
        token = token or new_token()
        self._db.execute("INSERT INTO kiosks (id, location, token_hash, created_at) VALUES (?, ?, ?, ?)",
                         (kiosk_id, location, token_hash(token), time.time()))
        return token

    def set_kiosk_token(self, kiosk_id: str, token: str) -> None:
        self._require("kiosks", kiosk_id)
        self._db.execute("UPDATE kiosks SET token_hash = ? WHERE id = ?", (token_hash(token), kiosk_id))

    def new_kiosk_token(self, kiosk_id: str) -> str:
        self._require("kiosks", kiosk_id)
        token = new_token()
        self._db.execute("UPDATE kiosks SET token_hash = ? WHERE id = ?", (token_hash(token), kiosk_id))
        return token

    def set_kiosk_enabled(self, kiosk_id: str, enabled: bool) -> None:
        self._require("kiosks", kiosk_id)
        self._db.execute("UPDATE kiosks SET enabled = ? WHERE id = ?", (int(enabled), kiosk_id))

    def kiosk(self, kiosk_id: str) -> Optional[KioskAccount]:
        row = self._db.execute("SELECT id, location, enabled, created_at FROM kiosks WHERE id = ?",
                               (kiosk_id,)).fetchone()
        return KioskAccount(row[0], row[1], bool(row[2]), row[3]) if row else None

    def kiosks(self) -> list[KioskAccount]:
        rows = self._db.execute("SELECT id, location, enabled, created_at FROM kiosks ORDER BY id")
        return [KioskAccount(r[0], r[1], bool(r[2]), r[3]) for r in rows]

    def check_kiosk(self, kiosk_id: str, token: str) -> bool:
        row = self._db.execute("SELECT token_hash, enabled FROM kiosks WHERE id = ?",
                               (kiosk_id,)).fetchone()
        if row is None:
            return False
        return hmac.compare_digest(row[0], token_hash(token)) and bool(row[1])

    def _require(self, table: str, account_id: str) -> None:
        if self._db.execute(f"SELECT 1 FROM {table} WHERE id = ?", (account_id,)).fetchone() is None:
            raise AccountError(f"no {table[:-1]} {account_id}")
