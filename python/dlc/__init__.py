"""dlc from Python: compile a model (.onnx, .dlc) and run it on NumPy arrays.

    import dlc
    m = dlc.compile("model.onnx", batch=1)
    y = m(x=np_array)          # one output: an array; several: a dict by name
    m.bench()                  # {'median_us': ..., 'min_us': ..., 'max_us': ..., 'runs': 50}

    t, history = dlc.train("mlp.dlc", x_train, y_train, x_test, y_test, epochs=5, batch=32)
    history["test_accuracy"]   # per epoch, as `dlc train` prints it
    t.predict(x_test)          # the trained model's first output, any number of rows
    t.params()                 # {name: array}; t.save("w.params"), t.write_onnx(src, dst)

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

__all__ = ["compile", "train", "Model", "TrainedModel", "Error", "version"]

_DTYPES = {
    "f32": np.float32, "f64": np.float64, "i8": np.int8, "i16": np.int16, "i32": np.int32,
    "i64": np.int64, "u8": np.uint8, "bool": np.bool_, "u16": np.uint16, "u32": np.uint32,
    "u64": np.uint64, "f16": np.float16,
}


# dlc's storage dtypes that numpy lacks, by their ml_dtypes names (one element per byte
# for the float8, float4, int4 and int2 types, as dlc holds them)
_ML_DTYPES = {
    "bf16": "bfloat16", "f8e4m3fn": "float8_e4m3fn", "f8e4m3fnuz": "float8_e4m3fnuz", "f8e5m2": "float8_e5m2",
    "f8e5m2fnuz": "float8_e5m2fnuz", "f8e8m0": "float8_e8m0fnu", "f4e2m1": "float4_e2m1fn", "i4": "int4",
    "u4": "uint4", "i2": "int2", "u2": "uint2",
}


def _dtype(name):
    """numpy's dtype for a dlc dtype; bf16 and the one-byte types are ml_dtypes' (numpy has none)."""
    if name in _ML_DTYPES:
        try:
            import ml_dtypes
        except ImportError:
            raise Error("the model reads or gives %s, which needs the ml_dtypes package" % name) from None
        return np.dtype(getattr(ml_dtypes, _ML_DTYPES[name]))
    if name == "str":
        raise Error("the model reads or gives str (strings), which the Python module does not take yet: "
                    "use dlc run or the generated C")
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
                                   ctypes.c_char_p, ctypes.c_int, ctypes.c_int64, ctypes.c_char_p, ctypes.c_size_t]
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
_lib.dlc_set_limit.argtypes = [ctypes.c_char_p, ctypes.c_int64, ctypes.c_char_p, ctypes.c_size_t]
_lib.dlc_limit.argtypes, _lib.dlc_limit.restype = [ctypes.c_char_p], ctypes.c_int64
_lib.dlc_limit_name.argtypes, _lib.dlc_limit_name.restype = [ctypes.c_int], ctypes.c_char_p
_lib.dlc_model_output_extent.argtypes = [_P, ctypes.c_int, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int)]
_lib.dlc_model_compile_train.restype = _P
_lib.dlc_model_compile_train.argtypes = [ctypes.c_char_p, ctypes.c_int64, ctypes.c_char_p, ctypes.c_char_p,
                                         ctypes.c_char_p, ctypes.c_double, ctypes.c_int64, ctypes.c_int, ctypes.c_int,
                                         ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t]
_lib.dlc_model_num_steps.argtypes = _lib.dlc_model_num_params.argtypes = [_P]
_lib.dlc_model_step_name.argtypes, _lib.dlc_model_step_name.restype = [_P, ctypes.c_int], ctypes.c_char_p
_lib.dlc_model_step.argtypes = [_P, ctypes.c_int, ctypes.c_int, ctypes.POINTER(_P), ctypes.POINTER(ctypes.c_float),
                                ctypes.c_char_p, ctypes.c_size_t]
for _f, _t in (("name", ctypes.c_char_p), ("dtype", ctypes.c_char_p), ("rank", ctypes.c_int), ("dims", _I64P)):
    fn = getattr(_lib, "dlc_model_param_" + _f)
    fn.argtypes, fn.restype = [_P, ctypes.c_int], _t
_lib.dlc_model_param.argtypes, _lib.dlc_model_param.restype = [_P, ctypes.c_int], _P
for _f in ("save", "load"):
    getattr(_lib, "dlc_model_" + _f).argtypes = [_P, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t]
_lib.dlc_model_write_onnx.argtypes = [_P, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t]
_lib.dlc_shuffle.argtypes = [ctypes.c_uint64, ctypes.c_uint64, ctypes.c_int64, _I64P]
_lib.dlc_model_compile_dynamic.restype = _P
_lib.dlc_model_compile_dynamic.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_int,
                                           ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t]
_lib.dlc_model_num_dims.argtypes = [_P]
_lib.dlc_model_dim_name.argtypes, _lib.dlc_model_dim_name.restype = [_P, ctypes.c_int], ctypes.c_char_p
_lib.dlc_model_dim_max.argtypes, _lib.dlc_model_dim_max.restype = [_P, ctypes.c_int], ctypes.c_int64
_lib.dlc_model_shape_at.argtypes = [_P, ctypes.c_int, ctypes.c_int, _I64P, _I64P]
_lib.dlc_model_dims_of.argtypes = [_P, ctypes.POINTER(_I64P), ctypes.POINTER(ctypes.c_int), _I64P, ctypes.c_char_p,
                                   ctypes.c_size_t]
_lib.dlc_model_run_dims.argtypes = [_P, _I64P, ctypes.POINTER(_P), ctypes.POINTER(_P), ctypes.c_char_p, ctypes.c_size_t]


def version():
    """dlc's version and git commit, as `dlc --version` prints them."""
    return _lib.dlc_version().decode()


