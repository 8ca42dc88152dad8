/*
 * One mutex guards every slot: a lookup holds it for a copy of 48
 * bytes, far less than the request around it, so that callers seldom
 * meet on it.
 */
#include "memo.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define MEMO_SLOTS 64
#define TAG_LEN    crypto_shorthash_siphashx24_BYTES

typedef struct slot {
	uint8_t tag[TAG_LEN];
	uint8_t digest[STORE_DIGEST_LEN];
	bool used;
} slot;

struct memo {
	uint8_t key[crypto_shorthash_siphashx24_KEYBYTES];
	pthread_mutex_t mtx;
	slot slots[MEMO_SLOTS];
};

enrt_status
memo_new(memo **out)
{
	memo *m = calloc(1, sizeof(*m));

	*out = NULL;
	if (m == NULL) {
		return ENRT_RESOURCE_EXHAUSTED;
	}
	randombytes_buf(m->key, sizeof(m->key));
	pthread_mutex_init(&m->mtx, NULL);
	*out = m;
	return ENRT_OK;
}

void
memo_free(memo *m)
{
	if (m == NULL) {
		return;
	}
	pthread_mutex_destroy(&m->mtx);
	sodium_memzero(m, sizeof(*m));
	free(m);
}

/* text's tag, and the slot it picks. */
static slot *
place_of(memo *m, const char *text, size_t len, uint8_t tag[TAG_LEN])
{
	uint64_t pick;

	crypto_shorthash_siphashx24(
	    tag, (const unsigned char *)text, len, m->key);
	memcpy(&pick, tag, sizeof(pick));
	return &m->slots[pick % MEMO_SLOTS];
}

bool
memo_find(
    memo *m, const char *text, size_t len, uint8_t digest[STORE_DIGEST_LEN])
{
	uint8_t tag[TAG_LEN];
	slot *s = place_of(m, text, len, tag);
	bool found;

	pthread_mutex_lock(&m->mtx);
	found = s->used && sodium_memcmp(s->tag, tag, TAG_LEN) == 0;
	if (found) {
		memcpy(digest, s->digest, STORE_DIGEST_LEN);
	}
	pthread_mutex_unlock(&m->mtx);
	return found;
}

void
memo_keep(memo *m, const char *text, size_t len,
    const uint8_t digest[STORE_DIGEST_LEN])
{
	uint8_t tag[TAG_LEN];
	slot *s = place_of(m, text, len, tag);

	pthread_mutex_lock(&m->mtx);
	memcpy(s->tag, tag, TAG_LEN);
	memcpy(s->digest, digest, STORE_DIGEST_LEN);
	s->used = true;
	pthread_mutex_unlock(&m->mtx);
}
