"""Load test of ``arabic-ner serve``: requests/s and latency of POST /v1/extract.

Starts the server in a subprocess on a free loopback port (or uses ``--url``), sends
``--requests`` requests from ``--clients`` threads (one keep-alive connection each, with
http.client), checks every answer, and prints the throughput and the latency
percentiles, then the time the pipeline alone takes for the same texts, in this process.
Exits 1 if any request failed.

    .venv/bin/python bench/server_load.py                      # 500 sentences, 8 clients
    .venv/bin/python bench/server_load.py --payload article    # the whole sample article
    .venv/bin/python bench/server_load.py --url http://127.0.0.1:8000
"""

from __future__ import annotations

import argparse
import http.client
import json
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "samples" / "palmyra_news_ar.txt"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(port: int) -> subprocess.Popen[bytes]:
    """``serve`` in a subprocess, without the access log (it would cost as much as a request)."""
    code = f"from arabic_ner.server import serve; serve('127.0.0.1', {port}, log_level='warning')"
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)


def wait_healthy(url: str, process: subprocess.Popen[bytes] | None, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url + "/health", timeout=5) as response:
                if json.load(response)["status"] == "ok":
                    return
        except OSError:
            pass
        if process is not None and process.poll() is not None:
            sys.exit(f"the server exited with {process.returncode}")
        if time.monotonic() > deadline:
            sys.exit(f"{url} not healthy after {timeout} s")
        time.sleep(0.2)


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of sorted values."""
    index = max(0, min(len(sorted_values) - 1, round(p / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


def run_clients(url: str, texts: list[str], clients: int) -> tuple[list[float], int, float]:
    """Send one request per text from ``clients`` threads; latencies (s), failures, wall (s)."""
    parts = urllib.parse.urlsplit(url)
    latencies: list[float] = []
    failures = 0
    lock = threading.Lock()
    todo = iter(range(len(texts)))

    def client() -> None:
        nonlocal failures
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
        while True:
            with lock:
                i = next(todo, None)
            if i is None:
                break
            body = json.dumps({"text": texts[i]}).encode("utf-8")
            started = time.perf_counter()
            try:
                connection.request(
                    "POST", "/v1/extract", body, {"Content-Type": "application/json"}
                )
                response = connection.getresponse()
                answer = response.read()
                ok = response.status == 200 and "entities" in json.loads(answer)
            except (OSError, http.client.HTTPException, ValueError):
                ok = False
                connection.close()
                connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                failures += not ok
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, failures, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument(
        "--payload",
        choices=("sentence", "article"),
        default="sentence",
        help="sentence: each request a paragraph of the sample article, in turn; "
        "article: the whole article (2,027 characters) each time",
    )
    parser.add_argument("--url", help="an arabic-ner server already running")
    args = parser.parse_args()

    sample = SAMPLE.read_text(encoding="utf-8")
    pool = [p for p in sample.split("\n") if p.strip()] if args.payload == "sentence" else [sample]
    texts = [pool[i % len(pool)] for i in range(args.requests)]

    process = None
    url = args.url
    if url is None:
        url = f"http://127.0.0.1:{free_port()}"
        process = start_server(int(url.rsplit(":", 1)[1]))
    try:
        wait_healthy(url, process)
        run_clients(url, pool[:20], 2)  # warm up: caches, connections
        latencies, failures, wall = run_clients(url, texts, args.clients)
    finally:
        if process is not None:
            process.terminate()
            process.wait(30)

    latencies.sort()
    chars = sum(map(len, texts))
    print(
        f"{len(texts)} requests ({args.payload}s, {chars / len(texts):.0f} characters on "
        f"average), {args.clients} clients, {failures} failed"
    )
    print(f"{len(texts) / wall:.1f} requests/s, {chars / wall:,.0f} characters/s, {wall:.2f} s")
    print(
        "latency ms: "
        + ", ".join(f"p{p} {percentile(latencies, p) * 1000:.1f}" for p in (50, 90, 99))
        + f", max {latencies[-1] * 1000:.1f}"
    )

    import arabic_ner

    nlp = arabic_ner.load()
    nlp(pool[0])
    started = time.perf_counter()
    for text in texts:
        nlp(text)
    alone = time.perf_counter() - started
    print(
        f"the pipeline alone, in this process, one text at a time: {len(texts) / alone:.1f} "
        f"texts/s ({alone / len(texts) * 1000:.1f} ms each)"
    )
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
