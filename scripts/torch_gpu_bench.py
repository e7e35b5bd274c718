#!/usr/bin/env python3
"""torch_gpu_bench.py: PyTorch (CUDA) training and inference images/s of the engine's `paper` and
`torchvision` presets, the other side of the ratio that scripts/gpu_bench.sh prints.

Random data, SGD with momentum 0.9 and weight decay 5e-4, cross-entropy over 1000 classes; each number is the
median over timed steps after warm-up steps, each step bracketed by torch.cuda.synchronize(). Prints a table,
and one JSON object per model as the last lines (also written to --json FILE as a list).
Exit status: 0 done, 3 no CUDA device (or no torch), 2 bad arguments.
"""
import argparse
import json
import statistics
import sys
import time


def paper_alexnet(nn, classes):
    """src/net/presets.c `paper`: 227 px, conv1 unpadded (55x55 out), groups of two in conv2/4/5, LRN after
    conv1 and conv2 with the paper's k = 2 and alpha = 1e-4 *without* /n: PyTorch divides alpha by the size,
    so it gets alpha * size."""
    lrn = lambda: nn.LocalResponseNorm(5, alpha=1e-4 * 5, beta=0.75, k=2.0)
    return nn.Sequential(
        nn.Conv2d(3, 96, 11, stride=4), nn.ReLU(inplace=True), lrn(), nn.MaxPool2d(3, 2),
        nn.Conv2d(96, 256, 5, padding=2, groups=2), nn.ReLU(inplace=True), lrn(), nn.MaxPool2d(3, 2),
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(384, 384, 3, padding=1, groups=2), nn.ReLU(inplace=True),
        nn.Conv2d(384, 256, 3, padding=1, groups=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        nn.Flatten(),
        nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5),
        nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5),
        nn.Linear(4096, classes))


def torchvision_alexnet(nn, classes):
    """torchvision.models.alexnet, written out so that torchvision need not be installed."""
    return nn.Sequential(
        nn.Conv2d(3, 64, 11, stride=4, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        nn.AdaptiveAvgPool2d(6), nn.Flatten(),
        nn.Dropout(0.5), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True),
        nn.Dropout(0.5), nn.Linear(4096, 4096), nn.ReLU(inplace=True),
        nn.Linear(4096, classes))


MODELS = {"paper": (paper_alexnet, 227), "torchvision": (torchvision_alexnet, 224)}


def timed(torch, fn, warmup, steps):
    """Median seconds of one call of fn over `steps` calls after `warmup` calls, synchronized on each side."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def bench(torch, nn, name, batch, warmup, steps, classes=1000):
    build, size = MODELS[name]
    dev = torch.device("cuda")
    torch.manual_seed(0)
    model = build(nn, classes).to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    lossf = nn.CrossEntropyLoss()
    x = torch.randn(batch, 3, size, size, device=dev)
    y = torch.randint(0, classes, (batch,), device=dev)
    torch.cuda.reset_peak_memory_stats(dev)

    def train_step():
        opt.zero_grad(set_to_none=True)
        lossf(model(x), y).backward()
        opt.step()

    model.train()
    t_train = timed(torch, train_step, warmup, steps)
    model.eval()
    with torch.no_grad():
        t_infer = timed(torch, lambda: model(x), warmup, steps)
    return {"framework": "pytorch", "torch": torch.__version__, "device": torch.cuda.get_device_name(dev),
            "model": name, "batch": batch, "warmup": warmup, "steps": steps,
            "train_images_per_s": batch / t_train, "infer_images_per_s": batch / t_infer,
            "peak_device_bytes": torch.cuda.max_memory_allocated(dev),
            "cudnn_benchmark": torch.backends.cudnn.benchmark, "tf32": torch.backends.cuda.matmul.allow_tf32}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", action="append", choices=sorted(MODELS), help="repeatable; default both")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--json", metavar="FILE", help="also write the results as a JSON list")
    ap.add_argument("--cudnn-benchmark", action="store_true", help="let cuDNN pick algorithms (off: defaults)")
    a = ap.parse_args()
    if a.batch < 1 or a.steps < 1 or a.warmup < 0:
        ap.error("--batch and --steps want >= 1, --warmup >= 0")
    try:
        import torch
        import torch.nn as nn
    except ImportError as e:
        print(f"torch_gpu_bench: no PyTorch ({e}); install python3-torch or a CUDA build of torch", file=sys.stderr)
        return 3
    if not torch.cuda.is_available():
        print(f"torch_gpu_bench: torch {torch.__version__} sees no CUDA device (CPU-only build, or no driver)",
              file=sys.stderr)
        return 3
    # FP32 everywhere, as the engine computes: no TF32 in matmuls or convolutions.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = a.cudnn_benchmark
    results = []
    print(f"{'model':<12} {'batch':>5} {'train img/s':>12} {'infer img/s':>12} {'peak MiB':>9}  device")
    for name in a.model or ["paper", "torchvision"]:
        r = bench(torch, nn, name, a.batch, a.warmup, a.steps)
        results.append(r)
        print(f"{name:<12} {a.batch:>5} {r['train_images_per_s']:>12.1f} {r['infer_images_per_s']:>12.1f} "
              f"{r['peak_device_bytes'] / 2**20:>9.0f}  {r['device']}", flush=True)
    for r in results:
        print(json.dumps(r))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
