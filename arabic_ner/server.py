"""Serve: a local web page and an HTTP API over one loaded pipeline (extra ``[server]``).

What: :func:`create_app` returns a Starlette application with five routes:

- ``GET /``: a right-to-left page with a text box; the form posts to ``POST /``, which
  answers with the same page and the text's entities highlighted as
  ``arabic-ner extract --format html`` shows them (``render.py``). No script is needed.
- ``POST /v1/extract``: JSON in (``{"text": ...}`` or ``{"texts": [...]}``, optional
  ``"types"``), JSON out (``{"entities": [...]}`` or ``{"results": [...]}``), each entity
  as :meth:`Entity.to_dict` gives it.
- ``GET /health``: ``{"status": "ok", "model": ..., "backend": ..., "version": ...}``.
- ``GET /openapi.json``: the OpenAPI 3.1 description of these routes (:func:`openapi`).

:func:`serve` runs the application with uvicorn (``arabic-ner serve``).

Why: to read the model's output without writing code, and to call it from programs in
other languages, on one machine, offline.

How: the model is loaded once, when the application is created. Tagging (and rendering)
runs in Starlette's thread pool so that the event loop stays free to accept and refuse
requests; the calls run one at a time on a lock, as a :class:`~arabic_ner.Pipeline`
does anyway. A request body is refused with 413 once it passes ``max_body_bytes``, by
its ``Content-Length`` or by the bytes counted as they arrive (a chunked body has no
length). Every bad request gets a 4xx answer whose ``error`` says what to fix; nothing a
client sends stops the server. Starlette and uvicorn are imported only when needed: a
missing one raises :class:`~arabic_ner.errors.BackendNotAvailableError` naming
``pip install 'arabic-ner[server]'``. See docs/server.md.
"""

from __future__ import annotations

import html
import json
import os
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from arabic_ner.entities import Entity, EntityType
from arabic_ner.errors import ArabicNERError, BackendNotAvailableError, ConfigError
from arabic_ner.pipeline import Pipeline, entity_types, load
from arabic_ner.render import legend_html, page_end, page_start, text_html

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "INSTALL_HINT",
    "ExtractRequest",
    "RequestError",
    "background_server",
    "create_app",
    "openapi",
    "parse_extract_request",
    "serve",
]

INSTALL_HINT = "pip install 'arabic-ner[server]'"
DEFAULT_MAX_BODY_BYTES = 1 << 20
"""The largest request body accepted by default, in bytes (1 MiB)."""

EXTRACT_FIELDS = ("text", "texts", "types")
"""The fields a ``POST /v1/extract`` body may have; any other is refused (422)."""

