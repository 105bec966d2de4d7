"""Catalog refresh over real HTTP: the simulator's /models and /resolve (or a stand-in for answers the
simulator never gives), a closed port for offline, and the cache the app loads at start."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from conftest import StandIn, free_port
from lib import catalog_refresh as cr
from lib.catalog import CATALOG_PATH, Catalog
from lib.runtime import Runtime
from lib.settings import load_settings
from lib.simulator.server import Simulator
from lib.validation import validate_task
from test_pages import click, data_dir, open_page, unescape  # noqa: F401  (data_dir is a fixture)

REPO = Path(__file__).resolve().parents[1]
NEW_AIR = "acme:newvid@1"
KNOWN = ("runware:108@22", "alibaba:happyhorse@1.0")


def small_catalog() -> Catalog:
    """Two snapshot models plus one Runware "added" since: a simulator with few models refreshes fast."""
    data = json.loads(CATALOG_PATH.read_text(encoding="utf-8"))
    models = {m["air"]: m for m in data["models"]}
    new = {**models["alibaba:happyhorse@1.0"], "air": NEW_AIR, "name": "Acme NewVid", "slug": "acme-newvid-1",
           "docs": "https://runware.ai/docs/models/acme-newvid-1", "resolutions": ["480p", "720p"],
           "duration_range": [2, 12], "prompt_max": 1500,
           "fields": {**models["alibaba:happyhorse@1.0"]["fields"],
                      "resolution": {"type": "string", "enum": ["480p", "720p"], "required": False}}}
    return Catalog({**data, "models": [models[a] for a in KNOWN] + [new]})


@pytest.fixture
def sim(tmp_path):
    with Simulator(latency=0.3, media_dir=tmp_path / "sim", catalog=small_catalog()) as s:
        yield s


def settings_for(tmp_path, base_url: str, **env):
    return load_settings(environ={"STUDIO_DATA_DIR": str(tmp_path / "data"), "STUDIO_SCHEMA_URL": base_url,
                                  "STUDIO_CONTENT_URL": base_url, "RUNWARE_API_URL": "http://127.0.0.1:9/v1",
                                  **env}, dotenv_path=None)


def closed_url() -> str:
    return f"http://127.0.0.1:{free_port()}"


def task(model: str, **fields) -> dict:
    return {"taskType": "videoInference", "taskUUID": str(uuid.uuid4()), "model": model,
            "positivePrompt": "A lighthouse at dusk", **fields}


# -- refresh over HTTP ----------------------------------------------------------------------------------------

def test_refresh_reads_the_simulators_list_and_schemas_into_the_cache(tmp_path, sim):
    settings = settings_for(tmp_path, sim.base_url)
    report = cr.refresh(settings)
    assert report.ok, report.message
    assert report.models == sorted([*KNOWN, NEW_AIR]) and report.added == [NEW_AIR] and not report.skipped
    cache = json.loads(cr.cache_path(settings).read_text())
    assert set(cache["entries"]) == {*KNOWN, NEW_AIR}
    assert cache["entries"][NEW_AIR]["requestSchema"]["properties"]["model"] == {"const": NEW_AIR}


def test_a_refreshed_model_the_snapshot_lacks_takes_its_schemas_rules(tmp_path, sim):
    settings = settings_for(tmp_path, sim.base_url)
    assert cr.refresh(settings).ok
    catalog = cr.catalog_for(settings)
    model = catalog.get(NEW_AIR)
    assert catalog.known(NEW_AIR) and not model.custom and model.name == "Acme NewVid"
    assert model.resolutions == ("480p", "720p") and model.shape == "inputs"
    assert (model.duration_range.min, model.duration_range.max) == (2, 12) and model.prompt_max == 1500
    assert validate_task(task(NEW_AIR, resolution="720p", duration=5), catalog) == []
    refused = validate_task(task(NEW_AIR, resolution="1080p", duration=20), catalog)
    assert {p["parameter"] for p in refused} == {"resolution", "duration"}, refused


def test_snapshot_models_keep_their_facts_after_a_refresh(tmp_path, sim):
    settings = settings_for(tmp_path, sim.base_url)
    assert cr.refresh(settings).ok
    bundled, refreshed = Catalog(json.loads(CATALOG_PATH.read_text())), cr.catalog_for(settings)
    assert len(refreshed.models) == len(bundled.models) + 1
    assert refreshed.get("runware:108@22") == bundled.get("runware:108@22")


def test_the_command_line_refreshes(tmp_path, sim):
    env = {**os.environ, "STUDIO_DATA_DIR": str(tmp_path / "data"), "STUDIO_SCHEMA_URL": sim.base_url,
           "STUDIO_CONTENT_URL": sim.base_url}
    done = subprocess.run([sys.executable, "-m", "lib.catalog", "refresh"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "3 models refreshed (1 new)" in done.stdout
    assert (tmp_path / "data" / cr.CACHE_NAME).is_file()


def test_the_runtime_uses_the_refreshed_catalog(tmp_path, sim):
    runtime = Runtime(settings_for(tmp_path, sim.base_url), demo_latency=0.3).start()
    try:
        assert not runtime.catalog.known(NEW_AIR)
        report = runtime.refresh_catalog().result(timeout=30)
        assert report.ok and runtime.catalog.known(NEW_AIR)
        # The demo simulator plays Runware, which knows the refreshed models too.
        assert runtime.demo.simulator.engine.catalog.known(NEW_AIR)
    finally:
        runtime.stop()


# -- offline and bad answers ----------------------------------------------------------------------------------

def test_offline_keeps_the_bundled_snapshot(tmp_path):
    settings = settings_for(tmp_path, closed_url())
    report = cr.refresh(settings)
    assert not report.ok and "could not be read" in report.message
    assert not cr.cache_path(settings).exists()
    assert "refreshed" not in cr.catalog_for(settings).generated_from


def test_a_failed_refresh_leaves_the_last_good_cache(tmp_path, sim):
    good = settings_for(tmp_path, sim.base_url)
    assert cr.refresh(good).ok
    before = cr.cache_path(good).read_bytes()
    assert not cr.refresh(settings_for(tmp_path, closed_url())).ok
    assert cr.cache_path(good).read_bytes() == before
    assert cr.catalog_for(good).known(NEW_AIR)


def _schema(air: str, task_type: str = "videoInference", **props) -> dict:
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "required": ["taskType"],
            "properties": {"taskType": {"const": task_type}, "model": {"const": air},
                           "positivePrompt": {"type": "string"}, **props}}


BAD = {
    "acme:good@1": {"requestSchema": _schema("acme:good@1", duration={"type": "integer", "enum": [4, 8]})},
    "acme:broken@1": {"requestSchema": {"type": 12, "properties": {}}},
    "acme:image@1": {"requestSchema": _schema("acme:image@1", "imageInference")},
    "acme:bare@1": {"requestSchema": {"type": "object", "properties": {"prompt": {"type": "string"}}}},
    "acme:notjson@1": "not an object",
}


def stand_in(method, path, body, n):
    if path.startswith("/models"):
        items = [{"air": a, "name": a} for a in [*BAD, "acme:unknown@1"]]
        return 200, "application/json", json.dumps({"data": items, "hasMore": False}).encode()
    air = path.rsplit("/", 1)[-1].replace("%3A", ":").replace("%40", "@")
    if air not in BAD:
        return 404, "application/json", b'{"error": "unknown model"}'
    return 200, "application/json", json.dumps(BAD[air]).encode()


def test_bad_schemas_are_skipped_and_reported(tmp_path):
    with StandIn(stand_in) as server:
        settings = settings_for(tmp_path, server.url)
        report = cr.refresh(settings)
    assert report.ok and report.models == ["acme:good@1"]
    reasons = dict(report.skipped)
    assert set(reasons) == set(BAD) - {"acme:good@1"} | {"acme:unknown@1"}
    assert "not a valid JSON Schema" in reasons["acme:broken@1"]
    assert reasons["acme:image@1"] == "not a videoInference model"
    assert reasons["acme:bare@1"] == "requestSchema lacks taskType or model"
    assert "404" in reasons["acme:unknown@1"]
    model = cr.catalog_for(settings).get("acme:good@1")
    assert not model.custom and model.durations == (4, 8)


def test_a_stale_cache_is_ignored(tmp_path, sim):
    settings = settings_for(tmp_path, sim.base_url, STUDIO_CATALOG_MAX_AGE="60")
    report = cr.refresh(settings)
    assert cr.catalog_for(settings, now=report.fetched_at + 30).known(NEW_AIR)
    assert not cr.catalog_for(settings, now=report.fetched_at + 61).known(NEW_AIR)


@pytest.mark.parametrize("content", [b"{not json", b'{"version": 99, "fetched_at": 0, "entries": {}}', b"[]"])
def test_a_cache_that_is_not_ours_falls_back_to_the_snapshot(tmp_path, content):
    settings = settings_for(tmp_path, closed_url())
    cr.cache_path(settings).parent.mkdir(parents=True)
    cr.cache_path(settings).write_bytes(content)
    catalog = cr.catalog_for(settings)
    assert "refreshed" not in catalog.generated_from and catalog.known("runware:108@22")


# -- the Settings page ---------------------------------------------------------------------------------------

def test_the_settings_button_refreshes_the_catalog_in_use(data_dir, monkeypatch, sim):
    monkeypatch.setenv("STUDIO_SCHEMA_URL", sim.base_url)
    monkeypatch.setenv("STUDIO_CONTENT_URL", sim.base_url)
    at = open_page("pages/settings.py")
    assert any(unescape(m.value).startswith("102 models · bundled snapshot") for m in at.markdown)
    click(at, "Refresh models catalog")
    assert [unescape(s.value) for s in at.success] == ["3 models refreshed (1 new)."]
    assert any(unescape(m.value).startswith("103 models · refreshed") for m in at.markdown)
