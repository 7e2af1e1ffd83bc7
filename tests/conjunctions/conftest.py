"""Make the helper module beside these tests and the brute-force reference in tools/ importable."""

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
for _p in (_HERE, _HERE.parents[1] / "tools"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))
