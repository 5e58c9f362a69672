"""Notifications of the night's events: rules, rate limits and channels.

A layer just above ``core``: it reads the event bus and imports nothing else of
nocturna. :class:`Notifier` is the entry point (``runtime`` starts one per run).
"""

from nocturna.notify.notification import Message, Notification
from nocturna.notify.notifier import Notifier

__all__ = ["Message", "Notification", "Notifier"]
