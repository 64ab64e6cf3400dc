"""Write the bias against ``O`` chosen on the dev splits into a trained model's meta.json.

What: the bias is subtracted from every token's score of ``O`` before decoding
(``CRFBackend._decode``); it changes no weight, so it is set after training, like the
weight of the transformer's scores. It is chosen on the dev splits with a model trained
without them (``bench/accuracy.py --model build/model-dev --outside-bias 0,0.5,1,...``)
and written into the shipped folder, whose manifest is then rewritten:

- a default model (CRF + BiLSTM): ``meta["neural"]["outside_bias"]``, as
  ``scripts/train_neural.py --outside-bias`` writes it when it trains;
- a transformer folder (``scripts/ship_transformer.py``): ``meta["outside_bias"]``, its own,
  since its scores are added to the default's on another scale.

``--scores`` keeps the dev scores that chose it (``bench/accuracy.py --json``) beside it.
Run it from the repository root::

    .venv/bin/python scripts/set_outside_bias.py --model arabic_ner/models/default --bias 1.0
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from arabic_ner.manifest import verify_manifest, write_manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--model", type=Path, required=True, help="the model folder")
    parser.add_argument("--bias", type=float, required=True, help="subtracted from O's scores")
    parser.add_argument(
        "--scores", type=Path, help="bench/accuracy.py --json output with the dev scores"
    )
    args = parser.parse_args()
    if not math.isfinite(args.bias):
        parser.error(f"--bias {args.bias} is not a finite number")

    path = args.model / "meta.json"
    # The folder must be what its manifest says before its manifest is rewritten.
    verify_manifest(args.model, [path.name])
    meta = json.loads(path.read_text("utf-8"))
    if isinstance(meta.get("neural"), dict):
        section = meta["neural"]
    elif "trained" in meta and "mix" in meta:
        section = meta
    else:
        raise SystemExit(
            f"{args.model} is neither a CRF + BiLSTM model (no 'neural' in meta.json) nor a "
            "transformer folder (no 'trained' and 'mix'): a CRF alone decodes without a bias"
        )
    section["outside_bias"] = args.bias
    if args.scores is not None:
        section["outside_bias_dev_scores"] = json.loads(args.scores.read_text("utf-8"))
    path.write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n", "utf-8")
    print(f"{path}: outside_bias {args.bias:g}; wrote {write_manifest(args.model)}")


if __name__ == "__main__":
    main()
