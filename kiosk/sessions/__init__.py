"""The session log (no Qt, no call engine): records, the SQLite store, migrations."""

from kiosk.sessions.model import END_REASONS, RATING_LABELS, STATES, SessionRecord
from kiosk.sessions.store import SCHEMA_VERSION, SessionStore, StoreError

__all__ = ["END_REASONS", "RATING_LABELS", "SCHEMA_VERSION", "STATES", "SessionRecord",
           "SessionStore", "StoreError"]