PAGE_HEADERS = {
    # The page loads nothing and runs no script; say so to the browser.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "img-src data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

_PAGE_CSS = (
    "form{margin:0 0 1em}"
    "textarea{width:100%;box-sizing:border-box;font:inherit;font-size:1.15em;padding:.5em;"
    "line-height:1.8}"
    "button{font:inherit;padding:.2em 1.4em;margin:.4em 0}"
    "#result{border-top:1px solid #ddd}"
)


class RequestError(ArabicNERError):
    """A request the server refuses: ``status`` is the HTTP status, the message says why.

    >>> RequestError(422, "text must be a string").status
    422
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class ExtractRequest:
    """A valid ``POST /v1/extract`` body: the texts, whether a list was sent, the types."""

    texts: tuple[str, ...]
    many: bool  # sent as "texts" (answer {"results": [...]}), not "text" ({"entities": [...]})
    types: frozenset[EntityType] | None = None  # None: every type


def parse_extract_request(body: bytes) -> ExtractRequest:
    """Read a ``POST /v1/extract`` body; raise :class:`RequestError` saying what to fix.

    Malformed JSON or a body that is not UTF-8 is a 400; valid JSON of the wrong shape
    (not an object, both or neither of ``text`` and ``texts``, a text that is not a
    string, an unknown type, an unknown field) is a 422.

    >>> parse_extract_request('{"text": "زار دمشق", "types": ["loc"]}'.encode())
    ExtractRequest(texts=('زار دمشق',), many=False, types=frozenset({<EntityType.LOC: 'LOC'>}))
    >>> parse_extract_request(b'{"text": 5}')
    Traceback (most recent call last):
    ...
    arabic_ner.server.RequestError: text must be a string, got a number: send {"text": "..."}
    """
    data = _json_body(body)
    if not isinstance(data, dict):
        raise RequestError(
            422,
            f'the body must be a JSON object such as {{"text": "..."}}, got {_kind(data)}',
        )
    unknown = sorted(set(data) - set(EXTRACT_FIELDS))
    if unknown:
        raise RequestError(
            422,
            f"unknown field {', '.join(map(repr, unknown))}: the fields are "
            f"{', '.join(EXTRACT_FIELDS)}",
        )
    if ("text" in data) == ("texts" in data):
        which = "both" if "text" in data else "neither"
        raise RequestError(
            422,
            f'the body has {which} of "text" and "texts": send {{"text": "..."}} for one '
            'text or {"texts": ["...", ...]} for several',
        )
    if "text" in data:
        text = data["text"]
        if not isinstance(text, str):
            raise RequestError(
                422, f'text must be a string, got {_kind(text)}: send {{"text": "..."}}'
            )
        texts: tuple[str, ...] = (text,)
    else:
        items = data["texts"]
        if not isinstance(items, list):
            raise RequestError(
                422,
                f'texts must be a list of strings, got {_kind(items)}: send {{"texts": ["..."]}}',
            )
        for i, item in enumerate(items):
            if not isinstance(item, str):
                raise RequestError(
                    422, f"texts[{i}] must be a string, got {_kind(item)}: send text only"
                )
        texts = tuple(items)
    return ExtractRequest(texts, "texts" in data, _types(data.get("types")))


def _json_body(body: bytes) -> Any:
    """The JSON value of ``body`` (UTF-8, a BOM allowed); 400 when it is not JSON."""
    try:
        return json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise RequestError(
            400, f"the body is not UTF-8 ({error.reason} at byte {error.start}): send UTF-8 JSON"
        ) from None
    except json.JSONDecodeError as error:
        raise RequestError(
            400,
            f"the body is not valid JSON ({error.msg} at line {error.lineno} column "
            f'{error.colno}): send a JSON object such as {{"text": "..."}}',
        ) from None
    except RecursionError:
        raise RequestError(
            400, "the body's JSON is nested too deeply: send a flat object"
        ) from None
    except ValueError as error:  # e.g. an integer of more than 4,300 digits
        raise RequestError(400, f"the body cannot be read as JSON: {error}") from None


def _types(value: object) -> frozenset[EntityType] | None:
    """The ``types`` field: absent or null (every type), or a non-empty list of names."""
    if value is None:
        return None
    known = ", ".join(t.value for t in EntityType)
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise RequestError(
            422,
            f'types must be a list of type names such as ["PERS", "LOC"], got {_kind(value)}',
        )
    if not value:
        raise RequestError(
            422, f"types is empty: name at least one of {known}, or leave types out for all"
        )
    try:
        return entity_types(value)
    except ConfigError as error:
        raise RequestError(422, f"types: {error}") from None


def _kind(value: object) -> str:
    """The JSON kind of a decoded value, for messages: 'a string', 'null', 'a list'."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


class _Tagger:
    """The loaded pipelines (one per set of types asked for), called one at a time."""

    def __init__(
        self, model: str | os.PathLike[str] | None, backend: str, trust_model: bool
    ) -> None:
        self._model, self._backend, self._trust = model, backend, trust_model
        self._lock = threading.Lock()
        self.default = load(model, backend=backend, trust_model=trust_model)
        self._pipelines: dict[frozenset[EntityType] | None, Pipeline] = {None: self.default}

    def __call__(
        self, texts: Sequence[str], types: frozenset[EntityType] | None
    ) -> list[list[Entity]]:
        # One lock for every pipeline: they share the loaded model and its caches.
        with self._lock:
            nlp = self._pipelines.get(types)
            if nlp is None:  # the model is cached by load(): only the options are new
                nlp = load(self._model, backend=self._backend, types=types, trust_model=self._trust)
                self._pipelines[types] = nlp
            return list(nlp.pipe(texts))


def create_app(
    model: str | os.PathLike[str] | None = None,
    *,
    backend: str = "crf",
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    trust_model: bool = False,
) -> Starlette:
    """Return the web application (page, JSON API, health, OpenAPI) over one loaded model.

    ``model`` and ``backend`` are those of :func:`arabic_ner.load`, which loads the
    model now, once. A request body of more than ``max_body_bytes`` bytes is refused
    (413). Raises :class:`BackendNotAvailableError` without Starlette,
    :class:`ConfigError` for a ``max_body_bytes`` below 1, and what ``load`` raises for
    a bad model.

    >>> from starlette.testclient import TestClient
    >>> client = TestClient(create_app())
    >>> found = client.post("/v1/extract", json={"text": "زار بوتين دمشق"}).json()
    >>> [(e["type"], e["text"], e["start"], e["end"]) for e in found["entities"]]
    [('PERS', 'بوتين', 4, 9), ('LOC', 'دمشق', 10, 14)]
    >>> client.post("/v1/extract", json={"text": 5}).status_code
    422
    """
    _require("starlette")
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.exceptions import HTTPException
    from starlette.responses import HTMLResponse
    from starlette.routing import Route

    if isinstance(max_body_bytes, bool) or not isinstance(max_body_bytes, int):
        raise ConfigError(f"max_body_bytes must be an int, got {type(max_body_bytes).__name__}")
    if max_body_bytes < 1:
        raise ConfigError(f"max_body_bytes must be at least 1, got {max_body_bytes}")
    tagger = _Tagger(model, backend, trust_model)
    limit = max_body_bytes
    schema = openapi(max_body_bytes=limit)
    info = {
        "status": "ok",
        "model": str(tagger.default.backend.path),
        "backend": tagger.default.backend.name,
        "version": _version(),
    }

    async def page(request: Request) -> Response:
        """GET: the empty form; POST (a form): the form and the text's entities."""
        if request.method != "POST":
            return HTMLResponse(_page(""), headers=PAGE_HEADERS)
        try:
            _need_media_type(request, "application/x-www-form-urlencoded", form=True)
            text = _form_text(await _read_body(request, limit))
        except RequestError as error:
            return HTMLResponse(_page("", error=str(error)), error.status, headers=PAGE_HEADERS)
        if not text.strip():
            return HTMLResponse(
                _page(text, error="the text is empty: type or paste some Arabic text"),
                headers=PAGE_HEADERS,
            )
        body = await run_in_threadpool(_result_page, tagger, text)
        return HTMLResponse(body, headers=PAGE_HEADERS)

    async def extract(request: Request) -> Response:
        """POST a JSON body {"text": ...} or {"texts": [...]}: the entities as JSON."""
        try:
            _need_media_type(request, "application/json")
            wanted = parse_extract_request(await _read_body(request, limit))
        except RequestError as error:
            return _json({"error": str(error)}, error.status)
        found = await run_in_threadpool(tagger, wanted.texts, wanted.types)
        results = [{"entities": [e.to_dict() for e in entities]} for entities in found]
        return _json({"results": results} if wanted.many else results[0])

    async def health(request: Request) -> Response:
        """The server is up; which model, backend and version it runs."""
        return _json(info)

    async def openapi_json(request: Request) -> Response:
        """This API's OpenAPI 3.1 description."""
        return _json(schema)

    async def http_error(request: Request, error: Exception) -> Response:
        """404, 405 and the other errors Starlette raises, as JSON with a hint."""
        assert isinstance(error, HTTPException)
        routes = "GET /, POST /, POST /v1/extract, GET /health, GET /openapi.json"
        if error.status_code == 404:
            message = f"no route {request.url.path}: the routes are {routes}"
        elif error.status_code == 405:
            allowed = (error.headers or {}).get("Allow", "")
            message = f"{request.method} is not allowed on {request.url.path}: use {allowed}"
        else:
            message = str(error.detail)
        return _json({"error": message}, error.status_code, headers=error.headers)

    async def server_error(request: Request, error: Exception) -> Response:
        """A bug: answer 500 (the server goes on and logs the traceback)."""
        return _json({"error": f"internal error ({type(error).__name__}): please report it"}, 500)

    return Starlette(
        routes=[
            Route("/", page, methods=["GET", "POST"]),
            Route("/v1/extract", extract, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
            Route("/openapi.json", openapi_json, methods=["GET"]),
        ],
        exception_handlers={HTTPException: http_error, Exception: server_error},
    )


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    model: str | os.PathLike[str] | None = None,
    backend: str = "crf",
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    trust_model: bool = False,
    log_level: str = "info",
) -> None:
    """Load the model, then serve :func:`create_app` with uvicorn until interrupted.

    Raises :class:`BackendNotAvailableError` without Starlette or uvicorn, and
    :class:`ConfigError` for a port outside 0..65535.

    >>> serve(port=70000)
    Traceback (most recent call last):
    ...
    arabic_ner.errors.ConfigError: port must be 0..65535, got 70000
    """
    if not 0 <= port <= 65535:
        raise ConfigError(f"port must be 0..65535, got {port}")
    _require("uvicorn")
    import uvicorn

    app = create_app(model, backend=backend, max_body_bytes=max_body_bytes, trust_model=trust_model)
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"arabic-ner: warning: serving on {host} without authentication: anyone who "
            f"can reach port {port} can use it (--host 127.0.0.1 keeps it to this machine)",
            file=sys.stderr,
        )
    # ws="none": no websocket routes, so no websocket library is imported.
    uvicorn.run(app, host=host, port=port, log_level=log_level, ws="none", lifespan="off")


