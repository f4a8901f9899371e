"""Tools on top of the pipeline: onnxruntime benchmarks, calibration, fitting, sweeps."""
