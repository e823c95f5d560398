/* kh-replica-write.c: a record's state, written as the server has it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include "kh-journal.h"
#include "kh-replica-private.h"

static char *write_sql (const KhEntity *entity,
                        gboolean        insert);
static char *insert_many_sql (const KhEntity *entity,
                              guint           rows);

const EntitySql *
_kh_replica_entity_sql (const KhEntity *entity)
{
  static GHashTable *table;
  static GMutex lock;
  EntitySql *sql;

  g_mutex_lock (&lock);
  if (table == NULL)
    table = g_hash_table_new (NULL, NULL);
  sql = g_hash_table_lookup (table, entity);
  if (sql == NULL)
    {
      g_autofree char *columns = kh_store_select_columns (entity);

      sql = g_new0 (EntitySql, 1);
      sql->select = g_strdup_printf ("SELECT %s FROM %s WHERE id = ?", columns, entity->name);
      sql->insert = write_sql (entity, TRUE);
      sql->update = write_sql (entity, FALSE);
      sql->version = g_strdup_printf ("UPDATE %s SET version = ? WHERE id = ? AND version < ?", entity->name);
      sql->insert_rows = MAX (1, MIN (KH_INSERT_ROWS_MAX, KH_VARIABLES_MAX / (entity->n_fields + 6)));
      sql->insert_many = insert_many_sql (entity, sql->insert_rows);
      g_hash_table_insert (table, (gpointer) entity, sql);
    }
  g_mutex_unlock (&lock);
  return sql;
}

/* Writing a record's state -------------------------------------------------------------------- */

static char *
write_sql (const KhEntity *entity,
           gboolean        insert)
{
  GString *sql = g_string_new (NULL);

  if (insert)
    {
      g_string_printf (sql, "INSERT INTO %s (version, deleted, updated_at, updated_by, created_at", entity->name);
      for (guint i = 0; i < entity->n_fields; i++)
        g_string_append_printf (sql, ", %s", entity->fields[i].name);
      g_string_append (sql, ", id) VALUES (?, ?, ?, ?, ?");
      for (guint i = 0; i <= entity->n_fields; i++)
        g_string_append (sql, ", ?");
      g_string_append (sql, ")");
    }
  else
    {
      g_string_printf (sql, "UPDATE %s SET version = ?, deleted = ?, updated_at = ?, updated_by = ?, "
                            "created_at = coalesce(?, created_at)", entity->name);
      for (guint i = 0; i < entity->n_fields; i++)
        g_string_append_printf (sql, ", %s = ?", entity->fields[i].name);
      g_string_append (sql, " WHERE id = ?");
    }
  return g_string_free (sql, FALSE);
}

/* The insert of write_sql() for @rows records at once. */
static char *
insert_many_sql (const KhEntity *entity,
                 guint           rows)
{
  GString *sql = g_string_new (NULL);

  g_string_printf (sql, "INSERT INTO %s (version, deleted, updated_at, updated_by, created_at", entity->name);
  for (guint i = 0; i < entity->n_fields; i++)
    g_string_append_printf (sql, ", %s", entity->fields[i].name);
  g_string_append (sql, ", id) VALUES ");
  for (guint r = 0; r < rows; r++)
    {
      g_string_append (sql, r ? ", (?, ?, ?, ?, ?" : "(?, ?, ?, ?, ?");
      for (guint i = 0; i <= entity->n_fields; i++)
        g_string_append (sql, ", ?");
      g_string_append (sql, ")");
    }
  return g_string_free (sql, FALSE);
}

/* Binds every field of @entity from @fields to the parameters from @col on (absent ones to
 * NULL). The server writes a record's fields in the registry's order, so they are walked side
 * by side without a lookup; when they are in another order, they are looked up. */
void
_kh_replica_bind_fields (sqlite3_stmt   *stmt,
                         int             col,
                         const KhEntity *entity,
                         json_object    *fields)
{
  struct lh_entry *next = fields != NULL ? lh_table_head (json_object_get_object (fields)) : NULL;

  for (guint i = 0; i < entity->n_fields; i++)
    {
      const KhField *field = &entity->fields[i];
      const char *key = next != NULL ? lh_entry_k (next) : NULL;
      json_object *v = NULL;

      if (key != NULL && key[0] == field->name[0] && strcmp (key, field->name) == 0)
        {
          v = lh_entry_v (next);
          next = lh_entry_next (next);
        }
      /* Text is bound where it is: the page outlives the statement's step. */
      if (v != NULL && json_object_is_type (v, json_type_string)
          && (field->type == KH_FIELD_TEXT || field->type == KH_FIELD_ENUM
              || field->type == KH_FIELD_REF || field->type == KH_FIELD_DATE))
        sqlite3_bind_text (stmt, col + (int) i, json_object_get_string (v), json_object_get_string_len (v),
                           SQLITE_STATIC);
      else
        kh_store_bind_value (stmt, col + (int) i, field, v);
    }
  if (next == NULL)
    return;
  for (guint i = 0; i < entity->n_fields; i++)
    kh_store_bind_value (stmt, col + (int) i, &entity->fields[i], get_member (fields, entity->fields[i].name));
}

