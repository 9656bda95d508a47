#!/bin/sh
# plan_scale.sh DLC: graphs whose memory plan once grew faster than linearly must
# compile: 300 training steps with adam (each step's updates live to the end: a
# million pairs of buffers live at once; minutes before the planner found them through
# a tree) and a recurrent layer unrolled over 20,000 steps.  No timing here: ctest's
# TIMEOUT is the bound, a few times what a loaded machine needs.
set -eu
dlc=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/dlc-plan-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
{
  printf 'model many_steps\nseed 1\ninput x: f32[batch, 16]\nh = dense(x, 16)\nh = tanh(h)\n'
  printf 'logits = dense(h, 4)\noutput logits\ntraining\ninput label: i64[batch]\n'
  i=0
  while [ $i -lt 300 ]; do
    printf 'train s%d: loss = cross_entropy(logits, label), optimizer = adam(lr=1e-3)\n' $i
    i=$((i + 1))
  done
} >"$tmp/steps.dlc"
"$dlc" compile "$tmp/steps.dlc" --train -o "$tmp/steps.c"
grep -q 'many_steps_s299_step' "$tmp/steps.h"
printf 'model r\ninput x: f32[1, 20000, 4]\nh = rnn(x, 4)\noutput h\n' >"$tmp/rnn.dlc"
"$dlc" compile "$tmp/rnn.dlc" -o "$tmp/rnn.c"
test -s "$tmp/rnn.c"
echo "ok: 300 training steps and a 20,000-step rnn planned"
