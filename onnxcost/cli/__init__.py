"""The command line: a thin layer over the Python API, and the only place that knows flag names."""
