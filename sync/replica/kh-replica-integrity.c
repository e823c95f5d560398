/* kh-replica-integrity.c: the local half of the integrity check
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include "kh-error.h"
#include "kh-journal.h"
#include "kh-replica-private.h"
#include "kh-wire.h"

/* Integrity ----------------------------------------------------------------------------------- */

/* Per entity, the count and checksum of the records the server has acknowledged (version > 0),
 * tombstones included: {"person": {"count": N, "checksum": "16 hex"}, …}. */
json_object *
kh_replica_integrity (KhStore  *store,
                      GError  **error)
{
  const KhEntity * const *entities;
  json_object *out;
  guint n;

  g_return_val_if_fail (KH_IS_STORE (store), NULL);

  out = json_object_new_object ();
  entities = kh_entities (&n);
  for (guint e = 0; e < n; e++)
    {
      g_autofree char *sql = g_strdup_printf ("SELECT id, version FROM %s WHERE version > 0", entities[e]->name);
      sqlite3_stmt *stmt = kh_store_prepare (store, sql, error);
      guint64 sum = 0;
      gint64 count = 0;
      char buf[128];
      int rc;

      if (stmt == NULL)
        {
          json_object_put (out);
          return NULL;
        }
      while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        {
          sum ^= kh_wire_record_checksum ((const char *) sqlite3_column_text (stmt, 0),
                                          sqlite3_column_int64 (stmt, 1));
          count++;
        }
      sqlite3_reset (stmt);
      if (rc != SQLITE_DONE)
        {
          kh_sqlite_set_error (error, kh_store_get_db (store), "integrity");
          json_object_put (out);
          return NULL;
        }
      if (count > 0)
        {
          json_object *item = json_object_new_object ();

          g_snprintf (buf, sizeof buf, "%016" G_GINT64_MODIFIER "x", sum);
          json_object_object_add (item, "count", json_object_new_int64 (count));
          json_object_object_add (item, "checksum", json_object_new_string (buf));
          json_object_object_add (out, entities[e]->name, item);
        }
    }
  return out;
}

/* The acknowledged ids of @entity with their versions, ordered by id: {"id": version, …}. */
json_object *
kh_replica_ids (KhStore     *store,
                const char  *entity_name,
                GError     **error)
{
  const KhEntity *entity = kh_entity_lookup (entity_name);
  g_autofree char *sql = NULL;
  sqlite3_stmt *stmt;
  json_object *out;

  g_return_val_if_fail (KH_IS_STORE (store), NULL);
  if (entity == NULL)
    {
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_NOT_FOUND,
                   _("This version does not know records of the kind “%s”."), entity_name);
      return NULL;
    }
  sql = g_strdup_printf ("SELECT id, version FROM %s WHERE version > 0 ORDER BY id", entity->name);
  stmt = kh_store_prepare (store, sql, error);
  if (stmt == NULL)
    return NULL;
  out = json_object_new_object ();
  while (sqlite3_step (stmt) == SQLITE_ROW)
    json_object_object_add (out, (const char *) sqlite3_column_text (stmt, 0),
                            json_object_new_int64 (sqlite3_column_int64 (stmt, 1)));
  sqlite3_reset (stmt);
  return out;
}

/* Drops the records of @ids the server does not have (found by the integrity check), except
 * those with local changes, in one transaction. Returns how many went; 0 with @error set on
 * failure. */
guint
kh_replica_forget (KhStore     *store,
                   const char  *entity_name,
                   GPtrArray   *ids,
                   GError     **error)
{
  const KhEntity *entity = kh_entity_lookup (entity_name);
  guint n = 0;

  g_return_val_if_fail (KH_IS_STORE (store), 0);
  if (entity == NULL || ids->len == 0)
    return 0;
  if (!kh_store_begin (store, error))
    return 0;
  for (guint i = 0; i < ids->len; i++)
    {
      if (kh_journal_count_entries (store, entity->name, ids->pdata[i]) > 0)
        continue;
      if (!_kh_replica_drop_record (store, entity, ids->pdata[i], error))
        {
          kh_store_rollback (store);
          return 0;
        }
      n++;
    }
  if (!kh_store_commit (store, error))
    return 0;
  return n;
}
