"""Catalog refresh: `python -m lib.catalog refresh`, or the Settings page's button (through the engine).

The bundled snapshot is only as new as the last `python -m lib.catalog_gen`; Runware adds models and
parameters more often. A refresh reads the curated model list from the content service
(`GET <content>/models`, paged) and each model's request schema from the schema service
(`GET <schema>/resolve/<AIR>`), checks every schema (a valid JSON Schema of one videoInference task for
that model), and keeps what passed in `<STUDIO_DATA_DIR>/catalog-cache.json`, written atomically. A bad
entry is skipped and reported, never fatal; if nothing usable arrives the cache is left as it was.

`catalog_for(settings)` is what the runtime loads: the bundled snapshot merged with a fresh cache (younger
than STUDIO_CATALOG_MAX_AGE), else the snapshot alone (offline, a stale cache, or a cache that is not
ours). Models the snapshot has keep its docs facts (sizes, prices, cross-field rules) and gain any
parameter the schema adds; a model the snapshot lacks is built from its schema alone, mapped to the same
attributes lib/catalog_gen.py gives the SDK's models. The raw schemas are cached, not the built
models, so a newer snapshot shipped with the app merges with an older cache the same way.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import requests
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from . import catalog_gen
from .catalog import CATALOG_PATH, Catalog, is_air, load_catalog

log = logging.getLogger("studio.catalog")

CACHE_NAME = "catalog-cache.json"
CACHE_VERSION = 1
# Bounds, so a misbehaving (or hostile) service cannot make a refresh run forever or fill memory.
PAGE_SIZE = 100
MAX_PAGES = 20
MAX_MODELS = 500
MAX_RESPONSE_BYTES = 4 * 2**20
FETCH_THREADS = 4
# Fields every task has; the validator handles them for every model (as lib/catalog_gen.py skips them).
PLATFORM = catalog_gen.PLATFORM
_JSON_KINDS = {bool: "boolean", int: "integer", float: "number", str: "string"}


class FetchError(Exception):
    pass


@dataclass
class RefreshReport:
    ok: bool
    message: str
    models: list[str] = field(default_factory=list)  # every model whose schema passed
    added: list[str] = field(default_factory=list)  # of those, the ones the bundled snapshot lacks
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (AIR or "list", why)
    fetched_at: float | None = None


# -- fetching ----------------------------------------------------------------------------------------------

def _get_json(url: str, *, timeout: tuple[float, float], params: dict | None = None):
    """GET a JSON document; None on 404 (an unknown model), FetchError on anything else unusable."""
    try:
        with requests.get(url, params=params, timeout=timeout, stream=True, allow_redirects=False,
                          headers={"Accept": "application/json"}) as r:
            if r.status_code == 404:
                return None
            if r.status_code != 200:
                raise FetchError(f"HTTP {r.status_code}")
            body = b""
            for chunk in r.iter_content(65536):
                body += chunk
                if len(body) > MAX_RESPONSE_BYTES:
                    raise FetchError("answer too large")
    except requests.RequestException as exc:
        raise FetchError(type(exc).__name__) from None
    try:
        return json.loads(body)
    except ValueError:
        raise FetchError("not JSON") from None


def _items(page) -> list:
    """The model list of one page: a JSON list, or under one of the usual keys of a paged answer."""
    if isinstance(page, list):
        return page
    if isinstance(page, dict):
        for key in ("data", "models", "items", "results"):
            if isinstance(page.get(key), list):
                return page[key]
    raise FetchError("the model list has an unexpected shape")


def _is_video(item: dict) -> bool:
    """Trust the list's own labels when it has them; the schema check decides the rest."""
    task_type = item.get("taskType")
    if isinstance(task_type, str):
        return task_type == "videoInference"
    category = item.get("category")
    return not isinstance(category, str) or "video" in category.lower()


def curated_models(content_url: str, timeout: tuple[float, float]) -> dict[str, dict]:
    """AIR -> {name?} for every video model of the curated list (all pages, within the bounds)."""
    out: dict[str, dict] = {}
    for page_no in range(MAX_PAGES):
        page = _get_json(f"{content_url}/models", timeout=timeout,
                         params={"category": "video", "limit": PAGE_SIZE, "offset": page_no * PAGE_SIZE})
        if page is None:
            raise FetchError("the model list is not there (404)")
        items = _items(page)
        for item in items:
            if not isinstance(item, dict):
                continue
            air = next((item[k] for k in ("air", "model", "id") if isinstance(item.get(k), str)), None)
            if air and is_air(air) and _is_video(item) and len(out) < MAX_MODELS:
                out[air] = {"name": item["name"]} if isinstance(item.get("name"), str) else {}
        more = page.get("hasMore") if isinstance(page, dict) else None
        if len(items) < PAGE_SIZE or more is False or len(out) >= MAX_MODELS:
            break
    return out