def limit(name):
    """The budget or bound a dlc flag sets, by the flag's name ("max_trip" or "max-trip",
    "max_nodes", "string_heap", ...; docs/SECURITY.md)."""
    key = name.replace("_", "-")
    v = _lib.dlc_limit(key.encode())
    if v < 0:
        names = []
        while _lib.dlc_limit_name(len(names)):
            names.append(_lib.dlc_limit_name(len(names)).decode())
        shown = "".join(c if " " <= c != "\x7f" else "\\x%02x" % ord(c) for c in key)
        raise ValueError("no limit named '%s' (%s)" % (shown, ", ".join(names)))
    return v


def set_limit(name, value):
    """Sets a budget or bound for every compile after this one, as the CLI's flag of that
    name does (set_limit("max_trip", 16) is --max-trip 16), and returns the value it had."""
    old = limit(name)
    err = ctypes.create_string_buffer(_ERR)
    if isinstance(value, bool) or not isinstance(value, int) or \
            _lib.dlc_set_limit(name.replace("_", "-").encode(), value, err, _ERR):
        raise ValueError(err.value.decode(errors="replace") or "limit %s: %r is not a count" % (name, value))
    return old


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
            a = np.asarray(given[p.name], dtype=p.dtype, order="C")  # keeps rank 0 (ascontiguousarray makes it 1-d)
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
        return {p.name: self._trim(j, outs) for j, p in enumerate(self.outputs)}

    def _trim(self, j, outs):
        """Output j with only the entries the data gave it (NonZero, Unique,
        NonMaxSuppression are padded to a bound; the count is another output)."""
        count, axis = ctypes.c_int(), ctypes.c_int()
        if not _lib.dlc_model_output_extent(self._m, j, ctypes.byref(count), ctypes.byref(axis)):
            return outs[j]
        n = int(outs[count.value])
        return np.ascontiguousarray(np.take(outs[j], np.arange(n), axis=axis.value))

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


