"""The participant client in a phone-sized headless Chromium, against a real server.

Each test starts from a new participant of a new study whose baseline (pain NRS and PHQ-9) is
open today, and saves a screenshot of every screen it visits (see conftest.py).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import PHONE, TIMEOUT_MS, Participant, watch_for_errors

pytestmark = pytest.mark.timeout(120)

NRS = "Pain intensity (numeric rating scale)"
PHQ9 = "Patient Health Questionnaire-9 (PHQ-9)"


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def open_questionnaire(page: Page, title: str) -> None:
    page.get_by_role("link", name=title).click()
    expect(heading(page)).to_have_text(title)


def question(page: Page, item: str):
    """An item's fieldset (radio groups) or its wrapper (slider, date, text)."""
    return page.locator(f"#question-{item}")


def choose(page: Page, item: str, label: str) -> None:
    """Tap the option `label` (a scale's number, whose name may add its anchor: "0: No pain")."""
    name = re.compile(rf"^{re.escape(label)}(: .*)?$")
    question(page, item).get_by_role("radio", name=name).tap()


def test_activation_refuses_a_wrong_code_lands_on_the_due_list_and_signs_in_again(
        page: Page, participant: Participant, shoot) -> None:
    page.goto(f"{participant.server.url}/app/")
    expect(heading(page)).to_have_text("Welcome")
    shoot(page, "activate")

    page.get_by_label("Activation code").fill("NOT-A-REAL-CODE")
    page.get_by_label("Choose a password").fill("correct horse battery staple")
    page.get_by_role("button", name="Activate").click()
    expect(page.get_by_role("alert")).to_contain_text("not accepted")
    expect(page.get_by_label("Activation code")).to_be_focused()
    shoot(page, "activate-error")

    page.get_by_label("Activation code").fill(participant.activation_code)
    page.get_by_role("button", name="Activate").click()
    expect(heading(page)).to_have_text("Your questionnaires")
    expect(page.get_by_role("status").filter(has_text="sign-in name")).to_be_visible()
    expect(page.get_by_role("link", name=NRS)).to_be_visible()
    expect(page.get_by_role("link", name=PHQ9)).to_be_visible()
    expect(page.get_by_text("Online", exact=True)).to_be_visible()
    shoot(page, "due")

    username = page.evaluate("JSON.parse(localStorage.getItem('prom.session')).username")
    page.get_by_role("button", name="Sign out").click()
    expect(heading(page)).to_have_text("Welcome")
    page.get_by_role("link", name="Sign in").click()
    expect(heading(page)).to_have_text("Sign in")
    page.get_by_label("Sign-in name").fill(username)
    page.get_by_label("Password").fill("correct horse battery staple")
    shoot(page, "sign-in")
    page.get_by_role("button", name="Sign in").click()
    expect(heading(page)).to_have_text("Your questionnaires")


def test_pain_nrs_is_answered_and_stored_once_with_its_scores(
        page: Page, participant: Participant, shoot) -> None:
    participant.activated(page)
    open_questionnaire(page, NRS)
    average = question(page, "average")
    expect(average.locator("legend")).to_contain_text("on average in the last 24 hours")
    expect(average.get_by_role("radio")).to_have_count(11)
    expect(average).to_contain_text("Worst pain you can imagine")
    choose(page, "average", "6")
    choose(page, "worst", "8")
    choose(page, "least", "3")
    choose(page, "now", "5")
    shoot(page, "questionnaire")
    page.evaluate("document.documentElement.style.fontSize = '200%'")  # large text
    shoot(page, "questionnaire-large-text")  # still no sideways scrolling
    page.evaluate("document.documentElement.style.fontSize = ''")

    page.get_by_role("button", name="Send answers").click()
    expect(heading(page)).to_have_text("Thank you")
    expect(page.locator("#outcome")).to_contain_text("have been sent")
    shoot(page, "thanks")

    [stored] = participant.responses()
    assert (stored.instrument, stored.timepoint, stored.language) == ("nrs_pain", "baseline", "en")
    [version] = stored.versions
    assert version.answers == {"average": 6, "worst": 8, "least": 3, "now": 5}
    scores = {score.scale: (score.value, score.status) for score in version.scores}
    assert scores == {"pain_intensity": (6, "scored"), "pain_severity": (5.5, "scored")}

    page.get_by_role("link", name="Back to your questionnaires").click()
    expect(heading(page)).to_have_text("Your questionnaires")
    expect(page.get_by_role("link", name=NRS)).to_have_count(0)  # done


