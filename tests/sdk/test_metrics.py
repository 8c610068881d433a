"""`GET /metrics` read by Prometheus's own OpenMetrics parser: it answers only with the token,
and its counters move with the traffic this test sends."""
import os
import uuid

import requests
from prometheus_client.openmetrics.parser import text_string_to_metric_families

import argilla as rg
from conftest import METRICS_TOKEN, OWNER_API_KEY

NEXT_ROUTE = "/api/v1/me/datasets/{dataset_id}/records/next"


def scrape(url: str) -> dict:
    """Every sample of /metrics by (name, sorted labels)."""
    answer = requests.get(f"{url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/openmetrics-text")
    samples = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_metrics_need_the_token_and_move_with_the_traffic(argilla_url, client):
    assert requests.get(f"{argilla_url}/metrics", timeout=10).status_code == 401
    assert requests.get(f"{argilla_url}/metrics", headers={"Authorization": "Bearer wrong"}, timeout=10).status_code == 401

    settings = rg.Settings(
        fields=[rg.TextField(name="prompt"), rg.TextField(name="response-1"), rg.TextField(name="response-2")],
        questions=[rg.RankingQuestion(name="preference", values=["response-1", "response-2"])],
    )
    dataset = rg.Dataset(name=f"metrics-{uuid.uuid4().hex[:8]}", settings=settings, client=client)
    dataset.create()
    dataset.records.log([{"prompt": "p", "response-1": "a", "response-2": "b"}])
    before = scrape(argilla_url)

    owner = {"X-Argilla-Api-Key": OWNER_API_KEY}
    handed = requests.post(f"{argilla_url}/api/v1/me/datasets/{dataset.id}/records/next", headers=owner, timeout=10).json()
    record = handed["record"]["id"]
    leased = scrape(argilla_url)
    answer = {"status": "submitted", "values": {"preference": {"value": [{"value": "response-1", "rank": 1}, {"value": "response-2", "rank": 2}]}}}
    assert requests.post(f"{argilla_url}/api/v1/records/{record}/responses", headers=owner, json=answer, timeout=10).status_code == 201
    nothing = requests.post(f"{argilla_url}/api/v1/me/datasets/{dataset.id}/records/next", headers=owner, timeout=10).json()
    assert nothing.get("record") is None, nothing
    after = scrape(argilla_url)

    def moved(name, labels, start=before, end=after):
        key = (name, tuple(sorted(labels.items())))
        return end.get(key, 0) - start.get(key, 0)

    assert moved("juror_handouts_total", {"kind": "record"}) == 1
    assert moved("juror_handouts_total", {"kind": "nothing_left"}) == 1
    assert moved("juror_answers_total", {"kind": "submitted"}) == 1
    assert moved("juror_http_requests_total", {"method": "POST", "route": NEXT_ROUTE, "status": "200"}) == 2
    assert moved("juror_http_request_duration_seconds_count", {"method": "POST", "route": NEXT_ROUTE}) == 2
    assert moved("juror_live_leases", {}, before, leased) == 1, "the hand-out's lease is live until the answer"
    assert moved("juror_live_leases", {}, leased, after) == -1
    groups, grouped = after[("juror_group_commits_total", ())], after[("juror_group_commit_writes_total", ())]
    if os.environ.get("JUROR_TEST_DATABASE_URL"):
        assert groups == grouped == 0, "on PostgreSQL each answer commits on its own"
    else:
        assert grouped >= groups > 0, "SQLite commits the labeling loop's writes in groups"
    assert ("juror_database_connections", (("kind", "idle"),)) in after
