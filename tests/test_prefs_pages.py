"""Issue 13 items 11 and 12 through the pages (AppTest): the Generate draft kept in the URL (a reload
brings it back; a re-run wins over it; defaults come after it), and the Settings page's own defaults
(saved per browser, as a cookie script) and read-only limits. Cookies a browser sends back cannot be
seeded in AppTest: tests/test_browser_prefs.py covers that path in Chromium."""
from __future__ import annotations

import base64
import json
import random
import re

import pytest

from lib import prefs
from lib.catalog import load_catalog
from test_pages import (all_rendered_text, click, data_dir, demo_job, new_app, open_page, run,  # noqa: F401
                        runtime, store_for)

CATALOG = load_catalog()


def draft_word(at) -> str | None:
    """The draft the page's script writes into the browser's URL (None: it takes the draft out)."""
    scripts = [str(node.proto.body) for node in at._tree
               if getattr(node, "type", "") == "html" and "searchParams" in str(node.proto.body)]
    assert len(scripts) == 1, scripts
    return json.loads(re.search(r"const word = (null|\"[^\"]*\");", scripts[0]).group(1))


def draft_of(at) -> dict:
    return prefs.decode_draft(draft_word(at), CATALOG)


def reopen(at):
    """A reload: a new session whose first request carries the page's URL, draft included."""
    again = new_app()
    for key, value in at.query_params.items():
        again.query_params[key] = value
    word = draft_word(at)
    if word:
        again.query_params[prefs.DRAFT_PARAM] = word
    return run(again)


def type_prompt(at, text: str):
    at.text_area(key="f_prompt").set_value(text)
    return run(at)


def save_defaults(at, model: str, fmt: str, quality: int):
    at.selectbox(key="pd_model").set_value(model)
    at.selectbox(key="pd_format").set_value(fmt)
    at.slider(key="pd_quality").set_value(quality)
    [save] = [b for b in at.button if b.label == "Save my defaults"]
    save.click()
    return run(at)


def cookie_value(at) -> str | None:
    """The defaults cookie the page's script sets in the browser (None: no script on this run)."""
    scripts = [str(node.proto.body) for node in at._tree if getattr(node, "type", "") == "html"]
    scripts = [s for s in scripts if prefs.DEFAULTS_COOKIE in s]
    if not scripts:
        return None
    match = re.search(rf"{prefs.DEFAULTS_COOKIE}=([A-Za-z0-9_.-]*);", scripts[-1])
    return match.group(1)


# -- item 11: the draft --------------------------------------------------------------------------------

def test_typing_a_prompt_puts_the_draft_in_the_url(data_dir):
    at = type_prompt(open_page(), "A red kite over the dunes")
    assert draft_of(at)["f_prompt"] == "A red kite over the dunes"


def test_a_reload_brings_the_draft_back(data_dir):
    at = open_page()
    at.selectbox(key="f_model").set_value("runware:108@22")
    run(at)
    at.slider(key="f_quality").set_value(61)
    at = type_prompt(at, "A red kite over the dunes")
    again = reopen(at)
    assert again.text_area(key="f_prompt").value == "A red kite over the dunes"
    assert again.selectbox(key="f_model").value == "runware:108@22"
    assert again.slider(key="f_quality").value == 61


def test_a_reloaded_draft_says_uploaded_files_are_not_kept(data_dir):
    again = reopen(type_prompt(open_page(), "A red kite"))
    assert any("Files you uploaded are not kept" in t.value for t in again.toast)


def test_a_draft_survives_a_visit_to_another_page(data_dir):
    at = type_prompt(open_page(), "Kept while I look at History")
    at.switch_page("pages/history.py")
    run(at)
    at.switch_page("pages/generate.py")
    run(at)
    assert at.text_area(key="f_prompt").value == "Kept while I look at History"


def test_a_webhook_stays_in_the_session_but_out_of_the_link(data_dir):
    at = open_page()
    at.text_input(key="f_webhook").set_value("https://example.com/hook?secret=s3")
    at = type_prompt(at, "with a hook")
    assert "f_webhook" not in draft_of(at)
    at.switch_page("pages/history.py")
    run(at)
    at.switch_page("pages/generate.py")
    run(at)
    assert at.text_input(key="f_webhook").value == "https://example.com/hook?secret=s3"


@pytest.mark.parametrize("word", ["garbage", "1.AAAA", "1." + base64.urlsafe_b64encode(b"x" * 50).decode()])
def test_a_broken_draft_in_the_url_opens_the_usual_form(data_dir, word):
    at = new_app()
    at.query_params[prefs.DRAFT_PARAM] = word
    run(at)
    assert at.text_area(key="f_prompt").value == ""
    assert at.selectbox(key="f_model").value == "klingai:5@3"


def test_a_draft_with_an_unknown_model_keeps_its_prompt(data_dir):
    word = prefs._pack({"f_model": "nobody:1@1", "f_prompt": "still mine"}, prefs.MAX_DRAFT_CHARS)
    at = new_app()
    at.query_params[prefs.DRAFT_PARAM] = word
    run(at)
    assert at.selectbox(key="f_model").value == "klingai:5@3"
    assert at.text_area(key="f_prompt").value == "still mine"