class DynamicModel(Model):
    """A model compiled with run-time dimensions (compile(..., dynamic=[...])): one
    build runs inputs of any of its sizes, found from the arrays' shapes.  .inputs and
    .outputs give the largest sizes; .dims the dimensions' names, .dim_max their
    largest sizes."""

    def __init__(self, handle):
        super().__init__(handle)
        n = _lib.dlc_model_num_dims(handle)
        self.dims = [_lib.dlc_model_dim_name(handle, j).decode() for j in range(n)]
        self.dim_max = [int(_lib.dlc_model_dim_max(handle, j)) for j in range(n)]

    def _bind(self, args, kwargs):
        saved = [p.shape for p in self.inputs]
        try:  # the shapes are the data's: check names and dtypes here, sizes in dims_of
            given = dict(zip((p.name for p in self.inputs), args))
            given.update(kwargs)
            for p in self.inputs:
                if p.name in given:
                    p.shape = np.shape(given[p.name])
            return super()._bind(args, kwargs)
        finally:
            for p, sh in zip(self.inputs, saved):
                p.shape = sh

    def sizes(self, *args, **kwargs):
        """The sizes of the run-time dimensions the inputs' shapes imply, {name: size}."""
        return dict(zip(self.dims, self._dims(self._bind(args, kwargs))))

    def _dims(self, arrays):
        shapes = [(ctypes.c_int64 * max(1, a.ndim))(*a.shape) for a in arrays]
        sp = (_I64P * max(1, len(arrays)))(*[ctypes.cast(x, _I64P) for x in shapes])
        ranks = (ctypes.c_int * max(1, len(arrays)))(*[a.ndim for a in arrays])
        dims = (ctypes.c_int64 * max(1, len(self.dims)))()
        err = ctypes.create_string_buffer(_ERR)
        if _lib.dlc_model_dims_of(self._m, sp, ranks, dims, err, _ERR):
            raise ValueError(err.value.decode(errors="replace") + ": " +
                             ", ".join("%s %s" % (p.name, a.shape) for p, a in zip(self.inputs, arrays)))
        return list(dims[:len(self.dims)])

    def run(self, *args, **kwargs):
        """The outputs at the sizes of the given arrays, as a dict name -> array."""
        self._check()
        arrays = self._bind(args, kwargs)
        d = self._dims(arrays)
        dims = (ctypes.c_int64 * max(1, len(d)))(*d)
        outs = []
        for j, p in enumerate(self.outputs):
            shape = (ctypes.c_int64 * 8)()
            r = _lib.dlc_model_shape_at(self._m, 1, j, dims, shape)
            outs.append(np.empty(tuple(shape[:r]), dtype=p.dtype))
        ins = (_P * max(1, len(arrays)))(*[a.ctypes.data for a in arrays])
        outp = (_P * max(1, len(outs)))(*[o.ctypes.data for o in outs])
        err = ctypes.create_string_buffer(_ERR)
        if _lib.dlc_model_run_dims(self._m, dims, ins, outp, err, _ERR):
            raise Error(err.value.decode(errors="replace"))
        return {p.name: outs[j] for j, p in enumerate(self.outputs)}

    def bench(self, *args, **kwargs):
        raise Error("bench of a model with run-time dimensions: use `dlc bench MODEL --dynamic ... --at N,..`")


def compile(path, batch=0, dims=None, opt_level=2, threads=1, cflags=None, target="c", dynamic=None,
            micro_batch="auto"):
    """Compiles the model at path (.onnx or .dlc) and loads it: dlc's -O{opt_level}
    pipeline, `batch` bound (0: 1), dims={'seq': 16} binding other symbolic
    dimensions, built with cflags (default -O2) and, for threads > 1, -fopenmp.
    target='cuda' generates CUDA and runs it on the GPU.  dynamic=['batch<=64',
    'seq=16,32'] keeps those dimensions free, as `dlc compile --dynamic` does: the
    model (a DynamicModel) then runs arrays of any of those sizes.  micro_batch: the
    batch in parts of that many samples, as `dlc compile --micro-batch` ("auto", an
    int, or "off")."""
    if target not in ("c", "cuda"):
        raise ValueError("target must be 'c' or 'cuda', not %r" % (target,))
    if micro_batch == "auto":
        micro = -1
    elif micro_batch == "off":
        micro = 0
    elif isinstance(micro_batch, int) and not isinstance(micro_batch, bool) and micro_batch >= 1:
        micro = micro_batch
    else:
        raise ValueError("micro_batch must be 'auto', 'off' or a positive int, not %r" % (micro_batch,))
    d = ",".join("%s=%d" % (k, v) for k, v in (dims or {}).items())
    err = ctypes.create_string_buffer(_ERR)
    if dynamic:
        if batch:
            raise ValueError("dynamic: the batch is then a run-time dimension, not `batch`")
        spec = ";".join([dynamic] if isinstance(dynamic, str) else list(dynamic))
        h = _lib.dlc_model_compile_dynamic(os.fsencode(path), spec.encode(), d.encode() if d else None,
                                           int(opt_level), int(threads), cflags.encode() if cflags else None,
                                           int(target == "cuda"), err, _ERR)
        if not h:
            raise Error(err.value.decode(errors="replace"))
        return DynamicModel(h)
    h = _lib.dlc_model_compile(os.fsencode(path), int(batch), d.encode() if d else None, int(opt_level),
                               int(threads), cflags.encode() if cflags else None, int(target == "cuda"), micro, err,
                               _ERR)
    if not h:
        raise Error(err.value.decode(errors="replace"))
    return Model(h)


