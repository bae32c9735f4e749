"""Background jobs of `guildbot serve`, on APScheduler 3: the weekly digest (and, later, syncs).

    scheduler = Scheduler()
    scheduler.weekly("digest", job, day="monday", at="09:00", tz="Europe/London", missed=check)
    scheduler.start()          # runs `job` once now when `check(last scheduled time)` says it was missed
    ...
    scheduler.shutdown()

`start_for(guild)` is the one call `serve` makes: it adds every configured job and starts them.
Adding another job (the syncs cycle) is one `weekly(...)` or `every(...)` line in `jobs_for`.

Jobs run on the scheduler's thread pool, each with its own `Guild` (its own SQLite connection
and model), never sharing the web app's. APScheduler's job store is in memory, so it cannot know
about runs missed while no process was up: each job may pass `missed`, which the scheduler asks
at start-up about the latest scheduled time. With several `serve` processes every one schedules
the digest; the digest's run record (index/storage/digest_runs.py) makes sure only one posts.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Any, Callable
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from guildbot.config.loader import DAYS
from guildbot.settings import environment

log = logging.getLogger("guildbot.jobs.scheduler")

MISFIRE_GRACE = 6 * 3600  # a run late by up to this (a busy or suspended host) still happens


def previous_weekly(now: datetime, day: str, at: str, tz: str) -> datetime:
    """The latest `day` at `at` (local time in `tz`) at or before `now`, in UTC. Pure."""
    zone = ZoneInfo(tz)
    local = now.astimezone(zone)
    hour, minute = (int(x) for x in at.split(":"))
    weekday = DAYS.index(day)
    d = local.date() - timedelta(days=(local.weekday() - weekday) % 7)
    candidate = datetime.combine(d, time(hour, minute), zone)
    if candidate > local:
        candidate = datetime.combine(d - timedelta(days=7), time(hour, minute), zone)
    return candidate.astimezone(timezone.utc)


@dataclass
class Job:
    name: str
    func: Callable[[datetime | None], Any]  # called with the scheduled time it stands for (None for `every`)
    trigger: Any
    previous: Callable[[datetime], datetime | None] = lambda now: None
    missed: Callable[[datetime], bool] | None = None


class Scheduler:
    def __init__(self) -> None:
        self.aps = BackgroundScheduler(timezone=timezone.utc, job_defaults={"coalesce": True, "max_instances": 1,
                                                                             "misfire_grace_time": MISFIRE_GRACE})
        self.jobs: dict[str, Job] = {}

    def weekly(self, name: str, func: Callable[[datetime | None], Any], day: str, at: str, tz: str,
               missed: Callable[[datetime], bool] | None = None) -> None:
        """Run `func(scheduled time)` every week on `day` at `at` ("09:00") local time in `tz`.
        `missed(t)` says whether the run scheduled at `t` (the latest before start-up) never happened;
        a catch-up run gets that `t`, so it does the work of the run it replaces."""
        hour, minute = (int(x) for x in at.split(":"))
        trigger = CronTrigger(day_of_week=day[:3], hour=hour, minute=minute, timezone=ZoneInfo(tz))
        self._add(Job(name, func, trigger, lambda now: previous_weekly(now, day, at, tz), missed))

    def every(self, name: str, func: Callable[[datetime | None], Any], seconds: float) -> None:
        """Run `func(None)` every `seconds`."""
        self._add(Job(name, func, IntervalTrigger(seconds=seconds)))

    def _add(self, job: Job) -> None:
        self.jobs[job.name] = job
        self.aps.add_job(self._guarded(job), job.trigger, id=job.name, name=job.name, replace_existing=True)

    @staticmethod
    def _guarded(job: Job) -> Callable[[], None]:
        def run() -> None:
            try:
                job.func(job.previous(datetime.now(timezone.utc)))
            except Exception:  # noqa: BLE001 - a failed run is logged; the next one still comes
                log.exception("scheduled job %s failed", job.name)
        return run

    def catch_up(self, now: datetime | None = None) -> list[str]:
        """Jobs whose latest scheduled run was missed, queued to run once now; returns their names."""
        now = now or datetime.now(timezone.utc)
        due = []
        for job in self.jobs.values():
            when = job.previous(now)
            if when is None or job.missed is None:
                continue
            try:
                missed = job.missed(when)
            except Exception:  # noqa: BLE001
                log.exception("could not tell whether %s missed its run at %s", job.name, when)
                continue
            if missed:
                log.info("%s: the run scheduled at %s was missed; running it now", job.name, when.isoformat())
                self.aps.add_job(self._guarded(job), "date", run_date=datetime.now(timezone.utc), id=f"{job.name}-catch-up",
                                 replace_existing=True, misfire_grace_time=None)
                due.append(job.name)
        return due

    def start(self, now: datetime | None = None) -> list[str]:
        self.aps.start()
        return self.catch_up(now)

    def next_run(self, name: str) -> datetime | None:
        job = self.aps.get_job(name)
        return job.next_run_time if job else None

    def shutdown(self) -> None:
        if self.aps.running:
            self.aps.shutdown(wait=False)


# -- the jobs of a guild ---------------------------------------------------------------------------------
def digest_week(when: datetime | None, tz: str) -> str:
    """The week a digest run scheduled at `when` is about: the one that had ended by then."""
    from index.digest.weekly import last_week
    return last_week(when, tz)


def digest_job(config_path: Any, environ: dict[str, str] | None = None) -> Callable[[datetime | None], None]:
    """Build and deliver the digest to every configured channel, with a Guild of its own."""
    def run(when: datetime | None) -> None:
        from guildbot.digest.service import digest_for, make_client
        from guildbot.guild import Guild

        guild = Guild.from_config(config_path)
        try:
            for o in digest_for(guild).run(make_client(environ), digest_week(when, guild.config.digest.tz)):
                log.info("digest %s to %s: %s %s", o.week, o.channel, o.status, o.error)
        finally:
            guild.close()
    return run


def digest_missed(guild: Any) -> Callable[[datetime], bool]:
    """A scheduled digest run was missed when some target channel has no posted run for its week."""
    def missed(when: datetime) -> bool:
        from guildbot.digest.service import digest_for

        return digest_for(guild).undelivered(digest_week(when, guild.config.digest.tz))
    return missed


def jobs_for(guild: Any, scheduler: Scheduler, environ: dict[str, str] | None = None) -> list[str]:
    """Add the guild's configured jobs; returns their names. One line per feature."""
    token = bool(environment(environ).slack_bot_token.get_secret_value())
    names = []
    d = guild.config.digest
    if (d.channel or d.per_team) and token:
        scheduler.weekly("digest", digest_job(guild.config.path, environ), d.day, d.time, d.tz, missed=digest_missed(guild))
        names.append("digest")
    if _syncs_configured(guild) and token:
        scheduler.every("syncs", syncs_job(guild.config.path), SYNCS_EVERY_S)
        names.append("syncs")
    return names


