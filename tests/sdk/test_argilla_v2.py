"""The argilla 2.8.0 SDK, used unchanged against Juror: one test per step of the v2 workflow.

1. users            2. workspaces          3. dataset + full settings
4. records          5. progress            6. export to disk / import a copy
7. dataset and settings updates

Every test makes its own uniquely named users, workspaces and datasets, so the tests do not depend
on each other or on their order. Names only use lowercase letters, digits and '-', so that the
legacy v1 SDK (which validates every dataset name it lists) keeps working on the same server.
"""
import re
import uuid

import pytest

import argilla as rg
from argilla._exceptions import ConflictError

OWNER_USERNAME = "argilla"
MIN_SUBMITTED = 2

LABELS = ["positive", "negative", "neutral"]
TOPICS = {"sports": "Sports", "politics": "Politics", "science": "Science"}
RATINGS = [1, 2, 3, 4, 5]
RANKING_OPTIONS = {"reply-1": "First reply", "reply-2": "Second reply"}
SPAN_LABELS = ["PER", "ORG", "LOC"]
GENRES = ["news", "blog", "forum"]
CUSTOM_TEMPLATE = "<div class='caption'>{{record.fields.custom.caption}}</div>"
RESPONSE_COLUMN = "my_label"  # a dict key mapped to the owner's response on the `label` question


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------
def uid() -> str:
    return uuid.uuid4().hex[:10]


def words(text: str) -> set:
    return set(re.findall(r"\w+", text.lower()))


def chat_pairs(messages) -> list:
    """Chat messages as (role, content) pairs, whether the SDK hands back dicts or models."""
    return [(m["role"], m["content"]) if isinstance(m, dict) else (m.role, m.content) for m in messages]


def spans(value) -> list:
    return [(s["label"], s["start"], s["end"]) for s in value]


def span_of(text: str, word: str, label: str) -> dict:
    start = text.index(word)
    return {"label": label, "start": start, "end": start + len(word)}


def option_pairs(question) -> list:
    """(value, text) of each option; the SDK has no public accessor for the option texts."""
    return [(o["value"], o.get("text")) for o in question._model.settings.options]


def status_of(response) -> str:
    return getattr(response.status, "value", response.status)


def suggestion_values(record) -> dict:
    return {s.question_name: s.value for s in record.suggestions}


def response_values(record) -> dict:
    """{(question, user_id): (value, status)} of a record's responses."""
    return {(r.question_name, str(r.user_id)): (r.value, status_of(r)) for r in record.responses}


def fetch_records(dataset, **kwargs) -> dict:
    """All records of a dataset (responses, suggestions, vectors included), keyed by their `id`."""
    kwargs.setdefault("with_vectors", True)
    return {r.id: r for r in dataset.records(with_responses=True, with_suggestions=True, **kwargs)}


def ids_of(results) -> list:
    return [(item[0] if isinstance(item, tuple) else item).id for item in results]


def fetch_dataset(client, dataset, workspace):
    fetched = client.datasets(name=dataset.name, workspace=workspace.name)
    assert fetched is not None, f"dataset {dataset.name} not found in workspace {workspace.name}"
    return fetched


def simple_settings(min_submitted: int = 1) -> rg.Settings:
    return rg.Settings(
        guidelines="Label the sentiment of the text.",
        fields=[rg.TextField(name="text")],
        questions=[
            rg.LabelQuestion(name="label", labels=LABELS),
            rg.TextQuestion(name="comment", required=False),
        ],
        metadata=[rg.TermsMetadataProperty(name="genre", options=GENRES)],
        vectors=[rg.VectorField(name="embedding", dimensions=2)],
        distribution=rg.TaskDistribution(min_submitted=min_submitted),
    )


