# mnist.sh DLC ROOT — training on real data: the MLP of models/mlp.dlc, one epoch of
# Adam (lr 1e-3, batch 64, seed 0) on Fashion-MNIST, must reach 84% test accuracy;
# the run leaves its loss curves and parameters in --out.  Skipped (77) without the
# dataset.
. "$(dirname "$0")/../e2e/lib.sh"
dlc=$1
root=$2
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || exit 77
"$dlc" train "$root/models/mlp.dlc" --epochs 1 --batch 64 --seed 0 --out "$e2e_tmp/out" >"$e2e_tmp/log" 2>&1 ||
  fail "dlc train failed: $(tail -3 "$e2e_tmp/log")"
line=$(grep '^epoch 1: train loss' "$e2e_tmp/log") || fail "no epoch line: $(cat "$e2e_tmp/log")"
echo "$line"
acc=$(echo "$line" | sed 's/.*test accuracy \([0-9.]*\)%.*/\1/')
awk -v a="$acc" 'BEGIN { exit !(a >= 84) }' || fail "test accuracy $acc% is below 84%"
for f in loss.csv epochs.csv loss.svg mlp.params; do
  [ -s "$e2e_tmp/out/$f" ] || fail "--out lacks $f"
done
[ "$(wc -l <"$e2e_tmp/out/loss.csv")" -eq 938 ] || fail "loss.csv: want a header and 937 batches"
head -c 8 "$e2e_tmp/out/mlp.params" | grep -q DLCPRM01 || fail "mlp.params: not a parameters file"
