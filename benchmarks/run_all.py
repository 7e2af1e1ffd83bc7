"""Run every benchmark that exists and print one JSON object keyed by benchmark name."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SKIP = {"run_all.py"}

if __name__ == "__main__":
    results = {}
    for script in sorted(HERE.glob("*.py")):
        if script.name in SKIP or script.name.startswith("_"):
            continue
        proc = subprocess.run([sys.executable, str(script), "--json"], capture_output=True, text=True)
        try:
            results[script.stem] = json.loads(proc.stdout.strip().splitlines()[-1])
        except (json.JSONDecodeError, IndexError):
            results[script.stem] = {"error": (proc.stderr or proc.stdout)[-2000:], "exit_code": proc.returncode}
    print(json.dumps(results, indent=2))
