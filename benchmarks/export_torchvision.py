"""Export torchvision classifiers to ONNX (opset 17, batch 1, TorchScript exporter) with their published
GFLOPS and parameter counts, to check onnxcost on models beyond tests/data. Needs torch and torchvision,
which onnxcost itself never needs: run it in a separate environment.

    python benchmarks/export_torchvision.py OUT_DIR [MODEL ... | --never-timed]
    python benchmarks/check_torchvision.py OUT_DIR        # then compare, in onnxcost's environment
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
import torchvision

DEFAULT = ["resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_large", "shufflenet_v2_x1_0", "squeezenet1_1",
           "efficientnet_b0", "densenet121", "googlenet", "inception_v3", "vgg16", "alexnet", "convnext_tiny",
           "vit_b_16", "swin_t", "regnet_y_400mf", "mnasnet1_0", "wide_resnet50_2"]

#: Every torchvision classifier that no session had timed before session 15 (not DEFAULT, not tests/data, not
#: session 4's 23) of at most 16 published GFLOPS: bench_latency.py's unseen --extra set, chosen by that rule
#: before any was timed. EfficientNet-B4/B5 export at 224x224 like the rest (published at 380 and 456).
NEVER_TIMED = ["vgg11", "vgg13", "vgg16_bn", "regnet_x_8gf", "regnet_y_8gf", "regnet_x_16gf", "regnet_y_16gf",
               "efficientnet_b4", "efficientnet_b5", "convnext_base", "swin_b", "vit_l_32", "resnext101_64x4d"]


def main(argv: list[str]) -> int:
    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    names = NEVER_TIMED if argv[1:] == ["--never-timed"] else argv[1:] or DEFAULT
    truth = {}
    for name in names:
        weights = torchvision.models.get_model_weights(name).DEFAULT
        model = torchvision.models.get_model(name, weights=None).eval()
        size = 299 if name == "inception_v3" else 224
        x = torch.randn(1, 3, size, size)
        path = out / f"{name}.onnx"
        torch.onnx.export(model, (x,), str(path), opset_version=17, dynamo=False,
                          input_names=["input"], output_names=["logits"])
        meta = weights.meta
        params = sum(p.numel() for p in model.parameters())
        truth[name] = {"published_gmacs": meta["_ops"], "published_params": meta["num_params"], "params": params,
                       "input": [1, 3, size, size]}
        print(f"{name}: {path.stat().st_size / 1e6:.1f} MB, {meta['_ops']} GFLOPS published", flush=True)
    (out / "truth.json").write_text(json.dumps(truth, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
