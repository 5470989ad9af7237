"""Full fine-tuning (``finetune:<encoder>``): the pretrained encoder (minilm-l6 offline, or the
paper's distilbert-base-uncased / distilroberta-base from the hub) + the same MLP head on the
mean-pooled token vectors (a sequence-classification head), all weights trained by the robust
loss, cold start from the pretrained weights at every AL iteration, inputs cut at max_length."""

from __future__ import annotations

import copy
from typing import Sequence

import numpy as np
import torch
from torch import nn

from mollia.al.backbones.base import MLPHead, TorchBackbone
from mollia.al.backbones.embeddings import mean_pool


class EncoderClassifier(nn.Module):
    def __init__(self, body: nn.Module, head: MLPHead):
        super().__init__()
        self.body = body
        self.head = head

    def pooled(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.body(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return mean_pool(hidden, attention_mask)


class FinetuneBackbone(TorchBackbone):
    """Encoder + head, every weight trainable. ``texts[position]`` is the text of a position."""

    eval_batch_size = 64

    def __init__(self, pretrained: nn.Module, tokenizer, texts: Sequence[str], n_labels: int,
                 max_length: int = 128, **kwargs):
        super().__init__(n_labels, **kwargs)
        self.pretrained = pretrained.cpu().eval()  # pristine weights; copied at every cold start
        self.tokenizer = tokenizer
        self.texts = list(texts)
        self.max_length = int(max_length)

    def _build_net(self) -> nn.Module:
        body = copy.deepcopy(self.pretrained)
        width = body.config.hidden_size
        return EncoderClassifier(body, MLPHead(width, self.hidden_size, self.n_labels, self.dropout))

    def _features(self, net: nn.Module, positions: np.ndarray) -> torch.Tensor:
        enc = self.tokenizer([self.texts[int(i)] for i in positions], padding=True, truncation=True,
                             max_length=self.max_length, return_tensors="pt").to(self.device)
        return net.pooled(enc["input_ids"], enc["attention_mask"])
