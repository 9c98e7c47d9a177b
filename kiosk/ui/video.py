"""Decoded frames to the screen: YUV planes copied into a ``QVideoFrame`` for a QML VideoOutput.

``LatestFrame`` is the hand-off between the call thread and the GUI thread: the call thread
offers every frame, the GUI thread shows only the newest one when it gets to it. Frames are
never queued for a busy GUI, so a slow paint costs frames, not delay.
"""

from __future__ import annotations

import threading
from typing import Optional

import av
import numpy as np
from PySide6.QtCore import QObject, QSize, Qt, Signal, Slot
from PySide6.QtMultimedia import QVideoFrame, QVideoFrameFormat, QVideoSink

_FORMATS: dict[tuple[int, int], QVideoFrameFormat] = {}


def _format(width: int, height: int) -> QVideoFrameFormat:
    fmt = _FORMATS.get((width, height))
    if fmt is None:
        fmt = QVideoFrameFormat(QSize(width, height), QVideoFrameFormat.PixelFormat.Format_YUV420P)
        fmt.setColorSpace(QVideoFrameFormat.ColorSpace.ColorSpace_BT601)
        fmt.setColorRange(QVideoFrameFormat.ColorRange.ColorRange_Video)
        _FORMATS[(width, height)] = fmt
    return fmt


def to_qvideoframe(frame: av.VideoFrame) -> QVideoFrame:
    """Copy an ``av.VideoFrame`` into a new YUV420P ``QVideoFrame`` (stride-aware)."""
    if frame.format.name != "yuv420p":
        frame = frame.reformat(format="yuv420p")
    q = QVideoFrame(_format(frame.width, frame.height))
    if not q.map(QVideoFrame.MapMode.WriteOnly):
        raise RuntimeError("cannot map video frame for writing")
    try:
        for i, plane in enumerate(frame.planes):
            dst = np.frombuffer(q.bits(i), np.uint8).reshape(-1, q.bytesPerLine(i))
            src = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)
            dst[: plane.height, : plane.width] = src[: plane.height, : plane.width]
    finally:
        q.unmap()
    return q


class LatestFrame(QObject):
    """Newest-frame slot in front of a ``QVideoSink``. ``offer`` may be called from any thread."""

    _ready = Signal()

    def __init__(self, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._frame: Optional[av.VideoFrame] = None
        self._pending = False
        self._sink: Optional[QVideoSink] = None
        self._open = False  # frames are taken only between open() and clear()
        self.offered = 0
        self.shown = 0
        self._ready.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    def set_sink(self, sink: Optional[QObject]) -> None:
        self._sink = sink if isinstance(sink, QVideoSink) else None

    @property
    def sink(self) -> Optional[QVideoSink]:
        return self._sink

    def open(self) -> None:
        """Start taking frames (a call began)."""
        with self._lock:
            self._open = True

    def offer(self, frame: av.VideoFrame) -> None:
        with self._lock:
            if not self._open:
                return  # a straggler from a call that is over: never show it
            self._frame = frame
            self.offered += 1
            if self._pending:
                return  # the GUI has not taken the last one yet: it will take this one instead
            self._pending = True
        self._ready.emit()

    @Slot()
    def _deliver(self) -> None:
        with self._lock:
            frame, self._frame = self._frame, None
            self._pending = False
        if frame is None or self._sink is None:
            return
        self._sink.setVideoFrame(to_qvideoframe(frame))
        self.shown += 1

    def clear(self) -> None:
        """Stop taking frames and blank the screen: nothing of the last call stays."""
        with self._lock:
            self._frame = None
            self._open = False
        if self._sink is not None:
            self._sink.setVideoFrame(QVideoFrame())
