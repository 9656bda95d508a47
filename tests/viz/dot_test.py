"""dot_test.py DLC ROOT WORKDIR — `dlc dot`: LeNet (.dlc) and the encoder (ONNX) at
--fuse none and all, and after fold; each file read by a small DOT reader (and by
Graphviz's `dot -Tsvg` where it is installed), its nodes and clusters counted against
what `dlc compile --stats` reports; a model whose names hold quotes, backslashes, DOT
syntax, control bytes and bytes that are not UTF-8 reads back as the same graph, each
name intact in its label; the errors are one line and leave no file."""
import os
import re
import shutil
import subprocess
import sys

dlc, root, work = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(work, exist_ok=True)
failures = []


def check(ok, what):
    print(("ok: " if ok else "FAIL: ") + what)
    if not ok:
        failures.append(what)


def run(*args):
    return subprocess.run([dlc, *args], capture_output=True, timeout=300)


# ---- a small DOT reader: statements of the subset dlc writes ----

TOKEN = re.compile(rb'\s*(?:("(?:[^"\\]|\\.)*")|(->|[{}\[\];=,])|([A-Za-z_0-9.]+)|(//[^\n]*))', re.S)


def tokens(data):
    i, out = 0, []
    while i < len(data):
        m = TOKEN.match(data, i)
        if not m:
            if data[i:].strip() == b"":
                break
            raise ValueError("bad DOT at byte %d: %r" % (i, data[i:i + 40]))
        i = m.end()
        if m.group(1):
            out.append(("str", m.group(1)[1:-1].replace(b'\\"', b'"')))
        elif m.group(2):
            out.append(("p", m.group(2)))
        elif m.group(3):
            out.append(("id", m.group(3)))
    return out


def read_dot(data):
    """(nodes: id -> label, edges: [(a, b, attrs)], clusters: [[ids]], graph label)."""
    t = tokens(data)
    assert t[0] == ("id", b"digraph") and t[1][0] == "str" and t[2] == ("p", b"{"), t[:3]
    nodes, edges, clusters, stack, glabel = {}, [], [], [], None
    i = 3

    def attrs(i):
        a = {}
        if t[i] != ("p", b"["):
            return a, i
        i += 1
        while t[i] != ("p", b"]"):
            k, eq, v = t[i], t[i + 1], t[i + 2]
            assert k[0] == "id" and eq == ("p", b"=") and v[0] in ("id", "str"), (k, eq, v)
            a[k[1]] = v[1]
            i += 3
            if t[i] == ("p", b","):
                i += 1
        return a, i + 1

    while i < len(t):
        tok = t[i]
        if tok == ("p", b"}"):
            if stack:
                clusters.append(stack.pop())
            i += 1
        elif tok == ("id", b"subgraph"):
            assert t[i + 1][1].startswith(b"cluster_") and t[i + 2] == ("p", b"{")
            stack.append([])
            i += 3
        elif tok[0] == "id" and tok[1] in (b"graph", b"node", b"edge"):
            a, i = attrs(i + 1)
            if tok[1] == b"graph":
                glabel = a.get(b"label")
        elif tok[0] == "id" and t[i + 1] == ("p", b"="):  # label="..." inside a cluster
            i += 3
        elif tok[0] == "id" and t[i + 1] == ("p", b"->"):
            a, j = attrs(i + 3)
            edges.append((tok[1], t[i + 2][1], a))
            i = j
        elif tok[0] == "id":
            a, i = attrs(i + 1)
            assert tok[1] not in nodes, tok
            nodes[tok[1]] = a.get(b"label", b"")
            if stack:
                stack[-1].append(tok[1])
        else:
            assert tok == ("p", b";"), tok
            i += 1
        if i < len(t) and t[i] == ("p", b";"):
            i += 1
    return nodes, edges, clusters, glabel


