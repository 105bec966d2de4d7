"""The generated catalog snapshot: every curated SDK video model, the first catalog's 9, and the docs
facts they carry (checked against a table read from Runware's docs pages)."""
import json
from pathlib import Path

import pytest

from lib.catalog import AIR_PATTERN, load_catalog, resolution_size
from lib.catalog_gen import build_snapshot, parse_video_types

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOT = json.loads((ROOT / "lib" / "catalog_snapshot.json").read_text())
LEGACY = ["klingai:5@3", "klingai:5@1", "klingai:5@2", "google:3@1", "bytedance:2@1", "minimax:3@1",
          "pixverse:1@3", "vidu:1@1", "runware:108@22"]
CAPABILITIES = {"text-to-video", "image-to-video", "video-to-video", "audio", "avatar", "lip-sync"}


def test_snapshot_names_its_pinned_sdk():
    assert SNAPSHOT["generated_from"]["sdk"] == "runware-sdk==1.8.0"
    assert SNAPSHOT["generated_from"]["schemas_version"] == "20261012233936"


def test_snapshot_has_all_97_curated_sdk_video_models(catalog):
    assert len(SNAPSHOT["sdk_video_models"]) == 97
    assert set(SNAPSHOT["sdk_video_models"]) <= set(catalog.models)


def test_first_catalog_models_come_first(catalog):
    assert list(catalog.models)[:9] == LEGACY


@pytest.mark.parametrize("air", SNAPSHOT["sdk_video_models"])
def test_every_sdk_model_has_its_shape_and_sources(catalog, air):
    model = catalog.get(air)
    assert model.name and model.provider == air.split(":")[0] and AIR_PATTERN.match(air)
    # The four that were in the first catalog keep its facts and take the SDK's newer fields beside them.
    assert model.fields and model.origin == ("lib/catalog.toml" if air in LEGACY else "runware-sdk 1.8.0")
    assert set(model.capabilities) <= CAPABILITIES and model.capabilities
    assert model.docs.startswith("https://runware.ai/docs/models/")
    assert "runware-sdk 1.8.0" in model.sources["shape"]


def test_at_least_20_models_carry_docs_facts(catalog):
    with_facts = [m.air for m in catalog if m.docs_facts and not m.custom]
    assert len(with_facts) >= 20


def test_spec_model_is_labelled_as_from_the_integration_document(catalog):
    model = catalog.get("runware:108@22")
    assert model.origin.startswith("integration document")
    assert "image model" in model.sources["facts"]
    assert model.size_range.max == 1920 and model.duration_range.min == 5 and model.seed


# (AIR, attribute, expected): facts from runware.ai/docs/models/<slug> and runware-api-facts.md.
DOCS_FACTS = [
    ("google:3@3", "sizes", ((1280, 720), (720, 1280), (1920, 1080), (1080, 1920), (3840, 2160), (2160, 3840))),
    ("google:3@3", "resolutions", ("720p", "1080p", "4K")),
    ("google:3@3", "durations", (4, 6, 7, 8)),
    ("google:3@3", "price_per_second_usd", 0.10),
    ("google:veo@3.1-lite", "durations", (4, 6, 8)),
    ("google:veo@3.1-lite", "resolutions", ("720p", "1080p")),
    ("klingai:kling-video@3-standard", "sizes", ((1280, 720), (960, 960), (720, 1280))),
    ("klingai:kling-video@3-standard", "price_per_second_usd", 0.084),
    ("klingai:kling-video@3-pro", "price_per_second_usd", 0.112),
    ("klingai:kling-video@2.6-pro", "durations", (5, 10)),
    ("minimax:4@1", "durations", (6, 10)),
    ("minimax:4@1", "size_durations", {(1920, 1080): (6,)}),
    ("minimax:4@1", "fps", (25,)),
    ("lightricks:ltx@2.3", "price_per_second_usd", 0.08),
    ("lightricks:ltx@2.3", "sizes", ((1920, 1080), (2560, 1440), (3840, 2160), (1080, 1920), (1440, 2560), (2160, 3840))),
    ("runway:1@2", "durations", (5, 8, 10)),
    ("runway:1@2", "sizes", ((1280, 720), (720, 1280), (1104, 832), (832, 1104), (960, 960))),
    ("vidu:4@1", "resolutions", ("360p", "540p", "720p", "1080p")),
    ("alibaba:wan@2.6", "resolutions", ("720p", "1080p")),
    ("alibaba:wan@2.6", "durations", (5, 10, 15)),
    ("pixverse:1@8", "resolutions", ("360p", "540p", "720p", "1080p")),
    ("bytedance:seedance@2.0", "resolutions", ("480p", "720p", "1080p", "4k")),
    ("bytedance:seedance@2.0", "settings_field", "settings"),
    ("pixverse:1@8", "settings_field", "settings"),
    ("google:3@3", "audio", "providerSettings.google.generateAudio"),
    ("klingai:5@3", "price_per_second_usd", 0.184),
    ("klingai:5@3", "prompt_max", 2500),
    ("minimax:4@1", "prompt_max", 2000),
]


