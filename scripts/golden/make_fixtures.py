"""Writes every golden fixture as NAME.bin (the reference encoding).

    python scripts/golden/make_fixtures.py [OUT_DIR]
"""
import pathlib
import sys

from fixtures import FIXTURES
from reference import ROOT

out = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "Tests/JobWireProtocolTests/Fixtures/golden"
out.mkdir(parents=True, exist_ok=True)
for stale in out.glob("*.bin"):
    stale.unlink()
for name, build in sorted(FIXTURES.items()):
    (out / f"{name}.bin").write_bytes(build().SerializeToString(deterministic=True))
print(f"wrote {len(FIXTURES)} fixtures to {out}")
