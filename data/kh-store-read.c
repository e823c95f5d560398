/* kh-store-read.c: reading records: one, a list, a count, a search, a history
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-entity.h"
#include "kh-error.h"
#include "kh-fold.h"
#include "kh-sqlite.h"
#include "kh-store-history.h"
#include "kh-store-private.h"

/* Reading ------------------------------------------------------------------------------------- */

json_object *
_kh_store_load_record (KhStore         *self,
                       const KhEntity  *entity,
                       const char      *id,
                       GError         **error)
{
  sqlite3_stmt *stmt = kh_store_prepare (self, _kh_store_entity_sql (self, entity, ENTITY_SQL_LOAD), error);
  json_object *record = NULL;
  int rc;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    record = kh_store_row_to_json (entity, stmt, 0);
  else if (rc == SQLITE_DONE)
    g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_NOT_FOUND,
                 _("There is no %s with the id “%s”."), _(entity->label), id);
  else
    kh_sqlite_set_error (error, self->db, "read");
  sqlite3_reset (stmt);
  return record;
}

json_object *
kh_store_get (KhStore     *self,
              const char  *entity_name,
              const char  *id,
              GError     **error)
{
  const KhEntity *entity;

  g_return_val_if_fail (KH_IS_STORE (self), NULL);
  g_return_val_if_fail (id != NULL, NULL);

  if ((entity = _kh_store_lookup_entity (entity_name, error)) == NULL)
    return NULL;
  return _kh_store_load_record (self, entity, id, error);
}

/* Builds "WHERE …" from a query, binding nothing yet: the values are bound in the same order
 * by bind_where(). Field names are checked against the registry, so only registry names reach
 * the SQL text. */
static gboolean
build_where (const KhEntity  *entity,
             const KhQuery   *query,
             GString         *sql,
             GError         **error)
{
  gboolean include_deleted = query != NULL && query->include_deleted;

  g_string_append (sql, include_deleted ? " WHERE 1" : " WHERE deleted = 0");
  if (query == NULL || query->where == NULL)
    return TRUE;

  json_object_object_foreach (query->where, key, val)
    {
      const KhField *field = kh_entity_get_field (entity, key);

      if (field == NULL && strcmp (key, "id") != 0)
        {
          g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_UNKNOWN_FIELD,
                       _("“%s” is not a field of %s."), key, _(entity->label));
          return FALSE;
        }
      if (val == NULL)
        g_string_append_printf (sql, " AND %s IS NULL", key);
      else
        g_string_append_printf (sql, " AND %s = ?", key);
    }
  return TRUE;
}

static void
bind_where (const KhEntity *entity,
            const KhQuery  *query,
            sqlite3_stmt   *stmt,
            int            *index)
{
  if (query == NULL || query->where == NULL)
    return;
  json_object_object_foreach (query->where, key, val)
    {
      const KhField *field = kh_entity_get_field (entity, key);
      static const KhField id_field = { .name = "id", .type = KH_FIELD_TEXT };

      if (val != NULL)
        kh_store_bind_value (stmt, (*index)++, field ? field : &id_field, val);
    }
}

