"""Everything Qt: the kiosk window, the bridge to the call engine, the screens.

PySide6 6.12 on Python 3.11 drops one reference to ``True`` on every ``Signal.emit()`` without
having taken it (reproduce: emit a signal 100 times, ``sys.getrefcount(True)`` falls by 100).
Python before 3.12 does not make ``True`` immortal, so after a few thousand emits the process
aborts with "Fatal Python error: bool_dealloc" — about three minutes into video calls, which emit
for every frame. Until PySide6 is fixed, the kiosk gives ``True`` and ``False`` enough references
to outlive any run (2**40: decades at thousands of emits a second), which is what Python 3.12
does for them anyway.
"""

import sys


def _keep_bools_alive() -> None:
    if sys.version_info >= (3, 12):  # immortal there
        return
    import ctypes

    for value in (True, False):
        ctypes.c_ssize_t.from_address(id(value)).value += 1 << 40


_keep_bools_alive()
