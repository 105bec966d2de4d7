"""Simulator protocol additions over real HTTP: getTaskDetails, accountManagement getDetails,
`progress` in processing items, and the 401/402/403 refusals a real account can meet."""
from __future__ import annotations

import time
import uuid

import pytest
import requests

from conftest import TEST_KEY, video_task
from lib.simulator.server import Simulator

HEADERS = {"Authorization": f"Bearer {TEST_KEY}", "Content-Type": "application/json"}
DRY = {**HEADERS, "X-Runware-Dry-Run": "1"}


def post(sim, body, headers=HEADERS) -> requests.Response:
    return requests.post(sim.url, json=body, headers=headers, timeout=10)


def details(sim, task_uuid, headers=HEADERS) -> requests.Response:
    return post(sim, [{"taskType": "getTaskDetails", "taskUUID": task_uuid}], headers)


def wait_success(sim, task_uuid, timeout=20.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = details(sim, task_uuid).json()
        if body["data"][0]["status"] != "processing":
            return body["data"][0]
        time.sleep(0.05)
    raise AssertionError("task did not finish")


def account(sim, headers=HEADERS) -> requests.Response:
    return post(sim, [{"taskType": "accountManagement", "taskUUID": str(uuid.uuid4()), "operation": "getDetails"}],
                headers)


# -- getTaskDetails ---------------------------------------------------------------------------------------


def test_task_details_of_a_finished_task(simulator):
    task = video_task(duration=5, fps=6, seed=9)
    assert post(simulator, [task]).status_code == 200
    item = wait_success(simulator, task["taskUUID"])
    assert item["taskType"] == "getTaskDetails" and item["taskUUID"] == task["taskUUID"]
    assert item["status"] == "success"
    assert item["request"] == task
    (result,) = item["response"]["data"]
    assert result["status"] == "success" and result["seed"] == 9 and result["videoURL"]


def test_task_details_of_a_processing_task(tmp_path):
    with Simulator(latency=30, media_dir=tmp_path / "m") as sim:
        task = video_task()
        post(sim, [task])
        resp = details(sim, task["taskUUID"])
        assert resp.status_code == 200
        assert resp.json()["data"][0]["status"] == "processing"


def test_task_details_of_an_unknown_task_is_404(simulator):
    unknown = str(uuid.uuid4())
    resp = details(simulator, unknown)
    assert resp.status_code == 404
    (err,) = resp.json()["errors"]
    assert err["code"] == "taskNotFound" and err["taskUUID"] == unknown and err["taskType"] == "getTaskDetails"


# -- accountManagement ---------------------------------------------------------------------------------------


def test_account_details_has_a_balance(tmp_path):
    with Simulator(latency=30, media_dir=tmp_path / "m", balance=50.0) as sim:
        resp = account(sim)
        assert resp.status_code == 200
        (item,) = resp.json()["data"]
        assert item["taskType"] == "accountManagement" and item["operation"] == "getDetails"
        assert item["balance"] == 50.0
        assert {"organization", "usage", "team", "apiKeys"} <= set(item)
        assert TEST_KEY not in resp.text  # never echoes the key itself


def test_account_balance_goes_down_by_the_cost_of_a_submit(tmp_path):
    with Simulator(latency=30, media_dir=tmp_path / "m", balance=50.0) as sim:
        post(sim, [video_task()], DRY)  # a dry run costs nothing
        assert account(sim).json()["data"][0]["balance"] == 50.0
        post(sim, [video_task(duration=6)])
        assert account(sim).json()["data"][0]["balance"] == pytest.approx(50.0 - 0.05 * 6)


def test_account_unknown_operation_is_400(simulator):
    resp = post(simulator, [{"taskType": "accountManagement", "taskUUID": str(uuid.uuid4()), "operation": "nope"}])
    assert resp.status_code == 400
    assert resp.json()["errors"][0]["allowedValues"] == ["getDetails"]


# -- progress -----------------------------------------------------------------------------------------------


def test_processing_items_carry_progress_once_started(tmp_path):
    with Simulator(latency=4.0, media_dir=tmp_path / "m") as sim:
        task = video_task(fps=6)
        post(sim, [task])
        time.sleep(2.2)
        (item,) = post(sim, [{"taskType": "getResponse", "taskUUID": task["taskUUID"]}]).json()["data"]
        assert item["status"] == "processing"
        assert isinstance(item["progress"], int) and 40 <= item["progress"] <= 99, item


# -- refusals -----------------------------------------------------------------------------------------------


def test_a_malformed_key_is_401_invalid_api_key(simulator):
    resp = post(simulator, [video_task()], {**HEADERS, "Authorization": "Bearer not a key"})
    assert resp.status_code == 401
    (err,) = resp.json()["errors"]
    assert err["code"] == "invalidApiKey" and err["message"]


def test_a_refused_key_is_401_on_every_call(tmp_path):
    with Simulator(latency=0.3, media_dir=tmp_path / "m", refuse_keys={TEST_KEY: 401}) as sim:
        resp = post(sim, [{"taskType": "getResponse", "taskUUID": str(uuid.uuid4())}])
        assert resp.status_code == 401 and resp.json()["errors"][0]["code"] == "invalidApiKey"


@pytest.mark.parametrize("status, code", [(402, "insufficientCredits"), (403, "modelNotAllowed")])
def test_refused_key_at_submit(tmp_path, status, code):
    with Simulator(latency=0.3, media_dir=tmp_path / "m", refuse_keys={TEST_KEY: status}) as sim:
        task = video_task()
        resp = post(sim, [task])
        assert resp.status_code == status
        (err,) = resp.json()["errors"]
        assert err["code"] == code and err["taskUUID"] == task["taskUUID"] and err["message"]
        assert sim.stats.snapshot()["submitted"] == []
        # Other calls still work for that key.
        assert account(sim).status_code == 200


@pytest.mark.parametrize("status", [401, 402, 403])
def test_scripted_refusal_fault(simulator, status):
    simulator.faults.script(str(status))
    resp = post(simulator, [video_task()])
    assert resp.status_code == status and resp.json()["errors"][0]["code"]
    assert post(simulator, [video_task()]).status_code == 200
