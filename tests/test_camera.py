"""DeviceCamera without a camera: FFmpeg's real ``lavfi`` input (``testsrc2`` paced by the
``realtime`` filter, as a device paces itself) goes through the very worker-thread / hand-off /
publish code a v4l2 camera uses; only the opening is injected. Device lookup (sysfs names,
dshow, avfoundation) is checked against a fake /sys tree.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import threading
import time

import av
import pytest

from kiosk.call import camera as cam_mod
from kiosk.call.camera import (CameraInfo, CameraNotFound, DeviceCamera, SourceSpec, list_cameras,
                               make_camera, resolve_source)
from kiosk.call.media import STAMP_BITS, CaptureTrack, SyntheticCamera, read_stamp
from kiosk.config import VideoConfig

W, H, FPS = 320, 240, 30
LAVFI = SourceSpec("testsrc2=size=640x480:rate=30,realtime", "lavfi")  # larger: forces reformat


# --- helpers --------------------------------------------------------------------------------


class Opener:
    """Counts opens; each call opens the real lavfi input (optionally slowly / unplugged)."""

    def __init__(self, spec: SourceSpec = LAVFI, delay_s: float = 0.0,
                 fail_after: int | None = None) -> None:
        self.spec, self.delay_s, self.fail_after = spec, delay_s, fail_after
        self.plugged = True
        self.calls: list[float] = []  # monotonic time of every attempt
        self.opened: list["Wrapped"] = []

    def __call__(self):
        self.calls.append(time.monotonic())
        assert threading.current_thread().name == DeviceCamera.THREAD_NAME  # never on the loop
        if self.delay_s:
            time.sleep(self.delay_s)
        if not self.plugged:
            raise av.error.FileNotFoundError(errno.ENOENT, "No such file or directory", "/dev/video0")
        wrapped = Wrapped(self.spec.open(), self.fail_after)
        self.opened.append(wrapped)
        return wrapped


class Wrapped:
    """A real container whose reads fail after ``fail_after`` frames (the camera was unplugged)
    or pause ``pause_s`` once after ``pause_after`` frames (the camera stalls)."""

    def __init__(self, container, fail_after: int | None = None, pause_after: int | None = None,
                 pause_s: float = 0.0) -> None:
        self.container, self.fail_after = container, fail_after
        self.pause_after, self.pause_s = pause_after, pause_s
        self.closed = False

    def decode(self, *args, **kwargs):
        for i, frame in enumerate(self.container.decode(*args, **kwargs)):
            if self.fail_after is not None and i >= self.fail_after:
                raise av.error.OSError(errno.ENODEV, "No such device")
            if self.pause_after is not None and i == self.pause_after:
                time.sleep(self.pause_s)
            yield frame

    def close(self) -> None:
        self.closed = True
        self.container.close()


class Ticker:
    """Measures the loop's worst scheduling lag (how late a 5 ms sleep wakes up)."""

    def __init__(self) -> None:
        self.max_lag = 0.0
        self._task = asyncio.get_running_loop().create_task(self._tick())

    async def _tick(self) -> None:
        while True:
            t = time.monotonic()
            await asyncio.sleep(0.005)
            self.max_lag = max(self.max_lag, time.monotonic() - t - 0.005)

    async def stop(self) -> float:
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass
        return self.max_lag


class Recorder:
    """Self-view subscriber: every frame with its arrival time and kind."""

    def __init__(self, camera: DeviceCamera) -> None:
        self.camera = camera
        self.frames: list[tuple[float, av.VideoFrame, bool]] = []
        camera.subscribe(self)

    def __call__(self, frame) -> None:
        # the frame is published on the loop thread; available tells device frames from placeholders
        assert threading.current_thread() is threading.main_thread()
        self.frames.append((time.monotonic(), frame, self.camera.available))

    def count(self, since: float, real: bool | None = None) -> int:
        return sum(1 for t, _, r in self.frames if t >= since and (real is None or r == real))


