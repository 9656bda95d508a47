# user_data.sh DLC ROOT PYTHON — `dlc train --data DIR` on a user's own data: a tabular
# MLP on a seeded synthetic dataset of 4 well-separated Gaussian clusters in 8
# dimensions, as .npy files and as CSV (label in the last column, a header line).  The
# nearest-centre classifier (numpy, knowing the true centres) is the oracle: the
# trained model must reach 95% test accuracy, within 3 points of it.  Then the data's
# user errors, one line each.
. "$(dirname "$0")/../e2e/lib.sh"
dlc=$1
py=$3
[ -x "$py" ] || { echo "skip: no $py"; exit 77; }
npy=$e2e_tmp/npy
csv=$e2e_tmp/csv
bad=$e2e_tmp/bad
mkdir -p "$npy" "$csv" "$bad"
"$py" - "$npy" "$csv" "$bad" >"$e2e_tmp/oracle" <<'PY' || fail "numpy: $(cat "$e2e_tmp/oracle")"
import sys
import numpy as np
npy, csv, bad = sys.argv[1:]
rng = np.random.default_rng(7)
k, f = 4, 8
centres = rng.normal(0, 3, (k, f))
def split(n):
    y = rng.integers(0, k, n)
    return (centres[y] + rng.normal(0, 1, (n, f))).astype(np.float32), y.astype(np.int64)
(xtr, ytr), (xte, yte) = split(2048), split(512)
for name, a in [("x_train", xtr), ("y_train", ytr), ("x_test", xte), ("y_test", yte)]:
    np.save(f"{npy}/{name}.npy", a)
for name, x, y in [("train", xtr, ytr), ("test", xte, yte)]:
    with open(f"{csv}/{name}.csv", "w") as out:
        out.write(",".join([f"f{i}" for i in range(f)] + ["label"]) + "\n")
        for row, label in zip(x, y):
            out.write(",".join(repr(float(v)) for v in row) + f",{label}\n")
np.save(f"{bad}/x_train.npy", xtr); np.save(f"{bad}/y_train.npy", ytr.astype(np.float32))
np.save(f"{bad}/x_test.npy", xte[:, :4]); np.save(f"{bad}/y_test.npy", yte)
d = ((xte[:, None, :] - centres[None]) ** 2).sum(-1)
print("%.2f" % (100 * (d.argmin(1) == yte).mean()))
PY
oracle=$(cat "$e2e_tmp/oracle")
cat >"$e2e_tmp/tab.dlc" <<'DLC'
model tab
input x: f32[batch, 8]
h = tanh(dense(x, 16))
probs = softmax(dense(h, 4))
output probs
DLC

# accuracy LOG: the last epoch's test accuracy, checked against 95% and the oracle.
check_accuracy() {
  acc=$(sed -n 's/^epoch [0-9]*: train loss [0-9.]*, test accuracy \([0-9.]*\)%.*/\1/p' "$1" | tail -1)
  [ -n "$acc" ] || fail "$2: no accuracy in: $(cat "$1")"
  awk -v a="$acc" -v o="$oracle" 'BEGIN { exit !(a >= 95 && a >= o - 3) }' ||
    fail "$2: test accuracy $acc%, want >= 95% and within 3 points of the nearest centre's $oracle%"
  echo "ok: $2: test accuracy $acc% (nearest centre $oracle%)"
}
for fmt in npy csv; do
  "$dlc" train "$e2e_tmp/tab.dlc" --data "$e2e_tmp/$fmt" --epochs 4 --batch 32 >"$e2e_tmp/log" 2>&1 ||
    fail "$fmt: $(cat "$e2e_tmp/log")"
  grep -q '^epoch 4: [0-9]*/64 batches' "$e2e_tmp/log" || fail "$fmt: no progress lines: $(cat "$e2e_tmp/log")"
  check_accuracy "$e2e_tmp/log" "$fmt"
done

expect_error "y_train.npy: unsupported element type: the labels are f32" \
  "$dlc" train "$e2e_tmp/tab.dlc" --data "$bad"
rm "$bad/y_train.npy"
cp "$npy/y_train.npy" "$bad/"
expect_error "the training samples are [8], the test samples [4]" "$dlc" train "$e2e_tmp/tab.dlc" --data "$bad"
rm "$bad/y_train.npy"
expect_error "y_train.npy: cannot open" "$dlc" train "$e2e_tmp/tab.dlc" --data "$bad"
rm -f "$bad"/*.npy
printf 'a,b,label\n1,2,0\n3,x,1\n' >"$bad/train.csv"
expect_error "train.csv:3: field 2 is not a number" "$dlc" train "$e2e_tmp/tab.dlc" --data "$bad"
printf '1,nan,0\n' >"$bad/train.csv"
expect_error "train.csv:1: field 2 is not a finite number" "$dlc" train "$e2e_tmp/tab.dlc" --data "$bad"
"$py" -c 'print("1," * 70000 + "0")' >"$bad/train.csv"
expect_error "train.csv:1: more than 65536 columns" "$dlc" train "$e2e_tmp/tab.dlc" --data "$bad"
printf '1,2,0\n3,4\n' >"$bad/train.csv"
expect_error "train.csv:2: 2 fields, the first row has 3" "$dlc" train "$e2e_tmp/tab.dlc" --data "$bad"
printf '1,2,0.5\n' >"$bad/train.csv"
expect_error "train.csv:1: the label (last column) is 0.5" "$dlc" train "$e2e_tmp/tab.dlc" --data "$bad"
printf '1,2,3,4,5,6,7,8,0\n' >"$bad/train.csv"
printf '1,2,3,4,5,6,7,8,4\n' >"$bad/test.csv"
expect_error "the labels run from 0 to 4, but the model's output 'probs' has 4 classes" \
  "$dlc" train "$e2e_tmp/tab.dlc" --data "$bad" --batch 1
printf '1,2,0\n' >"$bad/train.csv"
printf '1,2,0\n' >"$bad/test.csv"
expect_error "input 'x' is f32 [1,8]: the dataset's samples are [2] (an input [B, 2])" \
  "$dlc" train "$e2e_tmp/tab.dlc" --data "$bad" --batch 1
echo ok
