"""The soak test's parts, one concept a module (``soak.py`` is the entry point):

- ``common``: the lifecycle it checks against, slacks and windows, error classification, options;
- ``server``: the jobwired process under test;
- ``ledger``: every acknowledged write, and how reads and events are judged against it;
- ``plumbing``: counters, pacing, the write gate, framed raw sockets;
- ``load``, ``actors``, ``watchers``: a load process and its threads;
- ``coordinator``, ``faults``, ``report``: the run itself, the faults it injects and its verdict.

Importing the package puts the checkout's Python client (not a possibly older installed copy) and the Python tests'
helpers on the path; the load processes, started with ``spawn``, import it the same way.
"""
from __future__ import annotations

import pathlib
import sys

REPO = pathlib.Path(__file__).resolve().parents[3]
for index, path in enumerate((REPO / "clients" / "python" / "src", REPO / "clients" / "python" / "tests")):
    if str(path) not in sys.path:
        sys.path.insert(index, str(path))

try:
    import jobwire  # noqa: F401 - checked here so that a setup problem is said plainly, once
except ImportError as failure:  # pragma: no cover
    sys.exit(f"soak.py: cannot import the jobwire client ({failure}); run it with "
             f"clients/python/.venv/bin/python (make test-python creates it)")
