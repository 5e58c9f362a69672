"""Any service apprise knows (Telegram, Discord, Teams, ntfy, Pushover...) by its URL.

apprise is imported when such a channel is made, not before.
"""

from __future__ import annotations

from typing import Any

from nocturna.core.config.notifications import NotificationChannelConfig
from nocturna.core.errors import ConfigError
from nocturna.notify.channels.base import Channel, SendError
from nocturna.notify.notification import Message


class AppriseChannel(Channel):
    """Notifies through apprise's URL of a service."""

    def __init__(self, config: NotificationChannelConfig, *, timeout_s: float,
                 key: str = "url") -> None:
        super().__init__(config, timeout_s=timeout_s)
        import apprise

        self._types = {"info": apprise.NotifyType.INFO, "warning": apprise.NotifyType.WARNING,
                       "critical": apprise.NotifyType.FAILURE}
        self._apprise: Any = apprise.Apprise()
        if not self._apprise.add(config.url):
            raise ConfigError(f"{key}: apprise does not know the URL of channel "
                              f"{config.name!r} ({self.where}): see apprise's list of "
                              "services for the form of its URL")

    def send(self, message: Message) -> None:
        if not self._apprise.notify(title=message.subject, body=message.text(),
                                    notify_type=self._types[message.level]):
            raise SendError(f"apprise could not notify {self.where} (its log says why)")
