"""How a reply with files becomes provider messages, and how a spoken command is heard."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.channels.parts import OutFile, Part, plan
from assistant.media.service import spoken_command

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


@pytest.mark.parametrize(
    ("heard", "command"),
    [
        ("Slash jobs.", "/jobs"),
        ("/help", "/help"),
        ("slash cancel 12", "/cancel 12"),
        ("Remind me to slash the prices.", None),
        ("what is a slash", None),
    ],
)
def test_a_command_said_aloud(heard: str, command: str | None) -> None:
    assert spoken_command(heard) == command
