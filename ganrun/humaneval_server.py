"""The Turing page: a standard-library HTTP server for a humaneval.Study, on 127.0.0.1 only.

Routes: `/` (the rater's name), `/rate?rater=NAME` (the next image; keys R / F or the arrow keys
answer), POST `/answer` (records it, then back to /rate), `/image/<id>.png`, `/report` (error rates
with their intervals) and `/report.json`. Nothing on the page tells which images are real.
"""

from __future__ import annotations

import html
import json
import re
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, urlparse

from ganrun.humaneval import Study

HOST = "127.0.0.1"  # never another interface: the page has no authentication
MAX_BODY = 4096
NAME = re.compile(r"^[\w .-]{1,40}$")

STYLE = """body{font-family:sans-serif;max-width:40em;margin:2em auto;text-align:center}
img{width:256px;height:256px;image-rendering:pixelated;border:1px solid #888}
button{font-size:1.2em;margin:1em;padding:.5em 1.5em}table{margin:auto;border-collapse:collapse}
td,th{padding:.3em .8em;border-bottom:1px solid #ccc}"""

RATE_SCRIPT = """const shown = performance.now();
function answer(value) { document.getElementById('ms').value = performance.now() - shown;
  document.getElementById('answer').value = value; document.getElementById('form').submit(); }
document.addEventListener('keydown', e => {
  if (e.key === 'r' || e.key === 'R' || e.key === 'ArrowLeft') answer('real');
  if (e.key === 'f' || e.key === 'F' || e.key === 'ArrowRight') answer('fake'); });"""


def page(title: str, body: str, script: str = "") -> bytes:
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body>{body}<script>{script}</script></body></html>").encode()


def rate_page(rater: str, image: str | None, answered: int, total: int) -> bytes:
    who = html.escape(rater)
    if image is None:
        return page("Done", f"<h1>Thank you, {who}</h1><p>You have judged all {total} images.</p>"
                            "<p><a href='/report'>Results</a></p>")
    body = (f"<h1>Real or generated?</h1><p>{who}: image {answered + 1} of {total}</p>"
            f"<img id='image' src='/image/{image}.png' alt='an image to judge'>"
            f"<form id='form' method='post' action='/answer'>"
            f"<input type='hidden' name='rater' value='{who}'><input type='hidden' name='image' value='{image}'>"
            "<input type='hidden' id='answer' name='answer'><input type='hidden' id='ms' name='ms' value='0'>"
            "<button type='button' onclick=\"answer('real')\">Real (R, &larr;)</button>"
            "<button type='button' onclick=\"answer('fake')\">Generated (F, &rarr;)</button></form>"
            "<p>Take your time: there is no time limit.</p>")
    return page("Real or generated?", body, RATE_SCRIPT)


def report_page(report: dict) -> bytes:
    def cell(value: float | None) -> str:
        return "-" if value is None else f"{value:.3f}"
    rows = "".join(f"<tr><td>{html.escape(name)}</td><td>{r['answers']}</td><td>{cell(r['error_rate'])}</td>"
                   f"<td>[{r['ci95'][0]:.3f}, {r['ci95'][1]:.3f}]</td><td>{cell(r['fake_called_real'])}</td>"
                   f"<td>{cell(r['real_called_fake'])}</td><td>{cell(r['median_ms'])}</td></tr>"
                   for name, r in report.items())
    return page("Results", "<h1>Human error rate</h1><table><tr><th>rater</th><th>answers</th><th>error rate</th>"
                           "<th>95% interval</th><th>fakes called real</th><th>reals called fake</th>"
                           f"<th>median ms</th></tr>{rows}</table><p>0.5: indistinguishable from real.</p>")


def handler_for(study: Study) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args) -> None:  # noqa: A002 - quiet: answers go to answers.jsonl
            pass

        def send(self, body: bytes, content_type: str = "text/html; charset=utf-8",
                 status: HTTPStatus = HTTPStatus.OK) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def fail(self, status: HTTPStatus, message: str) -> None:
            self.send(page("Error", f"<h1>{status.value}</h1><p>{html.escape(message)}</p>"), status=status)

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            url = urlparse(self.path)
            query = parse_qs(url.query)
            if url.path == "/":
                self.send(page("Turing test", "<h1>Real or generated?</h1><form action='/rate'>"
                                              "<p>Your name: <input name='rater' autofocus required></p>"
                                              "<button>Start</button></form>"))
            elif url.path == "/rate":
                rater = query.get("rater", [""])[0].strip()
                if not NAME.match(rater):
                    return self.fail(HTTPStatus.BAD_REQUEST, "a name of 1-40 letters, digits, spaces, dots or dashes")
                image, answered = study.next_image(rater)
                self.send(rate_page(rater, image, answered, len(study.key)))
            elif (match := re.fullmatch(r"/image/([0-9a-f]+)\.png", url.path)) and match.group(1) in study.key:
                self.send((study.folder / "images" / f"{match.group(1)}.png").read_bytes(), "image/png")
            elif url.path == "/report":
                self.send(report_page(study.report()))
            elif url.path == "/report.json":
                self.send(json.dumps(study.report(), indent=1).encode(), "application/json")
            else:
                self.fail(HTTPStatus.NOT_FOUND, "no such page")

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            if urlparse(self.path).path != "/answer" or not 0 < length <= MAX_BODY:
                return self.fail(HTTPStatus.BAD_REQUEST, "POST an answer to /answer")
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            rater = form.get("rater", "").strip()
            try:
                if not NAME.match(rater):
                    raise ValueError("bad rater name")
                study.record(rater, form.get("image", ""), form.get("answer", ""), float(form.get("ms", "nan")))
            except ValueError as error:
                return self.fail(HTTPStatus.BAD_REQUEST, str(error))
            self.send_response(HTTPStatus.SEE_OTHER)
            self.send_header("Location", f"/rate?rater={quote(rater)}")
            self.send_header("Content-Length", "0")
            self.end_headers()

    return Handler


def serve(study: Study, port: int = 0) -> ThreadingHTTPServer:
    """A server for the study on 127.0.0.1:port (0: a free port); call serve_forever() on it."""
    return ThreadingHTTPServer((HOST, port), handler_for(study))
