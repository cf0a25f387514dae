"""Why common.torch_utils defaults to one torch thread.

Times acting on one observation and one Adam step on a batch of 5000 with a 2x64 tanh MLP
(HalfCheetah sizes: 17 -> 6), for 1 and 2 threads, on an idle machine and with one busy process
beside it (as when a student's browser or a second experiment runs).

    python -m benchmarks.torch_threads
"""
import multiprocessing
import time

import torch

from common.torch_utils import build_mlp


def _burn() -> None:
    while True:
        pass


def measure(threads: int) -> tuple[float, float]:
    torch.set_num_threads(threads)
    net = build_mlp(17, 6, (64, 64))
    optimizer = torch.optim.Adam(net.parameters())
    one_obs, batch = torch.randn(1, 17), torch.randn(5000, 17)
    start = time.perf_counter()
    with torch.no_grad():
        for _ in range(3000):
            net(one_obs)
    act_us = (time.perf_counter() - start) / 3000 * 1e6
    start = time.perf_counter()
    for _ in range(50):
        loss = net(batch).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    update_ms = (time.perf_counter() - start) / 50 * 1e3
    return act_us, update_ms


def main() -> None:
    print(f"{'load':>8} {'threads':>7} {'act (us)':>9} {'update (ms)':>11}")
    for loaded in (False, True):
        burner = multiprocessing.Process(target=_burn, daemon=True) if loaded else None
        if burner:
            burner.start()
        for threads in (1, 2):
            act_us, update_ms = measure(threads)
            print(f"{'busy' if loaded else 'idle':>8} {threads:>7} {act_us:>9.1f} {update_ms:>11.1f}")
        if burner:
            burner.terminate()


if __name__ == "__main__":
    main()
