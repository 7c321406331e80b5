"""Audio conversions with PyAV: anything to 16 kHz mono WAV for speech-to-text, and to OGG/Opus
(48 kHz mono) for WhatsApp voice notes. PyAV's wheels carry FFmpeg and libopus, so nothing needs
installing beside Hearth."""

from __future__ import annotations

import io
import wave
from collections.abc import Iterator
from typing import TYPE_CHECKING

from assistant.media.errors import Unreadable

if TYPE_CHECKING:
    from av.audio.frame import AudioFrame

SPEECH_RATE = 16_000
VOICE_RATE = 48_000
VOICE_BIT_RATE = 32_000


def _frames(data: bytes, rate: int) -> Iterator[AudioFrame]:
    """Every frame of the first audio stream, resampled to signed 16-bit mono at `rate`."""
    import av

    with av.open(io.BytesIO(data), "r") as container:
        if not container.streams.audio:
            raise Unreadable("the file has no audio")
        resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
        for frame in container.decode(audio=0):
            yield from resampler.resample(frame)
        yield from resampler.resample(None)


def to_speech_wav(data: bytes) -> bytes:
    """16 kHz mono 16-bit WAV, the input every speech-to-text server reads. Blocking."""
    import av

    out = io.BytesIO()
    try:
        with wave.open(out, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(SPEECH_RATE)
            for frame in _frames(data, SPEECH_RATE):
                wav.writeframes(bytes(frame.planes[0])[: frame.samples * 2])
    except (av.FFmpegError, UnicodeDecodeError) as exc:
        raise Unreadable(f"audio could not be decoded: {exc}") from exc
    return out.getvalue()


def to_voice_note(data: bytes) -> bytes:
    """OGG/Opus, 48 kHz mono at 32 kbit/s: what WhatsApp shows as a voice note. Blocking."""
    import av

    out = io.BytesIO()
    try:
        with av.open(out, "w", format="ogg") as container:
            stream = container.add_stream("libopus", rate=VOICE_RATE, layout="mono")
            stream.bit_rate = VOICE_BIT_RATE
            for frame in _frames(data, VOICE_RATE):
                container.mux(stream.encode(frame))
            container.mux(stream.encode(None))
    except (av.FFmpegError, UnicodeDecodeError) as exc:
        raise Unreadable(f"audio could not be encoded: {exc}") from exc
    return out.getvalue()


def duration_s(data: bytes) -> float:
    """How long the first audio stream lasts, by decoding it. Blocking."""
    samples = sum(frame.samples for frame in _frames(data, SPEECH_RATE))
    return samples / SPEECH_RATE
