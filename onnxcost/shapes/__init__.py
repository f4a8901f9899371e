"""Stage 2, shapes: shape rules and value propagation over the graph, and the graph it yields."""
