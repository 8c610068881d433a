"""Quality control while collecting, through real clients.

- In headless Chromium, a labeler works through a dataset with gold records and swapped repeats
  on: the gold records and the repeats come as pages of the same make as every other record, and
  afterwards their gold answers are scored and their repeats measured, apart from their answers.
- In Chromium, a named reviewer settles a disputed record from the review queue, and the TRL
  export then carries the reviewer's verdict, marked `adjudicated`.
- Through the argilla 2.x SDK's own client, a labeler paused by a wrong gold answer has their next
  answer refused with the reason, and answers again once an owner lets them go on.
"""
import json
import uuid

import argilla as rg
from argilla._models import UserResponseModel
import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from test_web_ui import OWNER_API_KEY, PASSWORD, browser, create_annotator, create_ranking_dataset, login, ok, press, record_id  # noqa: F401 (fixture)


@pytest.fixture(scope="module")
def api(argilla_url):
    with httpx.Client(base_url=argilla_url, headers={"X-Argilla-Api-Key": OWNER_API_KEY}, timeout=30) as client:
        yield client


def user_id(api, username):
    return next(user["id"] for user in ok(api.get("/api/v1/users"))["items"] if user["username"] == username)


def records_by_prompt(api, dataset):
    return {record["fields"]["prompt"]: record["id"] for record in ok(api.get(f"/api/v1/datasets/{dataset}/records", params={"limit": 1000}))["items"]}


def page_make(driver):
    """What a record page is made of, without its texts: each element's tag, id and classes."""
    script = "return Array.from(document.querySelectorAll('main *')).map(e => e.tagName + '#' + e.id + '.' + e.className)"
    return driver.execute_script(script)


def test_gold_records_and_swapped_repeats_look_like_any_record(argilla_url, api, browser):
    name = f"quality-ui-{uuid.uuid4().hex[:6]}"
    prompts = [f"ordinary {n}" for n in range(24)] + ["gold a", "gold b"]
    dataset = create_ranking_dataset(api, name, 2, prompts)
    ids = records_by_prompt(api, dataset)
    verdict = {"question": "preference", "chosen": "response-1", "rejected": "response-2"}
    ok(api.put(f"/api/v1/datasets/{dataset}/gold", json={"items": [{"record_id": ids["gold a"], "verdict": verdict}, {"record_id": ids["gold b"], "verdict": verdict}]}))
    ok(api.put(f"/api/v1/datasets/{dataset}/quality", json={"gold": {"rate": 0.5}, "repeats": {"rate": 0.3}}))
    username = create_annotator(api)
    driver = browser
    login(driver, argilla_url, username)
    driver.get(f"{argilla_url}/datasets/{dataset}")
    driver.find_element(By.CSS_SELECTOR, "form.start button").click()

    # Each page's make, as first seen (a repeat is seen again: kept apart by its visit).
    seen, makes, statuses = [], {}, set()
    for _ in range(60):
        WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "body[data-page=record], body[data-page=done]"))
        if driver.find_elements(By.CSS_SELECTOR, "body[data-page=done]"):
            break
        current = record_id(driver)
        seen.append(current)
        makes.setdefault(current if current not in seen[:-1] else f"{current}-again", page_make(driver))
        statuses.add(driver.find_element(By.ID, "record-status").text)
        assert "gold" not in driver.find_element(By.CSS_SELECTOR, "main").text.lower().replace("gold a", "").replace("gold b", ""), "nothing on the page says gold"
        # The labeler always prefers response-1, whichever side it is shown on.
        shown = [article.get_attribute("data-field") for article in driver.find_elements(By.CSS_SELECTOR, "article.response")]
        press(driver, "1" if shown[0] == "response-1" else "2")
        press(driver, Keys.ENTER)
        # The next record, or the last answer's page saying nothing is left.
        WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "body[data-page=done]") or record_id(d) != current)
    else:
        pytest.fail("the labeler never finished")

    gold_seen = [record for record in seen if record in (ids["gold a"], ids["gold b"])]
    repeats = [record for index, record in enumerate(seen) if record in seen[:index]]
    assert gold_seen, "at a rate of one half, a gold record came"
    assert repeats, "at a rate of 0.3 over two dozen records, a swapped repeat came"
    # Every page but the very first has a "Back" link: compare with an ordinary page after it.
    ordinary_make = next(makes[record] for record in seen[1:] if record not in gold_seen and record not in repeats)
    for record in (set(gold_seen) - {seen[0]}) | {f"{record}-again" for record in repeats}:
        assert makes[record] == ordinary_make, f"gold records and repeats are pages like any other ({record})"
    assert statuses == {"pending"}, statuses

    # Gold answers were scored (all right), repeats kept apart and measured (fully consistent).
    labelers = ok(api.get(f"/api/v1/datasets/{dataset}/quality/labelers"))["items"]
    [standing] = [labeler for labeler in labelers if labeler["username"] == username]
    assert (standing["gold_answered"], standing["gold_correct"]) == (len(set(gold_seen)), len(set(gold_seen)))
    metrics = ok(api.get(f"/api/v1/datasets/{dataset}/preferences/metrics"))
    assert metrics["judgments"] == 24, "gold records and repeats stay out of the figures"
    [consistency] = metrics["quality"]["consistency"]
    assert (consistency["username"], consistency["repeats"], consistency["consistency"]) == (username, len(repeats), 1.0)


