/*
 * Dispatch: decodes a Request envelope, checks its version, authenticates
 * the caller, checks the caller's role for the operation, hands the
 * operation to the rules, and encodes the Reply envelope.  Every request
 * that can be decoded gets a reply; bytes that are not a Request get an
 * INVALID_ARGUMENT reply.
 */
#ifndef ENRT_RPC_H
#define ENRT_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rules.h"

/* A transport_handler; arg is the server's rules. */
bool rpc_handle(
    void *arg, const uint8_t *in, size_t len, uint8_t **out, size_t *out_len);

/*
 * The name of an operation by the number of its request's op case, for
 * metrics: "none" for 0 (a request that could not be decoded or named
 * no operation), NULL for a number that names none.
 */
const char *rpc_operation_name(unsigned op);

#endif /* ENRT_RPC_H */