async def eventually(predicate, timeout: float = 5.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def stop_promptly(camera: DeviceCamera) -> float:
    thread = camera._thread
    t = time.monotonic()
    await camera.stop()
    took = time.monotonic() - t
    assert thread is None or not thread.is_alive()
    assert took < 1.0, f"stop took {took:.2f} s"
    return took


def camera_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name == DeviceCamera.THREAD_NAME]


@pytest.fixture(autouse=True)
def no_camera_thread_left():
    yield
    deadline = time.monotonic() + 2
    while camera_threads() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not camera_threads()


def stamp_age_ms(frame: av.VideoFrame) -> int:
    now = int(time.time() * 1000) % (1 << STAMP_BITS)
    return (now - read_stamp(frame.to_ndarray()[: frame.height])) % (1 << STAMP_BITS)


# --- capture through the worker thread (real FFmpeg lavfi input) ----------------------------


@pytest.mark.slow
@pytest.mark.asyncio
async def test_one_open_feeds_self_view_and_track_at_the_configured_rate_size_and_format():
    opener = Opener()
    camera = DeviceCamera(W, H, FPS, LAVFI, opener=opener)
    view = Recorder(camera)
    track = camera.track()
    track_frames = []

    async def call_side():
        while True:
            track_frames.append(await track.recv())

    ticker = Ticker()
    camera.start()
    sender = asyncio.get_running_loop().create_task(call_side())
    await eventually(lambda: camera.frames_real > 0, what="first device frame")
    t0 = time.monotonic()
    sent0 = len(track_frames)
    await asyncio.sleep(2.0)
    real = view.count(t0, real=True)
    sent = len(track_frames) - sent0
    lag = await ticker.stop()
    took = await stop_promptly(camera)
    sender.cancel()
    await asyncio.gather(sender, return_exceptions=True)

    fps = real / 2.0
    print(f"\ndevice fps {fps:.1f}, call fps {sent / 2.0:.1f}, loop lag max {lag * 1000:.1f} ms, "
          f"dropped {camera.frames_dropped}, stop {took * 1000:.0f} ms")
    assert FPS * 0.8 <= fps <= FPS * 1.2
    assert FPS * 0.8 <= sent / 2.0 <= FPS * 1.2  # the call gets the same capture
    assert len(opener.calls) == 1 and camera.opens == 1  # one open for both consumers
    assert opener.opened[0].closed  # closed by the worker on stop
    for _, frame, is_real in view.frames[-30:]:
        assert is_real
        assert (frame.width, frame.height, frame.format.name) == (W, H, "yuv420p")
    assert {id(f) for f in track_frames[-10:]} <= {id(f) for _, f, _ in view.frames}  # same frames
    assert camera.available and camera.status_message.startswith("camera ready")
    assert lag < 0.1


@pytest.mark.slow
@pytest.mark.asyncio
async def test_a_slow_open_never_blocks_the_loop_and_the_starting_picture_keeps_coming():
    opener = Opener(delay_s=1.5)
    camera = DeviceCamera(W, H, FPS, LAVFI, opener=opener)
    view = Recorder(camera)
    ticker = Ticker()
    t0 = time.monotonic()
    camera.start()
    await eventually(lambda: camera.frames_real > 0, timeout=5, what="device frames after a slow open")
    opened_after = time.monotonic() - t0
    lag = await ticker.stop()
    placeholders = view.count(t0, real=False)
    await stop_promptly(camera)

    print(f"\nopen took {opened_after:.2f} s, loop lag max {lag * 1000:.1f} ms, "
          f"{placeholders} starting pictures meanwhile")
    assert opened_after >= 1.5
    assert lag < 0.1, f"the loop was blocked for {lag * 1000:.0f} ms"
    assert placeholders >= 1.5 * FPS * 0.8  # the self-view kept moving while the device opened
    assert len(opener.calls) == 1


