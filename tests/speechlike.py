"""Speech-like test audio and a synthetic room echo path (numpy only; tests and bench/aec_cpu.py).

``speech_like`` is not a tone: a voiced source (harmonics of a pitch that glides and jitters,
plus breath noise) shaped by three formants that jump from vowel to vowel, syllables of
120-280 ms with noise-burst consonants, words of one to four syllables, and pauses between
phrases. It returns the signal (RMS 1 over its active parts) and a mask of where it is active.

``echo_path`` is the impulse response from the kiosk's loudspeaker to its microphone: a direct
path after ``delay_ms``, four reflections (counter top, housing, walls) and a diffuse tail
decaying with a 25 ms time constant, scaled to ``gain_db`` overall.
"""

from __future__ import annotations

import numpy as np

# formant frequencies (Hz) of eight vowels
VOWELS = ((730, 1090, 2440), (270, 2290, 3010), (300, 870, 2240), (530, 1840, 2480),
          (660, 1720, 2410), (490, 1350, 1690), (640, 1190, 2390), (440, 1020, 2240))


def speech_like(seconds: float, rate: int = 48000, seed: int = 0, f0: float = 140.0,
                breath: float = 0.01, jitter: float = 0.01) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = int(round(seconds * rate))
    t = np.arange(n) / rate
    env = np.zeros(n)  # syllable envelope
    fric = np.zeros(n)  # consonant noise bursts
    vowel_at = np.zeros(n, dtype=int)
    pos = int(rng.uniform(0.05, 0.3) * rate)
    while pos < n:
        for _ in range(rng.integers(1, 5)):  # a word
            for _ in range(rng.integers(1, 4)):  # its syllables
                d = int(rng.uniform(0.12, 0.28) * rate)
                if pos + d > n:
                    break
                if rng.random() < 0.4:
                    c = int(rng.uniform(0.03, 0.07) * rate)
                    fric[pos:pos + c] = np.hanning(c) * rng.uniform(0.3, 0.7)
                    pos += c // 2
                    if pos + d > n:
                        break
                env[pos:pos + d] = np.sin(np.linspace(0, np.pi, d)) ** 0.7 * rng.uniform(0.5, 1.0)
                vowel_at[pos:pos + d] = rng.integers(len(VOWELS))
                pos += d
            pos += int(rng.uniform(0.04, 0.15) * rate)
        pos += int(rng.uniform(0.25, 0.8) * rate)

    pitch = f0 * (1 + 0.12 * np.sin(2 * np.pi * 0.7 * t + rng.uniform(0, 6.3))
                  + 0.05 * np.sin(2 * np.pi * 2.3 * t + rng.uniform(0, 6.3)))
    if jitter:
        pitch *= 1 + jitter * np.repeat(rng.standard_normal(n // 240 + 2), 240)[:n]
    phase = 2 * np.pi * np.cumsum(pitch) / rate
    voiced = np.zeros(n)
    for k in range(1, int(4000 / f0) + 1):
        voiced += np.sin(k * phase) / k

    # formants, consonants and breath shaped frame by frame (STFT, 40 ms frames, 10 ms hop)
    hop, size = rate // 100, rate // 25
    win = np.sqrt(np.hanning(size + 1)[:-1])
    freqs = np.fft.rfftfreq(size, 1 / rate)
    fricative = np.clip((freqs - 2500) / 2000, 0, 1) * np.clip((9000 - freqs) / 3000, 0, 1)
    pad = np.zeros(size)
    src_v = np.concatenate([pad, voiced, pad])
    src_n = np.concatenate([pad, rng.standard_normal(n), pad])
    out = np.zeros(n + 2 * size)
    for start in range(0, n + size, hop):
        centre = min(max(start - size // 2, 0), n - 1)
        f1, f2, f3 = VOWELS[vowel_at[centre]]
        shape = sum(a * np.exp(-0.5 * ((freqs - f) / bw) ** 2)
                    for f, bw, a in ((f1, 90, 1.0), (f2, 120, 0.6), (f3, 160, 0.3))) + 0.02
        sv = np.fft.rfft(src_v[start:start + size] * win) * shape * env[centre]
        sn = np.fft.rfft(src_n[start:start + size] * win) * (
            fricative * 0.05 * fric[centre] + (0.003 + breath) * env[centre] * shape)
        out[start:start + size] += np.fft.irfft(sv + sn, size) * win
    y = out[size:size + n]
    active = (env > 0.05) | (fric > 0.05)
    return y / (np.sqrt(np.mean(y[active] ** 2)) + 1e-12), active


def echo_path(rate: int = 48000, delay_ms: float = 6.0, gain_db: float = -6.0,
              seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    length = int(0.12 * rate)
    h = np.zeros(length)
    d = int(delay_ms * rate / 1000)
    h[d] = 1.0
    for ms, g in ((9.5, 0.5), (14.0, -0.35), (23.0, 0.25), (37.0, -0.15)):
        h[int(ms * rate / 1000)] += g
    h[d:] += rng.standard_normal(length - d) * np.exp(-np.arange(length - d) / (0.025 * rate)) * 0.05
    return h / np.sqrt(np.sum(h ** 2)) * 10 ** (gain_db / 20)


def dbfs(x: np.ndarray) -> float:
    """RMS level of float samples (full scale 1.0) in dB."""
    return 10 * np.log10(float(np.mean(np.square(x))) + 1e-20)


def best_lag(sent: np.ndarray, clean: np.ndarray, max_lag: int) -> int:
    """The delay (samples, 0 … max_lag) at which ``clean`` fits ``sent`` best (cross-correlation)."""
    size = 1 << int(np.ceil(np.log2(len(sent) + len(clean))))
    xc = np.fft.irfft(np.fft.rfft(sent, size) * np.conj(np.fft.rfft(clean, size)), size)
    return int(np.argmax(xc[:max_lag + 1]))


def speech_gain_db(sent: np.ndarray, clean: np.ndarray, mask: np.ndarray, lag: int,
                   frame: int = 960) -> float:
    """How much of ``clean`` (a talker's voice as it reached the microphone) is in ``sent``
    (what went out, ``lag`` samples later), in dB: frame by frame (20 ms) the least-squares gain
    of ``clean`` in ``sent``, its square weighted by the frame's energy, over the frames that
    ``mask`` marks for at least half their length. Echo and noise left in ``sent`` do not
    count (they are not ``clean``); a processor that changes its gain from frame to frame is
    measured by the energy it lets through, not by an average of its gain."""
    n = min(len(clean), len(sent) - lag, len(mask))
    num = den = 0.0
    for start in range(0, n - frame + 1, frame):
        if mask[start:start + frame].sum() < frame // 2:
            continue
        c = clean[start:start + frame]
        energy = float(np.dot(c, c))
        if energy <= 0:
            continue
        g = float(np.dot(sent[lag + start:lag + start + frame], c)) / energy
        num += g * g * energy
        den += energy
    return 10 * np.log10(num / den) if num > 0 else -200.0