def test_a_rerun_wins_over_the_draft(data_dir):
    uuid = demo_job(store_for(data_dir), "success", prompt="The job being re-run")
    at = type_prompt(open_page(), "A draft I was writing")
    at.switch_page("pages/history.py")
    at.query_params["job"] = uuid
    run(at)
    click(at, "Re-run with these settings")
    assert at.text_area(key="f_prompt").value == "The job being re-run"
    assert draft_of(at)["f_prompt"] == "The job being re-run"


def test_a_draft_too_long_for_a_link_leaves_the_url(data_dir):
    at = type_prompt(open_page(), "short")
    assert draft_word(at) is not None
    noise = base64.b64encode(random.Random(2).randbytes(9_000)).decode()  # does not compress
    at = type_prompt(at, noise)
    assert draft_word(at) is None


def test_a_reload_in_a_hosted_demo_keeps_the_workspace_and_the_draft(data_dir, monkeypatch):
    monkeypatch.setenv("STUDIO_WORKSPACES", "per-user")
    at = type_prompt(open_page(), "mine")
    ws = at.query_params["ws"]
    again = reopen(at)
    assert again.query_params["ws"] == ws and again.text_area(key="f_prompt").value == "mine"


# -- item 12: the user's defaults ----------------------------------------------------------------------

def test_saving_defaults_writes_them_to_a_cookie_of_this_browser(data_dir):
    at = save_defaults(open_page("pages/settings.py"), "runware:108@22", "MOV", 70)
    assert prefs.decode_defaults(cookie_value(at), CATALOG) == prefs.Defaults("runware:108@22", "MOV", 70)


def test_the_cookie_script_is_not_repeated_on_the_next_run(data_dir):
    at = run(save_defaults(open_page("pages/settings.py"), "runware:108@22", "MOV", 70))
    assert cookie_value(at) is None


def test_saved_defaults_start_a_new_form(data_dir):
    at = save_defaults(open_page("pages/settings.py"), "runware:108@22", "MOV", 70)
    at.switch_page("pages/generate.py")
    run(at)
    assert at.selectbox(key="f_model").value == "runware:108@22"
    assert at.selectbox(key="f_format").value == "MOV"
    assert at.slider(key="f_quality").value == 70


def test_a_draft_wins_over_the_defaults(data_dir):
    at = open_page()
    at.slider(key="f_quality").set_value(33)
    run(at)
    at.switch_page("pages/settings.py")
    at = save_defaults(run(at), "runware:108@22", "MOV", 70)
    at.switch_page("pages/generate.py")
    run(at)
    assert at.slider(key="f_quality").value == 33 and at.selectbox(key="f_model").value == "klingai:5@3"


def test_clearing_defaults_removes_the_cookie(data_dir):
    at = save_defaults(open_page("pages/settings.py"), "runware:108@22", "MOV", 70)
    at = click(at, "Clear my defaults")
    assert cookie_value(at) == ""
    at.switch_page("pages/generate.py")
    run(at)
    assert at.selectbox(key="f_model").value == "klingai:5@3"


# -- item 12: the server's limits, shown not edited -----------------------------------------------------

def limits_table(at) -> str:
    [table] = [t for t in at.table if "Limit" in t.value.columns]
    return table.value.to_csv()


def test_settings_show_the_limits_a_user_can_hit(data_dir, monkeypatch):
    monkeypatch.setenv("STUDIO_MAX_IMAGE_MB", "7")
    monkeypatch.setenv("STUDIO_MAX_IN_FLIGHT", "3")
    monkeypatch.setenv("STUDIO_DAILY_BUDGET_USD", "12.5")
    monkeypatch.setenv("STUDIO_JOB_TIMEOUT", "321")
    monkeypatch.setenv("STUDIO_CONFIRM_ABOVE_USD", "2.5")
    text = limits_table(open_page("pages/settings.py"))
    for expected in ("up to 4", "up to 7 MB each", "of 3 (more jobs wait", "$12.50 per UTC day",
                     "321 s", "in the last minute", "above $2.50, or with any price unknown"):
        assert expected in text


def test_the_limits_cannot_be_edited_on_the_page(data_dir):
    at = open_page("pages/settings.py")
    editable = [w.key for kind in ("text_input", "number_input") for w in getattr(at, kind)]
    assert [k for k in editable if k != "key_input"] == []


def test_per_user_settings_show_limits_and_defaults_but_no_internals(data_dir, monkeypatch):
    monkeypatch.setenv("STUDIO_WORKSPACES", "per-user")
    monkeypatch.setenv("LOG_LEVEL", "INFO")
    at = open_page("pages/settings.py")
    text = all_rendered_text(at).split(str(at), 1)[1]
    assert "up to 10 MB each" in limits_table(at)
    assert at.selectbox(key="pd_model") is not None
    for internal in (str(data_dir.resolve()), "STUDIO_DATA_DIR", "STUDIO_DATABASE_URL", "Log level",
                     "LOG_LEVEL", "sqlite", runtime().demo.url, "127.0.0.1"):
        assert internal not in text, internal
