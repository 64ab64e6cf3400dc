"""Write the bias against ``O`` chosen on the dev splits into a trained model's meta.json.

What: the bias is subtracted from every token's score of ``O`` before decoding
(``CRFBackend._decode``); it changes no weight, so it is set after training, like the
weight of the transformer's scores. It is chosen on the dev splits with a model trained
without them (``bench/accuracy.py --model build/model-dev --outside-bias 0,0.5,1,...
--json scores.json``) and written into the shipped folder, whose manifest is then
rewritten:

- a default model (CRF + BiLSTM): ``meta["neural"]["outside_bias"]``, as
  ``scripts/train_neural.py --outside-bias`` writes it when it trains;
- a transformer folder (``scripts/ship_transformer.py``): ``meta["outside_bias"]``, its own,
  since its scores are added to the default's on another scale.

``--scores`` keeps the dev scores that chose it beside it: the micro precision, recall
and F1 (in %) of each variant and dev split of the ``bench/accuracy.py --json`` files
given. Without it, scores kept from an earlier bias are removed. Every file of the folder
must match its manifest first, so that the new manifest vouches for nothing unchecked.
Run it from the repository root::

    .venv/bin/python scripts/set_outside_bias.py --model arabic_ner/models/default \\
        --bias 1.5 --scores build/bias-default.json
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

from arabic_ner.errors import ModelError
from arabic_ner.manifest import verify_folder, write_manifest
from arabic_ner.neural import NEURAL_FILE


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--model", type=Path, required=True, help="the model folder")
    parser.add_argument("--bias", type=float, required=True, help="subtracted from O's scores")
    parser.add_argument(
        "--scores",
        type=Path,
        nargs="+",
        help="bench/accuracy.py --json outputs with the dev scores that chose the bias",
    )
    args = parser.parse_args()
    if not math.isfinite(args.bias):
        parser.error(f"--bias {args.bias} is not a finite number")

    try:
        verify_folder(args.model)  # the new manifest must vouch for nothing unchecked
    except ModelError as error:
        raise SystemExit(f"{error}; the bias was not set") from None
    path = args.model / "meta.json"
    meta = json.loads(path.read_text("utf-8"))
    if isinstance(meta.get("neural"), dict) and (args.model / NEURAL_FILE).is_file():
        section = meta["neural"]
    elif "trained" in meta and "mix" in meta:
        section = meta
    else:
        raise SystemExit(
            f"{args.model} is neither a CRF + BiLSTM model ('neural' in meta.json and a "
            f"{NEURAL_FILE}) nor a transformer folder ('trained' and 'mix' in meta.json): "
            "a CRF alone decodes without a bias"
        )
    section["outside_bias"] = args.bias
    section.pop("outside_bias_dev_scores", None)
    if args.scores:
        section["outside_bias_dev_scores"] = summary(args.scores)
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n", "utf-8")
    partial.replace(path)
    print(f"{path}: outside_bias {args.bias:g}; wrote {write_manifest(args.model)}")


def summary(paths: list[Path]) -> dict[str, dict[str, dict[str, float]]]:
    """Micro precision, recall and F1 (in %) per variant and dev split of accuracy.py files.

    >>> import tempfile
    >>> scores = {"aqmar/crf-o1.5": {"micro": {"precision": 0.8, "recall": 0.7, "f1": 0.75}}}
    >>> path = Path(tempfile.mkdtemp()) / "scores.json"
    >>> _ = path.write_text(json.dumps(scores))
    >>> summary([path])
    {'crf-o1.5': {'aqmar': {'precision': 80.0, 'recall': 70.0, 'f1': 75.0}}}
    """
    out: dict[str, dict[str, dict[str, float]]] = {}
    for path in paths:
        results: dict[str, Any] = json.loads(path.read_text("utf-8"))
        for key, report in results.items():
            split, variant = key.split("/", 1)
            micro = report["micro"]
            out.setdefault(variant, {})[split] = {
                name: round(micro[name] * 100, 2) for name in ("precision", "recall", "f1")
            }
    return out


if __name__ == "__main__":
    main()