json_object *
kh_store_list (KhStore        *self,
               const char     *entity_name,
               const KhQuery  *query,
               GError        **error)
{
  const KhEntity *entity;
  g_autofree char *columns = NULL;
  g_autoptr(GString) sql = NULL;
  sqlite3_stmt *stmt;
  json_object *array;
  int index = 1;
  int rc;

  g_return_val_if_fail (KH_IS_STORE (self), NULL);

  if ((entity = _kh_store_lookup_entity (entity_name, error)) == NULL)
    return NULL;

  columns = kh_store_select_columns (entity);
  sql = g_string_new (NULL);
  g_string_printf (sql, "SELECT %s FROM %s", columns, entity->name);
  if (!build_where (entity, query, sql, error))
    return NULL;

  if (query != NULL && query->order_by != NULL)
    {
      if (kh_entity_get_field (entity, query->order_by) == NULL)
        {
          g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_UNKNOWN_FIELD,
                       _("“%s” is not a field of %s."), query->order_by, _(entity->label));
          return NULL;
        }
      g_string_append_printf (sql, " ORDER BY %s %s, rid", query->order_by,
                              query->descending ? "DESC" : "ASC");
    }
  else
    g_string_append_printf (sql, " ORDER BY rid %s", query && query->descending ? "DESC" : "ASC");
  g_string_append (sql, " LIMIT ? OFFSET ?");

  stmt = kh_store_prepare (self, sql->str, error);
  if (stmt == NULL)
    return NULL;
  bind_where (entity, query, stmt, &index);
  sqlite3_bind_int64 (stmt, index++, query && query->limit > 0 ? query->limit : -1);
  sqlite3_bind_int64 (stmt, index++, query ? MAX (query->offset, 0) : 0);

  array = json_object_new_array ();
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    json_object_array_add (array, kh_store_row_to_json (entity, stmt, 0));
  if (rc != SQLITE_DONE)
    {
      kh_sqlite_set_error (error, self->db, "list");
      json_object_put (array);
      array = NULL;
    }
  sqlite3_reset (stmt);
  return array;
}

gint64
kh_store_count (KhStore        *self,
                const char     *entity_name,
                const KhQuery  *query,
                GError        **error)
{
  const KhEntity *entity;
  g_autoptr(GString) sql = NULL;
  sqlite3_stmt *stmt;
  gint64 count = -1;
  int index = 1;

  g_return_val_if_fail (KH_IS_STORE (self), -1);

  if ((entity = _kh_store_lookup_entity (entity_name, error)) == NULL)
    return -1;
  sql = g_string_new (NULL);
  g_string_printf (sql, "SELECT count(*) FROM %s", entity->name);
  if (!build_where (entity, query, sql, error))
    return -1;
  stmt = kh_store_prepare (self, sql->str, error);
  if (stmt == NULL)
    return -1;
  bind_where (entity, query, stmt, &index);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    count = sqlite3_column_int64 (stmt, 0);
  else
    kh_sqlite_set_error (error, self->db, "count");
  sqlite3_reset (stmt);
  return count;
}

/* Full-text search with Vietnamese folding, prefix matching on every word. Returns an array of
 * { "entity", "id", "title" }, at most @limit of them. */
json_object *
kh_store_search (KhStore     *self,
                 const char  *text,
                 const char  *entity_name,
                 int          limit,
                 GError     **error)
{
  g_autofree char *match = NULL;
  const KhEntity * const *entities;
  json_object *results;
  guint n;

  g_return_val_if_fail (KH_IS_STORE (self), NULL);
  g_return_val_if_fail (text != NULL, NULL);

  if (entity_name != NULL && _kh_store_lookup_entity (entity_name, error) == NULL)
    return NULL;
  if (limit <= 0)
    limit = 50;

  results = json_object_new_array ();
  match = kh_fold_to_fts_query (text);
  if (match == NULL)
    return results;

  entities = kh_entities (&n);
  for (guint e = 0; e < n && (int) json_object_array_length (results) < limit; e++)
    {
      const KhEntity *entity = entities[e];
      g_autofree char *sql = NULL;
      sqlite3_stmt *stmt;
      int rc;

      if (!kh_entity_has_search (entity)
          || (entity_name != NULL && strcmp (entity->name, entity_name) != 0))
        continue;

      sql = g_strdup_printf ("SELECT t.id, t.%s FROM %s_fts f JOIN %s t ON t.rid = f.rowid "
                             "WHERE f.text MATCH ? LIMIT ?",
                             entity->title_field, entity->name, entity->name);
      stmt = kh_store_prepare (self, sql, error);
      if (stmt == NULL)
        {
          json_object_put (results);
          return NULL;
        }
      sqlite3_bind_text (stmt, 1, match, -1, SQLITE_STATIC);
      sqlite3_bind_int (stmt, 2, limit - (int) json_object_array_length (results));
      while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        {
          json_object *hit = json_object_new_object ();

          json_object_object_add (hit, "entity", json_object_new_string (entity->name));
          json_object_object_add (hit, "id", json_object_new_string ((const char *) sqlite3_column_text (stmt, 0)));
          json_object_object_add (hit, "title",
                                  json_object_new_string (sqlite3_column_text (stmt, 1)
                                                          ? (const char *) sqlite3_column_text (stmt, 1) : ""));
          json_object_array_add (results, hit);
        }
      sqlite3_reset (stmt);
      if (rc != SQLITE_DONE)
        {
          kh_sqlite_set_error (error, self->db, "search");
          json_object_put (results);
          return NULL;
        }
    }
  return results;
}

