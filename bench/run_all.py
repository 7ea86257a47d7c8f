"""Runs every benchmark in bench/ and prints one JSON object per line."""

import subprocess
import sys
from pathlib import Path

here = Path(__file__).resolve().parent
failed = 0
for script in sorted(here.glob("*_bench.py")):
    failed |= subprocess.call([sys.executable, str(script)])
sys.exit(failed)
