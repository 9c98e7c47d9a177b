"""The dispatch service (no Qt): kiosks and interpreters meet here; media never passes through."""

from kiosk.dispatch.app import DispatchSettings, RunningDispatch, create_app, run, serve
from kiosk.dispatch.hub import Hub

__all__ = ["DispatchSettings", "Hub", "RunningDispatch", "create_app", "run", "serve"]
