#!/bin/sh
# The semi-supervised runs behind docs/evaluations.md (issue 15): MNIST at 16x16 with 100 labels
# (10 a class), D = the dcgan D of width 32 with layer norm (per-sample: no batch statistics shared
# between real, labelled and generated batches) + the K-class head; each run logs D's test accuracy on
# the 10,000 MNIST test images every 500 steps (metrics/classifier_accuracy), then `ganrun eval` reads it back.
#   DATA=../shared/data OUT=outputs/issue15 STEPS=2000 sh scripts/issue15_semi.sh
set -e
DATA=${DATA:-../shared/data}
OUT=${OUT:-outputs/issue15}
STEPS=${STEPS:-2000}
COMMON="dataset=mnist dataset.root=$DATA dataset.download=false dataset.resolution=16 trainer.batch_size=64 \
architecture.generator.width=32 architecture.discriminator.width=32 architecture.normalization=layer \
game.labels.fraction=0.0016667 trainer.steps=$STEPS metrics.every=500 trainer.progress=off \
trainer.checkpoint_every=0 trainer.sample_every=500 trainer.device=cpu"
export OMP_NUM_THREADS=1
run() { name=$1; shift; nice -n 10 python -m ganrun train "$@" $COMMON hydra.run.dir=$OUT/$name
        nice -n 10 python -m ganrun eval checkpoint=$(ls $OUT/$name/checkpoints/*.pt | tail -1) device=cpu; }
RUNS=${RUNS:-"semi100 ccgan100 supervised100"}
for name in $RUNS; do case $name in
semi100) run semi100 game=semi ;;                               # Salimans et al.: feature matching G
ccgan100) run ccgan100 game=ccgan game.inpainter.width=32 ;;    # Denton et al.: in-painting G, 8x8 holes
ccgan2_100) run ccgan2_100 game=ccgan game.inpainter.width=32 game.low_resolution=true ;;
supervised100) run supervised100 game=semi game.adversarial=false ;;  # the same D on the 100 labels alone
esac; done