# ---- training ----

class TrainedModel(Model):
    """A model compiled with its training steps and trained (dlc.train).  Its inputs
    include the training's (the labels); run() and __call__ fill any input not given
    with zeros, and predict() runs the first output over any number of samples."""

    def __init__(self, handle, path):
        super().__init__(handle)
        self.path = path
        self.steps = [_lib.dlc_model_step_name(handle, k).decode() for k in range(_lib.dlc_model_num_steps(handle))]
        self._params = [_Port(handle, "param", i) for i in range(_lib.dlc_model_num_params(handle))]

    def _bind(self, args, kwargs):
        given = set(kwargs) | {p.name for p in self.inputs[:len(args)]}
        kwargs = dict(kwargs, **{p.name: np.zeros(p.shape, p.dtype) for p in self.inputs if p.name not in given})
        return super()._bind(args, kwargs)

    def step(self, k, arrays, update=True):
        """Training step k on one batch (one array per input, in order): the loss
        before the update; update=False computes the loss alone."""
        self._check()
        ins = (_P * max(1, len(arrays)))(*[a.ctypes.data for a in arrays])
        loss, err = ctypes.c_float(), ctypes.create_string_buffer(_ERR)
        if _lib.dlc_model_step(self._m, int(k), int(update), ins, ctypes.byref(loss), err, _ERR):
            raise Error(err.value.decode(errors="replace"))
        return float(loss.value)

    def _param_view(self, i):
        p = self._params[i]
        ptr = _lib.dlc_model_param(self._m, i)
        if not ptr:
            raise Error("parameter '%s' is not in the compiled model" % p.name)
        n = int(np.prod(p.shape, dtype=np.int64))
        buf = (ctypes.c_char * (n * p.dtype.itemsize)).from_address(ptr)
        return np.frombuffer(buf, dtype=p.dtype, count=n).reshape(p.shape)

    def params(self):
        """The trained parameters: {name: a copy of its values}."""
        self._check()
        return {p.name: self._param_view(i).copy() for i, p in enumerate(self._params)}

    def set_params(self, values):
        """Writes {name: array} into the model's parameters."""
        self._check()
        index = {p.name: i for i, p in enumerate(self._params)}
        for name, v in values.items():
            if name not in index:
                raise KeyError("the model has no parameter '%s'" % name)
            view, p = self._param_view(index[name]), self._params[index[name]]
            v = np.asarray(v, dtype=p.dtype)
            if v.shape != p.shape:
                raise ValueError("parameter '%s' is %s, not %s" % (name, p.shape, v.shape))
            view[...] = v

    def _file_op(self, fn, *paths):
        self._check()
        err = ctypes.create_string_buffer(_ERR)
        if fn(self._m, *[os.fsencode(p) for p in paths], err, _ERR):
            raise Error(err.value.decode(errors="replace"))

    def save(self, path):
        """The parameters and the optimizer's state, as `dlc train --out` writes NAME.params."""
        self._file_op(_lib.dlc_model_save, path)

    def load(self, path):
        """Reads what save() wrote."""
        self._file_op(_lib.dlc_model_load, path)

    def write_onnx(self, dst, src=None):
        """A copy of the ONNX model (src, default the one trained) at dst with the trained
        weights as its initializers; never written over an input."""
        self._file_op(_lib.dlc_model_write_onnx, src or self.path, dst)

    def predict(self, x):
        """The first output for every row of x, run a batch at a time (the last batch
        padded with zeros)."""
        x = np.asarray(x)
        feed = _Feed(self, x, None)
        outs = []
        for first in range(0, len(x), feed.batch):
            out = self.run(*feed.fill(first))
            outs.append(next(iter(out.values()))[:min(feed.batch, len(x) - first)])
        return np.concatenate(outs) if outs else np.empty((0,) + self.outputs[0].shape[1:], self.outputs[0].dtype)


