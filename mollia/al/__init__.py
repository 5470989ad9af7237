"""Active-learning stage: Algorithm 1, backbones, the robust loss, query strategies, records."""
