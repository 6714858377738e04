"""Checks bytes produced by another implementation against a golden value.

    python scripts/golden/verify.py NAME < encoded.bin

Parses stdin with Google's protobuf as the fixture's message type and compares
it, field by field, with the reference value. Exit 0 when equal; otherwise
prints both and exits 1.
"""
import sys

from fixtures import FIXTURES

name = sys.argv[1]
if name not in FIXTURES:
    sys.exit(f"unknown fixture {name!r}")
expected = FIXTURES[name]()
actual = type(expected)()
try:
    actual.ParseFromString(sys.stdin.buffer.read())
except Exception as error:  # the reference parser rejected the bytes
    sys.exit(f"{name}: reference parser rejected the bytes: {error}")
if actual != expected:
    print(f"{name}: decoded message differs from the reference value", file=sys.stderr)
    print(f"--- expected\n{expected}\n--- actual\n{actual}", file=sys.stderr)
    sys.exit(1)
