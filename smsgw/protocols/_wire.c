/* Optional C accelerator for smsgw.protocols.wire.
 *
 * A Program is one compiled Layout (wire.py) turned into a short list of
 * field operations, interpreted here instead of by the generated Python
 * functions.  The Python functions stay the reference: whenever a value or
 * a byte range is not exactly of the shape the fast path handles (a wrong
 * type, a string too long, a short or long frame, a count that does not
 * match), the Program calls the generated Python encoder or decoder with
 * the same arguments, so every error, message and field name is the one
 * the Python code gives.  Only layouts without custom fields and with a
 * plain slotted attrs class get a Program (wire.py decides).
 *
 * Program(cls, slots, defaults, ops, header, command_id, py_encode, py_decode)
 *   cls:        the attrs class, built without __init__ (as _slot_builder).
 *   slots:      one member descriptor per attrs field, in attrs order.
 *   defaults:   one value per attrs field; used for fields no op writes.
 *   ops:        in wire order, (kind, attribute index, size, mode, count size):
 *                 OP_UINT      size 1/2/4/8, mode 1 when signed
 *                 OP_OCTETS    size, mode MODE_STRIP / MODE_RAW / MODE_ZERO
 *                 OP_REPEATED  item size, item mode, count size 1/2/4
 *                 OP_SIZED     length size 1/2/4
 *                 OP_CSTRING   maximum with the NUL, mode MODE_CSTR or MODE_TIME
 *                 OP_EMPTY     the last op only: a trailing list (SMGP's TLVs) that the
 *                              fast path takes only when absent: an empty tuple encodes
 *                              to no bytes, and a body that ends before it decodes to ()
 *   header:     0 (no header), 1 (one uint32 sequence), 3 (three, a tuple), or
 *               2 (a uint32 PDU attribute, SMPP's command_status, then a
 *               uint32 sequence).
 *   command_id: written after Total_Length.
 *   header_attr: for header 2, the index of the attribute the header carries.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#include "structmember.h"

#ifndef Py_T_OBJECT_EX
#define Py_T_OBJECT_EX T_OBJECT_EX
#endif
#ifndef Py_READONLY
#define Py_READONLY READONLY
#endif

#define OP_UINT 0
#define OP_OCTETS 1
#define OP_REPEATED 2
#define OP_SIZED 3
/* What wire.py expects of this module: raise it with every new op, mode or header kind,
 * so that a build left over from an older source is not used (wire.py checks it). */
#define WIRE_ABI 3
#define OP_CSTRING 4 /* C-Octet String: bytes up to a NUL, at most size with it */
#define OP_EMPTY 5   /* a trailing list, taken only when empty (see above) */

#define MODE_STRIP 0 /* Octets: NUL-padded, trailing NULs stripped */
#define MODE_RAW 1   /* Raw: NUL-padded, never stripped */
#define MODE_ZERO 2  /* ZeroPadded: left-padded with '0', NULs stripped */
#define MODE_CSTR 0  /* COctets: any length below the maximum */
#define MODE_TIME 1  /* CTime: empty or maximum - 1 characters; others go to Python */

/* Bounds the stack arrays below; larger layouts stay in Python. */
#define MAX_FIELDS 64

typedef struct {
    int kind;
    int mode;
    int csize;           /* width of the count or length field */
    Py_ssize_t size;     /* field width, or item width for OP_REPEATED */
    Py_ssize_t attr;     /* index into the attrs fields */
    Py_ssize_t offset;   /* byte offset of the attribute's slot */
} Op;

typedef struct {
    PyObject_HEAD
    PyTypeObject *cls;
    Py_ssize_t nattrs;
    Py_ssize_t offsets[MAX_FIELDS];
    PyObject *defaults[MAX_FIELDS]; /* NULL for attributes an op writes */
    Py_ssize_t nops;
    Op ops[MAX_FIELDS];
    int header;
    Py_ssize_t header_attr; /* header 2: the attribute in the header */
    Py_ssize_t header_offset; /* header 2: its slot's byte offset */
    uint32_t command_id;
    Py_ssize_t fixed;    /* body bytes with every variable field empty */
    PyObject *py_encode;
    PyObject *py_decode;
} ProgramObject;

/* -- helpers ----------------------------------------------------------- */

static inline void
put_be(unsigned char *p, unsigned long long v, int size)
{
    for (int i = size - 1; i >= 0; i--) {
        p[i] = (unsigned char)(v & 0xFF);
        v >>= 8;
    }
}

static inline unsigned long long
get_be(const unsigned char *p, int size)
{
    unsigned long long v = 0;
    for (int i = 0; i < size; i++) {
        v = (v << 8) | p[i];
    }
    return v;
}

/* Store an int that fits a (signed) field of *size* bytes into *out*.
 * Return 0, with no exception set, for anything else.  Int subclasses
 * (bool, IntEnum) are taken by value, as struct.pack takes them. */