SYNCS_EVERY_S = 3600.0  # plan (once per cycle), post, remind and check in: each run does what is due


def _syncs_configured(guild: Any) -> bool:
    from guildbot.config.syncs import SyncsConfig
    return guild.config.syncs is not None and guild.config.syncs != SyncsConfig()


def syncs_job(config_path: Any) -> Callable[[datetime | None], None]:
    """One sync cycle run (guildbot/slack/syncs.py run_cycle), with a Guild of its own."""
    def run(_when: datetime | None) -> None:
        from guildbot.guild import Guild
        from guildbot.slack.syncs import run_cycle
        from guildbot.syncs.service import syncs_for

        guild = Guild.from_config(config_path)
        try:
            log.info("syncs: %s", run_cycle(syncs_for(guild)))
        finally:
            guild.close()
    return run


def start_for(guild: Any, environ: dict[str, str] | None = None) -> Scheduler | None:
    """The one call for `guildbot serve`: schedule the guild's jobs and start them (None when none are configured)."""
    scheduler = Scheduler()
    names = jobs_for(guild, scheduler, environ)
    if not names:
        return None
    caught_up = scheduler.start()
    for name in names:
        log.info("scheduled %s: next run %s%s", name, scheduler.next_run(name),
                 " (running the missed one now)" if name in caught_up else "")
    return scheduler