def rich_settings(min_submitted: int = MIN_SUBMITTED) -> rg.Settings:
    """Every field type, every question type, every metadata type, a vector and a distribution."""
    return rg.Settings(
        guidelines="Read the text, label its sentiment and mark the named entities.",
        fields=[
            rg.TextField(name="text", title="Text to label", use_markdown=True),
            rg.ChatField(name="chat", title="Conversation", required=False),
            rg.ImageField(name="image", title="Picture", required=False),
            rg.CustomField(name="custom", title="Custom view", template=CUSTOM_TEMPLATE, required=False),
        ],
        questions=[
            rg.LabelQuestion(name="label", title="Sentiment", description="Pick exactly one", labels=LABELS),
            rg.MultiLabelQuestion(name="topics", title="Topics", labels=TOPICS, labels_order="suggestion",
                                  required=False),
            rg.RatingQuestion(name="rating", title="Quality", values=RATINGS, required=False),
            rg.TextQuestion(name="comment", title="Comment", use_markdown=True, required=False),
            rg.RankingQuestion(name="ranking", title="Rank the replies", values=RANKING_OPTIONS, required=False),
            rg.SpanQuestion(name="entities", title="Entities", field="text", labels=SPAN_LABELS,
                            allow_overlapping=True, required=False),
        ],
        metadata=[
            rg.TermsMetadataProperty(name="genre", title="Genre", options=GENRES),
            rg.IntegerMetadataProperty(name="length", title="Length", min=0, max=1000),
            rg.FloatMetadataProperty(name="quality", title="Quality score", min=0.0, max=1.0,
                                     visible_for_annotators=False),
        ],
        vectors=[rg.VectorField(name="embedding", title="Sentence embedding", dimensions=3)],
        distribution=rg.TaskDistribution(min_submitted=min_submitted),
    )


def sample_rows() -> list:
    """Records as plain dicts: keys named after fields, metadata, vectors and questions (suggestions)."""
    rows = [
        {
            "id": "rec-1",
            "text": "The zebra crossed the quiet road",
            "chat": [{"role": "user", "content": "Is it safe to cross?"},
                     {"role": "assistant", "content": "Look both ways first."}],
            "image": "https://example.com/images/road.png",
            "custom": {"caption": "a road"},
            "genre": "news", "length": 31, "quality": 0.75, "embedding": [1.0, 0.0, 0.0],
            "label": "positive", "topics": ["science"], "rating": 4, "comment": "calm scene",
            "ranking": ["reply-2", "reply-1"],
            RESPONSE_COLUMN: "positive",
        },
        {
            "id": "rec-2",
            "text": "A giraffe ate leaves from the tall tree",
            "chat": [{"role": "user", "content": "What does it eat?"}],
            "image": "https://example.com/images/tree.png",
            "custom": {"caption": "a tree"},
            "genre": "blog", "length": 38, "quality": 0.5, "embedding": [0.0, 1.0, 0.0],
            "label": "negative", "topics": ["sports", "politics"], "rating": 2,
        },
        {
            "id": "rec-3",
            "text": "Penguins slide across the cold ice",
            "genre": "forum", "length": 34, "quality": 0.25, "embedding": [0.0, 0.0, 1.0],
            "label": "neutral",
            RESPONSE_COLUMN: "neutral",
        },
    ]
    rows[0]["entities"] = [span_of(rows[0]["text"], "zebra", "PER"), span_of(rows[0]["text"], "road", "LOC")]
    return rows


SAMPLE_MAPPING = {RESPONSE_COLUMN: "label.response"}


def sample_record(owner_id, annotator_id) -> tuple:
    """A fourth record built as rg.Record, with a scored suggestion and submitted responses of two users."""
    data = {
        "id": "rec-4",
        "text": "Another zebra story, told in a blog post",
        "genre": "blog", "length": 12, "quality": 0.9, "embedding": [0.9, 0.1, 0.0],
        "suggestion": {"question": "label", "value": "positive", "score": 0.8, "agent": "unit-test-model",
                       "type": "model"},
        "responses": [("label", owner_id, "positive", "submitted"),
                      ("comment", owner_id, "looks right", "submitted"),
                      ("label", annotator_id, "positive", "submitted")],
    }
    s = data["suggestion"]
    record = rg.Record(
        id=data["id"],
        fields={"text": data["text"]},
        metadata={k: data[k] for k in ("genre", "length", "quality")},
        vectors={"embedding": data["embedding"]},
        suggestions=[rg.Suggestion(s["question"], s["value"], score=s["score"], agent=s["agent"], type=s["type"])],
        responses=[rg.Response(q, value, user_id=user, status=status) for q, user, value, status in data["responses"]],
    )
    return record, data


def log_sample_records(dataset, owner_id, annotator_id) -> tuple:
    rows = sample_rows()
    dataset.records.log(rows, mapping=SAMPLE_MAPPING)
    record, data = sample_record(owner_id, annotator_id)
    dataset.records.log([record])
    return rows, data


def count_records(dataset) -> int:
    return len(list(dataset.records))


# --------------------------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def workspace(client):
    """A fresh workspace for this module's datasets (the owner sees every workspace)."""
    return rg.Workspace(name=f"sdk-ws-{uid()}", client=client).create()


