"""A private PulseAudio daemon with null sinks, for the tests that use real PortAudio devices.

``private_pulseaudio`` starts ``pulseaudio`` with its runtime, home and config folders in
temporary places, loads one ``module-null-sink`` per name given, and yields the environment a
PortAudio client needs to reach it (``PULSE_SERVER``, and a ``~/.asoundrc`` that makes ALSA's
``pulse``/``default`` devices, plus any extra ALSA pcm definitions, go to that daemon). The
daemon is stopped (SIGTERM, then SIGKILL) when the block ends, also on failure.

Run the audio code in a SUBPROCESS with that environment: PortAudio reads its device list once,
and the variables must never leak into the rest of the suite.

Recipe (works as root, which CI is; pulseaudio only warns "not intended to be run as root"):
  pulseaudio --daemonize=no --system=false -n --exit-idle-time=-1 --disallow-exit
             --disable-shm=yes --use-pid-file=no --realtime=no --high-priority=no
             --load="module-null-sink sink_name=NAME rate=48000 channels=2"   (one per sink)
             --load="module-native-protocol-unix socket=$RUNTIME/native auth-anonymous=1"
  with HOME, XDG_RUNTIME_DIR, PULSE_RUNTIME_PATH, XDG_CONFIG_HOME private (tmp), client.conf
  ``autospawn = no``; the client gets PULSE_SERVER=unix:$RUNTIME/native and ``~/.asoundrc`` =
  ``pcm.!default { type pulse }`` ``ctl.!default { type pulse }`` (Debian's
  /etc/alsa/conf.d/99-pulse.conf does the same when libasound2-plugins is installed).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Iterable, Iterator

import pytest

BASE_ASOUNDRC = "pcm.!default { type pulse }\nctl.!default { type pulse }\n"
CLEARED_VARS = ("PULSE_SERVER", "PULSE_SINK", "PULSE_SOURCE", "PULSE_COOKIE", "ALSA_CONFIG_PATH",
                "PULSE_CLIENTCONFIG")


def pulse_pcm(name: str, device: str) -> str:
    """An ALSA pcm ``name`` that plays to / records from the PulseAudio sink or source ``device``
    (PortAudio lists it as a device called ``name``)."""
    return f"pcm.{name} {{ type pulse device {device} }}\n"


def require_pulseaudio() -> str:
    binary = shutil.which("pulseaudio")
    if binary is None:
        pytest.skip("the pulseaudio binary is not installed (scripts/system-deps.sh installs it)")
    return binary


@contextlib.contextmanager
def private_pulseaudio(tmp_path: Path, sinks: Iterable[str] = ("kiosk_test",),
                       extra_asoundrc: str = "") -> Iterator[dict]:
    """Start a private PulseAudio daemon with a 48 kHz stereo null sink per name in ``sinks``;
    yield the environment for a client process (``os.environ`` minus any PulseAudio/ALSA
    overrides, plus private HOME/XDG folders and PULSE_SERVER). ``extra_asoundrc`` is appended
    to the client's ``~/.asoundrc`` (see ``pulse_pcm``). Skips the test if pulseaudio is missing."""
    binary = require_pulseaudio()
    # the socket path must stay under 108 bytes: keep the runtime dir short
    runtime = Path(tempfile.mkdtemp(prefix="kpa-"))
    home = tmp_path / "home"
    (home / ".config" / "pulse").mkdir(parents=True)
    (home / ".config" / "pulse" / "client.conf").write_text("autospawn = no\n")
    (home / ".asoundrc").write_text(BASE_ASOUNDRC + extra_asoundrc)
    socket_path = runtime / "native"
    env = dict(os.environ)
    for var in CLEARED_VARS:
        env.pop(var, None)
    env.update(HOME=str(home), XDG_RUNTIME_DIR=str(runtime), PULSE_RUNTIME_PATH=str(runtime / "pulse"),
               XDG_CONFIG_HOME=str(home / ".config"))
    log_path = tmp_path / "pulseaudio.log"
    sink_args = [f"--load=module-null-sink sink_name={name} rate=48000 channels=2" for name in sinks]
    daemon = None
    try:
        with open(log_path, "wb") as log:
            daemon = subprocess.Popen(
                [binary, "--daemonize=no", "--system=false", "-n", "--exit-idle-time=-1",
                 "--disallow-exit", "--disable-shm=yes", "--use-pid-file=no", "--realtime=no",
                 "--high-priority=no", "--log-target=stderr", "--log-level=notice", *sink_args,
                 f"--load=module-native-protocol-unix socket={socket_path} auth-anonymous=1"],
                env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        env["PULSE_SERVER"] = f"unix:{socket_path}"
        deadline = time.monotonic() + 10
        while True:
            if daemon.poll() is not None:
                pytest.fail(f"pulseaudio exited with {daemon.returncode}:\n{log_path.read_text()}")
            ready = socket_path.exists() and subprocess.run(
                ["pactl", "info"] if shutil.which("pactl") else ["true"], env=env,
                capture_output=True, timeout=5).returncode == 0
            if ready:
                break
            if time.monotonic() > deadline:
                pytest.fail(f"pulseaudio did not start in 10 s:\n{log_path.read_text()}")
            time.sleep(0.05)
        yield env
    finally:
        if daemon is not None:
            stop_process(daemon)
        shutil.rmtree(runtime, ignore_errors=True)


def stop_process(process: subprocess.Popen, grace_s: float = 5.0) -> None:
    """SIGTERM ``process``, SIGKILL it if it is still there after ``grace_s``; reap it."""
    if process.poll() is not None:
        return
    try:
        process.send_signal(signal.SIGTERM)
        process.wait(grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(grace_s)
