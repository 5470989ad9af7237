"""Old import path of `mollia.study.paper` (every number the paper reports); kept so existing code
and notebooks keep working."""

from mollia.study.paper import *  # noqa: F401,F403
from mollia.study.paper import canonical_method, curve_figure_for, paper_value  # noqa: F401
