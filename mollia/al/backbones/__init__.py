"""AL models (backbones): ``head:<encoder>`` (frozen cached embeddings + MLP head) and
``finetune:<encoder>`` (full fine-tuning). Both implement the strategies' QueryModel protocol."""

from __future__ import annotations

from typing import Sequence

from mollia.al.backbones.base import MLPHead, TorchBackbone
from mollia.al.backbones.finetune import FinetuneBackbone
from mollia.al.backbones.head import EmbedFn, HeadBackbone, head_features
from mollia.al.config import ALConfig


def make_backbone(config: ALConfig, dataset_name: str, texts: Sequence[str], n_labels: int,
                  embed_fn: EmbedFn | None = None, encoder_loader=None, progress: bool = True) -> TorchBackbone:
    """The backbone ``config.backbone`` names, over ``texts`` (one per dataset position).

    ``embed_fn`` (head mode) replaces the encoder, for tests; ``encoder_loader(name, device)``
    (finetune mode) replaces ``mollia.models.load_encoder``.
    """
    common = dict(hidden_size=config.hidden_size, dropout=config.dropout, lr=config.learning_rate,
                  weight_decay=config.weight_decay, epochs=config.epochs, patience=config.patience,
                  batch_size=config.train_batch_size, device=config.device, progress=progress,
                  selection=config.selection, min_steps_per_epoch=config.min_steps_per_epoch)
    if config.backbone_kind == "head":
        feats = head_features(config.encoder, dataset_name, texts, config.max_length, config.device, embed_fn, progress)
        return HeadBackbone(feats, n_labels, **common)
    if encoder_loader is None:
        from mollia.models import load_encoder as encoder_loader
    model, tokenizer = encoder_loader(config.encoder, device="cpu")
    return FinetuneBackbone(model, tokenizer, texts, n_labels, max_length=config.max_length, **common)


__all__ = ["FinetuneBackbone", "HeadBackbone", "MLPHead", "TorchBackbone", "head_features", "make_backbone"]
