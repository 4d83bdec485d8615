"""Datasets named by conf/dataset/*.yaml, and the batch iterator the trainer draws from.

Every factory takes its YAML's keys as keyword arguments and returns a Dataset of `(x, y)` items
(x float32, y int64, -1 where there are no labels) carrying `name`, `data_shape` and `num_classes`.
"""

from .base import InMemory, OnDisk
from .batches import infinite_batches
from .folder import ImageFiles, image_folder
from .images import celeba, cifar10, digits, fashion_mnist, lsun_bedroom, mnist
from .mixtures import grid, ring
from .stacked_mnist import StackedMNIST, stacked_mnist

__all__ = [
    "InMemory", "OnDisk", "ImageFiles", "infinite_batches",
    "digits", "ring", "grid", "mnist", "fashion_mnist", "cifar10", "celeba", "lsun_bedroom", "image_folder",
    "stacked_mnist",
]
