"""Wire format between the trusted harness and the untrusted worker.

Nothing that arrives from the worker is ever unpickled, `torch.load`-ed or `eval`-ed. A message is

    [4 bytes: big-endian uint32 N] [4 bytes: uint32 K, the number of arrays] [N bytes: UTF-8 JSON]
    then K times: [8 bytes: big-endian uint64 B] [B bytes: one array's raw little-endian data, C order]

Values a message can carry (everything else is refused on encoding):
    None, bool, int, float (NaN and +-inf included: they are values the suite checks, not errors),
    str, lists (tuples become lists), dicts with str keys, numpy arrays and numpy scalars of the
    whitelisted dtypes below, and `Handle`s (references to objects living in the worker).

Inside the JSON, non-JSON values are tagged objects: an array is {"$nd": index, "dtype": "float32",
"shape": [2, 3]}, a handle {"$handle": 7}, a dict {"$dict": {...}} (so a student dict can never pass for
a tag). The decoder checks every size against `Limits` *before* allocating, checks that the bytes
match dtype x shape exactly, and caps the nesting depth.
"""
from __future__ import annotations

import json
import os
import selectors
import struct
import time
from dataclasses import dataclass

import numpy as np

# Only plain numeric dtypes may cross: no object, void, string or datetime arrays.
ALLOWED_DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
                  "float16", "float32", "float64")
_HEADER = struct.Struct(">II")
_BUFFER = struct.Struct(">Q")


class WireError(Exception):
    """A message is malformed, too large, or holds a value the protocol does not allow."""


class PeerClosed(WireError):
    """The other side closed its end of the pipe (usually: the worker process died)."""


class WireTimeout(WireError):
    """No complete message arrived before the deadline."""


@dataclass(frozen=True)
class Handle:
    """Reference to an object that lives in the worker (a student's agent, network, buffer...)."""
    id: int


@dataclass(frozen=True)
class Limits:
    """What one message may hold. The harness reads the worker's replies into its own memory, so these
    also bound what a submission can make the grader allocate: about the array bytes once, and for
    the JSON part (many tiny lists or dicts) up to ~40x its size in Python objects."""
    max_json_bytes: int = 4 * 2**20      # numbers in bulk belong in arrays
    max_array_bytes: int = 256 * 2**20   # per array
    max_total_bytes: int = 256 * 2**20   # all arrays of one message
    max_arrays: int = 10_000
    max_ndim: int = 8
    max_depth: int = 32


DEFAULT_LIMITS = Limits()


# ---------------------------------------------------------------------------------------- encoding
def encode(value, limits: Limits = DEFAULT_LIMITS, convert=None) -> bytes:
    """Serialize `value` into one message (header + arrays). Raises WireError on a refused value.

    `convert(obj) -> value`, when given, is tried on any object of a type the protocol does not know
    (the worker uses it to turn torch tensors into numpy arrays); it returns NotImplemented to refuse.
    """
    buffers: list[bytes] = []
    tree = _to_tree(value, buffers, limits, 0, convert)
    try:
        text = json.dumps(tree, allow_nan=True).encode("utf-8")
    except (TypeError, ValueError) as err:  # pragma: no cover - _to_tree already filtered types
        raise WireError(f"cannot encode value: {err}") from None
    if len(text) > limits.max_json_bytes:
        raise WireError(f"message header of {len(text)} bytes exceeds {limits.max_json_bytes}")
    parts = [_HEADER.pack(len(text), len(buffers)), text]
    for buf in buffers:
        parts += [_BUFFER.pack(len(buf)), buf]
    return b"".join(parts)


