"""What every channel is: a name, which notifications it takes, and a blocking send.

Sending blocks (urllib, smtplib, apprise): the sender runs it in a thread of its own,
never on the unit's event loop. A send raises :class:`SendError` (or any error) when
the message did not get through; the sender then tries again later.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from abc import ABC, abstractmethod
from typing import Any
from urllib.parse import urlsplit

from nocturna.core.config.notifications import NOTIFICATION_KINDS, NotificationChannelConfig
from nocturna.core.errors import NocturnaError
from nocturna.notify.notification import Message, Notification, level_rank

USER_AGENT = "nocturna-notify/1"


class SendError(NocturnaError):
    """A message did not get through (the receiver refused it or did not answer)."""


class Channel(ABC):
    """One receiver of notifications (see :mod:`nocturna.notify.channels`)."""

    def __init__(self, config: NotificationChannelConfig, *, timeout_s: float) -> None:
        self.config = config
        self.name = config.name
        self.kind = config.kind
        self.timeout_s = timeout_s
        self.kinds = frozenset(config.events if config.events is not None
                               else NOTIFICATION_KINDS)
        self.min_rank = level_rank(config.min_level)

    def accepts(self, notification: Notification) -> bool:
        """Whether this channel wants ``notification`` (its kind and level)."""
        return notification.kind in self.kinds and level_rank(notification.level) >= \
            self.min_rank

    @property
    def label(self) -> str:
        """``kind 'name' (where)`` for logs, without secrets."""
        return f"{self.kind} channel {self.name!r} ({self.where})"

    @property
    def where(self) -> str:
        url = urlsplit(self.config.url or "")
        return f"{url.scheme}://{url.hostname or ''}" if url.scheme else "?"

    @abstractmethod
    def send(self, message: Message) -> None:
        """Deliver ``message`` (blocking; raises when it did not get through)."""


def post_json(url: str, body: bytes, *, timeout_s: float) -> None:
    """POST ``body`` as JSON to ``url``; raises :class:`SendError` unless answered 2xx."""
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT})
    host = urlsplit(url).hostname or "?"
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as reply:
            status = reply.status
            reply.read(65536)
    except urllib.error.HTTPError as exc:
        exc.close()  # it holds the answer's connection
        raise SendError(f"{host} answered HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason: Any = getattr(exc, "reason", exc)
        raise SendError(f"{host}: {reason}") from None
    if not 200 <= status < 300:
        raise SendError(f"{host} answered HTTP {status}")
