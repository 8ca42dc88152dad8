/*
 * The writer: a thread that applies the server's frequent changes
 * (Issue, Revoke, refusal records) in batches, many changes to one
 * durable commit, so that the cost of a disk flush is shared by every
 * change waiting for it, and a second thread that tells them their
 * outcome.
 *
 * A change is a job: a function that makes its steps in a transaction
 * of its own, nested in the batch's, and a function told its outcome
 * once the batch's commit has returned.  A job that refuses (or whose
 * steps fail, a name clash for one) is undone alone; the others of its
 * batch are committed all the same.  No job is told ENRT_OK before its
 * change is durable on disk.
 */
#ifndef ENRT_WRITER_H
#define ENRT_WRITER_H

#include <stddef.h>

#include "store.h"

/* The most jobs one commit carries. */
#define WRITER_BATCH_MAX 1024

typedef struct writer writer;
typedef struct writer_job writer_job;

/*
 * Makes job's steps in t, a write transaction nested in the batch's, on
 * the writer's committing thread.  Returns ENRT_OK to keep them, or a refusal,
 * and then t's steps are undone.  A step that failed in t (its sticky error)
 * counts as a refusal too: the job reads it with store_status and
 * store_message before it returns, since t is gone after.
 */
typedef enrt_status (*writer_apply)(writer_job *job, store_txn *t);

/*
 * Tells job its outcome, once: ENRT_OK when its change is durable, its
 * own refusal, or the status of a commit that failed, and then nothing
 * of the batch was written.  Runs on the writer's telling thread,
 * after the batch's commit, while the next batch commits (or on the
 * thread that submitted, for a job refused before it ran, see
 * writer_submit); it may submit further jobs, and it may free job.
 */
typedef void (*writer_done)(writer_job *job, enrt_status st);

/*
 * A job, embedded in the caller's own state.  apply and done are the
 * caller's; refused, when set, is called after a refusal with a fresh
 * nested transaction, to record the refusal in the same commit (its own
 * failure is its business: it changes nothing of the job's outcome).
 */
struct writer_job {
	writer_apply apply;
	void (*refused)(writer_job *job, store_txn *t, enrt_status st);
	writer_done done;
	writer_job *next;   /* the writer's, until told */
	enrt_status status; /* the writer's, until told */
};

/*
 * Starts the writer's threads for store s: each commit carries at most
 * batch_max jobs (1 to WRITER_BATCH_MAX; 1 commits every job on its
 * own).  ENRT_INVALID_ARGUMENT for a batch_max out of range,
 * ENRT_INTERNAL when no thread can be made.
 */
enrt_status writer_start(writer **out, store *s, unsigned batch_max);

/*
 * Queues job; any thread.  Once writer_stop has begun, job is told
 * ENRT_UNAVAILABLE at once, on this thread, and never applied, unless
 * this is the writer's telling thread: a done that submits a follow-up job
 * still has it applied.  job must stay valid until done is called.
 */
void writer_submit(writer *w, writer_job *job);

/*
 * Queues job and waits until its done has returned; any thread but the
 * writer's two.  Returns the status done was given.
 */
enrt_status writer_run(writer *w, writer_job *job);

/*
 * Applies job alone, in a write transaction of its own on this thread,
 * commits, and tells its outcome: the same steps as a batch of one, for
 * a caller that has no writer thread.
 */
enrt_status writer_apply_alone(store *s, writer_job *job);

/*
 * Refuses new jobs, applies and tells every job already queued (and
 * any follow-up their done submits), then joins the threads and frees.
 * Accepts NULL.
 */
void writer_stop(writer *w);

#endif /* ENRT_WRITER_H */