json_object *
kh_store_history (KhStore     *self,
                  const char  *entity_name,
                  const char  *id,
                  GError     **error)
{
  sqlite3_stmt *stmt;
  json_object *array;
  int rc;

  g_return_val_if_fail (KH_IS_STORE (self), NULL);

  if (_kh_store_lookup_entity (entity_name, error) == NULL)
    return NULL;
  {
    GError *local = NULL;

    /* The server's, with its authors, once a person has asked for it (kh-store-history.c). */
    array = _kh_store_server_history (self, entity_name, id, &local);
    if (array != NULL || local != NULL)
      {
        if (local != NULL)
          g_propagate_error (error, local);
        return array;
      }
  }
  stmt = kh_store_prepare (self,
                           "SELECT at, actor, action, field, old_value, new_value FROM audit "
                           "WHERE entity = ? AND record_id = ? ORDER BY seq", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, entity_name, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, id, -1, SQLITE_STATIC);
  array = json_object_new_array ();
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
      kh_sqlite_set_error (error, self->db, "history");
      json_object_put (array);
      return NULL;
    }
  if (json_object_array_length (array) == 0)
    {
      json_object_put (array);
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_NOT_FOUND,
                   _("There is no history for the id “%s”."), id);
      return NULL;
    }
  return array;
}

gint64
kh_store_count_pending (KhStore *self)
{
  sqlite3_stmt *stmt;
  gint64 n = 0;

  g_return_val_if_fail (KH_IS_STORE (self), 0);

  stmt = kh_store_prepare (self, "SELECT count(*) FROM outbox WHERE state = 'pending'", NULL);
  if (stmt != NULL && sqlite3_step (stmt) == SQLITE_ROW)
    n = sqlite3_column_int64 (stmt, 0);
  if (stmt != NULL)
    sqlite3_reset (stmt);
  return n;
}

json_object *
kh_store_list_outbox (KhStore  *self,
                      GError  **error)
{
  sqlite3_stmt *stmt;
  json_object *array;
  int rc;

  g_return_val_if_fail (KH_IS_STORE (self), NULL);

  stmt = kh_store_prepare (self,
                           "SELECT mutation_id, entity, record_id, op, fields, base_version, state, "
                           "attempts, reason FROM outbox ORDER BY seq", error);
  if (stmt == NULL)
    return NULL;
  array = json_object_new_array ();
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      json_object *row = json_object_new_object ();

      json_object_object_add (row, "mutation_id", json_object_new_string ((const char *) sqlite3_column_text (stmt, 0)));
      json_object_object_add (row, "entity", json_object_new_string ((const char *) sqlite3_column_text (stmt, 1)));
      json_object_object_add (row, "record_id", json_object_new_string ((const char *) sqlite3_column_text (stmt, 2)));
      json_object_object_add (row, "op", json_object_new_string ((const char *) sqlite3_column_text (stmt, 3)));
      json_object_object_add (row, "fields", json_tokener_parse ((const char *) sqlite3_column_text (stmt, 4)));
      json_object_object_add (row, "base_version", json_object_new_int64 (sqlite3_column_int64 (stmt, 5)));
      json_object_object_add (row, "state", json_object_new_string ((const char *) sqlite3_column_text (stmt, 6)));
      json_object_object_add (row, "attempts", json_object_new_int (sqlite3_column_int (stmt, 7)));
      if (sqlite3_column_type (stmt, 8) != SQLITE_NULL)
        json_object_object_add (row, "reason", json_object_new_string ((const char *) sqlite3_column_text (stmt, 8)));
      json_object_array_add (array, row);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      kh_sqlite_set_error (error, self->db, "outbox");
      json_object_put (array);
      return NULL;
    }
  return array;
}
