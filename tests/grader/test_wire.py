"""grader.wire: what crosses between worker and harness, and what is refused."""
import os
import struct

import numpy as np
import pytest

from grader.wire import (Handle, Limits, PeerClosed, WireError, WireTimeout, decode, encode, read_message,
                         write_message)


def roundtrip(value, limits=Limits()):
    read_fd, write_fd = os.pipe()
    try:
        write_message(write_fd, value, limits)
        return read_message(read_fd, timeout=5, limits=limits)
    finally:
        os.close(read_fd)
        os.close(write_fd)


def test_plain_values_and_arrays_survive_a_roundtrip():
    value = {"none": None, "flag": True, "n": -3, "x": 1.5, "s": "héllo", "list": [1, [2.0, "a"]],
             "tuple": (1, 2), "handle": Handle(7), "f32": np.arange(6, dtype=np.float32).reshape(2, 3),
             "bool": np.array([True, False]), "u8": np.zeros((0, 4), np.uint8), "scalar": np.float32(2.5)}
    got = roundtrip(value)
    assert got["tuple"] == [1, 2] and got["handle"] == Handle(7) and got["scalar"] == 2.5
    assert got["f32"].dtype == np.float32 and got["f32"].shape == (2, 3) and got["f32"].flags.writeable
    np.testing.assert_array_equal(got["f32"], value["f32"])
    assert got["u8"].shape == (0, 4) and got["bool"].dtype == np.bool_
    assert {k: got[k] for k in ("none", "flag", "n", "x", "s", "list")} == \
        {"none": None, "flag": True, "n": -3, "x": 1.5, "s": "héllo", "list": [1, [2.0, "a"]]}


def test_nan_and_inf_are_values_not_errors():
    got = roundtrip([float("nan"), np.array([np.inf, -np.inf, np.nan])])
    assert np.isnan(got[0]) and np.isinf(got[1][:2]).all() and np.isnan(got[1][2])


def test_a_dict_using_tag_names_as_keys_stays_a_dict():
    assert roundtrip({"$nd": 0, "$handle": 1}) == {"$nd": 0, "$handle": 1}


@pytest.mark.parametrize("value", [
    np.array([object()], dtype=object), np.array(["a"]), np.zeros(2, dtype=np.complex64),
    type("Sneaky", (float,), {"__eq__": lambda self, other: True})(1.0), {1: "int key"}, object(),
])
def test_objects_arrays_strings_and_subclasses_are_refused(value):
    with pytest.raises(WireError):
        encode(value)


def test_convert_hook_turns_unknown_types_into_values():
    class Tensorish:
        def numpy(self):
            return np.ones(3)
    blob = encode([Tensorish()], convert=lambda v: v.numpy() if isinstance(v, Tensorish) else NotImplemented)
    json_len, n_arrays = struct.unpack(">II", blob[:8])
    assert n_arrays == 1


def test_decoder_checks_byte_count_dtype_and_depth():
    with pytest.raises(WireError, match="needs 16 bytes"):
        decode(b'{"$nd": 0, "dtype": "float64", "shape": [2]}', [b"\0" * 12])
    with pytest.raises(WireError, match="not allowed"):
        decode(b'{"$nd": 0, "dtype": "object", "shape": [1]}', [b"\0" * 8])
    with pytest.raises(WireError):
        decode(b"[" * 40 + b"]" * 40, [])
    with pytest.raises(WireError, match="no value refers to"):
        decode(b"1", [b"spare"])
    with pytest.raises(WireError):
        decode(b"not json", [])


def test_declared_sizes_are_checked_before_reading():
    read_fd, write_fd = os.pipe()
    try:
        os.write(write_fd, struct.pack(">II", 10**9, 0))
        with pytest.raises(WireError, match="exceeds"):
            read_message(read_fd, timeout=2)
    finally:
        os.close(read_fd)
        os.close(write_fd)


def test_half_a_message_times_out_and_a_closed_pipe_is_reported():
    read_fd, write_fd = os.pipe()
    os.write(write_fd, encode([1, 2, 3])[:5])
    with pytest.raises(WireTimeout):
        read_message(read_fd, timeout=0.2)
    os.close(write_fd)
    with pytest.raises(PeerClosed):
        read_message(read_fd, timeout=1)
    os.close(read_fd)


def test_arrays_read_from_a_pipe_are_writable_native_and_independent():
    big_endian = np.arange(4, dtype=">i4")
    got = roundtrip([np.arange(6, dtype=np.float32), big_endian, np.float64(1.5)])
    assert all(a.flags.writeable and a.dtype.isnative for a in got[:2])
    got[0][0] = 42.0
    np.testing.assert_array_equal(got[1], [0, 1, 2, 3])
    np.testing.assert_array_equal(got[0], [42, 1, 2, 3, 4, 5])


def test_what_a_reply_may_make_the_grader_allocate_is_capped():
    """Replies are read into the harness's memory: arrays and the JSON part are both capped before
    any allocation, whatever the header claims."""
    with pytest.raises(WireError, match="exceeds"):
        encode(np.zeros(257 * 2**20, np.uint8))
    with pytest.raises(WireError, match="exceeds"):
        encode([[]] * (2 * 2**20))  # 4 MiB of tiny lists: ~40x that in Python objects
    read_fd, write_fd = os.pipe()
    try:
        os.write(write_fd, struct.pack(">II", 2, 1) + b"[]" + struct.pack(">Q", 2**40))
        with pytest.raises(WireError, match="exceeds the size limit"):
            read_message(read_fd, timeout=2)
    finally:
        os.close(read_fd)
        os.close(write_fd)
