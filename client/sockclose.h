/*
 * Closing an nng socket within a bound of time.  nng 1.5 can wait for
 * ever in nng_close: on a server, for the connections of clients that
 * were killed under load; on a client, for a TLS connection that the
 * server dropped (later versions of nng fixed both).  The server and the
 * client library close their sockets through here, so that neither
 * hangs with it.
 */
#ifndef ENRT_SOCKCLOSE_H
#define ENRT_SOCKCLOSE_H

#include <stdbool.h>

#include <nng/nng.h>

/*
 * Closes sock on a thread of its own and waits at most ms milliseconds
 * for nng_close to return.  True once it has; false when it had not
 * by then: the socket, the thread still in nng_close and its few bytes
 * of state are left to the end of the process.  Any thread but one of
 * nng's callbacks.
 */
bool sockclose_within(nng_socket sock, int ms);

#endif /* ENRT_SOCKCLOSE_H */
