"""`ganrun report RUN_OR_SWEEP_FOLDER [out=FILE]`: one self-contained HTML page to share a run without
TensorBoard: the curves, the latest sample grids (and the real data's), the metrics, the diagnosis
findings and the config. A sweep folder gets its ranking table and a section per run.

Everything is read back from what the run wrote: its event files (TensorBoard's own reader), health.jsonl,
metrics.jsonl, config.yaml and status.json. A run from before the diagnosis existed gets it replayed on
its scalars with the default thresholds (and the page says so).
"""

from __future__ import annotations

import json
from pathlib import Path

from ganrun.commands import report_page as h
from ganrun.errors import UsageError

CHARTS = (  # (title, tags): one chart each, when the run logged any of the tags
    ("D(x) vs D(G(z)), raw outputs", ("D/real", "D/fake")),
    ("loss/D vs loss/G", ("loss/D", "loss/G")),
    ("gradient norms", ("grad_norm/D", "grad_norm/G")),
    ("learning rates", ("lr/D", "lr/G")),
    ("sample diversity vs the real data's (health/*)", ("health/diversity", "health/mode_coverage")),
)
IMAGES = ("samples/real", "samples/fixed", "samples/scatter")


USAGE = "usage: ganrun report RUN_OR_SWEEP_FOLDER [out=FILE.html]"


class ReportError(UsageError):
    """The folder holds no run: one line, exit 2."""


def run_folders(folder: Path) -> list[Path]:
    """The folder itself when it holds an event file, else its run subfolders (a sweep), in name order."""
    if any(folder.glob("events.out.tfevents.*")):
        return [folder]
    runs = sorted({p.parent for p in folder.glob("*/events.out.tfevents.*")},
                  key=lambda p: (len(p.name.split("_")[0]), p.name))  # 2_... before 10_...
    if not runs:
        raise ReportError(f"{folder} holds no run (no events.out.tfevents.* file in it or its subfolders): "
                          "give a run folder (outputs/runs/...) or a sweep folder (outputs/sweeps/...)")
    return runs


def _events(run_dir: Path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(run_dir), size_guidance={"scalars": 0, "images": 4})
    accumulator.Reload()
    return accumulator


def _findings(run_dir: Path, series: dict) -> tuple[list[dict], str]:
    path = run_dir / "health.jsonl"
    if path.is_file():
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()], ""
    config = run_dir / "config.yaml"
    if config.is_file() and "health:" in config.read_text():
        return [], ""  # the diagnosis ran and found nothing (or was off: the config below says)
    from omegaconf import OmegaConf

    from ganrun.health.replay import replay
    from ganrun.health.schema import HealthConfig

    found = replay(series, OmegaConf.structured(HealthConfig))
    return [f.as_dict() for f in found], " (replayed on the logged scalars with the default thresholds)"


def run_section(run_dir: Path, heading: bool) -> str:
    events = _events(run_dir)
    tags = events.Tags()
    series = {tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in tags["scalars"]}
    findings, note = _findings(run_dir, series)
    parts = [f"<h2>{h.escape(run_dir.name)}</h2>" if heading else ""]
    status = run_dir / "status.json"
    if status.is_file():
        info = json.loads(status.read_text())
        parts.append(f"<p>status: <b>{h.escape(info.get('status'))}</b>"
                     f"{' — ' + h.escape(info['error']) if info.get('error') else ''}, "
                     f"overrides: <code>{h.escape(' '.join(info.get('overrides', [])) or '(none)')}</code></p>")
    parts.append(f"<h3>Diagnosis{h.escape(note)}</h3>")
    parts += [f'<div class="finding"><b>step {f["step"]}: {h.escape(f["title"])}</b> — {h.escape(f["evidence"])}.'
              f"<br>Try: {h.escape(f['remedy'])}.</div>" for f in findings] or ['<div class="ok">no findings</div>']
    charts = [h.line_chart(title, {t: series[t] for t in group if t in series}) for title, group in CHARTS]
    metrics = sorted(t for t in series if t.startswith("metrics/"))
    charts += [h.line_chart(tag, {tag: series[tag]}) for tag in metrics]
    parts.append('<h3>Curves</h3><div class="charts">' + "".join(charts) + "</div>")
    pictures = []
    for tag in IMAGES:
        if tag in tags["images"]:
            latest = events.Images(tag)[-1]
            pictures.append(h.image(latest.encoded_image_string, f"{tag}, step {latest.step}"))
    if pictures:
        parts.append('<h3>Samples (latest)</h3><div class="images">' + "".join(pictures) + "</div>")
    if metrics:
        steps = sorted({s for t in metrics for s, _ in series[t]})
        values = {t: dict(series[t]) for t in metrics}
        rows = [[step, *(values[t].get(step, "") for t in metrics)] for step in steps]
        parts.append("<h3>Metrics</h3>" + h.table(["step", *(t.removeprefix("metrics/") for t in metrics)], rows))
    final = {t: points[-1][1] for t, points in series.items() if points}
    parts.append("<h3>Final scalars</h3>" + h.table(["tag", "value"], sorted(final.items())))
    config = run_dir / "config.yaml"
    if config.is_file():
        parts.append(f"<h3>Config</h3><pre>{h.escape(config.read_text())}</pre>")
    return "".join(parts)


def sweep_table(runs: list[Path]) -> str:
    from ganrun.run.sweeps import read_final

    finals = {run: read_final(run) for run in runs}
    tags = sorted({t for f in finals.values() for t in f if t.startswith("metrics/") or t in ("loss/D", "loss/G")})
    rows = [[run.name, *(finals[run].get(t, "") for t in tags)] for run in runs]
    return "<h2>Runs</h2>" + h.table(["run", *tags], rows)


def write_report(folder: Path, out: Path | None = None) -> Path:
    folder = Path(folder)
    if not folder.is_dir():
        raise ReportError(f"{folder} is not a folder: give a run folder (outputs/runs/...) or a sweep folder")
    runs = run_folders(folder)
    sweep = runs != [folder]
    body = (sweep_table(runs) if sweep else "") + "".join(run_section(run, heading=sweep) for run in runs)
    out = Path(out) if out is not None else folder / "report.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(f".{out.name}.tmp")
    temporary.write_text(h.page(f"ganrun report: {folder.resolve().name}", body), encoding="utf-8")
    temporary.replace(out)
    return out


def main(args: list[str]) -> None:
    """Write the page (default FOLDER/report.html) and say where."""
    positional = [a for a in args if "=" not in a]
    options = dict(a.split("=", 1) for a in args if "=" in a)
    if len(positional) != 1 or set(options) - {"out"}:
        raise UsageError(USAGE)
    out = write_report(Path(positional[0]), options.get("out"))
    print(f"Report written to {out}")
