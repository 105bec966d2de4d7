"""Regenerate lib/catalog_snapshot.json: `python -m lib.catalog_gen [--wheel PATH]`.

Reads the per-model request types that the pinned official SDK `runware-sdk` generates from Runware's
schemas (runware/types/task_map.py), then adds what the types lack from lib/catalog_facts.toml, and the
studio's first 9 models from lib/catalog.toml. The SDK is fetched with `pip download` into a temporary
folder and read as text (never imported, never vendored): it is a build input, not a dependency.
"""
from __future__ import annotations

import argparse
import ast
import json
import re
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

SDK = "runware-sdk"
SDK_VERSION = "1.8.0"
HERE = Path(__file__).parent
FACTS_PATH = HERE / "catalog_facts.toml"
LEGACY_PATH = HERE / "catalog.toml"
SNAPSHOT_PATH = HERE / "catalog_snapshot.json"
TASK_MAP = "runware/types/task_map.py"
SDK_SOURCE = f"{SDK} {SDK_VERSION} runware/types/task_map.py"
SPEC_SOURCE = "integration document (shared/spec/runware-video-api.md)"
# Fields every task has; the page and the validator handle them the same for every model.
PLATFORM = {"taskType", "taskUUID", "model", "webhookURL", "includeCost", "routing", "numberResults",
            "uploadEndpoint", "ttl", "outputType", "outputFormat", "outputQuality", "deliveryMethod"}


def fetch_task_map(wheel: str | None) -> tuple[str, str]:
    """(task_map.py text, wheel file name) of the pinned SDK."""
    if wheel is None:
        tmp = tempfile.mkdtemp(prefix="runware-sdk-")
        subprocess.run([sys.executable, "-m", "pip", "download", f"{SDK}=={SDK_VERSION}", "--no-deps",
                        "--only-binary", ":all:", "-q", "-d", tmp], check=True)
        wheel = str(next(Path(tmp).glob("*.whl")))
    with zipfile.ZipFile(wheel) as zf:
        return zf.read(TASK_MAP).decode("utf-8"), Path(wheel).name


def _literal_values(node: ast.expr) -> list | None:
    if isinstance(node, ast.Subscript) and getattr(node.value, "id", None) == "Literal":
        elts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        return [e.value for e in elts]
    return None


_JSON_TYPES = {"int": "integer", "float": "number", "str": "string", "bool": "boolean",
               "dict": "object", "list": "array"}


def _field(annotation: ast.expr) -> dict:
    """JSON-Schema-like description of one annotated field: type, enum, required."""
    required = True
    if isinstance(annotation, ast.Subscript) and getattr(annotation.value, "id", None) == "NotRequired":
        required, annotation = False, annotation.slice
    spec: dict = {"required": required}
    values = _literal_values(annotation)
    if values is not None:
        spec["enum"] = values
        kinds = {type(v).__name__ for v in values}
        spec["type"] = _JSON_TYPES[kinds.pop()] if len(kinds) == 1 else sorted(_JSON_TYPES[k] for k in kinds)
        return spec
    if isinstance(annotation, ast.BinOp):  # int | str
        spec["type"] = sorted(_JSON_TYPES[ast.unparse(side).split("[")[0]] for side in (annotation.left, annotation.right))
        return spec
    spec["type"] = _JSON_TYPES[ast.unparse(annotation).split("[")[0]]
    return spec


def parse_video_types(source: str) -> dict[str, dict]:
    """AIR -> {slug, fields} for every curated videoInference model in task_map.py."""
    version = re.search(r'SCHEMAS_VERSION = "(\d+)"', source).group(1)
    out = {}
    for node in ast.parse(source).body:
        if not (isinstance(node, ast.ClassDef) and node.name.endswith("Params")):
            continue
        fields = {st.target.id: st.annotation for st in node.body if isinstance(st, ast.AnnAssign)}
        if _literal_values(fields.get("taskType", ast.Constant(None))) != ["videoInference"]:
            continue
        air = _literal_values(fields["model"])
        if air is None:  # the loose modality type, not a model
            continue
        slug = re.search(r"\(slug: ([^)]+)\)", ast.get_docstring(node)).group(1)
        out[air[0]] = {"slug": slug, "schemas_version": version,
                       "fields": {k: _field(v) for k, v in fields.items() if k not in PLATFORM}}
    return out


def _title(slug: str) -> str:
    return " ".join(w.upper() if len(w) <= 2 and not w.isdigit() else w.capitalize() for w in slug.split("-"))


