"""CalDAV for syncs (`[syncs] caldav_url`, credentials from GUILDBOT_CALDAV_USERNAME and
GUILDBOT_CALDAV_PASSWORD): busy times read from the calendar are avoided when planning, and an
accepted sync is written there as an event (its UID is stable, so writing it again updates it)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from icalendar import Calendar

from connectors.common.redact import register_secret
from guildbot.settings import environment

USER_ENV, PASSWORD_ENV = "GUILDBOT_CALDAV_USERNAME", "GUILDBOT_CALDAV_PASSWORD"


class CalendarError(Exception):
    """The calendar could not be read or written; the message names the URL and the fix."""


def _utc(value: Any, end: bool = False) -> datetime:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    if isinstance(value, date):  # an all-day event: the whole day (UTC) is busy
        return datetime.combine(value, time(0), timezone.utc)
    raise ValueError(f"not a date or time: {value!r}")


def busy_intervals(ical_texts: list[str]) -> list[tuple[datetime, datetime]]:
    """(start, end) in UTC of every opaque VEVENT in the given iCalendar texts."""
    out = []
    for text in ical_texts:
        for ev in Calendar.from_ical(text).walk("VEVENT"):
            if str(ev.get("transp", "OPAQUE")).upper() == "TRANSPARENT" or "dtstart" not in ev:
                continue
            start = ev.decoded("dtstart")
            if "dtend" in ev:
                stop = ev.decoded("dtend")
            elif "duration" in ev:
                stop = start + ev.decoded("duration")
            else:
                stop = start + (timedelta(days=1) if not isinstance(start, datetime) else timedelta(0))
            out.append((_utc(start), _utc(stop)))
    return sorted(out)


def without_method(ics: bytes) -> str:
    """A calendar object resource must not carry an iTIP METHOD (RFC 4791 4.1)."""
    cal = Calendar.from_ical(ics)
    cal.pop("method", None)
    return cal.to_ical().decode()


@dataclass
class CalDAVCalendar:
    url: str
    username: str = ""
    password: str = ""

    def _calendar(self):
        import caldav
        client = caldav.DAVClient(url=self.url, username=self.username or None, password=self.password or None,
                                  timeout=15, enable_rfc6764=False)
        return client.calendar(url=self.url)

    def _fail(self, what: str, e: Exception) -> CalendarError:
        return CalendarError(f"CalDAV calendar {self.url}: cannot {what} ({type(e).__name__}: {e}); check "
                             f"[syncs] caldav_url and {USER_ENV} / {PASSWORD_ENV}")

    def busy(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        try:
            events = self._calendar().search(start=start, end=end, event=True, expand=True)
            return [(s, e) for s, e in busy_intervals([ev.data for ev in events]) if s < end and start < e]
        except Exception as e:  # noqa: BLE001 - caldav raises DAVError, niquests errors, XML errors
            raise self._fail("read busy times", e) from e

    def put_event(self, ics: bytes) -> str:
        """Write (or update) the event; returns its URL."""
        try:
            return str(self._calendar().save_event(without_method(ics)).url)
        except Exception as e:  # noqa: BLE001
            raise self._fail("write the event", e) from e


def calendar_from_config(cfg: Any) -> CalDAVCalendar:
    env = environment()
    password = env.caldav_password.get_secret_value()
    register_secret(password)  # masked in every log line and message (connectors/common/redact.py)
    return CalDAVCalendar(cfg.caldav_url, env.caldav_username, password)
