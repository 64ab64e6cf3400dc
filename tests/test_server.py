"""arabic-ner serve: the page, the JSON API, its errors and limits, under load and abuse."""

from __future__ import annotations

import contextlib
import html
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")  # Starlette's TestClient
pytest.importorskip("uvicorn")

from starlette.testclient import TestClient

import arabic_ner
from arabic_ner.cli import main
from arabic_ner.errors import BackendNotAvailableError, ConfigError
from arabic_ner.pipeline import Pipeline
from arabic_ner.server import (
    INSTALL_HINT,
    RequestError,
    background_server,
    create_app,
    openapi,
    parse_extract_request,
)

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 4096  # max_body_bytes of the small apps below


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app())


@pytest.fixture(scope="module")
def small() -> TestClient:
    return TestClient(create_app(max_body_bytes=LIMIT))


@pytest.fixture(scope="module")
def live() -> Iterator[str]:
    """A real uvicorn server on loopback, in a background thread."""
    with background_server(create_app(max_body_bytes=LIMIT)) as url:
        yield url


def dicts(nlp: Pipeline, text: str) -> list[dict[str, Any]]:
    return [e.to_dict() for e in nlp(text)]


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)


def post(url: str, body: bytes, content_type: str = "application/json") -> tuple[int, Any]:
    """POST on a fresh connection; the status and the decoded JSON answer."""
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        connection.request("POST", "/v1/extract", body, {"Content-Type": content_type})
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def raw_exchange(url: str, data: bytes) -> bytes:
    """Send ``data`` as is on a socket and return all the server answers until it closes."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        # The server may answer and close before it has read everything.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(data)
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_WR)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except ConnectionResetError:
            pass
        return received


# --- the JSON API -------------------------------------------------------------------


def test_health_names_the_model_the_backend_and_the_version(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "model": str(arabic_ner.load().backend.path),
        "backend": "crf",
        "version": arabic_ner.__version__,
    }


def test_extract_one_text_answers_what_the_pipeline_finds(
    client: TestClient, nlp: Pipeline, sample_text: str
) -> None:
    response = client.post("/v1/extract", json={"text": sample_text})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    entities = response.json()["entities"]
    assert entities == dicts(nlp, sample_text)
    assert all(sample_text[e["start"] : e["end"]] == e["text"] for e in entities)
    assert {("ORG", "داعش"), ("LOC", "تدمر"), ("PERS", "فلاديمير بوتين")} <= {
        (e["type"], e["text"]) for e in entities
    }


def test_extract_several_texts_answers_each_in_order(client: TestClient, nlp: Pipeline) -> None:
    texts = ["زار بوتين دمشق", "", "قصفت الطائرات الروسية مدينة حلب", "بيروت"]
    response = client.post("/v1/extract", json={"texts": texts})
    assert response.status_code == 200
    assert response.json() == {"results": [{"entities": dicts(nlp, t)} for t in texts]}
    assert client.post("/v1/extract", json={"texts": []}).json() == {"results": []}


def test_types_keep_those_types_as_load_types_does(client: TestClient, sample_text: str) -> None:
    response = client.post("/v1/extract", json={"text": sample_text, "types": ["pers", "LOC"]})
    assert response.status_code == 200
    expected = dicts(arabic_ner.load(types={"PERS", "LOC"}), sample_text)
    assert response.json()["entities"] == expected
    assert {e["type"] for e in expected} == {"PERS", "LOC"}
    dates = client.post("/v1/extract", json={"texts": [sample_text], "types": ["DATE"]})
    assert dates.json()["results"][0]["entities"] == dicts(
        arabic_ner.load(types={"DATE"}), sample_text
    )
    everything = client.post("/v1/extract", json={"text": "زار بوتين دمشق", "types": None})
    assert len(everything.json()["entities"]) == 2


def test_a_lone_surrogate_is_tagged_and_answered_as_valid_json(client: TestClient) -> None:
    body = b'{"text": "\\ud800 ' + "زار بوتين دمشق".encode() + b'"}'  # a JSON escape
    response = client.post(
        "/v1/extract", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 200
    entities = json.loads(response.content)["entities"]
    text = json.loads(body)["text"]
    assert [e["text"] for e in entities] == ["بوتين", "دمشق"]
    assert all(text[e["start"] : e["end"]] == e["text"] for e in entities)


def test_a_utf8_bom_and_a_charset_parameter_are_accepted(client: TestClient) -> None:
    body = "\ufeff" + json.dumps({"text": "زار دمشق"})
    response = client.post(
        "/v1/extract",
        content=body.encode("utf-8"),
        headers={"content-type": 'application/json; charset="UTF-8"'},
    )
    assert response.status_code == 200, response.text
    assert [e["text"] for e in response.json()["entities"]] == ["دمشق"]


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{",
        b'{"text": "a",}',
        b"\xff\xfe{}",
        b'{"text": "\xd8"}',
        b"[" * 100_000,
        b'{"text": "a", "n": ' + b"1" * 5000 + b"}",
    ],
    ids=["empty", "unclosed", "trailing-comma", "utf16", "bad-utf8", "deep", "huge-int"],
)
def test_a_body_that_is_not_utf8_json_is_400(client: TestClient, body: bytes) -> None:
    response = client.post(
        "/v1/extract", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    message = response.json()["error"]
    assert "JSON" in message or "UTF-8" in message


@pytest.mark.parametrize(
    ("data", "hint"),
    [
        (["زار دمشق"], "must be a JSON object"),
        ("زار دمشق", "must be a JSON object"),
        ({}, 'neither of "text" and "texts"'),
        ({"text": "a", "texts": ["b"]}, 'both of "text" and "texts"'),
        ({"text": None}, "text must be a string, got null"),
        ({"text": 5}, "text must be a string, got a number"),
        ({"text": ["a"]}, "text must be a string, got a list"),
        ({"texts": "a"}, "texts must be a list of strings, got a string"),
        ({"texts": ["a", {"text": "b"}]}, "texts[1] must be a string, got an object"),
        ({"texts": ["a", True]}, "texts[1] must be a string, got true/false"),
        ({"text": "a", "types": ["PERSON"]}, "entity types are PERS, LOC"),
        ({"text": "a", "types": "PERS"}, "types must be a list of type names"),
        ({"text": "a", "types": [1]}, "types must be a list of type names"),
        ({"text": "a", "types": []}, "types is empty"),
        ({"text": "a", "txet": "b"}, "unknown field 'txet': the fields are text, texts, types"),
    ],
)
def test_json_of_the_wrong_shape_is_422_saying_what_to_fix(
    client: TestClient, data: object, hint: str
) -> None:
    response = client.post("/v1/extract", json=data)
    assert response.status_code == 422
    assert hint in response.json()["error"]


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1"],
)
def test_a_body_that_is_not_json_by_its_content_type_is_415(
    client: TestClient, content_type: str | None
) -> None:
    headers = {} if content_type is None else {"content-type": content_type}
    response = client.post("/v1/extract", content=b'{"text": "a"}', headers=headers)
    assert response.status_code == 415
    assert "Content-Type: application/json" in response.json()["error"]


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/v1/extract", "POST"),
        ("PUT", "/v1/extract", "POST"),
        ("DELETE", "/", "GET, HEAD, POST"),
        ("POST", "/health", "GET, HEAD"),
        ("POST", "/openapi.json", "GET, HEAD"),
    ],
)
def test_a_wrong_method_is_405_naming_the_allowed_ones(
    client: TestClient, method: str, path: str, allowed: str
) -> None:
    response = client.request(method, path)
    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) == set(allowed.split(", "))
    assert f"{method} is not allowed on {path}" in response.json()["error"]


def test_an_unknown_route_is_404_listing_the_routes(client: TestClient) -> None:
    response = client.get("/v2/extract")
    assert response.status_code == 404
    assert "POST /v1/extract" in response.json()["error"]


def test_a_body_over_the_limit_is_413_by_its_content_length(small: TestClient) -> None:
    text = "ب" * LIMIT  # 2 bytes a letter
    response = small.post("/v1/extract", json={"text": text})
    assert response.status_code == 413
    assert f"larger than {LIMIT} bytes" in response.json()["error"]
    just_under = json.dumps({"text": "a" * (LIMIT - 20)}).encode()
    assert len(just_under) <= LIMIT
    ok = small.post("/v1/extract", content=just_under, headers={"content-type": "application/json"})
    assert ok.status_code == 200


def test_a_chunked_body_over_the_limit_is_413_without_a_content_length(small: TestClient) -> None:
    def chunks() -> Iterator[bytes]:  # a generator: httpx sends it chunked, with no length
        yield b'{"text": "'
        for _ in range(100):
            yield b"a" * 1000
        yield b'"}'

    response = small.post(
        "/v1/extract", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert "content-length" not in response.request.headers


def test_a_chunked_body_within_the_limit_is_read_whole(small: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield '{"text": "زار '.encode()
        yield "بوتين ".encode()
        yield 'دمشق"}'.encode()

    response = small.post(
        "/v1/extract", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 200
    assert [e["text"] for e in response.json()["entities"]] == ["بوتين", "دمشق"]


def test_a_bug_in_a_request_is_a_500_with_json(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("arabic_ner.server._Tagger.__call__", broken)
    response = TestClient(create_app(), raise_server_exceptions=False).post(
        "/v1/extract", json={"text": "زار دمشق"}
    )
    assert response.status_code == 500
    assert response.json() == {"error": "internal error (RuntimeError): please report it"}


def test_parse_extract_request_raises_request_errors_with_statuses() -> None:
    assert parse_extract_request(b'{"texts": ["a", "b"]}').texts == ("a", "b")
    with pytest.raises(RequestError) as bad_json:
        parse_extract_request(b"{")
    assert bad_json.value.status == 400
    with pytest.raises(RequestError) as bad_shape:
        parse_extract_request(b"[]")
    assert bad_shape.value.status == 422


def test_a_max_body_bytes_below_one_is_refused() -> None:
    with pytest.raises(ConfigError, match="at least 1"):
        create_app(max_body_bytes=0)


# --- OpenAPI ---------------------------------------------------------------------------


def test_openapi_json_describes_every_route_and_method(client: TestClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema == json.loads(json.dumps(openapi()))
    assert schema["openapi"].startswith("3.1")
    assert schema["info"]["version"] == arabic_ner.__version__
    routes = {
        (route.path, method.lower())
        for route in client.app.routes  # type: ignore[attr-defined]
        for method in route.methods
        if method != "HEAD"
    }
    described = {(path, method) for path, item in schema["paths"].items() for method in item}
    assert described == routes
    for item in schema["paths"].values():
        for operation in item.values():
            assert operation["responses"]
            assert all("description" in r for r in operation["responses"].values())


def test_openapi_json_is_valid_openapi(client: TestClient) -> None:
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(client.get("/openapi.json").json())


# --- the page --------------------------------------------------------------------------


def test_the_page_is_a_self_contained_rtl_form(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    page = response.text
    assert '<html lang="ar" dir="rtl">' in page
    assert '<textarea id="text" name="text" dir="rtl"' in page
    assert 'id="submit"' in page and 'id="result"' in page
    assert '<form method="post" action="/"' in page
    assert "<script" not in page and "http:" not in page and "https:" not in page
    assert "src=" not in page


def test_posting_the_form_highlights_the_entities_as_extract_html_does(
    client: TestClient, nlp: Pipeline, sample_text: str
) -> None:
    response = client.post("/", data={"text": sample_text.replace("\n", "\r\n")})
    assert response.status_code == 200
    page = response.text
    result = page.split('<section id="result"', 1)[1]
    assert '<div class="text" dir="rtl">' in result
    found = nlp(sample_text)  # CRLF from the browser is read as LF: the same offsets
    assert result.count('class="ent ent-') == len(found)
    for e in found:
        assert f'data-type="{e.type.value}" data-start="{e.start}" data-end="{e.end}"' in result
    assert '<span class="key key-PERS">PERS</span>' in result
    assert f"{len(found)} entities in {len(sample_text)} characters" in result
    assert f">\n{html.escape(sample_text)}</textarea>" in page  # the text stays in the box


def test_the_page_escapes_the_text(client: TestClient) -> None:
    page = client.post("/", data={"text": "<script>alert('x')</script> زار بوتين دمشق"}).text
    assert "<script>" not in page
    assert page.count("&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;") == 2  # box, result


def test_a_line_break_at_the_start_of_the_text_stays_in_the_box(client: TestClient) -> None:
    page = client.post("/", data={"text": "\r\nزار دمشق"}).text
    assert '">\n\nزار دمشق</textarea>' in page  # the parser drops the first newline only
    assert 'data-start="5" data-end="9"' in page


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        (b"text=", "application/x-www-form-urlencoded", 200, "the text is empty"),
        (b"other=1", "application/x-www-form-urlencoded", 422, "no text field"),
        (b"text=%FF%FE", "application/x-www-form-urlencoded", 400, "cannot be read"),
        (b"text=\xff", "application/x-www-form-urlencoded", 400, "cannot be read"),
        (b'{"text": "a"}', "application/json", 415, "submit the form"),
        (b"--x\r\n", "multipart/form-data; boundary=x", 415, "submit the form"),
        (b"text=" + b"a" * LIMIT, "application/x-www-form-urlencoded", 413, "larger than"),
    ],
)
def test_a_bad_form_answers_the_page_with_the_error(
    small: TestClient, body: bytes, content_type: str, status: int, message: str
) -> None:
    response = small.post("/", content=body, headers={"content-type": content_type})
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert 'id="error" role="alert"' in response.text and message in response.text
    assert '<textarea id="text"' in response.text


# --- a real server: concurrency, chunked bodies, garbage ---------------------------------


def test_fifty_concurrent_requests_are_all_answered_correctly(
    live: str, nlp: Pipeline, sample_text: str
) -> None:
    sentences = [s for s in sample_text.split("\n") if s.strip()]
    texts = [sentences[i % len(sentences)] for i in range(50)]
    expected = [dicts(nlp, t) for t in texts]

    def ask(i: int) -> tuple[int, Any]:
        if i % 5 == 4:  # a bad request among the good ones
            return post(live, b'{"text": 5}')
        return post(live, json.dumps({"text": texts[i]}).encode())

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(ask, range(50)))
    for i, (status, body) in enumerate(answers):
        if i % 5 == 4:
            assert status == 422 and "text must be a string" in body["error"]
        else:
            assert status == 200 and body["entities"] == expected[i], i
    assert get_json(live + "/health")["status"] == "ok"


def test_a_chunked_body_over_the_limit_is_refused_by_the_real_server(live: str) -> None:
    head = (
        b"POST /v1/extract HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    piece = b"a" * 1500
    chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    answer = raw_exchange(live, head + chunk * 4 + b"0\r\n\r\n")  # 6000 bytes > LIMIT
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert b"larger than 4096 bytes" in answer
    assert get_json(live + "/health")["status"] == "ok"


def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_limit(live: str) -> None:
    host, port = live.removeprefix("http://").split(":")
    head = (
        b"POST /v1/extract HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    piece = b"a" * 1500
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        # 6000 bytes, and the body never ends: the answer cannot wait for its end.
        sock.sendall(head + (f"{len(piece):x}\r\n".encode() + piece + b"\r\n") * 4)
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert get_json(live + "/health")["status"] == "ok"


def test_a_huge_content_length_is_refused_before_the_body_is_sent(live: str) -> None:
    head = (
        b"POST /v1/extract HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000000000000\r\n\r\n"
    )
    answer = raw_exchange(live, head)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert get_json(live + "/health")["status"] == "ok"


@pytest.mark.parametrize(
    "garbage",
    [
        b"\x00\xff\x16\x03\x01 not http at all\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
        b"POST /v1/extract HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n",
        b'POST /v1/extract HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{"te',
        b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /v1/extract HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ],
    ids=["binary", "bad-header", "bad-length", "cut-body", "huge-line", "bad-chunk"],
)
def test_garbage_on_the_socket_never_stops_the_server(live: str, garbage: bytes) -> None:
    answer = raw_exchange(live, garbage)
    assert answer == b"" or answer.startswith(b"HTTP/1.1 4"), answer[:200]
    assert get_json(live + "/health")["status"] == "ok"
    status, body = post(live, json.dumps({"text": "زار دمشق"}).encode())
    assert status == 200 and body["entities"][0]["text"] == "دمشق"


# --- the command line and the missing extra ----------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_arabic_ner_serve_serves_until_interrupted() -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "arabic_ner.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = get_json(f"http://127.0.0.1:{port}/health")
                break
            except OSError:
                assert process.poll() is None, process.communicate()[0]
                assert time.monotonic() < deadline, "the server did not start in 60 s"
                time.sleep(0.2)
        assert health["status"] == "ok" and health["backend"] == "crf"
        status, body = post(f"http://127.0.0.1:{port}", json.dumps({"text": "زار دمشق"}).encode())
        assert status == 200 and body["entities"][0]["type"] == "LOC"
    finally:
        process.send_signal(signal.SIGINT)
        output = process.communicate(timeout=30)[0]
    assert process.returncode == 0, output


def test_serve_with_a_wrong_port_or_body_limit_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    for args in (["--port", "70000"], ["--port", "x"], ["--max-body-bytes", "0"]):
        with pytest.raises(SystemExit) as exit_info:
            main(["serve", *args])
        assert exit_info.value.code == 2
    assert "expected" in capsys.readouterr().err


def test_without_the_extra_create_app_and_serve_name_the_pip_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "starlette", None)
    with pytest.raises(BackendNotAvailableError, match=r"pip install 'arabic-ner\[server\]'"):
        create_app()
    monkeypatch.setitem(sys.modules, "uvicorn", None)
    assert main(["serve", "--port", "0"]) == 1
    assert INSTALL_HINT in capsys.readouterr().err


def test_a_missing_model_folder_stops_serve_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--port", "0", "--model", str(tmp_path / "nothing")]) == 1
    assert str(tmp_path / "nothing") in capsys.readouterr().err


def test_serve_help_documents_the_options() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "arabic_ner.cli", "serve", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert out.returncode == 0
    for option in ("--host", "--port", "--model", "--backend", "--max-body-bytes"):
        assert option in out.stdout
