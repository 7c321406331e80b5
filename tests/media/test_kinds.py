"""Telling files apart by their bytes."""

from __future__ import annotations

import pytest

from assistant.media.kinds import declared_kind, sniff
from tests.fakes.speech import tone_wav
from tests.media.samples import make_image, make_pdf, voice_note


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (make_image(8, 8), "", ("image", "image/jpeg")),
        (make_image(8, 8, "PNG"), "", ("image", "image/png")),
        (make_image(8, 8, "WEBP"), "", ("image", "image/webp")),
        (make_image(8, 8, "GIF"), "", ("image", "image/gif")),
        (make_pdf(["x"]), "", ("document", "application/pdf")),
        (voice_note(0.2), "", ("audio", "audio/ogg; codecs=opus")),
        (tone_wav(0.1), "", ("audio", "audio/wav")),
        (b"ID3\x04" + b"\x00" * 20, "", ("audio", "audio/mpeg")),
        (b"\x00\x00\x00\x20ftypM4A " + b"\x00" * 20, "", ("audio", "audio/mp4")),
        (b"\x00\x00\x00\x20ftypisom" + b"\x00" * 20, "", ("video", "video/mp4")),
        (b"#!AMR\n" + b"\x00" * 20, "", ("audio", "audio/amr")),
        (b"day,rain\nmon,3\n", "week.csv", ("document", "text/csv")),
        (b"# Plan\n- sow peas", "plan.md", ("document", "text/markdown")),
        ("grüße".encode(), "", ("document", "text/plain")),
    ],
)
def test_files_are_known_by_their_bytes(data: bytes, name: str, expected: tuple[str, str]) -> None:
    found = sniff(data, name=name)
    assert found is not None
    assert (found.kind, found.mime) == expected


@pytest.mark.parametrize("data", [b"", b"PK\x03\x04\x00\x00binary\x00zip", b"\x00\x01\x02\x03"])
def test_other_bytes_are_nothing_hearth_reads(data: bytes) -> None:
    assert sniff(data) is None


def test_the_declared_type_picks_only_between_kinds_of_text() -> None:
    found = sniff(b"a,b\n1,2\n", declared="text/csv")
    assert found is not None
    assert found.mime == "text/csv"
    found = sniff(make_pdf(["x"]), declared="text/csv")
    assert found is not None
    assert found.mime == "application/pdf"


@pytest.mark.parametrize(
    ("mime", "mtype", "kind"),
    [
        ("image/jpeg", "", "image"),
        ("audio/ogg; codecs=opus", "", "audio"),
        ("application/pdf", "", "document"),
        ("", "sticker", "image"),
        ("", "document", "document"),
        ("", "location", None),
    ],
)
def test_the_declared_kind(mime: str, mtype: str, kind: str | None) -> None:
    assert declared_kind(mime, mtype) == kind
