# train.sh DLC ROOT MODEL SAMPLES accuracy|loss BOUND — a short run of a model of
# models/ on Fashion-MNIST through its own training statement: one epoch of SAMPLES
# images (batch 64, seed 0), then the test accuracy must be at least BOUND percent, or
# the test loss at most BOUND.  It shows that the layers train (backpropagation through
# the unrolled steps, through conv_transpose2d), not how well: docs/TRAINING.md has the
# full runs.  Skipped (77) without the dataset.
. "$(dirname "$0")/../e2e/lib.sh"
dlc=$1
root=$2
model=$3
samples=$4
what=$5
bound=$6
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || exit 77
"$dlc" train "$root/models/$model.dlc" --epochs 1 --limit "$samples" --batch 64 --seed 0 >"$e2e_tmp/log" 2>&1 ||
  fail "dlc train failed: $(tail -3 "$e2e_tmp/log")"
line=$(grep '^epoch 1: train loss' "$e2e_tmp/log") || fail "no epoch line: $(cat "$e2e_tmp/log")"
echo "$line"
if [ "$what" = accuracy ]; then
  v=$(echo "$line" | sed 's/.*test accuracy \([0-9.]*\)%.*/\1/')
  awk -v v="$v" -v b="$bound" 'BEGIN { exit !(v >= b) }' || fail "test accuracy $v% is below $bound%"
else
  v=$(echo "$line" | sed 's/.*test loss \([0-9.]*\).*/\1/')
  awk -v v="$v" -v b="$bound" 'BEGIN { exit !(v <= b) }' || fail "test loss $v is above $bound"
fi
