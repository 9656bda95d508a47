# cli.sh DLC ROOT — the training commands' user errors, each one line, and `dlc train`
# on LeNet's [B, 1, 28, 28] input and on a model's own training section (a few batches).
. "$(dirname "$0")/../e2e/lib.sh"
dlc=$1
root=$2
have_data=0
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] && have_data=1

cat >"$e2e_tmp/four.dlc" <<'DLC'
input x: f32[batch, 784]
y = softmax(dense(x, 4))
output y
DLC
cat >"$e2e_tmp/wide.dlc" <<'DLC'
input x: f32[batch, 100]
y = softmax(dense(x, 10))
output y
DLC
cat >"$e2e_tmp/own.dlc" <<'DLC'
model own
input x: f32[batch, 1, 28, 28]
f = flatten(x)
logits = dense(f, 10)
output logits
training
input label: i32[batch]
train: loss = cross_entropy(logits, label), optimizer = nesterov(lr=0.05), schedule = cosine
DLC

expect_error "the dataset is missing" "$dlc" train "$root/models/mlp.dlc" --data "$e2e_tmp/nothing"
expect_error "--data" "$dlc" train "$root/models/mlp.dlc" --data
expect_error "--loss is for models without a training statement" "$dlc" train "$e2e_tmp/own.dlc" --loss mse --data "$e2e_tmp/nothing" 
expect_error "--loss, --optimizer, --schedule and --lr need --train" "$dlc" compile "$root/models/mlp.dlc" --lr 0.1 -o "$e2e_tmp/m.c"
expect_error "--optimizer 'adagrad': expected sgd, momentum, nesterov, adam or adamw" "$dlc" train "$root/models/mlp.dlc" --optimizer adagrad
expect_error "--optimizer 'adam:beta1=2': beta1=2: expected a number from 0" "$dlc" compile "$root/models/mlp.dlc" --train --optimizer adam:beta1=2 -o "$e2e_tmp/m.c"
expect_error "the cosine schedule needs steps=" "$dlc" compile "$root/models/mlp.dlc" --train --schedule cosine -o "$e2e_tmp/m.c"
expect_error "--loss 'hinge': expected ce, bce, mse or l1" "$dlc" train "$root/models/mlp.dlc" --loss hinge
[ $have_data = 1 ] || exit 0
expect_error "the labels run from 0 to 9, but the model's output 'y' has 4 classes" "$dlc" train "$e2e_tmp/four.dlc"
expect_error "input 'x' is f32 [64,100]: the dataset's samples are [28,28]" "$dlc" train "$e2e_tmp/wide.dlc"
expect_error "a batch of 70000 is more than the 60000 training samples" "$dlc" train "$root/models/mlp.dlc" --batch 70000

"$dlc" train "$root/models/lenet.dlc" --epochs 1 --limit 640 --batch 32 >"$e2e_tmp/log" 2>&1 || fail "lenet: $(cat "$e2e_tmp/log")"
grep -q '^epoch 1: train loss [0-9.]*, test accuracy [0-9.]*%' "$e2e_tmp/log" || fail "lenet: $(cat "$e2e_tmp/log")"
"$dlc" train "$e2e_tmp/own.dlc" --epochs 2 --limit 1280 >"$e2e_tmp/log" 2>&1 || fail "own: $(cat "$e2e_tmp/log")"
grep -q '^epoch 2: train loss' "$e2e_tmp/log" || fail "own: $(cat "$e2e_tmp/log")"
echo ok