def test_phq9_enforces_required_items_and_its_skip_condition(
        page: Page, participant: Participant, shoot) -> None:
    participant.activated(page)
    open_questionnaire(page, PHQ9)
    difficulty = question(page, "difficulty")
    expect(difficulty).to_be_hidden()  # no problem reported yet

    page.get_by_role("button", name="Send answers").click()
    expect(page.locator("#form-errors")).to_have_text("9 questions need an answer.")
    first = question(page, "phq9_1").get_by_role("radio", name="Not at all")
    expect(first).to_be_focused()
    expect(first).to_have_attribute("aria-invalid", "true")
    expect(first).to_have_attribute("aria-describedby", "error-phq9_1")
    expect(page.locator("#error-phq9_1")).to_have_text("Please answer this question.")
    shoot(page, "errors")

    for k in range(1, 10):
        choose(page, f"phq9_{k}", "Not at all")
    expect(page.locator("#error-phq9_1")).to_be_hidden()
    expect(difficulty).to_be_hidden()

    choose(page, "phq9_3", "Several days")  # a problem: item 10 appears
    expect(difficulty).to_be_visible()
    choose(page, "difficulty", "Very difficult")
    shoot(page, "item10-shown")

    choose(page, "phq9_3", "Not at all")  # no problem any more: hidden, and its answer gone
    expect(difficulty).to_be_hidden()
    choose(page, "phq9_3", "Several days")
    expect(difficulty).to_be_visible()
    expect(difficulty.get_by_role("radio", name="Very difficult")).not_to_be_checked()
    choose(page, "phq9_3", "Not at all")

    page.get_by_role("button", name="Send answers").click()
    expect(page.locator("#outcome")).to_contain_text("have been sent")

    [stored] = participant.responses()
    [version] = stored.versions
    assert {item: version.answers.get(item) for item in version.answers if version.answers[item]
            is not None} == {f"phq9_{k}": 0 for k in range(1, 10)}
    assert version.answers.get("difficulty") is None
    [score] = version.scores
    assert (score.scale, score.value, score.status, score.band) == ("phq9", 0, "scored", "minimal")


def test_answers_sent_offline_are_queued_then_stored_once_when_back_online(
        page: Page, participant: Participant, shoot) -> None:
    participant.activated(page)
    open_questionnaire(page, NRS)
    choose(page, "average", "4")
    page.context.set_offline(True)
    expect(page.locator("#network")).to_have_text("Offline")

    page.get_by_role("button", name="Send answers").click()
    expect(page.locator("#outcome")).to_contain_text("saved on this phone")
    expect(page.locator("#waiting")).to_have_text("1 answer waiting to send")
    shoot(page, "queued")
    for _ in range(3):  # flushes while still offline change nothing
        page.evaluate("window.dispatchEvent(new Event('online'))")
    page.get_by_role("link", name="Back to your questionnaires").click()
    expect(page.get_by_text("You are offline: this is the list saved on this phone.")
           ).to_be_visible()
    expect(page.get_by_role("heading", name="Waiting to send")).to_be_visible()
    expect(page.get_by_role("link", name=NRS)).to_have_count(0)  # queued, not to do
    shoot(page, "due-offline")
    assert participant.responses() == []

    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.post_data)
            if request.url.endswith("/responses/batch") else None)
    page.context.set_offline(False)  # the browser's online event flushes the outbox
    for _ in range(3):  # and more flushes at the same moment
        page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.locator("#waiting")).to_be_hidden()
    expect(page.locator("#network")).to_have_text("Online")

    [stored] = participant.responses()
    assert stored.versions[0].answers["average"] == 4
    assert [[entry["id"] for entry in json.loads(body)["responses"]] for body in sent] == [
        [str(stored.id)]]  # one request: the flushes at the same moment were folded into it


def test_a_lost_acknowledgement_is_retried_with_the_same_id_after_a_reload(
        page: Page, participant: Participant, shoot) -> None:
    participant.activated(page)
    attempts: list[dict[str, Any]] = []

    def drop_first_answer(route: Route) -> None:
        attempts.append(json.loads(route.request.post_data))
        if len(attempts) == 1:
            route.fetch()  # the server stores it...
            route.abort("connectionreset")  # ...but the phone never hears back
        else:
            route.continue_()

    page.route("**/api/v1/responses/batch", drop_first_answer)
    open_questionnaire(page, NRS)
    choose(page, "average", "7")
    page.get_by_role("button", name="Send answers").click()
    expect(page.locator("#outcome")).to_contain_text("saved on this phone")
    assert len(participant.responses()) == 1  # stored, though unacknowledged

    page.reload()  # start-up sends what is waiting, with the same id: a replay
    expect(heading(page)).to_have_text("Your questionnaires")
    expect(page.locator("#waiting")).to_be_hidden()
    expect(page.get_by_role("link", name=NRS)).to_have_count(0)  # done
    expect(page.get_by_role("heading", name="Needs attention")).to_have_count(0)
    shoot(page, "after-retry")

    [stored] = participant.responses()
    assert [len(attempt["responses"]) for attempt in attempts] == [1, 1]
    assert {attempt["responses"][0]["id"] for attempt in attempts} == {str(stored.id)}
    assert stored.versions[0].answers["average"] == 7


