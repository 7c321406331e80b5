"""How a reply with files becomes provider messages."""

from __future__ import annotations

from pathlib import Path

from assistant.channels.parts import OutFile, Part, plan

PNG = OutFile(1, "image", "image/png", "a.png", Path("a.png"))
CSV = OutFile(2, "document", "text/csv", "b.csv", Path("b.csv"))
VOICE = OutFile(3, "audio", "audio/ogg", "reply.ogg", Path("reply.ogg"), voice=True)


def images_only(file: OutFile) -> bool:
    return file.kind == "image"


def test_a_short_text_is_the_caption_of_the_first_file_that_takes_one() -> None:
    assert plan("hi", [CSV, PNG], 100, 10, images_only) == [Part("hi", PNG), Part(file=CSV)]


def test_a_text_too_long_for_a_caption_goes_first_in_parts() -> None:
    text = "word " * 30
    parts = plan(text, [PNG], 80, 10, images_only)
    assert [p.file for p in parts] == [None, None, PNG]
    assert all(len(p.text) <= 80 for p in parts)


def test_audio_takes_no_caption_and_a_voice_only_reply_sends_no_text() -> None:
    assert plan("spoken", [VOICE], 100, 10, images_only) == [Part("spoken"), Part(file=VOICE)]
    assert plan("spoken", [VOICE], 100, 10, images_only, voice_only=True) == [Part(file=VOICE)]
    assert plan("", [CSV], 100, 10, images_only) == [Part(file=CSV)]
