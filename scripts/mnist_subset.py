"""Write the first N MNIST training images as PNGs into OUT/<label>/<index>.png (an `image_folder`
dataset), for the memorisation run trained on few images:

    python scripts/mnist_subset.py ../shared/data outputs/mnist100 100
"""

import sys
from pathlib import Path

from torchvision.datasets import MNIST

root, out, count = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
data = MNIST(root, train=True, download=False)
for i in range(count):
    image, label = data[i]
    (out / str(label)).mkdir(parents=True, exist_ok=True)
    image.save(out / str(label) / f"{i:05d}.png")
print(f"{count} images written under {out}")
