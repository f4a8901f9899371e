"""Stage 3, cost: MACs, FLOPs, params and bytes per node; training and LLM views of them."""