def graphviz(path):
    if not shutil.which("dot"):
        return
    r = subprocess.run(["dot", "-Tsvg", path, "-o", path + ".svg"], capture_output=True, timeout=300)
    check(r.returncode == 0 and not r.stderr, "%s: dot -Tsvg reads it (%s)" % (path, r.stderr.decode()[:200]))


def stats(model, *opts):
    """(nodes, kernels) of `dlc compile --stats`, and the node count after each pass."""
    r = run("compile", model, "--stats", "-o", os.path.join(work, "stats.c"), *opts)
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    m = re.search(r"pass fuse\s+(\d+) nodes in (\d+) kernels", out)
    after = {p: int(n) for p, n in re.findall(r"pass (\w+)\s+\d+ ->\s+(\d+) nodes", out)}
    return int(m.group(1)), int(m.group(2)), after


def well_formed(what, nodes, edges, clusters):
    graph_nodes = [n for n in nodes if re.fullmatch(rb"n\d+", n)]
    outs = [n for n in nodes if re.fullmatch(rb"out\d+", n)]
    check(len(graph_nodes) + len(outs) == len(nodes), what + ": every node is n<id> or out<j>")
    check(all(a in nodes and b in nodes for a, b, _ in edges), what + ": every edge joins declared nodes")
    check(all(any(b == o for _, b, _ in edges) for o in outs),
          what + ": every output has its edge")
    in_cl = [n for c in clusters for n in c]
    check(len(in_cl) == len(set(in_cl)), what + ": a node is in one cluster at most")
    return graph_nodes, outs


# ---- the models of the course, at two fusion modes ----

for model, opts in (("lenet.dlc", []), ("encoder.onnx", ["--batch", "1"])):
    path = os.path.join(root, "models", model)
    for fuse in ("none", "all"):
        what = "%s --fuse %s" % (model, fuse)
        out = os.path.join(work, "%s.%s.dot" % (model, fuse))
        r = run("dot", path, "--fuse", fuse, "-o", out, *opts)
        check(r.returncode == 0 and not r.stderr, what + ": dlc dot succeeds")
        data = open(out, "rb").read()
        nodes, edges, clusters, glabel = read_dot(data)
        graph_nodes, outs = well_formed(what, nodes, edges, clusters)
        nn, nk, _ = stats(path, "--fuse", fuse, *opts)
        check(len(graph_nodes) == nn, "%s: %d nodes drawn, --stats says %d" % (what, len(graph_nodes), nn))
        check(len(clusters) == nk, "%s: %d clusters, --stats says %d kernels" % (what, len(clusters), nk))
        check(sum(map(len, clusters)) + sum(1 for n in graph_nodes if re.match(rb"(input|param|const)\\n",
              nodes[n])) == nn, what + ": each computing node in a kernel, each source outside")
        check(b"fuse " + fuse.encode() in glabel, what + ": the title names the fusion mode")
        check(all(re.search(rb"\\n(f32|f64|i64|i32|bool|[a-z0-9]+) \[[0-9,]*\]", nodes[n]) for n in graph_nodes),
              what + ": every label has a dtype and a shape")
        graphviz(out)
        if fuse == "none":  # stdout gives the same file
            r = run("dot", path, "--fuse", fuse, *opts)
            check(r.stdout == data, what + ": standard output holds the same graph")
    # the graph after fold: no kernels yet, the node count of --stats' fold line
    r = run("dot", path, "--after", "fold", *opts)
    nodes, edges, clusters, _ = read_dot(r.stdout)
    graph_nodes, _ = well_formed(model + " --after fold", nodes, edges, clusters)
    _, _, after = stats(path, *opts)
    check(not clusters and len(graph_nodes) == after["fold"],
          "%s --after fold: %d nodes (--stats: %d), no clusters" % (model, len(graph_nodes), after["fold"]))

# ---- many weights: collapsed ----

