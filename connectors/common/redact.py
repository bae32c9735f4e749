"""Keep secrets out of every message, log line, report and stored row.

`redact(text)` masks credentials inside URLs (`https://user:SECRET@host` -> `https://user:***@host`,
`https://TOKEN@host` -> `https://***@host`) and every value registered with `register_secret`
(API tokens read from the environment). Pure apart from that small registry and
`install_log_redaction`, which masks every log record, tracebacks included.
"""
from __future__ import annotations

import logging
import os
import re
import threading
from typing import Any

MASK = "***"
# scheme://userinfo@ — userinfo stops at the first '/', '@' (last one wins below), whitespace or quote
_URL_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^/\s@'\"<>]+)@")
_BARE_USER_OK = ("ssh://", "git://", "git+ssh://", "ssh+git://", "sftp://")  # ssh://git@host is no secret
_secrets: set[str] = set()
_lock = threading.Lock()
MIN_SECRET = 6  # shorter values would mask ordinary words


def register_secret(value: str | None) -> None:
    """Mask this value wherever redact() sees it from now on (tokens read from the environment)."""
    if value and len(value.strip()) >= MIN_SECRET:
        with _lock:
            _secrets.add(value.strip())


def _userinfo(m: re.Match[str]) -> str:
    scheme, info = m.group("scheme"), m.group("userinfo")
    user, colon, _password = info.partition(":")
    if colon:
        return f"{scheme}{user}:{MASK}@"
    if scheme.lower() in _BARE_USER_OK:
        return m.group(0)
    return f"{scheme}{MASK}@"  # a lone user part in an http URL is usually a token


def redact(text: str) -> str:
    """The text with URL credentials and registered secrets masked."""
    if not text:
        return text
    out = _URL_USERINFO.sub(_userinfo, text)
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for s in secrets:
        if s in out:
            out = out.replace(s, MASK)
    return out


def redact_value(value: Any) -> Any:
    """redact() applied through dicts, lists and tuples (cursor states, reports, metadata)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_value(k): redact_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact_value(v) for v in value)
    return value


SECRET_ENV = re.compile(r"(TOKEN|SECRET|PASSWORD|PASSWD|_PAT|API_KEY)$", re.IGNORECASE)
_installed = False


def register_env_secrets(environ: dict[str, str] | None = None) -> None:
    """Register the values of environment variables named like secrets (SLACK_BOT_TOKEN,
    CONFLUENCE_PAT, SLACK_SIGNING_SECRET, ...), so no message or log line can carry them."""
    for name, value in (os.environ if environ is None else environ).items():
        if SECRET_ENV.search(name):
            register_secret(value)


_TRACEBACKS = logging.Formatter()  # formats an attached exception as every standard formatter does


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """The record with its message, attached traceback and stack masked (changed in place).

    A traceback repeats its exceptions' messages (a git error holding the clone URL, say), so one
    that needs masking is formatted here, masked, and kept as `exc_text`, which formatters print
    as is; `exc_info` is dropped then, so no handler formats the exception again from the object.
    """
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a malformed record is left for logging to report
        message = None
    if message is not None:
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
    if record.exc_info:
        text = record.exc_text or _TRACEBACKS.formatException(record.exc_info)
        clean = redact(text)
        if clean != text:
            record.exc_text, record.exc_info = clean, None
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


def install_log_redaction() -> None:
    """Redact every log record as it is made, at any level and for any handler (idempotent):
    its message and any traceback attached (redact_record). Secrets in the environment are
    registered first."""
    global _installed
    register_env_secrets()
    with _lock:
        if _installed:
            return
        _installed = True
    make = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return redact_record(make(*args, **kwargs))

    logging.setLogRecordFactory(factory)
