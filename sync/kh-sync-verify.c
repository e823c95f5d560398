/* kh-sync-verify.c: the integrity check and its repair
 *
 * Compares counts and checksums per entity with the server; where they differ, compares id by
 * id (with each record's checksum), drops what the server no longer has and fetches by id only
 * the records that differ.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-codec.h"
#include "kh-replica.h"
#include "kh-sync-engine-private.h"

/* A bucket of at most this many records is listed id by id; a larger one is split in 16. */
#define LIST_AT_MOST 64
/* Ids are split by their last hex digits, at most this many: far more than any area needs. */
#define MAX_SUFFIX   8

static KhIntegrityIds *
fetch_ids (KhSyncRun   *run,
           const char  *entity,
           const char  *suffix,
           const char  *after,
           GError     **error)
{
  g_autofree char *e = kh_http_escape (run->http, entity);
  g_autofree char *a = kh_http_escape (run->http, after ? after : "");
  g_autofree char *path = g_strdup_printf ("/v1/integrity/ids?entity=%s&suffix=%s&limit=5000%s%s",
                                           e, suffix, after ? "&after=" : "", after ? a : "");
  g_autoptr(GError) local_error = NULL;
  json_object *answer = kh_http_request (run->http, "GET", path, NULL, run->cancellable, error);
  KhIntegrityIds *ids;

  if (answer == NULL)
    return NULL;
  ids = kh_integrity_ids_from_json (answer, &local_error);
  json_object_put (answer);
  if (ids == NULL)
    g_set_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_WRONG_TYPE,
                 _("The server's list of ids is not valid (%s)."), local_error->message);
  return ids;
}

/* The server's 16 buckets of the records of @entity whose id ends with @suffix, by the digit
 * before it. */
static KhIntegrity *
fetch_buckets (KhSyncRun   *run,
               const char  *entity,
               const char  *suffix,
               GError     **error)
{
  g_autofree char *e = kh_http_escape (run->http, entity);
  g_autofree char *path = g_strdup_printf ("/v1/integrity/buckets?entity=%s&suffix=%s", e, suffix);
  g_autoptr(GError) local_error = NULL;
  g_autoptr(json_object) answer = kh_http_request (run->http, "GET", path, NULL, run->cancellable, error);
  json_object *buckets = NULL;
  KhIntegrity *out = NULL;

  if (answer == NULL)
    return NULL;
  /* The summary's form, with buckets in place of entities. */
  if (json_object_is_type (answer, json_type_object) && json_object_object_get_ex (answer, "buckets", &buckets))
    {
      json_object_object_add (answer, "entities", json_object_get (buckets));
      out = kh_integrity_from_json (answer, &local_error);
    }
  if (out == NULL)
    {
      g_set_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_WRONG_TYPE,
                   _("The server's integrity summary is not valid (%s)."),
                   local_error ? local_error->message : "buckets");
      return NULL;
    }
  if (!kh_sync_run_check_server (run, out->server_id, out->epoch, error))
    g_clear_pointer (&out, kh_integrity_free);
  return out;
}

static gboolean
ends_with (const char *id,
           const char *suffix,
           gsize       n)
{
  gsize len = strlen (id);

  return len >= n && memcmp (id + len - n, suffix, n) == 0;
}

/* What a comparison found: what to fetch, what goes first, what the server does not have. */
typedef struct
{
  const char *entity;
  GHashTable *local;   /* id → KhReplicaSum */
  GPtrArray  *fetch;
  GPtrArray  *newer;
  GPtrArray  *gone;
} Diff;

static void
add_gone (Diff       *d,
          const char *suffix)
{
  GHashTableIter iter;
  gpointer key;
  gsize n = strlen (suffix);

  g_hash_table_iter_init (&iter, d->local);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (ends_with (key, suffix, n))
      g_ptr_array_add (d->gone, g_strdup (key));
}

/* Compares the records whose id ends with @suffix id by id. */
static gboolean
list_ids (KhSyncRun   *run,
          Diff        *d,
          const char  *suffix,
          GError     **error)
{
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *after = NULL;
  gboolean more = TRUE;
  GHashTableIter iter;
  gpointer key;
  gsize n = strlen (suffix);

  while (more)
    {
      g_autoptr(KhIntegrityIds) ids = fetch_ids (run, d->entity, suffix, after, error);

      if (ids == NULL)
        return FALSE;
      for (guint i = 0; i < ids->ids->len; i++)
        {
          KhIdVersion *iv = &g_array_index (ids->ids, KhIdVersion, i);
          const KhReplicaSum *mine = g_hash_table_lookup (d->local, iv->id);

          if (mine == NULL || mine->checksum != iv->checksum)
            {
              g_ptr_array_add (d->fetch, g_strdup (iv->id));
              /* A pull never takes a record back to an older version: one that is ahead of
               * the server here (and has no local change) goes first, then comes back whole. */
              if (mine != NULL && mine->version > iv->version)
                g_ptr_array_add (d->newer, g_strdup (iv->id));
            }
          g_hash_table_add (seen, g_strdup (iv->id));
        }
      more = ids->has_more && ids->ids->len > 0;
      if (ids->ids->len > 0)
        {
          g_free (after);
          after = g_strdup (g_array_index (ids->ids, KhIdVersion, ids->ids->len - 1).id);
        }
    }
  g_hash_table_iter_init (&iter, d->local);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (ends_with (key, suffix, n) && !g_hash_table_contains (seen, key))
      g_ptr_array_add (d->gone, g_strdup (key));
  return TRUE;
}

