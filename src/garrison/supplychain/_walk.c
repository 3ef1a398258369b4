/* A fast first pass over a pickle's opcodes, for the common case of a clean file.
 *
 * It runs the same symbolic stack machine as pickle_vm.py, but models only what decides
 * whether the full analysis could report anything: literals, strings (for STACK_GLOBAL
 * names), containers, imports and calls of imported names. Anything outside that model
 * (text-argument opcodes, a call of a computed value, BUILD on a global, extension codes,
 * out-of-band buffers, a limit) returns UNSUPPORTED and the caller runs the Python machine,
 * which stays the reference. Every read is bounds-checked; nothing is executed or built.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

enum { ST_COMPLETE = 0, ST_BUDGET = 1, ST_TRUNCATED = 2, ST_ERROR = 3, ST_UNSUPPORTED = 4 };
enum { K_CONST, K_STR, K_GLOBAL, K_CALL, K_CONT, K_OPAQUE, K_PERSIST };

#define KEEP_BYTES (64 * 1024)  /* pickle_vm.KEEP_BYTES: longer strings are kept cut */
#define MAX_GLOBAL_LINE 4096    /* pickle_vm.MAX_GLOBAL_LINE */
#define MAX_NAME_BYTES 4096     /* longer STACK_GLOBAL names go to the Python machine */
#define MEMO_CAP (1 << 18)      /* memo keys at or above this go to the Python machine */
#define HIGHEST_PROTOCOL 5

typedef struct {
    uint8_t kind;
    uint8_t latin1;  /* K_STR: 8-bit string (BINSTRING), else UTF-8 */
    Py_ssize_t off;  /* K_STR: where the bytes are */
    Py_ssize_t len;
} Val;

typedef struct {
    const unsigned char *buf;
    Py_ssize_t size, pos;
    Val *stack;
    Py_ssize_t depth, cap;
    Py_ssize_t *marks;
    Py_ssize_t nmarks, markcap;
    Val *memo;
    unsigned char *memo_set;
    Py_ssize_t memocap, memolen;
    Py_ssize_t max_stack;
    int sniff;
    PyObject *globals;
} Walk;

static Py_ssize_t remaining(const Walk *w) { return w->size - w->pos; }

static Py_ssize_t base(const Walk *w) { return w->nmarks ? w->marks[w->nmarks - 1] : 0; }

/* 0 on success, else a status. */
static int push(Walk *w, Val v) {
    if (w->depth - base(w) >= w->max_stack) return ST_UNSUPPORTED; /* LimitExceeded */
    if (w->depth == w->cap) {
        Py_ssize_t cap = w->cap ? w->cap * 2 : 64;
        Val *grown = PyMem_Realloc(w->stack, (size_t)cap * sizeof(Val));
        if (!grown) return -1;
        w->stack = grown;
        w->cap = cap;
    }
    w->stack[w->depth++] = v;
    return 0;
}

static int push_kind(Walk *w, uint8_t kind) {
    Val v = {kind, 0, 0, 0};
    return push(w, v);
}

static int pop(Walk *w, Val *out) {
    if (w->depth == base(w)) return ST_ERROR; /* stack underflow */
    *out = w->stack[--w->depth];
    return 0;
}

static int top(Walk *w, Val *out) {
    if (w->depth == base(w)) return ST_ERROR;
    *out = w->stack[w->depth - 1];
    return 0;
}

/* Pops to the last MARK; the popped items stay readable at stack[*start .. *start + *count). */
static int pop_mark(Walk *w, Py_ssize_t *start, Py_ssize_t *count) {
    if (!w->nmarks) return ST_ERROR;
    Py_ssize_t b = w->marks[--w->nmarks];
    *start = b;
    *count = w->depth - b;
    w->depth = b;
    return 0;
}

static int mark(Walk *w) {
    if (w->nmarks >= w->max_stack) return ST_UNSUPPORTED;
    if (w->nmarks == w->markcap) {
        Py_ssize_t cap = w->markcap ? w->markcap * 2 : 16;
        Py_ssize_t *grown = PyMem_Realloc(w->marks, (size_t)cap * sizeof(Py_ssize_t));
        if (!grown) return -1;
        w->marks = grown;
        w->markcap = cap;
    }
    w->marks[w->nmarks++] = w->depth;
    return 0;
}

