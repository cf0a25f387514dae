"""Attack: ignore SIGALRM, SIGTERM and SIGINT, then loop forever without sleeping."""
import signal

for sig in (signal.SIGALRM, signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(sig, signal.SIG_IGN)


def discounted_return(rewards, gamma):
    while True:
        pass


def reward_to_go(rewards, gamma):
    raise NotImplementedError


def normalize(values):
    raise NotImplementedError
