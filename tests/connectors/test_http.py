"""HttpClient against a real loopback server: urllib3 retries, backoff, Retry-After, clear errors."""
from __future__ import annotations

import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler

import pytest

from connectors.base import SourceError
from connectors.common.http import HttpClient, ResponseTooLarge, rate_limit_wait
from support.fake_forge import dead_port
from support.loopback import LoopbackServer


class Script:
    """A server answering each request with the next scripted (status, headers, body, delay)."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.requests: list[str] = []
        script = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                script.requests.append(self.path)
                status, headers, body, delay = (script.answers.pop(0) if len(script.answers) > 1
                                                else script.answers[0])
                time.sleep(delay)
                try:
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = LoopbackServer(Handler).start()
        self.url = self.server.url + "/page"


def answer(status=200, headers=None, body=b"ok", delay=0.0):
    return (status, headers or {}, body, delay)


@pytest.fixture
def serve():
    servers = []

    def make(*answers):
        s = Script(*answers)
        servers.append(s)
        return s

    yield make
    for s in servers:
        s.server.stop()


def client(sleeps, **kw):
    return HttpClient("src", sleep=sleeps.append, **kw)


def test_server_errors_are_retried_with_exponential_backoff(serve):
    s = serve(answer(503), answer(502), answer(200, body=b"finally"))
    sleeps = []
    r = client(sleeps).get(s.url)
    assert r.status == 200 and r.content == b"finally" and len(s.requests) == 3
    assert sleeps == [0.5, 1.0]


def test_retry_after_seconds_and_dates_are_honoured_and_capped(serve):
    later = formatdate(time.time() + 30, usegmt=True)
    s = serve(answer(429, {"Retry-After": "2"}), answer(503, {"Retry-After": later}),
              answer(429, {"Retry-After": "3600"}), answer(200))
    sleeps = []
    assert client(sleeps, max_retry_after=40).get(s.url).status == 200
    assert sleeps[0] == 2 and 25 <= sleeps[1] <= 31 and sleeps[2] == 40  # an hour is capped at the limit


def test_persistent_errors_name_the_url_status_and_attempts(serve):
    s = serve(answer(500))
    with pytest.raises(SourceError) as e:
        client([]).get(s.url)
    assert f"{s.url}: HTTP 500 (after 4 attempts)" in str(e.value) and len(s.requests) == 4
    rate = serve(answer(429))
    with pytest.raises(SourceError, match="rate limiting"):
        client([], retries=1).get(rate.url)


@pytest.mark.parametrize("status, words", [(404, "not found"), (401, "access denied"), (403, "access denied"),
                                           (418, "HTTP 418")])
def test_client_errors_are_not_retried(serve, status, words):
    s = serve(answer(status))
    with pytest.raises(SourceError, match=words):
        client([]).get(s.url)
    assert len(s.requests) == 1


def test_statuses_the_caller_handles_are_returned(serve):
    s = serve(answer(404, body=b"{}"))
    assert client([]).get(s.url, ok=(200, 404)).status == 404


def test_refused_connections_and_timeouts_are_clear(serve):
    port = dead_port()
    sleeps = []
    with pytest.raises(SourceError) as e:
        client(sleeps, retries=2).get(f"http://127.0.0.1:{port}/x")
    assert "cannot connect (connection refused)" in str(e.value) and "after 3 attempts" in str(e.value)
    assert sleeps == [0.5, 1.0]
    slow = serve(answer(200, delay=1.5))
    with pytest.raises(SourceError, match=r"timed out after 0.5s \(after 2 attempts\)"):
        client([], timeout=0.5, retries=1).get(slow.url)
    assert len(slow.requests) == 2


def test_responses_over_the_size_cap_are_refused(serve):
    s = serve(answer(200, body=b"x" * 5000))
    with pytest.raises(ResponseTooLarge, match="over the"):
        client([], max_bytes=1000).get(s.url)


def test_rate_limit_wait_reads_retry_after_and_exhausted_budgets():
    assert rate_limit_wait({"Retry-After": "7"}) == 7
    assert rate_limit_wait({"retry-after": "soon"}) is None
    reset = time.time() + 10
    assert 9 < rate_limit_wait({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)}) <= 10.5
    assert rate_limit_wait({"X-RateLimit-Remaining": "12", "X-RateLimit-Reset": str(reset)}) is None
    assert rate_limit_wait({}) is None
