"""Reference networks of the seed lectures, built with onnx.helper (no download, no framework)."""