class _Feed:
    """What each input of a training model gets from a batch, as `dlc train` feeds it
    (tools/cmd_train_feed.c): the first float input with a sample's number of values
    takes x; another such input takes x again (an autoencoder's target); an integer
    input [B] takes the class ids y; a float input [B, K] takes y one-hot when y holds
    integers, else y's values (a regression's targets)."""

    def __init__(self, m, x, y):
        self.m, self.x, self.y = m, x, y
        self.batch = m.inputs[0].shape[0] if m.inputs and m.inputs[0].shape else 1
        size = int(np.prod(x.shape[1:], dtype=np.int64))
        ysize = int(np.prod(y.shape[1:], dtype=np.int64)) if y is not None else 0
        self.role = []
        for p in m.inputs:
            per = int(np.prod(p.shape[1:], dtype=np.int64)) if p.shape else 0
            if not p.shape or p.shape[0] != self.batch:
                raise ValueError("input '%s' is %s: every input's first dimension is the batch, %d"
                                 % (p.name, p.shape, self.batch))
            if p.dtype.kind == "f" and "x" in self.role and y is not None and y.dtype.kind == "f" and per == ysize:
                self.role.append("y")
            elif p.dtype.kind == "f" and per == size and len(p.shape) >= 2:
                self.role.append("x")
            elif y is None:
                self.role.append("zero")
            elif p.dtype.kind in "iu" and len(p.shape) == 1:
                self.role.append("label")
            elif p.dtype.kind == "f" and y.dtype.kind in "iu" and len(p.shape) == 2:
                self.role.append("onehot")
            else:
                raise ValueError("input '%s' (%s %s): fed neither x (samples %s) nor y (%s %s)"
                                 % (p.name, p.dtype, p.shape, x.shape[1:], y.dtype, y.shape[1:]))
        if "x" not in self.role:
            raise ValueError("no input of the model takes the samples %s (a float input [B, %d])" % (x.shape[1:], size))

    def fill(self, first, order=None):
        """One array per input for samples order[first:first+B] (rows past the end: zeros)."""
        n = len(self.x)
        idx = np.arange(first, first + self.batch)
        valid = idx < n
        rows = (order[idx[valid]] if order is not None else idx[valid])
        out = []
        for p, r in zip(self.m.inputs, self.role):
            a = np.zeros(p.shape, p.dtype)
            if r == "x":
                a.reshape(self.batch, -1)[valid] = self.x[rows].reshape(len(rows), -1)
            elif r == "label":
                a[valid] = self.y[rows]
            elif r == "onehot":
                a[np.nonzero(valid)[0], self.y[rows].astype(np.int64)] = 1
            elif r == "y":
                a.reshape(self.batch, -1)[valid] = self.y[rows].reshape(len(rows), -1)
            out.append(a)
        return out


def _shuffle(seed, epoch, n):
    order = np.empty(n, np.int64)
    _lib.dlc_shuffle(int(seed), int(epoch), int(n), order.ctypes.data_as(_I64P))
    return order


def _evaluate(m, feed, classes):
    """The first step's mean loss over the full batches, and the accuracy (%) of the
    first output's argmax over every sample (None unless a classifier)."""
    n, b, losses, hits = len(feed.x), feed.batch, [], 0
    for first in range(0, n, b):
        arrays = feed.fill(first)
        if first + b <= n:
            losses.append(m.step(0, arrays, update=False))
        if classes:
            y = m.run(*arrays)[m.outputs[0].name]
            k = min(b, n - first)
            hits += int((y[:k].argmax(1) == feed.y[first:first + k]).sum())
    return (float(np.mean(losses)) if losses else 0.0), (100.0 * hits / n if classes else None)


