"""Write the reference networks to models/*.onnx (graph only; weights live in an absent external file).

    python -m models.build            # all of them, next to this file
"""

from __future__ import annotations

import sys
from pathlib import Path

import onnx

from .zoo import ZOO


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else Path(__file__).parent
    for name, make in ZOO.items():
        path = out / f"{name}.onnx"
        model = make()
        for t in model.graph.initializer:  # point the (absent) weights file at this file's own name
            for entry in t.external_data:
                if entry.key == "location":
                    entry.value = f"{name}.weights"
        onnx.save_model(model, str(path))
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
