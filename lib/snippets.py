"""Copy as code: a job's task as runnable Python (requests), cURL (sh) and official-SDK snippets.

Every snippet reads the key from RUNWARE_API_KEY (a snippet is text people paste into chats and
tickets, so it must never hold the key), posts to RUNWARE_API_URL (default: the API the studio uses),
makes a fresh taskUUID on every run (Runware refuses a repeated one with conflictTaskUUID), then polls
getResponse until every video is done and prints the video URLs.

What is left out of the task: its taskUUID, and a webhookURL pointing at this studio (the studio's own
webhook carries its secret token, and a copied run would deliver results into someone else's app).
Inline images stay inline (data URIs) up to INLINE_IMAGE_LIMIT; a bigger one is replaced by a
placeholder saying what to put there, so the snippet stays pasteable.
"""
from __future__ import annotations

import json

REAL_API_URL = "https://api.runware.ai/v1"
INLINE_IMAGE_LIMIT = 100_000  # characters of one data URI kept in a snippet
PLACEHOLDER = "<IMAGE TOO LARGE TO INCLUDE ({kb} KB): put a URL, an imageUUID or a data URI here>"
_UUID_MARK = "__RUNWARE_NEW_TASK_UUID__"
POLL_SECONDS = 3  # what the official SDK uses for REST polling; RUNWARE_POLL_SECONDS overrides


def clean_task(task: dict, public_url: str = "") -> dict:
    """The task as a snippet sends it: no taskUUID, no studio webhook, big inline images replaced."""
    out = {k: _shrink(v) for k, v in task.items() if k != "taskUUID"}
    hook = out.get("webhookURL")
    if public_url and isinstance(hook, str) and hook.startswith(public_url.rstrip("/")):
        del out["webhookURL"]
    return out


