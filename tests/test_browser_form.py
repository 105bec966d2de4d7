"""The Generate form in a real browser (issue 13 items 2 and 3): the Generate button is on screen
without scrolling, on a desktop and on a phone; Ctrl+Enter in the prompt submits; and a refused
submit shows what to fix: the summary names each field, the section holding an error opens, and the
first error is scrolled into view. Demo mode: one app for the module."""
from __future__ import annotations

import re
import secrets
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from browser_support import CHROMIUM, AppServer, assert_no_traceback, screenshot_on_failure, wait_rendered
from browser_support import browser, chromium  # noqa: F401  (fixtures)
from lib import prefs
from lib.catalog import load_catalog

if not Path(CHROMIUM).is_file():
    pytest.skip(f"browser tests need Debian's Chromium at {CHROMIUM}", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need Playwright for Python")
expect = sync_api.expect

DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
ACTIVE_OR_DONE = re.compile(r"\b(submitting|queued|processing|downloading|done)\b[^·]* · \d+ s")

# Whether an element is on screen and not covered: the point at its centre hits the element itself.
ON_SCREEN_JS = """el => {
  const r = el.getBoundingClientRect();
  if (r.width === 0 || r.height === 0 || r.top < 0 || r.left < 0
      || r.bottom > window.innerHeight || r.right > window.innerWidth) return false;
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return !!hit && (el === hit || el.contains(hit));
}"""


def _app_server(tmp_path_factory, name: str):
    root = tmp_path_factory.mktemp(name)
    with AppServer(root / "data", root / "app.log") as server:
        yield server


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    yield from _app_server(tmp_path_factory, "form")


@pytest.fixture(scope="module")
def keyboard_app(tmp_path_factory):
    """The shortcut tests' own server: the jobs they make stay off the page the error tests look at."""
    yield from _app_server(tmp_path_factory, "form-keyboard")


def generate_button(page):
    button = page.get_by_role("button", name="Generate")
    expect(button).to_have_count(1, timeout=15_000)
    return button


def prompt_box(page):
    box = page.get_by_label("Prompt", exact=True)
    expect(box).to_have_count(1, timeout=15_000)
    return box


def on_screen(locator) -> bool:
    return locator.evaluate(ON_SCREEN_JS)


def wait_on_screen(page, locator, timeout_ms: int = 10_000) -> None:
    """On screen within moments (a rerun may be redrawing the page when the test looks)."""
    page.wait_for_function(ON_SCREEN_JS, arg=locator.element_handle(), timeout=timeout_ms)


def click_generate(page) -> None:
    generate_button(page).click()
    page.mouse.move(0, 0)  # nothing hovered: no tooltip over what the test looks at


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1440x900", "390x844"])
@screenshot_on_failure
def test_generate_is_on_screen_without_scrolling(browser, app, viewport):
    page = browser.page(app, "/", viewport=viewport)
    assert page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollTop") == 0
    wait_on_screen(page, generate_button(page))
    assert_no_traceback(browser, page)


@screenshot_on_failure
def test_generate_stays_on_screen_while_the_form_scrolls(browser, app):
    page = browser.page(app, "/", viewport=PHONE)
    main = page.locator('[data-testid="stMain"]')
    for top in (300, 700):
        main.evaluate("(el, top) => el.scrollTo(0, top)", top)
        # The form is longer than the screen. (At least `top`: the browser's scroll anchoring may move
        # the view a little further while the live job list above redraws.)
        assert main.evaluate("el => el.scrollTop") >= top
        wait_on_screen(page, generate_button(page))


@screenshot_on_failure
def test_on_a_phone_the_bar_leaves_the_prompt_in_view(browser, app):
    # The bar with its details line was about 120 px tall and covered all but the prompt box's edge.
    page = browser.page(app, "/", viewport=PHONE)
    box_top = prompt_box(page).evaluate("el => el.getBoundingClientRect().top")
    bar_top = page.locator(".st-key-action_bar").evaluate("el => el.getBoundingClientRect().top")
    assert bar_top - box_top >= 40, (box_top, bar_top)  # two lines of the prompt show
    expect(page.locator(".st-key-action_bar_details")).to_be_hidden()
    expect(page.get_by_text(re.compile(r"^Price: "))).to_be_visible()


@screenshot_on_failure
def test_on_a_desktop_the_bar_names_the_model_and_the_shortcut(browser, app):
    page = browser.page(app, "/", viewport=DESKTOP)
    expect(page.locator(".st-key-action_bar_details")).to_contain_text("Ctrl/⌘+Enter in the prompt submits")


@pytest.mark.parametrize("keys", ["Control+Enter", "Meta+Enter"])
@screenshot_on_failure
def test_ctrl_enter_in_the_prompt_queues_a_job(browser, keyboard_app, keys):
    page = browser.page(keyboard_app, "/", viewport=DESKTOP)
    prompt = f"A paper boat on a rain puddle, sent with the keyboard ({secrets.token_hex(4)})"
    box = prompt_box(page)
    box.click()
    box.type(prompt, delay=0)
    box.press(keys)
    # The job's card shows the typed prompt: the submit saw the value the key press committed.
    card_text = page.locator('[data-testid="stText"]').get_by_text(prompt, exact=True)
    expect(card_text).to_have_count(1, timeout=30_000)
    expect(page.get_by_text(ACTIVE_OR_DONE).first).to_be_visible(timeout=30_000)
    assert_no_traceback(browser, page)


def settle(page) -> None:
    """Let the rerun an action asked for start, then wait for it to end: an action taken while a rerun
    is still running races it (Streamlit may drop or reorder what the browser sent)."""
    page.wait_for_timeout(300)
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(state="attached")


def break_provider_settings(page) -> None:
    """Type invalid JSON into Advanced -> providerSettings, close Advanced again and fill the prompt."""
    advanced = page.locator('[data-testid="stExpander"]').filter(has_text="Advanced").first
    advanced.locator("summary").click()
    settle(page)
    box = advanced.get_by_role("textbox", name=re.compile(r"providerSettings|Provider settings"))
    box.fill('{"klingai": {')
    box.press("Tab")  # commits the value
    settle(page)
    advanced.locator("summary").click()
    settle(page)
    expect(box).to_be_hidden()
    prompt_box(page).fill("A valid prompt about a quiet harbour at dawn")
    prompt_box(page).press("Tab")
    settle(page)


@screenshot_on_failure
def test_an_error_in_a_closed_section_opens_it(browser, app):
    page = browser.page(app, "/", viewport=DESKTOP)
    break_provider_settings(page)
    click_generate(page)
    advanced = page.locator('[data-testid="stExpander"]').filter(has_text="Advanced").first
    message = advanced.locator('[data-testid="stAlertContentError"]').first
    expect(message).to_be_visible()
    expect(message).to_contain_text("JSON")


@screenshot_on_failure
def test_the_summary_names_each_field_to_fix(browser, app):
    page = browser.page(app, "/", viewport=DESKTOP)
    prompt_box(page).fill("")
    click_generate(page)
    expect(page.get_by_text("Nothing was sent. Fix: Prompt.", exact=True)).to_be_visible()
    break_provider_settings(page)
    prompt_box(page).fill("")
    prompt_box(page).press("Tab")
    click_generate(page)
    expect(page.get_by_text("Nothing was sent. Fix: Prompt, Provider settings.", exact=True)).to_be_visible()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1440x900", "390x844"])
@screenshot_on_failure
def test_the_first_error_is_scrolled_into_view(browser, app, viewport):
    page = browser.page(app, "/", viewport=viewport)
    break_provider_settings(page)
    page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollTo(0, 0)")
    advanced = page.locator('[data-testid="stExpander"]').filter(has_text="Advanced").first
    message = advanced.locator('[data-testid="stAlertContentError"]').first
    expect(message).to_have_count(0)
    click_generate(page)
    expect(message).to_have_count(1)
    wait_on_screen(page, message)
    page.wait_for_timeout(1500)
    assert on_screen(message), "the message moved out of view again"  # (not just passed through it)
    assert_no_traceback(browser, page)


@screenshot_on_failure
def test_a_prompt_error_is_scrolled_into_view_on_a_phone(browser, app):
    page = browser.page(app, "/", viewport=PHONE)
    message = page.locator('[data-testid="stAlertContentError"]').filter(has_text="prompt").first
    click_generate(page)  # an empty prompt
    expect(message).to_have_count(1)
    wait_on_screen(page, message)
    page.wait_for_timeout(1500)
    assert on_screen(message), "the message moved out of view again"


# The code of Streamlit's widgets comes in separate files the browser fetches on first use; on a slow
# machine a click can rerun the page before they arrive.
CATALOG = load_catalog()
WIDGET_CODE = re.compile(r"/static/js/(Selectbox|Multiselect|TextArea|TextInput|NumberInput|Slider|Checkbox)"
                         r"\.[^/]*\.js$")


@screenshot_on_failure
def test_a_click_before_the_widgets_load_keeps_the_form(browser, app):
    # Reported: once in a few runs the model picker switched to the first model by itself. A value the
    # app sets (a restored draft, a default) reaches the browser only with the run that set it; when
    # a click reran the page before the widget's code had loaded, the widget later appeared with its
    # plain default (the first model, an empty prompt) and sent that back on the next rerun.
    chosen = {"f_model": "klingai:5@3", "f_prompt": "A lighthouse in fog, seen from a rowing boat",
              "f_quality": 80, "f_cost": True}
    page = browser.page(app, path=None, viewport=DESKTOP)
    held = []
    page.route(WIDGET_CODE, lambda route: held.append(route))
    page.goto(f"{app.url}/?{prefs.DRAFT_PARAM}={prefs.encode_draft(chosen)}")
    advanced = page.locator('[data-testid="stExpander"]').filter(has_text="Advanced").first
    advanced.locator("summary").click()  # reruns the page while no widget has its code yet
    settle(page)
    assert held, "the widgets' code was not held back: the test no longer reproduces a slow load"
    for route in held:
        route.continue_()
    page.route(WIDGET_CODE, lambda route: route.continue_())
    expect(prompt_box(page)).to_have_value(chosen["f_prompt"])
    advanced.locator("summary").click()  # one more rerun: the browser sends what its widgets show
    settle(page)
    expect(page.get_by_text("Switched to")).to_have_count(0)
    expect(page.get_by_role("combobox", name="Model", exact=True)).to_have_value(re.compile("klingai:5@3"))
    draft = prefs.decode_draft(parse_qs(urlsplit(page.url).query)[prefs.DRAFT_PARAM][0], CATALOG)
    assert {k: draft.get(k) for k in chosen} == chosen
    assert_no_traceback(browser, page)
