"""`python -m hw0_toy.run --steps N`: a tiny experiment (test fixture of the release tool)."""
import argparse

from hw0_toy.agent import ToyAgent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()
    agent = ToyAgent()
    for step in range(args.steps):
        estimate = agent.update(1.0)
        print(f"step {step} estimate {estimate:.4f}")


if __name__ == "__main__":
    main()
