"""Length-prefixed framing: a 4-byte big-endian length N, then N bytes of one ``Frame``."""
from __future__ import annotations

import struct
from typing import Final

from ._pb import jobwire_pb2 as pb
from .errors import InvalidArgument, Reason, ResourceExhausted, StatusCode

#: The default (and, until the HelloAck, the assumed) maximum frame body.
DEFAULT_MAX_FRAME_BYTES: Final = 4 * 1024 * 1024
#: The smallest maximum a peer may announce; smaller values are raised to it.
MIN_MAX_FRAME_BYTES: Final = 64 * 1024

_PREFIX: Final = struct.Struct(">I")


def encode_frame(frame: pb.Frame, max_frame_bytes: int) -> bytes:
    """The frame with its length prefix; ``RESOURCE_EXHAUSTED`` / ``FRAME_TOO_LARGE`` above the limit."""
    body = frame.SerializeToString()
    if len(body) > max_frame_bytes:
        raise ResourceExhausted(StatusCode.RESOURCE_EXHAUSTED, Reason.FRAME_TOO_LARGE,
                                f"a frame of {len(body)} bytes exceeds the connection's limit of {max_frame_bytes}")
    return _PREFIX.pack(len(body)) + body


class FrameDecoder:
    """Splits a byte stream into frame bodies, checking each length prefix before reading the body."""

    def __init__(self, max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES) -> None:
        self.max_frame_bytes = max_frame_bytes
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        """The complete frame bodies `data` finishes, in order.

        Raises ``INVALID_ARGUMENT`` / ``EMPTY_FRAME`` or ``RESOURCE_EXHAUSTED`` /
        ``FRAME_TOO_LARGE`` on a bad prefix: the stream can no longer be trusted.
        """
        self._buffer += data
        bodies: list[bytes] = []
        offset = 0
        while len(self._buffer) - offset >= _PREFIX.size:
            (length,) = _PREFIX.unpack_from(self._buffer, offset)
            if length == 0:
                raise InvalidArgument(StatusCode.INVALID_ARGUMENT, Reason.EMPTY_FRAME, "a frame with length 0")
            if length > self.max_frame_bytes:
                raise ResourceExhausted(StatusCode.RESOURCE_EXHAUSTED, Reason.FRAME_TOO_LARGE,
                                        f"a frame of {length} bytes exceeds the limit of {self.max_frame_bytes}")
            end = offset + _PREFIX.size + length
            if end > len(self._buffer):
                break
            bodies.append(bytes(self._buffer[offset + _PREFIX.size:end]))
            offset = end
        if offset:
            del self._buffer[:offset]
        return bodies