@pytest.fixture(scope="module")
def annotator(client, workspace):
    """A second labeler, member of the module workspace, whose responses the owner logs."""
    user = rg.User(username=f"sdk-labeler-{uid()}", password="labeler-password-1", role="annotator",
                   client=client).create()
    workspace.add_user(user)
    return user


@pytest.fixture
def make_dataset(client, workspace):
    def _make(settings: rg.Settings, prefix: str = "sdk-ds") -> rg.Dataset:
        dataset = rg.Dataset(name=f"{prefix}-{uid()}", workspace=workspace.name, settings=settings, client=client)
        dataset.create()
        return dataset

    return _make


# --------------------------------------------------------------------------------------------
# 0. handshake
# --------------------------------------------------------------------------------------------
def test_0_client_connects_as_seeded_owner(client):
    me = client.me
    assert me.username == OWNER_USERNAME
    assert me.role == "owner"
    assert me.id is not None
    assert OWNER_USERNAME in [w.name for w in client.workspaces]


# --------------------------------------------------------------------------------------------
# 1. users
# --------------------------------------------------------------------------------------------
def test_1_users(client):
    suffix = uid()
    annotator = rg.User(username=f"sdk-ann-{suffix}", first_name="Ann", last_name="Otator",
                        password="annotator-pass-1", role="annotator", client=client).create()
    admin = rg.User(username=f"sdk-adm-{suffix}", password="admin-pass-123", role="admin", client=client).create()

    assert annotator.id is not None and admin.id is not None and annotator.id != admin.id
    assert (annotator.username, annotator.role, annotator.first_name, annotator.last_name) == \
        (f"sdk-ann-{suffix}", "annotator", "Ann", "Otator")
    assert (admin.role, admin.first_name) == ("admin", admin.username)  # the SDK defaults first_name

    # A second user with the same username is a conflict.
    with pytest.raises(ConflictError):
        rg.User(username=annotator.username, password="another-pass-1", client=client).create()

    # list
    listed = {u.username: u for u in client.users.list()}
    assert {OWNER_USERNAME, annotator.username, admin.username} <= set(listed)
    assert listed[admin.username].id == admin.id
    assert listed[annotator.username].role == "annotator"

    # get by id and by username
    by_id = client.users(id=annotator.id)
    assert by_id is not None
    assert (by_id.id, by_id.username, by_id.first_name, by_id.last_name, by_id.role) == \
        (annotator.id, annotator.username, "Ann", "Otator", "annotator")
    by_name = client.users(username=admin.username)
    assert by_name is not None and by_name.id == admin.id and by_name.role == "admin"

    # update through the resource
    by_id.first_name = "Annie"
    by_id.last_name = "Labeler"
    updated = by_id.update()
    assert (updated.first_name, updated.last_name) == ("Annie", "Labeler")
    refetched = client.users(id=annotator.id)
    assert (refetched.first_name, refetched.last_name, refetched.username) == ("Annie", "Labeler", annotator.username)

    # delete
    admin_id, admin_name = admin.id, admin.username
    admin.delete()
    assert client.users(id=admin_id) is None
    assert admin_name not in [u.username for u in client.users.list()]

    # unknown id -> None (the SDK relies on a 404 here)
    assert client.users(id=uuid.uuid4()) is None


# --------------------------------------------------------------------------------------------
# 2. workspaces
# --------------------------------------------------------------------------------------------
def test_2_workspaces(client):
    suffix = uid()
    ws = rg.Workspace(name=f"sdk-ws2-{suffix}", client=client).create()
    assert ws.id is not None and ws.name == f"sdk-ws2-{suffix}"

    with pytest.raises(ConflictError):
        rg.Workspace(name=ws.name, client=client).create()

    # list and get
    assert ws.name in [w.name for w in client.workspaces.list()]
    by_name = client.workspaces(ws.name)
    assert by_name is not None and by_name.id == ws.id
    by_id = client.workspaces(id=ws.id)
    assert by_id is not None and by_id.name == ws.name

    # membership
    alice = rg.User(username=f"sdk-alice-{suffix}", password="alice-password-1", client=client).create()
    bob = rg.User(username=f"sdk-bob-{suffix}", password="bob-password-12", client=client).create()
    assert {u.username for u in ws.users}.isdisjoint({alice.username, bob.username})

    added = ws.add_user(alice)
    assert added.id == alice.id
    added_by_name = ws.add_user(bob.username)
    assert added_by_name.id == bob.id
    members = {u.username: u.id for u in ws.users}
    assert members.get(alice.username) == alice.id and members.get(bob.username) == bob.id

    with pytest.raises(ConflictError):  # already a member
        ws.add_user(alice)

    removed = ws.remove_user(alice)
    assert removed.id == alice.id
    members = {u.username for u in ws.users}
    assert alice.username not in members and bob.username in members

    # A workspace that holds a dataset cannot be deleted.
    dataset = rg.Dataset(name=f"sdk-blocker-{suffix}", workspace=ws.name, settings=simple_settings(), client=client)
    dataset.create()
    assert dataset.name in [d.name for d in ws.datasets]
    with pytest.raises(ConflictError):
        ws.delete()
    assert client.workspaces(id=ws.id) is not None

    dataset.delete()
    assert ws.datasets == []
    ws.delete()
    assert client.workspaces(id=ws.id) is None
    assert ws.name not in [w.name for w in client.workspaces.list()]