static int
int_value(PyObject *v, int size, int is_signed, unsigned long long *out)
{
    int overflow;
    long long x;

    if (!PyLong_Check(v)) {
        return 0;
    }
    x = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (overflow == 0) {
        if (x == -1 && PyErr_Occurred()) {
            PyErr_Clear();
            return 0;
        }
        if (is_signed) {
            if (size < 8) {
                long long lim = 1LL << (8 * size - 1);
                if (x < -lim || x >= lim) {
                    return 0;
                }
            }
        }
        else {
            if (x < 0) {
                return 0;
            }
            if (size < 8 && ((unsigned long long)x >> (8 * size)) != 0) {
                return 0;
            }
        }
        *out = (unsigned long long)x;
        return 1;
    }
    if (overflow > 0 && !is_signed && size == 8) {
        unsigned long long u = PyLong_AsUnsignedLongLong(v);
        if (u == (unsigned long long)-1 && PyErr_Occurred()) {
            PyErr_Clear();
            return 0;
        }
        *out = u;
        return 1;
    }
    return 0;
}

static inline PyObject *
int_object(const unsigned char *p, int size, int is_signed)
{
    unsigned long long u = get_be(p, size);
    if (is_signed) {
        if (size < 8 && (u >> (8 * size - 1))) {
            u |= ~0ULL << (8 * size);
        }
        return PyLong_FromLongLong((long long)u);
    }
    if (size < 4) {
        return PyLong_FromLong((long)u);
    }
    return PyLong_FromUnsignedLongLong(u);
}

static inline PyObject *
octets_object(const unsigned char *p, Py_ssize_t size, int mode)
{
    if (mode != MODE_RAW) {
        while (size > 0 && p[size - 1] == 0) {
            size--;
        }
    }
    return PyBytes_FromStringAndSize((const char *)p, size);
}

/* Write *v* (exact bytes, at most *size* long) into a field of *size* bytes. */
static inline void
put_octets(unsigned char *p, PyObject *v, Py_ssize_t size, int mode)
{
    Py_ssize_t n = PyBytes_GET_SIZE(v);
    if (mode == MODE_ZERO) {
        memset(p, '0', size - n);
        memcpy(p + size - n, PyBytes_AS_STRING(v), n);
    }
    else {
        memcpy(p, PyBytes_AS_STRING(v), n);
        memset(p + n, 0, size - n);
    }
}

/* -- Program ----------------------------------------------------------- */

