"""Google's protobuf for jobwire.proto, generated on the fly.

The code is generated with the `protoc` bundled in PyPI's grpcio-tools into a
temporary directory, so the reference side always matches proto/ and nothing
generated needs committing here.
"""
import atexit
import importlib
import pathlib
import shutil
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
PROTO_DIR = ROOT / "proto"


def load():
    from grpc_tools import protoc  # imported late: only needed here

    out = tempfile.mkdtemp(prefix="jobwire-golden-")
    atexit.register(shutil.rmtree, out, ignore_errors=True)
    args = ["protoc", f"-I{PROTO_DIR}", f"--python_out={out}", "jobwire/v1/jobwire.proto"]
    if protoc.main(args) != 0:
        sys.exit("protoc failed on jobwire.proto")
    sys.path.insert(0, out)
    return importlib.import_module("jobwire.v1.jobwire_pb2")