# --------------------------------------------------------------------------------------------
# 3. dataset with every kind of setting
# --------------------------------------------------------------------------------------------
def test_3_create_dataset_settings_round_trip(client, workspace, make_dataset):
    expected = rich_settings()
    dataset = make_dataset(expected)
    assert dataset.id is not None

    assert dataset.name in [d.name for d in workspace.datasets]
    assert client.datasets(id=uuid.uuid4()) is None

    fetched = fetch_dataset(client, dataset, workspace)
    assert fetched.id == dataset.id
    assert fetched._model.status == "ready"  # create() publishes the dataset
    assert fetched._model.workspace_id == workspace.id
    got = fetched.settings

    assert got.guidelines == expected.guidelines
    assert got.allow_extra_metadata == expected.allow_extra_metadata
    assert got.distribution.min_submitted == MIN_SUBMITTED

    # fields, in creation order
    assert [(f.name, f.type) for f in got.fields] == [(f.name, f.type) for f in expected.fields]
    for want in expected.fields:
        have = got.fields[want.name]
        assert (have.title, have.required) == (want.title, want.required), want.name
    assert got.fields["text"].use_markdown == expected.fields["text"].use_markdown
    assert got.fields["chat"].use_markdown == expected.fields["chat"].use_markdown
    assert got.fields["custom"].template == expected.fields["custom"].template
    assert got.fields["custom"].advanced_mode == expected.fields["custom"].advanced_mode

    # questions, in creation order
    assert [(q.name, q.type) for q in got.questions] == [(q.name, q.type) for q in expected.questions]
    for want in expected.questions:
        have = got.questions[want.name]
        assert (have.title, have.description, have.required) == (want.title, want.description, want.required), \
            want.name
    for name in ("label", "topics", "ranking", "entities"):
        assert option_pairs(got.questions[name]) == option_pairs(expected.questions[name]), name
    assert got.questions["label"].labels == LABELS
    assert got.questions["label"].visible_labels == expected.questions["label"].visible_labels
    assert got.questions["topics"].labels == list(TOPICS)
    assert got.questions["topics"]._model.settings.options_order == "suggestion"
    assert got.questions["rating"].values == RATINGS
    assert got.questions["comment"].use_markdown == expected.questions["comment"].use_markdown
    assert got.questions["ranking"].values == list(RANKING_OPTIONS)
    assert got.questions["entities"].field == "text"
    assert got.questions["entities"].labels == SPAN_LABELS
    assert got.questions["entities"].allow_overlapping is True

    # metadata properties
    assert [m.name for m in got.metadata] == [m.name for m in expected.metadata]
    genre, length, quality = (got.metadata[n] for n in ("genre", "length", "quality"))
    assert isinstance(genre, rg.TermsMetadataProperty) and genre.options == GENRES
    assert isinstance(length, rg.IntegerMetadataProperty)
    assert (length.min, length.max) == (expected.metadata["length"].min, expected.metadata["length"].max)
    assert isinstance(quality, rg.FloatMetadataProperty)
    assert (quality.min, quality.max) == (expected.metadata["quality"].min, expected.metadata["quality"].max)
    for want in expected.metadata:
        have = got.metadata[want.name]
        assert (have.title, have.visible_for_annotators) == (want.title, want.visible_for_annotators), want.name

    # vectors
    assert [(v.name, v.title, v.dimensions) for v in got.vectors] == \
        [(v.name, v.title, v.dimensions) for v in expected.vectors]


