"""What people call each request parameter: one table from Runware's wire names to the labels the
form shows, so a message says "Prompt" or "Webhook URL" where the wire says positivePrompt or
webhookURL. The wire name itself stays available to the page as a detail (`wire_detail`)."""
from __future__ import annotations

import re

LABELS = {
    "positivePrompt": "Prompt", "negativePrompt": "Negative prompt", "duration": "Duration",
    "width": "Width", "height": "Height", "resolution": "Resolution", "fps": "FPS", "seed": "Seed",
    "CFGScale": "CFG scale", "inputs": "Inputs", "inputs.frameImages": "Frame images",
    "inputs.referenceImages": "Reference images", "inputs.referenceVideos": "Reference videos",
    "inputs.video": "Input video", "inputs.audio": "Input audio", "inputs.image": "Input image",
    "inputs.elements": "Elements", "inputs.speech": "Speech", "settings": "Settings",
    "providerSettings": "Provider settings", "advancedFeatures": "Advanced features", "safety": "Safety",
    "frameImages": "Frame images", "referenceImages": "Reference images", "speech": "Speech", "lora": "LoRA",
    "steps": "Steps", "model": "Model", "taskUUID": "Task id", "numberResults": "Number of videos",
    "outputType": "Output type", "outputFormat": "Format", "outputQuality": "Quality",
    "deliveryMethod": "Delivery", "webhookURL": "Webhook URL", "uploadEndpoint": "Upload endpoint",
    "ttl": "Result URL lifetime", "includeCost": "Include cost",
}
_INDEX = re.compile(r"\[\d+\]")


def label(parameter: str | None) -> str:
    """The field's label; a nested path without one of its own takes its nearest labelled parent's
    ("inputs.frameImages[0].image" -> "Frame images"); an unknown name is shown as it is."""
    if not parameter:
        return "The request"
    if parameter in LABELS:
        return LABELS[parameter]
    path = _INDEX.sub("", parameter)
    while path:
        if path in LABELS:
            return LABELS[path]
        if "." not in path:
            break
        path = path.rsplit(".", 1)[0]
    return parameter


def wire_detail(item: dict) -> str | None:
    """The technical side of a message, for a small grey line under it: the parameter as Runware
    names it and the error code (which is what Runware's docs and support speak of)."""
    parts = []
    if item.get("parameter"):
        parts.append(f"Runware parameter: {item['parameter']}")
    if item.get("detail"):
        parts.append(str(item["detail"]))
    if item.get("code"):
        parts.append(f"code {item['code']}")
    return " · ".join(parts) or None