def _to_tree(value, buffers: list, limits: Limits, depth: int, convert=None):
    if depth > limits.max_depth:
        raise WireError(f"value is nested deeper than {limits.max_depth} levels")
    # exact type checks: a subclass of float/int/str could override __eq__ and fool a comparison
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, np.generic) and value.dtype.name in ALLOWED_DTYPES:
        return value.item()
    if type(value) is np.ndarray:
        return _array_tag(value, buffers, limits)
    if type(value) is Handle:
        return {"$handle": int(value.id)}
    if type(value) in (list, tuple):
        return [_to_tree(item, buffers, limits, depth + 1, convert) for item in value]
    if type(value) is dict:
        out = {}
        for key, item in value.items():
            if type(key) is not str:
                raise WireError(f"dict keys must be str, got {type(key).__name__}")
            out[key] = _to_tree(item, buffers, limits, depth + 1, convert)
        return {"$dict": out}
    if convert is not None:
        converted = convert(value)
        if converted is not NotImplemented:
            return _to_tree(converted, buffers, limits, depth + 1, None)
    raise WireError(f"cannot send a value of type {type(value).__module__}.{type(value).__qualname__}")


def _array_tag(array: np.ndarray, buffers: list, limits: Limits) -> dict:
    name = array.dtype.name
    if name not in ALLOWED_DTYPES:
        raise WireError(f"arrays of dtype {name} cannot be sent; use one of {', '.join(ALLOWED_DTYPES)}")
    if array.ndim > limits.max_ndim:
        raise WireError(f"array has {array.ndim} dimensions, more than {limits.max_ndim}")
    if array.nbytes > limits.max_array_bytes:
        raise WireError(f"array of {array.nbytes} bytes exceeds {limits.max_array_bytes}")
    data = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()
    buffers.append(data)
    return {"$nd": len(buffers) - 1, "dtype": name, "shape": list(array.shape)}


