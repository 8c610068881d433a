"""The OpenAPI document: valid OpenAPI 3.1 by `openapi-spec-validator`, and true to what the server
sends: a tour of the API checks each live JSON answer against the schema its operation declares
(types and required keys by JSON Schema, and no key sent that the schema does not declare)."""
import re
import uuid

import pytest
import requests
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate

from conftest import OWNER_API_KEY

OWNER = {"X-Argilla-Api-Key": OWNER_API_KEY}


@pytest.fixture(scope="module")
def spec(argilla_url):
    answer = requests.get(f"{argilla_url}/api/v1/openapi.json", timeout=10)
    assert answer.status_code == 200
    document = answer.json()
    validate(document)
    return document


def operation_of(spec, method, path):
    """The operation whose route template matches `path`."""
    for template, item in spec["paths"].items():
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
        if re.match(pattern, path) and method in item:
            return item[method]
    raise AssertionError(f"no operation for {method.upper()} {path}")


def resolve(spec, schema):
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def undeclared_keys(spec, schema, instance, where="$"):
    """Keys of `instance` that `schema` does not declare, as JSON paths."""
    schema = resolve(spec, schema)
    found = []
    alternatives = [resolve(spec, alternative) for alternative in schema.get("oneOf", []) + schema.get("anyOf", [])]
    matching = [alternative for alternative in alternatives if OAS31Validator({**spec, **alternative}).is_valid(instance)]
    if matching and instance is not None:
        found += min((undeclared_keys(spec, alternative, instance, where) for alternative in matching), key=len)
    if isinstance(instance, dict) and "properties" in schema:
        for key, value in instance.items():
            if key not in schema["properties"]:
                found.append(f"{where}.{key}")
            else:
                found += undeclared_keys(spec, schema["properties"][key], value, f"{where}.{key}")
    if isinstance(instance, list) and isinstance(schema.get("items"), dict):
        for index, value in enumerate(instance[:3]):
            found += undeclared_keys(spec, schema["items"], value, f"{where}[{index}]")
    return found


class Tour:
    """Calls the API and checks each JSON answer against its operation's declared schema."""

    def __init__(self, url, spec):
        self.url = url
        self.spec = spec
        self.checked = set()

    def call(self, method, path, headers=OWNER, expect=200, **kwargs):
        answer = requests.request(method, f"{self.url}{path}", headers=headers, timeout=30, **kwargs)
        assert answer.status_code == expect, f"{method} {path}: {answer.status_code} {answer.text}"
        operation = operation_of(self.spec, method.lower(), path.split("?")[0])
        declared = operation["responses"].get(str(answer.status_code))
        assert declared is not None, f"{method} {path} answered {answer.status_code}, which it does not document"
        content = declared.get("content", {})
        if answer.status_code == 204 or not answer.content:
            assert not content.get("application/json"), f"{method} {path} documents a body but sent none"
            return None
        schema = content["application/json"]["schema"]
        body = answer.json()
        OAS31Validator({**self.spec, **schema}).validate(body)
        extra = undeclared_keys(self.spec, schema, body)
        assert not extra, f"{method} {path} sends keys its schema does not declare: {extra}"
        self.checked.add((method, operation.get("operationId")))
        return body


