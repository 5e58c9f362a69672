"""The ``notifications:`` section: defaults, errors that name the key, local-only
channels."""

from __future__ import annotations

import threading

import pytest

from nocturna.core.config import Config
from nocturna.core.config.local_only import LocalOnlyKeyError, refuse_remote_change
from nocturna.core.errors import ConfigError
from nocturna.notify import Notifier
from unit_helpers import unit_config

HOOK = "https://hooks.example.org/T000/B000/token"


def test_by_default_nothing_is_sent_and_no_thread_is_started(tmp_path):
    config = Config.load(None, environ={})
    settings = config.model.notifications
    assert settings.channels == []
    assert settings.min_interval.to_value("s") == 60
    assert settings.repeat_window.to_value("min") == 30
    notifier = Notifier.from_config(config)
    assert not notifier.enabled
    threads = threading.active_count()
    import asyncio

    async def start_and_stop() -> None:
        await notifier.start()
        await notifier.stop()

    asyncio.run(start_and_stop())
    assert notifier.sender is None and threading.active_count() == threads


@pytest.mark.parametrize(("channel", "problem"), [
    ({"name": "a", "kind": "webhook"},
     "notifications.channels[0].url = None (from nowhere): a webhook channel needs a url"),
    ({"name": "a", "kind": "slack", "url": "hooks.slack.com/services/x"},
     "notifications.channels[0].url = 'hooks.slack.com/services/x' (from {site}): expected an "
     "http:// or https:// URL for a slack channel"),
    ({"name": "a", "kind": "apprise", "url": "tgram"},
     "notifications.channels[0].url = 'tgram' (from {site}): expected an apprise URL such as "
     "'tgram://bottoken/ChatID'"),
    ({"name": "a", "kind": "email", "url": HOOK},
     "notifications.channels[0].url = '" + HOOK + "' (from {site}): an email channel takes "
     "smtp settings, not a url"),
    ({"name": "a", "kind": "email"},
     "notifications.channels[0].smtp = None (from nowhere): an email channel needs smtp "
     "settings (host, sender, to)"),
    ({"name": "a", "kind": "webhook", "url": HOOK, "smtp": {"host": "h", "sender": "a@b",
                                                            "to": ["c@d"]}},
     "notifications.channels[0].smtp = "),
    ({"name": "a", "kind": "email", "smtp": {"host": "h", "sender": "unit", "to": ["c@d"]}},
     "notifications.channels[0].smtp.sender = 'unit' (from {site})"),
    ({"name": "a", "kind": "email", "smtp": {"host": "h", "sender": "a@b", "to": ["c@d"],
                                              "security": "tls"}},
     "notifications.channels[0].smtp.security = 'tls' (from {site}): expected 'starttls', "
     "'ssl' or 'plain'"),
    ({"name": "a", "kind": "email", "smtp": {"host": "h", "sender": "a@b", "to": ["c@d"],
                                              "password": "pw"}},
     "notifications.channels[0].smtp.password = 'pw' (from {site}): a password needs a "
     "username"),
    ({"name": "a", "kind": "telegram", "url": HOOK},
     "notifications.channels[0].kind = 'telegram' (from {site}): expected 'webhook', "
     "'slack', 'mattermost', 'email' or 'apprise'"),
    ({"name": "a", "kind": "webhook", "url": HOOK, "events": ["rain"]},
     "notifications.channels[0].events[0] = 'rain' (from {site}): expected 'night_started', "
     "'unsafe', 'fault', 'recovery', 'disk_low', 'night_failed' or 'summary'"),
    ({"name": "a", "kind": "webhook", "url": HOOK, "min_level": "error"},
     "notifications.channels[0].min_level = 'error' (from {site}): expected 'info', "
     "'warning' or 'critical'"),
    ({"name": "a b", "kind": "webhook", "url": HOOK}, "notifications.channels[0].name = 'a b'"),
    ({"name": "a", "kind": "webhook", "url": HOOK, "retries": 3},
     "notifications.channels[0].retries: unknown key"),
])
def test_a_bad_channel_is_an_error_naming_its_key(tmp_path, channel, problem):
    with pytest.raises(ConfigError) as caught:
        unit_config(tmp_path, notifications={"channels": [channel]})
    assert problem.format(site=tmp_path / "site.yaml") in str(caught.value)


def test_two_channels_of_one_name_and_bad_limits_are_errors(tmp_path):
    with pytest.raises(ConfigError) as caught:
        unit_config(tmp_path, notifications={
            "retries": -1, "min_interval": "48 h", "send_timeout": 0,
            "channels": [{"name": "ops", "kind": "webhook", "url": HOOK},
                         {"name": "ops", "kind": "slack", "url": HOOK}]})
    message = str(caught.value)
    assert "channel names must differ: ops repeated" in message
    assert "notifications.retries = -1" in message
    assert "notifications.min_interval" in message and "from 0 to 86400 s" in message
    assert "notifications.send_timeout" in message and "above 0 s" in message


def test_the_channels_are_local_only_and_the_limits_are_not():
    for key in (("notifications", "channels"), ("notifications", "channels", 0, "url"),
                ("notifications", "channels", 1, "smtp", "password"), ("notifications",)):
        with pytest.raises(LocalOnlyKeyError, match=r"notifications\.channels decides where "
                                                    "notifications go"):
            refuse_remote_change(key)
    refuse_remote_change(("notifications", "min_interval"))  # may be set over the network