/* Finds the records whose id ends with @suffix (@count of them on the server) that differ:
 * a few are listed id by id; more are split in 16 by the digit before the suffix, and only
 * the buckets whose count or checksum differ are looked into, so one stale record among
 * thousands costs a few small answers, not the list of every id. */
static gboolean
locate (KhSyncRun   *run,
        Diff        *d,
        const char  *suffix,
        gint64       count,
        GError     **error)
{
  g_autoptr(KhIntegrity) buckets = NULL;
  gint64 lcount[16] = { 0 };
  guint64 lsum[16] = { 0 };
  GHashTableIter iter;
  gpointer key;
  gpointer value;
  gsize n = strlen (suffix);

  if (count <= LIST_AT_MOST || n >= MAX_SUFFIX)
    return list_ids (run, d, suffix, error);
  buckets = fetch_buckets (run, d->entity, suffix, error);
  if (buckets == NULL)
    return FALSE;
  g_hash_table_iter_init (&iter, d->local);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      const char *id = key;
      gsize len = strlen (id);
      int digit;

      if (len <= n || !ends_with (id, suffix, n) || (digit = g_ascii_xdigit_value (id[len - n - 1])) < 0)
        continue;
      lcount[digit]++;
      lsum[digit] ^= ((const KhReplicaSum *) value)->checksum;
    }
  for (int digit = 0; digit < 16; digit++)
    {
      char name[2] = { "0123456789abcdef"[digit], '\0' };
      const KhIntegrityEntry *se = kh_integrity_lookup (buckets, name);
      g_autofree char *sub = g_strconcat (name, suffix, NULL);

      if ((se ? se->count : 0) == lcount[digit] && (se ? se->checksum : 0) == lsum[digit])
        continue;
      if (se == NULL || se->count == 0)
        add_gone (d, sub);
      else if (!locate (run, d, sub, se->count, error))
        return FALSE;
    }
  return TRUE;
}

/* How many records one POST /v1/records asks for. */
#define FETCH_BATCH 500

/* Fetches the records of @entity named in @ids[@from, @from + @n) and applies them as a pull
 * would: a record without local changes takes the server's state, one with local changes is
 * merged. */
static gboolean
fetch_records (KhSyncRun   *run,
               const char  *entity,
               GPtrArray   *ids,
               guint        from,
               guint        n,
               GError     **error)
{
  g_autoptr(json_object) body = json_object_new_object ();
  g_autoptr(json_object) answer = NULL;
  json_object *list = json_object_new_array_ext ((int) n);
  json_object *records = NULL;
  json_object *server_id = NULL;
  json_object *epoch = NULL;

  for (guint i = from; i < from + n; i++)
    json_object_array_add (list, json_object_new_string (ids->pdata[i]));
  json_object_object_add (body, "entity", json_object_new_string (entity));
  json_object_object_add (body, "ids", list);
  answer = kh_http_request (run->http, "POST", "/v1/records", body, run->cancellable, error);
  if (answer == NULL)
    return FALSE;
  if (!json_object_object_get_ex (answer, "records", &records)
      || !json_object_is_type (records, json_type_array)
      || !json_object_object_get_ex (answer, "server_id", &server_id)
      || !json_object_is_type (server_id, json_type_string)
      || !json_object_object_get_ex (answer, "epoch", &epoch)
      || !json_object_is_type (epoch, json_type_int))
    {
      g_set_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_WRONG_TYPE,
                   _("The server's answer with the records asked for is not valid."));
      return FALSE;
    }
  if (!kh_sync_run_check_server (run, json_object_get_string (server_id), json_object_get_int64 (epoch), error))
    return FALSE;
  return kh_replica_apply_records (run->store, records, &run->stats, error);
}

/* Compares one entity id by id, and repairs what differs: records the server has in another
 * state (another version, deleted on one side, a field different) or that are missing here
 * are fetched by id and applied; records here the server does not have are dropped. Only
 * those: the other records of the entity are not touched. */