def _shrink(value):
    if isinstance(value, dict):
        return {k: _shrink(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shrink(v) for v in value]
    if isinstance(value, str) and value.startswith("data:") and len(value) > INLINE_IMAGE_LIMIT:
        return PLACEHOLDER.format(kb=len(value) // 1000)
    return value


def api_url_for(settings, demo: bool) -> str:
    """Where a snippet posts: the configured API, or the real one in demo mode (the bundled simulator
    is on this machine's loopback; a snippet is meant to run anywhere)."""
    return REAL_API_URL if demo else settings.api_url


def for_task(task: dict, api_url: str, *, public_url: str = "") -> dict[str, str]:
    """{"python": ..., "curl": ..., "sdk": ...} for `task` (a stored job's task)."""
    clean = clean_task(task, public_url)
    results = int(clean.get("numberResults") or 1)
    body = json.dumps(clean, indent=2, ensure_ascii=False)
    return {"python": _python(body, api_url, results), "curl": _curl(clean, api_url, results),
            "sdk": _sdk(body, api_url)}


def _py_text(body: str) -> str:
    # A raw triple-quoted string holds JSON safely: JSON escapes every `"` inside strings (`\"` never
    # ends a raw string) and ends with `}`, never with a backslash.
    return 'r"""' + body + '"""'


def _python(body: str, api_url: str, results: int) -> str:
    return f'''# Runs this job again on Runware with Python and requests (pip install requests).
import json
import os
import sys
import time
import uuid

import requests

API_URL = os.environ.get("RUNWARE_API_URL", {api_url!r})
HEADERS = {{"Authorization": "Bearer " + os.environ["RUNWARE_API_KEY"]}}
POLL_SECONDS = float(os.environ.get("RUNWARE_POLL_SECONDS", "{POLL_SECONDS}"))

task = json.loads({_py_text(body)})
task["taskUUID"] = str(uuid.uuid4())  # a fresh id: Runware refuses one it has seen


def post(tasks):
    answer = requests.post(API_URL, headers=HEADERS, json=tasks, timeout=60)
    body = answer.json()
    if body.get("errors"):
        sys.exit("Runware said: " + json.dumps(body["errors"]))
    answer.raise_for_status()
    return body.get("data", [])


post([task])
videos = {{}}
while len(videos) < {results}:
    time.sleep(POLL_SECONDS)
    for item in post([{{"taskType": "getResponse", "taskUUID": task["taskUUID"]}}]):
        if item.get("status") == "success" and item.get("videoURL"):
            videos[item.get("videoUUID") or item["videoURL"]] = item["videoURL"]
for url in videos.values():
    print(url)
'''


def _curl(clean: dict, api_url: str, results: int) -> str:
    # The body goes through a quoted heredoc (nothing in it is expanded by the shell) and sed puts
    # the fresh taskUUID in; curl reads it from stdin, so a large body never hits the argument limit.
    body = json.dumps([{**clean, "taskUUID": _UUID_MARK}], indent=2, ensure_ascii=False)
    parse = ("import json, sys; a = json.load(sys.stdin); "
             "errors = a.get(\"errors\"); "
             "print(\"ERROR \" + json.dumps(errors)) if errors else None; "
             "[print(i[\"videoURL\"]) for i in a.get(\"data\", []) "
             "if i.get(\"status\") == \"success\" and i.get(\"videoURL\")]")
    return f'''#!/bin/sh
# Runs this job again on Runware with curl (python3 reads the JSON answers).
set -eu
API_URL="${{RUNWARE_API_URL:-{api_url}}}"
: "${{RUNWARE_API_KEY:?set RUNWARE_API_KEY to your Runware API key}}"
TASK_UUID=$(python3 -c 'import uuid; print(uuid.uuid4())')  # a fresh id: Runware refuses one it has seen

sed "s/{_UUID_MARK}/$TASK_UUID/" <<'RUNWARE_TASK' |
{body}
RUNWARE_TASK
curl -sS "$API_URL" -H "Authorization: Bearer $RUNWARE_API_KEY" -H "Content-Type: application/json" \\
  --data-binary @- >/dev/null

VIDEOS=""
while [ "$(printf '%s' "$VIDEOS" | grep -c .)" -lt {results} ]; do
  sleep "${{RUNWARE_POLL_SECONDS:-{POLL_SECONDS}}}"
  ANSWER=$(printf '[{{"taskType": "getResponse", "taskUUID": "%s"}}]' "$TASK_UUID" |
    curl -sS "$API_URL" -H "Authorization: Bearer $RUNWARE_API_KEY" -H "Content-Type: application/json" \\
      --data-binary @-)
  FOUND=$(printf '%s' "$ANSWER" | python3 -c '{parse}')
  case "$FOUND" in ERROR*) echo "Runware said: $FOUND" >&2; exit 1 ;; esac
  VIDEOS=$(printf '%s\\n%s\\n' "$VIDEOS" "$FOUND" | grep . | sort -u || true)
done
printf '%s\\n' "$VIDEOS"
'''


def _sdk(body: str, api_url: str) -> str:
    # Checked against the runware-sdk 1.8.0 wheel: Runware(api_key=..., transport="rest",
    # http_base_url=...) and `await client.run(params)`, which submits with deliveryMethod "async",
    # makes a taskUUID when none is given, polls getResponse and returns the result items. An explicit
    # taskType skips the SDK's model registry lookup. Run by hand against the simulator with runware-sdk
    # 1.8.0 installed (it printed the video URL); not in the test suite: the SDK is not a dependency.
    return f'''# Runs this job again with the official SDK (pip install runware-sdk==1.8.0).
import asyncio
import json
import os

from runware import Runware

task = json.loads({_py_text(body)})
# No taskUUID: the SDK makes a fresh one for every run.


async def main():
    async with Runware(api_key=os.environ["RUNWARE_API_KEY"], transport="rest",
                       http_base_url=os.environ.get("RUNWARE_API_URL", {api_url!r})) as client:
        results = await client.run(task)  # submits, then polls getResponse until done
    for item in results:
        print(item.get("videoURL"))


asyncio.run(main())
'''
