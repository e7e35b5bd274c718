#!/usr/bin/python3
"""torch_bench.py: PyTorch's side of scripts/compare_torch.sh: the network of an alexnet-cl description (the same
layers, built by torch_reference.py), timed the way `alexnet-cl bench` times the engine.

Training: random images and labels (fixed seed), cross-entropy, SGD with momentum 0.9, weight decay 5e-4 and the
bench's learning rate 0.001; one warm-up step, then the median of --steps timed steps. Inference: model.eval()
under torch.no_grad(), one warm-up forward, then the median of --steps. Peak host memory: the process's maximum
resident set (resource.getrusage), over the whole run. Prints a readable table and, as the last line, one JSON
object with the same keys as `alexnet-cl bench --json`.

Run it with Debian's interpreter, /usr/bin/python3, for which python3-torch is installed.
Usage: torch_bench.py --description FILE --classes N [--batch 32] [--steps 5] [--threads 2]
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_reference import Net, build, parse_description  # noqa: E402  (the description -> modules mapping)


def timed(fn, steps):
    """Medians of wall and processor seconds (every thread of the process) of steps calls after a warm-up."""
    fn()
    wall, cpu = [], []
    for _ in range(steps):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--description", required=True)
    ap.add_argument("--classes", type=int, required=True)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--name", default=None, help="the model's name in the output (default: the description's)")
    a = ap.parse_args()
    if a.batch < 1 or a.steps < 1 or a.threads < 1:
        sys.exit("torch_bench.py: --batch, --steps and --threads must be at least 1")
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    with open(a.description) as f:
        text = f.read()
    shape, layers = parse_description(text, a.classes)
    model = Net(build(shape, layers))
    x = torch.rand(a.batch, *shape) * 2 - 1
    y = torch.randint(0, a.classes, (a.batch,))
    opt = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9, weight_decay=5e-4)
    lossf = nn.CrossEntropyLoss()

    def train_step():
        opt.zero_grad()
        loss = lossf(model(x), y)
        loss.backward()
        opt.step()

    model.train()
    train_s, train_cpu = timed(train_step, a.steps)
    model.eval()
    with torch.no_grad():
        infer_s, infer_cpu = timed(lambda: model(x), a.steps)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
    name = a.name or next((w.split("=", 1)[1] for w in text.split() if w.startswith("name=")), "model")
    r = {"model": name, "device": f"torch {torch.__version__} CPU, {torch.get_num_threads()} threads",
         "batch": a.batch, "steps": a.steps, "classes": a.classes, "threads": torch.get_num_threads(),
         "train_images_per_s": a.batch / train_s, "infer_images_per_s": a.batch / infer_s,
         "train_step_s": train_s, "infer_step_s": infer_s, "train_cpu_s": train_cpu, "infer_cpu_s": infer_cpu,
         "peak_host_bytes": peak}
    print(f"model {name}, batch {a.batch}, {a.steps} timed steps (median), {r['device']}")
    print(f"  {'training':22s} {r['train_images_per_s']:12.2f} images/s  ({train_s:.4f} s a step, {train_cpu:.4f} s of processor time)")
    print(f"  {'inference':22s} {r['infer_images_per_s']:12.2f} images/s  ({infer_s:.4f} s a batch, {infer_cpu:.4f} s of processor time)")
    print(f"  {'peak host memory':22s} {peak / 2**20:12.1f} MiB       (maximum resident set)")
    print(json.dumps(r))


if __name__ == "__main__":
    main()