@contextmanager
def background_server(
    app: Starlette, *, host: str = "127.0.0.1", port: int = 0, timeout: float = 30.0
) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a background thread; yield its URL, stop on exit.

    ``port=0`` takes a free port. For tests, benchmarks and scripts; use :func:`serve`
    to serve for real. Raises :class:`BackendNotAvailableError` without uvicorn, and
    :class:`ArabicNERError` if the server has not started within ``timeout`` seconds.

    >>> import json, urllib.request
    >>> with background_server(create_app()) as url:
    ...     json.load(urllib.request.urlopen(url + "/health"))["status"]
    'ok'
    """
    _require("uvicorn")
    import uvicorn

    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", ws="none", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="arabic-ner-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            thread.join(timeout)
            raise ArabicNERError(
                f"the server did not start on {host}:{port} within {timeout} s; see the log "
                "above (is the port taken?)"
            )
        time.sleep(0.01)
    address, bound_port = server.servers[0].sockets[0].getsockname()[:2]
    try:
        yield (
            f"http://[{address}]:{bound_port}"
            if ":" in address
            else f"http://{address}:{bound_port}"
        )
    finally:
        server.should_exit = True
        thread.join(timeout)


def _require(module: str) -> None:
    """Import ``module`` (starlette or uvicorn) or say how to install it."""
    try:
        __import__(module)
    except ImportError as error:
        raise BackendNotAvailableError(
            f"the server needs {module}, which is not installed ({error}); "
            f"install it with: {INSTALL_HINT}"
        ) from error


def _version() -> str:
    from arabic_ner import __version__

    return __version__


async def _read_body(request: Request, limit: int) -> bytes:
    """The request body, or 413 as soon as it passes ``limit`` bytes.

    The declared ``Content-Length`` is checked first, then the bytes as they arrive:
    a chunked body declares no length.
    """
    declared = request.headers.get("content-length")
    too_big = f"the body is larger than {limit} bytes: send less text per request"
    if declared is not None:
        try:
            length = int(declared)
        except ValueError:
            raise RequestError(400, f"Content-Length {declared!r} is not a number") from None
        if length > limit:
            raise RequestError(413, too_big)
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestError(413, too_big)
        chunks.append(chunk)
    return b"".join(chunks)


def _need_media_type(request: Request, wanted: str, *, form: bool = False) -> None:
    """415 unless the body's ``Content-Type`` is ``wanted`` (in UTF-8 if it names a charset)."""
    header = request.headers.get("content-type", "")
    media, _, params = header.partition(";")
    charset = ""
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    if media.strip().lower() != wanted or charset not in ("", "utf-8", "utf8"):
        got = repr(header) if header else "none"
        how = "submit the form on this page" if form else f"send the header Content-Type: {wanted}"
        raise RequestError(415, f"the body must be {wanted} in UTF-8 (Content-Type {got}): {how}")


