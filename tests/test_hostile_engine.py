"""Engine leases under slow or failing answers (issue 9, reviewer's findings): a download of several
results renews its lease with each result, and one job whose answer cannot be applied does not leave
the other jobs of the same poll leased. Real servers on loopback ports."""
from __future__ import annotations

import json
import threading
import time

from conftest import TEST_KEY, StandIn, video_task, wait_for
from lib.keys import key_id

VIDEO = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 2000


def add(store, url: str, **task_fields) -> str:
    task = video_task(**task_fields)
    store.add(task, workspace="local", api_url=url, key_id=key_id(TEST_KEY))
    return task["taskUUID"]


def runware(items_for, get=None):
    """Runware's protocol on a StandIn: submits accepted; getResponse answers the items
    `items_for(uuid)` for each task asked; GET /<name> answers `get(name)`."""
    def respond(method, path, body, n):
        if method == "GET":
            return 200, "video/mp4", get(path.rsplit("/", 1)[-1])
        tasks = json.loads(body)
        if tasks[0]["taskType"] == "videoInference":
            return 200, "application/json", json.dumps({"data": [{"taskUUID": tasks[0]["taskUUID"]}]}).encode()
        items = [item for t in tasks for item in items_for(t["taskUUID"])]
        return 200, "application/json", json.dumps({"data": items}).encode()
    return StandIn(respond)


def polls(api) -> list[set]:
    """The taskUUIDs of each getResponse the server received."""
    asked = [json.loads(body) for method, _, _, body in list(api.requests) if method == "POST"]
    return [{t["taskUUID"] for t in tasks} for tasks in asked if tasks[0]["taskType"] == "getResponse"]


def processing(u: str) -> list[dict]:
    return [{"taskType": "videoInference", "taskUUID": u, "status": "processing"}]


def test_a_download_of_several_results_renews_its_lease_with_each(make_engine):
    second_asked, go_on = threading.Event(), threading.Event()
    lease_until = {}

    def get(name):
        lease_until[name] = engine.store.get(uuid).lease_until
        if name == "a.mp4":
            time.sleep(0.6)  # the first result takes a while
        else:
            second_asked.set()
            go_on.wait(10)
        return VIDEO

    def two_results(u):
        return [{"taskType": "videoInference", "taskUUID": u, "status": "success", "videoUUID": name,
                 "videoURL": f"{api.url}/{name}.mp4"} for name in ("a", "b")]

    with runware(two_results, get) as api:
        engine = make_engine(api.url)
        uuid = add(engine.store, api.url, numberResults=2)
        engine.wake()
        assert second_asked.wait(15), "the second result was never fetched"
        go_on.set()
        job = wait_for(lambda: (j := engine.store.get(uuid)) and not j.pending and j)
    assert job.status == "success" and [r.get("file") for r in job.results] == [f"{uuid}-0.mp4", f"{uuid}-1.mp4"]
    # Renewed when the first result was written: the second fetch has its whole lease again.
    assert lease_until["b.mp4"] >= lease_until["a.mp4"] + 0.5


def test_a_job_whose_answer_fails_to_apply_leaves_the_others_of_its_poll_free(make_engine):
    with runware(processing) as api:
        engine = make_engine(api.url, start=False, poll_max=5.0)
        bad, good = add(engine.store, api.url), add(engine.store, api.url)
        apply = engine._apply

        def failing_for_bad(job, update, client, recheck=False):
            if job.task_uuid == bad:
                raise RuntimeError("a bug while applying one job's answer")
            return apply(job, update, client, recheck)

        engine._apply = failing_for_bad
        engine.start()
        wait_for(lambda: {bad, good} in polls(api), 10, "one poll of both jobs")
        # Both are free again at once (not after the call lease, worst_case_seconds + 5 s, runs out).
        wait_for(lambda: all(engine.store.get(u).lease_owner is None for u in (bad, good)), 3, "both leases back")
        assert engine.store.get(bad).next_at > time.time()  # the failed one waits a little before the next try