# --------------------------------------------------------------------------------------------
# 4. records: log, read back, upsert, search, filter, similarity, get, delete
# --------------------------------------------------------------------------------------------
def test_4_records(client, annotator, make_dataset):
    dataset = make_dataset(rich_settings())
    owner_id = client.me.id
    rows, rec4 = log_sample_records(dataset, owner_id, annotator.id)
    all_ids = [r["id"] for r in rows] + [rec4["id"]]

    # --- read everything back -------------------------------------------------------------
    records = fetch_records(dataset)
    assert sorted(records) == sorted(all_ids)

    for row in rows:
        record = records[row["id"]]
        assert record._server_id is not None
        assert record.fields["text"] == row["text"]
        if "chat" in row:
            assert chat_pairs(record.fields["chat"]) == chat_pairs(row["chat"])
        if "image" in row:
            assert record.fields["image"] == row["image"]
        if "custom" in row:
            assert record.fields["custom"] == row["custom"]
        assert dict(record.metadata) == {k: row[k] for k in ("genre", "length", "quality")}
        assert record.vectors["embedding"] == pytest.approx(row["embedding"])

        suggested = suggestion_values(record)
        for question in ("label", "topics", "rating", "comment", "ranking"):
            if question in row:
                assert suggested.pop(question) == row[question], question
        if "entities" in row:
            assert spans(suggested.pop("entities")) == spans(row["entities"])
        assert suggested == {}, f"unexpected suggestions on {row['id']}"

        expected_responses = {}
        if RESPONSE_COLUMN in row:  # responses logged through a mapping are drafts of the logging user
            expected_responses[("label", str(owner_id))] = (row[RESPONSE_COLUMN], "draft")
        assert response_values(record) == expected_responses
        assert record.status == "pending"

    record4 = records[rec4["id"]]
    assert record4.fields["text"] == rec4["text"]
    assert dict(record4.metadata) == {k: rec4[k] for k in ("genre", "length", "quality")}
    assert record4.vectors["embedding"] == pytest.approx(rec4["embedding"])
    suggestion = record4.suggestions[rec4["suggestion"]["question"]]
    assert suggestion.value == rec4["suggestion"]["value"]
    assert suggestion.score == pytest.approx(rec4["suggestion"]["score"])
    assert suggestion.agent == rec4["suggestion"]["agent"]
    assert suggestion.type == rec4["suggestion"]["type"]
    assert response_values(record4) == {(q, str(u)): (v, s) for q, u, v, s in rec4["responses"]}
    submitted_users = {str(u) for _, u, _, s in rec4["responses"] if s == "submitted"}
    assert record4.status == ("completed" if len(submitted_users) >= MIN_SUBMITTED else "pending")

    # Relationships that were not asked for are not returned.
    for record in dataset.records(with_responses=False, with_suggestions=False, with_vectors=False):
        assert (len(record.responses), len(record.suggestions), len(record.vectors)) == (0, 0, 0), record.id

    # --- record.get() -----------------------------------------------------------------------
    single = fetch_records(dataset)[rec4["id"]]
    single.fields["text"] = "stale local text"
    single.get()
    assert single.id == rec4["id"]
    assert single.fields["text"] == rec4["text"]
    assert single.vectors["embedding"] == pytest.approx(rec4["embedding"])
    assert response_values(single) == response_values(record4)
    assert suggestion_values(single) == suggestion_values(record4)

    # --- full-text search -------------------------------------------------------------------
    texts = {**{r["id"]: r["text"] for r in rows}, rec4["id"]: rec4["text"]}
    hits = ids_of(dataset.records(query=rg.Query(query="zebra")))
    assert sorted(hits) == sorted(i for i, t in texts.items() if "zebra" in words(t))
    hits = ids_of(dataset.records(query="giraffe tree"))
    assert sorted(hits) == sorted(i for i, t in texts.items() if {"giraffe", "tree"} <= words(t))
    assert ids_of(dataset.records(query=rg.Query(query="giraffe zebra"))) == []

    # --- filters ------------------------------------------------------------------------------
    metadata = {**{r["id"]: r for r in rows}, rec4["id"]: rec4}
    hits = ids_of(dataset.records(query=rg.Query(filter=rg.Filter(("metadata.genre", "==", "blog")))))
    assert sorted(hits) == sorted(i for i, m in metadata.items() if m["genre"] == "blog")
    hits = ids_of(dataset.records(query=rg.Query(filter=rg.Filter(("metadata.genre", "in", ["news", "forum"])))))
    assert sorted(hits) == sorted(i for i, m in metadata.items() if m["genre"] in ("news", "forum"))
    hits = ids_of(dataset.records(
        query=rg.Query(filter=rg.Filter([("metadata.length", ">=", 30), ("metadata.length", "<=", 35)]))))
    assert sorted(hits) == sorted(i for i, m in metadata.items() if 30 <= m["length"] <= 35)
    hits = ids_of(dataset.records(query=rg.Query(filter=rg.Filter(("metadata.quality", ">=", 0.7)))))
    assert sorted(hits) == sorted(i for i, m in metadata.items() if m["quality"] >= 0.7)
    label_suggestions = {r["id"]: r.get("label") for r in rows}
    label_suggestions[rec4["id"]] = rec4["suggestion"]["value"]
    hits = ids_of(dataset.records(query=rg.Query(filter=rg.Filter(("label.suggestion", "==", "negative")))))
    assert sorted(hits) == sorted(i for i, v in label_suggestions.items() if v == "negative")
    hits = ids_of(dataset.records(query=rg.Query(query="zebra", filter=rg.Filter(("metadata.genre", "==", "blog")))))
    assert sorted(hits) == sorted(i for i, m in metadata.items() if m["genre"] == "blog" and "zebra" in words(texts[i]))

    # --- vector similarity --------------------------------------------------------------------
    vectors = {i: m["embedding"] for i, m in metadata.items()}
    query_vector = [1.0, -0.2, 0.0]

    def cosine(a, b):
        dot = sum(x * y for x, y in zip(a, b))
        return dot / ((sum(x * x for x in a) ** 0.5) * (sum(y * y for y in b) ** 0.5))

    results = list(dataset.records(query=rg.Query(similar=rg.Similar(name="embedding", value=query_vector))))
    assert all(isinstance(item, tuple) for item in results)  # (record, score) pairs for similarity queries
    assert sorted(ids_of(results)) == sorted(all_ids)
    most_similar = max(vectors, key=lambda i: cosine(vectors[i], query_vector))
    assert results[0][0].id == most_similar
    assert ids_of(results) == sorted(vectors, key=lambda i: cosine(vectors[i], query_vector), reverse=True)
    scores = [score for _, score in results]
    assert scores == sorted(scores, reverse=True)

    # With a record as the query, that record is left out of its own results.
    anchor = records["rec-1"]
    results = list(dataset.records(query=rg.Query(similar=rg.Similar(name="embedding", value=anchor))))
    others = {i: v for i, v in vectors.items() if i != anchor.id}
    assert anchor.id not in ids_of(results)
    assert results[0][0].id == max(others, key=lambda i: cosine(others[i], vectors[anchor.id]))

    # --- upsert by external id (`id` in the SDK): same count, new text ------------------------
    changed = dict(rows[0], text="The zebra crossed the busy road twice")
    changed["entities"] = [span_of(changed["text"], "zebra", "PER")]
    dataset.records.log([changed], mapping=SAMPLE_MAPPING)
    after = fetch_records(dataset)
    assert sorted(after) == sorted(all_ids)
    assert after["rec-1"].fields["text"] == changed["text"]
    assert after["rec-1"]._server_id == records["rec-1"]._server_id
    assert dict(after["rec-1"].metadata) == {k: changed[k] for k in ("genre", "length", "quality")}
    assert after["rec-2"].fields["text"] == rows[1]["text"]

    # --- upsert of a fetched record (carries its server id and external id) -------------------
    fetched = after["rec-2"]
    fetched.fields["text"] = "A hungry okapi ate leaves from the tall tree"
    dataset.records.log([fetched])
    after = fetch_records(dataset)
    assert sorted(after) == sorted(all_ids)
    assert after["rec-2"].fields["text"] == fetched.fields["text"]
    assert after["rec-2"]._server_id == records["rec-2"]._server_id
    # the search index follows the new text
    assert ids_of(dataset.records(query="okapi")) == ["rec-2"]
    assert ids_of(dataset.records(query="giraffe")) == []

    # --- upsert by server id only (the SDK sends a fresh random external id) ------------------
    server_id = records["rec-3"]._server_id
    new_text = "Penguins waddle across the melting ice"
    dataset.records.log([rg.Record(fields={"text": new_text}, _server_id=server_id)])
    after_server_ids = {r._server_id: r for r in dataset.records(with_responses=True, with_suggestions=True)}
    assert len(after_server_ids) == len(all_ids)
    assert after_server_ids[server_id].fields["text"] == new_text

    # --- delete ---------------------------------------------------------------------------------
    to_delete = [r for r in dataset.records() if r._server_id == server_id]
    assert len(to_delete) == 1
    dataset.records.delete(to_delete)
    remaining = {r._server_id for r in dataset.records()}
    assert len(remaining) == len(all_ids) - 1
    assert server_id not in remaining
    assert count_records(dataset) == len(all_ids) - 1


