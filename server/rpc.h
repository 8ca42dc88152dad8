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

/*
 * Takes the encoded reply (malloc'd, len bytes; the callee wipes and
 * frees it), or NULL when no reply could be made and the request is to
 * be dropped.
 */
typedef void (*rpc_reply)(void *arg, uint8_t *out, size_t len);

/*
 * Serves the request of len bytes in in, which is the caller's again
 * when rpc_serve returns, and calls answer(arg, ...) once with the
 * reply: on this thread before rpc_serve returns, or, for an Issue or a
 * Revoke that went to the rules' writer, on the writer's telling
 * thread once
 * its commit is durable.
 */
void rpc_serve(
    rules *r, const uint8_t *in, size_t len, rpc_reply answer, void *arg);

/*
 * Serves one request on this thread and returns with its reply in *out
 * (malloc'd, *out_len bytes), or false when none could be made.  arg
 * is the server's rules; Issue and Revoke wait here for their commit.
 */
bool rpc_handle(
    void *arg, const uint8_t *in, size_t len, uint8_t **out, size_t *out_len);

/*
 * The name of an operation by the number of its request's op case, for
 * metrics: "none" for 0 (a request that could not be decoded or named
 * no operation), NULL for a number that names none.
 */
const char *rpc_operation_name(unsigned op);

#endif /* ENRT_RPC_H */
