"""A screenshot of the Turing page of a prepared study (`ganrun turing checkpoint=PATH` prepares it),
taken in headless Chromium, for docs/:

    python scripts/turing_screenshot.py outputs/issue15/dcgan_mnist/turing docs/turing_page.png
"""

import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ganrun.humaneval import Study  # noqa: E402
from ganrun.humaneval_server import serve  # noqa: E402
from tests.browser import Browser  # noqa: E402

study_folder, out = Path(sys.argv[1]), Path(sys.argv[2])
server = serve(Study(study_folder))
threading.Thread(target=server.serve_forever, daemon=True).start()
try:
    with Browser(width=700, height=560) as browser:
        browser.open(f"http://127.0.0.1:{server.server_address[1]}/rate?rater=screenshot")
        browser.wait_for("document.getElementById('image') && document.getElementById('image').complete")
        browser.screenshot(str(out))
finally:
    server.shutdown()
print(f"screenshot written to {out}")