def test_the_trend_shows_the_participants_pain_scores(
        page: Page, participant: Participant, shoot) -> None:
    now = datetime.now(UTC)
    participant.submit_nrs([(now - timedelta(days=d), v) for d, v in ((6, 7), (4, 5), (1, 3))])
    participant.activated(page)
    page.evaluate("""() => {  // an expired access token: refreshed once, then the request again
        const session = JSON.parse(localStorage.getItem("prom.session"));
        localStorage.setItem("prom.session", JSON.stringify({...session, accessToken: "expired"}));
    }""")
    page.get_by_role("link", name="My pain over time").click()
    expect(heading(page)).to_have_text("My pain over time")
    expect(page.locator("#trend-summary")).to_contain_text("3 ratings")
    expect(page.locator("#trend-summary")).to_contain_text("First 7, latest 3, out of 10.")
    expect(page.locator("svg.chart circle")).to_have_count(3)
    expect(page.get_by_role("img")).to_have_accessible_name(re.compile("^3 ratings"))
    page.get_by_text("Show the ratings as a table").click()
    rows = page.locator(".trend-table tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.locator("td:nth-child(2)")).to_have_text(["3", "5", "7"])  # newest first
    shoot(page, "trend")


def test_the_language_picker_renders_and_records_the_chosen_language(
        page: Page, participant: Participant, shoot) -> None:
    participant.activated(page)
    open_questionnaire(page, NRS)
    choose(page, "average", "2")
    page.get_by_label("Language").select_option("de")
    expect(heading(page)).to_have_text("Schmerzstärke (numerische Skala)")
    expect(question(page, "average").locator("legend")).to_contain_text("durchschnittlichen")
    expect(question(page, "average")).to_contain_text("Keine Schmerzen")
    expect(question(page, "average").get_by_role("radio", name="2")).to_be_checked()  # kept
    shoot(page, "german")

    page.get_by_role("button", name="Send answers").click()
    expect(page.locator("#outcome")).to_contain_text("have been sent")
    [stored] = participant.responses()
    assert (stored.language, stored.versions[0].answers["average"]) == ("de", 2)


def test_a_questionnaire_can_be_completed_with_the_keyboard_alone(
        page: Page, participant: Participant, shoot) -> None:
    participant.activated(page)
    expect(heading(page)).to_be_focused()
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent").startswith(NRS):
            break
    page.keyboard.press("Enter")
    expect(heading(page)).to_have_text(NRS)
    expect(heading(page)).to_be_focused()

    page.keyboard.press("Tab")  # the language picker
    expect(page.get_by_label("Language")).to_be_focused()
    page.keyboard.press("Tab")  # the first scale: its first button
    zero = question(page, "average").get_by_role("radio", name="0: No pain")
    expect(zero).to_be_focused()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    expect(question(page, "average").get_by_role("radio", name="5")).to_be_checked()
    shoot(page, "focus")

    for _ in range(10):  # past the optional items, to the button
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Send answers":
            break
    page.keyboard.press("Enter")
    expect(page.locator("#outcome")).to_contain_text("have been sent")
    expect(heading(page)).to_be_focused()

    [stored] = participant.responses()
    assert stored.versions[0].answers["average"] == 5


def test_yes_no_text_date_choices_and_a_slider_are_answered_from_their_definitions(
        page: Page, participant: Participant, shoot) -> None:
    participant.activated(page)
    open_questionnaire(page, "Adverse event report")
    expect(question(page, "description")).to_be_hidden()
    choose(page, "occurred", "Yes")  # the follow-up questions appear
    page.get_by_label(re.compile("What happened")).fill("Headache after the exercises")
    expect(question(page, "description")).to_contain_text("28 of 2000 characters")
    page.get_by_label(re.compile("When did it start")).fill("2026-11-20")
    choose(page, "ongoing", "No")
    choose(page, "severity", "Mild: I noticed it, but I could still do my usual things")
    seriousness = question(page, "seriousness")
    hospital = seriousness.get_by_role("checkbox", name=re.compile("^I had to stay in hospital"))
    hospital.check()
    seriousness.get_by_role("checkbox", name="None of these").check()  # exclusive: stands alone
    expect(hospital).not_to_be_checked()
    choose(page, "attributed", "Not sure")
    shoot(page, "adverse-event")
    page.get_by_role("button", name="Send answers").click()
    expect(page.locator("#outcome")).to_contain_text("have been sent")

    page.get_by_role("link", name="Back to your questionnaires").click()
    open_questionnaire(page, "EQ-5D-5L")
    expect(question(page, "mo")).to_contain_text("Mobility (walking about)")  # label: no text
    for item in ("mo", "sc", "ua", "pd", "ad"):
        choose(page, item, "Level 2")
    vas = page.get_by_role("slider")
    expect(vas).to_have_attribute("aria-valuetext", "Not answered yet")
    page.get_by_role("button", name="Send answers").click()  # the slider is required: untouched
    expect(page.locator("#error-vas")).to_have_text("Please answer this question.")
    vas.fill("73")
    expect(question(page, "vas").locator("output")).to_have_text("73")
    shoot(page, "slider")
    page.get_by_role("button", name="Send answers").click()
    expect(page.locator("#outcome")).to_contain_text("have been sent")

    adverse, eq5d = participant.responses()
    assert adverse.versions[0].answers == {
        "occurred": True, "description": "Headache after the exercises",
        "onset_date": "2026-11-20", "ongoing": False, "severity": "mild",
        "seriousness": ["none"], "attributed": "unsure"}
    assert eq5d.versions[0].answers == {"mo": 2, "sc": 2, "ua": 2, "pd": 2, "ad": 2, "vas": 73}


def test_an_answer_the_server_refuses_moves_to_needs_attention(
        page: Page, participant: Participant, shoot) -> None:
    participant.activated(page)

    def conflict(route: Route) -> None:
        [entry] = json.loads(route.request.post_data)["responses"]
        route.fulfill(status=200, content_type="application/json", body=json.dumps({"results": [
            {"id": entry["id"], "status": 409, "detail": "This id was sent with other answers."},
        ]}))

    page.route("**/api/v1/responses/batch", conflict)
    open_questionnaire(page, NRS)
    choose(page, "average", "1")
    page.get_by_role("button", name="Send answers").click()
    expect(heading(page)).to_have_text("Not sent")
    expect(page.locator("#outcome")).to_contain_text("This id was sent with other answers.")
    page.get_by_role("link", name="Back to your questionnaires").click()
    attention = page.locator("section.attention")
    expect(attention).to_contain_text("This id was sent with other answers.")
    expect(page.locator("#waiting")).to_be_hidden()  # not retried for ever
    shoot(page, "needs-attention")

    attention.get_by_role("button", name=re.compile("^Remove")).click()
    expect(page.locator("section.attention")).to_have_count(0)


def test_the_app_opens_offline_and_keeps_queued_answers_across_a_reload(
        browser: Any, participant: Participant, shoot) -> None:

    context = browser.new_context(**PHONE, service_workers="allow")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        errors = watch_for_errors(page)
        participant.activated(page)
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        page.wait_for_function("navigator.serviceWorker.controller !== null")
        # Chromium's offline emulation lets a request from a page with a service worker reach
        # the server now and then (while reporting it failed), so the server is cut off too.
        participant.server.api_reachable.clear()
        context.set_offline(True)

        page.reload()
        expect(heading(page)).to_have_text("Your questionnaires")
        expect(page.get_by_text("You are offline: this is the list saved on this phone.")
               ).to_be_visible()
        open_questionnaire(page, NRS)  # the definition is on the phone too
        shoot(page, "offline-questionnaire")
        choose(page, "average", "3")
        page.get_by_role("button", name="Send answers").click()
        expect(page.locator("#outcome")).to_contain_text("saved on this phone")

        page.reload()  # still offline: the queued answer survives in the phone's storage
        expect(page.get_by_role("heading", name="Waiting to send")).to_be_visible()
        expect(page.locator("#waiting")).to_have_text("1 answer waiting to send")
        assert participant.responses() == []
        participant.server.api_reachable.set()
        context.set_offline(False)
        expect(page.locator("#waiting")).to_be_hidden()
        expect(page.get_by_role("heading", name="Waiting to send")).to_have_count(0)
        [stored] = participant.responses()
        assert stored.versions[0].answers["average"] == 3
        assert not errors
    finally:
        participant.server.api_reachable.set()
        context.close()


def test_every_instrument_in_the_library_renders_from_its_definition(
        page: Page, participant: Participant, shoot) -> None:
    """Each of the library's instruments, opened in the app, shows its title and one question
    per item whose skip condition does not hide it before any answer, with nothing an axe-core
    WCAG 2.1 AA check or a 360 px screen objects to (`shoot`)."""
    from prom.instruments import load_library

    participant.activated(page)
    for definition in load_library():
        page.goto(f"{participant.server.url}/app/#/answer/{definition.id}/baseline")
        expect(heading(page)).to_have_text(definition.title["en"])
        for item in definition.items:
            if item.show_if is None:
                expect(question(page, item.id)).to_be_visible()
            else:  # its controlling item is not answered yet
                expect(question(page, item.id)).to_be_hidden()
        expect(page.get_by_role("button", name="Send answers")).to_be_visible()
        shoot(page, f"{definition.id}-{definition.version}")
