#!/usr/bin/env python
"""Train the bundled demo BNN on scikit-learn's ``load_digits`` and export it to ONNX.

    python scripts/train_digits_bnn.py

Writes
  python/xnorinfer/examples/digits_bnn.onnx  legacy TorchScript exporter, opset 13,
        input ``input`` [batch, 1, 8, 8] float32 NCHW (normalized), output ``logits`` [batch, 10]
  python/xnorinfer/examples/digits_test.npz  ``x`` float32 [n, 1, 8, 8] (normalized),
        ``y`` int64 [n] for the fixed 80/20 stratified test split, plus the normalization
        constants ``norm_mean`` / ``norm_std``.

Network: float conv 1->32 (3x3, pad 1) + BN, then binary 3x3 convs 32->64 and 64->64
(sign activations via a straight-through-estimator autograd.Function that exports as ONNX
Sign; weights sign(W) * mean|W| per output channel) each with BN and a 2x2 MaxPool,
flatten, binary linear 256->128 + BatchNorm1d, float linear 128->10.
Input normalization: x = (pixels / 16 - NORM_MEAN) / NORM_STD (constants from the train split).

CPU only, one thread, fixed seeds; runs in well under two minutes.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

warnings.filterwarnings("ignore")
torch.set_num_threads(1)
torch.set_num_interop_threads(1)

SEED = 0
EPOCHS = 60
BATCH = 64
LR = 5e-3
OUT_DIR = Path(__file__).resolve().parent.parent / "python" / "xnorinfer" / "examples"


class SignSTE(torch.autograd.Function):
    """sign(x) forward; straight-through gradient clipped to |x| <= 1. Exports as ONNX Sign."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.sign(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (x.abs() <= 1).to(grad.dtype)

    @staticmethod
    def symbolic(g, x):
        return g.op("Sign", x)


class WeightSignSTE(torch.autograd.Function):
    """sign(W) forward, identity gradient (BinaryConnect). Exports as ONNX Sign."""

    @staticmethod
    def forward(ctx, w):
        return torch.sign(w)

    @staticmethod
    def backward(ctx, grad):
        return grad

    @staticmethod
    def symbolic(g, w):
        return g.op("Sign", w)


class BinaryConv2d(nn.Conv2d):
    """sign(x) (*) (sign(W) * mean|W|): binary activations and binary weights."""

    def forward(self, x):
        xb = SignSTE.apply(x)
        alpha = self.weight.abs().mean(dim=(1, 2, 3), keepdim=True).detach()
        wb = WeightSignSTE.apply(self.weight) * alpha
        return F.conv2d(xb, wb, None, self.stride, self.padding, self.dilation, self.groups)


class BinaryLinear(nn.Linear):
    def forward(self, x):
        xb = SignSTE.apply(x)
        alpha = self.weight.abs().mean(dim=1, keepdim=True).detach()
        wb = WeightSignSTE.apply(self.weight) * alpha
        return F.linear(xb, wb, None)