def resolve(schema_url: str, air: str, timeout: tuple[float, float]) -> dict | None:
    answer = _get_json(f"{schema_url}/resolve/{quote(air, safe='')}", timeout=timeout)
    if answer is not None and not isinstance(answer, dict):
        raise FetchError("the answer is not a JSON object")
    return answer


# -- checking and mapping -----------------------------------------------------------------------------------

def _allows(prop, value) -> bool | None:
    """Whether a property schema pins `value` (None when it pins nothing)."""
    if not isinstance(prop, dict):
        return None
    if "const" in prop:
        return prop["const"] == value
    if isinstance(prop.get("enum"), list):
        return value in prop["enum"]
    return None


def schema_problem(air: str, schema, *, full: bool = True) -> str | None:
    """Why this requestSchema cannot be used for `air` (None when it can). `full` checks it against the
    JSON Schema meta-schema too (tens of milliseconds each): done when fetched, not at every start."""
    if not isinstance(schema, dict):
        return "requestSchema is missing or not a JSON object"
    if full:
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            return f"requestSchema is not a valid JSON Schema: {exc.message[:200]}"
    if schema.get("type", "object") != "object":
        return "requestSchema does not describe a task object"
    props = schema.get("properties")
    if not isinstance(props, dict) or "taskType" not in props or "model" not in props:
        return "requestSchema lacks taskType or model"
    if _allows(props["taskType"], "videoInference") is False:
        return "not a videoInference model"
    if _allows(props["model"], air) is False:
        return "requestSchema is for another model"
    return None


def _kind(values: list):
    kinds = sorted({_JSON_KINDS.get(type(v), "string") for v in values})
    return kinds[0] if len(kinds) == 1 else kinds


def _field(prop, required: bool) -> dict | None:
    """{type?, enum?, required}, as the snapshot describes a field; None for a field the model refuses."""
    if prop is False or (isinstance(prop, dict) and prop.get("not") == {}):
        return None
    prop = prop if isinstance(prop, dict) else {}
    spec: dict = {"required": required}
    enum = prop.get("enum") if isinstance(prop.get("enum"), list) else (
        [prop["const"]] if "const" in prop else None)
    if isinstance(prop.get("type"), (str, list)):
        spec["type"] = prop["type"] if isinstance(prop["type"], str) else sorted(prop["type"])
    elif enum:
        spec["type"] = _kind(enum)
    if enum:
        spec["enum"] = enum
    return spec


def schema_fields(schema: dict) -> dict:
    required = set(schema.get("required") or [])
    out = {}
    for name, prop in schema.get("properties", {}).items():
        if name not in PLATFORM:
            spec = _field(prop, name in required)
            if spec is not None:
                out[name] = spec
    return out


def _bounds(prop) -> tuple | None:
    if isinstance(prop, dict) and isinstance(prop.get("minimum"), (int, float)) \
            and isinstance(prop.get("maximum"), (int, float)):
        return prop["minimum"], prop["maximum"]
    return None


def _slug(documentation) -> str | None:
    if isinstance(documentation, str) and documentation.startswith(("https://", "http://")):
        return documentation.rstrip("/").rsplit("/", 1)[-1] or None
    return None