@pytest.mark.slow
@pytest.mark.asyncio
async def test_unplugged_mid_capture_shows_unavailable_then_resumes_when_replugged():
    opener = Opener(fail_after=15)
    statuses: list[tuple[bool, str]] = []
    camera = DeviceCamera(W, H, FPS, LAVFI, opener=opener, retry_s=1.0,  # default 2 s; quicker here
                          on_status=lambda ok, msg: statuses.append((ok, msg)))
    view = Recorder(camera)
    track = camera.track()
    camera.start()
    await eventually(lambda: camera.frames_real >= 15, what="15 device frames")
    opener.plugged = False  # the cable is out: reopening fails until it is back
    await eventually(lambda: not camera.available, timeout=2, what="unavailable")
    assert statuses[-1][0] is False and "No such device" in statuses[-1][1]
    t0 = time.monotonic()
    await asyncio.sleep(1.0)
    placeholders = view.count(t0, real=False)
    assert view.count(t0, real=True) == 0
    frame = await track.recv()  # the call still gets pictures: the unavailable one
    assert not camera.available and (frame.width, frame.height) == (W, H)
    assert stamp_age_ms(frame) < 500
    await eventually(lambda: len(opener.calls) >= 3, timeout=3, what="two failed reopen attempts")

    opener.plugged = True
    t_plug = time.monotonic()
    await eventually(lambda: camera.available, timeout=3, what="available again")
    back_after = time.monotonic() - t_plug
    t1 = time.monotonic()
    await eventually(lambda: view.count(t1, real=True) >= 10, timeout=2, what="device frames again")
    await stop_promptly(camera)

    retries = [b - a for a, b in zip(opener.calls[1:], opener.calls[2:])]
    print(f"\n{placeholders} unavailable pictures in 1 s, back {back_after:.2f} s after replug, "
          f"reopen attempts {[round(r, 2) for r in retries]} s apart")
    assert FPS * 0.8 <= placeholders <= FPS * 1.2
    oks = [ok for ok, _ in statuses]
    assert oks == [True, False, False, True]  # ready, read error, reopen fails (new message), back
    assert "No such file or directory" in statuses[2][1]
    assert all(0.9 <= r <= 1.4 for r in retries)
    assert back_after <= 1.4
    assert len(opener.opened) == 2 and all(w.closed for w in opener.opened)
    assert camera.opens == 2


@pytest.mark.slow
@pytest.mark.asyncio
async def test_a_stalled_camera_shows_unavailable_and_recovers_when_frames_come_back():
    statuses: list[tuple[bool, str]] = []

    def opener():
        return Wrapped(LAVFI.open(), pause_after=10, pause_s=1.2)

    camera = DeviceCamera(W, H, FPS, LAVFI, opener=opener, stall_s=0.5,
                          on_status=lambda ok, msg: statuses.append((ok, msg)))
    view = Recorder(camera)
    camera.start()
    await eventually(lambda: len(statuses) >= 2, timeout=3, what="stall detected")
    assert statuses[1][0] is False and "no picture" in statuses[1][1]
    await eventually(lambda: len(statuses) >= 3, timeout=3, what="recovered")
    assert statuses[2] == (True, "camera picture resumed")
    t0 = time.monotonic()
    await eventually(lambda: view.count(t0, real=True) >= 5, timeout=2, what="device frames again")
    await stop_promptly(camera)
    assert any(not real for _, _, real in view.frames[10:])  # the placeholder filled the gap


@pytest.mark.slow
@pytest.mark.asyncio
async def test_a_busy_loop_gets_the_newest_frame_not_a_backlog():
    camera = DeviceCamera(W, H, FPS, LAVFI, opener=Opener())
    view = Recorder(camera)
    camera.start()
    await eventually(lambda: camera.frames_real >= 5, what="device frames")
    before = len(view.frames)
    time.sleep(0.5)  # the loop is busy elsewhere; the camera keeps capturing
    await asyncio.sleep(0)
    await asyncio.sleep(0.01)
    burst = view.frames[before:]
    newest_pts = max(f.pts for _, f, real in view.frames if real)
    await asyncio.sleep(0.2)
    after = [f.pts for _, f, real in view.frames[before + len(burst):] if real]
    await stop_promptly(camera)
    assert len(burst) <= 2  # one waiting frame at most, not the ~15 captured meanwhile
    assert camera.frames_dropped >= 10
    assert after and after[0] > newest_pts  # then it carries on from live frames


