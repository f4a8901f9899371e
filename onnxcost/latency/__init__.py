"""Stage 5, latency: roofline estimates on a hardware profile, and onnxruntime's kernel hints."""