def model_from_schema(air: str, entry: dict, defaults: dict, facts: dict, source: str) -> dict:
    """A snapshot-shaped entry for a model the snapshot lacks, from its requestSchema alone."""
    schema = entry["requestSchema"]
    fields = schema_fields(schema)
    slug = _slug(entry.get("documentation")) or air.replace(":", "-").replace("@", "-")
    raw = catalog_gen.model_from_sdk(air, {"slug": slug, "schemas_version": "refresh", "fields": fields},
                                     facts, defaults)
    props = schema.get("properties", {})
    inputs = props.get("inputs") if isinstance(props.get("inputs"), dict) else {}
    # What the schema states beats the generic defaults model_from_sdk falls back on.
    if not facts.get("inputs_required") and isinstance(inputs.get("required"), list):
        raw["inputs_required"] = [k for k in inputs["required"] if isinstance(k, str)]
        raw["capabilities"] = catalog_gen._capabilities(fields, {**facts, "inputs_required": raw["inputs_required"]})
    for name, key in (("duration", "duration_range"), ("fps", "fps_range")):
        if raw.get(key) and _bounds(props.get(name)):
            raw[key] = list(_bounds(props[name]))
    width = props.get("width")
    if raw.get("size_range") and _bounds(width):
        multiple = width.get("multipleOf")
        raw["size_range"] = {"min": int(width["minimum"]), "max": int(width["maximum"]),
                             "multiple": int(multiple) if isinstance(multiple, int) and multiple > 0 else 1}
    prompt = props.get("positivePrompt") if isinstance(props.get("positivePrompt"), dict) else {}
    for attr, key in (("prompt_min", "minLength"), ("prompt_max", "maxLength")):
        if isinstance(prompt.get(key), int):
            raw[attr] = prompt[key]
    cfg = props.get("CFGScale")
    if raw.get("cfg_scale") and _bounds(cfg):
        raw["cfg_scale"] = {"min": cfg["minimum"], "max": cfg["maximum"],
                            "default": cfg.get("default", raw["cfg_scale"]["default"])}
    raw["name"] = facts.get("name") or entry.get("name") or raw["name"]
    raw["docs"] = entry.get("documentation") if _slug(entry.get("documentation")) else None
    raw["origin"] = source
    raw["sources"] = {"shape": source, **({"facts": facts["source"]} if facts.get("source") else {})}
    return raw


def merge_known(raw: dict, entry: dict, source: str) -> dict:
    """A snapshot model keeps its facts; parameters its schema adds are accepted (never required here,
    as the snapshot's own required fields already are)."""
    fields = dict(raw.get("fields", {}))
    added = {n: {**s, "required": False} for n, s in schema_fields(entry["requestSchema"]).items()
             if n not in fields}
    if not added:
        return raw
    return {**raw, "fields": {**fields, **added},
            "sources": {**raw.get("sources", {}), "refresh": f"{source} added {', '.join(sorted(added))}"}}


def _buildable(raw: dict, generic: dict) -> None:
    """The app must be able to use the model: it makes a Model and the request schema the validator
    compiles (raises otherwise)."""
    from .catalog_schema import request_schema
    [model] = Catalog({"generic": generic, "models": [raw]})
    request_schema(model)


# -- the cache -----------------------------------------------------------------------------------------------

def cache_path(settings) -> Path:
    return Path(settings.data_dir) / CACHE_NAME


def write_cache(path: Path, data: dict) -> None:
    """Atomically: a reader sees the old cache or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".catalog-cache-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_cache(path: Path, max_age: float, now: float | None = None) -> dict | None:
    """The cache when it is ours, whole and fresh; None otherwise (the snapshot is used then)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not (isinstance(data, dict) and data.get("version") == CACHE_VERSION
            and isinstance(data.get("fetched_at"), (int, float)) and isinstance(data.get("entries"), dict)):
        log.warning("ignoring %s: not a catalog cache this version can read", path)
        return None
    age = (time.time() if now is None else now) - data["fetched_at"]
    return data if 0 <= age <= max_age else None


def _snapshot_data() -> dict:
    with open(CATALOG_PATH, encoding="utf-8") as f:
        return json.load(f)


def _facts() -> dict:
    with open(catalog_gen.FACTS_PATH, "rb") as f:
        return tomllib.load(f)


def merged_data(snapshot: dict, cache: dict, facts: dict | None = None) -> tuple[dict, list[str], list[tuple[str, str]]]:
    """(catalog data, AIRs added, entries skipped): the snapshot with the cache's schemas applied."""
    facts = facts or _facts()
    source = f"{cache.get('schema_url', 'schema service')}/resolve (refreshed {_when(cache['fetched_at'])})"
    models = {m["air"]: m for m in snapshot["models"]}
    order = list(models)
    added, skipped = [], []
    for air, entry in cache["entries"].items():
        try:
            # Entries were fully checked when fetched; here only what merging relies on.
            problem = schema_problem(air, entry.get("requestSchema"), full=False) \
                if isinstance(entry, dict) and is_air(air) else "not a model entry"
            if problem:
                skipped.append((air, problem))
                continue
            if air in models:
                raw = merge_known(models[air], entry, source)
            else:
                raw = model_from_schema(air, entry, facts["defaults"], facts.get("model", {}).get(air, {}), source)
                added.append(air)
                order.append(air)
            _buildable(raw, snapshot["generic"])
            models[air] = raw
        except Exception as exc:  # one odd schema must not cost the others (nor the app its catalog)
            skipped.append((air, f"cannot be used: {type(exc).__name__}"))
            if air in added:
                added.remove(air)
                order.remove(air)
    data = {**snapshot, "models": [models[a] for a in order]}
    data["generated_from"] = {**snapshot.get("generated_from", {}),
                              "refreshed": {"at": cache["fetched_at"], "schema_url": cache.get("schema_url"),
                                            "content_url": cache.get("content_url"), "models": len(cache["entries"]),
                                            "added": len(added)}}
    return data, added, skipped


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(ts))


