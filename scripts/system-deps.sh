#!/usr/bin/env bash
# Installs the system libraries the kiosk and its test suite need (Debian/Ubuntu).
# Idempotent: only missing packages are installed. Prints what to do where it cannot install.
set -euo pipefail

PACKAGES=(
  # Qt (PySide6 wheels link these even when rendering offscreen)
  libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 libglib2.0-0
  libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0 libxcb-randr0
  libxcb-render-util0 libxcb-image0 libpulse0
  fonts-noto-cjk
  # audio through PortAudio; PulseAudio null sink for the audio tests
  libportaudio2 pulseaudio libasound2-plugins
  # browser tests and screenshots
  chromium xvfb xauth
  # kiosk mode on a real X server: a window manager, XTEST keys, close requests
  openbox xdotool wmctrl x11-utils
  # central records in PostgreSQL (tests start their own server)
  postgresql libpq5
  # network-fault tests: namespaces and a veth pair made with `ip` (run as root)
  iproute2
  # the crash tests watch the session log's commits reach the disk
  strace
)

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "system-deps: not a Debian-family system; install the equivalents of: ${PACKAGES[*]}" >&2
  exit 0
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "system-deps: missing system packages: ${missing[*]}" >&2
    echo "system-deps: run as root: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi
echo "system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
log="$(mktemp -t kiosk-apt.XXXXXX.log)"
if ! { $SUDO apt-get update -q && $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
  tail -n 40 "$log" >&2
  echo "system-deps: installing system packages failed (full log: $log)" >&2
  exit 1
fi
echo "system-deps: done"
