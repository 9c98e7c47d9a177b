"""Call quality: what the resident and the interpreter actually get, measured every second.

``QualityMonitor`` samples a running call: frames per second in and out (counted at the kiosk's
own track and receiver), bitrate in and out (the transport's byte counters), video packet loss
(the receiver's RTP statistics) and round-trip time (from the interpreter's RTCP receiver
reports). Each ``QualitySample`` is a frozen snapshot for the screens; ``summary()`` gives the
median and the worst of each figure for the session record.

``ResolutionPolicy`` is the product's answer to a CPU or a network that cannot keep up: sign
language needs frame rate more than detail (ITU-T H-Series Suppl. 1), so when the frames we
manage to send fall below the target, or the video loses packets, the picture is made smaller
and the frame rate is kept; it grows again after a stable while.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

MIN_SIGNING_FPS = 20.0  # below this, signing is hard to follow (EN 301 549 §6.5.3)
LOW_FPS_SECONDS = 3.0  # a warning only after this long below MIN_SIGNING_FPS
SCALES = (1.0, 0.75, 0.5, 0.375)  # of the configured picture size, largest first


@dataclass(frozen=True)
class QualitySample:
    at: float
    fps_in: float
    fps_out: float
    kbps_in: float
    kbps_out: float
    loss_pct: float  # video packets lost on the way to the kiosk, in this interval
    rtt_ms: Optional[float]
    scale: float = 1.0  # the picture size the kiosk sends now, as a share of the configured size
    low_fps: bool = False  # either direction below MIN_SIGNING_FPS for LOW_FPS_SECONDS

    @property
    def level(self) -> str:
        """good / fair / poor, for the small indicator on the call screen."""
        if self.low_fps or self.loss_pct > 8 or (self.rtt_ms or 0) > 800:
            return "poor"
        if (min(self.fps_in, self.fps_out) < 25 or self.loss_pct > 2 or (self.rtt_ms or 0) > 400
                or self.scale < 1.0):
            return "fair"
        return "good"


class QualityMonitor:
    """Samples one peer connection. ``frames_in``/``frames_out`` return running frame counts."""

    def __init__(self, pc, frames_in: Callable[[], int], frames_out: Callable[[], int],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._pc = pc
        self._frames_in = frames_in
        self._frames_out = frames_out
        self._clock = clock
        self._last: Optional[dict] = None
        self._low_since: Optional[float] = None
        self.samples: list[QualitySample] = []

    async def sample(self, scale: float = 1.0) -> Optional[QualitySample]:
        """A new sample (None for the first call, which only sets the baseline)."""
        now = self._clock()
        report = await self._pc.getStats()
        counts = {"t": now, "frames_in": self._frames_in(), "frames_out": self._frames_out(),
                  "bytes_in": 0, "bytes_out": 0, "received": 0, "lost": 0, "rtt": None}
        for stats in report.values():
            kind = getattr(stats, "type", "")
            if kind == "transport":
                counts["bytes_in"] += stats.bytesReceived
                counts["bytes_out"] += stats.bytesSent
            elif kind == "inbound-rtp" and stats.kind == "video":
                counts["received"] += stats.packetsReceived
                counts["lost"] += max(0, stats.packetsLost)
            elif kind == "remote-inbound-rtp" and stats.kind == "video" and stats.roundTripTime:
                counts["rtt"] = stats.roundTripTime * 1000
        last, self._last = self._last, counts
        if last is None:
            return None
        dt = max(1e-3, now - last["t"])
        expected = (counts["received"] - last["received"]) + (counts["lost"] - last["lost"])
        loss = 100.0 * (counts["lost"] - last["lost"]) / expected if expected > 0 else 0.0
        fps_in = (counts["frames_in"] - last["frames_in"]) / dt
        fps_out = (counts["frames_out"] - last["frames_out"]) / dt
        if min(fps_in, fps_out) < MIN_SIGNING_FPS:
            self._low_since = self._low_since if self._low_since is not None else last["t"]
        else:
            self._low_since = None
        low = self._low_since is not None and now - self._low_since >= LOW_FPS_SECONDS
        sample = QualitySample(
            at=now, fps_in=round(fps_in, 1), fps_out=round(fps_out, 1),
            kbps_in=round(8 * (counts["bytes_in"] - last["bytes_in"]) / dt / 1000, 1),
            kbps_out=round(8 * (counts["bytes_out"] - last["bytes_out"]) / dt / 1000, 1),
            loss_pct=round(max(0.0, loss), 2),
            rtt_ms=round(counts["rtt"], 1) if counts["rtt"] is not None else None,
            scale=scale, low_fps=low)
        self.samples.append(sample)
        return sample

    def summary(self) -> Optional[dict]:
        return summarize(self.samples)


def summarize(samples: Sequence[QualitySample]) -> Optional[dict]:
    """Median and worst of each figure over a call; None when nothing was measured."""
    if not samples:
        return None

    def pair(values, worst):
        values = [v for v in values if v is not None]
        if not values:
            return None
        return {"median": round(statistics.median(values), 1), "worst": round(worst(values), 1)}

    return {
        "samples": len(samples),
        "fps_in": pair([s.fps_in for s in samples], min),
        "fps_out": pair([s.fps_out for s in samples], min),
        "kbps_in": pair([s.kbps_in for s in samples], min),
        "kbps_out": pair([s.kbps_out for s in samples], min),
        "loss_pct": pair([s.loss_pct for s in samples], max),
        "rtt_ms": pair([s.rtt_ms for s in samples], max),
        "low_fps_seconds": round(sum(1 for s in samples if s.low_fps) * _interval(samples), 1),
        "smallest_scale": min(s.scale for s in samples),
    }


def _interval(samples: Sequence[QualitySample]) -> float:
    if len(samples) < 2:
        return 1.0
    return (samples[-1].at - samples[0].at) / (len(samples) - 1)


def summary_json(summary: Optional[dict]) -> Optional[str]:
    return json.dumps(summary, separators=(",", ":"), sort_keys=True) if summary else None


class ResolutionPolicy:
    """Keep the frame rate; trade picture size for it.

    Down one step when the frames actually sent stay below ``0.85 × target`` for two samples
    in a row (the encoder cannot keep up: CPU), or video loss is over 10 % (the network).
    Up one step after ``recover_s`` of full frame rate and little loss.
    """

    def __init__(self, target_fps: float, recover_s: float = 15.0) -> None:
        self.target_fps = target_fps
        self.recover_s = recover_s
        self.step = 0
        self._bad = 0
        self._good_since: Optional[float] = None

    @property
    def scale(self) -> float:
        return SCALES[self.step]

    def feed(self, sample: QualitySample) -> Optional[float]:
        """Take a sample; returns the new scale when it changes."""
        struggling = sample.fps_out < 0.85 * self.target_fps or sample.loss_pct > 10
        if struggling:
            self._good_since = None
            self._bad += 1
            if self._bad >= 2 and self.step < len(SCALES) - 1:
                self.step += 1
                self._bad = 0
                return self.scale
            return None
        self._bad = 0
        healthy = sample.fps_out >= 0.95 * self.target_fps and sample.loss_pct < 2
        if not healthy or self.step == 0:
            self._good_since = None
            return None
        if self._good_since is None:
            self._good_since = sample.at
        elif sample.at - self._good_since >= self.recover_s:
            self.step -= 1
            self._good_since = None
            return self.scale
        return None
