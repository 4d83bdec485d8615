#!/bin/sh
# The memorisation runs behind docs/evaluations.md (issue 15), small enough for a few CPU minutes:
# DCGAN (width 16, 16x16 MNIST, batch 64, non-saturating loss, Adam 2e-4 / beta1 0.5) on all 60,000
# training images and on 100 of them (dataset.fraction: a fixed random 100), checkpoints every 1000
# steps, then `ganrun eval ... memorisation=true` on each checkpoint against the first 1,000 MNIST
# test images (one .npz, the same for both: the 100-image run's test split would be cut by its fraction)
# and the digit classifier ganrun trains for 16x16 MNIST (fitted on the full training set by the first eval).
# A run folder that already holds checkpoints continues from its newest (ganrun train resumes), so
#   DATA=../shared/data OUT=outputs/issue15 STEPS=5000 sh scripts/issue15_memorisation.sh
#   RUNS=mem100 STEPS=15000 EVAL="10000 15000" sh scripts/issue15_memorisation.sh
#   RUNS=mem100_diffaugment STEPS=6000 EVAL="3000 6000" sh scripts/issue15_memorisation.sh
# first trains and scores both runs to step 5000, then takes the 100-image run on to 15,000, then trains
# the 100-image run again with DiffAugment (Zhao et al. 2020) on D's inputs.
set -e
DATA=${DATA:-../shared/data}
OUT=${OUT:-outputs/issue15}
STEPS=${STEPS:-5000}
export OMP_NUM_THREADS=1 GANRUN_CACHE_DIR=${GANRUN_CACHE_DIR:-$OUT/cache}
COMMON="dataset=mnist dataset.root=$DATA dataset.download=false dataset.resolution=16 trainer.batch_size=64 \
architecture.generator.width=16 architecture.discriminator.width=16 trainer.steps=$STEPS metrics=none \
trainer.progress=off trainer.checkpoint_every=1000 trainer.keep_checkpoints=0 trainer.sample_every=1000 trainer.device=cpu"
python scripts/mnist_test_npz.py "$DATA" $OUT/mnist_test1000_16px.npz 1000 16
for name in ${RUNS:-mem_full mem100}; do
  fraction=0.0016667; extra=""   # round(0.0016667 * 60000) = 100 images
  case $name in
  mem_full) fraction=1.0 ;;
  mem100_diffaugment) extra="tricks.diffaugment=[translation,cutout]" ;;  # D no longer overfits its 100 images
  esac
  nice -n 10 python -m ganrun train $COMMON dataset.fraction=$fraction $extra hydra.run.dir=$OUT/$name
  for ckpt in $OUT/$name/checkpoints/step_*.pt; do
    step=$(basename $ckpt .pt | sed 's/step_0*//')
    [ -n "$EVAL" ] && ! echo " $EVAL " | grep -q " $step " && continue   # EVAL: only these steps
    classifier=""; [ -f $GANRUN_CACHE_DIR/classifier_mnist_16px_1ch.pt ] && classifier=classifier=$GANRUN_CACHE_DIR/classifier_mnist_16px_1ch.pt
    nice -n 10 python -m ganrun eval checkpoint=$ckpt memorisation=true test=$OUT/mnist_test1000_16px.npz $classifier device=cpu
  done
done