static int
long_item(PyObject *t, Py_ssize_t i, long min, long max, long *out)
{
    long v = PyLong_AsLong(PyTuple_GET_ITEM(t, i));
    if (v == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (v < min || v > max) {
        PyErr_Format(PyExc_ValueError, "op item %zd: %ld is not in %ld..%ld", i, v, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

static int
program_init(ProgramObject *self, PyObject *args, PyObject *kwds)
{
    PyObject *cls, *slots, *defaults, *ops, *py_encode, *py_decode;
    int header;
    unsigned long command_id;
    Py_ssize_t header_attr = -1;
    char written[MAX_FIELDS];
    static char *kwlist[] = {
        "cls",       "slots",     "defaults",    "ops", "header", "command_id",
        "py_encode", "py_decode", "header_attr", NULL,
    };

    if (self->cls != NULL) {
        PyErr_SetString(PyExc_TypeError, "Program is already initialised");
        return -1;
    }
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!O!O!O!ikOO|n:Program", kwlist, &PyType_Type,
                                     &cls, &PyTuple_Type, &slots, &PyTuple_Type, &defaults,
                                     &PyTuple_Type, &ops, &header, &command_id, &py_encode,
                                     &py_decode, &header_attr)) {
        return -1;
    }
    PyTypeObject *tp = (PyTypeObject *)cls;
    if (tp->tp_flags & Py_TPFLAGS_IS_ABSTRACT) {
        PyErr_SetString(PyExc_TypeError, "cls is abstract");
        return -1;
    }
    if (header < 0 || header > 3) {
        PyErr_SetString(PyExc_ValueError, "header must be 0, 1, 2 or 3");
        return -1;
    }
    if (command_id > 0xFFFFFFFFUL) {
        PyErr_SetString(PyExc_ValueError, "command_id does not fit 32 bits");
        return -1;
    }
    if (!PyCallable_Check(py_encode) || !PyCallable_Check(py_decode)) {
        PyErr_SetString(PyExc_TypeError, "py_encode and py_decode must be callable");
        return -1;
    }
    Py_ssize_t nattrs = PyTuple_GET_SIZE(slots);
    Py_ssize_t nops = PyTuple_GET_SIZE(ops);
    if (nattrs > MAX_FIELDS || nops > MAX_FIELDS) {
        PyErr_SetString(PyExc_ValueError, "too many fields");
        return -1;
    }
    if (PyTuple_GET_SIZE(defaults) != nattrs) {
        PyErr_SetString(PyExc_ValueError, "one default per attribute");
        return -1;
    }
    for (Py_ssize_t i = 0; i < nattrs; i++) {
        PyObject *d = PyTuple_GET_ITEM(slots, i);
        if (!Py_IS_TYPE(d, &PyMemberDescr_Type)) {
            PyErr_Format(PyExc_TypeError, "slot %zd is not a member descriptor", i);
            return -1;
        }
        PyMemberDef *m = ((PyMemberDescrObject *)d)->d_member;
        if (m->type != Py_T_OBJECT_EX || (m->flags & Py_READONLY) ||
            !PyType_IsSubtype(tp, PyDescr_TYPE(d)) || m->offset < (Py_ssize_t)sizeof(PyObject) ||
            m->offset + (Py_ssize_t)sizeof(PyObject *) > tp->tp_basicsize) {
            PyErr_Format(PyExc_TypeError, "slot %zd is not a writable object slot of cls", i);
            return -1;
        }
        self->offsets[i] = m->offset;
        written[i] = 0;
    }
    if (header == 2) {
        if (header_attr < 0 || header_attr >= nattrs) {
            PyErr_SetString(PyExc_ValueError, "header 2 needs the index of its attribute");
            return -1;
        }
        written[header_attr] = 1;
    }
    else if (header_attr != -1) {
        PyErr_SetString(PyExc_ValueError, "only header 2 carries an attribute");
        return -1;
    }
    Py_ssize_t fixed = 0;
    for (Py_ssize_t i = 0; i < nops; i++) {
        PyObject *t = PyTuple_GET_ITEM(ops, i);
        long kind, attr, size, mode, csize;
        if (!PyTuple_Check(t) || PyTuple_GET_SIZE(t) != 5) {
            PyErr_Format(PyExc_TypeError, "op %zd is not a 5-tuple", i);
            return -1;
        }
        if (long_item(t, 0, OP_UINT, OP_EMPTY, &kind) < 0 ||
            long_item(t, 1, 0, (long)nattrs - 1, &attr) < 0 ||
            long_item(t, 2, 0, 1 << 20, &size) < 0 || long_item(t, 3, 0, 2, &mode) < 0 ||
            long_item(t, 4, 0, 4, &csize) < 0) {
            return -1;
        }
        if (written[attr]) {
            PyErr_Format(PyExc_ValueError, "attribute %ld written twice", attr);
            return -1;
        }
        written[attr] = 1;
        if (kind == OP_UINT) {
            if (size != 1 && size != 2 && size != 4 && size != 8) {
                PyErr_SetString(PyExc_ValueError, "integer size must be 1, 2, 4 or 8");
                return -1;
            }
            fixed += size;
        }
        else if (kind == OP_OCTETS) {
            fixed += size;
        }
        else if (kind == OP_CSTRING) {
            if (size < 1 || mode > MODE_TIME) {
                PyErr_SetString(PyExc_ValueError, "a C-Octet String needs a maximum and mode 0/1");
                return -1;
            }
            fixed += 1; /* the NUL */
        }
        else if (kind == OP_EMPTY) {
            if (i != nops - 1) {
                PyErr_SetString(PyExc_ValueError, "an absent trailing list must be the last op");
                return -1;
            }
        }
        else {
            if (csize != 1 && csize != 2 && csize != 4) {
                PyErr_SetString(PyExc_ValueError, "count size must be 1, 2 or 4");
                return -1;
            }
            fixed += csize;
        }
        Op *op = &self->ops[i];
        op->kind = (int)kind;
        op->mode = (int)mode;
        op->csize = (int)csize;
        op->size = size;
        op->attr = attr;
        op->offset = self->offsets[attr];
    }
    for (Py_ssize_t i = 0; i < nattrs; i++) {
        if (written[i]) {
            self->defaults[i] = NULL;
        }
        else {
            self->defaults[i] = Py_NewRef(PyTuple_GET_ITEM(defaults, i));
        }
    }
    self->nattrs = nattrs;
    self->nops = nops;
    self->header = header;
    self->header_attr = header_attr;
    self->header_offset = header == 2 ? self->offsets[header_attr] : 0;
    self->command_id = (uint32_t)command_id;
    self->fixed = fixed;
    self->py_encode = Py_NewRef(py_encode);
    self->py_decode = Py_NewRef(py_decode);
    self->cls = (PyTypeObject *)Py_NewRef(cls);
    return 0;
}

static int
program_traverse(ProgramObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->cls);
    Py_VISIT(self->py_encode);
    Py_VISIT(self->py_decode);
    for (Py_ssize_t i = 0; i < self->nattrs; i++) {
        Py_VISIT(self->defaults[i]);
    }
    return 0;
}

static int
program_clear(ProgramObject *self)
{
    Py_CLEAR(self->py_encode);
    Py_CLEAR(self->py_decode);
    for (Py_ssize_t i = 0; i < self->nattrs; i++) {
        Py_CLEAR(self->defaults[i]);
    }
    /* cls stays set: it marks the Program as initialised, and the calls
     * below check py_encode first. */
    return 0;
}

static void
program_dealloc(ProgramObject *self)
{
    PyObject_GC_UnTrack(self);
    program_clear(self);
    Py_CLEAR(self->cls);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
uninitialised(void)
{
    PyErr_SetString(PyExc_TypeError, "Program is not initialised");
    return NULL;
}

/* encode(pdu, seq) -> bytes: the generated Python encode's contract. */
static PyObject *
program_encode(ProgramObject *self, PyObject *const *args, Py_ssize_t nargs,
               PyObject *kwnames)
{
    PyObject *vals[MAX_FIELDS];
    unsigned long long ints[MAX_FIELDS];
    unsigned long long seq[3];
    Py_ssize_t size;

    if (self->py_encode == NULL) {
        return uninitialised();
    }
    if (nargs != 2 || kwnames != NULL || !Py_IS_TYPE(args[0], self->cls)) {
        goto fallback;
    }
    PyObject *pdu = args[0];
    if (self->header == 1) {
        if (!int_value(args[1], 4, 0, &seq[0])) {
            goto fallback;
        }
    }
    else if (self->header == 2) {
        PyObject *attr = *(PyObject **)((char *)pdu + self->header_offset);
        if (attr == NULL || !int_value(attr, 4, 0, &seq[0]) || !int_value(args[1], 4, 0, &seq[1])) {
            goto fallback;
        }
    }
    else if (self->header == 3) {
        PyObject *t = args[1];
        if (!PyTuple_CheckExact(t) || PyTuple_GET_SIZE(t) < 3) {
            goto fallback;
        }
        for (int i = 0; i < 3; i++) {
            if (!int_value(PyTuple_GET_ITEM(t, i), 4, 0, &seq[i])) {
                goto fallback;
            }
        }
    }
    size = (self->header ? 8 + 4 * self->header : 0) + self->fixed;
    for (Py_ssize_t i = 0; i < self->nops; i++) {
        const Op *op = &self->ops[i];
        PyObject *v = *(PyObject **)((char *)pdu + op->offset);
        if (v == NULL) {
            goto fallback;
        }
        switch (op->kind) {
        case OP_UINT:
            if (!int_value(v, (int)op->size, op->mode, &ints[i])) {
                goto fallback;
            }
            break;
        case OP_OCTETS:
            if (!PyBytes_CheckExact(v) || PyBytes_GET_SIZE(v) > op->size) {
                goto fallback;
            }
            break;
        case OP_REPEATED: {
            if (!PyTuple_CheckExact(v) && !PyList_CheckExact(v)) {
                goto fallback;
            }
            PyObject **items = PySequence_Fast_ITEMS(v);
            Py_ssize_t n = PySequence_Fast_GET_SIZE(v);
            if ((unsigned long long)n >> (8 * op->csize)) {
                goto fallback;
            }
            for (Py_ssize_t j = 0; j < n; j++) {
                if (!PyBytes_CheckExact(items[j]) || PyBytes_GET_SIZE(items[j]) > op->size) {
                    goto fallback;
                }
            }
            ints[i] = (unsigned long long)n;
            size += n * op->size;
            break;
        }
        case OP_SIZED: {
            if (!PyBytes_CheckExact(v)) {
                goto fallback;
            }
            Py_ssize_t n = PyBytes_GET_SIZE(v);
            if ((unsigned long long)n >> (8 * op->csize)) {
                goto fallback;
            }
            ints[i] = (unsigned long long)n;
            size += n;
            break;
        }
        case OP_CSTRING: {
            if (!PyBytes_CheckExact(v)) {
                goto fallback;
            }
            Py_ssize_t n = PyBytes_GET_SIZE(v);
            if (n >= op->size || (op->mode == MODE_TIME && n != 0 && n != op->size - 1) ||
                memchr(PyBytes_AS_STRING(v), 0, (size_t)n) != NULL) {
                goto fallback;
            }
            ints[i] = (unsigned long long)n;
            size += n;
            break;
        }
        case OP_EMPTY:
            if (!PyTuple_CheckExact(v) || PyTuple_GET_SIZE(v) != 0) {
                goto fallback; /* present: Python encodes it */
            }
            break;
        }
        vals[i] = v;
    }
    if (self->header && (unsigned long long)size > 0xFFFFFFFFULL) {
        goto fallback;
    }

    /* Nothing below runs Python code, so the borrowed values stay alive. */
    PyObject *out = PyBytes_FromStringAndSize(NULL, size);
    if (out == NULL) {
        return NULL;
    }
    unsigned char *w = (unsigned char *)PyBytes_AS_STRING(out);
    if (self->header) {
        put_be(w, (unsigned long long)size, 4);
        put_be(w + 4, self->command_id, 4);
        for (int i = 0; i < self->header; i++) {
            put_be(w + 8 + 4 * i, seq[i], 4);
        }
        w += 8 + 4 * self->header;
    }
    for (Py_ssize_t i = 0; i < self->nops; i++) {
        const Op *op = &self->ops[i];
        PyObject *v = vals[i];
        switch (op->kind) {
        case OP_UINT:
            put_be(w, ints[i], (int)op->size);
            w += op->size;
            break;
        case OP_OCTETS:
            put_octets(w, v, op->size, op->mode);
            w += op->size;
            break;
        case OP_REPEATED: {
            Py_ssize_t n = (Py_ssize_t)ints[i];
            PyObject **items = PySequence_Fast_ITEMS(v);
            put_be(w, ints[i], op->csize);
            w += op->csize;
            for (Py_ssize_t j = 0; j < n; j++) {
                put_octets(w, items[j], op->size, op->mode);
                w += op->size;
            }
            break;
        }
        case OP_SIZED:
            put_be(w, ints[i], op->csize);
            w += op->csize;
            memcpy(w, PyBytes_AS_STRING(v), (size_t)ints[i]);
            w += ints[i];
            break;
        case OP_CSTRING:
            memcpy(w, PyBytes_AS_STRING(v), (size_t)ints[i]);
            w += ints[i];
            *w++ = 0;
            break;
        case OP_EMPTY:
            break;
        }
    }
    return out;

fallback:
    return PyObject_Vectorcall(self->py_encode, args, nargs, kwnames);
}

/* Decode a body of exactly *avail* bytes at *p*; return NULL with no
 * exception set when it is not of the fast shape.  *hvalue* is the header
 * attribute's value (header 2). */
static PyObject *
decode_body(ProgramObject *self, const unsigned char *p, Py_ssize_t avail,
            unsigned long hvalue, int *mismatch)
{
    PyObject *vals[MAX_FIELDS];
    Py_ssize_t counts[MAX_FIELDS];
    Py_ssize_t pos = 0;
    Py_ssize_t i, made = 0;

    for (i = 0; i < self->nops; i++) {
        const Op *op = &self->ops[i];
        switch (op->kind) {
        case OP_UINT:
        case OP_OCTETS:
            pos += op->size;
            break;
        case OP_CSTRING: {
            if (avail - pos < 1) {
                *mismatch = 1;
                return NULL;
            }
            Py_ssize_t lim = avail - pos < op->size ? avail - pos : op->size;
            const unsigned char *nul = memchr(p + pos, 0, (size_t)lim);
            if (nul == NULL) {
                *mismatch = 1;
                return NULL;
            }
            counts[i] = nul - (p + pos);
            if (op->mode == MODE_TIME && counts[i] != 0 && counts[i] != op->size - 1) {
                *mismatch = 1; /* the 12-character form, or an error: Python's */
                return NULL;
            }
            pos += counts[i] + 1;
            break;
        }
        case OP_EMPTY:
            break; /* any byte left over is a list for Python to read */
        default:
            if (avail - pos < op->csize) {
                *mismatch = 1;
                return NULL;
            }
            counts[i] = (Py_ssize_t)get_be(p + pos, op->csize);
            pos += op->csize + (op->kind == OP_REPEATED ? counts[i] * op->size : counts[i]);
            break;
        }
    }
    if (pos != avail) {
        *mismatch = 1;
        return NULL;
    }
    pos = 0;
    for (i = 0; i < self->nops; i++) {
        const Op *op = &self->ops[i];
        PyObject *v;
        switch (op->kind) {
        case OP_UINT:
            v = int_object(p + pos, (int)op->size, op->mode);
            pos += op->size;
            break;
        case OP_OCTETS:
            v = octets_object(p + pos, op->size, op->mode);
            pos += op->size;
            break;
        case OP_REPEATED: {
            Py_ssize_t n = counts[i];
            pos += op->csize;
            v = PyTuple_New(n);
            if (v == NULL) {
                break;
            }
            for (Py_ssize_t j = 0; j < n; j++) {
                PyObject *item = octets_object(p + pos, op->size, op->mode);
                if (item == NULL) {
                    Py_CLEAR(v);
                    break;
                }
                PyTuple_SET_ITEM(v, j, item);
                pos += op->size;
            }
            break;
        }
        case OP_CSTRING:
            v = PyBytes_FromStringAndSize((const char *)p + pos, counts[i]);
            pos += counts[i] + 1;
            break;
        case OP_EMPTY:
            v = PyTuple_New(0);
            break;
        default: /* OP_SIZED */
            pos += op->csize;
            v = PyBytes_FromStringAndSize((const char *)p + pos, counts[i]);
            pos += counts[i];
            break;
        }
        if (v == NULL) {
            goto error;
        }
        vals[op->attr] = v;
        made++;
    }
    PyObject *hobj = NULL;
    if (self->header == 2) {
        hobj = PyLong_FromUnsignedLong(hvalue);
        if (hobj == NULL) {
            goto error;
        }
        vals[self->header_attr] = hobj;
    }
    PyTypeObject *cls = self->cls;
    PyObject *obj = cls->tp_alloc(cls, 0);
    if (obj == NULL) {
        Py_XDECREF(hobj);
        goto error;
    }
    for (i = 0; i < self->nattrs; i++) {
        PyObject *v = self->defaults[i];
        if (v != NULL) {
            Py_INCREF(v);
        }
        else {
            v = vals[i]; /* steals the reference made above */
        }
        *(PyObject **)((char *)obj + self->offsets[i]) = v;
    }
    return obj;

error:
    for (i = 0; i < made; i++) {
        Py_DECREF(vals[self->ops[i].attr]);
    }
    return NULL;
}

/* decode(buf, off, end) -> instance: the generated Python decode's contract. */
static PyObject *
program_decode(ProgramObject *self, PyObject *const *args, Py_ssize_t nargs,
               PyObject *kwnames)
{
    if (self->py_decode == NULL) {
        return uninitialised();
    }
    if (nargs != 3 || kwnames != NULL || !PyBytes_CheckExact(args[0]) ||
        !PyLong_CheckExact(args[1]) || !PyLong_CheckExact(args[2])) {
        goto fallback;
    }
    Py_ssize_t off = PyLong_AsSsize_t(args[1]);
    Py_ssize_t end = PyLong_AsSsize_t(args[2]);
    if ((off == -1 || end == -1) && PyErr_Occurred()) {
        PyErr_Clear();
        goto fallback;
    }
    if (off < 0 || end < off || end > PyBytes_GET_SIZE(args[0])) {
        goto fallback;
    }
    const unsigned char *buf = (const unsigned char *)PyBytes_AS_STRING(args[0]);
    unsigned long hvalue = 0;
    if (self->header == 2) {
        if (off < 16) {
            goto fallback; /* no header before the body */
        }
        hvalue = (unsigned long)get_be(buf + off - 8, 4);
    }
    int mismatch = 0;
    PyObject *obj = decode_body(self, buf + off, end - off, hvalue, &mismatch);
    if (obj != NULL || !mismatch) {
        return obj;
    }

fallback:
    return PyObject_Vectorcall(self->py_decode, args, nargs, kwnames);
}

static PyMethodDef program_methods[] = {
    {"encode", (PyCFunction)(void (*)(void))program_encode, METH_FASTCALL | METH_KEYWORDS,
     "encode(pdu, seq) -> bytes, as the layout's generated encode."},
    {"decode", (PyCFunction)(void (*)(void))program_decode, METH_FASTCALL | METH_KEYWORDS,
     "decode(buf, off, end) -> instance, as the layout's generated decode."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ProgramType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "smsgw.protocols._wire.Program",
    .tp_doc = "One layout's field operations, interpreted in C.",
    .tp_basicsize = sizeof(ProgramObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)program_init,
    .tp_dealloc = (destructor)program_dealloc,
    .tp_traverse = (traverseproc)program_traverse,
    .tp_clear = (inquiry)program_clear,
    .tp_methods = program_methods,
};

/* -- Codec ------------------------------------------------------------- */

/* ProtocolCodec.encode and .decode (codec.py) for the PDUs with a Program:
 * the header parse, the command dispatch and the frame checks.  Anything
 * else (a PDU without a Program, a bad header, a frame of the wrong shape,
 * a frame over the limit) goes to the Python methods, which give the
 * errors with their status codes. */

typedef struct {
    PyTypeObject *cls;
    uint32_t command_id;
    ProgramObject *program;
} Entry;

typedef struct {
    PyObject_HEAD
    int header;
    Py_ssize_t header_size;
    Py_ssize_t max_length;
    PyTypeObject *header_type;
    PyObject *py_encode;
    PyObject *py_decode;
    Py_ssize_t nentries;
    Entry *entries;
} CodecObject;

static int
codec_init(CodecObject *self, PyObject *args, PyObject *kwds)
{
    PyObject *header_type, *programs, *py_encode, *py_decode;
    int header;
    Py_ssize_t max_length;
    static char *kwlist[] = {
        "header", "header_type", "programs", "max_length", "py_encode", "py_decode", NULL,
    };

    if (self->header_type != NULL) {
        PyErr_SetString(PyExc_TypeError, "Codec is already initialised");
        return -1;
    }
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "iO!O!nOO:Codec", kwlist, &header,
                                     &PyType_Type, &header_type, &PyTuple_Type, &programs,
                                     &max_length, &py_encode, &py_decode)) {
        return -1;
    }
    if (header < 1 || header > 3) {
        PyErr_SetString(PyExc_ValueError, "header must be 1, 2 or 3");
        return -1;
    }
    /* Header instances are built as tuple.__new__ builds them. */
    PyTypeObject *ht = (PyTypeObject *)header_type;
    if (!PyType_IsSubtype(ht, &PyTuple_Type) || ht->tp_basicsize != PyTuple_Type.tp_basicsize ||
        ht->tp_itemsize != PyTuple_Type.tp_itemsize || ht->tp_dictoffset != 0) {
        PyErr_SetString(PyExc_TypeError, "header_type must be a slot-less tuple subclass");
        return -1;
    }
    if (!PyCallable_Check(py_encode) || !PyCallable_Check(py_decode)) {
        PyErr_SetString(PyExc_TypeError, "py_encode and py_decode must be callable");
        return -1;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(programs);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *t = PyTuple_GET_ITEM(programs, i);
        if (!Py_IS_TYPE(t, &ProgramType)) {
            PyErr_SetString(PyExc_TypeError, "programs must be Programs");
            return -1;
        }
        ProgramObject *prog = (ProgramObject *)t;
        if (prog->header != header || prog->py_encode == NULL) {
            PyErr_SetString(PyExc_ValueError, "a Program does not have this codec's header");
            return -1;
        }
    }
    Entry *entries = PyMem_Calloc(n ? n : 1, sizeof(Entry));
    if (entries == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        ProgramObject *prog = (ProgramObject *)PyTuple_GET_ITEM(programs, i);
        entries[i].cls = prog->cls;
        entries[i].command_id = prog->command_id;
        entries[i].program = (ProgramObject *)Py_NewRef(prog);
    }
    self->header = header;
    self->header_size = 8 + 4 * header;
    self->max_length = max_length;
    self->nentries = n;
    self->entries = entries;
    self->py_encode = Py_NewRef(py_encode);
    self->py_decode = Py_NewRef(py_decode);
    self->header_type = (PyTypeObject *)Py_NewRef(header_type);
    return 0;
}

static int
codec_traverse(CodecObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->header_type);
    Py_VISIT(self->py_encode);
    Py_VISIT(self->py_decode);
    for (Py_ssize_t i = 0; i < self->nentries; i++) {
        Py_VISIT(self->entries[i].program);
    }
    return 0;
}

