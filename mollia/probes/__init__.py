"""Probes stage: prompts, the answer parser, the fast probing engine, the paper-array importer,
the probe cache. Reads a `Dataset` and a model, writes `ProbeTable`s."""

from mollia.probes.table import ProbeTable

__all__ = ["ProbeTable"]
