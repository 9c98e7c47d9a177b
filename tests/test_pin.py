"""The admin PIN store: a salted scrypt hash on disk, a lockout that grows and survives a restart."""

from __future__ import annotations

import base64
import hashlib
import json
import stat

import pytest

from kiosk.sessions import pin as pin_module
from kiosk.sessions.pin import (
    FIRST_LOCK_S, MAX_LOCK_S, PIN_FILE, CheckResult, PinError, PinStore, lock_seconds,
)

LIGHT = dict(n=2 ** 4, r=8, p=1)  # only where the hash itself is not what is tested


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_the_file_holds_a_salted_scrypt_hash_and_never_the_pin(tmp_path):
    a, b = PinStore(tmp_path / "a" / PIN_FILE), PinStore(tmp_path / "b" / PIN_FILE)
    assert not a.has_pin()
    a.set_pin("2468013579")
    b.set_pin("2468013579")
    assert a.has_pin() and b.has_pin()
    raw_a, raw_b = a.path.read_text(), b.path.read_text()
    for raw in (raw_a, raw_b):
        assert "2468013579" not in raw
        assert base64.b64encode(b"2468013579").decode() not in raw
    da, db = json.loads(raw_a), json.loads(raw_b)
    # OWASP's scrypt parameters, stored beside the hash
    assert (da["kdf"], da["n"], da["r"], da["p"]) == ("scrypt", 2 ** 17, 8, 1)
    # same PIN, different salt, different stored hash
    assert da["salt"] != db["salt"] and da["hash"] != db["hash"]
    salt = base64.b64decode(da["salt"])
    assert len(salt) >= 16
    expected = hashlib.scrypt(b"2468013579", salt=salt, n=2 ** 17, r=8, p=1, maxmem=256 * 2 ** 20,
                              dklen=32)
    assert base64.b64decode(da["hash"]) == expected
    assert stat.S_IMODE(a.path.stat().st_mode) == 0o600
    assert sorted(p.name for p in a.path.parent.iterdir()) == [PIN_FILE]  # no temporary file left
    assert a.check("2468013579") == CheckResult(True, 0.0, 0)
    assert not a.check("2468013570").ok


@pytest.mark.parametrize("bad", ["123", "1234567890123", "12a4", "", " 1234", "١٢٣٤", "12.4", None])
def test_only_4_to_12_digits_are_a_pin(tmp_path, bad):
    store = PinStore(tmp_path / PIN_FILE, **LIGHT)
    with pytest.raises(PinError):
        store.set_pin(bad)
    assert not store.has_pin()


def test_no_pin_never_opens(tmp_path):
    store = PinStore(tmp_path / PIN_FILE, **LIGHT)
    assert store.check("0000") == CheckResult(False, 0.0, 0)
    assert not store.path.exists()


def test_lock_lengths_grow_to_half_an_hour():
    assert [lock_seconds(f) for f in range(0, 12)] == [
        0, 0, 0, 0, 0, 60, 120, 240, 480, 960, 1800, 1800]
    assert lock_seconds(1000) == MAX_LOCK_S


def test_five_wrong_pins_lock_and_each_further_one_locks_longer(tmp_path):
    clock = Clock()
    store = PinStore(tmp_path / PIN_FILE, clock=clock, **LIGHT)
    store.set_pin("4321")
    results = [store.check("0000") for _ in range(5)]
    assert [(r.ok, r.failures, r.locked_for_s) for r in results] == [
        (False, 1, 0), (False, 2, 0), (False, 3, 0), (False, 4, 0), (False, 5, FIRST_LOCK_S)]
    # while locked even the right PIN is not tried, and trying does not count
    assert store.check("4321") == CheckResult(False, FIRST_LOCK_S, 5)
    clock.now += 30
    assert store.check("4321") == CheckResult(False, FIRST_LOCK_S - 30, 5)
    locks = []
    for _ in range(6):
        clock.now += store.status().locked_for_s
        r = store.check("1111")
        locks.append((r.failures, r.locked_for_s))
    assert locks == [(6, 120), (7, 240), (8, 480), (9, 960), (10, 1800), (11, 1800)]
    clock.now += 1800
    assert store.check("4321") == CheckResult(True, 0.0, 0)
    assert store.status() == CheckResult(False, 0.0, 0)
    # the count starts again from nothing after a right PIN
    assert store.check("0000") == CheckResult(False, 0.0, 1)


