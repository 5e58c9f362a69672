"""The ``notifications:`` section: where the night's notifications go and how often.

Each channel is one receiver: a JSON webhook, a Slack or Mattermost incoming webhook,
an SMTP server, or an apprise URL. The channel list is local-only: it holds webhook
URLs with their tokens and mail passwords.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from nocturna.core.config.local_only import LocalOnly
from nocturna.core.config.quantity import Duration
from nocturna.core.config.ranges import repeated, within

NOTIFICATION_KINDS = ("night_started", "unsafe", "fault", "recovery", "disk_low",
                      "night_failed", "summary")
"""What a notification can be about (a channel may take only some)."""
NotificationKind = Literal["night_started", "unsafe", "fault", "recovery", "disk_low",
                           "night_failed", "summary"]
NotificationLevel = Literal["info", "warning", "critical"]
URL_KINDS = ("webhook", "slack", "mattermost", "apprise")
"""The channel kinds that send to a URL (the others, e-mail, need ``smtp``)."""


def _a(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class SmtpConfig(_Strict):
    """An SMTP server and the message's addresses (e-mail channels)."""

    host: str = Field(min_length=1)
    port: Annotated[int, within(ge=1, le=65535)] | None = None  # None: by security
    security: Literal["starttls", "ssl", "plain"] = "starttls"
    username: str | None = None  # None: no login
    password: str | None = None
    sender: str = Field(min_length=3, pattern=r"@")  # the From address
    to: list[Annotated[str, Field(min_length=3, pattern=r"@")]] = Field(min_length=1)

    @field_validator("password")
    @classmethod
    def _login_complete(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.data.get("username") is None:
            raise ValueError("a password needs a username")
        return value

    @property
    def effective_port(self) -> int:
        """The port, or the usual one for the security (587, 465, 25)."""
        if self.port is not None:
            return self.port
        return {"starttls": 587, "ssl": 465, "plain": 25}[self.security]


class NotificationChannelConfig(_Strict):
    """One receiver of notifications."""

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    kind: Literal["webhook", "slack", "mattermost", "email", "apprise"]
    url: str | None = None  # webhook, slack, mattermost, apprise
    smtp: SmtpConfig | None = None  # email
    events: list[NotificationKind] | None = None  # None: every kind
    min_level: NotificationLevel = "info"

    @field_validator("url")
    @classmethod
    def _url_for_kind(cls, value: str | None, info: ValidationInfo) -> str | None:
        kind = info.data.get("kind")
        if kind is None:
            return value
        if kind not in URL_KINDS:
            if value is not None:
                raise ValueError(f"{_a(kind)} {kind} channel takes smtp settings, not a url")
            return value
        if not value:
            raise ValueError(f"{_a(kind)} {kind} channel needs a url")
        if kind == "apprise":
            if "://" not in value:
                raise ValueError("expected an apprise URL such as 'tgram://bottoken/ChatID'")
        elif not value.startswith(("http://", "https://")):
            raise ValueError(f"expected an http:// or https:// URL for a {kind} channel")
        return value

    @field_validator("smtp")
    @classmethod
    def _smtp_for_kind(cls, value: SmtpConfig | None, info: ValidationInfo
                       ) -> SmtpConfig | None:
        kind = info.data.get("kind")
        if kind == "email" and value is None:
            raise ValueError("an email channel needs smtp settings (host, sender, to): "
                             "smtp: {host: mail.example.org, sender: unit@example.org, "
                             "to: [you@example.org]}")
        if kind is not None and kind != "email" and value is not None:
            raise ValueError(f"only email channels take smtp settings, not {kind}")
        return value


class NotificationsConfig(_Strict):
    """Notifications of night events, their rate limits and their channels."""

    min_interval: Annotated[Duration, within(ge=0, le=86400)]
    repeat_window: Annotated[Duration, within(ge=0, le=86400)]
    send_timeout: Annotated[Duration, within(gt=0, le=600)]
    retries: Annotated[int, within(ge=0, le=100)]
    retry_backoff: Annotated[Duration, within(gt=0, le=3600)]
    queue_size: Annotated[int, within(ge=1, le=10000)]
    flush_timeout: Annotated[Duration, within(ge=0, le=600)]
    channels: Annotated[list[NotificationChannelConfig], LocalOnly(
        "where notifications go, with webhook tokens and mail passwords")] = []

    @field_validator("channels")
    @classmethod
    def _unique_names(cls, value: list[Any]) -> list[Any]:
        twice = repeated(channel.name for channel in value)
        if twice:
            raise ValueError(f"channel names must differ: {', '.join(twice)} repeated")
        return value
