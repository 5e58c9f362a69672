"""Secrets kept out of messages: the password in a URL (``scheme://user:***@host``)."""

from __future__ import annotations

import re

_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")


def mask_password(text: str) -> str:
    """``text`` with the password of any ``scheme://user:password@`` in it as ``***``."""
    return _PASSWORD.sub(r"\1***@", text)