def _form_text(body: bytes) -> str:
    """The ``text`` field of a urlencoded form, its CRLF line breaks made LF."""
    try:
        fields = urllib.parse.parse_qs(
            body.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=False,
            encoding="utf-8",
            errors="strict",
            max_num_fields=16,
        )
    except (UnicodeDecodeError, ValueError) as error:
        raise RequestError(400, f"the form cannot be read ({error}): submit it again") from None
    values = fields.get("text")
    if not values:
        raise RequestError(422, "the form has no text field: submit the form on this page")
    # Browsers send a text box's line breaks as CRLF; the box itself holds LF.
    return values[0].replace("\r\n", "\n")


def _json(
    data: Mapping[str, Any], status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A JSON response in UTF-8; lone surrogates (valid in a JSON string) are kept escaped."""
    from starlette.responses import Response

    try:
        body = json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, sent as \ud800 and found in an entity
        body = json.dumps(data).encode("ascii")
    return Response(body, status, headers=headers, media_type="application/json")


def _result_page(tagger: _Tagger, text: str) -> str:
    """The page with ``text`` in the box and its entities highlighted below."""
    entities = tagger([text], None)[0]
    counts: dict[EntityType, int] = {}
    for e in entities:
        counts[e.type] = counts.get(e.type, 0) + 1
    result = "".join(
        [
            f'<p class="where" dir="ltr" lang="en">{len(entities)} entities in {len(text)} '
            "characters</p>\n",
            legend_html(counts, counts),
            text_html(text, entities),
            "\n",
        ]
    )
    return _page(text, result=result)


def _page(text: str, *, result: str = "", error: str = "") -> str:
    """The page: a form with ``text`` in its box, then the result (or the error)."""
    head = page_start("arabic-ner").replace(
        "</style>\n", f'{_PAGE_CSS}\n</style>\n<link rel="icon" href="data:,">\n', 1
    )
    if error:
        result = f'<p class="error" id="error" role="alert">{html.escape(error)}</p>\n'
    return "".join(
        [
            head,
            '<h1>arabic-ner</h1>\n<p class="where">الأشخاص والأماكن والمنظمات والتواريخ '
            "والأعداد في نص عربي، دون اتصال بالشبكة.</p>\n"
            '<p class="where" dir="ltr" lang="en">People, places, organisations, dates and '
            "numbers in Arabic text, offline. JSON API: POST /v1/extract "
            '(<a href="/openapi.json">OpenAPI</a>).</p>\n',
            '<form method="post" action="/" accept-charset="utf-8">\n',
            '<label for="text">النص</label>\n',
            '<textarea id="text" name="text" dir="rtl" lang="ar" rows="10" required '
            # A newline right after <textarea> is dropped by the parser, so one of the
            # text's own at its start is kept.
            f'placeholder="الصق نصا عربيا هنا">\n{html.escape(text)}</textarea>\n',
            '<button id="submit" type="submit">استخرج الكيانات</button>\n',
            "</form>\n",
            f'<section id="result" aria-live="polite">\n{result}</section>\n',
            page_end(),
        ]
    )


def openapi(*, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> dict[str, Any]:
    """The OpenAPI 3.1 description of the routes of :func:`create_app`.

    >>> schema = openapi()
    >>> schema["openapi"], sorted(schema["paths"])
    ('3.1.0', ['/', '/health', '/openapi.json', '/v1/extract'])
    """
    error = {"$ref": "#/components/schemas/Error"}

    def problem(description: str) -> dict[str, Any]:
        return {"description": description, "content": {"application/json": {"schema": error}}}

    def html_page(description: str) -> dict[str, Any]:
        return {
            "description": description,
            "content": {"text/html": {"schema": {"type": "string"}}},
        }

    types = [t.value for t in EntityType]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "arabic-ner",
            "version": _version(),
            "description": "Offline Arabic named-entity recognition with exact character "
            "offsets. Offsets count Unicode code points of the text sent (JavaScript "
            f"counts UTF-16 units). Request bodies: at most {max_body_bytes} bytes.",
        },
        "paths": {
            "/": {
                "get": {
                    "summary": "The page: a text box to find the entities of a text",
                    "operationId": "page",
                    "responses": {"200": html_page("The page")},
                },
                "post": {
                    "summary": "The page with the entities of the submitted text highlighted",
                    "operationId": "pageResult",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/x-www-form-urlencoded": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"text": {"type": "string"}},
                                    "required": ["text"],
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": html_page("The page with the result"),
                        "400": html_page("The form cannot be read"),
                        "413": html_page("The body is too large"),
                        "415": html_page("The body is not a urlencoded form"),
                        "422": html_page("The form has no text field"),
                    },
                },
            },
            "/v1/extract": {
                "post": {
                    "summary": "The entities of one text or of several",
                    "operationId": "extract",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/ExtractRequest"},
                                "examples": {
                                    "one": {"value": {"text": "زار بوتين دمشق"}},
                                    "several": {
                                        "value": {
                                            "texts": ["زار بوتين دمشق", "قصفت الطائرات حلب"],
                                            "types": ["PERS", "LOC"],
                                        }
                                    },
                                },
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": '{"entities": [...]} for "text", '
                            '{"results": [{"entities": [...]}, ...]} for "texts", in order',
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "oneOf": [
                                            {"$ref": "#/components/schemas/Entities"},
                                            {"$ref": "#/components/schemas/Results"},
                                        ]
                                    }
                                }
                            },
                        },
                        "400": problem("The body is not UTF-8 JSON"),
                        "405": problem("A method other than POST"),
                        "413": problem(f"The body is larger than {max_body_bytes} bytes"),
                        "415": problem("The Content-Type is not application/json"),
                        "422": problem("The JSON has the wrong shape; error says what to fix"),
                    },
                }
            },
            "/health": {
                "get": {
                    "summary": "The server is up: its model, backend and version",
                    "operationId": "health",
                    "responses": {
                        "200": {
                            "description": "Up",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Health"}
                                }
                            },
                        }
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "summary": "This description",
                    "operationId": "openapi",
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3.1",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
        "components": {
            "schemas": {
                "ExtractRequest": {
                    "type": "object",
                    "description": 'Exactly one of "text" and "texts"; no other fields',
                    "properties": {
                        "text": {"type": "string"},
                        "texts": {"type": "array", "items": {"type": "string"}},
                        "types": {
                            "type": ["array", "null"],
                            "items": {"type": "string", "enum": types},
                            "minItems": 1,
                            "description": "Types to find (any case); absent or null: all",
                        },
                    },
                    "oneOf": [{"required": ["text"]}, {"required": ["texts"]}],
                    "additionalProperties": False,
                },
                "Entities": {
                    "type": "object",
                    "properties": {
                        "entities": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Entity"},
                        }
                    },
                    "required": ["entities"],
                },
                "Results": {
                    "type": "object",
                    "properties": {
                        "results": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Entities"},
                        }
                    },
                    "required": ["results"],
                },
                "Entity": {
                    "type": "object",
                    "description": "text == sent_text[start:end], in code points",
                    "properties": {
                        "text": {"type": "string"},
                        "type": {"type": "string", "enum": types},
                        "start": {"type": "integer", "minimum": 0},
                        "end": {"type": "integer", "minimum": 1},
                        "score": {"type": "number", "minimum": 0, "maximum": 1},
                        "normalized": {"type": "string"},
                        "value": {"$ref": "#/components/schemas/Value"},
                        "canonical": {"type": "string"},
                        "cluster": {"type": "integer"},
                    },
                    "required": ["text", "type", "start", "end", "score", "normalized"],
                },
                "Value": {
                    "type": "object",
                    "description": "The fields the text states, for DATE, TIME, NUM, MONEY, "
                    "PERCENT",
                    "properties": {
                        "number": {"type": "number"},
                        "unit": {"type": "string"},
                        "year": {"type": "integer"},
                        "month": {"type": "integer"},
                        "day": {"type": "integer"},
                        "weekday": {"type": "integer"},
                        "hour": {"type": "integer"},
                        "minute": {"type": "integer"},
                        "calendar": {"type": "string", "enum": ["gregorian", "hijri"]},
                    },
                },
                "Health": {
                    "type": "object",
                    "properties": {
                        "status": {"type": "string", "const": "ok"},
                        "model": {"type": "string"},
                        "backend": {"type": "string"},
                        "version": {"type": "string"},
                    },
                    "required": ["status", "model", "backend", "version"],
                },
                "Error": {
                    "type": "object",
                    "properties": {"error": {"type": "string"}},
                    "required": ["error"],
                },
            }
        },
    }
