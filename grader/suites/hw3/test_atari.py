"""Hidden tests of the pixel part (README 4.2): `stack_frames` rebuilds FrameStackObservation's stacks
from one env's ring of frames in FrameReplayBuffer.

Every ring is drawn from `rng` the way FrameReplayBuffer writes one: episodes of random lengths, each
a reset frame (position 0) followed by one frame per step, written slot after slot and wrapping around
the ring's end, so the oldest episode is partly overwritten. Stacks are asked only where all their
frames are still stored (as the buffer's sampling guarantees). Frames are random 84x84 uint8 images,
so each one is told apart from every other; expected stacks come from the reference `stack_frames`.
"""
import numpy as np

from grader.harness.api import check_array, points
from hw3_qlearning_ac import atari as reference

MODULE = "hw3_qlearning_ac.atari"
FRAME_SHAPE = (84, 84)
CONFIG_FRAME_STACK = 4  # what make_atari_env and the Atari config use


def written_ring(rng, num_slots, max_episode_length=12):
    """frames (S, 84, 84) uint8 and positions (S,) of a ring written past its end, and the write pointer.

    The ring is rotated by a random amount, so the write pointer (and with it the ring's wrap-around)
    can be anywhere.
    """
    total = num_slots + int(rng.integers(1, num_slots))
    positions = np.empty(total, dtype=np.int64)
    written = 0
    while written < total:
        length = int(rng.integers(1, max_episode_length + 1))  # transitions of this episode
        chunk = np.arange(min(length + 1, total - written))      # its reset frame, then one frame per step
        positions[written:written + len(chunk)] = chunk
        written += len(chunk)
    ring = np.empty(num_slots, dtype=np.int64)
    ring[np.arange(total) % num_slots] = positions  # later writes overwrite earlier ones
    shift = int(rng.integers(0, num_slots))
    frames = rng.integers(0, 256, size=(num_slots, *FRAME_SHAPE), dtype=np.uint8)
    return frames, np.roll(ring, shift), (total + shift) % num_slots


def stackable(positions, write, frame_stack):
    """Slots whose whole stack is still stored (FrameReplayBuffer samples only those)."""
    num_slots = len(positions)
    slots = np.arange(num_slots)
    age = (write - 1 - slots) % num_slots  # 0: the newest slot
    return slots[age + np.minimum(positions, frame_stack - 1) < num_slots]


def remote_stacks(submission, frames, positions, newest, frame_stack):
    got = submission.call(f"{MODULE}.stack_frames", frames, positions, newest, frame_stack)
    return check_array(got, "stack_frames", shape=(len(newest), frame_stack, *FRAME_SHAPE), dtype="int")


def first_wrong_stack(got, frames, positions, newest, frame_stack):
    """None when `got` equals the reference's stacks; else a message about the first wrong frame."""
    expected = reference.stack_frames(frames, positions, newest, frame_stack)
    wrong = np.argwhere((got != expected).any(axis=(2, 3)))
    if len(wrong) == 0:
        return None
    b, j = (int(x) for x in wrong[0])
    slot, position = int(newest[b]), int(positions[newest[b]])
    steps_back = frame_stack - 1 - j
    where = (f"stack_frames(frames, positions, newest, frame_stack={frame_stack}) is wrong in {len(wrong)} of "
             f"{len(newest) * frame_stack} frames; first: stack {b} (newest frame at slot {slot}, of position "
             f"{position}), frame {j} (0 = the oldest): ")
    same_as = [s for s in range(len(frames)) if np.array_equal(got[b, j], frames[s])]
    before_reset = {(slot - d) % len(frames) for d in range(position + 1, frame_stack)}
    if not got[b, j].any():
        return where + "a frame of zeros; pad with the episode's reset frame, as FrameStackObservation does"
    if steps_back > position and same_as and same_as[0] in before_reset:
        return where + ("a frame from before the episode's reset frame (another episode's): a stack never "
                        "crosses an episode start, it repeats the reset frame instead")
    if same_as:
        return where + f"the frame of slot {same_as[0]}, expected the frame of slot {(slot - min(steps_back, position)) % len(frames)}"
    return where + "a frame that is not in the ring"


@points(2, part="pixels")
def test_stack_frames_matches_reference(submission, rng):
    """stack_frames on a random ring written past its end, stacks at random stored slots"""
    frames, positions, write = written_ring(rng, int(rng.integers(60, 200)))
    newest = rng.choice(stackable(positions, write, CONFIG_FRAME_STACK), size=int(rng.integers(32, 65)))
    got = remote_stacks(submission, frames, positions, newest, CONFIG_FRAME_STACK)
    problem = first_wrong_stack(got, frames, positions, newest, CONFIG_FRAME_STACK)
    assert problem is None, problem


@points(1.5, part="pixels")
def test_stack_frames_never_crosses_an_episode_start(submission, rng):
    """the first frame_stack - 1 stacks of an episode repeat its reset frame, never the previous episode's
    frames; with the config's 4 frames and with another stack size (the function takes any)"""
    for frame_stack in (CONFIG_FRAME_STACK, int(rng.choice([2, 3, 5, 6]))):
        frames, positions, write = written_ring(rng, int(rng.integers(80, 200)), max_episode_length=8)
        candidates = stackable(positions, write, frame_stack)
        reset_slots = (candidates - positions[candidates]) % len(frames)
        # early in an episode, with another episode's frame stored just before its reset frame
        early = candidates[(positions[candidates] < frame_stack - 1)
                           & (positions[(reset_slots - 1) % len(frames)] >= 0)
                           & (((write - 1 - reset_slots) % len(frames)) < len(frames) - 1)]
        newest = rng.choice(early, size=int(rng.integers(16, 33)))
        got = remote_stacks(submission, frames, positions, newest, frame_stack)
        problem = first_wrong_stack(got, frames, positions, newest, frame_stack)
        assert problem is None, problem


@points(1.5, part="pixels")
def test_stack_frames_wraps_around_the_ring(submission, rng):
    """stacks whose frames sit on both sides of the ring's end (slot -1 is the last slot)"""
    frame_stack = CONFIG_FRAME_STACK
    num_slots = int(rng.integers(40, 120))
    frames, positions, write = written_ring(rng, num_slots, max_episode_length=30)
    # rotate the ring (and its write pointer) so that a long run of stored frames straddles slot 0
    candidates = stackable(positions, write, frame_stack)
    deep = candidates[positions[candidates] >= frame_stack - 1]
    pivot = int(rng.choice(deep))
    shift = (-pivot + int(rng.integers(0, frame_stack - 1))) % num_slots  # the pivot lands on slot 0, 1 or 2
    frames, positions, write = np.roll(frames, shift, axis=0), np.roll(positions, shift), (write + shift) % num_slots
    candidates = stackable(positions, write, frame_stack)
    wrapping = candidates[candidates < np.minimum(positions[candidates], frame_stack - 1)]
    newest = np.concatenate([wrapping, rng.choice(candidates, size=8)])
    rng.shuffle(newest)
    got = remote_stacks(submission, frames, positions, newest, frame_stack)
    problem = first_wrong_stack(got, frames, positions, newest, frame_stack)
    assert problem is None, problem
