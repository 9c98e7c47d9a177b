"""Counter kiosk: one tap from a service counter to a remote sign-language interpreter."""

__version__ = "0.1.0"