static int
codec_clear(CodecObject *self)
{
    Py_CLEAR(self->py_encode);
    Py_CLEAR(self->py_decode);
    for (Py_ssize_t i = 0; i < self->nentries; i++) {
        Py_CLEAR(self->entries[i].program);
    }
    self->nentries = 0;
    return 0;
}

static void
codec_dealloc(CodecObject *self)
{
    PyObject_GC_UnTrack(self);
    codec_clear(self);
    Py_CLEAR(self->header_type);
    PyMem_Free(self->entries);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
codec_encode(CodecObject *self, PyObject *const *args, Py_ssize_t nargs,
             PyObject *kwnames)
{
    if (self->py_encode == NULL) {
        PyErr_SetString(PyExc_TypeError, "Codec is not initialised");
        return NULL;
    }
    if (nargs == 2 && kwnames == NULL) {
        PyTypeObject *cls = Py_TYPE(args[0]);
        for (Py_ssize_t i = 0; i < self->nentries; i++) {
            if (self->entries[i].cls == cls) {
                PyObject *frame = program_encode(self->entries[i].program, args, nargs, NULL);
                if (frame == NULL || PyBytes_GET_SIZE(frame) <= self->max_length) {
                    return frame;
                }
                Py_DECREF(frame); /* over the limit: let Python say so */
                break;
            }
        }
    }
    return PyObject_Vectorcall(self->py_encode, args, nargs, kwnames);
}

static PyObject *
codec_decode(CodecObject *self, PyObject *const *args, Py_ssize_t nargs,
             PyObject *kwnames)
{
    if (self->py_decode == NULL) {
        PyErr_SetString(PyExc_TypeError, "Codec is not initialised");
        return NULL;
    }
    if (nargs != 1 || kwnames != NULL || !PyBytes_CheckExact(args[0])) {
        goto fallback;
    }
    PyObject *frame = args[0];
    Py_ssize_t size = PyBytes_GET_SIZE(frame);
    if (size < self->header_size) {
        goto fallback;
    }
    const unsigned char *b = (const unsigned char *)PyBytes_AS_STRING(frame);
    unsigned long long length = get_be(b, 4);
    uint32_t command_id = (uint32_t)get_be(b + 4, 4);
    if (length != (unsigned long long)size) {
        goto fallback;
    }
    ProgramObject *prog = NULL;
    for (Py_ssize_t i = 0; i < self->nentries; i++) {
        if (self->entries[i].command_id == command_id) {
            prog = self->entries[i].program;
            break;
        }
    }
    if (prog == NULL) {
        goto fallback;
    }
    int mismatch = 0;
    unsigned long hvalue = self->header == 2 ? (unsigned long)get_be(b + 8, 4) : 0;
    PyObject *pdu =
        decode_body(prog, b + self->header_size, size - self->header_size, hvalue, &mismatch);
    if (pdu == NULL) {
        if (mismatch) {
            goto fallback;
        }
        return NULL;
    }
    PyObject *seq;
    if (self->header == 1) {
        seq = PyLong_FromUnsignedLong((unsigned long)get_be(b + 8, 4));
    }
    else if (self->header == 2) {
        seq = PyLong_FromUnsignedLong((unsigned long)get_be(b + 12, 4));
    }
    else {
        seq = PyTuple_New(3);
        if (seq != NULL) {
            for (int i = 0; i < 3; i++) {
                PyObject *v = PyLong_FromUnsignedLong((unsigned long)get_be(b + 8 + 4 * i, 4));
                if (v == NULL) {
                    Py_CLEAR(seq);
                    break;
                }
                PyTuple_SET_ITEM(seq, i, v);
            }
        }
    }
    PyObject *len_obj = PyLong_FromSsize_t(size);
    PyObject *cid_obj = PyLong_FromUnsignedLong(command_id);
    PyObject *header = self->header_type->tp_alloc(self->header_type, 3);
    if (seq == NULL || len_obj == NULL || cid_obj == NULL || header == NULL) {
        Py_XDECREF(seq);
        Py_XDECREF(len_obj);
        Py_XDECREF(cid_obj);
        Py_XDECREF(header);
        Py_DECREF(pdu);
        return NULL;
    }
    PyTuple_SET_ITEM(header, 0, len_obj);
    PyTuple_SET_ITEM(header, 1, cid_obj);
    PyTuple_SET_ITEM(header, 2, seq);
    PyObject *result = PyTuple_New(2);
    if (result == NULL) {
        Py_DECREF(header);
        Py_DECREF(pdu);
        return NULL;
    }
    PyTuple_SET_ITEM(result, 0, header);
    PyTuple_SET_ITEM(result, 1, pdu);
    return result;

fallback:
    return PyObject_Vectorcall(self->py_decode, args, nargs, kwnames);
}

static PyMethodDef codec_methods[] = {
    {"encode", (PyCFunction)(void (*)(void))codec_encode, METH_FASTCALL | METH_KEYWORDS,
     "encode(pdu, sequence_id) -> bytes, as ProtocolCodec.encode."},
    {"decode", (PyCFunction)(void (*)(void))codec_decode, METH_FASTCALL | METH_KEYWORDS,
     "decode(frame) -> (header, pdu), as ProtocolCodec.decode."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject CodecType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "smsgw.protocols._wire.Codec",
    .tp_doc = "A protocol's header and command dispatch over its Programs.",
    .tp_basicsize = sizeof(CodecObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)codec_init,
    .tp_dealloc = (destructor)codec_dealloc,
    .tp_traverse = (traverseproc)codec_traverse,
    .tp_clear = (inquiry)codec_clear,
    .tp_methods = codec_methods,
};

static struct PyModuleDef wire_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "smsgw.protocols._wire",
    .m_doc = "C accelerator for smsgw.protocols.wire (optional; see wire.ACCELERATED).",
    .m_size = -1,
};

PyMODINIT_FUNC
PyInit__wire(void)
{
    if (PyType_Ready(&ProgramType) < 0 || PyType_Ready(&CodecType) < 0) {
        return NULL;
    }
    PyObject *m = PyModule_Create(&wire_module);
    if (m == NULL) {
        return NULL;
    }
    if (PyModule_AddObjectRef(m, "Program", (PyObject *)&ProgramType) < 0 ||
        PyModule_AddObjectRef(m, "Codec", (PyObject *)&CodecType) < 0 ||
        PyModule_AddIntConstant(m, "ABI", WIRE_ABI) < 0 ||
        PyModule_AddIntConstant(m, "OP_UINT", OP_UINT) < 0 ||
        PyModule_AddIntConstant(m, "OP_OCTETS", OP_OCTETS) < 0 ||
        PyModule_AddIntConstant(m, "OP_REPEATED", OP_REPEATED) < 0 ||
        PyModule_AddIntConstant(m, "OP_SIZED", OP_SIZED) < 0 ||
        PyModule_AddIntConstant(m, "OP_CSTRING", OP_CSTRING) < 0 ||
        PyModule_AddIntConstant(m, "OP_EMPTY", OP_EMPTY) < 0 ||
        PyModule_AddIntConstant(m, "MODE_CSTR", MODE_CSTR) < 0 ||
        PyModule_AddIntConstant(m, "MODE_TIME", MODE_TIME) < 0 ||
        PyModule_AddIntConstant(m, "MODE_STRIP", MODE_STRIP) < 0 ||
        PyModule_AddIntConstant(m, "MODE_RAW", MODE_RAW) < 0 ||
        PyModule_AddIntConstant(m, "MODE_ZERO", MODE_ZERO) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