/* Binds every field of @entity from @values (read without json-c, so checked to be of the
 * field's type; absent ones to NULL). */
void
_kh_replica_bind_values (sqlite3_stmt   *stmt,
                         int             col,
                         const KhEntity *entity,
                         const KhValue  *values)
{
  for (guint i = 0; i < entity->n_fields; i++)
    {
      const KhValue *v = &values[i];

      switch (v->kind)
        {
        case KH_VALUE_TEXT:
          /* Bound where it is: the page outlives the statement's step. */
          sqlite3_bind_text (stmt, col + (int) i, v->text, v->len, SQLITE_STATIC);
          break;
        case KH_VALUE_INT:
        case KH_VALUE_BOOL:
          sqlite3_bind_int64 (stmt, col + (int) i, v->number);
          break;
        case KH_VALUE_OTHER:
          /* A JSON field's value. */
          kh_store_bind_value (stmt, col + (int) i, &entity->fields[i], v->json);
          break;
        case KH_VALUE_ABSENT:
        case KH_VALUE_NULL:
        default:
          sqlite3_bind_null (stmt, col + (int) i);
          break;
        }
    }
}

/* Writes the whole state of a record: every field (absent ones become NULL), its version and
 * its deleted flag; the fields from @fields, or from @values when it is not NULL. */
gboolean
_kh_replica_write_state (KhStore         *store,
                         const KhEntity  *entity,
                         const char      *id,
                         gboolean         insert,
                         gint64           version,
                         gboolean         deleted,
                         json_object     *fields,
                         const KhValue   *values,
                         const char      *updated_at,
                         const char      *updated_by,
                         GError         **error)
{
  const EntitySql *sql = _kh_replica_entity_sql (entity);
  sqlite3_stmt *stmt = kh_store_prepare_static (store, insert ? sql->insert : sql->update, error);
  int col = 6;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, version);
  sqlite3_bind_int (stmt, 2, deleted ? 1 : 0);
  sqlite3_bind_text (stmt, 3, updated_at, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, updated_by, -1, SQLITE_STATIC);
  if (insert)
    sqlite3_bind_text (stmt, 5, updated_at, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null (stmt, 5);
  if (values != NULL)
    _kh_replica_bind_values (stmt, col, entity, values);
  else
    _kh_replica_bind_fields (stmt, col, entity, fields);
  col += entity->n_fields;
  sqlite3_bind_text (stmt, col, id, -1, SQLITE_STATIC);
  if (!kh_sqlite_step_done (stmt, insert ? "insert" : "update", error))
    {
      g_prefix_error (error, _("Could not store %s “%s” from the server: "), _(entity->label), id);
      return FALSE;
    }
  return TRUE;
}

/* The local record, or NULL without an error when there is none. */
json_object *
_kh_replica_load_local (KhStore         *store,
                        const KhEntity  *entity,
                        const char      *id,
                        GError         **error)
{
  sqlite3_stmt *stmt = kh_store_prepare_static (store, _kh_replica_entity_sql (entity)->select, error);
  json_object *record = NULL;
  int rc;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    record = kh_store_row_to_json (entity, stmt, 0);
  else if (rc != SQLITE_DONE)
    kh_sqlite_set_error (error, kh_store_get_db (store), "read");
  sqlite3_reset (stmt);
  return record;
}

gboolean
_kh_replica_drop_record (KhStore         *store,
                         const KhEntity  *entity,
                         const char      *id,
                         GError         **error)
{
  g_autofree char *sql = g_strdup_printf ("DELETE FROM %s WHERE id = ?", entity->name);
  sqlite3_stmt *stmt = kh_store_prepare (store, sql, error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
  if (!kh_sqlite_step_done (stmt, "remove", error))
    return FALSE;
  if (!kh_journal_drop_base (store, entity->name, id, error))
    return FALSE;
  stmt = kh_store_prepare (store, "DELETE FROM conflict WHERE entity = ? AND record_id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, entity->name, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, id, -1, SQLITE_STATIC);
  return kh_sqlite_step_done (stmt, "conflict", error);
}
