"""dlc from Python: compile a model (.onnx, .dlc) and run it on NumPy arrays.

    import dlc
    m = dlc.compile("model.onnx", batch=1)
    y = m(x=np_array)          # one output: an array; several: a dict by name
    m.bench()                  # {'median_us': ..., 'min_us': ..., 'max_us': ..., 'runs': 50}

The work is libdlc's (tools/dlc_api.h): the same frontend, passes, code generator and
jit as `dlc run`, here through ctypes, in this process.  libdlc is found through
$DLC_LIBRARY, else beside an installed `dlc` on PATH (PREFIX/bin/dlc ->
PREFIX/lib/libdlc.so), else the system's library path.
"""
import ctypes
import ctypes.util
import os
import shutil

import numpy as np

__all__ = ["compile", "Model", "Error", "version"]

_DTYPES = {
    "f32": np.float32, "f64": np.float64, "i8": np.int8, "i16": np.int16, "i32": np.int32,
    "i64": np.int64, "u8": np.uint8, "bool": np.bool_, "u16": np.uint16, "u32": np.uint32,
    "u64": np.uint64, "f16": np.float16,
}


def _dtype(name):
    """numpy's dtype for a dlc dtype; bf16 is ml_dtypes' bfloat16 (numpy has none)."""
    if name == "bf16":
        try:
            import ml_dtypes
        except ImportError:
            raise Error("the model reads or gives bf16, which needs the ml_dtypes package") from None
        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(_DTYPES[name])


class Error(RuntimeError):
    """A compile or run failed; the message is dlc's one line."""


def _candidates():
    env = os.environ.get("DLC_LIBRARY")
    if env:
        yield env
        return
    exe = shutil.which("dlc")
    if exe:
        prefix = os.path.dirname(os.path.dirname(os.path.realpath(exe)))
        for libdir in ("lib", "lib64"):
            yield os.path.join(prefix, libdir, "libdlc.so")
    found = ctypes.util.find_library("dlc")
    if found:
        yield found


def _load():
    tried = []
    for path in _candidates():
        tried.append(path)
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        # A --target cuda model links libdlcrt.a: the one installed beside libdlc.
        rt = os.path.join(os.path.dirname(os.path.abspath(path)), "libdlcrt.a")
        if os.path.exists(rt):
            os.environ.setdefault("DLC_RT_LIB", rt)
        return lib
    raise ImportError("dlc: cannot find libdlc (tried: %s); install dlc (cmake --install) "
                      "or set DLC_LIBRARY" % (", ".join(tried) or "nothing"))


_lib = _load()
_P, _I64P, _ERR = ctypes.c_void_p, ctypes.POINTER(ctypes.c_int64), 1024
_lib.dlc_model_compile.restype = _P
_lib.dlc_model_compile.argtypes = [ctypes.c_char_p, ctypes.c_int64, ctypes.c_char_p, ctypes.c_int, ctypes.c_int,
                                   ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t]
_lib.dlc_model_free.argtypes = [_P]
for _f in ("num_inputs", "num_outputs"):
    getattr(_lib, "dlc_model_" + _f).argtypes = [_P]
for _side in ("input", "output"):
    for _f, _t in (("name", ctypes.c_char_p), ("dtype", ctypes.c_char_p), ("rank", ctypes.c_int), ("dims", _I64P)):
        fn = getattr(_lib, "dlc_model_%s_%s" % (_side, _f))
        fn.argtypes, fn.restype = [_P, ctypes.c_int], _t
_lib.dlc_model_run.argtypes = [_P, ctypes.POINTER(_P), ctypes.POINTER(_P), ctypes.c_char_p, ctypes.c_size_t]
_lib.dlc_model_bench.argtypes = [_P, ctypes.POINTER(_P), ctypes.POINTER(_P), ctypes.c_int, ctypes.c_int,
                                 ctypes.POINTER(ctypes.c_double), ctypes.c_char_p, ctypes.c_size_t]
_lib.dlc_version.restype = ctypes.c_char_p


def version():
    """dlc's version and git commit, as `dlc --version` prints them."""
    return _lib.dlc_version().decode()


class _Port:
    def __init__(self, m, side, i):
        get = lambda f: getattr(_lib, "dlc_model_%s_%s" % (side, f))(m, i)
        self.name = get("name").decode()
        self.dtype = _dtype(get("dtype").decode())
        dims = get("dims")
        self.shape = tuple(dims[k] for k in range(get("rank")))


