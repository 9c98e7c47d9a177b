"""The admin PIN: a salted scrypt hash on disk, never the PIN, and a lockout that survives a restart.

The file (JSON, ``PIN_FILE`` in the kiosk's data folder) holds the hash parameters, the salt,
the hash, the count of wrong PINs in a row and the wall-clock time until which the pad is
locked. It is replaced atomically (a temporary file, fsync, rename) at every change, so a power
cut leaves the old or the new state, never half of one.

Lockout (OWASP): the first ``FREE_FAILURES`` wrong PINs cost nothing; each one after that locks
the pad for ``FIRST_LOCK_S``, doubling per further failure up to ``MAX_LOCK_S``. The lock-until
time is wall-clock time, so a reboot does not lift it; a clock set backwards cannot stretch it
beyond ``MAX_LOCK_S``. A failure is written *before* the slow hash is computed and taken back
only when the PIN was right, so cutting the power during a check does not reset the count.

Hashing: scrypt N=2^17, r=8, p=1 (OWASP's recommendation), about 128 MiB and a few tenths of a
second; run ``check`` and ``set_pin`` off the GUI thread. No Qt here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

log = logging.getLogger("kiosk.sessions.pin")

PIN_FILE = "admin-pin.json"  # in the kiosk's data folder (Config.data_path)
PIN_PATTERN = re.compile(r"[0-9]{4,12}")  # ASCII digits only: the pad has no others
FREE_FAILURES = 4  # wrong PINs in a row before the first lock (the 5th locks)
FIRST_LOCK_S = 60.0
MAX_LOCK_S = 30 * 60.0

# OWASP password storage cheat sheet: scrypt N=2^17, r=8, p=1
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 17, 8, 1
SALT_BYTES = 16
HASH_BYTES = 32
_FORMAT = 1
# A file's own parameters are used to verify it, within these bounds (a damaged or planted
# file must not make the kiosk spend gigabytes or minutes on one check).
_MAX_N, _MAX_R, _MAX_P = 2 ** 20, 32, 16


class PinError(ValueError):
    """Not a PIN this store accepts (4 to 12 digits)."""


@dataclass(frozen=True)
class CheckResult:
    ok: bool  # the PIN was right
    locked_for_s: float  # seconds until the next PIN can be tried (0: not locked)
    failures: int  # wrong PINs in a row, this one included (0 after a right one)

    @property
    def locked(self) -> bool:
        return self.locked_for_s > 0


def lock_seconds(failures: int) -> float:
    """How long the pad stays locked after ``failures`` wrong PINs in a row."""
    if failures <= FREE_FAILURES:
        return 0.0
    return min(MAX_LOCK_S, FIRST_LOCK_S * 2 ** min(failures - FREE_FAILURES - 1, 16))


def _scrypt_maxmem(n: int, r: int, p: int) -> int:
    # OpenSSL needs 128·r·(N + 2) for V plus 128·r·p for B; hashlib's default cap is 32 MiB
    return 128 * r * (n + 2) + 128 * r * p + (1 << 20)


def _hash(pin: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(pin.encode("ascii"), salt=salt, n=n, r=r, p=p,
                          maxmem=_scrypt_maxmem(n, r, p), dklen=HASH_BYTES)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class PinStore:
    """The admin PIN of one kiosk, in the file at ``path``.

    ``n``, ``r``, ``p`` are the scrypt parameters used for a new PIN (tests may pass lighter
    ones); a stored PIN is verified with the parameters stored beside it, and re-hashed with
    the store's own after a right PIN if they were weaker. Safe to use from several threads.
    """

    def __init__(self, path: Path | str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P,
                 clock: Callable[[], float] = time.time) -> None:
        if n < 2 or n & (n - 1) or n > _MAX_N or not 1 <= r <= _MAX_R or not 1 <= p <= _MAX_P:
            raise ValueError(f"unusable scrypt parameters N={n} r={r} p={p}")
        self.path = Path(path)
        self._params = (n, r, p)
        self._clock = clock  # wall-clock time: a lock must outlast a reboot
        self._lock = threading.Lock()

    # --- reading ----------------------------------------------------------------------------

    def _load(self) -> Optional[dict]:
        """The stored state; None when there is no PIN (or the file cannot be used: logged)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.error("the admin PIN file %s cannot be read: %s", self.path, exc)
            return None
        try:
            data = json.loads(text)
            n, r, p = int(data["n"]), int(data["r"]), int(data["p"])
            salt = base64.b64decode(data["salt"], validate=True)
            digest = base64.b64decode(data["hash"], validate=True)
            failures = int(data.get("failures", 0))
            locked_until = float(data.get("locked_until", 0.0))
            if (data.get("format") != _FORMAT or data.get("kdf") != "scrypt" or n < 2 or n & (n - 1)
                    or n > _MAX_N or not 1 <= r <= _MAX_R or not 1 <= p <= _MAX_P
                    or len(salt) < 8 or len(digest) != HASH_BYTES or failures < 0):
                raise ValueError("unexpected values")
        except (ValueError, KeyError, TypeError) as exc:
            log.error("the admin PIN file %s is damaged (%s): set the PIN again", self.path, exc)
            return None
        return {"format": _FORMAT, "kdf": "scrypt", "n": n, "r": r, "p": p, "salt": data["salt"],
                "hash": data["hash"], "failures": failures, "locked_until": locked_until}

    def _remaining(self, state: dict) -> float:
        left = state["locked_until"] - self._clock()
        if left <= 0:
            return 0.0
        # a clock set backwards cannot lock the pad for longer than the longest lock
        return min(left, lock_seconds(state["failures"]) or MAX_LOCK_S, MAX_LOCK_S)

    def has_pin(self) -> bool:
        return self._load() is not None

    def status(self) -> CheckResult:
        """Whether the pad is locked now and how many wrong PINs came in a row, without a
        PIN (``ok`` is always False). Cheap: no hashing."""
        with self._lock:
            state = self._load()
            if state is None:
                return CheckResult(False, 0.0, 0)
            return CheckResult(False, self._remaining(state), state["failures"])

    # --- writing ----------------------------------------------------------------------------

    def _save(self, state: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=self.path.name + ".", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(state, f, sort_keys=True)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        try:  # the rename itself on disk
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(dir_fd)
        except OSError:
            pass
        finally:
            os.close(dir_fd)

    def _new_state(self, pin: str) -> dict:
        n, r, p = self._params
        salt = secrets.token_bytes(SALT_BYTES)
        return {"format": _FORMAT, "kdf": "scrypt", "n": n, "r": r, "p": p, "salt": _b64(salt),
                "hash": _b64(_hash(pin, salt, n, r, p)), "failures": 0, "locked_until": 0.0}

    def set_pin(self, pin: str) -> None:
        """Store a new PIN (4 to 12 digits), with a new salt; clears the failure count and any
        lock. Raises ``PinError`` for anything else. Slow (the hash)."""
        if not isinstance(pin, str) or not PIN_PATTERN.fullmatch(pin):
            raise PinError("the PIN must be 4 to 12 digits")
        state = self._new_state(pin)
        with self._lock:
            self._save(state)
        log.info("admin PIN set in %s", self.path)

    def clear(self) -> None:
        """Remove the PIN (the admin area then cannot be opened until one is set)."""
        with self._lock:
            try:
                self.path.unlink()
            except FileNotFoundError:
                pass

    def check(self, pin: str) -> CheckResult:
        """Is ``pin`` the stored PIN? While the pad is locked nothing is tried (the result says
        for how long). No PIN set: never ok. Slow (the hash): not on the GUI thread."""
        with self._lock:
            state = self._load()
            if state is None:
                return CheckResult(False, 0.0, 0)
            left = self._remaining(state)
            if left > 0:
                return CheckResult(False, left, state["failures"])
            previous = dict(state)
            # count the failure first: pulling the plug during the hash must not reset it
            failures = state["failures"] + 1
            state.update(failures=failures, locked_until=self._clock() + lock_seconds(failures))
            self._save(state)
            valid = isinstance(pin, str) and PIN_PATTERN.fullmatch(pin) is not None
            salt = base64.b64decode(state["salt"])
            # a malformed PIN is still hashed: the time taken says nothing about it
            candidate = _hash(pin if valid else "0000", salt, state["n"], state["r"], state["p"])
            ok = valid and hmac.compare_digest(candidate, base64.b64decode(state["hash"]))
            if not ok:
                log.warning("wrong admin PIN (%d in a row)", failures)
                return CheckResult(False, lock_seconds(failures), failures)
            if state["n"] * state["r"] * state["p"] < self._params[0] * self._params[1] * self._params[2]:
                state = self._new_state(pin)  # stronger parameters than it was stored with
            else:
                state = dict(previous, failures=0, locked_until=0.0)
            self._save(state)
            return CheckResult(True, 0.0, 0)
