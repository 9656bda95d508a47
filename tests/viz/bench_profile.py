"""bench_profile.py DLC ROOT WORKDIR — `dlc bench --profile`: LeNet at batch 8, unfused and
fused, then in parts of 2, five runs each by the thread's CPU time.  Each variant that runs
whole lists one entry per kernel of its schedule, named as the generated code names the
kernel (checked in the kept model.c), with its ops (one per kernel unfused, some fused
kernel of several), its result and the shape of its convolution or product; the kernels' times are not negative, their sum is
not above the slowest run and accounts for most of the fastest.  The variant in parts has
no table and says why.  The table form lists the same kernels; --profile with --dynamic
is one line of error."""
import glob
import json
import os
import re
import subprocess
import sys

dlc, root, work = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(work, exist_ok=True)
failures = []


def check(ok, what):
    print(("ok: " if ok else "FAIL: ") + what)
    if not ok:
        failures.append(what)


model = os.path.join(root, "models", "lenet.dlc")
env = dict(os.environ, TMPDIR=work)
base = [dlc, "bench", model, "--batch", "8", "--runs", "5", "--warmup", "1", "--clock", "cpu", "--profile"]
r = subprocess.run(base + ["--compare", "none,fused", "--json", "--keep"],
                   capture_output=True, timeout=600, env=env)
err = r.stderr.decode()
check(r.returncode == 0, "dlc bench --profile --json succeeds (%s)" % err.strip())
rows = {row["variant"]: row for row in json.loads(r.stdout)}
kept = dict(re.findall(r"dlc: note: (\w+): generated code kept in (\S+)", err))
for name in ("none", "fused"):
    row = rows[name]
    prof = row.get("profile", [])
    check(len(prof) == row["kernels"], "%s: one entry per kernel (%d of %d)" % (name, len(prof), row["kernels"]))
    labels = [p["kernel"] for p in prof]
    check(len(set(labels)) == len(labels) and all(re.fullmatch(r"k\d+_\w+", k) for k in labels),
          "%s: kernels named k<id>_<kind>, each once: %s" % (name, labels))
    src = open(os.path.join(kept[name], "model.c")).read() if name in kept else ""
    check(all(re.search(r"static void %s\(" % k, src) for k in labels), "%s: each named kernel is in its model.c" % name)
    check(all(p["us"] >= 0 for p in prof), "%s: no negative time" % name)
    check(all(re.fullmatch(r"[a-z0-9_]+(\+[a-z0-9_]+)*", p["ops"]) for p in prof), "%s: ops listed" % name)
    check(all(re.fullmatch(r"f32\[[0-9,]+\]", p["result"]) for p in prof), "%s: results shaped" % name)
    heads = [(p["ops"].split("+")[0], p["head"]) for p in prof]
    check(all(re.fullmatch(r"5x5/1 (6<-1|16<-6)", h) for op, h in heads if op == "conv") and
          all(re.fullmatch(r"\[8,\d+\] @ \[\d+,\d+\]", h) for op, h in heads if op == "matmul") and
          all(h == "" for op, h in heads if op not in ("conv", "matmul")) and sum(op == "conv" for op, h in heads) == 2,
          "%s: the head of each conv and matmul kernel: %s" % (name, heads))
    total = sum(p["us"] for p in prof)
    check(total <= row["max_us"] * 1.01 + 2, "%s: kernels' sum %.1f us not above the slowest run %.1f" % (name, total, row["max_us"]))
    check(total >= 0.5 * row["min_us"], "%s: kernels' sum %.1f us is most of the fastest run %.1f" % (name, total, row["min_us"]))
check(all("+" not in p["ops"] for p in rows["none"].get("profile", [])), "unfused: one op per kernel")
check(any("+" in p["ops"] for p in rows["fused"].get("profile", [])), "fused: some kernel of several ops")
for d in kept.values():
    for f in glob.glob(os.path.join(d, "*")):
        os.unlink(f)
    os.rmdir(d)

r = subprocess.run(base + ["--compare", "parts", "--micro-batch", "2", "--json"], capture_output=True, timeout=600, env=env)
parts = json.loads(r.stdout)[0] if r.returncode == 0 else {}
check(parts.get("parts") == 4 and "profile" not in parts, "parts: run in 4 parts, no profile")
check("parts: --profile times the kernels of a batch run whole" in r.stderr.decode(), "parts: the note says why")

r = subprocess.run(base + ["--compare", "fused"], capture_output=True, timeout=600, env=env)
out = r.stdout.decode()
check(r.returncode == 0 and "profile of fused:" in out, "the table form prints the profile")
listed = re.findall(r"^(k\d+_\w+) +[0-9.]+ +[0-9.]+% ", out, re.M)
check(len(listed) == len(rows["fused"]["profile"]) and re.search(r"^sum +[0-9.]+$", out, re.M),
      "the table lists every kernel and their sum (%d)" % len(listed))

r = subprocess.run([dlc, "bench", model, "--dynamic", "batch<=4", "--profile"], capture_output=True, timeout=600, env=env)
lines = r.stderr.decode().strip().split("\n")
check(r.returncode == 1 and len(lines) == 1 and "--profile: not with --dynamic" in lines[0],
      "--profile with --dynamic: one line of error (%s)" % lines)

print("%d failure(s)" % len(failures))
sys.exit(1 if failures else 0)
