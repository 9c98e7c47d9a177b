"""Which screen shows, and what it says, for every call state: the view-model on its own,
driven by the same ``CallEvent`` snapshots the call engine publishes."""

from __future__ import annotations

import time
from datetime import datetime
from types import MappingProxyType
from zoneinfo import ZoneInfo

import pytest

from kiosk.call.states import CallEvent, CallState, EndReason
from kiosk.config import ServiceHours
from kiosk.ui.viewmodel import KioskViewModel

S = CallState


class Commands:
    """Records what the screens asked the call engine to do."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def request_call(self, started_by="resident", category=None):
        self.calls.append(("request_call", started_by, category))

    def cancel(self):
        self.calls.append(("cancel",))

    def hang_up(self):
        self.calls.append(("hang_up",))

    def rate(self, session_id, level):
        self.calls.append(("rate", session_id, level))

    def start_device_check(self):
        self.calls.append(("start_device_check",))

    def stop_device_check(self):
        self.calls.append(("stop_device_check",))


def event(state, **kw) -> CallEvent:
    now = time.time()
    base = dict(session_id="s-1", requested_at=now - 30, at=now)
    base.update(kw)
    return CallEvent(state=state, **base)


@pytest.fixture
def vm(qtbot):
    commands = Commands()
    model = KioskViewModel(commands, location="hall 1", rating_timeout_s=20)
    model.commands = commands
    return model


def answered_call(vm, reason=EndReason.COMPLETED):
    now = time.time()
    for state in (S.REQUESTING, S.QUEUED, S.RINGING):
        vm.apply_event(event(state))
    vm.apply_event(event(S.CONNECTING, answered_at=now - 20))
    vm.apply_event(event(S.CONNECTED, answered_at=now - 20, connected_at=now - 19))
    vm.apply_event(event(S.ENDED, answered_at=now - 20, connected_at=now - 19, ended_at=now,
                         reason=reason))


def test_screens_follow_the_call(vm):
    assert vm.screen == "welcome"
    vm.startCall()
    assert vm.commands.calls == [("request_call", "resident", None)]
    seen = []
    for state in (S.REQUESTING, S.QUEUED, S.RINGING, S.CONNECTING):
        vm.apply_event(event(state, queue_position=2 if state is S.QUEUED else None))
        seen.append((vm.screen, vm.callState))
        if state is S.QUEUED:
            assert vm.queuePosition == 2
    assert seen == [("connecting", "requesting"), ("connecting", "queued"),
                    ("connecting", "ringing"), ("connecting", "connecting")]
    assert vm.waitSeconds >= 30
    now = time.time()
    vm.apply_event(event(S.CONNECTED, answered_at=now - 5, connected_at=now - 4))
    assert vm.screen == "call" and vm.callSeconds >= 4
    vm.apply_event(event(S.ENDED, answered_at=now - 5, connected_at=now - 4, ended_at=now,
                         reason=EndReason.COMPLETED))
    assert vm.screen == "rating" and vm.countdown == 20


def test_one_tap_is_one_request(vm):
    vm.startCall()
    vm.apply_event(event(S.REQUESTING))
    vm.startCall()  # a second tap while the call is being placed asks for nothing more
    assert vm.commands.calls == [("request_call", "resident", None)]


def test_actions_only_on_their_own_screen(vm):
    vm.hangUp()
    vm.cancelCall()
    vm.rate(5)
    assert vm.commands.calls == []
    vm.apply_event(event(S.RINGING))
    vm.cancelCall()
    vm.hangUp()  # there is no hang-up button on the connecting screen
    assert vm.commands.calls == [("cancel",)]


def test_rating_is_stored_once_and_screen_is_cleared(vm):
    answered_call(vm)
    vm.rate(7)  # not a level
    assert vm.commands.calls == []
    vm.rate(4)
    vm.rate(5)  # already back on welcome: ignored
    assert vm.commands.calls == [("rate", "s-1", 4)]
    assert vm.screen == "welcome"
    # nothing of the last session is left to show
    assert (vm.callState, vm.endReason, vm.callSeconds, vm.waitSeconds) == ("idle", "", 0, 0)


def test_rating_leaves_by_itself(qtbot):
    commands = Commands()
    vm = KioskViewModel(commands, rating_timeout_s=1)
    answered_call(vm)
    assert vm.screen == "rating"
    qtbot.waitUntil(lambda: vm.screen == "welcome", timeout=3500)
    assert commands.calls == [("rate", "s-1", None)]


def test_skip_rating(vm):
    answered_call(vm)
    vm.skipRating()
    assert vm.commands.calls == [("rate", "s-1", None)] and vm.screen == "welcome"


@pytest.mark.parametrize("reason", [EndReason.NO_INTERPRETER, EndReason.OUT_OF_HOURS,
                                    EndReason.DECLINED, EndReason.DISPATCH_UNREACHABLE,
                                    EndReason.NETWORK_LOST])
def test_unanswered_failures_explain_themselves(vm, reason):
    vm.apply_event(event(S.REQUESTING))
    vm.apply_event(event(S.ENDED, reason=reason, ended_at=time.time()))
    assert vm.screen == "notice" and vm.endReason == reason.value
    vm.dismissNotice()
    assert vm.screen == "welcome" and vm.endReason == ""


def test_a_cancelled_call_goes_straight_back(vm):
    vm.apply_event(event(S.RINGING))
    vm.apply_event(event(S.ENDED, reason=EndReason.CANCELLED_BY_CALLER, ended_at=time.time()))
    assert vm.screen == "welcome"


def test_a_call_cut_off_after_answer_is_still_rated(vm):
    answered_call(vm, reason=EndReason.NETWORK_LOST)
    assert vm.screen == "rating"


def test_out_of_hours_says_when_the_service_opens(qtbot):
    zone = "Asia/Shanghai"
    weekly = {d: () for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    weekly["tue"] = ((8 * 60 + 30, 17 * 60),)
    hours = ServiceHours(timezone=zone, weekly=MappingProxyType(weekly))
    vm = KioskViewModel(Commands(), service_hours=hours)
    monday_evening = datetime(2026, 11, 23, 20, 0, tzinfo=ZoneInfo(zone))  # a Monday
    vm.apply_event(event(S.REQUESTING))
    vm.apply_event(event(S.ENDED, reason=EndReason.OUT_OF_HOURS, ended_at=monday_evening.timestamp()))
    # the hall's own clock, whatever zone the machine is set to
    assert vm.nextOpening == "11-24 08:30"
    vm.dismissNotice()
    assert vm.nextOpening == ""


def test_link_state_is_shown(vm):
    assert vm.online is False
    vm.set_online(True)
    assert vm.online is True


def test_quality_shows_only_during_a_call_and_is_cleared_after(vm):
    from kiosk.call.quality import QualitySample

    poor = QualitySample(at=1, fps_in=12, fps_out=30, kbps_in=200, kbps_out=800, loss_pct=0,
                         rtt_ms=20, low_fps=True)
    vm.apply_quality(poor)  # not in a call: ignored
    assert vm.qualityLevel == "" and not vm.lowFrameRate
    now = time.time()
    vm.apply_event(event(S.CONNECTED, answered_at=now - 5, connected_at=now - 4))
    vm.apply_quality(poor)
    assert vm.qualityLevel == "poor" and vm.lowFrameRate
    vm.apply_event(event(S.ENDED, answered_at=now - 5, connected_at=now - 4, ended_at=now,
                         reason=EndReason.COMPLETED))
    assert vm.qualityLevel == "" and not vm.lowFrameRate


def test_missing_devices_are_listed_for_the_screen(vm):
    from kiosk.call.engine import DeviceState

    vm.apply_devices((DeviceState("camera", False, "no camera at /dev/video0"),
                      DeviceState("microphone", True, ""), DeviceState("speaker", False, "gone")))
    assert vm.missingDevices == ["camera", "speaker"]
    vm.apply_devices((DeviceState("camera", True, ""), DeviceState("microphone", True, ""),
                      DeviceState("speaker", True, "")))
    assert vm.missingDevices == []


def test_the_engines_late_return_to_idle_keeps_the_device_check_open(vm):
    answered_call(vm)
    vm.rate(5)
    vm.openDeviceCheck()
    assert vm.screen == "devicecheck"
    vm.apply_event(CallEvent(state=S.IDLE))  # the engine's reset after the rating, arriving now
    assert vm.screen == "devicecheck"
    vm.closeDeviceCheck()
    assert vm.screen == "welcome"