# --------------------------------------------------------------------------------------------
# 5. progress
# --------------------------------------------------------------------------------------------
def test_5_progress(client, annotator, make_dataset):
    dataset = make_dataset(rich_settings(min_submitted=MIN_SUBMITTED))
    owner = client.me
    users = {owner.id: owner.username, annotator.id: annotator.username}

    # Which user answers which record, and with which status (None: no response at all).
    plan = {
        "p-1": {owner.id: "submitted", annotator.id: "submitted"},
        "p-2": {owner.id: "submitted"},
        "p-3": {owner.id: "discarded"},
        "p-4": {annotator.id: "draft"},
        "p-5": {},
        "p-6": {owner.id: "submitted", annotator.id: "discarded"},
    }
    records = [
        rg.Record(
            id=record_id,
            fields={"text": f"progress record {record_id}"},
            responses=[rg.Response("label", LABELS[0], user_id=user_id, status=status)
                       for user_id, status in answers.items()],
        )
        for record_id, answers in plan.items()
    ]
    dataset.records.log(records)

    completed = {r for r, answers in plan.items() if list(answers.values()).count("submitted") >= MIN_SUBMITTED}
    statuses = {r.id: r.status for r in dataset.records(with_responses=True)}
    assert statuses == {r: ("completed" if r in completed else "pending") for r in plan}

    progress = dataset.progress()
    assert progress == {"total": len(plan), "completed": len(completed), "pending": len(plan) - len(completed)}

    expected_users = {}
    for record_id, answers in plan.items():
        bucket = "completed" if record_id in completed else "pending"
        for user_id, status in answers.items():
            per_user = expected_users.setdefault(users[user_id], {
                "completed": {"submitted": 0, "discarded": 0, "draft": 0},
                "pending": {"submitted": 0, "discarded": 0, "draft": 0},
            })
            per_user[bucket][status] += 1

    detailed = dataset.progress(with_users_distribution=True)
    assert (detailed["total"], detailed["completed"], detailed["pending"]) == \
        (progress["total"], progress["completed"], progress["pending"])
    assert detailed["users"] == expected_users