deep = os.path.join(work, "deep.dlc")
with open(deep, "w") as fh:
    fh.write("model deep\ninput x: f32[1, 4]\nh = x\n" + "h = tanh(dense(h, 4))\n" * 300 + "output h\n")
r = run("dot", deep, "--fuse", "none")
nodes, edges, clusters, glabel = read_dot(r.stdout)
graph_nodes, _ = well_formed("300 layers", nodes, edges, clusters)
nn, nk, _ = stats(deep, "--fuse", "none")
m = re.search(rb"(\d+) weights not drawn", glabel or b"")
check(m and len(graph_nodes) == nn - int(m.group(1)) and len(clusters) == nk,
      "300 layers: %s weights not drawn, the other %d nodes and %d clusters are" % (m and m.group(1).decode(), len(graph_nodes), nk))
said = sum(int(k) for n in graph_nodes for k in re.findall(rb"\\n\+(\d+) weights?", nodes[n]))
check(m and said >= int(m.group(1)) > 256, "300 layers: the readers say +N weights, %d in all" % said)

# ---- hostile names ----

hostile = os.path.join(root, "tests", "viz", "hostile_names.dlc")
out = os.path.join(work, "hostile.dot")
r = run("dot", hostile, "-o", out)
check(r.returncode == 0, "hostile names: dlc dot succeeds")
data = open(out, "rb").read()
check(not re.search(rb"[\x00-\x09\x0b-\x1f\x7f]", data), "hostile names: no control byte in the file")
try:
    data.decode("utf-8")
    check(True, "hostile names: the file is UTF-8")
except UnicodeDecodeError as ex:
    check(False, "hostile names: the file is UTF-8 (%s)" % ex)
nodes, edges, clusters, _ = read_dot(data)
graph_nodes, outs = well_formed("hostile names", nodes, edges, clusters)
nn, nk, _ = stats(hostile)
check(len(graph_nodes) == nn and len(clusters) == nk and len(outs) == 1,
      "hostile names: %d nodes, %d clusters, as --stats says (%d, %d)" % (len(graph_nodes), len(clusters), nn, nk))
labels = b"".join(nodes.values())
for shown in (rb'x"] n0 -> n1; //\\', rb"c\\x1b[31m\\x01\\xff\\xfe&amp;amp;<b>", rb't\\n"q' + "é".encode(), rb'out}"\\'):
    check(shown in labels, "hostile names: %r shown whole in a label" % shown)
guarded = [n for n in graph_nodes if b"\\nif " in nodes[n]]
dashed = [(a, b) for a, b, x in edges if x.get(b"style") == b"dashed"]
check(len(guarded) == 3 and sorted(b for _, b in dashed) == sorted(guarded),
      "hostile names: each guarded node says 'if COND' and has a dashed edge from its guard")
graphviz(out)

# ---- errors: one line, nothing written ----

model_copy = os.path.join(work, "copy.dlc")
shutil.copy(os.path.join(root, "models", "lenet.dlc"), model_copy)
before = open(model_copy, "rb").read()
r = run("dot", model_copy, "-o", model_copy)
check(r.returncode == 1 and r.stderr.count(b"\n") == 1 and open(model_copy, "rb").read() == before,
      "-o onto the model: one line (%s), the model untouched" % r.stderr.decode().strip())
r = run("dot", model_copy, "-o", os.path.join(work, "no", "such", "dir", "g.dot"))
check(r.returncode == 1 and r.stderr.count(b"\n") == 1, "-o into a missing folder: one line")
r = run("dot", model_copy, "--after", "nosuchpass")
check(r.returncode == 1 and r.stderr.count(b"\n") == 1, "--after nosuchpass: one line")
r = run("dot", model_copy, "-O0", "--after", "fold")
check(r.returncode == 1 and b"does not run at -O0" in r.stderr, "--after fold at -O0: refused")
check(not [f for f in os.listdir(work) if ".tmp" in f], "no temporary file left")

print("%d failures" % len(failures))
sys.exit(1 if failures else 0)
