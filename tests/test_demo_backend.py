"""Demo processes that share a data folder never poll each other's simulators (issue 12, item 8)."""
from __future__ import annotations

import requests

from lib.demo import DEMO_LABEL, DemoBackend


def test_two_demo_backends_on_one_folder_file_jobs_apart(tmp_path):
    first, second = DemoBackend(tmp_path, latency=0.1).start(), DemoBackend(tmp_path, latency=0.1).start()
    try:
        assert first.label == DEMO_LABEL  # the first release's label: earlier demo jobs keep working
        assert second.label != first.label and second.url != first.url
        assert first.simulator.engine.media_dir != second.simulator.engine.media_dir
    finally:
        first.stop()
        second.stop()


def test_a_restarted_demo_backend_takes_its_slot_again(tmp_path):
    first = DemoBackend(tmp_path).start()
    label = first.label
    first.stop()
    again = DemoBackend(tmp_path).start()
    try:
        assert again.label == label
    finally:
        again.stop()


def test_the_embedded_simulator_has_no_fault_switch(tmp_path):
    backend = DemoBackend(tmp_path).start()
    try:
        reply = requests.post(backend.url.replace("/v1", "") + "/_sim/faults", json={"http_429_rate": 1}, timeout=5)
        assert reply.status_code in (403, 404)
    finally:
        backend.stop()
