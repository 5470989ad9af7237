"""The tiny random causal LM of the tests; it lives in `mollia.models.tiny` (registered there as the
built-in model ``tiny-random-lm``)."""

from mollia.models.tiny import tiny_causal_lm

__all__ = ["tiny_causal_lm"]