class DigitsBNN(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1, bias=False)      # float first layer
        self.bn1 = nn.BatchNorm2d(32)
        self.conv2 = BinaryConv2d(32, 64, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(64)
        self.conv3 = BinaryConv2d(64, 64, 3, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(64)
        self.pool = nn.MaxPool2d(2)
        self.fc1 = BinaryLinear(64 * 2 * 2, 128, bias=False)
        self.bn4 = nn.BatchNorm1d(128)
        self.fc2 = nn.Linear(128, num_classes)                         # float last layer

    def forward(self, x):
        x = self.bn1(self.conv1(x))                    # 8x8
        x = self.pool(self.bn2(self.conv2(x)))         # 4x4
        x = self.pool(self.bn3(self.conv3(x)))         # 2x2
        x = torch.flatten(x, 1)
        x = self.bn4(self.fc1(x))
        return self.fc2(x)


def clip_latent_weights(model):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (BinaryConv2d, BinaryLinear)):
                m.weight.clamp_(-1.0, 1.0)


def shift_augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random +-1 pixel translation (zero fill in normalized space = background value)."""
    n = x.shape[0]
    pad = F.pad(x, (1, 1, 1, 1), value=float(x.min()))
    dy = torch.randint(0, 3, (n,), generator=gen)
    dx = torch.randint(0, 3, (n,), generator=gen)
    out = torch.empty_like(x)
    for i in range(n):
        out[i] = pad[i, :, dy[i]:dy[i] + 8, dx[i]:dx[i] + 8]
    return out


def evaluate(model, x, y):
    model.eval()
    with torch.no_grad():
        return int((model(x).argmax(1) == y).sum()) / len(y)


def sign_margins(model, x):
    """Per sample, the smallest |value| reaching an activation SignSTE (float-vs-binary
    fragility: a value this close to 0 may binarize differently after BN folding)."""
    vals = []
    orig = SignSTE.forward

    def fwd(ctx, t):
        vals.append(t.detach().abs().flatten(1).min(1).values)
        return orig(ctx, t)

    SignSTE.forward = staticmethod(fwd)
    try:
        with torch.no_grad():
            model(x)
    finally:
        SignSTE.forward = staticmethod(orig)
    return torch.stack(vals).min(0).values


def main():
    t0 = time.time()
    torch.manual_seed(SEED)
    np.random.seed(SEED)

    digits = load_digits()
    X = digits.images.astype(np.float32) / 16.0          # [1797, 8, 8] in [0, 1]
    y = digits.target.astype(np.int64)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, stratify=y, random_state=SEED)
    norm_mean = float(X_tr.mean())
    norm_std = float(X_tr.std())
    X_tr = ((X_tr - norm_mean) / norm_std)[:, None].astype(np.float32)
    X_te = ((X_te - norm_mean) / norm_std)[:, None].astype(np.float32)
    print(f"train {len(y_tr)}  test {len(y_te)}  norm mean {norm_mean:.6f} std {norm_std:.6f}")

    xtr, ytr = torch.from_numpy(X_tr), torch.from_numpy(y_tr)
    xte, yte = torch.from_numpy(X_te), torch.from_numpy(y_te)

    model = DigitsBNN()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    steps_per_epoch = (len(ytr) + BATCH - 1) // BATCH
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=LR, total_steps=EPOCHS * steps_per_epoch)
    gen = torch.Generator().manual_seed(SEED)
    for epoch in range(EPOCHS):
        model.train()
        perm = torch.randperm(len(ytr), generator=gen)
        total = 0.0
        for i in range(0, len(ytr), BATCH):
            idx = perm[i:i + BATCH]
            xb = shift_augment(xtr[idx], gen)
            loss = F.cross_entropy(model(xb), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            clip_latent_weights(model)
            total += float(loss) * len(idx)
        if (epoch + 1) % 10 == 0:
            print(f"epoch {epoch + 1:3d}  loss {total / len(ytr):.4f}  "
                  f"train acc {evaluate(model, xtr, ytr):.4f}  test acc {evaluate(model, xte, yte):.4f}")

    model.eval()
    torch_acc = evaluate(model, xte, yte)
    with torch.no_grad():
        torch_logits = model(xte).numpy()
    margins = sign_margins(model, xte)
    print(f"torch test accuracy {torch_acc:.4f}   min |sign input| on the test set "
          f"{float(margins.min()):.3g}; test samples with a sign input within 1e-4 of 0: "
          f"{int((margins < 1e-4).sum())}")

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    onnx_path = OUT_DIR / "digits_bnn.onnx"
    torch.onnx.export(
        model, (xte[:2],), str(onnx_path), dynamo=False, opset_version=13,
        input_names=["input"], output_names=["logits"],
        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
        do_constant_folding=True)
    proto = onnx.load(str(onnx_path))
    onnx.helper.set_model_props(proto, {
        "xnorinfer.example": "digits_bnn",
        "input_normalization": "x = (pixels / 16 - norm_mean) / norm_std",
        "norm_mean": repr(norm_mean),
        "norm_std": repr(norm_std),
        "classes": "0-9",
    })
    onnx.checker.check_model(proto)
    onnx.save_model(proto, str(onnx_path))
    np.savez_compressed(OUT_DIR / "digits_test.npz", x=X_te, y=y_te,
                        norm_mean=np.float32(norm_mean), norm_std=np.float32(norm_std))

    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(onnx_path), so, providers=["CPUExecutionProvider"])
    ort_logits = sess.run(["logits"], {"input": X_te})[0]
    ort_acc = int((ort_logits.argmax(1) == y_te).sum()) / len(y_te)
    diff = float(np.abs(ort_logits - torch_logits).max())
    print(f"onnxruntime test accuracy {ort_acc:.4f}  (torch {torch_acc:.4f}, "
          f"max |logit diff| {diff:.2e}, predictions differing "
          f"{int((ort_logits.argmax(1) != torch_logits.argmax(1)).sum())})")
    assert ort_acc == torch_acc, "onnxruntime and torch disagree"
    sizes = {p.name: p.stat().st_size for p in (onnx_path, OUT_DIR / "digits_test.npz")}
    print(f"wrote {sizes} in {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