def _check_data(x, y, what):
    if x is None or y is None:
        raise ValueError("%s: give both x and y" % what)
    x, y = np.asarray(x), np.asarray(y)
    if len(x) != len(y):
        raise ValueError("%s: %d samples but %d labels" % (what, len(x), len(y)))
    if y.dtype.kind in "iu" and len(y) and y.min() < 0:
        raise ValueError("%s: a class label is negative" % what)
    return np.ascontiguousarray(x, dtype=np.float32), y


def train(path, x_train, y_train, x_test=None, y_test=None, epochs=5, batch=64, loss=None, optimizer=None,
          lr=None, seed=0, limit=None, dims=None, opt_level=2, threads=1, cflags="-O3", verbose=False):
    """Trains the model at path (.onnx or .dlc) on NumPy arrays in this process, as
    `dlc train --data DIR` does on x_train.npy, y_train.npy, ...: the model's training
    statements, else `loss` ('ce' default, 'bce', 'mse', 'l1') on its output against
    the labels; `optimizer` as --optimizer takes it ('adam' default, 'sgd',
    'momentum:momentum=0.9', 'adamw:weight_decay=1e-2', ...), `lr` overriding its rate.
    Each epoch shuffles the samples in the order `dlc train --seed seed` uses and runs
    every step on each full batch (limit: the first `limit` samples of the order).

    Returns (model, history): a TrainedModel holding the trained weights, and a dict of
    per-epoch lists: train_loss (the mean of the batches' losses), and with a test set
    test_loss and, for a classifier, test_accuracy (%); plus batch_loss, every batch's
    loss."""
    x_train, y_train = _check_data(x_train, y_train, "training data")
    if (x_test is None) != (y_test is None):
        raise ValueError("test data: give both x_test and y_test, or neither")
    if x_test is not None:
        x_test, y_test = _check_data(x_test, y_test, "test data")
        if x_test.shape[1:] != x_train.shape[1:]:
            raise ValueError("the training samples are %s, the test samples %s" % (x_train.shape[1:], x_test.shape[1:]))
    if int(epochs) < 1 or int(batch) < 1:
        raise ValueError("epochs and batch must be positive")
    n = min(int(limit), len(x_train)) if limit else len(x_train)
    per_epoch = n // int(batch)
    if per_epoch < 1:
        raise ValueError("a batch of %d is more than the %d training samples" % (batch, n))
    d = ",".join("%s=%d" % (k, v) for k, v in (dims or {}).items())
    err = ctypes.create_string_buffer(_ERR)
    h = _lib.dlc_model_compile_train(os.fsencode(path), int(batch), d.encode() if d else None,
                                     loss.encode() if loss else None, optimizer.encode() if optimizer else None,
                                     float(lr or 0), per_epoch * int(epochs), int(opt_level), int(threads),
                                     cflags.encode() if cflags else None, err, _ERR)
    if not h:
        raise Error(err.value.decode(errors="replace"))
    m = TrainedModel(h, path)
    feed = _Feed(m, x_train, y_train)
    out0 = m.outputs[0]
    labels = "label" in feed.role or "onehot" in feed.role
    classes = out0.shape[1] if labels and len(out0.shape) == 2 and out0.dtype.kind == "f" else 0
    if classes and len(y_train) and y_train.max() >= classes:
        raise ValueError("the labels run from 0 to %d, but the model's output '%s' has %d classes"
                         % (y_train.max(), out0.name, classes))
    test = _Feed(m, x_test, y_test) if x_test is not None else None
    history = {"train_loss": [], "batch_loss": []}
    if test is not None:
        history["test_loss"], history["test_accuracy"] = [], []
    for epoch in range(int(epochs)):
        order = _shuffle(seed, epoch, len(x_train))
        for b in range(per_epoch):
            arrays = feed.fill(b * feed.batch, order)
            losses = [m.step(k, arrays) for k in range(len(m.steps))]
            history["batch_loss"].append(losses[0])
        history["train_loss"].append(float(np.mean(history["batch_loss"][-per_epoch:])))
        line = "epoch %d: train loss %.4f" % (epoch + 1, history["train_loss"][-1])
        if test is not None:
            tl, acc = _evaluate(m, test, classes)
            history["test_loss"].append(tl)
            history["test_accuracy"].append(acc)
            line += ", test loss %.4f" % tl + (", test accuracy %.2f%%" % acc if acc is not None else "")
        if verbose:
            print(line, flush=True)
    return m, history
