#!/usr/bin/env python3
"""torch_reference.py: an independent check of alexnet-cl with PyTorch (Debian: python3-torch).

Builds the network of an alexnet-cl description in PyTorch (the same layers: Conv2d with groups, ReLU,
LocalResponseNorm, MaxPool2d, Dropout, Linear), either with PyTorch's own initialization or from a
safetensors file, and writes:
  --weights-out W.safetensors   its state dict under the description's tensor names (a PyTorch state dict
                                converted to safetensors: usable with `alexnet-cl infer/train --weights`)
  --input-out X.npy             a random batch (float32, N x C x H x W)
  --logits-out Y.npy            PyTorch's logits for that batch in eval mode (float32, N x classes)
Usage: torch_reference.py --description FILE --classes N [--batch N] [--seed N] [--weights-in W] ...
       torch_reference.py --state-dict FILE.pt --weights-out W.safetensors   (convert a saved state dict)
"""
import argparse
import json
import struct
import sys

import numpy as np
import torch
from torch import nn


def parse_description(text, classes):
    layers, shape = [], None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].split()
        if not line:
            continue
        kind, keys = line[0], dict(w.split("=", 1) for w in line[1:])
        if kind == "input":
            size = keys.get("size")
            shape = (int(keys.get("channels", 3)), int(keys.get("height", size)), int(keys.get("width", size)))
            continue
        if keys.get("out") == "classes":
            keys["out"] = str(classes)
        layers.append((kind, keys, number))
    return shape, layers


def build(shape, layers):
    """A list of (module, tensor prefix or None, needs flatten) in order."""
    c, h, w = shape
    mods = []
    for index, (kind, k, number) in enumerate(layers):
        name = k.get("name", f"{kind}{index}")
        prefix = k.get("tensors", name)
        if kind == "conv":
            kern, stride, pad = int(k["kernel"]), int(k.get("stride", 1)), int(k.get("pad", 0))
            out = int(k["out"])
            mods.append((nn.Conv2d(c, out, kern, stride, pad, groups=int(k.get("groups", 1))), prefix, False))
            c, h, w = out, (h + 2 * pad - kern) // stride + 1, (w + 2 * pad - kern) // stride + 1
        elif kind == "relu":
            mods.append((nn.ReLU(), None, False))
        elif kind == "lrn":  # PyTorch divides alpha by size, as alexnet-cl does
            mods.append((nn.LocalResponseNorm(int(k.get("size", 5)), float(k.get("alpha", 1e-4)),
                                              float(k.get("beta", 0.75)), float(k.get("k", 2))), None, False))
        elif kind == "maxpool":
            size, stride, pad = int(k.get("size", 3)), int(k.get("stride", 2)), int(k.get("pad", 0))
            ceil = bool(int(k.get("ceil", 0)))
            pool = nn.MaxPool2d(size, stride, pad, ceil_mode=ceil)
            mods.append((pool, None, False))
            h, w = [pool(torch.zeros(1, 1, h, w)).shape[i] for i in (2, 3)]
        elif kind == "avgpool":
            mods.append((nn.AdaptiveAvgPool2d(int(k["out"])), None, False))
            h = w = int(k["out"])
        elif kind == "dropout":
            mods.append((nn.Dropout(float(k.get("p", 0.5))), None, False))
        elif kind == "fc":
            out = int(k["out"])
            mods.append((nn.Linear(c * h * w, out), prefix, True))
            c, h, w = out, 1, 1
        else:
            sys.exit(f"line {number}: unknown layer kind {kind}")
    return mods


class Net(nn.Module):
    def __init__(self, mods):
        super().__init__()
        self.seq = nn.ModuleList(m for m, _, _ in mods)
        self.flat = [f for _, _, f in mods]

    def forward(self, x):
        for m, flat in zip(self.seq, self.flat):
            x = m(x.flatten(1) if flat else x)
        return x


def state_dict(mods):
    out = {}
    for m, prefix, _ in mods:
        if prefix is not None:
            out[prefix + ".weight"] = m.weight.detach()
            out[prefix + ".bias"] = m.bias.detach()
    return out


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        data = t.contiguous().to(torch.float32).numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        array = np.frombuffer(raw[8 + n + begin:8 + n + end], dtype="<f4").reshape(info["shape"])
        out[name] = torch.from_numpy(array.copy())
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--description")
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--batch", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--weights-in")
    ap.add_argument("--state-dict")
    ap.add_argument("--weights-out")
    ap.add_argument("--input-out")
    ap.add_argument("--logits-out")
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    if a.state_dict:
        write_safetensors(a.weights_out, torch.load(a.state_dict, map_location="cpu"))
        return
    with open(a.description) as f:
        shape, layers = parse_description(f.read(), a.classes)
    mods = build(shape, layers)
    net = Net(mods).eval()
    if a.weights_in:
        loaded = read_safetensors(a.weights_in)
        for m, prefix, _ in mods:
            if prefix is not None:
                m.weight.data.copy_(loaded[prefix + ".weight"])
                m.bias.data.copy_(loaded[prefix + ".bias"])
    if a.weights_out:
        write_safetensors(a.weights_out, state_dict(mods))
    x = torch.rand(a.batch, *shape) * 2 - 1
    if a.input_out:
        np.save(a.input_out, x.numpy().astype("<f4"))
    with torch.no_grad():
        y = net(x)
    if a.logits_out:
        np.save(a.logits_out, y.numpy().astype("<f4"))


if __name__ == "__main__":
    main()
