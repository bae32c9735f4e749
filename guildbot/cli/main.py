"""The `guildbot` command line.

    guildbot --config guild.toml crawl            # progress on stderr, report at the end
    guildbot --config guild.toml search "QUERY" [--json] [--limit N] [--team T] [--as EMAIL]
    guildbot --config guild.toml who "QUESTION" [--json] [--limit N] [--team T] [--as EMAIL]
    guildbot --config guild.toml sources [--json]
    guildbot --config guild.toml projects | project | overlaps | people | person | similar   (cli_catalog.py)
    guildbot --config guild.toml export catalog.db [--force]   the catalog as a SQLite file (cli/export.py)
    guildbot --config guild.toml insights [--weeks N] [--json]  questions, gaps, syncs, the team map (cli/insights.py)
    guildbot --config guild.toml consent PERSON [--stop|--start|--pause DAYS|--resume|--hide T|--show T] | --list

Exit codes: 0 success, 1 a source failed under --strict, 2 bad configuration or usage, an unusable
data_dir or database, or another crawl already running on the data_dir.
"""
from __future__ import annotations

import argparse
import json
import sys
import textwrap
from typing import Any, Callable

from guildbot.cli import catalog as cli_catalog
from guildbot.cli import digest as cli_digest
from guildbot.cli import export as cli_export
from guildbot.cli import syncs as cli_syncs
from guildbot.cli import consent as cli_consent
from guildbot.cli import insights as cli_insights
from guildbot.cli import worker as cli_worker
from guildbot.cli import slack as slack_cli
from guildbot.cli import serve as web_cli
from connectors.common.redact import install_log_redaction, redact
from index.embedding.embedder import ModelError
from index.storage.dburl import database_error
from index.storage.factory import CrawlLocked, SQLiteError, StoreError, store_error

from guildbot.cli.args import positive_int
from guildbot.config.loader import ConfigError
from guildbot.guild import CrawlReport, Guild
from guildbot.settings import environment

