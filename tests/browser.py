"""A headless Chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe: JSON
messages ending in a NUL byte on file descriptors 3 and 4), with the standard library only."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time


class Browser:
    def __init__(self, width: int = 800, height: int = 600):
        self.size = (width, height)
        self.next_id, self.buffer, self.session = 0, b"", None

    def __enter__(self) -> "Browser":
        self.profile = tempfile.mkdtemp(prefix="ganrun-chromium-")
        to_browser, self.commands = os.pipe()
        self.events, from_browser = os.pipe()

        def plumb() -> None:  # in the child: our pipes become its fds 3 (commands in) and 4 (answers out)
            os.dup2(to_browser, 3)
            os.dup2(from_browser, 4)

        self.process = subprocess.Popen(
            [shutil.which("chromium"), "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
             "--no-first-run", f"--user-data-dir={self.profile}", f"--window-size={self.size[0]},{self.size[1]}"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            close_fds=False, preexec_fn=plumb)
        os.close(to_browser)
        os.close(from_browser)
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.call("Page.enable")
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.session = None
            self.call("Browser.close")
        except (OSError, RuntimeError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self.commands)
        os.close(self.events)
        shutil.rmtree(self.profile, ignore_errors=True)

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params}
        if self.session:
            message["sessionId"] = self.session
        os.write(self.commands, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def _read(self) -> dict:
        while b"\0" not in self.buffer:
            chunk = os.read(self.events, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed its pipe")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def open(self, url: str) -> None:
        self.call("Page.navigate", url=url)

    def evaluate(self, expression: str):
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.evaluate(expression):
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {timeout} s for {expression}")
            time.sleep(0.05)

    def press(self, key: str) -> None:
        codes = {"ArrowLeft": 37, "ArrowRight": 39}
        event = {"key": key, "code": key if key in codes else f"Key{key.upper()}",
                 "windowsVirtualKeyCode": codes[key] if key in codes else ord(key.upper())}
        self.call("Input.dispatchKeyEvent", type="keyDown", **event, **({} if key in codes else {"text": key}))
        self.call("Input.dispatchKeyEvent", type="keyUp", **event)

    def screenshot(self, path: str) -> None:
        with open(path, "wb") as file:
            file.write(base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"]))
