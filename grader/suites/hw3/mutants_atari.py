"""The atari.py entries of the hw3 mutants (grader/suites/hw3/mutants.py imports ATARI_MUTANTS): planted
changes to the reference `stack_frames` (README 4.2), graded on test_atari.py.

Bugs are the classic ways of rebuilding a frame stack from a frame-once buffer wrongly; the correct
variants are other legitimate readings of the docstring, which must score full marks.
"""
from __future__ import annotations

from grader.mutants import Mutant

STEPS_BACK = "    steps_back = np.arange(frame_stack - 1, -1, -1)  # k - 1, ..., 1, 0 steps before the newest frame\n"
CLAMP = "np.minimum(steps_back[None, :], positions[newest][:, None])"
GATHER = "    return frames[(newest[:, None] - steps_back) % len(frames)]\n"

ATARI_MUTANTS = (
    # ---- bugs: each named test must lose points
    Mutant("stack_crosses_episode_boundary", "atari.py",
           ((CLAMP, "np.minimum(steps_back[None, :], frame_stack)"),),
           ("test_stack_frames_matches_reference", "test_stack_frames_never_crosses_an_episode_start")),
    Mutant("stack_pads_with_zeros", "atari.py",
           ((GATHER,
             "    stacks = frames[(newest[:, None] - steps_back) % len(frames)].copy()\n"
             "    stacks[np.arange(frame_stack - 1, -1, -1)[None, :] > positions[newest][:, None]] = 0\n"
             "    return stacks\n"),),
           ("test_stack_frames_matches_reference", "test_stack_frames_never_crosses_an_episode_start")),
    Mutant("stack_newest_first", "atari.py",
           ((STEPS_BACK, "    steps_back = np.arange(frame_stack)  # newest frame first\n"),),
           ("test_stack_frames_matches_reference", "test_stack_frames_never_crosses_an_episode_start",
            "test_stack_frames_wraps_around_the_ring")),
    Mutant("stack_padding_off_by_one", "atari.py",
           ((CLAMP, "np.minimum(steps_back[None, :], positions[newest][:, None] + 1)"),),
           ("test_stack_frames_matches_reference", "test_stack_frames_never_crosses_an_episode_start")),
    Mutant("stack_ignores_ring_wrap", "atari.py",
           ((GATHER, "    return frames[np.maximum(newest[:, None] - steps_back, 0)]\n"),),
           ("test_stack_frames_wraps_around_the_ring",)),
    Mutant("stack_of_four_frames_always", "atari.py",
           ((STEPS_BACK, "    frame_stack = 4\n" + STEPS_BACK),),
           ("test_stack_frames_never_crosses_an_episode_start",)),
    # ---- correct variants: full marks
    Mutant("stack_walks_back_per_sample", "atari.py",
           ((STEPS_BACK,
             "    stacks = []\n"
             "    for slot in newest:  # walk back from the newest frame, staying on the reset frame once there\n"
             "        stack = [frames[slot]]\n"
             "        for _ in range(frame_stack - 1):\n"
             "            if positions[slot] > 0:\n"
             "                slot = (slot - 1) % len(frames)\n"
             "            stack.insert(0, frames[slot])\n"
             "        stacks.append(np.stack(stack))\n"
             "    return np.stack(stacks)\n" + STEPS_BACK),),
           kind="correct"),
    Mutant("stack_negative_indices_wrap", "atari.py",
           ((GATHER, "    return frames[newest[:, None] - steps_back]  # numpy reads slot -1 as the last one\n"),),
           kind="correct"),
    Mutant("stack_from_the_reset_slot", "atari.py",
           ((CLAMP + "  # not before the reset frame\n" + GATHER,
             "steps_back[None, :]\n"
             "    reset_slots = newest - positions[newest]\n"
             "    slots = np.maximum(newest[:, None] - steps_back, reset_slots[:, None]) % len(frames)\n"
             "    return frames[slots].astype(np.int64)  # any integer dtype\n"),),
           kind="correct"),
)
