"""The channels: a JSON webhook, Slack and Mattermost webhooks, e-mail, apprise."""

from __future__ import annotations

from nocturna.core.config.notifications import NotificationsConfig
from nocturna.notify.channels.base import Channel, SendError
from nocturna.notify.channels.smtp import EmailChannel
from nocturna.notify.channels.webhook import ChatChannel, WebhookChannel

__all__ = ["Channel", "SendError", "build_channels"]


def build_channels(settings: NotificationsConfig) -> list[Channel]:
    """One channel per configured entry (raises ConfigError naming a bad entry's key)."""
    timeout = float(settings.send_timeout.to_value("s"))
    channels: list[Channel] = []
    for index, config in enumerate(settings.channels):
        if config.kind == "webhook":
            channels.append(WebhookChannel(config, timeout_s=timeout))
        elif config.kind in ("slack", "mattermost"):
            channels.append(ChatChannel(config, timeout_s=timeout))
        elif config.kind == "email":
            channels.append(EmailChannel(config, timeout_s=timeout))
        else:
            from nocturna.notify.channels.apprise_url import AppriseChannel

            channels.append(AppriseChannel(config, timeout_s=timeout,
                                           key=f"notifications.channels[{index}].url"))
    return channels
