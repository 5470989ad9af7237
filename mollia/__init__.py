"""mollia: Mixture of LLMs in the active-learning loop (MoLLIA, AAAI-2026), reproducible.

Stages flow one way: data -> probes -> annotators -> al -> study.
"""

__version__ = "0.1.0"
