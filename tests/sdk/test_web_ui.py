"""The labeling web UI in a real headless Chromium (Debian's chromium + chromedriver, via Selenium).

An annotator created through the API logs in, ranks a 2-option and a 4-option record with the
keyboard only, submits, discards, saves a draft, reloads; then the API and the argilla-v1 SDK's
`from_argilla` return exactly those answers, with canonical ranking values despite the shuffled
display. A hostile response (script, onerror image, javascript: link) is shown inert.

Set JUROR_SCREENSHOTS=<dir> to save screenshots of the 2-way and 4-way annotation pages.
"""
import json
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

OWNER_API_KEY = "argilla.apikey"
PASSWORD = "labeler-password-1"
CHROMIUM = os.environ.get("JUROR_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("JUROR_CHROMEDRIVER", "/usr/bin/chromedriver")


@pytest.fixture(scope="module")
def api(argilla_url):
    with httpx.Client(base_url=argilla_url, headers={"X-Argilla-Api-Key": OWNER_API_KEY}, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def browser():
    assert Path(CHROMIUM).is_file(), f"Chromium not found at {CHROMIUM} (apt-get install chromium chromium-driver)"
    assert Path(CHROMEDRIVER).is_file(), f"ChromeDriver not found at {CHROMEDRIVER}"
    profile = tempfile.mkdtemp(prefix="juror-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1280,800",
                 f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_window_size(1280, 800)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def ok(response, status=None):
    assert response.status_code == (status or response.status_code) and response.status_code < 300, response.text
    return response.json() if response.content else None


def workspace_id(api):
    return next(w["id"] for w in ok(api.get("/api/v1/me/workspaces"))["items"] if w["name"] == "argilla")


def create_annotator(api):
    username = f"labeler-{uuid.uuid4().hex[:8]}"
    user = ok(api.post("/api/v1/users", json={"username": username, "first_name": "Lab", "role": "annotator", "password": PASSWORD}))
    ok(api.post(f"/api/v1/workspaces/{workspace_id(api)}/users", json={"user_id": user["id"]}))
    return username


def create_ranking_dataset(api, name, responses, prompts, markdown=True, items=None):
    dataset = ok(api.post("/api/v1/datasets", json={"name": name, "workspace_id": workspace_id(api), "guidelines": "Rank by **helpfulness**."}))
    fields = ["prompt"] + [f"response-{i}" for i in range(1, responses + 1)]
    for field in fields:
        ok(api.post(f"/api/v1/datasets/{dataset['id']}/fields", json={"name": field, "title": field, "required": True, "settings": {"type": "text", "use_markdown": markdown}}))
    options = [{"value": f"response-{i}", "text": f"Response {i}"} for i in range(1, responses + 1)]
    ok(api.post(f"/api/v1/datasets/{dataset['id']}/questions", json={"name": "preference", "title": "Rank the responses", "required": True, "settings": {"type": "ranking", "options": options}}))
    ok(api.put(f"/api/v1/datasets/{dataset['id']}/publish"))
    items = items or [{"external_id": f"{name}-{n}", "fields": {"prompt": prompt, **{f"response-{i}": f"Answer {i} to *{prompt}*: " + " ".join(["word"] * (5 * i)) for i in range(1, responses + 1)}}}
             for n, prompt in enumerate(prompts)]
    ok(api.post(f"/api/v1/datasets/{dataset['id']}/records/bulk", json={"items": items}))
    return dataset["id"]


def record_id(driver):
    path = driver.current_url.split("/records/")[1]
    return path.split("?")[0]


def shown_fields(driver):
    return [article.get_attribute("data-field") for article in driver.find_elements(By.CSS_SELECTOR, "article.response")]


def press(driver, *keys):
    """Sends keys to the page as a user typing, focus on the page body."""
    actions = webdriver.ActionChains(driver)
    for key in keys:
        actions.send_keys(key)
    actions.perform()


def wait_for_new_record(driver, previous):
    WebDriverWait(driver, 10).until(lambda d: "/records/" in d.current_url and record_id(d) != previous or d.find_elements(By.CSS_SELECTOR, "body[data-page=done]"))


def login(driver, base, username):
    driver.get(f"{base}/login")
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD + Keys.ENTER)
    WebDriverWait(driver, 10).until(EC.presence_of_element_located((By.CSS_SELECTOR, "body[data-page=home]")))


def screenshot(driver, name, scroll_to=None):
    target = os.environ.get("JUROR_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        if scroll_to:
            driver.execute_script("document.querySelector(arguments[0]).scrollIntoView({block: 'center'})", scroll_to)
        driver.save_screenshot(str(Path(target) / name))
        driver.execute_script("window.scrollTo(0, 0)")


def test_a_labeler_ranks_with_the_keyboard_and_the_sdks_read_canonical_answers(argilla_url, api, browser):
    suffix = uuid.uuid4().hex[:6]
    pairs_name, four_name = f"ui-pairs-{suffix}", f"ui-four-{suffix}"
    pairs = create_ranking_dataset(api, pairs_name, 2, ["Explain DPO", "Define a reward model", "What is RLHF"])
    four = create_ranking_dataset(api, four_name, 4, ["Summarise the guide"])
    username = create_annotator(api)
    driver = browser
    login(driver, argilla_url, username)
    assert pairs_name in driver.page_source and four_name in driver.page_source

    # 2-way: open the dataset, start, press 1 (the first shown is better), Enter submits.
    driver.find_element(By.LINK_TEXT, pairs_name).click()
    # "Start labeling" is a form's button: taking a record needs the page's form token.
    driver.find_element(By.CSS_SELECTOR, "form.start button").click()
    WebDriverWait(driver, 10).until(EC.presence_of_element_located((By.CSS_SELECTOR, "body[data-page=record]")))
    first = record_id(driver)
    first_shown = shown_fields(driver)
    press(driver, "1")
    screenshot(driver, "annotate-2way.png", ".responses")
    assert driver.find_element(By.CSS_SELECTOR, ".pairwise [data-choice=first]").get_attribute("aria-pressed") == "true"
    press(driver, Keys.ENTER)
    wait_for_new_record(driver, first)
    second = record_id(driver)
    assert second != first, "submit lands on the next record"

    # Discard the second with Shift+D; the third: press 2 and save a draft with Ctrl+S.
    press(driver, Keys.SHIFT + "D" + Keys.SHIFT)
    wait_for_new_record(driver, second)
    third = record_id(driver)
    assert third not in (first, second)
    third_shown = shown_fields(driver)
    press(driver, "2")
    webdriver.ActionChains(driver).key_down(Keys.CONTROL).send_keys("s").key_up(Keys.CONTROL).perform()
    WebDriverWait(driver, 10).until(lambda d: "saved" in d.find_element(By.ID, "save-status").text.lower())
    driver.refresh()
    WebDriverWait(driver, 10).until(EC.presence_of_element_located((By.CSS_SELECTOR, "body[data-page=record]")))
    assert driver.find_element(By.ID, "record-status").text == "draft"
    assert driver.find_element(By.CSS_SELECTOR, ".pairwise [data-choice=second]").get_attribute("aria-pressed") == "true", "the draft survives a reload"
    assert shown_fields(driver) == third_shown, "the shown order is the same on every visit"

    # Each status is listed on the dataset page after a reload.
    for view, expected in (("submitted", first), ("discarded", second), ("draft", third)):
        driver.get(f"{argilla_url}/datasets/{pairs}?view={view}")
        links = [a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, "table.answers a")]
        assert [link.rsplit("/", 1)[1] for link in links] == [expected], (view, links)

    # 4-way: ranks typed in shown order: 3, 1, 4, 2; Enter submits and nothing is left.
    driver.get(f"{argilla_url}/datasets/{four}/next")  # a link takes nothing: it leads to the dataset's page
    WebDriverWait(driver, 10).until(EC.presence_of_element_located((By.CSS_SELECTOR, "body[data-page=dataset]")))
    tabs = [link.text for link in driver.find_elements(By.CSS_SELECTOR, "nav.views a")]
    assert tabs == ["Submitted", "Drafts", "Discarded", "All"], tabs
    tops = {link.location["y"] for link in driver.find_elements(By.CSS_SELECTOR, "nav.views a")}
    lefts = [link.location["x"] + link.size["width"] for link in driver.find_elements(By.CSS_SELECTOR, "nav.views a")]
    assert len(tops) == 1 and all(right < left for right, left in zip(lefts, [l.location["x"] for l in driver.find_elements(By.CSS_SELECTOR, "nav.views a")][1:])), "the status tabs sit apart on one line"
    driver.find_element(By.CSS_SELECTOR, "form.start button").click()
    WebDriverWait(driver, 10).until(EC.presence_of_element_located((By.CSS_SELECTOR, "body[data-page=record]")))
    four_record = record_id(driver)
    four_shown = shown_fields(driver)
    assert sorted(four_shown) == ["response-1", "response-2", "response-3", "response-4"]
    press(driver, "3", "1", "4", "2")
    ranks = [Select_value(el) for el in driver.find_elements(By.CSS_SELECTOR, "ol.ranking select.rank")]
    assert ranks == ["3", "1", "4", "2"], ranks
    screenshot(driver, "annotate-4way.png", "ol.ranking")
    press(driver, Keys.ENTER)
    WebDriverWait(driver, 10).until(EC.presence_of_element_located((By.CSS_SELECTOR, "body[data-page=done]")))

    # The API returns exactly those answers, in canonical option values.
    def responses(record):
        return ok(api.get(f"/api/v1/records/{record}", params={"include": "responses"}))["responses"]

    def ranking(answer):
        return {entry["value"]: entry["rank"] for entry in answer["values"]["preference"]["value"]}

    [answer] = responses(first)
    assert answer["status"] == "submitted"
    assert ranking(answer) == {first_shown[0]: 1, first_shown[1]: 2}
    assert responses(second)[0]["status"] == "discarded"
    [draft] = responses(third)
    assert draft["status"] == "draft"
    assert ranking(draft) == {third_shown[0]: 2, third_shown[1]: 1}
    [answer] = responses(four_record)
    assert ranking(answer) == dict(zip(four_shown, [3, 1, 4, 2]))

    # The raw judgments carry the shown order and a time on task.
    lines = api.get(f"/api/v1/datasets/{four}/preferences/export", params={"format": "judgments"}).text.splitlines()
    [row] = [json.loads(line) for line in lines]
    assert row["shown_order"]["preference"] == four_shown
    assert row["time_on_task_ms"] > 0

    # argilla-v1's from_argilla reads the same answers.
    import argilla_v1 as rg

    rg.init(api_url=argilla_url, api_key=OWNER_API_KEY, workspace="argilla")
    remote = rg.FeedbackDataset.from_argilla(name=pairs_name, workspace="argilla")
    by_external = {record.external_id: record for record in remote.records}
    submitted = [r for r in by_external.values() if r.responses and r.responses[0].status == "submitted"]
    assert len(submitted) == 1
    values = submitted[0].responses[0].values["preference"].value
    assert {item.value: item.rank for item in values} == {first_shown[0]: 1, first_shown[1]: 2}
    four_remote = rg.FeedbackDataset.from_argilla(name=four_name, workspace="argilla")
    [record] = four_remote.records
    assert {item.value: item.rank for item in record.responses[0].values["preference"].value} == dict(zip(four_shown, [3, 1, 4, 2]))


def Select_value(element):
    return element.get_attribute("value")


def test_hostile_markdown_is_shown_inert(argilla_url, api, browser):
    name = f"ui-unsafe-{uuid.uuid4().hex[:6]}"
    hostile = ("**bold** <script>window.__pwned = 'script'</script> <img src=x onerror=\"window.__pwned = 'img'\"> "
               "[click me](javascript:window.__pwned='link') <a href=\"javascript:window.__pwned='a'\">me too</a>")
    dataset = create_ranking_dataset(api, name, 2, [], items=[{"fields": {"prompt": "Say hi", "response-1": hostile, "response-2": "Hello!"}}])
    [record] = ok(api.get(f"/api/v1/datasets/{dataset}/records"))["items"]
    username = create_annotator(api)
    driver = browser
    driver.delete_all_cookies()
    login(driver, argilla_url, username)
    driver.get(f"{argilla_url}/records/{record['id']}")
    WebDriverWait(driver, 10).until(EC.presence_of_element_located((By.CSS_SELECTOR, "body[data-page=record]")))
    for link in driver.find_elements(By.CSS_SELECTOR, "article.response a"):
        if link.text in ("click me", "me too"):
            link.click()
    try:
        alert = driver.switch_to.alert
        pytest.fail(f"a dialog opened: {alert.text}")
    except NoAlertPresentException:
        pass
    assert driver.execute_script("return window.__pwned === undefined"), driver.execute_script("return window.__pwned")
    assert driver.find_elements(By.CSS_SELECTOR, "article.response strong"), "markdown still renders"
    assert not driver.find_elements(By.CSS_SELECTOR, "article.response img, article.response script, [onerror]")
    hrefs = [a.get_attribute("href") or "" for a in driver.find_elements(By.CSS_SELECTOR, "article.response a")]
    assert not any(href.startswith("javascript:") for href in hrefs), hrefs
