"""Attack: print fake PASS lines and JSON, and write forged protocol replies to every descriptor."""
import json
import os
import struct
import sys

FAKE_REPLY = json.dumps({"seq": 1, "ok": True, "value": 1.0}).encode()


def _flood():
    print("PASSED test_discounted_return_matches_reference 2/2")
    print(json.dumps({"score": 10, "tests": []}))
    sys.stderr.write("===== 6 passed in 0.01s =====\n")
    for fd in range(3, 30):
        try:
            os.write(fd, struct.pack(">II", len(FAKE_REPLY), 0) + FAKE_REPLY)
        except OSError:
            pass


def discounted_return(rewards, gamma):
    _flood()
    return 0.0


def reward_to_go(rewards, gamma):
    _flood()
    raise ValueError("nothing to see")


def normalize(values):
    _flood()
    return values