# --------------------------------------------------------------------------------------------
# 6. export to disk and import a copy
# --------------------------------------------------------------------------------------------
def test_6_export_and_import_copy(client, workspace, annotator, make_dataset, tmp_path):
    source = make_dataset(rich_settings())
    log_sample_records(source, client.me.id, annotator.id)
    original = fetch_records(source, with_vectors=False)

    export_dir = tmp_path / "export"
    export_dir.mkdir()
    source.to_disk(str(export_dir))
    assert (export_dir / "records.json").is_file()
    assert (export_dir / ".argilla" / "settings.json").is_file()
    assert (export_dir / ".argilla" / "dataset.json").is_file()

    copy_name = f"sdk-copy-{uid()}"
    copy = rg.Dataset.from_disk(str(export_dir), name=copy_name, workspace=workspace.name, client=client)
    assert copy.name == copy_name
    assert copy.id is not None and copy.id != source.id

    fetched = fetch_dataset(client, copy, workspace)
    assert fetched.id == copy.id
    assert [(f.name, f.type) for f in fetched.fields] == [(f.name, f.type) for f in source.fields]
    assert [(q.name, q.type) for q in fetched.questions] == [(q.name, q.type) for q in source.questions]
    assert [m.name for m in fetched.settings.metadata] == [m.name for m in source.settings.metadata]
    assert [(v.name, v.dimensions) for v in fetched.settings.vectors] == \
        [(v.name, v.dimensions) for v in source.settings.vectors]
    assert fetched.settings.guidelines == source.settings.guidelines
    assert fetched.settings.distribution.min_submitted == source.settings.distribution.min_submitted

    copied = fetch_records(fetched, with_vectors=False)
    assert sorted(copied) == sorted(original)
    for record_id, want in original.items():
        have = copied[record_id]
        assert have._server_id != want._server_id  # a copy gets new server ids
        assert have.fields["text"] == want.fields["text"]
        if want.fields.get("chat") is not None:
            assert chat_pairs(have.fields["chat"]) == chat_pairs(want.fields["chat"])
        for name in ("image", "custom"):
            if want.fields.get(name) is not None:
                assert have.fields[name] == want.fields[name]
        assert dict(have.metadata) == dict(want.metadata)
        assert suggestion_values(have) == suggestion_values(want)
        # response values and authors survive the round trip (the export does not keep their status)
        assert {k: v for k, (v, _) in response_values(have).items()} == \
            {k: v for k, (v, _) in response_values(want).items()}

    # The source dataset is untouched by the import.
    assert {r.id: r._server_id for r in source.records()} == {i: r._server_id for i, r in original.items()}


