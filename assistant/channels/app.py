"""The channels in the application: which providers the settings enable, their routes, and the API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

from aiohttp import web

from assistant.channels import Channel, Starting, api, space, webhook
from assistant.channels.twilio.config import TwilioConfig
from assistant.channels.whatsapp import channel as whatsapp
from assistant.channels.whatsapp.channel import WhatsAppChannel, WhatsAppConfig
from assistant.errors import SettingsError
from assistant.keys import CHANNELS, SETTINGS
from assistant.settings import Secret, Settings, env_name

if TYPE_CHECKING:
    # Loaded only when Twilio is configured: the Twilio SDK costs some 5 MB of memory.
    from assistant.channels.twilio.channel import TwilioChannel

WHATSAPP_REQUIRED = (
    "whatsapp_verify_token",
    "whatsapp_app_secret",
    "whatsapp_token",
    "whatsapp_phone_number_id",
)
TWILIO_REQUIRED = ("twilio_account_sid", "twilio_auth_token", "public_url")
TWILIO_OWN = ("twilio_account_sid", "twilio_auth_token", "twilio_sms_from", "twilio_whatsapp_from")


def _value(settings: Settings, name: str) -> str | None:
    value = getattr(settings, name)
    if isinstance(value, Secret):
        return value.value
    return value if isinstance(value, str) and value else None


def _enabled(settings: Settings, channel: str, own: Sequence[str], required: Sequence[str]) -> bool:
    """False when none of the channel's own settings is given; SettingsError when only some are."""
    if not any(_value(settings, name) for name in own):
        return False
    missing = [env_name(name) for name in required if not _value(settings, name)]
    if missing:
        raise SettingsError(f"the {channel} channel is half configured: set {', '.join(missing)}")
    return True


def whatsapp_config(settings: Settings) -> WhatsAppConfig | None:
    """The WhatsApp Cloud API channel's settings, None when it is not configured at all."""
    if not _enabled(settings, "WhatsApp", WHATSAPP_REQUIRED, WHATSAPP_REQUIRED):
        return None
    values = {f.name: _value(settings, f"whatsapp_{f.name}") for f in fields(WhatsAppConfig)}
    return WhatsAppConfig(**values)  # type: ignore[arg-type]


def twilio_config(settings: Settings) -> TwilioConfig | None:
    """The Twilio channel's settings, None when it is not configured at all."""
    if not _enabled(settings, "Twilio", TWILIO_OWN, TWILIO_REQUIRED):
        return None
    if not (settings.twilio_sms_from or settings.twilio_whatsapp_from):
        raise SettingsError(
            "the Twilio channel is half configured: set HEARTH_TWILIO_SMS_FROM or HEARTH_TWILIO_WHATSAPP_FROM"
        )
    values = {
        f.name: _value(settings, f"twilio_{f.name}") for f in fields(TwilioConfig) if f.name != "public_url"
    }
    values["public_url"] = settings.public_url
    return TwilioConfig(**values)  # type: ignore[arg-type]


@dataclass
class Providers:
    """The enabled provider channels; `ctx` opens their HTTP clients for the app's lifetime."""

    whatsapp: WhatsAppChannel | None = None
    twilio: TwilioChannel | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Providers:
        """Raises SettingsError naming the missing variable for a half-configured channel."""
        wa, tw = whatsapp_config(settings), twilio_config(settings)
        if tw is None:
            return cls(WhatsAppChannel(wa) if wa else None)
        from assistant.channels.twilio.channel import TwilioChannel

        return cls(WhatsAppChannel(wa) if wa else None, TwilioChannel(tw))

    @property
    def channels(self) -> list[Channel]:
        return [c for c in (self.whatsapp, self.twilio) if c is not None]

    def setup(self, app: web.Application) -> None:
        """Add the enabled channels' webhook routes and state; call before the app starts."""
        app[PROVIDERS] = self
        webhook.setup(app)
        if self.whatsapp is not None:
            whatsapp.setup(app, self.whatsapp)
        if self.twilio is not None:
            from assistant.channels.twilio import channel as twilio

            twilio.setup(app, self.twilio)

    @property
    def contexts(self) -> list[Callable[[web.Application], AsyncIterator[None]]]:
        """The channels' cleanup contexts: after the store opens, before the outbox starts sending."""
        return [c.ctx for c in (self.whatsapp, self.twilio) if c is not None]

    @property
    def starting(self) -> dict[str, Starting]:
        """What to do when a turn starts, by channel: WhatsApp marks the message read."""
        return {self.whatsapp.name: self.whatsapp.mark_read} if self.whatsapp else {}


PROVIDERS = web.AppKey("providers", Providers)


def setup(app: web.Application, given: Sequence[Channel] = ()) -> Providers:
    """Every channel's routes and the map of channels by name; the providers' contexts are the caller's
    to add. `given` are channels made by the caller, such as the terminal's."""
    settings = app[SETTINGS]
    enabled = Providers.from_settings(settings)
    by_name: dict[str, Channel] = {api.NAME: api.ApiChannel(), **{c.name: c for c in given}}
    app[CHANNELS] = {**{c.name: c for c in enabled.channels}, **by_name}
    enabled.setup(app)
    app[space.SPACE] = space.SpaceGuard(settings.data_dir, settings.min_free_mb)
    if settings.api_token is not None:
        api.setup(app)
    return enabled
