"""Code every homework shares; never edited by students."""


def clip(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))