@pytest.mark.slow
@pytest.mark.asyncio
async def test_stop_then_start_again_reopens_cleanly():
    opener = Opener()
    statuses: list[tuple[bool, str]] = []
    camera = DeviceCamera(W, H, FPS, LAVFI, opener=opener, stall_s=0.5,
                          on_status=lambda ok, msg: statuses.append((ok, msg)))
    camera.start()
    await eventually(lambda: camera.frames_real >= 5, what="device frames")
    await stop_promptly(camera)
    assert opener.opened[0].closed
    await asyncio.sleep(0.6)  # longer than stall_s: a stale state must not read as a stall
    before = camera.frames_real
    camera.start()
    await eventually(lambda: camera.frames_real >= before + 5, what="device frames after restart")
    await stop_promptly(camera)
    assert [ok for ok, _ in statuses] == [True, True]
    assert len(opener.opened) == 2 and all(w.closed for w in opener.opened)


# --- no camera at all -----------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.asyncio
@pytest.mark.parametrize("device, needle", [
    ("missing-path", "No such file or directory"),
    ("No Such Camera 9000", "no camera named 'No Such Camera 9000'"),
])
async def test_no_camera_at_start_gives_the_unavailable_picture_and_a_message(
        tmp_path, monkeypatch, caplog, device, needle):
    monkeypatch.setattr(cam_mod, "SYSFS_V4L", tmp_path / "no-sysfs")
    if device == "missing-path":
        device = str(tmp_path / "video0")
    statuses: list[tuple[bool, str]] = []
    caplog.set_level(logging.WARNING, logger="kiosk.call.camera")
    camera = DeviceCamera(W, H, FPS, device, on_status=lambda ok, msg: statuses.append((ok, msg)))
    view = Recorder(camera)
    track = camera.track()
    camera.start()  # real default opener, on a device that is not there: no exception
    await eventually(lambda: statuses, timeout=3, what="a status")
    t0 = time.monotonic()
    frame = await asyncio.wait_for(track.recv(), 1)
    await asyncio.sleep(1.0)
    n = view.count(t0, real=False)
    await stop_promptly(camera)  # also prompt while the worker waits to retry

    assert statuses == [(False, statuses[0][1])] and needle in statuses[0][1]
    assert "retrying every 2 s" in statuses[0][1]
    assert any(needle in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)
    assert not camera.available and camera.frames_real == 0
    assert FPS * 0.8 <= n <= FPS * 1.2
    assert (frame.width, frame.height, frame.format.name) == (W, H, "yuv420p")


@pytest.mark.asyncio
async def test_the_unavailable_picture_carries_a_readable_capture_stamp():
    def opener():
        raise av.error.FileNotFoundError(errno.ENOENT, "No such file or directory", "/dev/video0")

    camera = DeviceCamera(1280, 720, FPS, "/dev/video0", opener=opener)
    view = Recorder(camera)
    camera.start()
    await eventually(lambda: not camera.available and camera.status_message != "camera starting",
                     what="unavailable")
    await eventually(lambda: len(view.frames) >= 3, what="pictures")
    t, frame, _ = view.frames[-1]
    await stop_promptly(camera)
    age = stamp_age_ms(frame) - (time.monotonic() - t) * 1000
    assert (frame.width, frame.height, frame.format.name) == (1280, 720, "yuv420p")
    assert 0 <= age < 100
    y = frame.to_ndarray()[:720]
    assert y[200:600].mean() < 60 and y.max() >= 200  # dark picture with a bright label


# --- finding devices ------------------------------------------------------------------------