def catalog_for(settings, *, now: float | None = None) -> Catalog:
    """The catalog the app uses: a fresh cache merged over the snapshot, else the snapshot."""
    cache = read_cache(cache_path(settings), settings.catalog_max_age, now)
    if cache is None:
        return load_catalog()
    try:
        data, _, skipped = merged_data(_snapshot_data(), cache)
    except Exception:  # a cache we cannot merge is a bad cache: the snapshot still works
        log.warning("ignoring the catalog cache: it cannot be merged", exc_info=True)
        return load_catalog()
    for air, why in skipped:
        log.info("catalog cache: skipped %s (%s)", air, why)
    _forget_compiled_validators()
    return Catalog(data)


def _forget_compiled_validators() -> None:
    # lib/catalog_schema caches one compiled validator per AIR; a refreshed model may take new fields.
    from . import catalog_schema
    catalog_schema._validators.clear()


# -- the refresh ---------------------------------------------------------------------------------------------

def refresh(settings, *, now: float | None = None) -> RefreshReport:
    """Fetch, check and cache. Never raises for anything the services answer."""
    timeout = (settings.connect_timeout, settings.read_timeout)
    try:
        listed = curated_models(settings.content_url, timeout)
    except FetchError as exc:
        return RefreshReport(False, f"The model list at {settings.content_url} could not be read ({exc}); "
                                    "the catalog in use is kept.", skipped=[("list", str(exc))])
    if not listed:
        return RefreshReport(False, "The model list has no video models; the catalog in use is kept.")

    def one(air: str):
        try:
            return air, resolve(settings.schema_url, air, timeout), None
        except FetchError as exc:
            return air, None, f"schema could not be read ({exc})"

    entries, skipped = {}, []
    with ThreadPoolExecutor(FETCH_THREADS, thread_name_prefix="catalog-refresh") as pool:
        for air, answer, error in pool.map(one, sorted(listed)):
            if error or answer is None:
                skipped.append((air, error or "the schema service does not know it (404)"))
                continue
            problem = schema_problem(air, answer.get("requestSchema"))
            if problem:
                skipped.append((air, problem))
                continue
            doc = answer.get("documentation")
            entries[air] = {**listed[air], "requestSchema": answer["requestSchema"],
                            **({"documentation": doc} if isinstance(doc, str) else {})}
    fetched_at = time.time() if now is None else now
    cache = {"version": CACHE_VERSION, "fetched_at": fetched_at, "schema_url": settings.schema_url,
             "content_url": settings.content_url, "entries": entries, "skipped": skipped}
    try:
        _, added, unusable = merged_data(_snapshot_data(), cache)
    except Exception as exc:
        return RefreshReport(False, f"The refreshed catalog cannot be used ({type(exc).__name__}); "
                                    "the catalog in use is kept.", skipped=skipped)
    for air, why in unusable:
        entries.pop(air, None)
    skipped += unusable
    if not entries:
        return RefreshReport(False, "No usable model schema arrived; the catalog in use is kept.", skipped=skipped)
    write_cache(cache_path(settings), {**cache, "skipped": skipped})
    message = (f"{len(entries)} models refreshed ({len(added)} new)"
               + (f"; {len(skipped)} skipped" if skipped else "") + ".")
    return RefreshReport(True, message, sorted(entries), sorted(a for a in added if a in entries), skipped,
                         fetched_at)


# -- command line --------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    from .settings import SettingsError, load_settings
    parser = argparse.ArgumentParser(prog="python -m lib.catalog",
                                     description="The model catalog. `refresh` fetches the newest model "
                                                 "schemas into <STUDIO_DATA_DIR>/" + CACHE_NAME + ".")
    parser.add_argument("command", choices=["refresh"])
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"configuration problem: {exc}", file=sys.stderr)
        return 2
    if args.command == "refresh":
        report = refresh(settings)
        print(report.message)
        for air, why in report.skipped:
            print(f"  skipped {air}: {why}")
        if report.ok:
            print(f"  -> {cache_path(settings)}")
        return 0 if report.ok else 1
    return 2