def test_count_and_lock_survive_a_restart(tmp_path):
    clock = Clock()
    path = tmp_path / PIN_FILE
    store = PinStore(path, clock=clock, **LIGHT)
    store.set_pin("8642")
    for _ in range(3):
        store.check("0000")
    # a restart: a new store on the same file
    store = PinStore(path, clock=clock, **LIGHT)
    assert store.status() == CheckResult(False, 0.0, 3)
    store.check("0000")
    assert store.check("0000") == CheckResult(False, FIRST_LOCK_S, 5)
    # a reboot ten seconds later: still locked, for what is left (wall-clock time on disk)
    clock.now += 10
    store = PinStore(path, clock=clock, **LIGHT)
    assert store.status() == CheckResult(False, FIRST_LOCK_S - 10, 5)
    assert store.check("8642") == CheckResult(False, FIRST_LOCK_S - 10, 5)
    assert json.loads(path.read_text())["locked_until"] == pytest.approx(clock.now - 10 + FIRST_LOCK_S)
    clock.now += FIRST_LOCK_S
    store = PinStore(path, clock=clock, **LIGHT)
    assert store.check("0000") == CheckResult(False, 2 * FIRST_LOCK_S, 6)


def test_a_clock_set_back_does_not_stretch_the_lock(tmp_path):
    clock = Clock()
    store = PinStore(tmp_path / PIN_FILE, clock=clock, **LIGHT)
    store.set_pin("1357")
    for _ in range(5):
        store.check("0000")
    clock.now -= 86400  # the real-time clock lost a day over a reboot
    assert store.status().locked_for_s == FIRST_LOCK_S


def test_pulling_the_plug_during_the_hash_still_counts_the_failure(tmp_path, monkeypatch):
    clock = Clock()
    path = tmp_path / PIN_FILE
    PinStore(path, clock=clock, **LIGHT).set_pin("9753")

    def power_cut(*args, **kwargs):
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(pin_module, "_hash", power_cut)
    with pytest.raises(KeyboardInterrupt):
        PinStore(path, clock=clock, **LIGHT).check("0000")
    monkeypatch.undo()
    assert PinStore(path, clock=clock, **LIGHT).status().failures == 1


def test_a_new_pin_clears_the_lock(tmp_path):
    clock = Clock()
    store = PinStore(tmp_path / PIN_FILE, clock=clock, **LIGHT)
    store.set_pin("1357")
    for _ in range(6):
        store.check("0000")
    assert store.status().locked
    store.set_pin("24680")
    assert store.status() == CheckResult(False, 0.0, 0)
    assert store.check("24680").ok and not store.check("1357").ok


def test_a_damaged_file_opens_nothing(tmp_path):
    path = tmp_path / PIN_FILE
    path.write_text('{"kdf": "scrypt", "n": 3}')
    store = PinStore(path, **LIGHT)
    assert not store.has_pin()
    assert store.check("1234") == CheckResult(False, 0.0, 0)
    path.write_text(json.dumps({"format": 1, "kdf": "scrypt", "n": 2 ** 30, "r": 8, "p": 1,
                                "salt": "AAAAAAAAAAAAAAAAAAAAAA==", "hash": "A" * 44}))
    assert not store.has_pin()  # parameters that would cost gigabytes are refused


def test_a_weaker_stored_hash_is_upgraded_after_a_right_pin(tmp_path):
    path = tmp_path / PIN_FILE
    PinStore(path, **LIGHT).set_pin("112233")
    assert json.loads(path.read_text())["n"] == LIGHT["n"]
    assert PinStore(path).check("112233").ok  # the default store verifies with the file's own
    data = json.loads(path.read_text())
    assert (data["n"], data["r"], data["p"]) == (2 ** 17, 8, 1)
    assert PinStore(path, **LIGHT).check("112233").ok
