"""Daily spend caps (issue 9, item 11) on SQLite and PostgreSQL: the estimate stored with each job, what
today's spend counts, refusals with the numbers, and racing submits never passing the cap."""
from __future__ import annotations

import itertools
import threading
import time
from datetime import datetime, timezone

import pytest

from conftest import TEST_KEY, force, video_task
from lib import spend
from lib.spend import SpendCapExceeded

# klingai:5@3 lists $0.184 per second: 5 s at 1920x1080 is $0.92.
_numbers = itertools.count()
PRICED = dict(model="klingai:5@3", duration=5, width=1920, height=1080, fps=None)


def priced_task(**overrides) -> dict:
    # A prompt of its own: the same request twice within moments would be refused as a double submit.
    return video_task(**{**PRICED, "positivePrompt": f"A test video {next(_numbers)}", **overrides})


@pytest.fixture
def api_runtime(make_runtime, db_url):
    """An API-mode runtime (server key) on either database; its engine is not started, so jobs stay
    queued and count their estimate."""
    def make(**settings):
        return make_runtime(api_key=TEST_KEY, database=db_url, start=False, **settings)
    return make


def submit(runtime, workspace: str = "ws-a", **overrides):
    return runtime.submit(priced_task(**overrides), workspace=workspace, api_url=runtime.settings.api_url,
                          kid=runtime.server_key_id)


# -- the estimate ------------------------------------------------------------------------------------

def test_estimate_uses_the_list_price_for_duration_and_results(catalog):
    task = priced_task(numberResults=2)
    assert spend.estimate(catalog.get("klingai:5@3"), task) == pytest.approx(1.84)


def test_estimate_picks_the_listed_configuration_of_the_resolution(catalog):
    # alibaba:wan@2.6 lists 720p 5 s at $0.50 and 1080p 5 s at $0.75.
    model = catalog.get("alibaba:wan@2.6")
    assert spend.estimate(model, {"duration": 5, "width": 1920, "height": 1080}) == pytest.approx(0.75)
    assert spend.estimate(model, {"duration": 5, "width": 1280, "height": 720}) == pytest.approx(0.5)


def test_estimate_is_unknown_for_a_model_without_a_price(catalog):
    assert spend.estimate(catalog.get("runware:108@22"), video_task()) is None
    assert spend.estimate(None, video_task(model="someone:1@1")) is None


def test_submit_stores_the_estimate(api_runtime):
    job = submit(api_runtime())
    assert job.estimated_cost == pytest.approx(0.92)


def test_days_start_at_midnight_utc():
    midnight = datetime(2026, 1, 1, tzinfo=timezone.utc).timestamp()
    assert spend.day_start(midnight + 23.5 * 3600) == midnight
    assert spend.day_start(midnight - 1) == midnight - 86400


# -- the caps ----------------------------------------------------------------------------------------

def test_daily_cap_refuses_with_the_numbers(api_runtime):
    runtime = api_runtime(daily_budget_usd=5.0)
    for _ in range(5):
        submit(runtime)  # 5 x $0.92 = $4.60
    with pytest.raises(SpendCapExceeded) as refused:
        submit(runtime)
    assert "Today's spend $4.60 + this job $0.92 would pass the daily cap of $5.00" in str(refused.value)
    assert runtime.store.count() == 5


def test_daily_cap_holds_across_workspaces(api_runtime):
    runtime = api_runtime(daily_budget_usd=1.0)
    submit(runtime, "ws-a")
    with pytest.raises(SpendCapExceeded):
        submit(runtime, "ws-new")  # a new workspace is no way around the deployment's cap


def test_workspace_cap_refuses_in_that_workspace_only(api_runtime):
    runtime = api_runtime(workspace_daily_budget_usd=1.0)
    submit(runtime, "ws-a")
    with pytest.raises(SpendCapExceeded, match="This workspace's spend \\$0.92 \\+ this job \\$0.92"):
        submit(runtime, "ws-a")
    assert submit(runtime, "ws-b").workspace == "ws-b"


def test_finished_jobs_count_their_actual_cost(api_runtime):
    runtime = api_runtime(daily_budget_usd=1.0)
    job = submit(runtime)
    force(runtime.store, job.task_uuid, status="success", submitted_at=time.time(), cost=0.05)
    submit(runtime)  # $0.05 + $0.92 fits under $1.00


def test_jobs_never_sent_count_nothing(api_runtime):
    runtime = api_runtime(daily_budget_usd=1.0)
    job = submit(runtime)
    runtime.cancel(runtime.store.get(job.task_uuid))
    submit(runtime)


def test_yesterdays_jobs_do_not_count(api_runtime):
    runtime = api_runtime(daily_budget_usd=1.0)
    job = submit(runtime)
    force(runtime.store, job.task_uuid, created_at=spend.day_start(time.time()) - 60)
    submit(runtime)


def test_unpriced_jobs_count_zero_and_the_refusal_says_so(api_runtime):
    runtime = api_runtime(daily_budget_usd=1.0)
    submit(runtime, model="runware:108@22", width=320, height=256, fps=8)  # no list price
    submit(runtime)
    with pytest.raises(SpendCapExceeded, match="1 of today's jobs have no known price and count as \\$0"):
        submit(runtime)


def test_pasted_keys_are_not_capped(api_runtime):
    # A visitor's own key spends the visitor's money, not the operator's.
    runtime = api_runtime(daily_budget_usd=0.5)
    kid = runtime.hold_key("visitor-key-" + "x" * 20)
    for _ in range(2):
        runtime.submit(priced_task(), workspace="ws-a", api_url=runtime.settings.api_url, kid=kid)


def test_demo_mode_is_never_capped(make_runtime, db_url):
    runtime = make_runtime(database=db_url, start=False, daily_budget_usd=0.5)
    for _ in range(2):
        runtime.submit(priced_task(), workspace="ws-a", api_url="simulator://local", kid="demo")
    assert runtime.store.count() == 2


def test_racing_submits_never_pass_the_cap(api_runtime):
    """Eight threads (each with its own database connection, as replicas have) submit at once under a
    $3.00 cap: exactly three $0.92 jobs get in, never a fourth."""
    runtime = api_runtime(daily_budget_usd=3.0)
    start, outcomes = threading.Barrier(8), []

    def racer():
        start.wait()
        try:
            submit(runtime)
            outcomes.append("in")
        except SpendCapExceeded:
            outcomes.append("refused")

    threads = [threading.Thread(target=racer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["in"] * 3 + ["refused"] * 5
    assert runtime.store.count() == 3
