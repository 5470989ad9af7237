"""Load a registered model, ready to use: eval mode, on its device, tokenizer set for batching.

Offline names load from the folder ``fetch`` built (``local_files_only=True``: never the hub);
hub names load from their hub id. Nothing is cached per process: a loaded model is the caller's
to keep (the probing engine loads each model once per run), so two calls give two models.
"""

from __future__ import annotations

from mollia.errors import MolliaError
from mollia.models.fetch import fetch
from mollia.models.registry import get

QUANTIZATIONS = (None, "4bit", "8bit")
# CPU compute options of a loaded float32 model (`apply_precision`); bench/engine_precision.py measures them
CPU_PRECISIONS = ("float32", "bfloat16", "int8")


def _resolve_device(device):
    import torch

    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise MolliaError(f"device {device!r} asked for, but CUDA is not available on this machine; use device='cpu'")
    return dev


def _resolve_dtype(dtype, dev):
    import torch

    if dtype is None:
        # bf16 halves memory and is the GPU's fast path; on CPU float32 is both faster and exact
        return torch.bfloat16 if dev.type == "cuda" else torch.float32
    if isinstance(dtype, str):
        try:
            return {"float32": torch.float32, "fp32": torch.float32, "bfloat16": torch.bfloat16,
                    "bf16": torch.bfloat16, "float16": torch.float16, "fp16": torch.float16}[dtype]  # fmt: skip
        except KeyError:
            raise MolliaError(f"unknown dtype {dtype!r}; use float32, bfloat16 or float16") from None
    return dtype


def _check_kind(name: str, kind: str):
    spec = get(name)
    if spec.kind != kind:
        raise MolliaError(f"model {name!r} is a {spec.kind} model, not a {kind} one")
    return spec


def load_causal_lm(name: str, device="cpu", dtype=None, quantization: str | None = None):
    """(model, tokenizer) of the causal LM ``name``.

    ``dtype`` None means bfloat16 on a GPU, float32 on CPU. ``quantization`` "4bit" (NF4, compute
    in ``dtype``) or "8bit" uses transformers' BitsAndBytesConfig and needs CUDA (it lets the paper's
    7-9B LLMs fit GPUs smaller than its 24 GB setting). On a GPU the weights load straight onto it
    (``device_map``). The tokenizer pads on the left (so batched generation continues every row
    from its real last token) and has a pad token (the EOS token where the model defines none).
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    spec = _check_kind(name, "causal")
    if quantization not in QUANTIZATIONS:
        raise MolliaError(f"unknown quantization {quantization!r}; use one of None, '4bit', '8bit'")
    dev = _resolve_device(device)
    dtype = _resolve_dtype(dtype, dev)
    if quantization is not None and dev.type != "cuda":
        raise MolliaError(
            f"quantization={quantization!r} needs bitsandbytes on a CUDA GPU; this call is on {dev}. "
            "Use quantization=None on CPU."
        )
    if spec.builtin:
        from mollia.models.tiny import tiny_causal_lm

        model, tokenizer = tiny_causal_lm(seed=0)
        tokenizer.padding_side = "left"
        return model.to(dev).eval(), tokenizer
    source = fetch(name)
    common = {"local_files_only": True} if spec.offline else {}

    kwargs: dict = {"dtype": dtype, **common}
    if dev.type == "cuda":
        # load straight onto the GPU: a 9B model never has to fit in host RAM first
        kwargs["device_map"] = {"": dev.index or 0}
    if quantization is not None:
        from transformers import BitsAndBytesConfig

        if quantization == "4bit":
            qconf = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=dtype)
        else:
            qconf = BitsAndBytesConfig(load_in_8bit=True)
        kwargs["quantization_config"] = qconf

    tokenizer = AutoTokenizer.from_pretrained(source, **common)
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(source, **kwargs)
    if dev.type != "cuda":
        model.to(dev)
    model.eval()
    if model.generation_config is not None and model.generation_config.pad_token_id is None:
        model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer


def apply_precision(model, precision: str):
    """The CPU model in ``precision``: "float32" (as loaded), "bfloat16" (weights and compute cast),
    or "int8": torch's dynamic quantisation of the ``nn.Linear`` layers but the output head (int8
    weights with one scale per output channel, activations quantised per call; embeddings, norms,
    attention and the output head stay float32).
    Returns the model to use (quantisation builds new modules in place)."""
    import torch

    if precision not in CPU_PRECISIONS:
        raise MolliaError(f"unknown CPU precision {precision!r}; use one of {', '.join(CPU_PRECISIONS)}")
    if precision == "bfloat16":
        return model.to(torch.bfloat16)
    if precision == "int8":
        if model.device.type != "cpu":
            raise MolliaError("precision 'int8' (torch dynamic quantisation) runs on CPU only")
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

        # one scale per output channel (a per-tensor scale wrecks models with outlier rows, as
        # Qwen2.5 has); the output head stays float32: it decides every token's probability
        names = {name for name, module in model.named_modules()
                 if isinstance(module, torch.nn.Linear) and module is not model.get_output_embeddings()}
        return quantize_dynamic(model, {name: per_channel_dynamic_qconfig for name in names}, inplace=True)
    return model


def load_encoder(name: str, device="cpu"):
    """(model, tokenizer) of the encoder ``name`` (``AutoModel``: hidden states, no head), eval mode.

    Sentence embeddings: ``mollia.models.embed`` (mean pooling, the rule minilm-l6 was trained with).
    """
    from transformers import AutoModel, AutoTokenizer

    spec = _check_kind(name, "encoder")
    dev = _resolve_device(device)
    if spec.builtin:
        from mollia.models.tiny import tiny_encoder

        model, tokenizer = tiny_encoder(seed=0)
        return model.to(dev).eval(), tokenizer
    source = fetch(name)
    common = {"local_files_only": True} if spec.offline else {}
    tokenizer = AutoTokenizer.from_pretrained(source, **common)
    model = AutoModel.from_pretrained(source, **common).to(dev)
    model.eval()
    return model, tokenizer
