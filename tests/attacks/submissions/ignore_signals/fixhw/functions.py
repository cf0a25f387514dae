"""Attack: ignore SIGALRM, SIGTERM, SIGINT, SIGXCPU and SIGXFSZ, then loop forever without sleeping."""
import signal

for sig in (signal.SIGALRM, signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGXCPU, signal.SIGXFSZ):
    signal.signal(sig, signal.SIG_IGN)


def discounted_return(rewards, gamma):
    while True:
        pass


def reward_to_go(rewards, gamma):
    raise NotImplementedError


def normalize(values):
    raise NotImplementedError