# ---------------------------------------------------------------------------------------- decoding
def decode(header: bytes | bytearray, buffers: list, limits: Limits = DEFAULT_LIMITS):
    """Rebuild a value from a JSON header and its raw array buffers, checking everything."""
    try:
        tree = json.loads(header.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise WireError(f"malformed message header: {type(err).__name__}") from None
    used: set = set()
    value = _from_tree(tree, buffers, limits, depth=0, used=used)
    if len(used) != len(buffers):
        raise WireError("malformed message: array data that no value refers to")
    return value


def _from_tree(tree, buffers, limits: Limits, depth: int, used: set):
    if depth > limits.max_depth:
        raise WireError(f"value is nested deeper than {limits.max_depth} levels")
    if tree is None or type(tree) in (bool, int, float, str):
        return tree
    if type(tree) is list:
        return [_from_tree(item, buffers, limits, depth + 1, used) for item in tree]
    if type(tree) is not dict or len(tree) == 0:
        raise WireError("malformed message: unexpected JSON value")
    if "$dict" in tree and len(tree) == 1 and type(tree["$dict"]) is dict:
        return {key: _from_tree(item, buffers, limits, depth + 1, used) for key, item in tree["$dict"].items()}
    if "$handle" in tree and len(tree) == 1 and type(tree["$handle"]) is int:
        return Handle(tree["$handle"])
    if set(tree) == {"$nd", "dtype", "shape"}:
        return _array_from_tag(tree, buffers, limits, used)
    raise WireError("malformed message: unknown tagged object")


def _array_from_tag(tag: dict, buffers, limits: Limits, used: set) -> np.ndarray:
    index, dtype, shape = tag["$nd"], tag["dtype"], tag["shape"]
    if type(index) is not int or not 0 <= index < len(buffers) or index in used:
        raise WireError("malformed message: bad array reference")
    used.add(index)
    if dtype not in ALLOWED_DTYPES:
        raise WireError(f"array dtype {dtype!r} is not allowed")
    if type(shape) is not list or len(shape) > limits.max_ndim or any(type(n) is not int or n < 0 for n in shape):
        raise WireError(f"bad array shape {shape!r}")
    dt = np.dtype(dtype).newbyteorder("<")
    expected = int(np.prod(shape, dtype=object)) * dt.itemsize
    if expected != len(buffers[index]):
        raise WireError(f"array of shape {shape} and dtype {dtype} needs {expected} bytes, got {len(buffers[index])}")
    array = np.frombuffer(buffers[index], dtype=dt).reshape(shape)
    # the result must be writable and in native byte order: a bytearray buffer (what read_message
    # gives) is used as it is on a little-endian machine, anything else is copied
    return array.astype(dtype, copy=not isinstance(buffers[index], bytearray))


# ----------------------------------------------------------------------------------------- framing
def write_message(fd: int, value, limits: Limits = DEFAULT_LIMITS, convert=None,
                  timeout: float | None = None) -> None:
    """Encode `value` and write it whole to `fd` (see `send_bytes`)."""
    send_bytes(fd, encode(value, limits, convert), timeout)


def send_bytes(fd: int, message: bytes, timeout: float | None = None) -> None:
    """Write an encoded message whole to `fd`; with `timeout`, a peer that stops reading raises
    WireTimeout instead of blocking the writer forever. A closed peer raises PeerClosed."""
    data = memoryview(message)
    selector = None
    if timeout is not None:
        deadline = time.monotonic() + timeout
        selector = selectors.DefaultSelector()
        selector.register(fd, selectors.EVENT_WRITE)
    try:
        while data:
            if selector is not None:
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    raise WireTimeout("the other side stopped reading")
            try:
                written = os.write(fd, data[: 1 << 16] if selector is not None else data)
            except BlockingIOError:  # non-blocking fd with a full pipe: wait for room again
                continue
            except (BrokenPipeError, ConnectionResetError):
                raise PeerClosed("the other side closed the connection") from None
            data = data[written:]
    finally:
        if selector is not None:
            selector.close()


def read_message(fd: int, timeout: float | None = None, limits: Limits = DEFAULT_LIMITS):
    """Read one message from `fd` and decode it.

    `timeout` (seconds, None = wait forever) bounds the whole message, so a peer that sends half a
    message and stalls cannot hang the reader. Raises PeerClosed, WireTimeout or WireError.
    """
    reader = _Reader(fd, None if timeout is None else time.monotonic() + timeout)
    try:
        return _read(reader, limits)
    finally:
        reader.close()


def _read(reader: "_Reader", limits: Limits):
    json_len, n_arrays = _HEADER.unpack(reader.exactly(_HEADER.size))
    if json_len > limits.max_json_bytes:
        raise WireError(f"message header of {json_len} bytes exceeds {limits.max_json_bytes}")
    if n_arrays > limits.max_arrays:
        raise WireError(f"message holds more than {limits.max_arrays} arrays")
    header = reader.exactly(json_len)
    buffers, total = [], 0
    for _ in range(n_arrays):
        (size,) = _BUFFER.unpack(reader.exactly(_BUFFER.size))
        total += size
        if size > limits.max_array_bytes or total > limits.max_total_bytes:
            raise WireError(f"array data of {size} bytes exceeds the size limit")
        buffers.append(reader.exactly(size))
    return decode(header, buffers, limits)


class _Reader:
    """Reads exact byte counts from a pipe, honouring an absolute deadline."""

    def __init__(self, fd: int, deadline: float | None):
        self.fd, self.deadline = fd, deadline
        self.selector = selectors.DefaultSelector() if deadline is not None else None
        if self.selector is not None:
            self.selector.register(fd, selectors.EVENT_READ)

    def close(self) -> None:
        if self.selector is not None:
            self.selector.close()

    def exactly(self, n: int) -> bytearray:
        """n bytes, read straight into one buffer (no second copy of a large array in memory)."""
        buffer = bytearray(n)
        view, done = memoryview(buffer), 0
        while done < n:
            if self.selector is not None:
                left = self.deadline - time.monotonic()
                if left <= 0 or not self.selector.select(left):
                    raise WireTimeout("no reply before the deadline")
            got = os.readv(self.fd, [view[done:done + (1 << 20)]])
            if not got:
                raise PeerClosed("the other side closed the connection")
            done += got
        return buffer
