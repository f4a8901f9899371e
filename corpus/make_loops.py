"""Loops as a real exporter writes them: TorchScript models with for-loops, exported by torch.onnx's
TorchScript exporter, which keeps a scripted loop as an ONNX Loop (the dynamo exporter unrolls it).

Run in the export venv (see make_exports.py), after it: ``python corpus/make_loops.py corpus/exports``.

A loop over a Python constant is unrolled by the scripting passes, so the decoders take their step count as an
input (`max_new`), as generation loops do; the manifest binds it to 12.

- `loop_gru_decoder`: a greedy GRU decoder, its hidden state carried with the same shape, each step's logits
  collected (a sequence, stacked after the loop).
- `loop_decoder_early_exit`: the same decoder stopping when every sequence emits the end token: a
  data-dependent exit under the trip count M.
- `loop_growing_tokens`: a decoder that appends each step's token embedding to a carried sequence, so the
  carried state grows by one row per iteration and the attention over it costs more at each step.
- `loop_over_rows`: a loop whose trip count is an input's length (x.size(0)), the state carried unchanged.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import onnx
import torch

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else "corpus/exports")
torch.manual_seed(0)
HIDDEN, VOCAB, STEPS = 32, 50, 12


class Cell(torch.nn.Module):
    """A gated recurrent cell written out (GRUCell itself does not script-export)."""

    def __init__(self) -> None:
        super().__init__()
        self.gates = torch.nn.Linear(2 * HIDDEN, 2 * HIDDEN)
        self.candidate = torch.nn.Linear(2 * HIDDEN, HIDDEN)

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        z, r = torch.sigmoid(self.gates(torch.cat([x, h], -1))).chunk(2, -1)
        c = torch.tanh(self.candidate(torch.cat([x, r * h], -1)))
        return (1 - z) * h + z * c


class GruDecoder(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = torch.nn.Embedding(VOCAB, HIDDEN)
        self.cell = Cell()
        self.head = torch.nn.Linear(HIDDEN, VOCAB)

    def forward(self, h: torch.Tensor, token: torch.Tensor, max_new: torch.Tensor) -> torch.Tensor:
        steps: list[torch.Tensor] = []
        for _ in range(int(max_new)):
            h = self.cell(self.embed(token), h)
            logits = self.head(h)
            token = logits.argmax(-1)
            steps.append(logits)
        return torch.stack(steps, 0)


class EarlyExitDecoder(GruDecoder):
    def forward(self, h: torch.Tensor, token: torch.Tensor, max_new: torch.Tensor) -> torch.Tensor:
        for _ in range(int(max_new)):
            h = self.cell(self.embed(token), h)
            token = self.head(h).argmax(-1)
            if bool((token == 0).all()):
                break
        return h


class GrowingTokens(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.query = torch.nn.Linear(HIDDEN, HIDDEN)
        self.mix = torch.nn.Linear(HIDDEN, HIDDEN)

    def forward(self, seq: torch.Tensor, max_new: torch.Tensor) -> torch.Tensor:
        for _ in range(int(max_new)):
            q = self.query(seq[:, -1:, :])
            weights = torch.softmax(torch.matmul(q, seq.transpose(1, 2)), -1)
            new = self.mix(torch.matmul(weights, seq))
            seq = torch.cat([seq, new], 1)
        return seq


class OverRows(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.cell = Cell()

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        for i in range(x.size(0)):
            h = self.cell(x[i], h)
        return h


def export(name: str, module: torch.nn.Module, args: tuple[torch.Tensor, ...], inputs: list[str],
           dynamic: dict[str, dict[int, str]], shapes: dict[str, list[int]], note: str,
           values: dict[str, Any] | None = None) -> dict[str, Any]:
    path = OUT / f"{name}.onnx"
    torch.onnx.export(torch.jit.script(module.eval()), args, str(path), input_names=inputs, output_names=["out"],
                      dynamic_axes=dynamic, opset_version=17, dynamo=False)
    model = onnx.load(path)
    if not any(n.op_type == "Loop" for n in model.graph.node):
        print(f"{name}: the exporter unrolled the loop")
    return {"file": path.name, "exporter": "torch.onnx (TorchScript, scripted loop)",
            "producer": model.producer_name, "producer_version": model.producer_version, "shapes": shapes,
            "values": values or {}, "note": note}


if __name__ == "__main__":
    h, token, steps = torch.randn(2, HIDDEN), torch.zeros(2, dtype=torch.long), torch.tensor(STEPS)
    records = [
        export("loop_gru_decoder", GruDecoder(), (h, token, steps), ["h", "token", "max_new"],
               {"h": {0: "batch"}, "token": {0: "batch"}}, {"h": [2, HIDDEN], "token": [2], "max_new": []},
               "Loop: trip count from an input value, state of fixed shape, a scan output", {"max_new": [STEPS]}),
        export("loop_decoder_early_exit", EarlyExitDecoder(), (h, token, steps), ["h", "token", "max_new"],
               {"h": {0: "batch"}, "token": {0: "batch"}}, {"h": [2, HIDDEN], "token": [2], "max_new": []},
               "Loop: data-dependent exit under a trip count from an input value", {"max_new": [STEPS]}),
        export("loop_growing_tokens", GrowingTokens(), (torch.randn(2, 3, HIDDEN), steps), ["seq", "max_new"],
               {"seq": {0: "batch", 1: "prompt"}}, {"seq": [2, 3, HIDDEN], "max_new": []},
               "Loop: carried state growing one row per iteration", {"max_new": [STEPS]}),
        export("loop_over_rows", OverRows(), (torch.randn(5, 2, HIDDEN), h), ["x", "h"],
               {"x": {0: "steps", 1: "batch"}, "h": {0: "batch"}}, {"x": [5, 2, HIDDEN], "h": [2, HIDDEN]},
               "Loop: trip count from an input's length"),
    ]
    manifest = json.loads((OUT / "manifest.json").read_text())  # written by make_exports.py, run first
    names = {r["file"] for r in records}
    manifest["models"] = [m for m in manifest["models"] if m["file"] not in names] + records
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print("wrote", ", ".join(sorted(names)))
