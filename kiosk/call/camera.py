"""A real camera as a ``CaptureSource``, captured with PyAV (FFmpeg's device inputs).

- ``DeviceCamera``: opens the device once and feeds every consumer from that one capture (the
  self-view through ``subscribe``, the call through ``track()``). Opening and every blocking read
  run in a dedicated worker thread (``av.open`` on a camera blocks for up to seconds, a read for up
  to a frame period); decoded frames are converted to yuv420p at the configured size and handed to
  the asyncio loop newest-first (one pending frame at most, never a queue).
- When there is no picture (no camera at start, camera unplugged, read errors, the device stalls)
  the source keeps producing frames: a dark "CAMERA UNAVAILABLE" picture with the capture-time
  stamp (``media.write_stamp``) at the configured rate, so the self-view, the call and delay
  measurement keep working. The worker retries the device every ``retry_s`` seconds and real
  frames resume by themselves. ``available`` / ``status_message`` and the ``on_status(available,
  message)`` callback (called on the loop thread, only on a change) report the state.
- ``make_camera``: the factory from the ``video`` config section ("synthetic" → test picture).
- ``list_cameras``: the cameras this machine has, for a device-check screen.

Which FFmpeg input is used: Linux ``v4l2`` on ``/dev/videoN`` (a camera is chosen by index N, by
path, or by the name in ``/sys/class/video4linux/videoN/name``), Windows ``dshow`` with
``video=<name>``, macOS ``avfoundation`` with ``<index or name>:none``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Union

import av
import numpy as np

from kiosk.call.media import CaptureSource, SyntheticCamera, draw_text, write_stamp

log = logging.getLogger("kiosk.call.camera")

SYSFS_V4L = Path("/sys/class/video4linux")
OPEN_TIMEOUT_S = 10.0  # FFmpeg interrupt timeouts (honoured by network inputs, not by v4l2 ioctls)
READ_TIMEOUT_S = 5.0

StatusCallback = Callable[[bool, str], None]
Opener = Callable[[], Any]  # returns an open container: ``decode(video=0)`` iterable + ``close()``


class CameraNotFound(LookupError):
    """The configured camera does not exist (now): no such name, index or device."""


@dataclass(frozen=True)
class CameraInfo:
    name: str  # human-readable, e.g. "HD Webcam C270"
    device: str  # what to put in ``video.camera`` / pass to ``DeviceCamera(device=...)``
    backend: str  # "v4l2" | "dshow" | "avfoundation"
    is_default: bool = False


@dataclass
class SourceSpec:
    """The arguments of ``av.open`` for one capture: ``av.open(file, format=format, options=...)``."""

    file: str
    format: Optional[str] = None
    options: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        return f"{self.format}:{self.file}" if self.format else self.file

    def open(self) -> Any:
        return av.open(self.file, format=self.format, options=dict(self.options),
                       timeout=(OPEN_TIMEOUT_S, READ_TIMEOUT_S))


Device = Union[str, int, SourceSpec]

# --- finding the device ---------------------------------------------------------------------


def _platform(platform: Optional[str]) -> str:
    p = platform or sys.platform
    if p.startswith("linux"):
        return "linux"
    if p.startswith(("win", "cygwin")):
        return "windows"
    if p == "darwin":
        return "macos"
    return p


def _read(path: Path) -> Optional[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None


def _v4l_nodes(sysfs: Path) -> list[tuple[int, str, str, int]]:
    """(N, name, /dev/videoN, node index) for every /sys/class/video4linux/videoN, by N."""
    nodes = []
    try:
        entries = list(sysfs.iterdir())
    except OSError:
        return []
    for entry in entries:
        m = re.fullmatch(r"video(\d+)", entry.name)
        if not m:
            continue
        n = int(m.group(1))
        index = _read(entry / "index")
        nodes.append((n, _read(entry / "name") or entry.name, f"/dev/video{n}",
                      int(index) if index and index.isdigit() else 0))
    return sorted(nodes)


def _enumerate(backend: str) -> list[Any]:
    enumerate_devices = getattr(av, "enumerate_input_devices", None)
    if enumerate_devices is None:
        return []
    try:
        devices = list(enumerate_devices(backend))
    except Exception as exc:  # unknown format, or the input cannot enumerate
        log.debug("cannot enumerate %s devices: %s", backend, exc)
        return []
    return [d for d in devices if "video" in (getattr(d, "media_types", None) or ["video"])]


def list_cameras(*, platform: Optional[str] = None, sysfs: Optional[Path] = None) -> list[CameraInfo]:
    """The cameras of this machine, first (default) first. Linux: capture nodes from sysfs
    (a webcam's second, metadata-only node is left out); Windows/macOS: FFmpeg's device list
    where this PyAV has ``av.enumerate_input_devices``; otherwise an empty list."""
    where = _platform(platform)
    if where == "linux":
        nodes = [node for node in _v4l_nodes(sysfs or SYSFS_V4L) if node[3] == 0]
        return [CameraInfo(name=name, device=path, backend="v4l2", is_default=i == 0)
                for i, (_, name, path, _) in enumerate(nodes)]
    backend = {"windows": "dshow", "macos": "avfoundation"}.get(where)
    if backend is None:
        return []
    cameras = []
    for i, d in enumerate(_enumerate(backend)):
        name = getattr(d, "description", "") or getattr(d, "name", "")
        cameras.append(CameraInfo(name=name, device=getattr(d, "name", name), backend=backend,
                                  is_default=bool(getattr(d, "is_default", False)) or i == 0))
    return cameras


def _index(device: Device) -> Optional[int]:
    if isinstance(device, int):
        return device
    if isinstance(device, str) and device.strip().isdigit():
        return int(device.strip())
    return None


def resolve_source(device: Device, width: int, height: int, fps: int, *,
                   input_format: Optional[str] = None, platform: Optional[str] = None,
                   sysfs: Optional[Path] = None) -> SourceSpec:
    """The ``av.open`` arguments for ``device`` (an index, a path, a name or "default") on this
    platform. Raises ``CameraNotFound`` when a name or index matches no camera."""
    if isinstance(device, SourceSpec):
        return device
    options = {"video_size": f"{width}x{height}", "framerate": str(fps)}
    where = _platform(platform)
    index = _index(device)
    text = str(device).strip()
    default = text.lower() in ("", "default")

    if where == "linux":
        if input_format:
            options["input_format"] = input_format
        if index is not None:
            return SourceSpec(f"/dev/video{index}", "v4l2", options)
        if text.startswith("/") or os.path.exists(text):
            return SourceSpec(text, "v4l2", options)
        nodes = _v4l_nodes(sysfs or SYSFS_V4L)
        capture = sorted(nodes, key=lambda node: (node[3], node[0]))  # capture nodes (index 0) first
        if default:
            return SourceSpec(capture[0][2] if capture else "/dev/video0", "v4l2", options)
        wanted = text.lower()
        for match in (lambda name: name.lower() == wanted, lambda name: wanted in name.lower()):
            for _, name, path, _ in capture:
                if match(name):
                    return SourceSpec(path, "v4l2", options)
        found = ", ".join(sorted({name for _, name, _, i in nodes if i == 0})) or "none"
        raise CameraNotFound(f"no camera named {text!r} (found: {found})")

    if where == "windows":
        if input_format:
            options["vcodec" if input_format == "mjpeg" else "pixel_format"] = input_format
        if text.lower().startswith("video="):
            return SourceSpec(text, "dshow", options)
        if index is not None or default:
            cameras = list_cameras(platform="windows")
            n = index or 0
            if n >= len(cameras):
                raise CameraNotFound(f"no camera number {n} (found {len(cameras)})")
            return SourceSpec(f"video={cameras[n].device}", "dshow", options)
        return SourceSpec(f"video={text}", "dshow", options)

    if where == "macos":
        if input_format and input_format != "mjpeg":
            options["pixel_format"] = input_format
        if index is not None:
            return SourceSpec(f"{index}:none", "avfoundation", options)
        if default:
            return SourceSpec("default:none", "avfoundation", options)
        return SourceSpec(text if ":" in text else f"{text}:none", "avfoundation", options)

    raise CameraNotFound(f"no camera input known for platform {sys.platform!r}")


def open_device(device: Device, width: int, height: int, fps: int, *,
                input_format: Optional[str] = "auto", platform: Optional[str] = None,
                sysfs: Optional[Path] = None) -> tuple[Any, SourceSpec]:
    """Resolve and open ``device`` (blocking: call it off the loop). ``input_format="auto"`` asks
    a v4l2 camera for MJPEG first (raw YUYV is too slow for 720p30 on USB 2 webcams) and falls
    back to the driver's default format."""
    if isinstance(device, SourceSpec):
        return device.open(), device
    if input_format == "auto":
        if _platform(platform) == "linux":
            spec = resolve_source(device, width, height, fps, input_format="mjpeg",
                                  platform=platform, sysfs=sysfs)
            try:
                return spec.open(), spec
            except (FileNotFoundError, PermissionError, IsADirectoryError):
                raise  # the device itself is missing or locked: another format will not help
            except Exception as exc:
                log.debug("%s: no MJPEG (%s), trying the default format", spec.file, exc)
                spec.options.pop("input_format", None)
                return spec.open(), spec
        input_format = None
    spec = resolve_source(device, width, height, fps, input_format=input_format,
                          platform=platform, sysfs=sysfs)
    return spec.open(), spec


# --- the placeholder picture ----------------------------------------------------------------


class _Placeholder:
    """Dark frames with a big centred label, a clock and a small caption, time-stamped."""

    def __init__(self, width: int, height: int, caption: str = "") -> None:
        self.width, self.height, self.caption = width, height, caption
        self._bases: dict[str, np.ndarray] = {}
        self._uv = np.full((height // 2 * 2, width // 2), 128, dtype=np.uint8).reshape(-1, width)
        self._small = max(1, height // 240)

    def _base(self, label: str) -> np.ndarray:
        base = self._bases.get(label)
        if base is None:
            w, h = self.width, self.height
            base = np.full((h, w), 24, dtype=np.uint8)
            scale = max(1, min(h // 80, int(w * 0.8) // (6 * len(label))))
            x = max(0, (w - (6 * len(label) - 1) * scale) // 2)
            y = max(0, h // 2 - 7 * scale // 2)
            draw_text(base, label, x, y, scale, 235)
            if self.caption:
                s = self._small
                draw_text(base, self.caption, s * 2, h - s * 9, s, 150)
            self._bases[label] = base
        return base

    def frame(self, label: str, at: float) -> av.VideoFrame:
        y = self._base(label).copy()
        s = max(1, self.height // 180)
        clock = time.strftime("%H:%M:%S", time.localtime(at))  # shows the picture is live
        draw_text(y, clock, max(0, (self.width - 47 * s) // 2), self.height // 2 + self.height // 8, s, 180)
        write_stamp(y, int(at * 1000))
        return av.VideoFrame.from_ndarray(np.vstack([y, self._uv]), format="yuv420p")


# --- the camera -----------------------------------------------------------------------------


class DeviceCamera(CaptureSource):
    """A real camera, opened once and shared by the self-view and the call.

    ``device``: an index (``0`` or ``"0"``), a path (``"/dev/video2"``), a camera name, "default",
    or a ``SourceSpec`` (any FFmpeg input, e.g. ``SourceSpec("testsrc2=...", "lavfi")``).
    ``opener``: replaces the device opening (called in the worker thread; returns an object with
    ``decode(video=0)`` and ``close()``, or raises when the camera is not there).
    ``on_status(available, message)`` is called on the loop thread when the state changes.
    """

    THREAD_NAME = "camera-capture"
    LABEL_UNAVAILABLE = "CAMERA UNAVAILABLE"
    LABEL_STARTING = "CAMERA STARTING"

    def __init__(self, width: int, height: int, fps: int, device: Device = "default", *,
                 opener: Optional[Opener] = None, on_status: Optional[StatusCallback] = None,
                 label: str = "", input_format: Optional[str] = "auto", retry_s: float = 2.0,
                 stall_s: float = 3.0, join_timeout_s: float = 1.0,
                 platform: Optional[str] = None, sysfs: Optional[Path] = None) -> None:
        super().__init__(width, height, fps)
        self.device = device
        self._platform, self._sysfs = platform, sysfs
        self.input_format = input_format
        self.on_status = on_status
        self.retry_s = retry_s
        self.stall_s = stall_s
        self.join_timeout_s = join_timeout_s
        self._opener = opener
        self.available = False
        self.status_message = "camera starting"
        self.frames_real = 0  # device frames published
        self.frames_placeholder = 0  # "unavailable" pictures published
        self.frames_dropped = 0  # device frames replaced before the loop took them
        self.opens = 0  # successful opens of the device
        self._placeholder = _Placeholder(width, height, label)
        self._label = self.LABEL_STARTING
        self._thread: Optional[threading.Thread] = None
        self._stopping: Optional[threading.Event] = None
        self._lock = threading.Lock()
        self._pending: Optional[av.VideoFrame] = None
        self._stalled = False
        self._last_real = time.monotonic()

    # -- loop side --

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        stopping = threading.Event()
        self._stopping = stopping
        # a restart begins afresh (the status of a previous run is stale; not reported)
        self._label = self.LABEL_STARTING
        self.available, self.status_message, self._stalled = False, "camera starting", False
        thread = threading.Thread(target=self._worker, args=(loop, stopping), name=self.THREAD_NAME,
                                  daemon=True)
        self._thread = thread
        thread.start()
        period = 1.0 / self.fps
        start = time.monotonic()
        n = 0
        try:
            while True:
                now = time.monotonic()
                if self.available and now - self._last_real > self.stall_s:
                    self._stalled = True
                    self._apply_status(stopping, False,
                                       f"camera unavailable: no picture for {self.stall_s:g} s")
                if not self.available:
                    self.frames_placeholder += 1
                    self._publish(self._placeholder.frame(self._label, time.time()))
                n += 1
                delay = start + n * period - time.monotonic()
                if delay < -period:  # fell behind: skip ahead, keep real time
                    n = int((time.monotonic() - start) / period)
                    delay = 0
                await asyncio.sleep(max(0.0, delay))
        finally:
            stopping.set()

    async def stop(self) -> None:
        if self._stopping is not None:
            self._stopping.set()
        await super().stop()
        thread = self._thread
        if thread is not None:
            deadline = time.monotonic() + self.join_timeout_s
            while thread.is_alive() and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            if thread.is_alive():
                log.warning("camera thread still busy %.1f s after stop (blocked in the driver?)",
                            self.join_timeout_s)
            else:
                self._thread = None
        with self._lock:
            self._pending = None

    def _current(self, stopping: threading.Event) -> bool:
        return stopping is self._stopping and not stopping.is_set() and self.running

    def _apply_status(self, stopping: threading.Event, available: bool, message: str,
                      label: str = LABEL_UNAVAILABLE) -> None:
        if not self._current(stopping):
            return
        if available:
            self._last_real = time.monotonic()
            self._stalled = False
        else:
            self._label = label
        if (available, message) == (self.available, self.status_message):
            return
        self.available, self.status_message = available, message
        if available:
            log.info("%s", message)
        else:
            log.warning("%s", message)
        if self.on_status is not None:
            try:
                self.on_status(available, message)
            except Exception:
                log.exception("camera status callback failed")

    def _deliver(self, stopping: threading.Event) -> None:
        with self._lock:
            frame, self._pending = self._pending, None
        if frame is None or not self._current(stopping):
            return
        self._last_real = time.monotonic()
        if self._stalled:
            self._apply_status(stopping, True, "camera picture resumed")
        if self.available:
            self.frames_real += 1
            self._publish(frame)

    # -- worker thread --

    def _open(self) -> tuple[Any, str]:
        if self._opener is not None:
            return self._opener(), (self.device.describe() if isinstance(self.device, SourceSpec)
                                    else str(self.device))
        container, spec = open_device(self.device, self.width, self.height, self.fps,
                                      input_format=self.input_format, platform=self._platform,
                                      sysfs=self._sysfs)
        return container, spec.describe()

    def _convert(self, frame: av.VideoFrame) -> av.VideoFrame:
        if frame.format.name != "yuv420p" or frame.width != self.width or frame.height != self.height:
            frame = frame.reformat(width=self.width, height=self.height, format="yuv420p")
        return frame

    def _worker(self, loop: asyncio.AbstractEventLoop, stopping: threading.Event) -> None:
        def post(callback, *args) -> bool:
            try:
                loop.call_soon_threadsafe(callback, stopping, *args)
                return True
            except RuntimeError:  # the loop is closed
                stopping.set()
                return False

        retry = f"retrying every {self.retry_s:g} s"
        while not stopping.is_set():
            try:
                container, where = self._open()
            except Exception as exc:
                post(self._apply_status, False, f"camera unavailable: {_describe(exc)} ({retry})")
                stopping.wait(self.retry_s)
                continue
            reason = None
            try:
                if stopping.is_set():
                    break
                self.opens += 1
                post(self._apply_status, True, f"camera ready: {where}")
                while reason is None and not stopping.is_set():
                    try:
                        for frame in container.decode(video=0):
                            if stopping.is_set():
                                break
                            self._hand_off(post, self._convert(frame))
                        else:
                            reason = "camera unavailable: the camera stream ended"
                    except av.error.BlockingIOError:  # EAGAIN from a non-blocking input: read again
                        stopping.wait(0.005)
            except Exception as exc:
                reason = f"camera unavailable: {_describe(exc)}"
            finally:
                try:
                    container.close()
                except Exception as exc:
                    log.debug("closing the camera failed: %s", exc)
            if reason and not stopping.is_set():
                post(self._apply_status, False, f"{reason} ({retry})")
                stopping.wait(self.retry_s)
        log.debug("camera thread ends")

    def _hand_off(self, post: Callable[..., bool], frame: av.VideoFrame) -> None:
        """Newest frame wins: at most one frame waits for the loop."""
        with self._lock:
            scheduled = self._pending is not None
            if scheduled:
                self.frames_dropped += 1
            self._pending = frame
        if not scheduled:
            post(self._deliver)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return text if text else type(exc).__name__


# --- factory --------------------------------------------------------------------------------


def make_camera(video_config: Any, label: str = "KIOSK TEST CAMERA", *,
                on_status: Optional[StatusCallback] = None) -> CaptureSource:
    """The capture source for the ``video`` config section: ``camera: synthetic`` → the test
    picture; anything else (an index, a device path, a camera name, "default") → ``DeviceCamera``."""
    camera = str(getattr(video_config, "camera", "synthetic")).strip()
    width, height, fps = video_config.width, video_config.height, video_config.fps
    if camera.lower() == "synthetic":
        return SyntheticCamera(width, height, fps, label=label)
    return DeviceCamera(width, height, fps, device=camera, on_status=on_status, label=label)
