"""Shared fixtures: real servers on free loopback ports, never mocks of requests."""
from __future__ import annotations

import os
import socket
import uuid

import pytest

import lib.tracker
from lib.catalog import load_catalog
from lib.simulator.server import Simulator

TEST_KEY = "test-key-0123456789abcdefghij"

# Tests must never reach the real, paid API with a developer's key from .env or secrets: an empty
# key overrides .env, and the URL points at a closed loopback port. Tests that want API mode set
# both to a simulator of their own. (Subprocesses started by tests inherit this environment.)
os.environ["RUNWARE_API_KEY"] = ""
os.environ["RUNWARE_API_URL"] = "http://127.0.0.1:9/v1"


@pytest.fixture(autouse=True)
def _fresh_poll_coalescing():
    """Which (API URL, key) was polled when is process-wide; a reused port must not inherit it."""
    lib.tracker._last_poll.clear()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def catalog():
    return load_catalog()


@pytest.fixture
def simulator(tmp_path):
    """A simulator on a free port with a short task latency; faults via sim.faults.script(...)."""
    with Simulator(latency=0.3, media_dir=tmp_path / "sim-media") as sim:
        yield sim


def video_task(**overrides) -> dict:
    """A small valid videoInference task (runware:108@22 takes small sizes, so tests render fast)."""
    task = {"taskType": "videoInference", "taskUUID": str(uuid.uuid4()), "positivePrompt": "A test video",
            "model": "runware:108@22", "duration": 5, "width": 320, "height": 256, "fps": 8,
            "deliveryMethod": "async"}
    task.update(overrides)
    return {k: v for k, v in task.items() if v is not None}
