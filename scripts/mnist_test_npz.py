"""The first N MNIST test images at R x R (default 32) as ganrun's MNIST dataset makes them, in an .npz
(`samples`, N x 1 x R x R in [-1, 1]): the held-out images of `ganrun eval ... memorisation=true test=FILE`
for a run trained on an image folder or on a `dataset.fraction` of MNIST (docs/evaluations.md):

    python scripts/mnist_test_npz.py ../shared/data outputs/issue15/mnist_test1000.npz 1000 [16]
"""

import sys

import numpy as np

from ganrun.data import mnist

root, out, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
resolution = int(sys.argv[4]) if len(sys.argv) > 4 else 32
x, _ = mnist(root=root, resolution=resolution, train=False).tensors
np.savez(out, samples=x[:count].numpy())
print(f"{min(count, len(x))} test images written to {out}")
