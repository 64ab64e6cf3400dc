"""scripts/adapt_e5.py on a tiny encoder: blocks, masking, and a resumed run.

Needs torch, transformers and tokenizers (``make test-backends`` has them); skipped in
``make test``'s environment, which has no torch.
"""

from __future__ import annotations

import importlib.util
import json
import lzma
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "adapt_e5.py"
ARTICLES = [
    {
        "title": "قال بوتين في موسكو",
        "text": "قال الرئيس بوتين إن روسيا ستدعم سوريا.\nوصل الوفد إلى موسكو.",
    },
    {"title": "تدمر", "text": "دخل الجيش السوري مدينة تدمر. وقال المرصد إن داعش انسحب."},
    {"title": "أخبار", "text": "زار الوزير عمان وبيروت والقاهرة. والتقى الملك في عمان."},
]
SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]


@pytest.fixture(scope="module")
def adapt() -> ModuleType:
    sys.path.insert(0, str(SCRIPT.parent))  # as when the script runs: its siblings import
    spec = importlib.util.spec_from_file_location("adapt_e5", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["adapt_e5"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A one-layer BertModel and a word-level tokenizer over the articles' words."""
    from transformers import BertConfig, BertModel

    from arabic_ner.tokenize import tokenize

    folder = tmp_path_factory.mktemp("encoder")
    words = sorted(
        {t.text for a in ARTICLES for part in (a["title"], a["text"]) for t in tokenize(part)}
    )
    vocab = {w: i for i, w in enumerate(SPECIALS + words)}
    tok = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = tokenizers.pre_tokenizers.WhitespaceSplit()
    tok.save(str(folder / "tokenizer.json"))
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
        pad_token_id=vocab["<pad>"],
    )
    BertModel(config, add_pooling_layer=False).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def unlabeled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("unlabeled")
    with lzma.open(folder / "news.jsonl.xz", "wt", encoding="utf-8") as sink:
        for k, article in enumerate(ARTICLES * 4):
            sink.write(json.dumps({"id": str(k), **article}, ensure_ascii=False) + "\n")
    return folder


def run(adapt: ModuleType, encoder: Path, unlabeled: Path, out: Path, *extra: str) -> None:
    adapt.main(
        [
            "--encoder", str(encoder), "--unlabeled", str(unlabeled),
            "--corpora", "news.jsonl.xz", "--out", str(out), "--seq", "8", "--batch", "2",
            "--steps", "4", "--held-out", "2", "--checkpoint-steps", "2", "--log-steps", "1",
            "--no-bf16", *extra,
        ]
    )  # fmt: skip


def test_blocks_are_wrapped_and_the_tail_dropped(adapt: ModuleType) -> None:
    blocks = adapt.blocks_of(np.arange(10, 23, dtype=np.uint16), 6, 0, 2)
    assert blocks.tolist() == [
        [0, 10, 11, 12, 13, 2],
        [0, 14, 15, 16, 17, 2],
        [0, 18, 19, 20, 21, 2],
    ]


def test_masking_leaves_specials_alone_and_labels_only_the_chosen(adapt: ModuleType) -> None:
    generator = torch.Generator().manual_seed(0)
    blocks = torch.randint(5, 1000, (64, 128), generator=generator)
    blocks[:, 0], blocks[:, -1] = 0, 2
    special = torch.tensor([0, 1, 2])
    inputs, labels = adapt.mask_blocks(blocks, 0.15, 4, 1000, special, generator)
    chosen = labels != -100
    assert not chosen[:, [0, -1]].any()
    assert torch.equal(labels[chosen], blocks[chosen])
    assert torch.equal(inputs[~chosen], blocks[~chosen])
    assert 0.13 < float(chosen[:, 1:-1].float().mean()) < 0.17
    masked = float((inputs[chosen] == 4).float().mean())
    kept = float((inputs[chosen] == blocks[chosen]).float().mean())
    assert 0.76 < masked < 0.84 and 0.07 < kept < 0.13


def test_a_stopped_run_resumes_to_the_same_weights(
    adapt: ModuleType, encoder: Path, unlabeled: Path, tmp_path: Path
) -> None:
    from safetensors.numpy import load_file
    from transformers import BertModel

    run(adapt, encoder, unlabeled, tmp_path / "whole")
    run(adapt, encoder, unlabeled, tmp_path / "parts", "--max-seconds", "1e-9")
    assert not (tmp_path / "parts" / "model.safetensors").exists()  # stopped after step 1
    run(adapt, encoder, unlabeled, tmp_path / "parts")
    whole = load_file(tmp_path / "whole" / "model.safetensors")
    parts = load_file(tmp_path / "parts" / "model.safetensors")
    assert whole.keys() == parts.keys()
    assert all(np.array_equal(whole[k], parts[k]) for k in whole)
    assert not any(k.startswith(("bert.", "cls.")) for k in whole)  # the encoder alone
    BertModel.from_pretrained(tmp_path / "whole", local_files_only=True)
    meta = json.loads((tmp_path / "whole" / "adapt_meta.json").read_text("utf-8"))
    assert [h["step"] for h in meta["held_out"]] == [0, 2, 4]
    assert (tmp_path / "whole" / "tokenizer.json").is_file()


def test_other_options_do_not_resume_a_checkpoint(
    adapt: ModuleType, encoder: Path, unlabeled: Path, tmp_path: Path
) -> None:
    run(adapt, encoder, unlabeled, tmp_path, "--max-seconds", "1e-9")
    with pytest.raises(SystemExit, match="--fresh"):
        run(adapt, encoder, unlabeled, tmp_path, "--lr", "1e-3")


def test_bf16_only_where_the_hardware_does_it(
    adapt: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import train_transformer
    from train_transformer import bf16_is_fast

    cpu = torch.device("cpu")
    with_bf16 = tmp_path / "bf16"
    with_bf16.write_text("flags\t\t: fpu sse2 avx2 avx512f avx512_bf16\n", encoding="utf-8")
    without = tmp_path / "avx2"
    without.write_text("flags\t\t: fpu sse2 avx2 fma avx512f\n", encoding="utf-8")
    assert bf16_is_fast(cpu, with_bf16)
    assert not bf16_is_fast(cpu, without)
    assert not bf16_is_fast(cpu, tmp_path / "missing")
    # GPUs: Ampere (8.0) on; before it torch emulates bf16.
    asked = []

    def capability(device: object) -> tuple[int, int]:
        asked.append(device)
        return (7, 0) if len(asked) == 1 else (8, 0)

    monkeypatch.setattr(torch.cuda, "get_device_capability", capability)
    gpu = torch.device("cuda:1")
    assert not bf16_is_fast(gpu)
    assert bf16_is_fast(gpu)
    assert asked == [gpu, gpu]  # the GPU asked for, not the current one
    # Asked for neither, both scripts follow bf16_is_fast; asked, they do as told.
    for fast in (True, False):
        monkeypatch.setattr(adapt, "bf16_is_fast", lambda device, fast=fast: fast)
        monkeypatch.setattr(train_transformer, "bf16_is_fast", lambda device, fast=fast: fast)
        assert adapt.parse_args(["--out", str(tmp_path)]).bf16 is fast
        assert train_transformer.parse_args([]).bf16 is fast
        for option, chosen in (("--bf16", True), ("--no-bf16", False)):
            assert adapt.parse_args(["--out", str(tmp_path), option]).bf16 is chosen
            assert train_transformer.parse_args([option]).bf16 is chosen
