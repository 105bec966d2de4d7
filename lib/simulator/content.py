"""The simulator's stand-ins for Runware's schema and content services, served from its own catalog,
so a catalog refresh can be exercised over real HTTP with no outside host:

  GET /resolve/<AIR>            {"requestSchema", "documentation"} (404 when unknown), as schemas.runware.ai
  GET /models                   the curated list, paged (limit, offset) and filtered (category, creator,
                                capability, search), as content.runware.ai
  GET /models/<AIR>             one entry
  GET /models/<AIR>/pricing     {"pricingOverview", "pricingExamples"} from the catalog's prices

Each answer is (status, JSON payload); server.py sends it.
"""
from __future__ import annotations

from urllib.parse import parse_qs, unquote

from ..catalog import Catalog, Model
from ..catalog_schema import request_schema

MAX_LIMIT = 100


def _not_found(what: str) -> tuple[int, dict]:
    return 404, {"errors": [{"code": "notFound", "message": f"{what} is not known here."}]}


def _entry(model: Model) -> dict:
    return {"air": model.air, "id": model.air, "name": model.name, "category": "video",
            "taskType": "videoInference", "creator": model.provider, "capabilities": list(model.capabilities),
            **({"documentation": model.docs} if model.docs else {})}


def published_schema(model: Model) -> dict:
    """The model's request schema as Runware publishes one: taskType and model pinned, and the numeric
    bounds the catalog knows stated, so a refresh has something to map back."""
    schema = request_schema(model)
    props = schema["properties"]
    props["taskType"] = {"const": "videoInference"}
    props["model"] = {"const": model.air}
    if "duration" in props and model.duration_range and not model.durations:
        props["duration"] = {**props["duration"], "minimum": model.duration_range.min,
                             "maximum": model.duration_range.max}
    if "positivePrompt" in props and isinstance(props["positivePrompt"], dict):
        props["positivePrompt"] = {**props["positivePrompt"], "minLength": model.prompt_min,
                                   "maxLength": model.prompt_max}
    return schema


def _int(values: dict, name: str, default: int, top: int) -> int:
    try:
        return max(0, min(top, int(values.get(name, [default])[0])))
    except ValueError:
        return default


def answer(catalog: Catalog, path: str, query: str) -> tuple[int, dict] | None:
    """The answer for a content/schema path, or None when the path is not one of these."""
    if path.startswith("/resolve/"):
        model = catalog.models.get(unquote(path[len("/resolve/"):]))
        if model is None:
            return _not_found("This model")
        return 200, {"requestSchema": published_schema(model), "documentation": model.docs}
    if path.rstrip("/") == "/models":
        q = parse_qs(query)
        found = [m for m in catalog if _matches(m, q)]
        limit, offset = _int(q, "limit", MAX_LIMIT, MAX_LIMIT), _int(q, "offset", 0, 10**6)
        page = found[offset:offset + limit]
        return 200, {"data": [_entry(m) for m in page], "total": len(found), "limit": limit, "offset": offset,
                     "hasMore": offset + len(page) < len(found)}
    if path.startswith("/models/"):
        air, _, rest = unquote(path[len("/models/"):]).partition("/")
        model = catalog.models.get(air)
        if model is None or rest not in ("", "pricing"):
            return _not_found("This model")
        if rest == "pricing":
            return 200, {"pricingOverview": {"perSecondUSD": model.price_per_second_usd},
                         "pricingExamples": [{"configuration": p.get("configuration"), "price": p.get("usd")}
                                             for p in model.prices]}
        return 200, _entry(model)
    return None


def _matches(model: Model, q: dict) -> bool:
    first = {k: v[0].lower() for k, v in q.items() if v}
    if first.get("category") not in (None, "video"):
        return False
    if first.get("creator") not in (None, model.provider):
        return False
    if "capability" in first and first["capability"] not in model.capabilities:
        return False
    return "search" not in first or first["search"] in f"{model.air} {model.name}".lower()
