/* Building and taking apart instances of a frozen slots dataclass in C (entities.py).

pipe(n_process) sends every entity back from its worker pickled, and the parent rebuilds
each one: in Python that is object.__new__ and nine calls of the slots' setters, 12,563
instructions an entity with the unpickling around it (bench/callgrind.py, 2026-12-06),
most of the parent's CPU in a two-worker run, CPU the two workers on two cores lack. A
`Slots` object does the same in C: it allocates the instance and stores each argument in
its slot, as the setters would. Its parts(instance) takes an instance apart into the
arguments that rebuild it; entities.py registers it with copyreg, so that pickle calls it
in place of the class's __reduce__.

Only what the setters do is done: the class is checked once, when the `Slots` object is
made (a class made by Python code whose own `__slots__`, and nothing else, hold its
state: no base but object, no `__dict__` or `__weakref__`, each name an object member of
the class naming a slot no other name names), and its instances are then filled in the
order of `__slots__`. Why C and not Cython: reaching a member descriptor's offset needs
CPython's structs, which Cython would only pass through.
*/

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>
#include <structmember.h>

#define MAX_SLOTS 16

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    PyTypeObject *cls;
    PyObject *module; /* where the pickle finds this object: module and name */
    PyObject *name;
    Py_ssize_t count;
    Py_ssize_t offsets[MAX_SLOTS];
} Slots;

static PyObject *
slots_vectorcall(PyObject *callable, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Slots *self = (Slots *)callable;
    Py_ssize_t n = PyVectorcall_NARGS(nargsf);
    if (kwnames != NULL && PyTuple_GET_SIZE(kwnames) != 0) {
        PyErr_Format(PyExc_TypeError, "%U() takes no keyword arguments", self->name);
        return NULL;
    }
    if (n != self->count) {
        PyErr_Format(PyExc_TypeError, "%U() takes %zd arguments (%zd given)", self->name,
                     self->count, n);
        return NULL;
    }
    PyObject *made = self->cls->tp_alloc(self->cls, 0);
    if (made == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_INCREF(args[i]);
        *(PyObject **)((char *)made + self->offsets[i]) = args[i];
    }
    return made;
}

/* slots.parts(instance) -> (slots, (field, ...)): what __reduce__ returns. */
static PyObject *
slots_parts(Slots *self, PyObject *instance)
{
    if (Py_TYPE(instance) != self->cls) {
        PyErr_Format(PyExc_TypeError, "%U.parts() takes a %s, not a %s", self->name,
                     self->cls->tp_name, Py_TYPE(instance)->tp_name);
        return NULL;
    }
    PyObject *fields = PyTuple_New(self->count);
    if (fields == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < self->count; i++) {
        PyObject *value = *(PyObject **)((char *)instance + self->offsets[i]);
        if (value == NULL) {
            Py_DECREF(fields);
            PyErr_Format(PyExc_AttributeError, "a %s with a slot not set", self->cls->tp_name);
            return NULL;
        }
        Py_INCREF(value);
        PyTuple_SET_ITEM(fields, i, value);
    }
    PyObject *out = PyTuple_Pack(2, (PyObject *)self, fields);
    Py_DECREF(fields);
    return out;
}

/* Pickled by name, as a function is: module.name must be this object. */
static PyObject *
slots_reduce(Slots *self, PyObject *Py_UNUSED(ignored))
{
    Py_INCREF(self->name);
    return self->name;
}

/* The offsets of cls's slots, in the order of its own __slots__ (names), into offsets;
   -1 with TypeError unless those slots are all of an instance's state: a class made by
   Python code (not a built-in), no base but object, no __dict__ and no __weakref__, each
   name an object member of cls itself, and every slot of the instance named once. */
static int
check_class(PyTypeObject *cls, Py_ssize_t *offsets, Py_ssize_t *count)
{
    if (!PyType_HasFeature(cls, Py_TPFLAGS_HEAPTYPE) || cls->tp_base != &PyBaseObject_Type
        || cls->tp_dictoffset != 0 || cls->tp_weaklistoffset != 0
        || cls->tp_alloc != PyType_GenericAlloc) {
        PyErr_Format(PyExc_TypeError,
                     "Slots needs a class whose own __slots__ hold all its state, with no "
                     "base but object, no __dict__ and no __weakref__; %s is not one",
                     cls->tp_name);
        return -1;
    }
    /* Its own __slots__, not one it inherits (a heap type's tp_dict is always set). */
    PyObject *names = PyDict_GetItemString(cls->tp_dict, "__slots__");
    if (names == NULL || !PyTuple_Check(names) || PyTuple_GET_SIZE(names) > MAX_SLOTS) {
        PyErr_Format(PyExc_TypeError,
                     "Slots needs __slots__ as a tuple of at most %d names; %s has %s",
                     MAX_SLOTS, cls->tp_name, names == NULL ? "none" : "another");
        return -1;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(names);
    Py_ssize_t base = PyBaseObject_Type.tp_basicsize;
    unsigned int seen = 0; /* bit k: the k-th slot of the instance is named */
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *name = PyTuple_GET_ITEM(names, i);
        PyObject *descr = PyDict_GetItemWithError(cls->tp_dict, name);
        if (descr == NULL || !Py_IS_TYPE(descr, &PyMemberDescr_Type)
            || PyDescr_TYPE(descr) != cls) {
            if (!PyErr_Occurred()) {
                PyErr_Format(PyExc_TypeError, "%s.%S is not a slot", cls->tp_name, name);
            }
            return -1;
        }
        PyMemberDef *member = ((PyMemberDescrObject *)descr)->d_member;
        Py_ssize_t k = (member->offset - base) / (Py_ssize_t)sizeof(PyObject *);
        if (member->type != T_OBJECT_EX || (member->flags & READONLY) || member->offset < base
            || (member->offset - base) % (Py_ssize_t)sizeof(PyObject *) != 0 || k >= n
            || (seen & (1u << k))) {
            PyErr_Format(PyExc_TypeError,
                         "%s.%S is not a slot of its own that may be set (or names one "
                         "that another name of __slots__ names too)",
                         cls->tp_name, name);
            return -1;
        }
        seen |= 1u << k;
        offsets[i] = member->offset;
    }
    /* Each of the n slots is named once, and the instance holds nothing else. */
    if (base + n * (Py_ssize_t)sizeof(PyObject *) != cls->tp_basicsize) {
        PyErr_Format(PyExc_TypeError, "%s has state outside its __slots__", cls->tp_name);
        return -1;
    }
    *count = n;
    return 0;
}

