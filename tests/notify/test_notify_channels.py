"""Each kind of channel against a real receiver on 127.0.0.1, through the sender's
thread: what arrives, and what happens when the receiver fails."""

from __future__ import annotations

import logging
import ssl
from datetime import UTC, datetime
from typing import Any

import pytest
import trustme
from receivers import MailReceiver, WebhookReceiver

from nocturna.core.config.notifications import NotificationsConfig
from nocturna.core.errors import ConfigError
from nocturna.notify.channels import build_channels
from nocturna.notify.notification import SCHEMA, Message, Notification
from nocturna.notify.sender import Sender
from unit_helpers import unit_config

WHEN = datetime(2026, 12, 15, 9, 0, 30, tzinfo=UTC)
UNSAFE = Notification("unsafe", "warning", "UNSAFE: parked and closed (rain)",
                      "Unsafe since 09:00Z: rain.\nThe unit parked and closed: confirmed.",
                      WHEN, {"confirmed": True, "reasons": ["rain"]})
FAILED = Notification("night_failed", "critical", "NIGHT FAILED",
                      "The night ended on an error: the mount does not answer.", WHEN)


def settings(tmp_path: Any, channels: list[dict[str, Any]], **extra: Any) -> NotificationsConfig:
    return unit_config(tmp_path, notifications={"channels": channels, **extra}
                       ).model.notifications


def send(config: NotificationsConfig, *messages: Message, flush_s: float = 30.0
         ) -> dict[str, dict[str, int]]:
    """Send ``messages`` to every channel of ``config``; the sender's counts."""
    channels = build_channels(config)
    sender = Sender(channels, timeout_s=float(config.send_timeout.to_value("s")),
                    retries=config.retries,
                    backoff_s=float(config.retry_backoff.to_value("s")),
                    queue_size=config.queue_size)
    sender.start()
    for message in messages:
        for channel in channels:
            sender.submit(channel, message)
    sender.close(flush_s)
    return sender.counts()


def test_the_webhook_gets_a_json_document_with_its_schema_and_version(tmp_path):
    with WebhookReceiver() as hook:
        send(settings(tmp_path, [{"name": "ops", "kind": "webhook", "url": hook.url}]),
             Message("unit1", (UNSAFE, FAILED), "US/Hawaii"))
    (item,) = hook.items
    assert item["content_type"] == "application/json; charset=utf-8"
    assert item["path"] == "/hook"
    document = item["json"]
    assert document["schema"] == SCHEMA and document["schema_version"] == 1
    assert document["unit"] == "unit1" and document["level"] == "critical"
    assert document["title"] == "[unit1] 2 notifications: UNSAFE: parked and closed (rain); " \
                                "NIGHT FAILED"
    first = document["notifications"][0]
    assert first == {"kind": "unsafe", "level": "warning",
                     "title": "UNSAFE: parked and closed (rain)", "text": UNSAFE.text,
                     "time": "2026-12-15T09:00:30Z",
                     "data": {"confirmed": True, "reasons": ["rain"]}}


@pytest.mark.parametrize(("kind", "bold"), [("slack", "*"), ("mattermost", "**")])
def test_slack_and_mattermost_get_their_text_field(tmp_path, kind, bold):
    with WebhookReceiver() as hook:
        send(settings(tmp_path, [{"name": "chat", "kind": kind, "url": hook.url}]),
             Message("unit1", (FAILED,), "US/Hawaii"))
    (item,) = hook.items
    assert list(item["json"]) == ["text"]
    text = item["json"]["text"]
    assert text.startswith(f":rotating_light: {bold}[unit1] NIGHT FAILED (2026-12-15 "
                           f"09:00Z, 23:00 site time){bold}\n")
    assert text.endswith("the mount does not answer.")


@pytest.fixture
def tls(tmp_path, monkeypatch) -> ssl.SSLContext:
    """A server context for 127.0.0.1 whose test CA the channels trust (SSL_CERT_FILE)."""
    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server)
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
    return server


def mail_channel(port: int, security: str, **smtp: Any) -> dict[str, Any]:
    return {"name": "mail", "kind": "email", "smtp": {
        "host": "127.0.0.1", "port": port, "security": security,
        "sender": "unit1@example.org", "to": ["a@example.org", "b@example.org"], **smtp}}


def test_an_email_over_starttls_with_a_login_reads_well(tmp_path, tls):
    with MailReceiver(auth=("unit", "s3cret"), tls=tls, security="starttls") as mail:
        counts = send(settings(tmp_path, [mail_channel(mail.port, "starttls", username="unit",
                                                       password="s3cret")]),
                      Message("unit1", (UNSAFE,), "US/Hawaii"))
    assert counts["mail"] == {"sent": 1, "failed": 0, "dropped": 0}
    assert mail.logins == ["unit"]
    (item,) = mail.items
    assert item["from"] == "unit1@example.org"
    assert item["to"] == ["a@example.org", "b@example.org"]
    message = item["message"]
    assert message["Subject"] == "[unit1] UNSAFE: parked and closed (rain)"
    assert message["From"] == "unit1@example.org"
    assert message["To"] == "a@example.org, b@example.org"
    assert message["X-Priority"] is None  # a warning, not critical
    assert message.get_content_type() == "text/plain"
    assert message.get_content().replace("\r\n", "\n") == (
        "UNSAFE: parked and closed (rain) (2026-12-15 09:00Z, 23:00 site time)\n"
        "Unsafe since 09:00Z: rain.\nThe unit parked and closed: confirmed.\n")


