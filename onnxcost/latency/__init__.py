"""Stage 5, latency: roofline estimates on a hardware profile, and onnxruntime's kernel hints."""

#: Where the estimate learns which nodes the runtime fuses: its own pattern rules, or onnxruntime's optimized
#: graph of the model (which opens a session, reading the weights: runtime.py). Here, not in result.py, so that
#: checking the argument imports nothing of the stage.
FUSIONS = ("patterns", "onnxruntime")