def _capabilities(fields: dict, facts: dict) -> list[str]:
    if "capabilities" in facts:
        return list(facts["capabilities"])
    caps = []
    needs = set(facts.get("inputs_required", []))
    if "positivePrompt" in fields and not needs:
        caps.append("text-to-video")
    if "inputs" in fields and not needs - {"frameImages"}:
        caps.append("image-to-video")
    if facts.get("audio"):
        caps.append("audio")
    return caps


def model_from_sdk(air: str, sdk: dict, facts: dict, defaults: dict) -> dict:
    fields = sdk["fields"]
    provider = air.split(":", 1)[0]
    sources = {"shape": f"{SDK_SOURCE} (schemas {sdk['schemas_version']})"}
    if facts.get("source"):
        sources["facts"] = facts["source"]
    sources.update(facts.get("sources", {}))
    if "inputs_required" in facts and "inputs_required" not in sources:
        sources["inputs_required"] = ("types mark `inputs` as required; which inputs is inferred from the "
                                      "model's kind (avatar, lip-sync, edit, image-to-video)")
    cfg = None
    if "CFGScale" in fields:
        cfg = defaults["kling_cfg_scale"] if provider == "klingai" else defaults["cfg_scale"]
        sources["cfg_scale"] = "runware-api-facts.md (CFGScale 0-50 globally, Kling 0-1)"
    duration = fields.get("duration", {})
    fps = fields.get("fps", {})
    prompt_max = facts.get("prompt_max", defaults["provider_prompt_max"].get(provider, defaults["prompt_max"]))
    return {
        "air": air,
        "name": facts.get("name") or _title(sdk["slug"]),
        "provider": provider,
        "slug": sdk["slug"],
        "origin": f"{SDK} {SDK_VERSION}",
        "shape": "inputs",
        "fields": fields,
        "inputs_required": facts.get("inputs_required", []),
        "capabilities": _capabilities(fields, facts),
        "sizes": facts.get("sizes", []),
        "size_range": None if facts.get("sizes") or "width" not in fields else defaults["size_range"],
        "size_durations": facts.get("size_durations", {}),
        "resolutions": fields.get("resolution", {}).get("enum", []),
        "resolution_sizes": facts.get("resolution_sizes", {}),
        "durations": facts.get("durations") or [v for v in duration.get("enum", []) if isinstance(v, int)],
        "duration_range": None if facts.get("durations") or duration.get("enum") or not duration else defaults["duration_range"],
        "fps": facts.get("fps") or fps.get("enum", []),
        "fps_range": None if fps.get("enum") or not fps else defaults["fps_range"],
        "cfg_scale": cfg,
        "frame_images": facts.get("frame_images", ["first", "last"] if "inputs" in fields else []),
        "prompt_min": defaults["prompt_min"],
        "prompt_max": prompt_max,
        "audio": facts.get("audio"),
        "settings_field": "settings" if "settings" in fields else "providerSettings" if "providerSettings" in fields else None,
        "price_per_second_usd": facts.get("price_per_second_usd"),
        "prices": facts.get("prices", []),
        "rules": facts.get("rules", []),
        "docs": defaults["docs_base"] + sdk["slug"],
        "docs_facts": bool(facts.get("source")),
        "sources": sources,
    }


def _legacy_fields(raw: dict) -> dict:
    """The older request shape of the first catalog: top-level frameImages and referenceImages."""
    fields = {
        "positivePrompt": {"type": "string", "required": True},
        "width": {"type": "integer", "required": False},
        "height": {"type": "integer", "required": False},
        "duration": {"type": "number", "required": False},
        "fps": {"type": "integer", "required": False},
        "frameImages": {"type": "array", "required": False},
        "referenceImages": {"type": "array", "required": False},
        "providerSettings": {"type": "object", "required": False},
        "advancedFeatures": {"type": "object", "required": False},
    }
    if raw.get("seed"):
        fields["seed"] = {"type": "integer", "required": False}
    if raw.get("negative_prompt"):
        fields["negativePrompt"] = {"type": "string", "required": False}
    if raw.get("cfg_scale"):
        fields["CFGScale"] = {"type": "number", "required": False}
    return fields