def test_the_document_is_valid_and_true_to_the_answers(argilla_url, spec):
    tour = Tour(argilla_url, spec)
    suffix = uuid.uuid4().hex[:8]
    for path in ("/api/_info", "/api/_status", "/api/v1/version", "/api/v1/status", "/api/v1/settings"):
        tour.call("GET", path, headers={})
    me = tour.call("GET", "/api/v1/me")
    tour.call("GET", "/api/me")
    tour.call("GET", "/api/v1/users")
    workspace = tour.call("GET", "/api/v1/me/workspaces")["items"][0]
    labeler = tour.call("POST", "/api/v1/users", expect=201, json={"username": f"tour-{suffix}", "first_name": "Tour", "password": "password123", "role": "annotator"})
    tour.call("POST", f"/api/v1/workspaces/{workspace['id']}/users", expect=201, json={"user_id": labeler["id"]})
    tour.call("GET", f"/api/v1/workspaces/{workspace['id']}/users")
    labeler_key = {"X-Argilla-Api-Key": tour.call("GET", f"/api/v1/users/{labeler['id']}")["api_key"]}

    dataset = tour.call("POST", "/api/v1/datasets", expect=201, json={"name": f"tour-{suffix}", "workspace_id": workspace["id"]})
    base = f"/api/v1/datasets/{dataset['id']}"
    for name in ("prompt", "response-1", "response-2"):
        tour.call("POST", f"{base}/fields", expect=201, json={"name": name, "title": name, "required": True, "settings": {"type": "text"}})
    question = tour.call("POST", f"{base}/questions", expect=201, json={
        "name": "preference", "title": "Which is better?", "required": True,
        "settings": {"type": "ranking", "options": [{"value": "response-1", "text": "1"}, {"value": "response-2", "text": "2"}]},
    })
    prop = tour.call("POST", f"{base}/metadata-properties", expect=201, json={"name": "topic", "title": "Topic", "settings": {"type": "terms"}})
    tour.call("POST", f"{base}/vectors-settings", expect=201, json={"name": "embedding", "title": "Embedding", "dimensions": 2})
    tour.call("PUT", f"{base}/publish")
    tour.call("GET", base)
    tour.call("GET", "/api/v1/me/datasets")
    tour.call("GET", f"{base}/fields")
    tour.call("GET", f"{base}/questions")
    tour.call("GET", f"/api/v1/me/datasets/{dataset['id']}/metadata-properties")
    tour.call("GET", f"{base}/vectors-settings")

    ranking = {"preference": {"value": [{"value": "response-1", "rank": 1}, {"value": "response-2", "rank": 2}]}}
    records = tour.call("PUT", f"{base}/records/bulk", json={"items": [
        {"external_id": f"r{n}", "fields": {"prompt": f"p{n}", "response-1": "a", "response-2": "bb"}, "metadata": {"topic": "t"},
         "vectors": {"embedding": [0.1, 0.2]}, "suggestions": [{"question_id": question["id"], "value": ranking["preference"]["value"], "score": [0.9, 0.1], "agent": "model"}]}
        for n in range(3)
    ]})["items"]
    tour.call("GET", f"{base}/records?include=responses,suggestions,vectors")
    tour.call("POST", f"{base}/records/search?include=responses", json={"query": {"text": {"q": "p1"}}})
    tour.call("GET", f"/api/v1/metadata-properties/{prop['id']}/metrics")
    tour.call("GET", f"/api/v1/records/{records[0]['id']}/suggestions")

    nxt = tour.call("POST", f"/api/v1/me/datasets/{dataset['id']}/records/next", headers=labeler_key)
    tour.call("GET", f"{base}/leases")
    tour.call("POST", f"/api/v1/records/{nxt['record']['id']}/responses", headers=labeler_key, expect=201, json={"status": "submitted", "values": ranking})
    tour.call("POST", f"/api/v1/me/datasets/{dataset['id']}/records/search?include=responses", headers=labeler_key, json={})
    tour.call("POST", "/api/v1/me/responses/bulk", json={"items": [{"record_id": records[1]["id"], "status": "submitted", "values": ranking}]})
    tour.call("GET", f"/api/v1/records/{records[1]['id']}?include=responses,suggestions,vectors")
    tour.call("GET", f"{base}/progress")
    tour.call("GET", f"{base}/users/progress")
    tour.call("GET", f"/api/v1/me/datasets/{dataset['id']}/metrics", headers=labeler_key)
    tour.call("GET", f"{base}/preferences/metrics")
    tour.call("PUT", f"{base}/quotas/{labeler['id']}", json={"max_records": 5})
    tour.call("GET", f"{base}/quotas")
    tour.call("POST", f"{base}/assignments/split", json={"user_ids": [labeler["id"], me["id"]], "overlap": 1})
    tour.call("GET", f"{base}/assignments")
    tour.call("POST", f"/api/v1/records/{records[2]['id']}/skip", headers=labeler_key)
    tour.call("GET", "/api/v1/audit-events?limit=5")
    webhook = tour.call("POST", "/api/v1/webhooks", expect=201, json={"url": "https://hooks.example.invalid/tour", "events": ["record.completed"]})
    tour.call("GET", "/api/v1/webhooks")
    tour.call("POST", f"/api/v1/webhooks/{webhook['id']}/ping", expect=204)
    tour.call("GET", f"/api/v1/webhooks/{webhook['id']}/deliveries")
    tour.call("DELETE", f"/api/v1/webhooks/{webhook['id']}")
    tour.call("DELETE", f"/api/v1/records/{records[2]['id']}")
    tour.call("DELETE", base)
    assert len(tour.checked) >= 45, sorted(tour.checked)


def test_an_undeclared_key_is_caught(spec):
    """The tour's own check can fail: a key the schema does not declare is reported."""
    schema = {"$ref": "#/components/schemas/WorkspaceJson"}
    workspace = {"id": str(uuid.uuid4()), "name": "w", "inserted_at": "2024-01-01T00:00:00", "updated_at": "2024-01-01T00:00:00"}
    assert undeclared_keys(spec, schema, workspace) == []
    assert undeclared_keys(spec, schema, {**workspace, "secret": "x"}) == ["$.secret"]
    with pytest.raises(Exception):
        OAS31Validator({**spec, **schema}).validate({**workspace, "name": 3})
