"""Webhooks: nocturna's JSON document, and Slack/Mattermost incoming webhooks."""

from __future__ import annotations

import json

from nocturna.notify.channels.base import Channel, post_json
from nocturna.notify.notification import Message


class WebhookChannel(Channel):
    """POSTs :meth:`Message.payload` (schema ``nocturna.notification``) as JSON."""

    def send(self, message: Message) -> None:
        assert self.config.url is not None
        post_json(self.config.url, json.dumps(message.payload()).encode(),
                  timeout_s=self.timeout_s)


class ChatChannel(Channel):
    """A Slack- or Mattermost-compatible incoming webhook: ``{"text": ...}``."""

    def send(self, message: Message) -> None:
        assert self.config.url is not None
        post_json(self.config.url, json.dumps({"text": chat_text(message, self.kind)}).encode(),
                  timeout_s=self.timeout_s)


def chat_text(message: Message, kind: str) -> str:
    """Each notification's heading in bold (Slack ``*x*``, Mattermost ``**x**``), then its
    text; critical ones start with a siren."""
    bold = "*" if kind == "slack" else "**"
    parts = []
    for notification, (heading, body) in zip(message.notifications, message.sections(),
                                             strict=True):
        mark = ":rotating_light: " if notification.level == "critical" else ""
        parts.append(f"{mark}{bold}[{message.unit}] {heading}{bold}\n{body}")
    return "\n\n".join(parts)