static int memo_put(Walk *w, uint64_t key, Val v) {
    if (key >= MEMO_CAP) return ST_UNSUPPORTED;
    if ((Py_ssize_t)key >= w->memocap) {
        Py_ssize_t cap = w->memocap ? w->memocap : 64;
        while (cap <= (Py_ssize_t)key) cap *= 2;
        Val *memo = PyMem_Realloc(w->memo, (size_t)cap * sizeof(Val));
        if (!memo) return -1;
        w->memo = memo;
        unsigned char *set = PyMem_Realloc(w->memo_set, (size_t)cap);
        if (!set) return -1;
        memset(set + w->memocap, 0, (size_t)(cap - w->memocap));
        w->memo_set = set;
        w->memocap = cap;
    }
    if (!w->memo_set[key]) {
        w->memo_set[key] = 1;
        w->memolen++;
    }
    w->memo[key] = v;
    return 0;
}

static int memo_get(Walk *w, uint64_t key) {
    if ((Py_ssize_t)key >= w->memocap || key >= MEMO_CAP || !w->memo_set[key]) {
        return key >= MEMO_CAP ? ST_UNSUPPORTED : ST_ERROR; /* key not found */
    }
    return push(w, w->memo[key]);
}

static uint64_t read_le(const unsigned char *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

/* Strict UTF-8 (no surrogates, no overlongs): a subset of what surrogatepass accepts. */
static int valid_utf8(const unsigned char *s, Py_ssize_t n) {
    Py_ssize_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c < 0x80) { i++; continue; }
        int extra;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) { extra = 1; cp = c & 0x1F; }
        else if (c >= 0xE0 && c <= 0xEF) { extra = 2; cp = c & 0x0F; }
        else if (c >= 0xF0 && c <= 0xF4) { extra = 3; cp = c & 0x07; }
        else return 0;
        if (n - i <= extra) return 0;
        for (int k = 1; k <= extra; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((extra == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)))
            || (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF))) {
            return 0;
        }
        i += extra + 1;
    }
    return 1;
}

/* ASCII dotted identifiers only; anything else is left to the Python machine. */
static int identifier_path(const unsigned char *s, Py_ssize_t n) {
    int start = 1;
    if (!n) return 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (c == '.') {
            if (start) return 0;
            start = 1;
            continue;
        }
        int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        if (!(alpha || (!start && c >= '0' && c <= '9'))) return 0;
        start = 0;
    }
    return !start;
}

/* Records an import; -1 on a Python error, else 0 or a status. */
static int add_global(Walk *w, const unsigned char *mod, Py_ssize_t mlen, int mlatin1,
                      const unsigned char *name, Py_ssize_t nlen, int nlatin1) {
    if (w->sniff && !(identifier_path(mod, mlen) && identifier_path(name, nlen))) {
        return ST_UNSUPPORTED;
    }
    PyObject *m = mlatin1 ? PyUnicode_DecodeLatin1((const char *)mod, mlen, NULL)
                          : PyUnicode_DecodeUTF8((const char *)mod, mlen, "surrogatepass");
    if (!m) return -1;
    PyObject *n = nlatin1 ? PyUnicode_DecodeLatin1((const char *)name, nlen, NULL)
                          : PyUnicode_DecodeUTF8((const char *)name, nlen, "surrogatepass");
    if (!n) { Py_DECREF(m); return -1; }
    PyObject *pair = PyTuple_Pack(2, m, n);
    Py_DECREF(m);
    Py_DECREF(n);
    if (!pair) return -1;
    int rc = PyList_Append(w->globals, pair);
    Py_DECREF(pair);
    return rc < 0 ? -1 : push_kind(w, K_GLOBAL);
}

/* A GLOBAL/INST argument line: strict UTF-8, at most MAX_GLOBAL_LINE bytes. */
static int read_line(Walk *w, const unsigned char **start, Py_ssize_t *len) {
    const unsigned char *s = w->buf + w->pos;
    const unsigned char *nl = memchr(s, '\n', (size_t)remaining(w));
    if (!nl) return ST_TRUNCATED;
    *start = s;
    *len = nl - s;
    w->pos += *len + 1;
    if (*len > MAX_GLOBAL_LINE) return ST_ERROR;
    if (!valid_utf8(s, *len)) return ST_UNSUPPORTED;
    return 0;
}

static int global_op(Walk *w) {
    const unsigned char *mod, *name;
    Py_ssize_t mlen, nlen;
    int rc = read_line(w, &mod, &mlen);
    if (rc) return rc;
    if ((rc = read_line(w, &name, &nlen))) return rc;
    return add_global(w, mod, mlen, 0, name, nlen, 0);
}

