"""The webhook route Runware calls when a result is ready: POST /webhooks/runware/<token>.

The body is never trusted for the result: it only names tasks, which are marked "poll now" in the
store; whichever engine holds the job then asks getResponse, so a forged webhook can change nothing
but the moment of a poll. Unknown tasks and duplicates change nothing; a wrong token gets 404.
"""
from __future__ import annotations

import hmac
import json
import logging
from typing import Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from .runtime import WEBHOOK_PREFIX, Runtime

log = logging.getLogger("studio.webhooks")
MAX_BODY_BYTES = 1 << 20
MAX_TASKS = 100


def task_uuids(body: bytes) -> list[str]:
    """The taskUUIDs a webhook body names: a bare result object, or {"data": [...]}; nothing else."""
    try:
        payload = json.loads(body)
    except ValueError:
        return []
    items = payload.get("data") if isinstance(payload, dict) and isinstance(payload.get("data"), list) else [payload]
    found = []
    for item in items[:MAX_TASKS]:
        uuid = item.get("taskUUID") if isinstance(item, dict) else None
        if isinstance(uuid, str) and 0 < len(uuid) <= 64 and uuid not in found:
            found.append(uuid)
    return found


def webhook_routes(runtime_of: Callable[[], Runtime | None]) -> list[Route]:
    async def endpoint(request: Request) -> Response:
        runtime = runtime_of()
        token = runtime.webhook_token if runtime else None
        if not token or not hmac.compare_digest(request.path_params["token"].encode(), token.encode()):
            return PlainTextResponse("Not found", status_code=404)
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                return PlainTextResponse("Too large", status_code=413)
        woken = await run_in_threadpool(runtime.store.wake, task_uuids(body))
        if woken:
            runtime.engine.wake()
        log.debug("webhook named tasks; %d to poll now", woken)
        return PlainTextResponse("ok")

    return [Route(WEBHOOK_PREFIX + "/{token}", endpoint, methods=["POST"])]