@pytest.mark.parametrize("air, attribute, expected", DOCS_FACTS, ids=[f"{a}-{b}" for a, b, _ in DOCS_FACTS])
def test_docs_facts_in_snapshot(catalog, air, attribute, expected):
    assert getattr(catalog.get(air), attribute) == expected


@pytest.mark.parametrize("air, caps", [
    ("klingai:7@1", {"lip-sync", "video-to-video"}), ("klingai:avatar@2.0-pro", {"avatar"}),
    ("google:3@3", {"text-to-video", "image-to-video", "video-to-video", "audio"}),
    ("runway:aleph@2.0", {"video-to-video"}),
])
def test_capabilities(catalog, air, caps):
    assert caps <= set(catalog.get(air).capabilities)


@pytest.mark.parametrize("resolution, size", [("720p", (1280, 720)), ("1080p", (1920, 1080)), ("4K", (3840, 2160)),
                                              ("4k", (3840, 2160)), ("480p", (854, 480)), ("768p", (1366, 768)),
                                              ("wide", None)])
def test_resolution_is_short_side_at_16_9(resolution, size):
    assert resolution_size(resolution) == size


def test_model_facts_override_resolution_size(catalog):
    assert catalog.get("vidu:4@1").resolution_size("360p") == (640, 352)


# The generator reads the SDK's types as text: a small stand-in of task_map.py shows what it takes from them.
TASK_MAP = '''
SCHEMAS_VERSION = "20990101000000"
class AcmeClipParams(TypedDict, total=False):
    """Inference params for curated model `acme:clip@1.0` (slug: acme-clip-1-0)."""

    model: Literal['acme:clip@1.0']
    inputs: NotRequired[dict[str, object]]
    positivePrompt: str
    resolution: NotRequired[Literal['720p', '1080p']]
    duration: NotRequired[int | str]
    taskType: Literal['videoInference']
    taskUUID: str
class AcmeImageParams(TypedDict, total=False):
    """Inference params for curated model `acme:img@1` (slug: acme-img)."""

    model: Literal['acme:img@1']
    taskType: Literal['imageInference']
    taskUUID: str
'''


def test_generator_reads_fields_types_enums_and_required():
    (air, parsed), = parse_video_types(TASK_MAP).items()
    assert air == "acme:clip@1.0" and parsed["slug"] == "acme-clip-1-0"
    fields = parsed["fields"]
    assert fields["positivePrompt"] == {"type": "string", "required": True}
    assert fields["resolution"] == {"type": "string", "enum": ["720p", "1080p"], "required": False}
    assert fields["duration"] == {"type": ["integer", "string"], "required": False}
    assert "taskUUID" not in fields  # platform fields are the validator's, for every model


def test_generator_merges_facts_and_keeps_first_catalog():
    import tomllib
    legacy = tomllib.loads((ROOT / "lib" / "catalog.toml").read_text())
    facts = tomllib.loads((ROOT / "lib" / "catalog_facts.toml").read_text())
    facts["model"] = {"acme:clip@1.0": {"name": "Acme Clip", "sizes": ["1280x720"], "source": "a docs page"}}
    snap = build_snapshot(TASK_MAP, "stand-in.whl", facts, legacy)
    by_air = {m["air"]: m for m in snap["models"]}
    assert by_air["acme:clip@1.0"]["name"] == "Acme Clip" and by_air["acme:clip@1.0"]["sizes"] == ["1280x720"]
    assert by_air["acme:clip@1.0"]["sources"]["facts"] == "a docs page"
    assert set(LEGACY) <= set(by_air)


def test_catalog_is_loaded_once():
    assert load_catalog() is load_catalog()
