"""Attack: hold memory no rlimit counts and no process owns: memfd files sent over a unix socket and
closed, so they live only "in flight" in the socket (invisible in /proc/PID/fd). The fixture's memory
limit is 1024 MB; this holds 1400 MB (200 files of 7 MB, under the 8 MB file size limit), then
reports it. The test expects the sandbox to be stopped with "memory limit exceeded" before that."""
import os
import socket


def discounted_return(rewards, gamma):
    left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    held = 0
    for _ in range(200):
        fd = os.memfd_create("in-flight")
        os.posix_fallocate(fd, 0, 7 * 2**20)  # real pages, without copying bytes in
        socket.send_fds(left, [b"x"], [fd])
        os.close(fd)  # now only the socket holds it
        held += 7
    discounted_return.keep = (left, right)
    return f"held {held} MB in flight"


def reward_to_go(rewards, gamma):
    raise NotImplementedError


def normalize(values):
    raise NotImplementedError
