"""Images scaled into the budget, documents read within their caps, audio converted both ways."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from assistant.media import audio, documents, images
from assistant.media.errors import NoText, Unreadable
from tests.fakes.speech import tone_wav
from tests.media.samples import locked_pdf, make_image, make_pdf, probe, voice_note


@pytest.mark.parametrize(
    ("size", "budget", "expected"),
    [
        ((4000, 3000), 1_000_000, (1154, 866)),
        ((800, 600), 1_000_000, (800, 600)),
        ((10, 1), 4, (4, 1)),
        ((1, 10), 4, (1, 4)),
    ],
)
def test_fit_keeps_proportions_within_the_pixel_budget(
    size: tuple[int, int], budget: int, expected: tuple[int, int]
) -> None:
    found = images.fit(*size, budget)
    assert found == expected
    assert found[0] * found[1] <= budget


def test_a_large_photo_is_scaled_down_to_jpeg() -> None:
    out = images.prepare_image(make_image(4000, 3000), 1_000_000)
    with Image.open(io.BytesIO(out)) as image:
        assert image.format == "JPEG"
        assert image.width * image.height <= 1_000_000
        assert image.width >= 1100


def test_transparency_becomes_white_and_the_photo_is_turned_upright() -> None:
    rgba = Image.new("RGBA", (20, 10), (0, 0, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was turned: rotate 90 degrees to show it upright
    out = io.BytesIO()
    rgba.save(out, "PNG", exif=exif)
    prepared = images.prepare_image(out.getvalue(), 10_000)
    with Image.open(io.BytesIO(prepared)) as image:
        assert image.size == (10, 20)
        assert image.getpixel((5, 5)) == pytest.approx((255, 255, 255), abs=2)


@pytest.mark.parametrize("data", [b"\xff\xd8\xff" + b"\x00" * 50, b"not an image at all"])
def test_broken_images_are_unreadable(data: bytes) -> None:
    with pytest.raises(Unreadable):
        images.prepare_image(data, 1000)


def test_an_image_claiming_a_huge_size_is_refused_before_decoding() -> None:
    huge = io.BytesIO()
    Image.new("1", (9000, 9000)).save(huge, "PNG")  # 81 million pixels in a few kilobytes
    with pytest.raises(Unreadable, match="too large"):
        images.prepare_image(huge.getvalue(), 1000)


def test_a_pdf_is_read_up_to_its_page_and_character_caps() -> None:
    pdf = make_pdf([f"page {n} " + "word " * 20 for n in range(1, 26)])
    document = documents.read_pdf(pdf)
    assert (document.pages, document.pages_read, document.cut) == (25, 20, True)
    assert "page 20" in document.text
    assert "page 21" not in document.text
    assert document.note() == "25 pages, the first 20 read; the text is cut short"
    short = documents.read_pdf(pdf, max_chars=50)
    assert len(short.text) == 50


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (make_pdf(["", ""]), NoText),
        (locked_pdf(["secret"]), Unreadable),
        (b"%PDF-1.4 broken", Unreadable),
        (b"", Unreadable),
    ],
)
def test_pdfs_without_text_or_locked_or_broken(data: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        documents.read_pdf(data)


def test_text_is_decoded_utf8_or_latin1() -> None:
    assert documents.read_text("\ufeffgrüße".encode()).text == "grüße"
    assert documents.read_text("café".encode("latin-1")).text == "café"
    with pytest.raises(NoText):
        documents.read_text(b"  \n")


def test_a_voice_note_becomes_16_khz_mono_wav() -> None:
    wav = audio.to_speech_wav(voice_note(1.5))
    assert probe(wav) == {"format": "wav", "codec": "pcm_s16le", "rate": 16000, "channels": 1, "seconds": 1.5}


def test_speech_becomes_an_ogg_opus_voice_note() -> None:
    note = audio.to_voice_note(tone_wav(3.0))
    assert probe(note) == {"format": "ogg", "codec": "opus", "rate": 48000, "channels": 1, "seconds": 3.0}
    assert len(note) < 512 * 1024  # small enough for WhatsApp's play button


def test_bytes_that_are_not_audio_are_unreadable() -> None:
    with pytest.raises(Unreadable):
        audio.to_speech_wav(b"OggS" + b"\x00" * 100)
