"""Stage 1, load: parse a model's graph without its weights."""