def test_an_email_over_ssl_marks_a_critical_message(tmp_path, tls):
    with MailReceiver(tls=tls, security="ssl") as mail:
        send(settings(tmp_path, [mail_channel(mail.port, "ssl")]),
             Message("unit1", (FAILED,)))
    (message,) = mail.messages()
    assert message["Subject"] == "[unit1] NIGHT FAILED"
    assert message["X-Priority"] == "1"
    assert "the mount does not answer" in message.get_content()


def test_a_server_without_starttls_is_not_sent_the_mail_in_clear(tmp_path, tls, caplog):
    with MailReceiver() as mail, caplog.at_level(logging.WARNING, "nocturna.notify"):
        counts = send(settings(tmp_path, [mail_channel(mail.port, "starttls")], retries=0),
                      Message("unit1", (FAILED,)))
    assert mail.items == [] and counts["mail"]["failed"] == 1
    assert any("STARTTLS" in r.getMessage() for r in caplog.records)


def test_a_refused_login_is_tried_again_then_given_up_and_logged(tmp_path, tls, caplog):
    with MailReceiver(auth=("unit", "s3cret"), tls=tls, security="starttls") as mail, \
            caplog.at_level(logging.WARNING, "nocturna.notify"):
        counts = send(settings(tmp_path, [mail_channel(mail.port, "starttls", username="unit",
                                                       password="wrong")],
                               retries=2, retry_backoff="0.01 s"), Message("unit1", (FAILED,)))
    assert mail.items == [] and counts["mail"]["failed"] == 1
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("nocturna")]
    assert sum("failed: 127.0.0.1" in m and "SMTPAuthenticationError" in m
               for m in messages) == 2
    assert any("gave up after 3 tries" in m and "[unit1] NIGHT FAILED" in m for m in messages)
    assert not any("wrong" in m for m in messages)  # the password is not logged


def test_a_receiver_failing_twice_gets_the_message_on_the_third_try(tmp_path, caplog):
    with WebhookReceiver(fail_first=2) as hook, caplog.at_level(logging.INFO, "nocturna"):
        counts = send(settings(tmp_path, [{"name": "ops", "kind": "webhook", "url": hook.url}],
                               retries=3, retry_backoff="0.01 s"),
                      Message("unit1", (UNSAFE,)))
    assert hook.requests == 3 and len(hook.items) == 1
    assert counts["ops"] == {"sent": 1, "failed": 0, "dropped": 0}
    messages = [r.getMessage() for r in caplog.records]
    assert [m for m in messages if "failed" in m] == [
        "webhook channel 'ops' (http://127.0.0.1): try 1 of 4 failed: 127.0.0.1 answered "
        "HTTP 500 Internal Server Error; trying again in 0.01 s",
        "webhook channel 'ops' (http://127.0.0.1): try 2 of 4 failed: 127.0.0.1 answered "
        "HTTP 500 Internal Server Error; trying again in 0.02 s"]


def test_a_full_queue_drops_its_oldest_message_and_says_so(tmp_path, caplog):
    with WebhookReceiver(hang=True) as hook, caplog.at_level(logging.WARNING, "nocturna"):
        config = settings(tmp_path, [{"name": "ops", "kind": "webhook", "url": hook.url}],
                          queue_size=2)
        titles = [f"message {i}" for i in range(6)]
        messages = [Message("unit1", (Notification("fault", "warning", t, "", WHEN),))
                    for t in titles]
        channels = build_channels(config)
        sender = Sender(channels, timeout_s=600.0, retries=0, backoff_s=1.0, queue_size=2)
        sender.start()
        for message in messages:
            sender.submit(channels[0], message)
        hook.release()  # answer from now on
        sender.close(30.0)
    counts = sender.counts()["ops"]
    received = [item["json"]["notifications"][0]["title"] for item in hook.items]
    assert counts["dropped"] >= 3 and counts["sent"] + counts["dropped"] == 6
    assert received[-2:] == titles[-2:]  # the newest are kept
    dropped = [r.getMessage() for r in caplog.records if "dropped the oldest" in r.getMessage()]
    assert len(dropped) == counts["dropped"]


def test_an_apprise_url_reaches_its_service(tmp_path):
    with WebhookReceiver() as hook:
        url = hook.url.replace("http://", "json://")
        counts = send(settings(tmp_path, [{"name": "any", "kind": "apprise", "url": url}]),
                      Message("unit1", (FAILED,)))
    assert counts["any"]["sent"] == 1
    (item,) = hook.items
    assert item["json"]["title"] == "[unit1] NIGHT FAILED"
    assert "the mount does not answer" in item["json"]["message"]
    assert item["json"]["type"] == "failure"


def test_an_apprise_url_apprise_does_not_know_is_a_config_error_naming_the_key(tmp_path):
    config = settings(tmp_path, [
        {"name": "ops", "kind": "webhook", "url": "http://127.0.0.1:9/hook"},
        {"name": "chat", "kind": "apprise", "url": "nosuchservice://token@host"}])
    with pytest.raises(ConfigError, match=r"notifications\.channels\[1\]\.url: apprise does "
                                          r"not know the URL of channel 'chat'"):
        build_channels(config)
