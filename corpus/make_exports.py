"""Make the exporter-made half of the corpus: small transformers, and sklearn models (onnxscript: make_onnxscript.py).

Run in a separate venv, never the project's (torch and transformers are no dependency of onnxcost):

    python -m venv /tmp/exportenv
    /tmp/exportenv/bin/pip install torch transformers onnx onnxscript onnxruntime skl2onnx scikit-learn
    /tmp/exportenv/bin/python corpus/make_exports.py corpus/exports

Every transformer is built from a config with random weights and shrunk (2 layers, hidden 64) so that the
files stay small enough to commit; the graphs are what the real exporters write for the full-size models.
Each model is written by the legacy TorchScript exporter and by the dynamo exporter where it succeeds, and
the BERT/GPT-2 legacy exports again after onnxruntime's transformer optimizer. `manifest.json` beside the
models records each file's exporter, its inputs' bound shapes and the package versions.
"""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch
import transformers

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else "corpus/exports")
OUT.mkdir(parents=True, exist_ok=True)
RECORDS: list[dict[str, Any]] = []
torch.manual_seed(0)

SMALL = dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128)


def record(name: str, exporter: str, shapes: dict[str, list[int]], values: dict[str, Any] | None = None,
           note: str = "") -> None:
    path = OUT / f"{name}.onnx"
    model = onnx.load(path)
    RECORDS.append({"file": path.name, "exporter": exporter, "producer": model.producer_name,
                    "producer_version": model.producer_version, "shapes": shapes, "values": values or {},
                    "note": note})


def save_inline(path: Path) -> None:
    """Fold any external data the exporter wrote back into the file (the models are small)."""
    model = onnx.load(path)
    for extra in path.parent.glob(path.name + ".data"):
        extra.unlink()
    onnx.save(model, path)


def export_both(name: str, module: torch.nn.Module, args: tuple, input_names: list[str], output_names: list[str],
                dynamic_axes: dict[str, dict[int, str]], shapes: dict[str, list[int]], kwargs: dict | None = None,
                opset: int = 17) -> None:
    module.eval()
    try:
        path = OUT / f"{name}_legacy.onnx"
        torch.onnx.export(module, args, str(path), input_names=input_names, output_names=output_names,
                          dynamic_axes=dynamic_axes, opset_version=opset, dynamo=False, kwargs=kwargs)
        save_inline(path)
        record(f"{name}_legacy", "torch.onnx (TorchScript)", shapes)
    except Exception:  # noqa: BLE001 - an exporter's failure is logged, the others still run
        traceback.print_exc()
    try:
        path = OUT / f"{name}_dynamo.onnx"
        dims = [{ax: torch.export.Dim.AUTO for ax in dynamic_axes.get(n, {})} or None for n in input_names]
        named = getattr(module, "named_args", 0)  # positional parameters before forward's *args
        prog = torch.onnx.export(module, args, input_names=input_names, output_names=output_names,
                                 dynamic_shapes=(*dims[:named], tuple(dims[named:])), opset_version=18,
                                 dynamo=True, kwargs=kwargs)
        prog.save(str(path))
        save_inline(path)
        record(f"{name}_dynamo", "torch.onnx (dynamo)", shapes)
    except Exception:  # noqa: BLE001
        traceback.print_exc()


class LogitsOnly(torch.nn.Module):
    """Wrap a HF model so that the export has plain tensor outputs."""

    def __init__(self, model: torch.nn.Module, key: str = "last_hidden_state") -> None:
        super().__init__()
        self.model = model
        self.key = key

    def forward(self, *args: torch.Tensor) -> torch.Tensor:
        return self.model(*args)[self.key] if self.key else self.model(*args)[0]


