"""The sandbox's seccomp filter: a classic BPF program handed to bubblewrap (`--seccomp FD`).

Everything is allowed except
- the kernel keyring (`keyctl`, `add_key`, `request_key` -> EPERM): keyrings are not namespaced, so a
  key one submission stores could be read by the next, and a worker must never read the keys of
  the process that started the grader;
- new user namespaces (`unshare` or `clone` with CLONE_NEWUSER -> EPERM; `clone3` -> ENOSYS, because
  its flags sit in memory a filter cannot read, and libc then falls back to `clone`): inside its own
  user namespace a submission could mount a private tmpfs that no size cap or watcher sees;
- every system call of another ABI (i386 `int 0x80`, x32) -> EPERM, so the numbers above cannot be
  reached under other numbers.

The filter is built here, without libseccomp, as an array of `struct sock_filter` (see
linux/filter.h and linux/seccomp.h); `program()` returns its bytes, or None on an architecture it
does not know (then bubblewrap runs without it and the launcher says so).
"""
from __future__ import annotations

import errno
import platform
import struct

# struct seccomp_data: int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6];
_NR, _ARCH, _ARG0_LOW = 0, 4, 16   # args[0]'s low 32 bits (little-endian machines only, as below)

# BPF opcodes (linux/bpf_common.h)
_LD_W_ABS = 0x00 | 0x00 | 0x20     # BPF_LD | BPF_W | BPF_ABS: A = seccomp_data[k]
_JEQ = 0x05 | 0x10                 # BPF_JMP | BPF_JEQ | BPF_K
_JGE = 0x05 | 0x30                 # BPF_JMP | BPF_JGE | BPF_K
_JSET = 0x05 | 0x40                # BPF_JMP | BPF_JSET | BPF_K: A & k != 0
_RET = 0x06                        # BPF_RET | BPF_K

_ALLOW = 0x7FFF0000                # SECCOMP_RET_ALLOW
_ERRNO = 0x00050000                # SECCOMP_RET_ERRNO | errno

CLONE_NEWUSER = 0x10000000
_X32_SYSCALL_BIT = 0x40000000

# machine -> (AUDIT_ARCH_*, {syscall: number}); numbers from the kernel's syscall tables
ARCHES = {
    "x86_64": (0xC000003E, {"keyctl": 250, "add_key": 248, "request_key": 249,
                            "unshare": 272, "clone": 56, "clone3": 435}),
    "aarch64": (0xC00000B7, {"keyctl": 219, "add_key": 217, "request_key": 218,
                             "unshare": 97, "clone": 220, "clone3": 435}),
}


def program(machine: str | None = None) -> bytes | None:
    """The filter for `machine` (default: this one) as bytes for bubblewrap, or None if unknown."""
    machine = machine or platform.machine()
    if machine not in ARCHES:
        return None
    arch, nr = ARCHES[machine]
    code: list[tuple] = []        # (opcode, k, true_label, false_label) or (opcode, k)

    def jump(op, k, true="next", false="next"):
        code.append((op, k, true, false))

    code.append((_LD_W_ABS, _ARCH))
    jump(_JEQ, arch, false="deny")
    code.append((_LD_W_ABS, _NR))
    if machine == "x86_64":
        jump(_JGE, _X32_SYSCALL_BIT, true="deny")
    for name in ("keyctl", "add_key", "request_key"):
        jump(_JEQ, nr[name], true="deny")
    jump(_JEQ, nr["clone3"], true="enosys")
    jump(_JEQ, nr["unshare"], true="flags")
    jump(_JEQ, nr["clone"], true="flags")
    labels = {"allow": len(code)}
    code.append((_RET, _ALLOW))
    labels["flags"] = len(code)   # unshare(flags) and clone(flags, ...): flags is args[0]
    code.append((_LD_W_ABS, _ARG0_LOW))
    jump(_JSET, CLONE_NEWUSER, true="deny")
    code.append((_RET, _ALLOW))
    labels["deny"] = len(code)
    code.append((_RET, _ERRNO | errno.EPERM))
    labels["enosys"] = len(code)
    code.append((_RET, _ERRNO | errno.ENOSYS))

    out = b""
    for index, instruction in enumerate(code):
        if len(instruction) == 2:
            op, k = instruction
            out += struct.pack("=HBBI", op, 0, 0, k)
            continue
        op, k, true, false = instruction
        offsets = [0 if label == "next" else labels[label] - index - 1 for label in (true, false)]
        out += struct.pack("=HBBI", op, offsets[0], offsets[1], k)
    return out


def program_fd() -> int | None:
    """A file descriptor (memfd, position 0) holding `program()`, for `bwrap --seccomp FD`."""
    data = program()
    if data is None:
        return None
    import os
    fd = os.memfd_create("grader-seccomp", os.MFD_CLOEXEC)
    os.write(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd
