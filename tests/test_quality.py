"""Call quality: the figures measured in a real call, the summary in the record, and the
policy that keeps the frame rate by sending a smaller picture."""

from __future__ import annotations

import asyncio
import json

import pytest

from kiosk.call.media import CaptureTrack
from kiosk.call.quality import SCALES, QualitySample, ResolutionPolicy, summarize
from kiosk.call.states import CallState
from test_call_engine import Rig, eventually

S = CallState


def sample(at, fps_out=30.0, fps_in=30.0, loss=0.0, rtt=20.0, scale=1.0, low=False):
    return QualitySample(at=at, fps_in=fps_in, fps_out=fps_out, kbps_in=800, kbps_out=800,
                         loss_pct=loss, rtt_ms=rtt, scale=scale, low_fps=low)


def test_policy_lowers_the_picture_when_frames_fall_behind_and_keeps_it_while_struggling():
    policy = ResolutionPolicy(target_fps=30)
    assert policy.feed(sample(0, fps_out=22)) is None  # one bad second is not enough
    assert policy.feed(sample(1, fps_out=22)) == SCALES[1]
    assert policy.feed(sample(2, fps_out=30)) is None
    for t in range(3, 40, 2):  # a long struggle walks down to the smallest size, no further
        policy.feed(sample(t, fps_out=10))
        policy.feed(sample(t + 1, fps_out=10))
    assert policy.scale == SCALES[-1]


def test_policy_lowers_the_picture_on_heavy_loss():
    policy = ResolutionPolicy(target_fps=30)
    policy.feed(sample(0, loss=15))
    assert policy.feed(sample(1, loss=15)) == SCALES[1]


def test_policy_grows_the_picture_again_after_a_stable_while():
    policy = ResolutionPolicy(target_fps=30, recover_s=10)
    policy.feed(sample(0, fps_out=20))
    policy.feed(sample(1, fps_out=20))
    assert policy.scale == SCALES[1]
    changes = [policy.feed(sample(t)) for t in range(2, 13)]  # healthy from t=2: 10 s at t=12
    assert changes[:-1] == [None] * 10 and changes[-1] == 1.0
    # a dip in the middle restarts the wait
    policy = ResolutionPolicy(target_fps=30, recover_s=10)
    policy.feed(sample(0, fps_out=20))
    policy.feed(sample(1, fps_out=20))
    for t in range(2, 8):
        policy.feed(sample(t))
    policy.feed(sample(8, fps_out=27))  # not healthy, not struggling
    assert [policy.feed(sample(t)) for t in range(9, 19)] == [None] * 10
    assert policy.feed(sample(19)) == 1.0


def test_summary_gives_median_and_worst():
    samples = [sample(0, fps_in=30, rtt=10), sample(1, fps_in=28, rtt=50, loss=1.0),
               sample(2, fps_in=12, rtt=30, low=True, scale=0.75)]
    s = summarize(samples)
    assert s["fps_in"] == {"median": 28.0, "worst": 12.0}
    assert s["rtt_ms"] == {"median": 30.0, "worst": 50.0}
    assert s["loss_pct"] == {"median": 0.0, "worst": 1.0}
    assert s["low_fps_seconds"] == 1.0 and s["smallest_scale"] == 0.75 and s["samples"] == 3
    assert summarize([]) is None


def test_indicator_levels():
    assert sample(0).level == "good"
    assert sample(0, fps_in=24).level == "fair"
    assert sample(0, scale=0.75).level == "fair"
    assert sample(0, low=True).level == "poor"
    assert sample(0, loss=12).level == "poor"


@pytest.mark.asyncio
@pytest.mark.slow
async def test_a_real_call_is_measured_and_summarised_in_its_record(demo_config):
    config = demo_config(video={"width": 320, "height": 240, "fps": 25})
    async with Rig(config) as rig:
        seen = []
        rig.engine.on_quality = seen.append
        sid = await rig.engine.request_call()
        assert (await rig.engine.wait_for(S.CONNECTED, S.ENDED, timeout=30)).state is S.CONNECTED
        await eventually(lambda: len(seen) >= 3, timeout=10, what="three quality samples")
        last = seen[-1]
        assert 20 <= last.fps_in <= 30 and 20 <= last.fps_out <= 30  # the configured 25 fps
        assert last.kbps_in > 50 and last.kbps_out > 50
        assert last.loss_pct == 0 and not last.low_fps
        await rig.engine.hang_up()
        quality = json.loads(rig.store.get(sid).quality)
        assert quality["samples"] >= 3
        assert 20 <= quality["fps_in"]["median"] <= 30
        assert quality["fps_in"]["worst"] <= quality["fps_in"]["median"]
        assert quality["smallest_scale"] == 1.0


@pytest.mark.asyncio
@pytest.mark.slow
async def test_an_encoder_that_cannot_keep_up_gets_a_smaller_picture_not_fewer_frames(
        demo_config, monkeypatch):
    """A kiosk CPU too slow for the full picture: sending a full-size frame takes 60 ms
    (about 16 fps at most), a smaller one is quick. The call must step down in size and get
    back to its frame rate."""
    original = CaptureTrack.recv

    async def slow_at_full_size(self):
        frame = await original(self)
        if self.scale >= 1.0:
            await asyncio.sleep(0.06)
        return frame

    monkeypatch.setattr(CaptureTrack, "recv", slow_at_full_size)
    config = demo_config(video={"width": 320, "height": 240, "fps": 25})
    async with Rig(config) as rig:
        seen = []
        rig.engine.on_quality = seen.append
        await rig.engine.request_call()
        assert (await rig.engine.wait_for(S.CONNECTED, S.ENDED, timeout=30)).state is S.CONNECTED
        await eventually(lambda: seen and seen[-1].scale < 1.0, timeout=10, what="a smaller picture")
        await eventually(lambda: seen[-1].fps_out >= 20, timeout=10, what="the frame rate back")
        assert rig.sim.current.last_video_size[0] < 320  # the interpreter gets the smaller picture
        await rig.engine.hang_up()
