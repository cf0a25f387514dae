"""Attack: leave the worker in every possible way in the middle of a graded call."""
import os
import sys


class Escape(BaseException):
    pass


def discounted_return(rewards, gamma):
    os._exit(0)


def reward_to_go(rewards, gamma):
    sys.exit(0)


def normalize(values):
    raise KeyboardInterrupt
