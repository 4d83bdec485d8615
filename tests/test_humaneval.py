"""The Turing page end to end over HTTP, in-process: raters, answers with times, the error rate and
its interval; and in headless Chromium (keyboard shortcuts) where Debian's chromium is installed."""

import json
import re
import shutil
import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest
import torch

from ganrun.humaneval import Study, prepare, wilson_interval
from ganrun.humaneval_server import HOST, serve


def test_wilson_interval_against_published_values():
    assert wilson_interval(2, 10) == pytest.approx((0.0567, 0.5098), abs=5e-5)  # Newcombe 1998, Table I style
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.2775), abs=5e-5)
    assert wilson_interval(50, 100) == pytest.approx((0.4038, 0.5962), abs=5e-5)
    assert wilson_interval(0, 0) == (0.0, 1.0)


@pytest.fixture
def server(tmp_path):
    torch.manual_seed(0)
    prepare(tmp_path / "turing", torch.rand(3, 1, 4, 4) * 2 - 1, torch.rand(3, 1, 4, 4) * 2 - 1, seed=1)
    study = Study(tmp_path / "turing")
    httpd = serve(study)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield study, f"http://{HOST}:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def answer(base: str, rater: str, page: str, truth_of, lie: bool, ms: float) -> str:
    image = re.search(r"name='image' value='([0-9a-f]+)'", page).group(1)
    said = truth_of[image] if not lie else {"real": "fake", "fake": "real"}[truth_of[image]]
    data = urllib.parse.urlencode({"rater": rater, "image": image, "answer": said, "ms": ms}).encode()
    with urllib.request.urlopen(base + "/answer", data=data, timeout=10) as response:  # 303 -> the next image
        return response.read().decode()


def test_turing_page_records_answers_and_reports_the_error_rate(server):
    study, base = server
    assert server[1].startswith("http://127.0.0.1:")
    assert "Your name" in get(base + "/")
    truth = study.key
    page = get(base + "/rate?rater=ann")
    assert "image 1 of 6" in page and "keydown" in page
    first = re.search(r"/image/([0-9a-f]+)\.png", page).group(1)
    # nothing but the random id tells images apart: a real and a fake image's pages are the same text
    other = next(i for i in truth if truth[i] != truth[first])
    assert page.replace(first, other) == get(base + "/rate?rater=ann").replace(first, other)
    assert re.sub("[0-9a-f]{12}", "ID", page).count("ID") == 2
    with urllib.request.urlopen(f"{base}/image/{first}.png", timeout=10) as response:
        assert response.headers["Content-Type"] == "image/png" and response.read()[:4] == b"\x89PNG"
    for i in range(6):  # ann is wrong on the first two images only
        page = answer(base, "ann", page, truth, lie=i < 2, ms=100 * (i + 1))
    assert "judged all 6" in page
    page = get(base + "/rate?rater=bob")  # a second rater, in an order of their own
    page = answer(base, "bob", page, truth, lie=True, ms=50)
    lines = [json.loads(line) for line in (study.folder / "answers.jsonl").read_text().splitlines()]
    assert [(a["rater"], a["ms"]) for a in lines] == [("ann", 100.0 * (i + 1)) for i in range(6)] + [("bob", 50.0)]
    assert all(a["truth"] == truth[a["image"]] for a in lines)
    report = json.loads(get(base + "/report.json"))
    assert report["ann"]["error_rate"] == pytest.approx(2 / 6)
    assert report["ann"]["ci95"] == pytest.approx(list(wilson_interval(2, 6)))
    assert report["ann"]["median_ms"] == pytest.approx(350.0)
    assert report["bob"]["answers"] == 1 and report["bob"]["error_rate"] == 1.0
    assert report["all"]["error_rate"] == pytest.approx(3 / 7)
    wrong = [a for a in lines[:2]]
    assert report["ann"]["fake_called_real"] == pytest.approx(sum(a["truth"] == "fake" for a in wrong) / 3)
    assert "Human error rate" in get(base + "/report")


def test_turing_page_refuses_bad_requests(server):
    study, base = server
    image = next(iter(study.key))
    for url in ("/rate?rater=", "/rate?rater=%3Cscript%3E", "/image/../key.json", "/key.json", "/image/abc.png"):
        with pytest.raises(urllib.error.HTTPError) as error:
            get(base + url)
        assert error.value.code in (400, 404)
    for form in ({"rater": "ann", "image": image, "answer": "maybe", "ms": 1},
                 {"rater": "ann", "image": "nope", "answer": "real", "ms": 1},
                 {"rater": "ann", "image": image, "answer": "real", "ms": "nan"}):
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(base + "/answer", data=urllib.parse.urlencode(form).encode(), timeout=10)
        assert error.value.code == 400
    urllib.request.urlopen(base + "/answer", data=urllib.parse.urlencode(
        {"rater": "ann", "image": image, "answer": "real", "ms": 1}).encode(), timeout=10)
    with pytest.raises(urllib.error.HTTPError):  # the same image twice
        urllib.request.urlopen(base + "/answer", data=urllib.parse.urlencode(
            {"rater": "ann", "image": image, "answer": "fake", "ms": 1}).encode(), timeout=10)
    assert len(study.answers()) == 1


@pytest.mark.skipif(shutil.which("chromium") is None, reason="no chromium: the HTTP tests above cover the server")
def test_turing_page_in_headless_chromium_answers_by_keyboard(server):
    from tests.browser import Browser

    study, base = server
    with Browser() as browser:
        browser.open(base + "/rate?rater=carol")
        browser.wait_for("document.getElementById('image') && document.getElementById('image').complete")
        browser.press("f")
        browser.wait_for("document.body && document.body.innerText.includes('image 2 of 6')")
        browser.press("ArrowLeft")
        browser.wait_for("document.body && document.body.innerText.includes('image 3 of 6')")
    answers = study.answers()
    assert [(a["rater"], a["answer"]) for a in answers] == [("carol", "fake"), ("carol", "real")]
    assert all(a["ms"] > 0 for a in answers)