def test_a_reviewer_settles_a_disputed_record_and_the_export_carries_it(argilla_url, api, browser):
    name = f"quality-review-{uuid.uuid4().hex[:6]}"
    dataset = create_ranking_dataset(api, name, 2, ["disputed", "agreed"])
    ids = records_by_prompt(api, dataset)
    for best in ("response-1", "response-2"):
        labeler_key = ok(api.get(f"/api/v1/users/{user_id(api, create_annotator(api))}"))["api_key"]
        for prompt, choice in (("disputed", best), ("agreed", "response-1")):
            other = "response-2" if choice == "response-1" else "response-1"
            body = {"status": "submitted", "values": {"preference": {"value": [{"value": choice, "rank": 1}, {"value": other, "rank": 2}]}}}
            ok(httpx.post(f"{argilla_url}/api/v1/records/{ids[prompt]}/responses", json=body, headers={"X-Argilla-Api-Key": labeler_key}))
    reviewer = create_annotator(api)
    api.put(f"/api/v1/datasets/{dataset}/reviewers/{user_id(api, reviewer)}").raise_for_status()

    driver = browser
    driver.delete_all_cookies()
    login(driver, argilla_url, reviewer)
    driver.get(f"{argilla_url}/datasets/{dataset}")
    driver.find_element(By.LINK_TEXT, "Review disputed records").click()
    WebDriverWait(driver, 10).until(EC.presence_of_element_located((By.CSS_SELECTOR, "body[data-page=review-queue]")))
    links = driver.find_elements(By.CSS_SELECTOR, "table.progress a")
    assert [link.get_attribute("href").rsplit("/", 1)[1] for link in links] == [ids["disputed"]], "only the split record waits"
    links[0].click()
    WebDriverWait(driver, 10).until(EC.presence_of_element_located((By.CSS_SELECTOR, "body[data-page=review-record]")))
    answers = driver.find_element(By.CSS_SELECTOR, "table.answers").text
    assert "response-1 > response-2" in answers and "response-2 > response-1" in answers, answers
    driver.find_element(By.NAME, "rank.response-1").send_keys("2")
    driver.find_element(By.NAME, "rank.response-2").send_keys("1")
    driver.find_element(By.NAME, "note").send_keys("response 2 answers what was asked")
    driver.find_element(By.CSS_SELECTOR, "form.stack button[type=submit]").click()
    WebDriverWait(driver, 10).until(EC.presence_of_element_located((By.CSS_SELECTOR, "body[data-page=review-queue]")))
    assert "0 waiting for a verdict, 1 settled" in driver.page_source

    lines = [json.loads(line) for line in api.get(f"/api/v1/datasets/{dataset}/preferences/export", params={"format": "trl", "with_confidence": "true"}).text.splitlines()]
    by_prompt = {line["prompt"]: line for line in lines}
    assert by_prompt["disputed"]["chosen"].startswith("Answer 2") and by_prompt["disputed"]["adjudicated"] is True, by_prompt["disputed"]
    assert by_prompt["agreed"]["adjudicated"] is False
    responses = ok(api.get(f"/api/v1/records/{ids['disputed']}", params={"include": "responses"}))["responses"]
    assert len(responses) == 2, "the labelers' answers stay as they were"


def test_a_labeler_paused_by_gold_answers_is_refused_through_the_sdk_until_resumed(argilla_url, api):
    name = f"quality-sdk-{uuid.uuid4().hex[:6]}"
    dataset = create_ranking_dataset(api, name, 2, ["gold", "ordinary one", "ordinary two"])
    ids = records_by_prompt(api, dataset)
    ok(api.put(f"/api/v1/datasets/{dataset}/gold", json={"items": [{"record_id": ids["gold"], "verdict": {"question": "preference", "chosen": "response-2", "rejected": "response-1"}}]}))
    ok(api.put(f"/api/v1/datasets/{dataset}/quality", json={"gold": {"rate": 0.2, "min_answers": 1, "certainty": 0.5, "pause": True}}))
    username = create_annotator(api)
    labeler_id = user_id(api, username)
    labeler_key = ok(api.get(f"/api/v1/users/{labeler_id}"))["api_key"]
    labeler = rg.Argilla(api_url=argilla_url, api_key=labeler_key)

    # The SDK's own call for a labeler's answer (`POST /api/v1/records/{id}/responses`).
    def answer(prompt, first):
        second = "response-1" if first == "response-2" else "response-2"
        ranking = [{"value": first, "rank": 1}, {"value": second, "rank": 2}]
        response = UserResponseModel(values={"preference": {"value": ranking}}, status="submitted", user_id=labeler_id)
        labeler.api.records.create_record_response(record_id=ids[prompt], user_response=response)

    answer("gold", "response-1")  # the wrong verdict
    with pytest.raises(Exception) as refused:
        answer("ordinary one", "response-1")
    assert "paused" in str(refused.value).lower(), refused.value
    nxt = httpx.post(f"{argilla_url}/api/v1/me/datasets/{dataset}/records/next", headers={"X-Argilla-Api-Key": labeler_key})
    assert nxt.status_code == 403 and "paused" in nxt.text

    api.post(f"/api/v1/datasets/{dataset}/quality/labelers/{labeler_id}/resume").raise_for_status()
    answer("ordinary two", "response-1")
    responses = ok(api.get(f"/api/v1/records/{ids['ordinary two']}", params={"include": "responses"}))["responses"]
    assert [response["user_id"] for response in responses] == [labeler_id]
