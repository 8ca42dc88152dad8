/*
 * Keeping ipc:// listeners alive on nng before 1.6.0.
 *
 * In those versions a client that hangs up during the SP greeting stops
 * the ipc listener that accepted it for good (nng issue 1518): the socket
 * file stays, connections queue in the kernel, and nobody is served.  A
 * crashed client or an `enrt` process killed at the wrong moment is
 * enough.  The watch pings each ipc listener twice a second (an empty
 * request, which the transport answers itself) and, when two pings in a
 * row go unanswered, closes the listener and listens again.  Connections
 * that the stopped listener had accepted before are dropped with it; their
 * callers see UNAVAILABLE.
 */
#ifndef ENRT_IPCWATCH_H
#define ENRT_IPCWATCH_H

#include <stdbool.h>

#include <nng/nng.h>

#include "error.h"

typedef enum ipcwatch_probe {
	IPCWATCH_NOBODY, /* nothing accepts connections at the path */
	IPCWATCH_SERVED, /* a req0 server answered a request */
	IPCWATCH_SILENT, /* a connection was taken, no answer came */
} ipcwatch_probe;

/*
 * Connects to the unix socket at path, greets as a req0 peer and sends
 * one ping, waiting up to a second for each step,
 * then hangs up: a server sees an ordinary client come and go.
 */
ipcwatch_probe ipcwatch_probe_path(const char *path);

/* True when this nng has the defect described above. */
bool ipcwatch_needed(void);

typedef struct ipcwatch ipcwatch;

/*
 * Starts watching the listener l, which listens on url for sock.  The
 * watch owns l from now on and may replace it.
 */
enrt_status ipcwatch_start(
    ipcwatch **out, nng_socket sock, const char *url, nng_listener l, err *e);

/* Stops the watch thread and frees.  Accepts NULL. */
void ipcwatch_stop(ipcwatch *w);

#endif /* ENRT_IPCWATCH_H */
