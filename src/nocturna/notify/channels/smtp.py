"""E-mail over SMTP (STARTTLS, SSL or plain; a login if configured), with the stdlib."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from nocturna.notify.channels.base import Channel, SendError
from nocturna.notify.notification import Message


class EmailChannel(Channel):
    """Sends each message as one plain-text e-mail."""

    @property
    def where(self) -> str:
        smtp = self.config.smtp
        assert smtp is not None
        return f"smtp://{smtp.host}:{smtp.effective_port}"

    def compose(self, message: Message) -> EmailMessage:
        """The e-mail: the message's subject, its text as the body."""
        smtp = self.config.smtp
        assert smtp is not None
        mail = EmailMessage()
        mail["Subject"] = message.subject
        mail["From"] = smtp.sender
        mail["To"] = ", ".join(smtp.to)
        mail["Date"] = formatdate(localtime=False, usegmt=True)
        mail["Message-ID"] = make_msgid(domain=smtp.sender.rpartition("@")[2] or None)
        if message.level == "critical":
            mail["X-Priority"] = "1"
        mail.set_content(message.text())
        return mail

    def send(self, message: Message) -> None:
        smtp = self.config.smtp
        assert smtp is not None
        mail = self.compose(message)
        port, timeout = smtp.effective_port, self.timeout_s
        try:
            if smtp.security == "ssl":
                server: smtplib.SMTP = smtplib.SMTP_SSL(
                    smtp.host, port, timeout=timeout, context=ssl.create_default_context())
            else:
                server = smtplib.SMTP(smtp.host, port, timeout=timeout)
            with server:
                if smtp.security == "starttls":
                    server.starttls(context=ssl.create_default_context())
                if smtp.username is not None:
                    server.login(smtp.username, smtp.password or "")
                server.send_message(mail)
        except (smtplib.SMTPException, OSError) as exc:
            raise SendError(f"{smtp.host}:{port}: {type(exc).__name__}: {exc}") from None
