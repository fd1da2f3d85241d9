/*
 * westream._openmm: the Python face of westream::StreamForce (see
 * native/openmm/stream_force.h). OpenMM's own Python objects are reached
 * through their SWIG pointers (int(obj.this)), so this module needs no SWIG:
 * westream.openmm.StreamForce checks the types before calling in.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <string>

#include "openmm/Context.h"
#include "openmm/System.h"
#include "stream_error.h"
#include "stream_force.h"

namespace {

PyObject* errors[5];  // ChannelError, ConnectError, Refused, ProtocolError, ConsumerGone

PyObject* errorFor(int status) {
  switch (status) {
    case WESTREAM_E_NO_ADDRESS:
    case WESTREAM_E_CONNECT: return errors[1];
    case WESTREAM_E_REFUSED: return errors[2];
    case WESTREAM_E_PROTOCOL: return errors[3];
    case WESTREAM_E_CONSUMER_GONE: return errors[4];
    default: return errors[0];
  }
}

// Runs `body` without the GIL (it may wait for the consumer) and turns
// C++ exceptions into westream's Python exceptions.
template <typename Body>
bool guarded(Body body) {
  int status = 0;
  std::string message;
  Py_BEGIN_ALLOW_THREADS
  try {
    body();
  } catch (const westream::StreamError& e) {
    status = e.status() == 0 ? WESTREAM_E_ARGUMENT : e.status(), message = e.what();
  } catch (const std::exception& e) {
    status = WESTREAM_E_SYSTEM, message = e.what();
  }
  Py_END_ALLOW_THREADS
  if (status == 0) return true;
  PyErr_SetString(errorFor(status), message.c_str());
  return false;
}

westream::StreamForce* forceAt(PyObject* systemPtr, int index) {
  auto* system = static_cast<OpenMM::System*>(PyLong_AsVoidPtr(systemPtr));
  if (system == nullptr) {
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "null System pointer");
    return nullptr;
  }
  if (index < 0 || index >= system->getNumForces()) {
    PyErr_Format(PyExc_ValueError, "the System has no force %d (it has %d)", index, system->getNumForces());
    return nullptr;
  }
  auto* force = dynamic_cast<westream::StreamForce*>(&system->getForce(index));
  if (force == nullptr) PyErr_Format(PyExc_ValueError, "force %d of the System is not a westream StreamForce", index);
  return force;
}

PyObject* addStreamForce(PyObject*, PyObject* args) {
  PyObject* systemPtr;
  int interval, nslots;
  const char* address;
  if (!PyArg_ParseTuple(args, "Oisi", &systemPtr, &interval, &address, &nslots)) return nullptr;
  auto* system = static_cast<OpenMM::System*>(PyLong_AsVoidPtr(systemPtr));
  if (system == nullptr) return PyErr_Occurred() ? nullptr : (PyErr_SetString(PyExc_ValueError, "null System pointer"), nullptr);
  try {
    return PyLong_FromLong(system->addForce(new westream::StreamForce(interval, address, nslots)));
  } catch (const std::exception& e) {
    PyErr_SetString(PyExc_ValueError, e.what());
    return nullptr;
  }
}

template <typename Call>
PyObject* withForce(PyObject* args, Call call) {
  PyObject *systemPtr, *contextPtr;
  int index;
  if (!PyArg_ParseTuple(args, "OiO", &systemPtr, &index, &contextPtr)) return nullptr;
  westream::StreamForce* force = forceAt(systemPtr, index);
  if (force == nullptr) return nullptr;
  auto* context = static_cast<OpenMM::Context*>(PyLong_AsVoidPtr(contextPtr));
  if (context == nullptr) return PyErr_Occurred() ? nullptr : (PyErr_SetString(PyExc_ValueError, "null Context pointer"), nullptr);
  return call(*force, *context);
}

PyObject* finish(PyObject*, PyObject* args) {
  return withForce(args, [](westream::StreamForce& f, OpenMM::Context& c) -> PyObject* {
    if (!guarded([&] { f.finish(c); })) return nullptr;
    Py_RETURN_NONE;
  });
}

PyObject* close(PyObject*, PyObject* args) {
  return withForce(args, [](westream::StreamForce& f, OpenMM::Context& c) -> PyObject* {
    if (!guarded([&] { f.close(c); })) return nullptr;
    Py_RETURN_NONE;
  });
}

PyObject* frames(PyObject*, PyObject* args) {
  return withForce(args, [](westream::StreamForce& f, OpenMM::Context& c) -> PyObject* {
    unsigned long long n = 0;
    if (!guarded([&] { n = f.frames(c); })) return nullptr;
    return PyLong_FromUnsignedLongLong(n);
  });
}

PyObject* engineSeconds(PyObject*, PyObject* args) {
  return withForce(args, [](westream::StreamForce& f, OpenMM::Context& c) -> PyObject* {
    double s = 0;
    if (!guarded([&] { s = f.engineSeconds(c); })) return nullptr;
    return PyFloat_FromDouble(s);
  });
}

PyMethodDef methods[] = {
    {"add_stream_force", addStreamForce, METH_VARARGS, "add_stream_force(system_ptr, interval, address, nslots) -> force index"},
    {"finish", finish, METH_VARARGS, "finish(system_ptr, index, context_ptr): last frame if due, wait, end the stream"},
    {"close", close, METH_VARARGS, "close(system_ptr, index, context_ptr): wait and close without ending"},
    {"frames", frames, METH_VARARGS, "frames(system_ptr, index, context_ptr) -> frames published"},
    {"engine_seconds", engineSeconds, METH_VARARGS, "engine_seconds(system_ptr, index, context_ptr) -> s spent capturing"},
    {nullptr, nullptr, 0, nullptr}};

PyModuleDef module = {PyModuleDef_HEAD_INIT, "westream._openmm", "westream's StreamForce for OpenMM", -1, methods};

}  // namespace

PyMODINIT_FUNC PyInit__openmm(void) {
  PyObject* producer = PyImport_ImportModule("westream._producer");
  if (producer == nullptr) return nullptr;
  const char* names[5] = {"ChannelError", "ConnectError", "Refused", "ProtocolError", "ConsumerGone"};
  for (int i = 0; i < 5; i++) {
    errors[i] = PyObject_GetAttrString(producer, names[i]);
    if (errors[i] == nullptr) {
      Py_DECREF(producer);
      return nullptr;
    }
  }
  Py_DECREF(producer);
  PyObject* m = PyModule_Create(&module);
  if (m != nullptr && PyModule_AddStringConstant(m, "built_against", WESTREAM_OPENMM_BUILT_AGAINST) < 0) {
    Py_DECREF(m);
    return nullptr;
  }
  return m;
}
