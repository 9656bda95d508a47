"""bench_plot.py DLC ROOT WORKDIR — `dlc bench --plot`: the MLP benched at --fuse none and
all, three runs each; the SVG is well-formed XML with one bar per variant, each labelled,
a whisker from min to max around each median, and a title naming the model, the batch and
the CPU; the bars' heights follow the medians of --json; a model path holding markup,
quotes, a control byte and bytes that are not UTF-8 still gives well-formed XML.  A bad
--plot is one line of error and no file."""
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

dlc, root, work = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(work, exist_ok=True)
failures = []
NS = "{http://www.w3.org/2000/svg}"


def check(ok, what):
    print(("ok: " if ok else "FAIL: ") + what)
    if not ok:
        failures.append(what)


model = os.path.join(root, "models", "mlp.dlc")
svg = os.path.join(work, "bench.svg")
r = subprocess.run([dlc, "bench", model, "--batch", "4", "--compare", "none,all", "--runs", "3", "--warmup", "1",
                    "--json", "--plot", svg], capture_output=True, timeout=300)
check(r.returncode == 0, "dlc bench --plot succeeds (%s)" % r.stderr.decode().strip())
rows = json.loads(r.stdout)
tree = ET.parse(svg)  # raises on malformed XML
check(True, "the SVG is well-formed XML")
top = tree.getroot()
check(top.tag == NS + "svg", "the root is <svg>")
bars = [e for e in top.iter(NS + "rect") if e.get("class") == "bar"]
labels = [e.text for e in top.iter(NS + "text") if e.get("class") == "label"]
check(len(bars) == 2, "one bar per variant (%d)" % len(bars))
check(labels == ["none", "all"], "each bar labelled with its variant (%s)" % labels)
title = "".join(e.text for e in top.iter(NS + "text") if e.get("class") == "title")
check(model in title and "batch 4" in title, "the title names the model and the batch: %s" % title)
check(any(w in title for w in ("x86-64", "generic", "aarch64", "Intel", "AMD", "CPU")), "the title names the CPU")
whiskers = [e for e in top.iter(NS + "g") if e.get("class") == "whisker"]
check(len(whiskers) == 2 and all(len(list(w)) == 3 for w in whiskers), "a min-max whisker on each bar")
axis = [e.text for e in top.iter(NS + "text") if e.text and "microseconds" in e.text]
check(len(axis) == 1, "the y axis says microseconds per run")
# heights follow the medians: h_i / h_j == median_i / median_j
h = [float(b.get("height")) for b in bars]
m = [row["median_us"] for row in rows]
check(all(x > 0 for x in h) and abs(h[0] / h[1] - m[0] / m[1]) < 0.02 * m[0] / m[1] + 0.05,
      "bar heights %s follow the medians %s" % (h, m))
for b, row in zip(bars, rows):
    t = b.find(NS + "title").text
    check(t.startswith(row["variant"] + ": "), "the bar's tooltip names %s: %s" % (row["variant"], t))

# a model path that holds markup, quotes, a control byte and bytes that are not UTF-8:
# the SVG is still well-formed, the title shows the path
odd_dir = os.path.join(work.encode(), b"we<i>r&d'\"\x1b\xff")
os.makedirs(odd_dir, exist_ok=True)
odd = os.path.join(odd_dir, b"m.dlc")
with open(odd, "wb") as fh:
    fh.write(open(model, "rb").read())
svg2 = os.path.join(work, "odd.svg")
r = subprocess.run([dlc.encode(), b"bench", odd, b"--compare", b"all", b"--runs", b"1", b"--warmup", b"0",
                    b"--plot", svg2.encode()], capture_output=True, timeout=300)
check(r.returncode == 0, "bench of a model at an odd path (%s)" % r.stderr.decode(errors="replace").strip())
title = "".join(e.text for e in ET.parse(svg2).getroot().iter(NS + "text") if e.get("class") == "title")
check("we<i>r&d'\"\\x1b\\xff" in title, "odd path: well-formed, the title shows it escaped: %s" % title)

# errors: one line, no file
for bad, why in ((os.path.join(work, "out.txt"), "not .svg"), (model, "the model itself"),
                 (os.path.join(work, "no", "dir", "x.svg"), "a missing folder")):
    before = open(model, "rb").read()
    r = subprocess.run([dlc, "bench", model, "--compare", "all", "--runs", "1", "--warmup", "0", "--plot", bad],
                       capture_output=True, timeout=300)
    check(r.returncode == 1 and r.stderr.count(b"\n") == 1 and open(model, "rb").read() == before,
          "--plot onto %s: one line (%s)" % (why, r.stderr.decode().strip()))
check(set(os.listdir(work)) == {"bench.svg", "odd.svg", os.fsdecode(os.path.basename(odd_dir))}, "no other file left")
print("%d failures" % len(failures))
sys.exit(1 if failures else 0)