EPILOG = """examples:
  guildbot crawl                              index every source in ./guild.toml
  guildbot who "who has built a recommender?" people to ask, with their evidence
  guildbot search "drift monitoring" --json   documents as JSON
  guildbot sources                            last crawl and last error per source

configuration: guild.toml (see README.md); --config or $GUILDBOT_CONFIG picks another file."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="guildbot", description="Find who in the company already built it, and where it is written down.",
                                epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", default=environment().config or "guild.toml",
                   help="path to guild.toml (default: $GUILDBOT_CONFIG or ./guild.toml)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    c = sub.add_parser("crawl", help="index every source; only changed documents are embedded again",
                       description="Crawl the configured sources into the index. Only new or changed documents are "
                                   "chunked and embedded; one failing source never stops the others.")
    c.add_argument("--source", action="append", metavar="NAME", help="crawl only this source (repeatable)")
    c.add_argument("--strict", action="store_true", help="exit 1 when any source failed")
    c.add_argument("--json", action="store_true", help="print the report as JSON")
    c.add_argument("--quiet", action="store_true", help="no progress bar")
    c.add_argument("--allow-shrink", action="store_true",
                   help="accept a GitHub/GitLab listing that lost most of its repositories (their documents are deleted)")
    cli_worker.add_every(c)  # the crawl worker (issue 14)

    for name, what, helptext in (("search", "QUERY", "find documents"), ("who", "QUESTION", "find people who know a topic")):
        s = sub.add_parser(name, help=helptext, description=helptext.capitalize() + ".")
        s.add_argument(what.lower(), metavar=what)
        s.add_argument("--limit", type=positive_int, default=10, help="how many answers (default 10)")
        s.add_argument("--team", help="only answers from this team")
        s.add_argument("--json", action="store_true", help="print JSON as documented in DESIGN.md")
        cli_catalog.add_as(s)

    s = sub.add_parser("sources", help="last crawl, documents and last error per source")
    s.add_argument("--json", action="store_true")
    cli_catalog.add_parsers(sub)
    cli_export.add_parsers(sub)  # export FILE: the catalog as a plain SQLite file
    cli_syncs.add_parsers(sub)  # syncs propose | post | list | ics | optout
    slack_cli.add_parsers(sub)  # slack --socket, slack-console
    web_cli.add_parsers(sub)  # serve: the web app, and Slack when configured
    cli_digest.add_parsers(sub)  # digest
    cli_insights.add_parsers(sub)  # insights
    cli_consent.add_parsers(sub)  # consent
    return p


def _progress_bar(quiet: bool) -> tuple[Callable[[str, str, int], None] | None, Callable[[Any], None], Callable[[], None]]:
    if quiet:
        return None, lambda s: None, lambda: None
    from tqdm import tqdm

    state: dict[str, Any] = {"bar": None, "chunks": 0, "source": None}

    def on_source(source) -> None:
        close()
        state["chunks"], state["source"] = 0, source.name
        state["bar"] = tqdm(desc=f"{source.name:<20.20}", unit=" docs", file=sys.stderr, dynamic_ncols=True, leave=True)

    def tick(source: str, what: str, n: int) -> None:
        bar = state["bar"]
        if bar is None:
            return
        if what == "documents":
            bar.update(n)
        elif source == state["source"]:  # the source before's last chunks encode while this one is read
            state["chunks"] += n
            bar.set_postfix(chunks=state["chunks"], refresh=False)

    def close() -> None:
        if state["bar"] is not None:
            state["bar"].close()
            state["bar"] = None

    return tick, on_source, close


def _print_crawl(report: CrawlReport) -> None:
    rows = [("source", "added", "changed", "deleted", "unchanged", "chunks", "seconds", "status")]
    for s in report.sources:
        rows.append((s.name, s.added, s.changed, s.deleted, s.unchanged, s.chunks_embedded, f"{s.seconds:.1f}",
                     "ok" if s.ok else "FAILED"))
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(str(v).ljust(w) if i == 0 else str(v).rjust(w) for i, (v, w) in enumerate(zip(r, widths))))
    for s in report.failed:
        print(f"\nerror: {s.error}", file=sys.stderr)
    if report.refreshed:
        print(f"\n{report.refreshed} stored documents embedded again for the new index version or model")
    if report.people:
        print(f"\n{report.people.people} people from {report.people.identities} identities"
              f" ({report.people.bots} bots ignored) · {report.projects} projects · {report.seconds:.1f}s in all")


def cmd_crawl(guild: Guild, args) -> int:
    if getattr(args, "every", None):
        return cli_worker.every(args.every, lambda: _crawl_once(guild, args))
    return _crawl_once(guild, args)


def _crawl_once(guild: Guild, args) -> int:
    tick, on_source, close = _progress_bar(args.quiet or args.json)
    try:
        report = guild.crawl(only=args.source, progress=tick, on_source=on_source, allow_shrink=args.allow_shrink)
    finally:
        close()
    if args.json:
        print(json.dumps({"sources": [s.as_dict() for s in report.sources], "seconds": report.seconds,
                          "people": report.people.people if report.people else 0}, indent=1))
    else:
        _print_crawl(report)
    if report.failed:  # one summary line naming the failed sources, and what the exit status means
        names = ", ".join(s.name for s in report.failed)
        print(f"\n{len(report.failed)} of {len(report.sources)} sources failed ({names}); the others were crawled"
              + (" — exit status 1 (--strict)" if args.strict else "; `crawl --strict` exits 1 on this"), file=sys.stderr)
    return 1 if (args.strict and report.failed) else 0


def cmd_search(guild: Guild, args) -> int:
    hits = guild.search(args.query, limit=args.limit, team=args.team, viewer=cli_catalog.viewer(guild, args),
                        surface="cli", asker=cli_digest.asker(args))
    if args.json:
        print(json.dumps([h.public() for h in hits], indent=1, ensure_ascii=False))
        return 0
    if not hits:
        print("Nothing matched well. Try other words, or run `guildbot crawl` if the index is empty.")
    for n, h in enumerate(hits, 1):
        section = f" › {h.section}" if h.section else ""
        print(f"{n:>2}. {h.title}{section}  [{h.team} · {h.source}]\n    {h.link}")
        if h.snippet:
            print(textwrap.indent(textwrap.fill(h.snippet, 96), "    "))
        if h.copies:  # the same text elsewhere, folded into this result
            print("    also at: " + "; ".join(f"{c['url']} ({c['source']})" for c in h.copies))
    return 0


def cmd_who(guild: Guild, args) -> int:
    experts = guild.experts(args.question, limit=args.limit, team=args.team, viewer=cli_catalog.viewer(guild, args),
                            surface="cli", asker=cli_digest.asker(args))
    if args.json:
        print(json.dumps([e.public() for e in experts], indent=1, ensure_ascii=False))
        return 0
    if not experts:
        print("Nobody found for that topic yet. Try other words, or run `guildbot crawl` if the index is empty.")
    for n, e in enumerate(experts, 1):
        contact = f" <{e.emails[0]}>" if e.emails else ""
        print(f"{n:>2}. {e.name}{contact} — {e.team or 'team unknown'}  (score {e.score:.3f})")
        for ev in e.evidence:
            print(f"      · {ev.title} — {ev.what}\n        {ev.url}")
    return 0


def cmd_sources(guild: Guild, args) -> int:
    rows = guild.sources()
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    for r in rows:
        status = f"ERROR: {r['last_error']}" if r["last_error"] else "ok" if r["last_crawl_at"] else "never crawled"
        print(f"{r['name']:<22} {r['kind']:<10} {r['team']:<18} {r['documents']:>6} docs  "
              f"last crawl {r['last_crawl_at'] or '-':<26} {status}")
    return 0


COMMANDS = {"crawl": cmd_crawl, "search": cmd_search, "who": cmd_who, "sources": cmd_sources, **cli_catalog.COMMANDS,
            **cli_export.COMMANDS,
            **slack_cli.COMMANDS, **web_cli.COMMANDS, **cli_digest.COMMANDS, **cli_syncs.COMMANDS, **cli_insights.COMMANDS, **cli_consent.COMMANDS}


def main(argv: list[str] | None = None) -> int:
    install_log_redaction()  # no credential in any log line, at any level
    args = _parser().parse_args(argv)
    if args.command in slack_cli.NO_GUILD:  # needs no guild.toml
        return slack_cli.NO_GUILD[args.command](args)
    try:
        guild = Guild.from_config(args.config)
        try:
            return COMMANDS[args.command](guild, args)
        finally:
            guild.close()
    except ConfigError as e:
        print(f"guildbot: configuration error in {e}", file=sys.stderr)
        return 2
    except (ModelError, StoreError, CrawlLocked) as e:
        print(f"guildbot: {redact(str(e))}", file=sys.stderr)
        return 2
    except SQLiteError as e:  # a database that broke after it was opened
        print(f"guildbot: {database_error(e, guild.config.database) if guild.config.database else store_error(e, guild.config.data_dir / 'guild.db')}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("guildbot: interrupted; stored work is kept, run the command again to resume", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