@pytest.fixture
def sysfs(tmp_path):
    root = tmp_path / "video4linux"
    for n, name, index in [(0, "HD Webcam C270", 0), (1, "HD Webcam C270", 1),
                           (2, "USB Capture HDMI", 0), (10, "bcm2835-isp", 0)]:
        node = root / f"video{n}"
        node.mkdir(parents=True)
        (node / "name").write_text(name + "\n")
        (node / "index").write_text(f"{index}\n")
    return root


def test_linux_devices_by_index_path_name_and_default(sysfs):
    def file(device, **kw):
        return resolve_source(device, 1280, 720, 30, platform="linux", sysfs=sysfs, **kw).file

    assert file(0) == file("0") == "/dev/video0"
    assert file("2") == "/dev/video2"
    assert file("/dev/video7") == "/dev/video7"  # a path is used as it is
    assert file("/dev/v4l/by-id/usb-cam-video-index0") == "/dev/v4l/by-id/usb-cam-video-index0"
    assert file("hd webcam c270") == "/dev/video0"  # the capture node, not the metadata one
    assert file("Capture") == "/dev/video2"  # a unique part of the name is enough
    assert file("default") == file("") == "/dev/video0"
    spec = resolve_source("USB Capture HDMI", 1280, 720, 30, input_format="mjpeg",
                          platform="linux", sysfs=sysfs)
    assert spec.format == "v4l2"
    assert spec.options == {"video_size": "1280x720", "framerate": "30", "input_format": "mjpeg"}
    with pytest.raises(CameraNotFound, match="no camera named 'Logitech'.*HD Webcam C270"):
        file("Logitech")


def test_windows_and_macos_device_strings(monkeypatch):
    monkeypatch.setattr(cam_mod, "_enumerate", lambda backend: [
        av.DeviceInfo("@device_pnp_abc", "Integrated Camera", True, ["video"])])
    win = resolve_source("Integrated Camera", 640, 480, 30, platform="win32", input_format="mjpeg")
    assert (win.file, win.format, win.options["vcodec"]) == ("video=Integrated Camera", "dshow", "mjpeg")
    assert resolve_source(0, 640, 480, 30, platform="win32").file == "video=@device_pnp_abc"
    with pytest.raises(CameraNotFound):
        resolve_source(3, 640, 480, 30, platform="win32")
    mac = resolve_source(1, 640, 480, 30, platform="darwin")
    assert (mac.file, mac.format, mac.options["framerate"]) == ("1:none", "avfoundation", "30")
    assert resolve_source("FaceTime HD Camera", 640, 480, 30, platform="darwin").file == \
        "FaceTime HD Camera:none"
    assert resolve_source("default", 640, 480, 30, platform="darwin").file == "default:none"
    assert list_cameras(platform="win32") == [
        CameraInfo("Integrated Camera", "@device_pnp_abc", "dshow", True)]


def test_list_cameras(sysfs, tmp_path):
    assert list_cameras(platform="linux", sysfs=sysfs) == [
        CameraInfo("HD Webcam C270", "/dev/video0", "v4l2", True),
        CameraInfo("USB Capture HDMI", "/dev/video2", "v4l2", False),
        CameraInfo("bcm2835-isp", "/dev/video10", "v4l2", False),
    ]
    assert list_cameras(platform="linux", sysfs=tmp_path / "absent") == []
    assert list_cameras(platform="sunos5") == []
    assert isinstance(list_cameras(), list)  # this machine (no camera): no exception


def test_make_camera_picks_the_source_from_the_config():
    synthetic = make_camera(VideoConfig(width=640, height=360, fps=15), "KIOSK K1")
    assert type(synthetic) is SyntheticCamera and synthetic.label == "KIOSK K1"
    device = make_camera(VideoConfig(width=640, height=360, fps=15, camera="/dev/video2"), "KIOSK K1")
    assert isinstance(device, DeviceCamera) and device.device == "/dev/video2"
    assert (device.width, device.height, device.fps) == (640, 360, 15)
    assert isinstance(device.track(), CaptureTrack)
