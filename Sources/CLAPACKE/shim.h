#ifndef QUORUM_CLAPACKE_SHIM_H
#define QUORUM_CLAPACKE_SHIM_H
// Without these two, LAPACKE's complex routines import as opaque pointers.
#define HAVE_LAPACK_CONFIG_H
#define LAPACK_COMPLEX_STRUCTURE
#include <lapacke.h>
#endif
