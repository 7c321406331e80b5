"""Which channels the settings enable; a half-configured channel stops start-up naming what is missing."""

from __future__ import annotations

import pytest

from assistant.channels.app import Providers
from assistant.errors import SettingsError
from assistant.settings import load_settings
from assistant.types import Address

WHATSAPP = {
    "HEARTH_WHATSAPP_VERIFY_TOKEN": "v",
    "HEARTH_WHATSAPP_APP_SECRET": "s",
    "HEARTH_WHATSAPP_TOKEN": "t",
    "HEARTH_WHATSAPP_PHONE_NUMBER_ID": "1",
}
TWILIO = {
    "HEARTH_TWILIO_ACCOUNT_SID": "AC1",
    "HEARTH_TWILIO_AUTH_TOKEN": "tok",
    "HEARTH_TWILIO_SMS_FROM": "+15550001111",
    "HEARTH_PUBLIC_URL": "https://hearth.example.org",
}


def without(env: dict[str, str], name: str) -> dict[str, str]:
    return {k: v for k, v in env.items() if k != name}


@pytest.mark.parametrize(
    ("env", "whatsapp", "twilio"),
    [
        ({}, False, False),
        (WHATSAPP, True, False),
        (TWILIO, False, True),
        ({**WHATSAPP, **TWILIO}, True, True),
        ({"HEARTH_PUBLIC_URL": "https://hearth.example.org"}, False, False),
    ],
)
def test_channels_are_enabled_by_their_settings(env: dict[str, str], whatsapp: bool, twilio: bool) -> None:
    enabled = Providers.from_settings(load_settings(env, env_file=None))
    assert (enabled.whatsapp is not None, enabled.twilio is not None) == (whatsapp, twilio)


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        (without(WHATSAPP, "HEARTH_WHATSAPP_TOKEN"), "HEARTH_WHATSAPP_TOKEN"),
        ({"HEARTH_WHATSAPP_APP_SECRET": "s"}, "HEARTH_WHATSAPP_VERIFY_TOKEN"),
        (without(TWILIO, "HEARTH_PUBLIC_URL"), "HEARTH_PUBLIC_URL"),
        (without(TWILIO, "HEARTH_TWILIO_AUTH_TOKEN"), "HEARTH_TWILIO_AUTH_TOKEN"),
        (without(TWILIO, "HEARTH_TWILIO_SMS_FROM"), "HEARTH_TWILIO_SMS_FROM or HEARTH_TWILIO_WHATSAPP_FROM"),
    ],
)
def test_a_half_configured_channel_names_what_is_missing(env: dict[str, str], missing: str) -> None:
    with pytest.raises(SettingsError, match=missing):
        Providers.from_settings(load_settings(env, env_file=None))


def test_channel_settings_parse_and_secrets_stay_hidden() -> None:
    env = {
        **WHATSAPP,
        "HEARTH_OWNERS": "whatsapp:+15551234567, sms:+15557654321",
        "HEARTH_STRANGERS": "Ignore",
    }
    settings = load_settings(env, env_file=None)
    assert settings.owners == (Address("whatsapp", "+15551234567"), Address("sms", "+15557654321"))
    assert settings.strangers == "ignore"
    assert settings.rate_limit_per_min == 20
    assert settings.whatsapp_api_version == "v26.0"
    assert str(settings.whatsapp_app_secret) == "**********"
    assert "'t'" not in repr(settings)


@pytest.mark.parametrize(
    ("name", "value"),
    [("HEARTH_OWNERS", "+15551234567"), ("HEARTH_STRANGERS", "welcome"), ("HEARTH_PUBLIC_URL", "hearth.org")],
)
def test_bad_channel_settings_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings({name: value}, env_file=None)