def model_from_legacy(raw: dict, generic: dict, sdk: dict | None, facts: dict, defaults: dict) -> dict:
    """One of the first 9 models: its hand-kept facts stay as they were; where the SDK also lists it,
    the newer fields (inputs, resolution, safety, ...) are accepted beside the older ones."""
    fields = _legacy_fields(raw)
    sources = {"facts": "lib/catalog.toml: " + raw.get("source", "")}
    if raw["air"] == "runware:108@22":
        sources["facts"] = (f"{SPEC_SOURCE}; Runware's registry lists this AIR as an image model, so the "
                            "studio keeps it only as the integration document describes it")
    if sdk:
        for name, spec in sdk["fields"].items():
            fields.setdefault(name, {**spec, "required": False})
        sources["shape"] = f"lib/catalog.toml and {SDK_SOURCE} (schemas {sdk['schemas_version']})"
    if facts.get("source"):
        sources["docs"] = facts["source"]
    modes = raw.get("modes", ["text-to-video", "image-to-video"])
    cfg = raw.get("cfg_scale")
    return {
        "air": raw["air"],
        "name": raw.get("name", raw["air"]),
        "provider": raw["air"].split(":", 1)[0],
        "slug": sdk["slug"] if sdk else None,
        "origin": SPEC_SOURCE if raw["air"] == "runware:108@22" else "lib/catalog.toml",
        "shape": "legacy+inputs" if sdk else "legacy",
        "fields": fields,
        "inputs_required": [],
        "capabilities": list(modes),
        "modes": list(modes),
        "sizes": raw.get("sizes", []),
        "size_range": raw.get("size_range"),
        "size_durations": raw.get("size_durations", {}),
        "resolutions": sdk["fields"].get("resolution", {}).get("enum", []) if sdk else [],
        "resolution_sizes": {},
        "durations": raw.get("durations", []),
        "duration_range": raw.get("duration_range"),
        "fps": raw.get("fps", []),
        "fps_range": raw.get("fps_range"),
        "cfg_scale": cfg,
        "frame_images": raw.get("frame_images", []),
        "prompt_min": int(raw.get("prompt_min", generic["prompt_min"])),
        "prompt_max": int(raw.get("prompt_max", generic["prompt_max"])),
        "audio": None,
        "settings_field": "providerSettings",
        "price_per_second_usd": raw.get("price_per_second_usd", facts.get("price_per_second_usd")),
        "prices": facts.get("prices", []),
        "rules": facts.get("rules", []),
        "docs": defaults["docs_base"] + sdk["slug"] if sdk else None,
        "docs_facts": True,
        "sources": sources,
    }


def build_snapshot(task_map_source: str, wheel_name: str, facts: dict, legacy: dict) -> dict:
    sdk_models = parse_video_types(task_map_source)
    defaults = facts["defaults"]
    per_model = facts.get("model", {})
    unknown = set(per_model) - set(sdk_models) - {m["air"] for m in legacy["model"]}
    if unknown:
        raise SystemExit(f"facts for models the SDK does not list: {sorted(unknown)}")
    models = {}
    for raw in legacy["model"]:
        air = raw["air"]
        models[air] = model_from_legacy(raw, legacy["generic"], sdk_models.get(air), per_model.get(air, {}), defaults)
    for air, sdk in sdk_models.items():
        if air not in models:
            models[air] = model_from_sdk(air, sdk, per_model.get(air, {}), defaults)
    version = next(iter(sdk_models.values()))["schemas_version"]
    return {
        "generated_from": {"sdk": f"{SDK}=={SDK_VERSION}", "wheel": wheel_name, "schemas_version": version,
                           "facts": FACTS_PATH.name, "legacy": LEGACY_PATH.name},
        "sdk_video_models": sorted(sdk_models),
        "generic": legacy["generic"],
        # The first catalog's models first, as the page lists them; then the SDK's, by AIR.
        "models": [models[m["air"]] for m in legacy["model"]] + [models[a] for a in sorted(sdk_models) if a not in
                                                                  {m["air"] for m in legacy["model"]}],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", help=f"a downloaded {SDK}-{SDK_VERSION} wheel (default: pip download it)")
    parser.add_argument("--out", default=str(SNAPSHOT_PATH))
    args = parser.parse_args(argv)
    source, wheel_name = fetch_task_map(args.wheel)
    with open(FACTS_PATH, "rb") as f:
        facts = tomllib.load(f)
    with open(LEGACY_PATH, "rb") as f:
        legacy = tomllib.load(f)
    snapshot = build_snapshot(source, wheel_name, facts, legacy)
    Path(args.out).write_text(json.dumps(snapshot, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{len(snapshot['models'])} models ({len(snapshot['sdk_video_models'])} from {SDK} {SDK_VERSION}) "
          f"-> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
