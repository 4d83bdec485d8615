"""Run every bad input of the test tables through the CLI and print what each answers, as markdown.

    PYTHONPATH=. OMP_NUM_THREADS=1 python scripts/bad_inputs.py > docs/bad_inputs.md

Paths under the temporary folder are shown as <inputs>/.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

from tests.test_cli import BAD_OVERRIDES
from ganrun.run.checkpoint import FORMAT
from tests.test_failures import BAD_INPUTS
from tests.tiny_runs import ENV, RUN, cli_args, make_inputs

# Refused once torch has read the file; tests/test_failures.py and tests/test_state.py check these in process.
MORE = {
    "malicious pickle as checkpoint": ["trainer.resume={i}/malicious.pt"],
    "checkpoint of another config": ["seed=4", "trainer.resume={i}/another_config.pt"],
    "forced into networks of another size": ["architecture.generator.width=32", "trainer.resume_force=true",
                                             "trainer.resume={i}/another_config.pt"],
}


class Payload:
    def __reduce__(self):
        return exec, ("open('payload_ran', 'w').write('ran')",)


def answer(arguments: list[str], cwd: Path) -> tuple[int, str]:
    result = subprocess.run([sys.executable, "-m", "ganrun", "train", *arguments], cwd=cwd, env=ENV,
                            capture_output=True, text=True, timeout=300)
    return result.returncode, result.stderr.strip()


def main() -> None:
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        with contextlib.redirect_stdout(sys.stderr):
            inputs = make_inputs(root / "inputs")
        torch.save({"format": FORMAT, "step": 1, "generator": Payload()}, inputs / "malicious.pt")
        work = root / "work"
        work.mkdir()
        rows = [(" ".join(overrides), *answer(overrides, work)) for overrides, _ in BAD_OVERRIDES]
        for name, arguments in [*((n, a) for n, (a, _) in BAD_INPUTS.items()), *MORE.items()]:
            base = RUN if "dataset=image_folder" not in arguments else []
            shown = [a.format(i="<inputs>") for a in arguments]
            rows.append((f"{name}: {' '.join(shown)}",
                         *answer(cli_args(*base, *(a.format(i=inputs) for a in arguments)), work)))
        ran = (work / "payload_ran").exists()
        command = __doc__.splitlines()[2].strip()
        print(f"Every bad input of tests/test_cli.py and tests/test_failures.py, run with `{command}`.\n")
        print("| input | exit | what ganrun prints (stderr) |\n| --- | --- | --- |")
        for shown, code, stderr in rows:
            text = stderr.replace(str(inputs), "<inputs>").replace("|", "\\|").replace("\n", "<br>")
            print(f"| `{shown}` | {code} | {text} |")
        print(f"\nThe malicious pickle's payload ran: {ran}.")


if __name__ == "__main__":
    main()
