"""The session record: what the district's reports need about one interpreted session, and
nothing personal."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Optional

STATES = ("idle", "requesting", "queued", "ringing", "connecting", "connected", "reconnecting", "ended")
END_REASONS = ("completed", "cancelled_by_caller", "no_interpreter", "out_of_hours", "declined",
               "dispatch_unreachable", "network_lost", "device_error", "interrupted")
ENDED_BY = ("kiosk", "interpreter", "dispatch", "system")
STARTED_BY = ("resident", "staff")
# counts about a call, kept beside its record (see SessionStore.set_call_facts)
CALL_FACTS = ("text_chars_sent", "text_chars_received", "media_gaps", "media_gap_s")
RATING_LABELS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}


@dataclass(frozen=True)
class SessionRecord:
    session_id: str
    kiosk_id: str
    started_by: str
    category: Optional[str]
    state: str  # the last state the call reached
    requested_at: float  # epoch seconds: the tap
    answered_at: Optional[float]  # the interpreter accepted
    connected_at: Optional[float]  # media flowing
    ended_at: Optional[float]
    wait_s: Optional[float]  # tap → answer (or → end, if never answered)
    talk_s: Optional[float]  # connected → end
    end_reason: Optional[str]
    ended_by: Optional[str]
    interpreter_id: Optional[str]
    rating: Optional[int]  # 5 非常满意 … 1 非常不满意; None = not rated
    rated_at: Optional[float]
    app_version: str
    # call quality over the call, JSON: median and worst of fps in/out, kbps, loss, rtt
    # (kiosk.call.quality.summarize); None when the call never had media
    quality: Optional[str] = None
    # real-time text: characters typed at the kiosk / by the interpreter (never the text itself)
    text_chars_sent: int = 0
    text_chars_received: int = 0
    # media gaps: how often the media stopped mid-call and was reconnected, and for how long
    media_gaps: int = 0
    media_gap_s: float = 0.0

    @property
    def is_open(self) -> bool:
        return self.end_reason is None

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)
