"""``list_models()``: every registered model, where it comes from, and whether it is cached here."""

from __future__ import annotations

import json

import pandas as pd

from mollia.errors import CacheError
from mollia.models.fetch import MARKER, check_cached, downloads_root
from mollia.models.registry import MODELS, ModelSpec


def _folder_bytes(path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def _hub_cached(spec: ModelSpec) -> bool:
    """Whether the hub model's config is in the local Hugging Face cache (no network)."""
    try:
        from huggingface_hub import try_to_load_from_cache

        return isinstance(try_to_load_from_cache(spec.hub_id, "config.json"), str)
    except Exception:  # an unreadable HF cache just means "not known to be cached"
        return False


def _wheels_summary(spec: ModelSpec) -> str:
    first = f"{spec.wheels[0].package}=={spec.wheels[0].version}"
    return first if len(spec.wheels) == 1 else f"{first} (+{len(spec.wheels) - 1} wheels)"


def _row(spec: ModelSpec) -> dict:
    row = {
        "name": spec.name,
        "kind": spec.kind,
        "source": spec.source,
        "origin": "mollia.models.tiny" if spec.builtin else spec.hub_id or _wheels_summary(spec),
        "chat_template": spec.has_chat_template,
        "cached": False,
        "status": "",
        "size_mb": None,
        "download_mb": None,
        "build_s": None,
        "path": None,
    }
    if spec.builtin:
        row["cached"], row["status"] = True, "built in (random weights, no download)"
        return row
    if not spec.offline:
        row["cached"] = _hub_cached(spec)
        row["status"] = "in HF cache" if row["cached"] else "hub (downloads on first load)"
        return row
    try:
        folder = check_cached(spec)
    except CacheError as exc:
        row["status"] = f"CORRUPT: {exc}"
        return row
    row["cached"] = folder is not None
    row["status"] = "ready" if folder is not None else "not fetched"
    if folder is not None:
        row["size_mb"] = round(_folder_bytes(folder) / 2**20, 1)
        row["path"] = str(folder)
        timings = json.loads((folder / MARKER).read_text(encoding="utf-8")).get("timings_s", {})
        row["build_s"] = round(sum(timings.values()), 1)
    wheels = downloads_root() / spec.name
    if wheels.exists():
        row["download_mb"] = round(_folder_bytes(wheels) / 2**20, 1)
    return row


def list_models() -> pd.DataFrame:
    """One row per registered model: name, kind, source (hub|pypi), origin, chat_template, cached,
    status (ready / not fetched / CORRUPT: why), size_mb (cached folder), download_mb (wheels kept),
    build_s (download + assemble + convert time of the cached build), path."""
    return pd.DataFrame([_row(spec) for spec in MODELS.values()])
