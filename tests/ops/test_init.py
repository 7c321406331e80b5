"""`hearth init`: the answers it accepts, the file it writes, and the interview."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.ops.init import complete, interview, problems, render
from assistant.settings import read_env_file
from tests.process import hearth_env, run_hearth

WHATSAPP = {
    "HEARTH_OWNERS": "whatsapp:+15551234567",
    "HEARTH_TIMEZONE": "Europe/Berlin",
    "HEARTH_WHATSAPP_TOKEN": "EAAG-token",
    "HEARTH_WHATSAPP_APP_SECRET": "app-secret",
    "HEARTH_WHATSAPP_PHONE_NUMBER_ID": "1234567890",
}
TWILIO = {
    "HEARTH_OWNERS": "sms:+15551234567",
    "HEARTH_TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
    "HEARTH_TWILIO_AUTH_TOKEN": "auth",
    "HEARTH_TWILIO_SMS_FROM": "+15557654321",
}


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({}, None),
        ({"HEARTH_OWNERS": ""}, "at least one owner"),
        ({"HEARTH_OWNERS": "+15551234567"}, "is not kind:+number"),
        ({"HEARTH_OWNERS": "telegram:+15551234567"}, "is not kind:+number"),
        ({"HEARTH_TIMEZONE": "Mars/Olympus"}, "IANA time zone"),
        ({"HEARTH_PUBLIC_URL": "http://hearth.example.org"}, "https://"),
        ({"HEARTH_WHATSAPP_APP_SECRET": ""}, "WhatsApp needs the token"),
        (
            {
                "HEARTH_WHATSAPP_TOKEN": "",
                "HEARTH_WHATSAPP_APP_SECRET": "",
                "HEARTH_WHATSAPP_PHONE_NUMBER_ID": "",
            },
            "configure one provider",
        ),
    ],
)
def test_problems_name_what_is_wrong(changes: dict[str, str], complaint: str | None) -> None:
    found = problems(complete({**WHATSAPP, **changes}))
    if complaint is None:
        assert found == []
    else:
        assert any(complaint in p for p in found), found


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({}, None),
        ({"HEARTH_TWILIO_AUTH_TOKEN": ""}, "Twilio needs"),
        ({"HEARTH_TWILIO_SMS_FROM": "5557654321"}, "HEARTH_TWILIO_SMS_FROM must be a number"),
    ],
)
def test_twilio_answers(changes: dict[str, str], complaint: str | None) -> None:
    found = problems(complete({**TWILIO, **changes}))
    assert (found == []) if complaint is None else any(complaint in p for p in found)


def test_complete_generates_tokens_only_when_missing() -> None:
    values = complete({**WHATSAPP, "HEARTH_API_TOKEN": "mine", "HEARTH_MODEL": " "}, token=lambda: "new")
    assert values["HEARTH_API_TOKEN"] == "mine"
    assert values["HEARTH_WHATSAPP_VERIFY_TOKEN"] == "new"
    assert "HEARTH_MODEL" not in values
    assert "HEARTH_WHATSAPP_VERIFY_TOKEN" not in complete(TWILIO, token=lambda: "new")


def test_render_groups_the_values_and_reads_back(tmp_path: Path) -> None:
    values = complete(WHATSAPP, token=lambda: "tok")
    path = tmp_path / ".env"
    path.write_text(render(values))
    assert read_env_file(path) == values
    text = path.read_text()
    assert text.index("# Who may talk to Hearth") < text.index("# WhatsApp Cloud API")
    assert "# Twilio" not in text


def test_interview_skips_a_provider_left_blank() -> None:
    asked: list[str] = []

    def asker(question: str, default: str, secret: bool) -> str:
        asked.append(question)
        return {"Owners": "sms:+15551234567", "Twilio account SID": "AC" + "2" * 32}.get(
            question.split(",")[0].split(" (")[0], default
        )

    answers = interview({"HEARTH_MODEL": "qwen3:4b"}, asker)
    assert answers["HEARTH_MODEL"] == "qwen3:4b"
    assert answers["HEARTH_OWNERS"] == "sms:+15551234567"
    assert not [q for q in asked if q.startswith("Meta app secret")]
    assert [q for q in asked if q.startswith("Twilio auth token")]


async def test_non_interactive_init_writes_a_private_env(tmp_path: Path) -> None:
    flags = ["--non-interactive", "--owner", "whatsapp:+15551234567", "--timezone", "Europe/Berlin"]
    flags += ["--whatsapp-token", "EAAG", "--whatsapp-app-secret", "s", "--whatsapp-phone-number-id", "42"]
    env = hearth_env(tmp_path, "http://127.0.0.1:9")
    code, _, err = await run_hearth("init", *flags, "--output", "hearth.env", env=env, cwd=tmp_path)
    assert code == 0, err
    written = read_env_file(tmp_path / "hearth.env")
    assert written["HEARTH_OWNERS"] == "whatsapp:+15551234567"
    assert written["HEARTH_MODEL"] == "qwen3:4b"
    assert written["HEARTH_WHATSAPP_PHONE_NUMBER_ID"] == "42"
    assert len(written["HEARTH_API_TOKEN"]) > 20
    assert (tmp_path / "hearth.env").stat().st_mode & 0o777 == 0o600
    code, _, err = await run_hearth("init", *flags, "--output", "hearth.env", env=env, cwd=tmp_path)
    assert code == 2
    assert "--force" in err


async def test_non_interactive_init_refuses_bad_answers(tmp_path: Path) -> None:
    flags = ["--non-interactive", "--owner", "whatsapp:+15551234567"]
    code, _, err = await run_hearth(
        "init", *flags, env=hearth_env(tmp_path, "http://127.0.0.1:9"), cwd=tmp_path
    )
    assert code == 2
    assert "configure one provider" in err
    assert not (tmp_path / ".env").exists()