static gboolean
compare_entity (KhSyncRun   *run,
                const char  *entity,
                gint64       count,
                guint64     *differ,
                GError     **error)
{
  g_autoptr(GHashTable) local = kh_replica_ids (run->store, entity, error);
  g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) fetch = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) newer = g_ptr_array_new_with_free_func (g_free);
  Diff d = { entity, local, fetch, newer, gone };

  if (local == NULL || !locate (run, &d, "", count, error))
    return FALSE;
  if (gone->len > 0)
    {
      g_autoptr(GError) local_error = NULL;
      guint forgotten = kh_replica_forget (run->store, entity, gone, &local_error);

      if (local_error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      run->stats.removed += forgotten;
      *differ += forgotten;
    }
  if (newer->len > 0)
    {
      g_autoptr(GError) local_error = NULL;

      kh_replica_forget (run->store, entity, newer, &local_error);
      if (local_error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
    }
  for (guint i = 0; i < fetch->len; i += FETCH_BATCH)
    if (!fetch_records (run, entity, fetch, i, MIN (FETCH_BATCH, fetch->len - i), error))
      return FALSE;
  *differ += fetch->len;
  return TRUE;
}

/* The server's summary, asked for on the second connection. */
typedef struct
{
  KhHttp       *http;
  GCancellable *cancellable;
  json_object  *answer;
  GError       *error;
} Summary;

static gpointer
summary_thread (gpointer data)
{
  Summary *s = data;

  s->answer = kh_http_request (s->http, "GET", "/v1/integrity", NULL, s->cancellable, &s->error);
  return NULL;
}

gboolean
kh_sync_verify (KhSyncRun     *run,
                KhSyncReport  *report,
                GError       **error)
{
  g_autoptr(KhIntegrity) server = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GHashTable) names = g_hash_table_new (g_str_hash, g_str_equal);
  json_object *answer;
  json_object *local;
  guint64 differ = 0;
  gboolean equal = TRUE;
  GHashTableIter iter;
  gpointer key;
  Summary summary = { run->prefetch_http, run->cancellable, NULL, NULL };
  GThread *thread;

  /* The server sums its records while the replica sums its own: over a whole area both take
   * about as long, so the check takes the time of one. */
  thread = g_thread_new ("kh-sync-verify", summary_thread, &summary);
  local = kh_replica_integrity (run->store, &local_error);
  g_thread_join (thread);
  answer = summary.answer;
  if (answer == NULL || local == NULL)
    {
      if (local != NULL)
        json_object_put (local);
      json_object_put (answer);
      g_propagate_error (error, answer == NULL ? g_steal_pointer (&summary.error) : g_steal_pointer (&local_error));
      g_clear_error (&summary.error);
      return FALSE;
    }
  server = kh_integrity_from_json (answer, &local_error);
  json_object_put (answer);
  if (server == NULL)
    {
      g_set_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_WRONG_TYPE,
                   _("The server's integrity summary is not valid (%s)."), local_error->message);
      json_object_put (local);
      return FALSE;
    }
  if (!kh_sync_run_check_server (run, server->server_id, server->epoch, error))
    {
      json_object_put (local);
      return FALSE;
    }

  for (guint i = 0; i < server->entities->len; i++)
    g_hash_table_add (names, ((KhIntegrityEntry *) server->entities->pdata[i])->entity);
  {
    json_object_object_foreach (local, lkey, lval)
      {
        (void) lval;
        g_hash_table_add (names, lkey);
      }
  }

  g_hash_table_iter_init (&iter, names);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      const char *entity = key;
      const KhIntegrityEntry *se = kh_integrity_lookup (server, entity);
      json_object *le = NULL;
      gint64 lcount = 0;
      const char *lsum = "0000000000000000";
      g_autofree char *ssum = se ? kh_codec_checksum_to_string (se->checksum) : g_strdup ("0000000000000000");
      guint64 before = differ;

      if (json_object_object_get_ex (local, entity, &le))
        {
          lcount = json_object_get_int64 (json_object_object_get (le, "count"));
          lsum = json_object_get_string (json_object_object_get (le, "checksum"));
        }
      if ((se ? se->count : 0) == lcount && strcmp (ssum, lsum) == 0)
        continue;
      equal = FALSE;
      if (kh_entity_lookup (entity) == NULL)
        continue;
      if (!compare_entity (run, entity, se ? se->count : 0, &differ, error))
        {
          json_object_put (local);
          return FALSE;
        }
      g_debug ("integrity: %s differs in %" G_GUINT64_FORMAT " records", entity, differ - before);
    }
  json_object_put (local);

  report->repaired = differ;
  report->verified = equal || differ > 0;
  return TRUE;
}
