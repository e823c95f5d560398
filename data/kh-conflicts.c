/* kh-conflicts.c: true conflicts kept for a person to resolve
 *
 * The sync engine records a conflict when a field changed on both sides to different values
 * (DESIGN.md §4.6): the `conflict` table keeps the base, local and remote values as text (the
 * audit form of a value), who made the remote change and when. Nothing is decided here: a person
 * picks one of the two values, or types a third, and resolving goes through the engine's own
 * kh_replica_resolve(): validated, audited, queued for sending on the server's latest version
 * and marked resolved, in one transaction.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-conflicts.h"
#include "kh-entity.h"
#include "kh-error.h"
#include "kh-schema.h"
#include "kh-store-private.h"
#include "kh-validate.h"

static const char *text_columns[] = {
  "entity", "record_id", "field", "base_value", "local_value", "remote_value",
  "remote_by", "remote_at", "local_at", "created_at",
};

/* The open conflicts, oldest first: objects with "seq", "entity", "record_id", "field",
 * "base_value", "local_value", "remote_value", "remote_version", "remote_by", "remote_at",
 * "local_at" and "created_at" (absent when NULL). */
json_object *
kh_conflicts_list (KhStore  *store,
                   GError  **error)
{
  sqlite3_stmt *stmt;
  json_object *array;
  int rc;

  g_return_val_if_fail (KH_IS_STORE (store), NULL);

  stmt = kh_store_prepare (store,
                           "SELECT seq, remote_version, entity, record_id, field, base_value, "
                           "local_value, remote_value, remote_by, remote_at, local_at, created_at "
                           "FROM conflict WHERE resolved_at IS NULL ORDER BY seq", error);
  if (stmt == NULL)
    return NULL;
  array = json_object_new_array ();
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      json_object *row = json_object_new_object ();

      json_object_object_add (row, "seq", json_object_new_int64 (sqlite3_column_int64 (stmt, 0)));
      json_object_object_add (row, "remote_version", json_object_new_int64 (sqlite3_column_int64 (stmt, 1)));
      for (guint i = 0; i < G_N_ELEMENTS (text_columns); i++)
        if (sqlite3_column_type (stmt, 2 + (int) i) != SQLITE_NULL)
          json_object_object_add (row, text_columns[i],
                                  json_object_new_string ((const char *) sqlite3_column_text (stmt, 2 + (int) i)));
      json_object_array_add (array, row);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      kh_sqlite_set_error (error, kh_store_get_db (store), "conflicts");
      json_object_put (array);
      return NULL;
    }
  return array;
}

gint64
kh_conflicts_count (KhStore *store)
{
  sqlite3_stmt *stmt;
  gint64 n = 0;

  g_return_val_if_fail (KH_IS_STORE (store), 0);

  stmt = kh_store_prepare (store, "SELECT count(*) FROM conflict WHERE resolved_at IS NULL", NULL);
  if (stmt == NULL)
    return 0;
  if (sqlite3_step (stmt) == SQLITE_ROW)
    n = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return n;
}

static const char *
get_string (json_object *obj,
            const char  *key)
{
  json_object *v;

  if (!json_object_object_get_ex (obj, key, &v) || v == NULL)
    return NULL;
  return json_object_get_string (v);
}

/* Records a conflict (keys as kh_conflicts_list() gives them; "seq" and "created_at" are made
 * here). A newer conflict on the same field replaces an open one. Returns its seq, or -1. */
gint64
kh_conflicts_add (KhStore      *store,
                  json_object  *conflict,
                  GError      **error)
{
  const KhEntity *entity;
  sqlite3_stmt *stmt;
  g_autofree char *now = kh_store_now ();
  json_object *version = NULL;
  gint64 seq = -1;

  g_return_val_if_fail (KH_IS_STORE (store), -1);
  g_return_val_if_fail (conflict != NULL, -1);

  entity = get_string (conflict, "entity") ? kh_entity_lookup (get_string (conflict, "entity")) : NULL;
  if (entity == NULL || get_string (conflict, "record_id") == NULL
      || get_string (conflict, "field") == NULL
      || kh_entity_get_field (entity, get_string (conflict, "field")) == NULL)
    {
      g_set_error_literal (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID,
                           _("A conflict needs a kind of record, a record and one of its fields."));
      return -1;
    }

  stmt = kh_store_prepare (store,
                           "INSERT INTO conflict (entity, record_id, field, base_value, local_value, "
                           "remote_value, remote_by, remote_at, local_at, created_at, remote_version) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                           "ON CONFLICT (entity, record_id, field) DO UPDATE SET "
                           "base_value = excluded.base_value, local_value = excluded.local_value, "
                           "remote_value = excluded.remote_value, remote_by = excluded.remote_by, "
                           "remote_at = excluded.remote_at, local_at = excluded.local_at, "
                           "created_at = excluded.created_at, remote_version = excluded.remote_version, "
                           "resolved_at = NULL "
                           "RETURNING seq", error);
  if (stmt == NULL)
    return -1;
  for (guint i = 0; i < G_N_ELEMENTS (text_columns); i++)
    {
      const char *v = strcmp (text_columns[i], "created_at") == 0 ? now
                      : get_string (conflict, text_columns[i]);

      sqlite3_bind_text (stmt, 1 + (int) i, v, -1, SQLITE_TRANSIENT);
    }
  json_object_object_get_ex (conflict, "remote_version", &version);
  sqlite3_bind_int64 (stmt, 11, version ? json_object_get_int64 (version) : 0);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    seq = sqlite3_column_int64 (stmt, 0);
  else
    kh_sqlite_set_error (error, kh_store_get_db (store), "conflict");
  sqlite3_reset (stmt);
  if (seq >= 0)
    kh_store_emit_changed (store, "conflict", get_string (conflict, "record_id"));
  return seq;
}

/* Resolves conflict @seq the way the sync engine does (kh_replica_resolve()): the chosen value
 * is written and queued for the server on the server's latest version, even when it is the
 * value already here ("keep mine"), so the choice reaches everyone. @value is the typed text
 * for KH_RESOLVE_VALUE. */
gboolean
kh_conflicts_resolve (KhStore          *store,
                      gint64            seq,
                      KhResolveChoice   choice,
                      const char       *value,
                      GError          **error)
{
  g_autofree char *record_id = NULL;
  g_autofree char *field_name = NULL;
  sqlite3_stmt *stmt;

  g_return_val_if_fail (KH_IS_STORE (store), FALSE);

  stmt = kh_store_prepare (store,
                           "SELECT record_id, field FROM conflict "
                           "WHERE seq = ? AND resolved_at IS NULL", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, seq);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      record_id = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
      field_name = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
    }
  sqlite3_reset (stmt);
  if (record_id == NULL)
    {
      g_set_error_literal (error, KH_DATA_ERROR, KH_DATA_ERROR_NOT_FOUND,
                           _("This conflict was already resolved."));
      return FALSE;
    }
  if (!kh_replica_resolve (store, record_id, field_name, choice, value, error))
    return FALSE;
  kh_store_emit_changed (store, "conflict", record_id);
  return TRUE;
}
