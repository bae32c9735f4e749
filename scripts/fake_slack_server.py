#!/usr/bin/env python3
"""Run the tests' fake Slack Web API (tests/support/fake_slack.py) on loopback, for trying `guildbot serve`
and `guildbot slack-console` without a workspace (docs/slack.md). It accepts one bot token, knows
the demo directory's people, answers auth.test, chat.*, users.*, conversations.open, and logs each
call on stderr.

    .venv/bin/python scripts/fake_slack_server.py --port 8099 --token xoxb-local
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # the checkout first: tests/guildbot must not shadow guildbot
from support.fake_slack import FakeSlack  # noqa: E402
from support.slack import directory_users  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=8099)
    ap.add_argument("--token", default="xoxb-local", help="the bot token it accepts (default xoxb-local)")
    args = ap.parse_args()
    fake = FakeSlack(token=args.token, users=directory_users(), port=args.port).start()
    print(f"fake Slack Web API at {fake.api_url} (token {args.token}); Ctrl+C stops it", file=sys.stderr, flush=True)
    seen = 0
    try:
        while True:
            time.sleep(0.2)
            for call in fake.calls[seen:]:
                print(f"  {call.method} -> {call.status} {call.result.get('error') or 'ok'}", file=sys.stderr, flush=True)
            seen = len(fake.calls)
    except KeyboardInterrupt:
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
