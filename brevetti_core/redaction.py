"""Credentials kept out of what a job writes: the api key and the credentials that URLs carry.

Structured records are never searched and replaced as a whole: the api key is simply not one of
their fields, and the places that can hold a credential are redacted where they are written —
URL fields (`redact_url`: the ``user:password@`` part and query parameters named like a credential)
and free text such as an error message, a log line or a metric a user recorded (`redact_text`:
credential-looking URL parts, plus each occurrence of the api key that stands as a whole token,
i.e. not inside a longer word). So a key of any length, even one letter, cannot damage
``status``, ``train_loss`` or a job id, and a key pasted into a message is still removed.
"""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

REDACTED = "***"
CREDENTIAL_PARAMETERS = frozenset(
    ("key", "apikey", "api_key", "api-key", "token", "access_token", "secret", "password", "signature")
)
"""Query parameters (compared case-insensitively) whose values are credentials."""

_TOKEN_CHARACTERS = "A-Za-z0-9_-"
_URL_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^/\s:@]*):(?P<password>[^/\s@]*)@")
_URL_PARAMETER = re.compile(
    r"(?P<lead>[?&;](?P<name>" + "|".join(sorted(map(re.escape, CREDENTIAL_PARAMETERS), key=len, reverse=True))
    + r")=)(?P<value>[^&#\s'\"<>]*)",
    re.IGNORECASE,
)


def redact_url(url: str) -> str:
    """`url` with its password (``user:password@``) and credential query parameters replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact_text(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:{REDACTED}@{host}" if ":" in userinfo else netloc
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(name.lower() in CREDENTIAL_PARAMETERS for name, _ in pairs):
            query = urlencode([(name, REDACTED if name.lower() in CREDENTIAL_PARAMETERS else value)
                               for name, value in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def url_secrets(url: str) -> list[str]:
    """The credentials `url` carries (its password, credential query values), to redact where text quotes them."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return []
    values = [v for name, v in parse_qsl(parts.query, keep_blank_values=True) if name.lower() in CREDENTIAL_PARAMETERS]
    return [secret for secret in [password, *values] if secret]


def redact_text(text: str, secret: str | None = None) -> str:
    """Free text with URL credentials and whole-token occurrences of `secret` replaced by ``***``."""
    text = _URL_USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:{REDACTED}@", text)
    text = _URL_PARAMETER.sub(lambda m: f"{m['lead']}{REDACTED}", text)
    if secret:
        # Only where the key stands alone: never inside a longer word, so that a short key cannot damage text.
        pattern = rf"(?<![{_TOKEN_CHARACTERS}]){re.escape(secret)}(?![{_TOKEN_CHARACTERS}])"
        text = re.sub(pattern, REDACTED, text)
    return text


def redact_values(value: Any, secret: str | None = None) -> Any:
    """`value` (JSON-like: dicts, lists, strings) with `redact_text` applied to every string, dict keys included."""
    if isinstance(value, str):
        return redact_text(value, secret)
    if isinstance(value, dict):
        return {redact_values(k, secret): redact_values(v, secret) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_values(v, secret) for v in value]
    return value
