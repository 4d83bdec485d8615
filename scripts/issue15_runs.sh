#!/bin/sh
# The training runs behind docs/evaluations.md (issue 15), one after the other, on the CPU:
# DCGAN on MNIST (D's linear probe, memorisation), a projection cGAN and an AC-GAN on MNIST
# (conditional accuracy), and a DCGAN trained on 100 MNIST images (memorisation).
#   DATA=../shared/data OUT=outputs/issue15 sh scripts/issue15_runs.sh
set -e
DATA=${DATA:-../shared/data}
OUT=${OUT:-outputs/issue15}
STEPS=${STEPS:-2000}
COMMON="dataset.root=$DATA dataset.download=false trainer.steps=$STEPS trainer.batch_size=64 \
architecture.generator.width=32 architecture.discriminator.width=32 metrics=none trainer.progress=off \
trainer.checkpoint_every=0 trainer.sample_every=0"
export OMP_NUM_THREADS=1
run() { name=$1; shift; nice -n 10 python -m ganrun train "$@" hydra.run.dir=$OUT/$name; }
# RUNS picks some: RUNS="cgan_mnist acgan_mnist" STEPS=1000 sh scripts/issue15_runs.sh
RUNS=${RUNS:-"dcgan_mnist cgan_mnist acgan_mnist dcgan_mnist100"}
for name in $RUNS; do case $name in
dcgan_mnist) run dcgan_mnist experiment=dcgan_mnist $COMMON ;;
cgan_mnist) run cgan_mnist experiment=dcgan_mnist conditional=true $COMMON ;;
acgan_mnist) run acgan_mnist experiment=dcgan_mnist objective=acgan $COMMON ;;
dcgan_mnist100)
python scripts/mnist_subset.py "$DATA" $OUT/mnist100 100
run dcgan_mnist100 experiment=dcgan_mnist dataset=image_folder dataset.root=$OUT/mnist100 dataset.resolution=32 \
    dataset.channels=1 trainer.steps=$STEPS trainer.batch_size=64 architecture.generator.width=32 \
    architecture.discriminator.width=32 metrics=none trainer.progress=off trainer.checkpoint_every=0 trainer.sample_every=0 ;;
esac; done
