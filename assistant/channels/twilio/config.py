"""The Twilio channel's settings, apart from the channel so that reading them loads no Twilio code."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TwilioConfig:
    account_sid: str
    auth_token: str
    public_url: str
    sms_from: str | None
    whatsapp_from: str | None
    api_url: str
    template_sid: str | None
