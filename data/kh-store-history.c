/* kh-store-history.c: a record's history as the server keeps it, beside this replica's own
 *
 * A replica knows the authors of the changes it made; of the others it knows only that they
 * came from the server. The server keeps every accepted change with its author (GET
 * /v1/history); taken here, it replaces the replica's own rows of what the server has, and the
 * changes still waiting to be sent follow it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include "kh-entity.h"
#include "kh-error.h"
#include "kh-store-history.h"
#include "kh-store-private.h"
#include "kh-sqlite.h"
#include "kh-store-sql.h"

static const char *
string_of (json_object *obj,
           const char  *name)
{
  json_object *v = NULL;

  if (!json_object_object_get_ex (obj, name, &v) || !json_object_is_type (v, json_type_string))
    return NULL;
  return json_object_get_string (v);
}

gboolean
kh_store_keep_server_history (KhStore      *self,
                              const char   *entity,
                              const char   *id,
                              json_object  *history,
                              GError      **error)
{
  sqlite3_stmt *stmt;
  gboolean ok;

  g_return_val_if_fail (KH_IS_STORE (self), FALSE);

  if (_kh_store_lookup_entity (entity, error) == NULL || !_kh_store_write_begin (self, error))
    return FALSE;
  stmt = kh_store_prepare (self, "DELETE FROM server_history WHERE entity = ? AND record_id = ?", error);
  ok = stmt != NULL;
  if (ok)
    {
      sqlite3_bind_text (stmt, 1, entity, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 2, id, -1, SQLITE_STATIC);
      ok = kh_sqlite_step_done (stmt, "server history", error);
    }
  for (size_t i = 0; ok && i < json_object_array_length (history); i++)
    {
      json_object *row = json_object_array_get_idx (history, i);
      json_object *version = NULL;
      json_object *changes = NULL;
      const char *op = string_of (row, "op");
      const char *at = string_of (row, "at");

      if (!json_object_object_get_ex (row, "version", &version) || !json_object_is_type (version, json_type_int)
          || op == NULL || at == NULL)
        continue;
      json_object_object_get_ex (row, "changes", &changes);
      stmt = kh_store_prepare (self, "INSERT OR REPLACE INTO server_history (entity, record_id, version, at, "
                               "actor, device, op, changes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", error);
      ok = stmt != NULL;
      if (!ok)
        break;
      sqlite3_bind_text (stmt, 1, entity, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 2, id, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (stmt, 3, json_object_get_int64 (version));
      sqlite3_bind_text (stmt, 4, at, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 5, string_of (row, "user"), -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 6, string_of (row, "device"), -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 7, op, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 8, json_object_is_type (changes, json_type_object)
                                  ? json_object_to_json_string_ext (changes, JSON_C_TO_STRING_PLAIN) : "{}",
                         -1, SQLITE_TRANSIENT);
      ok = kh_sqlite_step_done (stmt, "server history", error);
    }
  return _kh_store_write_end (self, ok, error) && ok;
}

static json_object *
row_new (const char *at,
         const char *actor,
         const char *action)
{
  json_object *row = json_object_new_object ();

  json_object_object_add (row, "at", json_object_new_string (at));
  if (actor != NULL)
    json_object_object_add (row, "actor", json_object_new_string (actor));
  json_object_object_add (row, "action", json_object_new_string (action));
  return row;
}

static void
add_text (json_object *row,
          const char  *name,
          json_object *value)
{
  g_autofree char *text = kh_store_value_to_text (value);

  if (text != NULL)
    json_object_object_add (row, name, json_object_new_string (text));
}

json_object *
_kh_store_server_history (KhStore     *self,
                          const char  *entity,
                          const char  *id,
                          GError     **error)
{
  json_object *array = json_object_new_array ();
  sqlite3_stmt *stmt;
  int rc;

  stmt = kh_store_prepare (self, "SELECT at, actor, op, changes FROM server_history "
                           "WHERE entity = ? AND record_id = ? ORDER BY version", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, entity, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, id, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const char *at = (const char *) sqlite3_column_text (stmt, 0);
      const char *actor = (const char *) sqlite3_column_text (stmt, 1);
      const char *op = (const char *) sqlite3_column_text (stmt, 2);
      json_object *changes = json_tokener_parse ((const char *) sqlite3_column_text (stmt, 3));

      /* As the replica's own audit writes them: a creation is one row, an update one per field. */
      if (strcmp (op, "update") != 0 || changes == NULL || json_object_object_length (changes) == 0)
        {
          json_object_array_add (array, row_new (at, actor, strcmp (op, "create") == 0 || strcmp (op, "delete") == 0
                                                             || strcmp (op, "restore") == 0 ? op : "update"));
          json_object_put (changes);
          continue;
        }
      json_object_object_foreach (changes, field, pair)
        {
          json_object *row = row_new (at, actor, "update");

          json_object_object_add (row, "field", json_object_new_string (field));
          if (json_object_is_type (pair, json_type_array) && json_object_array_length (pair) == 2)
            {
              add_text (row, "old_value", json_object_array_get_idx (pair, 0));
              add_text (row, "new_value", json_object_array_get_idx (pair, 1));
            }
          json_object_array_add (array, row);
        }
      json_object_put (changes);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE || json_object_array_length (array) == 0)
    {
      if (rc != SQLITE_DONE)
        kh_sqlite_set_error (error, kh_store_get_db (self), "server history");
      json_object_put (array);
      return NULL;
    }

  /* What this replica changed and has not had accepted yet: its own rows since the oldest
   * change still in the outbox. */
  stmt = kh_store_prepare (self, "SELECT at, actor, action, field, old_value, new_value FROM audit "
                           "WHERE entity = ? AND record_id = ? AND action IN ('create', 'update', 'delete', 'restore', 'resolve') "
                           "AND at >= (SELECT min(created_at) FROM outbox WHERE entity = ? AND record_id = ?) "
                           "ORDER BY seq", error);
  if (stmt == NULL)
    {
      json_object_put (array);
      return NULL;
    }
  sqlite3_bind_text (stmt, 1, entity, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, entity, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, id, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      json_object *row = json_object_new_object ();
      static const char *names[] = { "at", "actor", "action", "field", "old_value", "new_value" };

      for (int i = 0; i < 6; i++)
        if (sqlite3_column_type (stmt, i) != SQLITE_NULL)
          json_object_object_add (row, names[i],
                                  json_object_new_string ((const char *) sqlite3_column_text (stmt, i)));
      json_object_array_add (array, row);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      kh_sqlite_set_error (error, kh_store_get_db (self), "server history");
      json_object_put (array);
      return NULL;
    }
  return array;
}
