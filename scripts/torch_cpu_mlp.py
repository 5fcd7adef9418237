#!/usr/bin/env python3
"""PyTorch on this machine's CPU: the reference MLP's training throughput, the practical limit where there is no GPU.

  /usr/bin/python3 scripts/torch_cpu_mlp.py [--threads 1,2] [--steps 200] [--batch-size 128]

The engine's recipe (784-500-10, ReLU, softmax cross-entropy, Adam lr 1e-3) on MNIST-sized batches of random
pixels standardized like the engine's (the arithmetic does not depend on the values); one warm-up of 20 steps, then
the median of 5 timings of --steps steps each. Debian's python3-torch calls the system BLAS: with libopenblas0-pthread
installed it uses OpenBLAS, without it the reference BLAS (several times slower).
"""
import argparse
import statistics
import time

import torch
from torch import nn


def samples_per_second(threads: int, steps: int, batch: int) -> float:
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 500), nn.ReLU(), nn.Linear(500, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    x = (torch.randint(0, 256, (steps, batch, 784)).float() / 255 - 0.1307) / 0.3081
    y = torch.randint(0, 10, (steps, batch))

    def run(n: int) -> float:
        started = time.perf_counter()
        for i in range(n):
            optimizer.zero_grad(set_to_none=True)
            loss_fn(model(x[i % steps]), y[i % steps]).backward()
            optimizer.step()
        return time.perf_counter() - started

    run(20)
    return statistics.median(steps * batch / run(steps) for _ in range(5))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--threads', default='1,2')
    parser.add_argument('--steps', type=int, default=200)
    parser.add_argument('--batch-size', type=int, default=128)
    args = parser.parse_args()
    print(f'torch {torch.__version__}, BLAS: {torch.__config__.show().splitlines()[0] if torch.__config__.show() else "?"}')
    for threads in (int(t) for t in args.threads.split(',')):
        rate = samples_per_second(threads, args.steps, args.batch_size)
        print(f'784-500-10 Adam, batch {args.batch_size}, {threads} thread(s): {rate:,.0f} samples/s ({1000 * args.batch_size / rate:.2f} ms/step)')


if __name__ == '__main__':
    main()