/* A length-prefixed blob: pushes a string (UTF-8 or latin-1) or an opaque literal. */
static int blob(Walk *w, int lenbytes, int what) {
    if (remaining(w) < lenbytes) return ST_TRUNCATED;
    uint64_t n = read_le(w->buf + w->pos, lenbytes);
    w->pos += lenbytes;
    if (lenbytes == 4 && what != 0 && n > 0x7FFFFFFF) return ST_ERROR; /* negative length */
    if (n > (uint64_t)remaining(w)) return ST_TRUNCATED;
    Val v = {K_CONST, 0, w->pos, (Py_ssize_t)n};
    if (what == 1) { /* UTF-8 text; longer than KEEP_BYTES is decoded leniently there */
        if ((Py_ssize_t)n <= KEEP_BYTES && !valid_utf8(w->buf + w->pos, (Py_ssize_t)n)) {
            return ST_UNSUPPORTED;
        }
        v.kind = K_STR;
    } else if (what == 2) {
        v.kind = K_STR;
        v.latin1 = 1;
    }
    w->pos += (Py_ssize_t)n;
    return push(w, v);
}

static int fixed(Walk *w, Py_ssize_t n) {
    if (remaining(w) < n) return ST_TRUNCATED;
    w->pos += n;
    return push_kind(w, K_CONST);
}

/* APPEND & co: the target must be something items can be added to. */
static int extend_target(Walk *w) {
    Val t;
    if (top(w, &t)) return ST_ERROR;
    if (t.kind == K_CONST || t.kind == K_STR || t.kind == K_GLOBAL) return ST_ERROR;
    return 0;
}

static int call_of(Walk *w, Val func) {
    if (func.kind != K_GLOBAL) return ST_UNSUPPORTED; /* a computed callable */
    return push_kind(w, K_CALL);
}

static int step(Walk *w, unsigned char code) {
    Val a, b, c;
    Py_ssize_t start, count;
    int rc;
    switch (code) {
    case 'N': case 0x88: case 0x89: return push_kind(w, K_CONST);
    case 'K': return fixed(w, 1);
    case 'M': return fixed(w, 2);
    case 'J': return fixed(w, 4);
    case 'G': return fixed(w, 8);
    case 0x8a: case 0x8b: return blob(w, code == 0x8a ? 1 : 4, 0); /* LONG1 / LONG4 */
    case 'C': return blob(w, 1, 0);
    case 'B': return blob(w, 4, 0);
    case 0x8e: case 0x96: return blob(w, 8, 0);
    case 'U': return blob(w, 1, 2);
    case 'T': return blob(w, 4, 2);
    case 0x8c: return blob(w, 1, 1);
    case 'X': return blob(w, 4, 1);
    case 0x8d: return blob(w, 8, 1);
    case ']': case '}': case ')': case 0x8f: return push_kind(w, K_CONT);
    case '(': return mark(w);
    case 't': case 'l': case 0x91:
        if ((rc = pop_mark(w, &start, &count))) return rc;
        return push_kind(w, K_CONT);
    case 'd':
        if ((rc = pop_mark(w, &start, &count))) return rc;
        if (count % 2) return ST_ERROR;
        return push_kind(w, K_CONT);
    case 0x85:
        if (pop(w, &a)) return ST_ERROR;
        return push_kind(w, K_CONT);
    case 0x86:
        if (pop(w, &a) || pop(w, &b)) return ST_ERROR;
        return push_kind(w, K_CONT);
    case 0x87:
        if (pop(w, &a) || pop(w, &b) || pop(w, &c)) return ST_ERROR;
        return push_kind(w, K_CONT);
    case 'a':
        if (pop(w, &a)) return ST_ERROR;
        return extend_target(w);
    case 'e': case 0x90:
        if ((rc = pop_mark(w, &start, &count))) return rc;
        return extend_target(w);
    case 's':
        if (pop(w, &a) || pop(w, &b)) return ST_ERROR;
        return extend_target(w);
    case 'u':
        if ((rc = pop_mark(w, &start, &count))) return rc;
        if (count % 2) return ST_ERROR;
        return extend_target(w);
    case '0':
        if (w->depth > base(w)) { w->depth--; return 0; }
        return pop_mark(w, &start, &count);
    case '1': return pop_mark(w, &start, &count);
    case '2':
        if (top(w, &a)) return ST_ERROR;
        return push(w, a);
    case 'q': case 'r': {
        int n = code == 'q' ? 1 : 4;
        if (remaining(w) < n) return ST_TRUNCATED;
        uint64_t key = read_le(w->buf + w->pos, n);
        w->pos += n;
        if (top(w, &a)) return ST_ERROR;
        return memo_put(w, key, a);
    }
    case 0x94:
        if (top(w, &a)) return ST_ERROR;
        return memo_put(w, (uint64_t)w->memolen, a);
    case 'h': case 'j': {
        int n = code == 'h' ? 1 : 4;
        if (remaining(w) < n) return ST_TRUNCATED;
        uint64_t key = read_le(w->buf + w->pos, n);
        w->pos += n;
        return memo_get(w, key);
    }
    case 0x80:
        if (remaining(w) < 1) return ST_TRUNCATED;
        if (w->buf[w->pos++] > HIGHEST_PROTOCOL) return ST_ERROR;
        return 0;
    case 0x95: /* FRAME: only joblib's raw array reads care where a frame ends */
        if (remaining(w) < 8) return ST_TRUNCATED;
        w->pos += 8;
        return 0;
    case 'c': return global_op(w);
    case 0x93:
        if (pop(w, &b) || pop(w, &a)) return ST_ERROR;
        if (a.kind != K_STR || b.kind != K_STR) return ST_UNSUPPORTED;
        if (a.len > MAX_NAME_BYTES || b.len > MAX_NAME_BYTES) return ST_UNSUPPORTED;
        return add_global(w, w->buf + a.off, a.len, a.latin1, w->buf + b.off, b.len, b.latin1);
    case 'i':
        if ((rc = global_op(w))) return rc;
        w->depth--; /* the global just pushed is the callable */
        if ((rc = pop_mark(w, &start, &count))) return rc;
        return push_kind(w, K_CALL);
    case 'o':
        if ((rc = pop_mark(w, &start, &count))) return rc;
        if (!count) return ST_ERROR;
        return call_of(w, w->stack[start]);
    case 'R': case 0x81:
        if (pop(w, &a) || pop(w, &b)) return ST_ERROR;
        return call_of(w, b);
    case 0x92:
        if (pop(w, &a) || pop(w, &b) || pop(w, &c)) return ST_ERROR;
        return call_of(w, c);
    case 'b':
        if (pop(w, &a) || top(w, &b)) return ST_ERROR;
        if (b.kind == K_GLOBAL) return ST_UNSUPPORTED; /* BUILD on a global */
        if (b.kind == K_CONST || b.kind == K_STR) return ST_ERROR;
        return 0;
    case 'Q':
        if (pop(w, &a)) return ST_ERROR;
        return push_kind(w, K_PERSIST);
    case 0x98:
        return top(w, &a) ? ST_ERROR : 0;
    default:
        /* Text-argument opcodes (protocol 0), PERSID, EXT*, NEXT_BUFFER: the Python
         * machine handles them; unknown bytes are parse errors there too. */
        return ST_UNSUPPORTED;
    }
}

