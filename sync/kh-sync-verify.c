/* kh-sync-verify.c: the integrity check and its repair
 *
 * Compares counts and checksums per entity with the server; where they differ, compares id by
 * id, drops what the server no longer has and re-pulls what differs.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-codec.h"
#include "kh-replica.h"
#include "kh-sync-engine-private.h"

static KhIntegrityIds *
fetch_ids (KhSyncRun   *run,
           const char  *entity,
           const char  *after,
           GError     **error)
{
  g_autofree char *e = kh_http_escape (run->http, entity);
  g_autofree char *a = kh_http_escape (run->http, after ? after : "");
  g_autofree char *path = after ? g_strdup_printf ("/v1/integrity/ids?entity=%s&limit=5000&after=%s", e, a)
                                : g_strdup_printf ("/v1/integrity/ids?entity=%s&limit=5000", e);
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

/* Compares one entity id by id. Records the server has in another version (or that are missing
 * here) count as needing a repair; records here the server does not have are dropped. */
static gboolean
compare_entity (KhSyncRun   *run,
                const char  *entity,
                guint64     *differ,
                GError     **error)
{
  json_object *local = kh_replica_ids (run->store, entity, error);
  g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *after = NULL;
  gboolean more = TRUE;
  guint forgotten;

  if (local == NULL)
    return FALSE;
  while (more)
    {
      g_autoptr(KhIntegrityIds) ids = fetch_ids (run, entity, after, error);

      if (ids == NULL)
        {
          json_object_put (local);
          return FALSE;
        }
      for (guint i = 0; i < ids->ids->len; i++)
        {
          KhIdVersion *iv = &g_array_index (ids->ids, KhIdVersion, i);
          json_object *mine = NULL;

          if (!json_object_object_get_ex (local, iv->id, &mine)
              || json_object_get_int64 (mine) != iv->version)
            {
              if (!kh_replica_has_local_changes (run->store, entity, iv->id))
                (*differ)++;
            }
          json_object_object_del (local, iv->id);
        }
      more = ids->has_more && ids->ids->len > 0;
      if (ids->ids->len > 0)
        {
          g_free (after);
          after = g_strdup (g_array_index (ids->ids, KhIdVersion, ids->ids->len - 1).id);
        }
    }
  {
    json_object_object_foreach (local, key, val)
      {
        (void) val;
        g_ptr_array_add (gone, g_strdup (key));
      }
  }
  json_object_put (local);
  forgotten = gone->len > 0 ? kh_replica_forget (run->store, entity, gone, error) : 0;
  if (gone->len > 0 && forgotten == 0 && error != NULL && *error != NULL)
    return FALSE;
  run->stats.removed += forgotten;
  *differ += forgotten;
  return TRUE;
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
  guint64 refetch = 0;
  gboolean equal = TRUE;
  GHashTableIter iter;
  gpointer key;

  answer = kh_http_request (run->http, "GET", "/v1/integrity", NULL, run->cancellable, error);
  if (answer == NULL)
    return FALSE;
  server = kh_integrity_from_json (answer, &local_error);
  json_object_put (answer);
  if (server == NULL)
    {
      g_set_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_WRONG_TYPE,
                   _("The server's integrity summary is not valid (%s)."), local_error->message);
      return FALSE;
    }
  if (!kh_sync_run_check_server (run, server->server_id, server->epoch, error))
    return FALSE;
  local = kh_replica_integrity (run->store, error);
  if (local == NULL)
    return FALSE;

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
      if (!compare_entity (run, entity, &differ, error))
        {
          json_object_put (local);
          return FALSE;
        }
      g_debug ("integrity: %s differs in %" G_GUINT64_FORMAT " records", entity, differ - before);
    }
  json_object_put (local);

  /* What differs and is not simply gone has to be fetched again: the change feed is the only
   * way the protocol gives records, so the replica re-pulls, and writes only what differs. */
  refetch = differ - run->stats.removed;
  if (refetch > 0)
    {
      if (!kh_replica_start_repull (run->store, error) || !kh_sync_pull (run, error))
        return FALSE;
    }
  report->repaired = differ;
  report->verified = equal || differ > 0;
  return TRUE;
}
