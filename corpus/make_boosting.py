"""Make the gradient-boosting half of the classical-ML corpus: LightGBM and XGBoost models exported by
onnxmltools, and an sklearn pipeline around one (skl2onnx with onnxmltools' converters registered).

Run in a separate venv, never the project's (lightgbm, xgboost and onnxmltools are no dependency of onnxcost):

    python -m venv /tmp/mlenv
    /tmp/mlenv/bin/pip install scikit-learn skl2onnx lightgbm xgboost onnxmltools onnxruntime
    /tmp/mlenv/bin/python corpus/make_boosting.py corpus/exports

Each model is small (a few dozen shallow trees on 6 features) so that it can be committed; the graphs are
the TreeEnsemble* ops these converters write for models of any size. The script adds its models to
`manifest.json` beside them (replacing its own earlier entries) with the shapes they are fed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import lightgbm
import numpy as np
import onnx
import onnxmltools
import sklearn
import xgboost
from onnxmltools.convert.common.data_types import FloatTensorType

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else "corpus/exports")
FEATURES, ROWS, BATCH = 6, 200, 5
rng = np.random.default_rng(0)
X = rng.standard_normal((ROWS, FEATURES)).astype(np.float32)
y_class = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(int)
y_multi = np.digitize(X[:, 0], [-0.5, 0.5])  # three classes
y_reg = (X @ rng.standard_normal(FEATURES) + 0.1 * rng.standard_normal(ROWS)).astype(np.float32)
RECORDS: list[dict[str, Any]] = []


def save(model: onnx.ModelProto, name: str, exporter: str) -> None:
    path = OUT / f"{name}.onnx"
    onnx.save(model, path)
    RECORDS.append({"file": path.name, "exporter": exporter, "producer": model.producer_name,
                    "producer_version": model.producer_version,
                    "shapes": {model.graph.input[0].name: [BATCH, FEATURES]}, "values": {}, "note": ""})


def inputs() -> list[tuple[str, FloatTensorType]]:
    return [("input", FloatTensorType([None, FEATURES]))]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    small = dict(n_estimators=20, max_depth=4, random_state=0)
    lgb_bin = lightgbm.LGBMClassifier(**small, num_leaves=15, verbose=-1).fit(X, y_class)
    save(onnxmltools.convert_lightgbm(lgb_bin, initial_types=inputs(), target_opset=15, zipmap=False),
         "lgbm_classifier", "onnxmltools")
    lgb_multi = lightgbm.LGBMClassifier(**small, num_leaves=15, verbose=-1).fit(X, y_multi)
    save(onnxmltools.convert_lightgbm(lgb_multi, initial_types=inputs(), target_opset=15),
         "lgbm_multiclass_zipmap", "onnxmltools")
    lgb_reg = lightgbm.LGBMRegressor(**small, num_leaves=15, verbose=-1).fit(X, y_reg)
    save(onnxmltools.convert_lightgbm(lgb_reg, initial_types=inputs(), target_opset=15),
         "lgbm_regressor", "onnxmltools")
    xgb_bin = xgboost.XGBClassifier(**small).fit(X, y_class)
    save(onnxmltools.convert_xgboost(xgb_bin, initial_types=inputs(), target_opset=15),
         "xgb_classifier", "onnxmltools")
    xgb_reg = xgboost.XGBRegressor(**small).fit(X, y_reg)
    save(onnxmltools.convert_xgboost(xgb_reg, initial_types=inputs(), target_opset=15),
         "xgb_regressor", "onnxmltools")
    manifest_path = OUT / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    mine = {r["file"] for r in RECORDS}
    manifest["models"] = [m for m in manifest["models"] if m["file"] not in mine] + RECORDS
    manifest["versions"].update({"lightgbm": lightgbm.__version__, "xgboost": xgboost.__version__,
                                 "onnxmltools": onnxmltools.__version__, "sklearn": sklearn.__version__})
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"{len(RECORDS)} models written to {OUT}")


if __name__ == "__main__":
    main()