static PyObject *walk(PyObject *self, PyObject *args, PyObject *kwargs) {
    static char *names[] = {"data", "max_stack", "budget", "sniff", NULL};
    Py_buffer view;
    Py_ssize_t max_stack, budget;
    int sniff;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "y*nnp", names, &view, &max_stack, &budget,
                                     &sniff)) {
        return NULL;
    }
    Walk w;
    memset(&w, 0, sizeof w);
    w.buf = view.buf;
    w.size = view.len;
    w.max_stack = max_stack;
    w.sniff = sniff;
    w.globals = PyList_New(0);
    Py_ssize_t opcodes = 0;
    int status = ST_ERROR;
    if (!w.globals) goto fail;
    for (;;) {
        if (w.pos >= w.size) { status = ST_TRUNCATED; break; }
        unsigned char code = w.buf[w.pos++];
        opcodes++;
        if (budget >= 0 && opcodes > budget) { status = ST_BUDGET; break; }
        if (code == '.') {
            Val result;
            status = pop(&w, &result) ? ST_ERROR : ST_COMPLETE;
            break;
        }
        int rc = step(&w, code);
        if (rc < 0) goto fail;
        if (rc) { status = rc; break; }
    }
    PyObject *out = Py_BuildValue("(innO)", status, opcodes, w.pos, w.globals);
    Py_DECREF(w.globals);
    PyMem_Free(w.stack);
    PyMem_Free(w.marks);
    PyMem_Free(w.memo);
    PyMem_Free(w.memo_set);
    PyBuffer_Release(&view);
    return out;
fail:
    Py_XDECREF(w.globals);
    PyMem_Free(w.stack);
    PyMem_Free(w.marks);
    PyMem_Free(w.memo);
    PyMem_Free(w.memo_set);
    PyBuffer_Release(&view);
    if (!PyErr_Occurred()) PyErr_NoMemory();
    return NULL;
}

static PyMethodDef methods[] = {
    {"walk", (PyCFunction)(void (*)(void))walk, METH_VARARGS | METH_KEYWORDS,
     "walk(data, max_stack, budget, sniff) -> (status, opcodes, end, globals)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_walk", "Fast first pass over pickle opcodes.", -1, methods,
};

PyMODINIT_FUNC PyInit__walk(void) { return PyModule_Create(&module); }