# --------------------------------------------------------------------------------------------
# 7. dataset and settings updates
# --------------------------------------------------------------------------------------------
def test_7_dataset_and_settings_updates(client, workspace, make_dataset):
    dataset = make_dataset(simple_settings(min_submitted=2))
    owner_id = client.me.id
    submitted_by_owner = {"u-1": True, "u-2": False}
    dataset.records.log([
        rg.Record(id=record_id, fields={"text": f"text of {record_id}"}, metadata={"genre": GENRES[0]},
                  responses=[rg.Response("label", LABELS[0], user_id=owner_id, status="submitted")] if submitted else None)
        for record_id, submitted in submitted_by_owner.items()
    ])
    # One submitted response per record at most: nothing is completed while min_submitted is 2.
    assert dataset.progress() == {"total": len(submitted_by_owner), "completed": 0, "pending": len(submitted_by_owner)}

    new_guidelines = f"Updated guidelines {uid()}"
    new_field_title = "The text to read"
    new_question_title = "What is the sentiment?"
    new_question_description = "Choose the closest label"
    new_metadata_title = "Kind of source"
    new_vector_title = "Tiny embedding"

    dataset.settings.guidelines = new_guidelines
    dataset.fields["text"].title = new_field_title
    dataset.questions["label"].title = new_question_title
    dataset.questions["label"].description = new_question_description
    dataset.settings.metadata["genre"].title = new_metadata_title
    dataset.settings.vectors["embedding"].title = new_vector_title
    year_property = rg.IntegerMetadataProperty(name="year", min=1900, max=2100)
    dataset.settings.metadata.add(year_property)
    dataset.settings.distribution = rg.TaskDistribution(min_submitted=1)
    dataset.update()

    fetched = fetch_dataset(client, dataset, workspace)
    assert fetched.settings.guidelines == new_guidelines
    assert fetched.fields["text"].title == new_field_title
    assert fetched.questions["label"].title == new_question_title
    assert fetched.questions["label"].description == new_question_description
    assert fetched.questions["label"].labels == LABELS  # untouched by the PATCH
    assert fetched.settings.metadata["genre"].title == new_metadata_title
    assert fetched.settings.vectors["embedding"].title == new_vector_title
    assert [m.name for m in fetched.settings.metadata] == ["genre", "year"]
    year = fetched.settings.metadata["year"]
    assert isinstance(year, rg.IntegerMetadataProperty) and (year.min, year.max) == (year_property.min, year_property.max)
    assert fetched.settings.distribution.min_submitted == 1

    # Changing the distribution recomputes the record statuses: one submitted response now completes a record.
    completed = {record_id for record_id, submitted in submitted_by_owner.items() if submitted}
    assert fetched.progress() == {"total": len(submitted_by_owner), "completed": len(completed),
                                  "pending": len(submitted_by_owner) - len(completed)}
    assert {r.id: r.status for r in fetched.records()} == \
        {record_id: ("completed" if record_id in completed else "pending") for record_id in submitted_by_owner}

    # Removing a metadata property deletes it on the server.
    fetched.settings.metadata.remove("year")
    fetched.update()
    again = fetch_dataset(client, dataset, workspace)
    assert [m.name for m in again.settings.metadata] == ["genre"]

    # Renaming the dataset itself goes through PATCH /datasets/{id}.
    renamed = f"sdk-renamed-{uid()}"
    again.name = renamed
    again.update()
    assert client.datasets(name=renamed, workspace=workspace.name) is not None
    assert client.datasets(id=dataset.id).name == renamed


# --------------------------------------------------------------------------------------------
# vectors come back exactly as logged
# --------------------------------------------------------------------------------------------
def test_vectors_read_back_equal_element_for_element(client, workspace, make_dataset):
    settings = rg.Settings(
        fields=[rg.TextField(name="text")],
        questions=[rg.LabelQuestion(name="label", labels=["a", "b"])],
        vectors=[rg.VectorField(name="embedding", dimensions=10)],
    )
    dataset = make_dataset(settings, prefix="sdk-vectors")
    # Values that a 32-bit float cannot hold exactly.
    sent = {
        f"v{index}": [0.10194939256251923 * (index + 1) + element / 7.0 for element in range(10)]
        for index in range(5)
    }
    dataset.records.log([{"id": key, "text": key, "embedding": vector} for key, vector in sent.items()])
    received = {record.id: record.vectors["embedding"] for record in dataset.records(with_vectors=True)}
    assert received == sent
