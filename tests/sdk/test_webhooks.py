"""The argilla SDK's own webhook listener (`rg.webhook_listener`, its FastAPI app under uvicorn on a
free port) against Juror: creating a dataset, logging records and submitting responses until
records complete delivers each event once, signed so that the SDK's Standard Webhooks check
passes (a delivery it refuses is never handled); with the listener down, writes go on and the
events arrive after it comes back."""
import os
import threading
import time
import uuid

import pytest
import requests

import argilla as rg
from conftest import OWNER_API_KEY, free_port
from test_metrics import scrape

OWNER = {"X-Argilla-Api-Key": OWNER_API_KEY}
EVENTS_TIMEOUT_S = 30.0


class Listener:
    """uvicorn serving the SDK's webhook server on one port, startable again after a stop."""

    def __init__(self, app, port):
        self.app = app
        self.port = port
        self.server = None
        self.thread = None

    def start(self):
        import uvicorn

        self.server = uvicorn.Server(uvicorn.Config(app=self.app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        assert self.server.started, "the webhook listener did not start"

    def stop(self):
        self.server.should_exit = True
        self.thread.join(timeout=10)


def wait_until(condition, what):
    deadline = time.monotonic() + EVENTS_TIMEOUT_S
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def api_key_of(argilla_url, user_id):
    """A user's API key, as owners read it."""
    answer = requests.get(f"{argilla_url}/api/v1/users/{user_id}", headers=OWNER, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()["api_key"]


def submit(argilla_url, record_id, headers):
    answer = requests.post(
        f"{argilla_url}/api/v1/records/{record_id}/responses",
        headers=headers,
        json={"status": "submitted", "values": {"preference": {"value": [{"value": "response-1", "rank": 1}, {"value": "response-2", "rank": 2}]}}},
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_the_sdk_listener_gets_each_event_once_and_catches_up_after_an_outage(argilla_url, client):
    port = free_port()
    # Read by `webhook_listener` when it registers each function: the URL Juror posts to.
    os.environ["WEBHOOK_SERVER_URL"] = f"http://127.0.0.1:{port}"
    received = []
    lock = threading.Lock()

    def keep(kind, type, resource_id, name=None):
        with lock:
            received.append((kind, str(type.value if hasattr(type, "value") else type), str(resource_id), name))

    suffix = uuid.uuid4().hex[:8]
    # `webhook_listener` lists webhooks with the client it is given but creates them with the
    # default client (the last one made, in a user's script their only one): the owner's here.
    previous_default = rg.Argilla._default_client
    rg.Argilla._set_default(client)

    @rg.webhook_listener(events=["dataset.created", "dataset.published"], client=client)
    async def dataset_events(type, timestamp, dataset):
        keep("dataset", type, dataset.id, dataset.name)

    @rg.webhook_listener(events=["record.created", "record.completed"], client=client)
    async def record_events(type, timestamp, record):
        keep("record", type, record.id, record.fields["prompt"])

    @rg.webhook_listener(events=["response.created"], client=client)
    async def response_events(type, timestamp, response):
        keep("response", type, response.record.id, str(response.user_id))

    webhooks = {webhook.url: webhook for webhook in client.webhooks}
    ours = [webhooks[f"http://127.0.0.1:{port}/{name}"] for name in ("dataset_events", "record_events", "response_events")]
    assert all(webhook.secret.startswith("whsec_") for webhook in ours)

    listener = Listener(rg.get_webhook_server(), port)
    listener.start()
    try:
        settings = rg.Settings(
            fields=[rg.TextField(name="prompt"), rg.TextField(name="response-1"), rg.TextField(name="response-2")],
            questions=[rg.RankingQuestion(name="preference", values=["response-1", "response-2"])],
            distribution=rg.TaskDistribution(min_submitted=2),
        )
        dataset = rg.Dataset(name=f"hooked-{suffix}", settings=settings, client=client)
        dataset.create()
        dataset.records.log([{"prompt": f"first {n}", "response-1": "a", "response-2": "b"} for n in range(3)])
        # The SDK's record id is the external id (what the listener's records carry too); answers
        # go to the server's id.
        records = {record.fields["prompt"]: str(record.id) for record in dataset.records}
        server_ids = {record.fields["prompt"]: str(record._server_id) for record in dataset.records}

        annotators = []
        for n in range(2):
            user = rg.User(username=f"hook-{suffix}-{n}", password="password123", role="annotator", client=client).create()
            user.add_to_workspace(dataset.workspace)
            annotators.append(user)
        keys = [{"X-Argilla-Api-Key": api_key_of(argilla_url, user.id)} for user in annotators]
        # "first 0" and "first 1" complete (two answers each); "first 2" gets one answer.
        for prompt, labelers in [("first 0", keys), ("first 1", keys), ("first 2", keys[:1])]:
            for headers in labelers:
                submit(argilla_url, server_ids[prompt], headers)

        expected = {
            ("dataset", "dataset.created", str(dataset.id), dataset.name),
            ("dataset", "dataset.published", str(dataset.id), dataset.name),
            *{("record", "record.created", records[prompt], prompt) for prompt in records},
            ("record", "record.completed", records["first 0"], "first 0"),
            ("record", "record.completed", records["first 1"], "first 1"),
        }
        wait_until(lambda: expected <= set(received) and len(received) >= len(expected) + 5, "the first events")
        time.sleep(1.0)  # anything delivered twice would show by now
        with lock:
            first_round = list(received)
        assert len(first_round) == len(set(first_round)) == len(expected) + 5, first_round
        assert expected <= set(first_round)
        answers = [entry for entry in first_round if entry[0] == "response"]
        assert sorted(entry[2] for entry in answers) == sorted([records["first 0"]] * 2 + [records["first 1"]] * 2 + [records["first 2"]])

        # The listener goes away; writes go on, and their deliveries wait with the reason.
        listener.stop()
        dataset.records.log([{"prompt": f"second {n}", "response-1": "a", "response-2": "b"} for n in range(2)])
        records = {record.fields["prompt"]: str(record.id) for record in dataset.records}
        server_ids = {record.fields["prompt"]: str(record._server_id) for record in dataset.records}
        for prompt in ("second 0", "second 1"):
            for headers in keys:
                submit(argilla_url, server_ids[prompt], headers)
        record_hook = ours[1]

        def waiting_with_a_reason():
            answer = requests.get(f"{argilla_url}/api/v1/webhooks/{record_hook.id}/deliveries", headers=OWNER, timeout=10)
            assert answer.status_code == 200, answer.text
            pending = [item for item in answer.json()["items"] if item["status"] == "pending"]
            return len(pending) == 4 and all(item["attempts"] >= 1 and item["last_error"] for item in pending)

        wait_until(waiting_with_a_reason, "failed attempts while the listener is down")
        assert len(received) == len(first_round), "nothing arrives while the listener is down"

        # Back up: every event of the outage arrives, once.
        listener.start()
        late = {
            ("record", "record.created", records["second 0"], "second 0"),
            ("record", "record.created", records["second 1"], "second 1"),
            ("record", "record.completed", records["second 0"], "second 0"),
            ("record", "record.completed", records["second 1"], "second 1"),
        }
        wait_until(lambda: len(received) >= len(first_round) + len(late) + 4, "the events of the outage")
        time.sleep(1.0)
        with lock:
            outage = received[len(first_round):]
        assert len(outage) == len(set(outage)) == len(late) + 4, outage
        assert late <= set(outage)
        answer = requests.get(f"{argilla_url}/api/v1/webhooks/{record_hook.id}/deliveries", headers=OWNER, timeout=10)
        assert all(item["status"] == "delivered" for item in answer.json()["items"]), answer.json()

        # /metrics counts the attempts by outcome and shows the queue drained.
        samples = scrape(argilla_url)
        assert samples[("juror_webhook_attempts_total", (("outcome", "delivered"),))] >= len(received)
        assert samples[("juror_webhook_attempts_total", (("outcome", "retried"),))] >= 4, "the outage's attempts"
        assert samples[("juror_webhook_deliveries_pending", ())] == 0
    finally:
        rg.Argilla._set_default(previous_default)
        listener.stop()
        for webhook in ours:
            webhook.delete()
