"""The diagnosis during a run: every detector on the scalars logged so far, each finding reported once."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Callable, Iterable

from ganrun.health.detectors import DETECTORS, Finding, Series

FINDINGS_FILE = "health.jsonl"  # one finding per line, in the run folder (ganrun report reads it)


def console(finding: Finding) -> None:
    print(f"ganrun: warning: {finding.line()}", file=sys.stderr, flush=True)


class HealthMonitor:
    """`observe(step, scalars)` at the loop's logging, sampling and metric steps (plain floats, already read
    back). A finding is reported (console line, TensorBoard text `health`, health.jsonl) when its detector
    first fires, and again only after it has been quiet for 2 x `health.window` logging steps: a symptom
    that lasts (or flickers) is one line, not one per step."""

    def __init__(self, cfg: Any, writer: Any = None, run_dir: Path | None = None,
                 report: Callable[[Finding], None] = console, detectors: Iterable = DETECTORS,
                 diversity: Any = None):
        self.cfg, self.writer, self.report, self.diversity = cfg, writer, report, diversity
        self.path = Path(run_dir) / FINDINGS_FILE if run_dir is not None else None
        self.detectors = tuple(detectors)
        self.series: Series = {}
        self.active: set[str] = set()
        self.quiet: dict[str, set[int]] = {}  # kind -> the steps its detector has been quiet at since it fired
        self.findings: list[Finding] = []

    def observe(self, step: int, scalars: dict[str, float]) -> list[Finding]:
        if not self.cfg.enabled:
            return []
        for tag, value in scalars.items():
            self.series.setdefault(tag, []).append((step, float(value)))
        new = []
        for detect in self.detectors:
            finding = detect(self.series, self.cfg)
            kind = getattr(detect, "__name__", str(detect))
            if finding is None:
                self.quiet.setdefault(kind, set()).add(step)
                if len(self.quiet[kind]) >= 2 * self.cfg.window:
                    self.active.discard(kind)
            else:
                self.quiet[kind] = set()
                if kind not in self.active:
                    self.active.add(kind)
                    new.append(finding)
        for finding in new:
            self._emit(finding)
        return new

    def sampled(self, step: int, visuals: dict[str, Any]) -> dict[str, float]:
        """At a sampling step, with a game's views: the diversity scalars (health/*) of the fixed-noise
        samples among them, logged and observed."""
        samples = self.diversity.matching(visuals) if self.cfg.enabled and self.diversity is not None else None
        if samples is None:
            return {}
        values = self.diversity(samples)
        if self.writer is not None:
            self.writer.scalars(step, values)
        self.observe(step, values)
        return values

    def _emit(self, finding: Finding) -> None:
        self.findings.append(finding)
        self.report(finding)
        if self.writer is not None:
            self.writer.text("health", f"**step {finding.step}: {finding.title}** — {finding.evidence}.  \n"
                                       f"Try: {finding.remedy}.", finding.step)
        if self.path is not None:
            with open(self.path, "a") as lines:
                lines.write(json.dumps(finding.as_dict()) + "\n")