class Model:
    """A compiled, loaded model.  Call it with one array per input (by name, or in
    order); its inputs and outputs are .inputs and .outputs (name, dtype, shape)."""

    def __init__(self, handle):
        self._m = handle
        self.inputs = [_Port(handle, "input", i) for i in range(_lib.dlc_model_num_inputs(handle))]
        self.outputs = [_Port(handle, "output", j) for j in range(_lib.dlc_model_num_outputs(handle))]

    def _bind(self, args, kwargs):
        if len(args) > len(self.inputs):
            raise TypeError("the model has %d inputs, %d arrays given" % (len(self.inputs), len(args)))
        given = dict(zip((p.name for p in self.inputs), args))
        for k, v in kwargs.items():
            if k not in {p.name for p in self.inputs}:
                raise TypeError("the model has no input '%s' (inputs: %s)" % (k, ", ".join(p.name for p in self.inputs)))
            if k in given:
                raise TypeError("input '%s' given twice" % k)
            given[k] = v
        arrays = []
        for p in self.inputs:
            if p.name not in given:
                raise TypeError("input '%s' is missing" % p.name)
            a = np.ascontiguousarray(given[p.name], dtype=p.dtype)
            if a.shape != p.shape:
                raise ValueError("input '%s' is %s, the compiled model takes %s" % (p.name, a.shape, p.shape))
            arrays.append(a)
        return arrays

    def _buffers(self, arrays):
        outs = [np.empty(p.shape, dtype=p.dtype) for p in self.outputs]
        ins = (_P * max(1, len(arrays)))(*[a.ctypes.data for a in arrays])
        outp = (_P * max(1, len(outs)))(*[o.ctypes.data for o in outs])
        return outs, ins, outp

    def run(self, *args, **kwargs):
        """The outputs, as a dict name -> array."""
        self._check()
        arrays = self._bind(args, kwargs)
        outs, ins, outp = self._buffers(arrays)
        err = ctypes.create_string_buffer(_ERR)
        if _lib.dlc_model_run(self._m, ins, outp, err, _ERR):
            raise Error(err.value.decode(errors="replace"))
        return {p.name: o for p, o in zip(self.outputs, outs)}

    def __call__(self, *args, **kwargs):
        out = self.run(*args, **kwargs)
        return next(iter(out.values())) if len(out) == 1 else out

    def bench(self, *args, runs=50, warmup=5, seed=0, **kwargs):
        """Times runs (after warmup untimed ones) of the generated code on the given
        inputs, else seeded random ones: median, min and max microseconds per run."""
        self._check()
        if not args and not kwargs:
            rng = np.random.default_rng(seed)
            kwargs = {p.name: (rng.uniform(-1, 1, p.shape) if p.dtype.kind == "f" or p.dtype.name == "bfloat16"
                               else rng.integers(0, 4, p.shape)).astype(p.dtype) for p in self.inputs}
        arrays = self._bind(args, kwargs)
        outs, ins, outp = self._buffers(arrays)
        us = (ctypes.c_double * max(1, runs))()
        err = ctypes.create_string_buffer(_ERR)
        if _lib.dlc_model_bench(self._m, ins, outp, int(runs), int(warmup), us, err, _ERR):
            raise Error(err.value.decode(errors="replace"))
        t = np.array(us[:runs])
        return {"median_us": float(np.median(t)), "min_us": float(t.min()), "max_us": float(t.max()), "runs": runs}

    def _check(self):
        if not self._m:
            raise Error("the model was closed")

    def close(self):
        """Unloads the generated code (also when the object is collected)."""
        if self._m:
            _lib.dlc_model_free(self._m)
            self._m = None

    def __del__(self):
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def compile(path, batch=0, dims=None, opt_level=2, threads=1, cflags=None, target="c"):
    """Compiles the model at path (.onnx or .dlc) and loads it: dlc's -O{opt_level}
    pipeline, `batch` bound (0: 1), dims={'seq': 16} binding other symbolic
    dimensions, built with cflags (default -O2) and, for threads > 1, -fopenmp.
    target='cuda' generates CUDA and runs it on the GPU."""
    if target not in ("c", "cuda"):
        raise ValueError("target must be 'c' or 'cuda', not %r" % (target,))
    d = ",".join("%s=%d" % (k, v) for k, v in (dims or {}).items())
    err = ctypes.create_string_buffer(_ERR)
    h = _lib.dlc_model_compile(os.fsencode(path), int(batch), d.encode() if d else None, int(opt_level),
                               int(threads), cflags.encode() if cflags else None, int(target == "cuda"), err, _ERR)
    if not h:
        raise Error(err.value.decode(errors="replace"))
    return Model(h)