static PyObject *
slots_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"cls", "module", "name", NULL};
    PyObject *cls, *module, *name;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!UU:Slots", keywords, &PyType_Type, &cls,
                                     &module, &name)) {
        return NULL;
    }
    if (!PyUnicode_CheckExact(module) || !PyUnicode_CheckExact(name)) {
        PyErr_SetString(PyExc_TypeError, "Slots needs module and name as plain str");
        return NULL;
    }
    Py_ssize_t offsets[MAX_SLOTS], count;
    if (check_class((PyTypeObject *)cls, offsets, &count) < 0) {
        return NULL;
    }
    Slots *self = (Slots *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    memcpy(self->offsets, offsets, sizeof(offsets));
    self->count = count;
    self->vectorcall = slots_vectorcall;
    Py_INCREF(cls);
    self->cls = (PyTypeObject *)cls;
    Py_INCREF(module);
    self->module = module;
    Py_INCREF(name);
    self->name = name;
    return (PyObject *)self;
}

/* No tp_clear: module and name are plain strings, and a cycle through cls (a class that
   keeps its own Slots object) is broken by the class's own clear. */
static int
slots_traverse(Slots *self, visitproc visit, void *arg)
{
    Py_VISIT(self->cls);
    return 0;
}

static void
slots_dealloc(Slots *self)
{
    PyObject_GC_UnTrack(self);
    Py_XDECREF(self->cls);
    Py_XDECREF(self->module);
    Py_XDECREF(self->name);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
slots_repr(Slots *self)
{
    return PyUnicode_FromFormat("<%U.%U: %s from its slots>", self->module, self->name,
                                self->cls->tp_name);
}

static PyMethodDef slots_methods[] = {
    {"parts", (PyCFunction)slots_parts, METH_O,
     "parts(instance) -> (self, fields): the instance taken apart, as __reduce__ returns it."},
    {"__reduce__", (PyCFunction)slots_reduce, METH_NOARGS, "Pickled by its name."},
    {NULL, NULL, 0, NULL},
};

/* An instance's __module__ and __name__ are those pickle looks up, as a function's are. */
static PyMemberDef slots_members[] = {
    {"__module__", T_OBJECT, offsetof(Slots, module), READONLY, NULL},
    {"__name__", T_OBJECT, offsetof(Slots, name), READONLY, NULL},
    {"__qualname__", T_OBJECT, offsetof(Slots, name), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

/* A static type, as CPython's function type is: a heap type's own __module__ would be
   shadowed by the instances' member of that name. */
static PyTypeObject SlotsType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "arabic_ner._slots.Slots",
    .tp_basicsize = sizeof(Slots),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = "Slots(cls, module, name): builds instances of a slots class from its fields, in C.\n\n"
              "Calling it with one argument per slot, in __slots__ order, returns an instance\n"
              "with those values; parts(instance) returns (self, fields) for __reduce__. It\n"
              "is pickled as the global module.name, which must be this object.",
    .tp_new = slots_new,
    .tp_call = PyVectorcall_Call,
    .tp_vectorcall_offset = offsetof(Slots, vectorcall),
    .tp_traverse = (traverseproc)slots_traverse,
    .tp_dealloc = (destructor)slots_dealloc,
    .tp_repr = (reprfunc)slots_repr,
    .tp_methods = slots_methods,
    .tp_members = slots_members,
};

static int
slots_exec(PyObject *module)
{
    if (PyType_Ready(&SlotsType) < 0) {
        return -1;
    }
    return PyModule_AddObjectRef(module, "Slots", (PyObject *)&SlotsType);
}

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, slots_exec},
    {0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "arabic_ner._slots",
    .m_doc = "Instances of a slots dataclass built and taken apart in C (see entities.py).",
    .m_size = 0,
    .m_slots = module_slots,
};

PyMODINIT_FUNC
PyInit__slots(void)
{
    return PyModuleDef_Init(&module_def);
}
