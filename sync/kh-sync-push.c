/* kh-sync-push.c: the push pipeline
 *
 * The outbox goes in batches of at most 500, each marked as sent before it goes, so a retry
 * reuses its mutation ids; one batch is on its way while the answer to the one before is
 * applied.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include "kh-codec.h"
#include "kh-replica.h"
#include "kh-sync-engine-private.h"

#define MAX_SENDS       3     /* times one outbox entry is sent in one sync */

/* A push batch on its way, on the second connection: while the server works on it, the
 * replica applies the answer to the batch before and takes the next one. */
typedef struct
{
  KhHttp       *http;
  json_object  *body;
  GCancellable *cancellable;
  json_object  *answer;
  GError       *error;
  GThread      *thread;
} Post;

static gpointer
post_thread (gpointer data)
{
  Post *p = data;

  p->answer = kh_http_request (p->http, "POST", "/v1/push", p->body, p->cancellable, &p->error);
  return NULL;
}

static Post *
post_start (KhSyncRun   *run,
            json_object *batch)
{
  Post *p = g_new0 (Post, 1);

  p->http = run->prefetch_http;
  p->cancellable = run->cancellable;
  p->body = json_object_new_object ();
  json_object_object_add (p->body, "client_id", json_object_new_string (kh_store_get_replica_id (run->store)));
  if (run->bound_id != NULL)
    json_object_object_add (p->body, "epoch", json_object_new_int64 (run->epoch));
  json_object_object_add (p->body, "mutations", json_object_get (kh_replica_batch_mutations (batch)));
  p->thread = g_thread_new ("kh-sync-push", post_thread, p);
  return p;
}

/* Waits for the answer; NULL with @error set when there is none. */
static json_object *
post_finish (Post    *p,
             GError **error)
{
  json_object *answer;

  g_thread_join (p->thread);
  json_object_put (p->body);
  answer = p->answer;
  if (answer == NULL)
    {
      if (error != NULL)
        *error = g_steal_pointer (&p->error);
    }
  g_clear_error (&p->error);
  g_free (p);
  return answer;
}

/* The records of @batch, as kh_replica_record_key()s. */
static void
batch_records (json_object *batch,
               GHashTable  *records)
{
  json_object *mutations = kh_replica_batch_mutations (batch);

  g_hash_table_remove_all (records);
  for (size_t i = 0; i < json_object_array_length (mutations); i++)
    {
      json_object *m = json_object_array_get_idx (mutations, i);
      json_object *entity = NULL;
      json_object *id = NULL;

      json_object_object_get_ex (m, "entity", &entity);
      json_object_object_get_ex (m, "id", &id);
      g_hash_table_add (records, kh_replica_record_key (json_object_get_string (entity), json_object_get_string (id)));
    }
}

/* Sends @batch on the second connection; its records are busy until its answer is applied. */
static Post *
send_batch (KhSyncRun    *run,
            json_object  *batch,
            json_object **flying,
            GHashTable   *busy)
{
  Post *post = post_start (run, batch);

  *flying = batch;
  batch_records (batch, busy);
  return post;
}

/* Waits for the batch on its way, if any, and drops it and its answer. */
static void
drop_flying (Post        *post,
             json_object *flying)
{
  if (post != NULL)
    json_object_put (post_finish (post, NULL));
  json_object_put (flying);
}

/* Checks that @answer is a push answer from the server this replica is bound to. */
static gboolean
check_answer (KhSyncRun    *run,
              json_object  *answer,
              GError      **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KhPushResponse) response = kh_push_response_from_json (answer, &local_error);

  if (response == NULL)
    {
      g_set_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_WRONG_TYPE,
                   _("The server's answer to a push is not valid (%s); the changes will be sent again."),
                   local_error->message);
      return FALSE;
    }
  return kh_sync_run_check_server (run, response->server_id, response->epoch, error);
}

/* Counts one more send of each of the @n entries of @batch; an entry sent MAX_SENDS times is
 * skipped for the rest of this sync. */
static void
count_sends (json_object *batch,
             size_t       n,
             GHashTable  *sends,
             GHashTable  *skip)
{
  json_object *seqs = NULL;

  json_object_object_get_ex (batch, "seqs", &seqs);
  for (size_t i = 0; i < n; i++)
    {
      gint64 seq = json_object_get_int64 (json_object_array_get_idx (seqs, i));
      guint count = GPOINTER_TO_UINT (g_hash_table_lookup (sends, &seq)) + 1;

      g_hash_table_insert (sends, g_memdup2 (&seq, sizeof seq), GUINT_TO_POINTER (count));
      if (count >= MAX_SENDS)
        g_hash_table_add (skip, g_memdup2 (&seq, sizeof seq));
    }
}

/* Sends the outbox in batches, one on its way while the answer to the one before is applied
 * and the next is taken (without the records of the one on its way, whose answer decides
 * what their next entries are based on). */
gboolean
kh_sync_push (KhSyncRun  *run,
              GError    **error)
{
  g_autoptr(GHashTable) sends = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  g_autoptr(GHashTable) skip = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  g_autoptr(GHashTable) busy = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  gboolean repulled = FALSE;
  gint64 total = kh_store_count_pending (run->store);
  guint64 done = 0;
  Post *post = NULL;
  json_object *flying = NULL;

  for (;;)
    {
      g_autoptr(GError) local_error = NULL;
      json_object *next = kh_replica_take_batch_busy (run->store, KH_PUSH_MAX_MUTATIONS, skip, busy, error);
      json_object *answer;
      json_object *results = NULL;
      json_object *batch;
      size_t n_next;
      size_t n;
      gboolean ok;

      if (next == NULL)
        {
          drop_flying (post, flying);
          return FALSE;
        }
      n_next = json_object_array_length (kh_replica_batch_mutations (next));
      if (post == NULL)
        {
          if (n_next == 0)
            {
              json_object_put (next);
              return TRUE;
            }
          post = send_batch (run, next, &flying, busy);
          continue;
        }

      /* The batch on its way: its answer. */
      answer = post_finish (g_steal_pointer (&post), &local_error);
      n = json_object_array_length (kh_replica_batch_mutations (flying));
      if (answer == NULL)
        {
          json_object_put (next);
          g_clear_pointer (&flying, json_object_put);
          g_hash_table_remove_all (busy);
          if (g_error_matches (local_error, KH_SYNC_ERROR, KH_SYNC_ERROR_EPOCH_CHANGED) && !repulled)
            {
              /* The server was restored: re-pull and reconcile before pushing again. */
              repulled = TRUE;
              if (!kh_sync_pull (run, error))
                return FALSE;
              continue;
            }
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      if (!check_answer (run, answer, error))
        {
          json_object_put (answer);
          json_object_put (flying);
          json_object_put (next);
          return FALSE;
        }
      json_object_object_get_ex (answer, "results", &results);

      /* The next batch goes while this answer is applied. */
      batch = g_steal_pointer (&flying);
      g_hash_table_remove_all (busy);
      if (n_next > 0)
        post = send_batch (run, next, &flying, busy);
      else
        json_object_put (next);
      ok = kh_replica_apply_results (run->store, batch, results, &run->stats, error);
      if (ok)
        count_sends (batch, n, sends, skip);
      json_object_put (answer);
      json_object_put (batch);
      if (!ok)
        {
          drop_flying (g_steal_pointer (&post), flying);
          return FALSE;
        }
      done += n;
      kh_sync_run_report_progress (run, 0.5 + 0.4 * MIN (1.0, (double) done / MAX (total, 1)));
    }
}
