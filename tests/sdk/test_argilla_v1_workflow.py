"""The comparison-data workflow of Argilla's user guide, through the legacy argilla-v1 (1.29.1) SDK
unchanged: a FeedbackDataset with a ranking question, records pushed, labelers' rankings pulled back
as (prompt, preferred, less preferred) triplets; the same with a 0/1/2 rating question; and the
work split into one workspace per labeler, then brought back together.

The v1 SDK has no call for a labeler to answer a remote record, so labelers answer through the
route the labeling page uses, `POST /api/v1/records/{id}/responses`, each with their own key.
"""
import uuid

import httpx
import pytest

import argilla_v1 as rg
from conftest import OWNER_API_KEY

# (prompt, the better response, the worse one)
COMPARISONS = [
    ("Summarise why the sky looks blue",
     "Air molecules scatter short blue wavelengths of sunlight far more than red ones, so blue light "
     "reaches our eyes from every direction of the sky.",
     "Because the ocean reflects onto it."),
    ("Suggest a name for a bakery that only sells rye bread",
     "Rye Society: short, memorable, and it says exactly what is on the shelves.",
     "Bread Shop."),
    ("Write a two-line poem about a train at night",
     "A lit window slides across the fields,\nand somebody's evening passes mine.",
     "Trains are long and they go on tracks at night and in the day."),
]
LABELERS = ["iris", "marek", "sol", "yuki"]


@pytest.fixture(scope="module")
def run(argilla_url):
    """A tag for this module's names, with the v1 client initialised as the owner."""
    rg.init(api_url=argilla_url, api_key=OWNER_API_KEY)
    return uuid.uuid4().hex[:8]


@pytest.fixture(scope="module")
def team(run):
    """A shared workspace; each labeler is a member of it and of a workspace of their own."""
    shared = rg.Workspace.create(f"team-{run}")
    people = {}
    for name in LABELERS:
        rg.Workspace.create(f"{name}-{run}")
        people[name] = rg.User.create(username=f"{name}-{run}", password="labeler-password-1", role="annotator",
                                      workspaces=[shared.name, f"{name}-{run}"])
    assert {user.username for user in shared.users} >= {f"{name}-{run}" for name in LABELERS}
    return shared, people


def fields():
    return [rg.TextField(name="prompt", required=True), rg.TextField(name="response-1", required=True),
            rg.TextField(name="response-2", required=True)]


def records(prefix=""):
    return [rg.FeedbackRecord(fields={"prompt": prefix + prompt, "response-1": better, "response-2": worse})
            for prompt, better, worse in COMPARISONS]


def answer(argilla_url, user, record_id, values, status="submitted"):
    reply = httpx.post(f"{argilla_url}/api/v1/records/{record_id}/responses", headers={"X-Argilla-Api-Key": user.api_key},
                       json={"values": values, "status": status}, timeout=30)
    assert reply.status_code == 201, reply.text


def ranked(first, second):
    return {"preference": {"value": [{"value": first, "rank": 1}, {"value": second, "rank": 2}]}}


def test_rankings_come_back_as_preference_triplets(argilla_url, run, team):
    shared, people = team
    dataset = rg.FeedbackDataset(
        guidelines="Read the prompt, then rank the two responses from most to least helpful.",
        fields=fields(),
        questions=[rg.RankingQuestion(name="preference", title="Rank the responses", required=True,
                                      values={"response-1": "Response 1", "response-2": "Response 2"})],
    )
    dataset.add_records(records())
    remote = dataset.push_to_argilla(name=f"ranking-{run}", workspace=shared.name)
    assert len(remote.records) == len(COMPARISONS)

    # Iris ranks every record, Marek the first one, and Sol discards the first one.
    first_prompt = COMPARISONS[0][0]
    for record in remote.records:
        answer(argilla_url, people["iris"], record.id, ranked("response-1", "response-2"))
        if record.fields["prompt"] == first_prompt:
            answer(argilla_url, people["marek"], record.id, ranked("response-1", "response-2"))
            answer(argilla_url, people["sol"], record.id, ranked("response-2", "response-1"), status="discarded")

    pulled = rg.FeedbackDataset.from_argilla(name=f"ranking-{run}", workspace=shared.name)
    triplets = []
    for record in pulled.records:
        for response in record.responses or []:
            if response.status != "submitted":
                continue
            order = sorted(response.values["preference"].value, key=lambda entry: entry.rank)
            triplets.append((record.fields["prompt"], record.fields[order[0].value], record.fields[order[1].value]))
    assert sorted(triplets) == sorted(COMPARISONS + [COMPARISONS[0]])
    statuses = sorted(response.status for record in pulled.records for response in record.responses)
    assert statuses == ["discarded"] + ["submitted"] * (len(COMPARISONS) + 1)


def test_a_rating_of_one_or_two_names_the_better_response(argilla_url, run, team):
    shared, people = team
    dataset = rg.FeedbackDataset(
        guidelines="Pick the better response (1 or 2), or 0 when they are equally good.",
        fields=fields(),
        questions=[rg.RatingQuestion(name="better", title="Which is better? (0 = equal)", required=True, values=[0, 1, 2])],
    )
    dataset.add_records(records())
    remote = dataset.push_to_argilla(name=f"rating-{run}", workspace=shared.name)
    for record in remote.records:
        answer(argilla_url, people["yuki"], record.id, {"better": {"value": 1}})

    pulled = rg.FeedbackDataset.from_argilla(name=f"rating-{run}", workspace=shared.name)
    triplets = []
    for record in pulled.records:
        response = record.responses[0]
        assert response.status == "submitted"
        better = response.values["better"].value
        worse = 2 if better == 1 else 1
        triplets.append((record.fields["prompt"], record.fields[f"response-{better}"], record.fields[f"response-{worse}"]))
    assert sorted(triplets) == sorted(COMPARISONS)


def test_work_split_into_one_workspace_per_labeler_comes_back_together(argilla_url, run, team):
    _, people = team
    for name in LABELERS:
        part = rg.FeedbackDataset(guidelines="Rank the responses.", fields=fields(),
                                  questions=[rg.RankingQuestion(name="preference", title="Rank them",
                                                                values=["response-1", "response-2"])])
        part.add_records(records(prefix=f"{name}: ")[:2])
        pushed = part.push_to_argilla(name=f"share-{run}", workspace=f"{name}-{run}")
        for record in pushed.records:
            answer(argilla_url, people[name], record.id, ranked("response-1", "response-2"))

    gathered = []
    for name in LABELERS:
        part = rg.FeedbackDataset.from_argilla(name=f"share-{run}", workspace=f"{name}-{run}")
        gathered.extend(record for record in part.records if record.responses and record.responses[0].status == "submitted")
    assert len(gathered) == 2 * len(LABELERS)
    assert {record.fields["prompt"].split(":")[0] for record in gathered} == set(LABELERS)
