"""Attack: reach the network (to fetch answers or exfiltrate the suite); report what worked."""
import socket


def probe():
    reached = []
    for host, port in (("1.1.1.1", 53), ("8.8.8.8", 443), ("pypi.org", 443), ("127.0.0.1", 22)):
        try:
            socket.create_connection((host, port), timeout=1).close()
            reached.append(f"{host}:{port}")
        except OSError:
            pass
    return reached


def discounted_return(rewards, gamma):
    return float(len(probe()))


def reward_to_go(rewards, gamma):
    raise RuntimeError(f"reached: {probe()}")  # the attack test reads this message


def normalize(values):
    raise NotImplementedError
