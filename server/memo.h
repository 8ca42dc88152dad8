/*
 * The digests of the credentials that callers present, remembered, so
 * that a caller who comes back, as callers do on every request, costs
 * its credential neither the check of its form nor its keyed BLAKE2b.
 *
 * A credential is known here by a tag, its 128-bit SipHash under a key
 * drawn at random when the memo is made; the credential itself is never
 * kept.  Telling two credentials apart by their tags alone is safe
 * because the key never leaves the process: to be taken for another, a
 * credential would need that other's tag, which without the key is a
 * guess of 128 bits.
 *
 * The memo holds a few dozen slots; each credential has one place,
 * picked by its tag, and a newcomer takes that place from whoever held
 * it.  Only what maps a credential to its digest lives here: whether the
 * caller exists, and what it may do, is read from the store on every
 * request, so a revocation is never out of date.
 *
 * Safe on any thread.
 */
#ifndef ENRT_MEMO_H
#define ENRT_MEMO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "store.h"

typedef struct memo memo;

enrt_status memo_new(memo **out);

/* Wipes and frees.  Accepts NULL. */
void memo_free(memo *m);

/* The digest remembered for these len bytes of text, if any. */
bool memo_find(
    memo *m, const char *text, size_t len, uint8_t digest[STORE_DIGEST_LEN]);

/* Remembers text's digest, in place of whatever held its slot. */
void memo_keep(memo *m, const char *text, size_t len,
    const uint8_t digest[STORE_DIGEST_LEN]);

#endif /* ENRT_MEMO_H */
