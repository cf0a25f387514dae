"""Attack: take pseudo-terminals from the host's pool (devpts instances share one global count, so a
sandbox could exhaust it for everyone). Reports what worked; the test expects nothing."""
import os


def probe():
    worked = []
    try:
        master, slave = os.openpty()
        worked.append("openpty")
        os.close(master)
        os.close(slave)
    except OSError:
        pass
    for path in ("/dev/ptmx", "/dev/pts/ptmx"):
        try:
            os.close(os.open(path, os.O_RDWR | os.O_NOCTTY))
            worked.append(path)
        except OSError:
            pass
    return worked


def discounted_return(rewards, gamma):
    return 0.0


def reward_to_go(rewards, gamma):
    raise RuntimeError(f"ptys: {probe()}")  # the attack test reads this message


def normalize(values):
    return values