def encoders() -> None:
    b, s = 2, 16
    ids = torch.randint(0, 1000, (b, s))
    mask = torch.ones(b, s, dtype=torch.int64)
    axes = {"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
            "out": {0: "batch", 1: "seq"}}
    shapes = {"input_ids": [b, s], "attention_mask": [b, s]}
    for name, cfg_cls, model_cls in [
        ("bert", transformers.BertConfig, transformers.BertModel),
        ("roberta", transformers.RobertaConfig, transformers.RobertaModel),
        ("distilbert", transformers.DistilBertConfig, transformers.DistilBertModel),
        ("electra", transformers.ElectraConfig, transformers.ElectraModel),
    ]:
        if name == "distilbert":
            cfg = cfg_cls(dim=64, n_layers=2, n_heads=4, hidden_dim=128, vocab_size=1000)
        else:
            cfg = cfg_cls(vocab_size=1000, **SMALL)
        model = LogitsOnly(model_cls(cfg))
        export_both(name, model, (ids, mask), ["input_ids", "attention_mask"], ["out"], axes, shapes)
    # T5 encoder and BART (encoder-decoder, no cache)
    t5 = LogitsOnly(transformers.T5EncoderModel(transformers.T5Config(
        vocab_size=1000, d_model=64, d_kv=16, d_ff=128, num_layers=2, num_heads=4)))
    export_both("t5_encoder", t5, (ids, mask), ["input_ids", "attention_mask"], ["out"], axes, shapes)
    bart = transformers.BartModel(transformers.BartConfig(
        vocab_size=1000, d_model=64, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
        decoder_attention_heads=4, encoder_ffn_dim=128, decoder_ffn_dim=128, use_cache=False))
    export_both("bart", LogitsOnly(bart), (ids, mask), ["input_ids", "attention_mask"], ["out"], axes, shapes)


def vision() -> None:
    px = torch.randn(2, 3, 64, 64)
    axes = {"pixel_values": {0: "batch"}, "out": {0: "batch"}}
    shapes = {"pixel_values": [2, 3, 64, 64]}
    vit = transformers.ViTModel(transformers.ViTConfig(image_size=64, patch_size=16, **SMALL))
    export_both("vit", LogitsOnly(vit), (px,), ["pixel_values"], ["out"], axes, shapes)
    clip = transformers.CLIPVisionModel(transformers.CLIPVisionConfig(
        image_size=64, patch_size=16, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
        intermediate_size=128))
    export_both("clip_vision", LogitsOnly(clip), (px,), ["pixel_values"], ["out"], axes, shapes)
    conv = transformers.ConvNextModel(transformers.ConvNextConfig(
        num_channels=3, hidden_sizes=[16, 32, 64, 128], depths=[1, 1, 1, 1]))
    export_both("convnext", LogitsOnly(conv, ""), (px,), ["pixel_values"], ["out"], axes, shapes)
    # Whisper encoder: 80 mel bins x 3000 frames is fixed by the model's positional table
    wcfg = transformers.WhisperConfig(vocab_size=1000, d_model=64, encoder_layers=2, decoder_layers=2,
                                      encoder_attention_heads=4, decoder_attention_heads=4,
                                      encoder_ffn_dim=128, decoder_ffn_dim=128, max_source_positions=100,
                                      num_mel_bins=80, pad_token_id=1, bos_token_id=2, eos_token_id=3,
                                      decoder_start_token_id=2)
    enc = transformers.WhisperModel(wcfg).get_encoder()
    mel = torch.randn(1, 80, 200)
    export_both("whisper_encoder", LogitsOnly(enc), (mel,), ["input_features"], ["out"],
                {"input_features": {0: "batch"}, "out": {0: "batch"}}, {"input_features": [1, 80, 200]})


class WithPast(torch.nn.Module):
    """A decoder step with its KV cache as flat tensors: (ids, mask, k0, v0, k1, v1) -> logits."""

    named_args = 2

    def __init__(self, model: torch.nn.Module, layers: int) -> None:
        super().__init__()
        self.model = model
        self.layers = layers

    def forward(self, ids: torch.Tensor, mask: torch.Tensor, *kv: torch.Tensor) -> torch.Tensor:
        cache = transformers.DynamicCache()
        for i in range(self.layers):
            cache.update(kv[2 * i], kv[2 * i + 1], i)
        return self.model(input_ids=ids, attention_mask=mask, past_key_values=cache, use_cache=True).logits


def decoders() -> None:
    b, s, p = 2, 4, 8
    for name, cfg, kv_heads in [
        ("gpt2_past", transformers.GPT2Config(vocab_size=1000, n_embd=64, n_layer=2, n_head=4, n_positions=128), 4),
        ("llama_gqa_past", transformers.LlamaConfig(vocab_size=1000, hidden_size=64, intermediate_size=128,
                                                    num_hidden_layers=2, num_attention_heads=4,
                                                    num_key_value_heads=2, max_position_embeddings=128), 2),
    ]:
        model = WithPast(transformers.AutoModelForCausalLM.from_config(cfg), 2)
        head = 16
        ids = torch.randint(0, 1000, (b, s))
        mask = torch.ones(b, p + s, dtype=torch.int64)
        kv = tuple(torch.randn(b, kv_heads, p, head) for _ in range(4))
        kv_names = [f"past_{i // 2}_{'kv'[i % 2]}" for i in range(4)]
        axes: dict[str, dict[int, str]] = {"input_ids": {0: "batch", 1: "seq"},
                                           "attention_mask": {0: "batch", 1: "total_seq"},
                                           "logits": {0: "batch", 1: "seq"}}
        axes.update({n: {0: "batch", 2: "past_seq"} for n in kv_names})
        shapes = {"input_ids": [b, s], "attention_mask": [b, p + s]}
        shapes.update({n: [b, kv_heads, p, head] for n in kv_names})
        export_both(name, model, (ids, mask, *kv), ["input_ids", "attention_mask", *kv_names], ["logits"],
                    axes, shapes)


def optimized() -> None:
    from onnxruntime.transformers.optimizer import optimize_model

    for src, kind in [("bert_legacy", "bert"), ("gpt2_past_legacy", "gpt2"), ("vit_legacy", "vit"),
                      ("roberta_legacy", "bert"), ("distilbert_legacy", "bert"), ("bart_legacy", "bart"),
                      ("clip_vision_legacy", "clip")]:
        path = OUT / f"{src}.onnx"
        if not path.exists():
            continue
        try:
            opt = optimize_model(str(path), model_type=kind, num_heads=4, hidden_size=64, opt_level=1)
            name = src.replace("_legacy", "_ortopt")
            opt.save_model_to_file(str(OUT / f"{name}.onnx"))
            shapes = next(r["shapes"] for r in RECORDS if r["file"] == path.name)
            record(name, "onnxruntime.transformers.optimizer", shapes)
        except Exception:  # noqa: BLE001
            traceback.print_exc()


def sklearn_models() -> None:
    from skl2onnx import to_onnx
    from sklearn.datasets import load_iris
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier, RandomForestRegressor
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC
    from sklearn.tree import DecisionTreeClassifier

    x, y = load_iris(return_X_y=True)
    x = x.astype(np.float32)
    for name, est in [
        ("skl_scaler_logreg", make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))),
        ("skl_linreg", LinearRegression()),
        ("skl_tree", DecisionTreeClassifier(max_depth=4, random_state=0)),
        ("skl_forest", RandomForestClassifier(n_estimators=25, max_depth=5, random_state=0)),
        ("skl_forest_reg", RandomForestRegressor(n_estimators=10, max_depth=4, random_state=0)),
        ("skl_gbm", GradientBoostingClassifier(n_estimators=10, max_depth=3, random_state=0)),
        ("skl_mlp", make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(32, 16), max_iter=300,
                                                                  random_state=0))),
        ("skl_knn", KNeighborsClassifier(n_neighbors=3)),
        ("skl_svc", SVC(probability=False)),
    ]:
        try:
            est.fit(x, y)
            onx = to_onnx(est, x[:1], target_opset={"": 17, "ai.onnx.ml": 3})
            onnx.save(onx, OUT / f"{name}.onnx")
            record(name, "skl2onnx", {onx.graph.input[0].name: [5, 4]})
        except Exception:  # noqa: BLE001
            traceback.print_exc()


def main() -> None:
    for stage in (encoders, vision, decoders, optimized, sklearn_models):
        try:
            stage()
        except Exception:  # noqa: BLE001
            traceback.print_exc()
    versions = {m.__name__: m.__version__ for m in (torch, transformers, onnx)}
    import onnxruntime
    import skl2onnx
    import sklearn
    versions.update(onnxruntime=onnxruntime.__version__, sklearn=sklearn.__version__, skl2onnx=skl2onnx.__version__)
    (OUT / "manifest.json").write_text(json.dumps({"versions": versions, "models": RECORDS}, indent=1) + "\n")
    print(f"{len(RECORDS)} models written to {OUT}")


if __name__ == "__main__":
    main()
