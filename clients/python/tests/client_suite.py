"""For the suites outside this directory (hardening/hostile, web/tests) that reuse this one's test servers.

Their conftest puts this directory on ``sys.path`` and calls :func:`client_conftest`, which loads this directory's
``conftest.py`` under another module name (two modules named ``conftest`` cannot both be imported), so that its
fixtures (``start_server``, ``keyring``, ...) can be made fixtures there too.
"""
from __future__ import annotations

import importlib.util
import pathlib
from types import ModuleType

_CONFTEST = pathlib.Path(__file__).resolve().parent / "conftest.py"


def client_conftest() -> ModuleType:
    spec = importlib.util.spec_from_file_location("jobwire_client_test_conftest", _CONFTEST)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
