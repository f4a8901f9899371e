"""An onnxscript model with model-local functions (FunctionProto), as onnxscript writes them.

Run in the export venv (see make_exports.py): ``python corpus/make_onnxscript.py corpus/exports``. No
``from __future__ import annotations`` here: onnxscript reads the type annotations at decoration time.
"""

import json
import sys
from pathlib import Path

import onnx
from onnxscript import FLOAT, script
from onnxscript import opset17 as op
from onnxscript.values import Opset

local = Opset("this", 1)
BATCH = "batch"  # a dim name: onnxscript reads the annotations at decoration time


@script(local)
def gelu_tanh(x):
    inner = op.Mul(op.Constant(value_float=0.7978845608),
                   op.Add(x, op.Mul(op.Constant(value_float=0.044715), op.Mul(x, op.Mul(x, x)))))
    return op.Mul(op.Mul(op.Constant(value_float=0.5), x), op.Add(op.Constant(value_float=1.0), op.Tanh(inner)))


@script(local)
def dense(x, w, b):
    return gelu_tanh(op.Add(op.MatMul(x, w), b))


@script()
def mlp(x: FLOAT[BATCH, 32], w1: FLOAT[32, 64], b1: FLOAT[64], w2: FLOAT[64, 8], b2: FLOAT[8]) -> FLOAT[BATCH, 8]:
    return dense(dense(x, w1, b1), w2, b2)


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "corpus/exports")
    model = mlp.to_model_proto()
    onnx.save(model, out / "onnxscript_functions.onnx")
    manifest = json.loads((out / "manifest.json").read_text())  # written by make_exports.py, run first
    manifest["models"] = [m for m in manifest["models"] if m["file"] != "onnxscript_functions.onnx"]
    manifest["models"].append({"file": "onnxscript_functions.onnx", "exporter": "onnxscript",
                               "producer": model.producer_name, "producer_version": model.producer_version,
                               "shapes": {"x": [4, 32], "w1": [32, 64], "b1": [64], "w2": [64, 8], "b2": [8]},
                               "values": {}, "note": "model-local functions (domain 'this')"})
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print("wrote", out / "onnxscript_functions.onnx")
