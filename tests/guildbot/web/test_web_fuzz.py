"""Schemathesis reads the API's own OpenAPI schema and generates requests for every operation, sent
over real HTTP to the app on loopback: no operation may answer with a 5xx, and every 200 body
matches the schema. Bounded: a few examples per operation (issue 11 goes further).

Hypothesis drives schemathesis' per-operation strategies and httpx sends the requests: schemathesis'
pytest plugin does not run under pytest 9, nor its requests transport beside this urllib3."""
from __future__ import annotations

import httpx
import schemathesis
from hypothesis import HealthCheck, given, settings

from support.browser import web_site  # noqa: F401 - fixture

EXAMPLES = 12


def test_no_generated_request_gets_a_server_error(web_site):
    schema = schemathesis.openapi.from_dict(httpx.get(web_site.url + "/api/openapi.json").json())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 9
    called: set[str] = set()
    with httpx.Client(base_url=web_site.url, timeout=120) as http:
        for operation in operations:

            @given(case=operation.as_strategy())
            @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                      database=None)
            def check(case) -> None:
                response = http.request(case.method, case.formatted_path, params=case.query, headers=case.headers)
                called.add(operation.label)
                assert response.status_code < 500, (case.as_curl_command(), response.text[:300])
                assert response.headers["x-content-type-options"] == "nosniff"
                if response.status_code == 200:
                    assert response.headers["content-type"] == "application/json"
                    operation.validate_response(response, case=case)  # the body has the schema's shape

            check()
    assert called == {op.label for op in operations}
