# dcgan.sh DLC ROOT — models/dcgan_train.c, the driver of the DCGAN's generated steps:
# its choice of the first SAMPLES images (of a shuffle of all, a shuffle of exactly
# those), then, with the dataset, models/dcgan_train.sh for one epoch of 640 images:
# a row of gan_losses.csv and the sample grids.  $DLC_TEST_CFLAGS (the sanitizer build
# sets it) goes to every compile that links the build's libdlcrt.
. "$(dirname "$0")/../e2e/lib.sh"
dlc=$1
root=$2
build=$(cd "$(dirname "$dlc")/.." && pwd)
"$dlc" compile --train "$root/models/dcgan.dlc" --batch 64 -o "$e2e_tmp/dcgan.c" || fail "compile --train"
cat >"$e2e_tmp/keep.c" <<'EOF'
#define main dcgan_train_main
#include "dcgan_train.c"
#undef main

/* keep_first on shuffles of 1000 samples: the first n entries are 0..n-1, each once,
 * in the order the shuffle gave them. */
int main(void) {
  static int64_t order[1000], all[1000];
  static const int64_t ns[] = {1, 64, 100, 640, 999, 1000};
  for (int t = 0; t < (int)(sizeof ns / sizeof ns[0]); t++) {
    int64_t n = ns[t], seen[1000] = {0}, j = 0;
    rt_data_shuffle(NOISE_SEED, (uint64_t)t, 1000, order);
    for (int k = 0; k < 1000; k++) all[k] = order[k];
    if (keep_first(order, 1000, n) != n) return printf("n=%lld: count\n", (long long)n), 1;
    for (int64_t i = 0; i < n; i++) {
      if (order[i] < 0 || order[i] >= n || seen[order[i]]++) return printf("n=%lld: order[%lld] = %lld\n", (long long)n, (long long)i, (long long)order[i]), 1;
      while (all[j] >= n) j++;
      if (all[j++] != order[i]) return printf("n=%lld: the shuffle's order is lost at %lld\n", (long long)n, (long long)i), 1;
    }
  }
  return 0;
}
EOF
${CC:-cc} -O1 ${DLC_TEST_CFLAGS:-} -std=c11 -I"$e2e_tmp" -I"$root/models" -I"$root/runtime" "$e2e_tmp/keep.c" "$e2e_tmp/dcgan.c" \
  "$build/runtime/libdlcrt.a" -lz -ldl -lm -lpthread -o "$e2e_tmp/keep" || fail "building keep.c"
"$e2e_tmp/keep" || fail "keep_first"

[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || exit 77
CFLAGS="-O3 -march=native ${DLC_TEST_CFLAGS:-}" sh "$root/models/dcgan_train.sh" "$build" "$e2e_tmp/out" 1 640 >"$e2e_tmp/log" 2>&1 ||
  fail "dcgan_train.sh: $(tail -3 "$e2e_tmp/log")"
grep -q '^epoch 1: loss_d [0-9.]*  loss_g [0-9.]*  D(real) [0-9.]*  D(fake) [0-9.]*  ([0-9.]* s)$' "$e2e_tmp/log" ||
  fail "no epoch line: $(cat "$e2e_tmp/log")"
[ "$(sed -n 1p "$e2e_tmp/out/gan_losses.csv")" = "epoch,loss_d,loss_g,d_real,d_fake,seconds" ] ||
  fail "gan_losses.csv header: $(sed -n 1p "$e2e_tmp/out/gan_losses.csv")"
[ "$(wc -l <"$e2e_tmp/out/gan_losses.csv")" -eq 2 ] || fail "gan_losses.csv: $(cat "$e2e_tmp/out/gan_losses.csv")"
for f in samples_0.pgm samples_1.pgm; do
  [ "$(head -c 2 "$e2e_tmp/out/$f")" = P5 ] || fail "$f is not a PGM"
done
