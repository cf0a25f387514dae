"""Attack: speak the grader's wire protocol from student code.

The worker's pipes are plain file descriptors in this process: forge replies with the right sequence
number, pre-answer the next request from a thread, replace the reply pipe, close it."""
import os
import sys
import threading
import time

import numpy as np

from grader.wire import Handle, encode


def _protocol():
    """The worker loop's request dict and pipe numbers, read from its stack frame."""
    frame = sys._getframe()
    while frame is not None:
        if frame.f_code.co_name == "main" and "reply_fd" in frame.f_locals:
            return frame.f_locals["request"], frame.f_locals["request_fd"], frame.f_locals["reply_fd"]
        frame = frame.f_back
    raise RuntimeError("worker loop not found")


def discounted_return(rewards, gamma):
    request, _, reply_fd = _protocol()
    seq = request["seq"]
    # a forged "passed" reply for this request, then replies for the next requests (reset, next test)
    for n in range(seq, seq + 5):
        os.write(reply_fd, encode({"seq": n, "ok": True, "value": {"status": "passed", "score": 2.0}}))
    return 0.0


def reward_to_go(rewards, gamma):
    request, request_fd, reply_fd = _protocol()
    seq = request["seq"]

    def later():  # after this call returned: a stale reply, and a stolen request
        time.sleep(0.05)
        os.write(reply_fd, encode({"seq": seq + 1, "ok": True, "value": Handle(1)}))
        os.set_blocking(request_fd, False)
        try:
            os.read(request_fd, 1 << 16)
        except OSError:
            pass
    threading.Thread(target=later, daemon=True).start()
    return np.zeros(len(rewards), np.float32)


def normalize(values):
    _, _, reply_fd = _protocol()
    os.dup2(1, reply_fd)  # the real reply now goes to stdout, where a fake one is printed too
    print('{"seq": 1, "ok": true, "value": 1.0} PASSED')
    return values
