/* kh-replica.c: the replica side of sync
 *
 * The rules this file keeps (DESIGN.md §4, sync/PROTOCOL.md):
 *
 * - A page of the change feed is applied in one transaction together with its cursor, so a pull
 *   cut anywhere resumes without loss or double application.
 * - A record without unsent local changes takes the server's state. A record with local changes
 *   (outbox entries, pending or rejected) is merged three ways: the base is the last server state
 *   the replica acknowledged (table `base`, captured just before the first local change), the
 *   local state is what the officer sees, the remote state is the incoming record. A field
 *   changed on one side only takes that side; a field changed on both sides to different values
 *   keeps the local value on screen and becomes a row in `conflict` holding base, local and
 *   remote values with who changed it and when. A delete against an edit, either way round, is
 *   a conflict on the pseudo-field "deleted". The officer never sees their own change reverted.
 * - The outbox is sent in batches of at most one entry per record (a later entry for the same
 *   record waits until the first is answered). Sending marks the entry as attempted first, so
 *   a local edit made while the request is in flight gets an entry of its own instead of being
 *   folded into one the server may already have applied. A retry reuses the mutation id.
 * - Fields with an open conflict are held back from push until a person resolves them.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <errno.h>
#include <string.h>

#include "kh-error.h"
#include "kh-journal.h"
#include "kh-replica.h"
#include "kh-schema.h"
#include "kh-store-private.h"
#include "kh-uuid.h"
#include "kh-validate.h"

/* Small helpers ------------------------------------------------------------------------------- */

static gboolean
json_equal (json_object *a,
            json_object *b)
{
  if (a == NULL || b == NULL)
    return a == b;
  if (json_object_get_type (a) != json_object_get_type (b))
    {
      /* Integers may arrive as doubles from a loose encoder; compare them by value. */
      if ((json_object_is_type (a, json_type_int) || json_object_is_type (a, json_type_double))
          && (json_object_is_type (b, json_type_int) || json_object_is_type (b, json_type_double)))
        return json_object_get_double (a) == json_object_get_double (b);
      return FALSE;
    }
  if (json_object_is_type (a, json_type_string))
    return strcmp (json_object_get_string (a), json_object_get_string (b)) == 0;
  if (json_object_is_type (a, json_type_int))
    return json_object_get_int64 (a) == json_object_get_int64 (b);
  if (json_object_is_type (a, json_type_boolean))
    return json_object_get_boolean (a) == json_object_get_boolean (b);
  return json_object_equal (a, b) != 0;
}

static json_object *
get_member (json_object *obj,
            const char  *name)
{
  json_object *v = NULL;

  if (obj == NULL || !json_object_object_get_ex (obj, name, &v))
    return NULL;
  return v;
}

static const char *
get_str (json_object *obj,
         const char  *name)
{
  json_object *v = get_member (obj, name);

  return v != NULL && json_object_is_type (v, json_type_string) ? json_object_get_string (v) : NULL;
}

static char *
value_text (json_object *v)
{
  if (v == NULL)
    return NULL;
  return g_strdup (json_object_to_json_string_ext (v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

static json_object *
parse_value_text (const char *text)
{
  if (text == NULL)
    return NULL;
  return json_tokener_parse (text);
}

static gboolean
step_done (KhStore       *store,
           sqlite3_stmt  *stmt,
           const char    *what,
           GError       **error)
{
  int rc = sqlite3_step (stmt);

  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      kh_sqlite_set_error (error, kh_store_get_db (store), what);
      return FALSE;
    }
  return TRUE;
}

static gboolean
bad_answer (GError     **error,
            const char  *what)
{
  g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID,
               _("The server sent an answer that is not valid (%s); nothing was changed."), what);
  return FALSE;
}

static char *
record_key (const char *entity,
            const char *id)
{
  return g_strconcat (entity, ":", id, NULL);
}

/* sync_state ---------------------------------------------------------------------------------- */

char *
kh_replica_get_state (KhStore    *store,
                      const char *key)
{
  sqlite3_stmt *stmt = kh_store_prepare (store, "SELECT value FROM sync_state WHERE key = ?", NULL);
  char *value = NULL;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_type (stmt, 0) != SQLITE_NULL)
    value = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_reset (stmt);
  return value;
}

gboolean
kh_replica_set_state (KhStore     *store,
                      const char  *key,
                      const char  *value,
                      GError     **error)
{
  sqlite3_stmt *stmt;

  if (value == NULL)
    stmt = kh_store_prepare (store, "DELETE FROM sync_state WHERE key = ?", error);
  else
    stmt = kh_store_prepare (store, "INSERT INTO sync_state (key, value) VALUES (?, ?) "
                                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
  if (value != NULL)
    sqlite3_bind_text (stmt, 2, value, -1, SQLITE_STATIC);
  return step_done (store, stmt, "sync_state", error);
}

gboolean
kh_replica_has_local_changes (KhStore    *store,
                              const char *entity,
                              const char *id)
{
  g_return_val_if_fail (KH_IS_STORE (store), FALSE);
  return kh_journal_count_entries (store, entity, id) > 0;
}

/* Outbox entries of one record ---------------------------------------------------------------- */

typedef struct
{
  gint64  seq;
  char   *mutation_id;
  char   *op;
  char  **fields;
  gint64  base_version;
  int     attempts;
  char   *state;
  json_object *sent;
} Entry;

static void
entry_free (gpointer data)
{
  Entry *e = data;

  g_free (e->mutation_id);
  g_free (e->op);
  g_strfreev (e->fields);
  g_free (e->state);
  json_object_put (e->sent);
  g_free (e);
}

/* The usual list of names, ["a","b"] with no escapes, read without json-c (which makes a
 * parser for every text, most of reading an entry); NULL for anything else. */
static char **
plain_names (const char *text)
{
  GPtrArray *names = g_ptr_array_new ();
  const char *p = text;

  while (g_ascii_isspace (*p))
    p++;
  if (*p++ != '[')
    goto other;
  while (g_ascii_isspace (*p))
    p++;
  if (*p == ']')
    p++;
  else
    for (;;)
      {
        const char *start;

        if (*p++ != '"')
          goto other;
        for (start = p; *p != '"'; p++)
          if (*p == '\\' || (guchar) *p < 0x20)
            goto other;
        g_ptr_array_add (names, g_strndup (start, p - start));
        p++;
        while (g_ascii_isspace (*p))
          p++;
        if (*p == ']')
          {
            p++;
            break;
          }
        if (*p++ != ',')
          goto other;
        while (g_ascii_isspace (*p))
          p++;
      }
  while (g_ascii_isspace (*p))
    p++;
  if (*p != '\0')
    goto other;
  g_ptr_array_add (names, NULL);
  return (char **) g_ptr_array_free (names, FALSE);

other:
  g_ptr_array_set_free_func (names, g_free);
  g_ptr_array_unref (names);
  return NULL;
}

static char **
names_from_json (const char *text)
{
  json_object *arr;
  GPtrArray *names;
  char **plain = plain_names (text ? text : "[]");

  if (plain != NULL)
    return plain;
  arr = json_tokener_parse (text ? text : "[]");
  names = g_ptr_array_new ();

  for (size_t i = 0; arr != NULL && json_object_is_type (arr, json_type_array)
                     && i < json_object_array_length (arr); i++)
    {
      json_object *n = json_object_array_get_idx (arr, i);

      if (json_object_is_type (n, json_type_string))
        g_ptr_array_add (names, g_strdup (json_object_get_string (n)));
    }
  json_object_put (arr);
  g_ptr_array_add (names, NULL);
  return (char **) g_ptr_array_free (names, FALSE);
}

/* An outbox entry from a row whose first columns are seq, mutation_id, op, fields,
 * base_version, attempts, state. */
static Entry *
entry_from_row (sqlite3_stmt *stmt)
{
  Entry *e = g_new0 (Entry, 1);

  e->seq = sqlite3_column_int64 (stmt, 0);
  e->mutation_id = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
  e->op = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
  e->fields = names_from_json ((const char *) sqlite3_column_text (stmt, 3));
  e->base_version = sqlite3_column_int64 (stmt, 4);
  e->attempts = sqlite3_column_int (stmt, 5);
  e->state = g_strdup ((const char *) sqlite3_column_text (stmt, 6));
  return e;
}

static json_object *
names_to_json (GPtrArray *names)
{
  json_object *arr = json_object_new_array ();

  for (guint i = 0; i < names->len; i++)
    json_object_array_add (arr, json_object_new_string (names->pdata[i]));
  return arr;
}

static GPtrArray *
load_entries (KhStore     *store,
              const char  *entity,
              const char  *id,
              GError     **error)
{
  sqlite3_stmt *stmt = kh_store_prepare (store,
    "SELECT seq, mutation_id, op, fields, base_version, attempts, state, sent FROM outbox "
    "WHERE entity = ? AND record_id = ? ORDER BY seq", error);
  GPtrArray *entries;
  int rc;

  if (stmt == NULL)
    return NULL;
  entries = g_ptr_array_new_with_free_func (entry_free);
  sqlite3_bind_text (stmt, 1, entity, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, id, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      Entry *e = entry_from_row (stmt);

      if (sqlite3_column_type (stmt, 7) != SQLITE_NULL)
        e->sent = json_tokener_parse ((const char *) sqlite3_column_text (stmt, 7));
      g_ptr_array_add (entries, e);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      kh_sqlite_set_error (error, kh_store_get_db (store), "outbox");
      g_ptr_array_unref (entries);
      return NULL;
    }
  return entries;
}

static gboolean
delete_entry (KhStore  *store,
              gint64    seq,
              GError  **error)
{
  sqlite3_stmt *stmt = kh_store_prepare (store, "DELETE FROM outbox WHERE seq = ?", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, seq);
  return step_done (store, stmt, "outbox", error);
}

static gboolean
delete_entries (KhStore     *store,
                const char  *entity,
                const char  *id,
                GError     **error)
{
  sqlite3_stmt *stmt = kh_store_prepare (store, "DELETE FROM outbox WHERE entity = ? AND record_id = ?", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, entity, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, id, -1, SQLITE_STATIC);
  return step_done (store, stmt, "outbox", error);
}

static gboolean
rebase_entries (KhStore     *store,
                const char  *entity,
                const char  *id,
                gint64       version,
                GError     **error)
{
  sqlite3_stmt *stmt = kh_store_prepare (store,
    "UPDATE outbox SET base_version = ? WHERE entity = ? AND record_id = ? AND op <> 'create'", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, version);
  sqlite3_bind_text (stmt, 2, entity, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, id, -1, SQLITE_STATIC);
  return step_done (store, stmt, "outbox", error);
}

/* Conflicts ----------------------------------------------------------------------------------- */

static GHashTable *
open_conflict_fields (KhStore    *store,
                      const char *entity,
                      const char *id)
{
  sqlite3_stmt *stmt = kh_store_prepare (store,
    "SELECT field FROM conflict WHERE entity = ? AND record_id = ? AND resolved_at IS NULL", NULL);
  GHashTable *set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  if (stmt == NULL)
    return set;
  sqlite3_bind_text (stmt, 1, entity, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, id, -1, SQLITE_STATIC);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    g_hash_table_add (set, g_strdup ((const char *) sqlite3_column_text (stmt, 0)));
  sqlite3_reset (stmt);
  return set;
}

static gboolean
close_conflict (KhStore     *store,
                const char  *entity,
                const char  *id,
                const char  *field,
                GError     **error)
{
  g_autofree char *now = kh_store_now ();
  sqlite3_stmt *stmt = kh_store_prepare (store,
    "UPDATE conflict SET resolved_at = ? WHERE entity = ? AND record_id = ? "
    "AND (? IS NULL OR field = ?) AND resolved_at IS NULL", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, now, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, entity, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, field, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, field, -1, SQLITE_STATIC);
  return step_done (store, stmt, "conflict", error);
}

static gboolean
raise_conflict (KhStore      *store,
                const char   *entity,
                const char   *id,
                const char   *field,
                const char   *base_value,
                const char   *local_value,
                const char   *remote_value,
                gint64        remote_version,
                const char   *remote_by,
                const char   *remote_at,
                const char   *local_at,
                GError      **error)
{
  g_autofree char *now = kh_store_now ();
  sqlite3_stmt *stmt = kh_store_prepare (store,
    "INSERT INTO conflict (entity, record_id, field, base_value, local_value, remote_value, "
    "remote_version, remote_by, remote_at, local_at, created_at, resolved_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL) "
    "ON CONFLICT (entity, record_id, field) DO UPDATE SET base_value = excluded.base_value, "
    "local_value = excluded.local_value, remote_value = excluded.remote_value, "
    "remote_version = excluded.remote_version, remote_by = excluded.remote_by, "
    "remote_at = excluded.remote_at, local_at = excluded.local_at, "
    "created_at = CASE WHEN resolved_at IS NULL THEN created_at ELSE excluded.created_at END, "
    "resolved_at = NULL", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, entity, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, field, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, base_value, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, local_value, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 6, remote_value, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 7, remote_version);
  sqlite3_bind_text (stmt, 8, remote_by, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 9, remote_at, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 10, local_at, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 11, now, -1, SQLITE_STATIC);
  return step_done (store, stmt, "conflict", error);
}

/* SQL per entity, built once: a pull runs the same statements for every record, and building
 * the text each time cost more than running it. */
typedef struct
{
  char *select;   /* the record by id, columns as kh_store_row_to_json() reads them */
  char *insert;
  char *update;
  char *version;  /* raises the version after an acknowledgement */
  char *insert_many; /* the insert for insert_rows records in one statement */
  guint insert_rows;
} EntitySql;

/* Rows per multi-row INSERT: one statement for many rows saves each row a statement's fixed
 * cost (for one, the lists of a CHECK (x IN (...)) are built again at every statement). Kept
 * under SQLite's oldest limit of 999 bound values. */
#define KH_INSERT_ROWS_MAX 64
#define KH_VARIABLES_MAX 999
#define KH_AUDIT_COLUMNS 8

static char *write_sql (const KhEntity *entity,
                        gboolean        insert);
static char *insert_many_sql (const KhEntity *entity,
                              guint           rows);

static const EntitySql *
entity_sql (const KhEntity *entity)
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
static void
bind_fields (sqlite3_stmt   *stmt,
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
static void
bind_values (sqlite3_stmt   *stmt,
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
static gboolean
write_state (KhStore         *store,
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
  const EntitySql *sql = entity_sql (entity);
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
    bind_values (stmt, col, entity, values);
  else
    bind_fields (stmt, col, entity, fields);
  col += entity->n_fields;
  sqlite3_bind_text (stmt, col, id, -1, SQLITE_STATIC);
  if (!step_done (store, stmt, insert ? "insert" : "update", error))
    {
      g_prefix_error (error, _("Could not store %s “%s” from the server: "), _(entity->label), id);
      return FALSE;
    }
  return TRUE;
}

/* The local record, or NULL without an error when there is none. */
static json_object *
load_local (KhStore         *store,
            const KhEntity  *entity,
            const char      *id,
            GError         **error)
{
  sqlite3_stmt *stmt = kh_store_prepare_static (store, entity_sql (entity)->select, error);
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

static gboolean
drop_record (KhStore         *store,
             const KhEntity  *entity,
             const char      *id,
             GError         **error)
{
  g_autofree char *sql = g_strdup_printf ("DELETE FROM %s WHERE id = ?", entity->name);
  sqlite3_stmt *stmt = kh_store_prepare (store, sql, error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
  if (!step_done (store, stmt, "remove", error))
    return FALSE;
  if (!kh_journal_drop_base (store, entity->name, id, error))
    return FALSE;
  stmt = kh_store_prepare (store, "DELETE FROM conflict WHERE entity = ? AND record_id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, entity->name, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, id, -1, SQLITE_STATIC);
  return step_done (store, stmt, "conflict", error);
}

/* Remote records ------------------------------------------------------------------------------ */

typedef struct
{
  const KhEntity *entity;
  const char     *id;
  gint64          version;
  gboolean        deleted;
  json_object    *fields;         /* field → value; or NULL with values */
  const KhValue  *values;         /* one per field of the entity, when read without json-c */
  const char     *updated_by;
  const char     *updated_at;
  int             id_len;         /* the lengths of id, updated_by and updated_at, for binding */
  int             by_len;
  int             at_len;
} Remote;

/* The members of a RECORD, in the order the server writes them. */
enum { M_ENTITY, M_ID, M_VERSION, M_DELETED, M_FIELDS, M_UPDATED_BY, M_UPDATED_AT, N_MEMBERS };
static const char * const record_members[N_MEMBERS] = {
  "entity", "id", "version", "deleted", "fields", "updated_by", "updated_at"
};

/* The members of @record in @m (NULL where absent). In the server's order they are taken side
 * by side without a lookup, as bind_fields() does; in any other, they are looked up. */
static void
record_get_members (json_object *record,
                    json_object *m[N_MEMBERS])
{
  struct lh_entry *next = NULL;

  memset (m, 0, sizeof (json_object *) * N_MEMBERS);
  if (record == NULL || !json_object_is_type (record, json_type_object))
    return;
  next = lh_table_head (json_object_get_object (record));
  for (guint i = 0; i < N_MEMBERS; i++)
    if (next != NULL && *(const char *) lh_entry_k (next) == record_members[i][0]
        && strcmp (lh_entry_k (next), record_members[i]) == 0)
      {
        m[i] = lh_entry_v (next);
        next = lh_entry_next (next);
      }
  if (next != NULL)
    for (guint i = 0; i < N_MEMBERS; i++)
      m[i] = get_member (record, record_members[i]);
}

static const char *
string_len (json_object *v,
            int         *len)
{
  if (v == NULL || !json_object_is_type (v, json_type_string))
    {
      *len = -1;
      return NULL;
    }
  *len = json_object_get_string_len (v);
  return json_object_get_string (v);
}

/* Checks the members of a record from the server (@m, from record_get_members() or read
 * from the page's text): known entity, a UUID, a positive version, a boolean deleted flag,
 * fields of the registry with values of the right types. */
static gboolean
check_members (json_object  *m[N_MEMBERS],
               GError      **error)
{
  const char *entity_name;
  const char *id;
  json_object *version = m[M_VERSION];
  json_object *deleted = m[M_DELETED];
  json_object *fields = m[M_FIELDS];
  json_object *by = m[M_UPDATED_BY];
  json_object *at = m[M_UPDATED_AT];
  const KhEntity *entity;
  g_autoptr(GError) local_error = NULL;
  int len;

  entity_name = string_len (m[M_ENTITY], &len);
  id = string_len (m[M_ID], &len);
  if (entity_name == NULL || (entity = kh_entity_lookup (entity_name)) == NULL)
    return bad_answer (error, _("a record of an unknown kind"));
  if (id == NULL || !kh_uuid_is_valid (id))
    return bad_answer (error, _("a record id is not a UUID"));
  if (version == NULL || !json_object_is_type (version, json_type_int) || json_object_get_int64 (version) <= 0)
    return bad_answer (error, _("a record version is not a positive integer"));
  if (deleted == NULL || !json_object_is_type (deleted, json_type_boolean))
    return bad_answer (error, _("a record's deleted flag is not true or false"));
  if (fields == NULL || !json_object_is_type (fields, json_type_object))
    return bad_answer (error, _("a record's fields are not an object"));
  if (by != NULL && !json_object_is_type (by, json_type_string))
    return bad_answer (error, _("a record's author is not text"));
  if (at != NULL && !json_object_is_type (at, json_type_string))
    return bad_answer (error, _("a record's time is not text"));
  /* The wire's limits (sync/kh-codec.h): a time is short, any other text under 64 KiB. */
  if ((at != NULL && json_object_get_string_len (at) > 64)
      || (by != NULL && json_object_get_string_len (by) > 65536))
    return bad_answer (error, _("a record's time or author is too long"));
  if (!kh_entity_validate (entity, fields, FALSE, &local_error))
    {
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID,
                   _("The server sent a record that is not valid (%s “%s”: %s); nothing was changed."),
                   _(entity->label), id, local_error->message);
      return FALSE;
    }
  return TRUE;
}

/* Checks the form of a RECORD from the server (check_members()). */
gboolean
kh_replica_check_record (json_object  *record,
                         GError      **error)
{
  json_object *m[N_MEMBERS];

  if (record == NULL || !json_object_is_type (record, json_type_object))
    return bad_answer (error, _("a record is not an object"));
  record_get_members (record, m);
  return check_members (m, error);
}

/* The members of a record that check_members() accepted, as a Remote. */
static void
remote_from_members (Remote      *r,
                     json_object *m[N_MEMBERS])
{
  int entity_len;

  r->values = NULL;
  r->entity = kh_entity_lookup (string_len (m[M_ENTITY], &entity_len));
  r->id = string_len (m[M_ID], &r->id_len);
  r->version = json_object_get_int64 (m[M_VERSION]);
  r->deleted = json_object_get_boolean (m[M_DELETED]);
  r->fields = m[M_FIELDS];
  r->updated_by = string_len (m[M_UPDATED_BY], &r->by_len);
  r->updated_at = string_len (m[M_UPDATED_AT], &r->at_len);
  if (r->updated_at == NULL)
    {
      r->updated_at = "1970-01-01T00:00:00Z";
      r->at_len = -1;
    }
}

/* Pages --------------------------------------------------------------------------------------- */

struct _KhReplicaPage
{
  json_object  *records;   /* a reference, for a page made from the list; or NULL */
  json_object  *removed;   /* a reference, or NULL */
  json_object **members;   /* for a page read from its text, the members of the records read
                            * with json-c (N_MEMBERS each); owned */
  guint         n_members; /* records in members */
  GPtrArray    *blocks;    /* the memory of the records read without json-c */
  GPtrArray    *objects;   /* their JSON fields' values */
  Remote       *remotes;   /* one per record, pointing into records, members or blocks */
  guint8       *repeated;  /* per record: an earlier record of the page has its id */
  GHashTable   *id_lists;  /* entity → the JSON list (GString) of its ids, each once */
  guint         n_records;
};

void
kh_replica_page_free (KhReplicaPage *page)
{
  if (page == NULL)
    return;
  json_object_put (page->records);
  json_object_put (page->removed);
  for (guint i = 0; page->members != NULL && i < page->n_members * N_MEMBERS; i++)
    json_object_put (page->members[i]);
  g_free (page->members);
  g_clear_pointer (&page->blocks, g_ptr_array_unref);
  g_clear_pointer (&page->objects, g_ptr_array_unref);
  g_free (page->remotes);
  g_free (page->repeated);
  g_clear_pointer (&page->id_lists, g_hash_table_unref);
  g_free (page);
}

guint
kh_replica_page_get_n_records (KhReplicaPage *page)
{
  return page->n_records;
}

static void
string_free (gpointer data)
{
  g_string_free (data, TRUE);
}

static KhReplicaPage *
page_alloc (guint n_records)
{
  KhReplicaPage *page = g_new0 (KhReplicaPage, 1);

  page->n_records = n_records;
  page->remotes = g_new0 (Remote, n_records + 1);
  page->repeated = g_new0 (guint8, n_records + 1);
  page->id_lists = g_hash_table_new_full (NULL, NULL, NULL, string_free);
  return page;
}

/* Finds, from the page's remotes, the records sent twice and the list of ids of each entity
 * for records_absent(). */
/* The hash of a record id, which every reader checked to be a UUID: its last sixteen
 * characters, random in the ids the app makes (the first twelve of a version 7 id are its
 * time, alike in a whole page). A server that sends ids alike there on purpose only makes
 * its own page slower to read. */
static guint
id_hash (gconstpointer key)
{
  const char *id = key;
  guint64 a, b;

  memcpy (&a, id + 20, 8);
  memcpy (&b, id + 28, 8);
  return (guint) ((((a * G_GUINT64_CONSTANT (0x9E3779B97F4A7C15)) ^ b)
                   * G_GUINT64_CONSTANT (0x9E3779B97F4A7C15)) >> 32);
}

static void
page_index (KhReplicaPage *page)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (id_hash, g_str_equal);
  GHashTableIter iter;
  gpointer list;

  for (guint i = 0; i < page->n_records; i++)
    {
      const Remote *r = &page->remotes[i];
      GString *ids;

      /* An id twice (in any entity: ids are UUIDs) is a record sent twice. */
      if (!g_hash_table_add (seen, (gpointer) r->id))
        {
          page->repeated[i] = TRUE;
          continue;
        }
      ids = g_hash_table_lookup (page->id_lists, r->entity);
      if (ids == NULL)
        {
          ids = g_string_sized_new (40 * page->n_records);
          g_string_append_c (ids, '[');
          g_hash_table_insert (page->id_lists, (gpointer) r->entity, ids);
        }
      else
        g_string_append_c (ids, ',');
      /* Checked to be a UUID: nothing to escape. */
      g_string_append_c (ids, '"');
      g_string_append_len (ids, r->id, r->id_len);
      g_string_append_c (ids, '"');
    }
  g_hash_table_iter_init (&iter, page->id_lists);
  while (g_hash_table_iter_next (&iter, NULL, &list))
    g_string_append_c (list, ']');
}

/* Checks and keeps the list of records the server took out of the replica's scope. */
gboolean
kh_replica_page_set_removed (KhReplicaPage  *page,
                             json_object    *removed,
                             GError        **error)
{
  size_t n_removed;

  if (removed != NULL && !json_object_is_type (removed, json_type_array))
    return bad_answer (error, _("the removed records are not a list"));
  n_removed = removed ? json_object_array_length (removed) : 0;
  for (size_t i = 0; i < n_removed; i++)
    {
      json_object *item = json_object_array_get_idx (removed, i);
      const char *entity = get_str (item, "entity");
      const char *id = get_str (item, "id");

      if (entity == NULL || kh_entity_lookup (entity) == NULL || id == NULL || !kh_uuid_is_valid (id))
        return bad_answer (error, _("a removed record is not an entity and an id"));
    }
  json_object_put (page->removed);
  page->removed = json_object_get (removed);
  return TRUE;
}

/* Checks a page's lists and every record in them, without a database, and reads what applying
 * them needs. */
KhReplicaPage *
kh_replica_page_new (json_object  *records,
                     json_object  *removed,
                     GError      **error)
{
  g_autoptr(KhReplicaPage) page = NULL;

  if (records == NULL || !json_object_is_type (records, json_type_array))
    {
      bad_answer (error, _("the records are not a list"));
      return NULL;
    }

  page = page_alloc (json_object_array_length (records));
  page->records = json_object_get (records);
  for (guint i = 0; i < page->n_records; i++)
    {
      json_object *rec = json_object_array_get_idx (records, i);
      json_object *m[N_MEMBERS];

      if (!kh_replica_check_record (rec, error))
        return NULL;
      record_get_members (rec, m);
      remote_from_members (&page->remotes[i], m);
    }
  page_index (page);
  if (!kh_replica_page_set_removed (page, removed, error))
    return NULL;
  return g_steal_pointer (&page);
}

/* Reading a page from its text -----------------------------------------------------------------
 *
 * A page of a first pull holds thousands of records. Parsed by json-c, each is an object of
 * seven members whose fields are an object of their own: two hash tables, every name copied,
 * every value an object, some fifty small allocations per record and as many frees; that was
 * most of the work of receiving a page. The reader here walks the text of the page's
 * "records" list itself and makes only what the writer reads: the members' values and the
 * fields object, whose names are the registry's own strings (not copied). The rest of the
 * page (its header, the removed records) is left to json-c, as any other answer. It reads
 * JSON as json-c in strict mode does: what json-c refuses, it refuses; a control character in a
 * string is taken as it is and half a surrogate pair becomes U+FFFD, as json-c takes them (the
 * fields' own checks refuse control characters). */

#define READ_MAX_DEPTH 32   /* as KH_CODEC_MAX_DEPTH in sync/kh-codec.h */

typedef struct
{
  const char *text;
  const char *p;
  const char *end;
  int         depth;
  GString    *scratch;  /* a string with escapes, decoded */
} Reader;

static gboolean
read_fail (Reader  *rd,
           GError **error)
{
  if (rd->p >= rd->end)
    g_set_error_literal (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID, _("the JSON ends too early"));
  else
    g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID, _("not valid JSON at byte %zu"),
                 (size_t) (rd->p - rd->text));
  return FALSE;
}

static gboolean
read_deeper (Reader  *rd,
             GError **error)
{
  if (++rd->depth <= READ_MAX_DEPTH)
    return TRUE;
  g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID, _("nested too deep at byte %zu"),
               (size_t) (rd->p - rd->text));
  return FALSE;
}

static void
read_space (Reader *rd)
{
  while (rd->p < rd->end && (*rd->p == ' ' || *rd->p == '\n' || *rd->p == '\r' || *rd->p == '\t'))
    rd->p++;
}

/* Whether the next character (after white space) is @c; taken if it is. */
static gboolean
read_char (Reader *rd,
           char    c)
{
  read_space (rd);
  if (rd->p < rd->end && *rd->p == c)
    {
      rd->p++;
      return TRUE;
    }
  return FALSE;
}

static int
hex4 (const char *p)
{
  int v = 0;

  for (int i = 0; i < 4; i++)
    {
      int d = g_ascii_xdigit_value (p[i]);

      if (d < 0)
        return -1;
      v = v * 16 + d;
    }
  return v;
}

/* Reads the string at the reader: @out is its text in place when it has no escapes, else
 * decoded in rd->scratch (until the next string). */
static gboolean
read_string (Reader      *rd,
             const char **out,
             gsize       *len,
             GError     **error)
{
  const char *start;
  const char *quote;
  const char *escape;

  read_space (rd);
  if (rd->p >= rd->end || *rd->p != '"')
    return read_fail (rd, error);
  start = ++rd->p;
  /* Most strings have no escape: found with memchr(), many bytes at a time. */
  quote = memchr (start, '"', rd->end - start);
  escape = memchr (start, '\\', (quote != NULL ? quote : rd->end) - start);
  if (quote != NULL && escape == NULL)
    {
      *out = start;
      *len = quote - start;
      rd->p = quote + 1;
      return TRUE;
    }
  rd->p = escape != NULL ? escape : rd->end;

  g_string_truncate (rd->scratch, 0);
  g_string_append_len (rd->scratch, start, rd->p - start);
  while (rd->p < rd->end)
    {
      guchar c = *rd->p;
      int u;

      if (c == '"')
        {
          rd->p++;
          *out = rd->scratch->str;
          *len = rd->scratch->len;
          return TRUE;
        }
      if (c != '\\')
        {
          g_string_append_c (rd->scratch, (char) c);
          rd->p++;
          continue;
        }
      if (rd->end - rd->p < 2)
        return read_fail (rd, error);
      c = rd->p[1];
      switch (c)
        {
        case '"':
        case '\\':
        case '/':
          g_string_append_c (rd->scratch, (char) c);
          break;
        case 'b':
          g_string_append_c (rd->scratch, '\b');
          break;
        case 'f':
          g_string_append_c (rd->scratch, '\f');
          break;
        case 'n':
          g_string_append_c (rd->scratch, '\n');
          break;
        case 'r':
          g_string_append_c (rd->scratch, '\r');
          break;
        case 't':
          g_string_append_c (rd->scratch, '\t');
          break;
        case 'u':
          if (rd->end - rd->p < 6 || (u = hex4 (rd->p + 2)) < 0)
            return read_fail (rd, error);
          if (u >= 0xD800 && u <= 0xDBFF)
            {
              /* A pair: the high half, then the low one. */
              int lo = rd->end - rd->p >= 12 && rd->p[6] == '\\' && rd->p[7] == 'u' ? hex4 (rd->p + 8) : -1;

              if (lo >= 0xDC00 && lo <= 0xDFFF)
                {
                  u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
                  rd->p += 6;
                }
              else
                u = 0xFFFD;  /* half a pair: the replacement character, as json-c writes it */
            }
          else if (u >= 0xDC00 && u <= 0xDFFF)
            u = 0xFFFD;
          g_string_append_unichar (rd->scratch, (gunichar) u);
          rd->p += 4;
          break;
        default:
          return read_fail (rd, error);
        }
      rd->p += 2;
    }
  return read_fail (rd, error);
}

static gboolean
read_digits (Reader *rd)
{
  const char *start = rd->p;

  while (rd->p < rd->end && g_ascii_isdigit (*rd->p))
    rd->p++;
  return rd->p > start;
}

/* Steps over the number at the reader; @whole says it has no fraction and no exponent. */
static gboolean
scan_number (Reader    *rd,
             gboolean  *whole,
             GError   **error)
{
  *whole = TRUE;
  if (*rd->p == '-')
    rd->p++;
  if (rd->p < rd->end && *rd->p == '0')
    rd->p++;
  else if (!read_digits (rd))
    return read_fail (rd, error);
  if (rd->p < rd->end && *rd->p == '.')
    {
      *whole = FALSE;
      rd->p++;
      if (!read_digits (rd))
        return read_fail (rd, error);
    }
  if (rd->p < rd->end && (*rd->p == 'e' || *rd->p == 'E'))
    {
      *whole = FALSE;
      rd->p++;
      if (rd->p < rd->end && (*rd->p == '+' || *rd->p == '-'))
        rd->p++;
      if (!read_digits (rd))
        return read_fail (rd, error);
    }
  return TRUE;
}

/* The whole number of @n characters at @start (scan_number()), when it fits in 64 bits. */
static gboolean
whole_number (const char *start,
              gsize       n,
              gint64     *v)
{
  char buf[32];

  if (n >= sizeof buf)
    return FALSE;  /* more digits than 64 bits hold */
  memcpy (buf, start, n);
  buf[n] = '\0';
  errno = 0;
  *v = g_ascii_strtoll (buf, NULL, 10);
  return errno == 0;
}

static gboolean
read_number (Reader       *rd,
             json_object **out,
             GError      **error)
{
  const char *start = rd->p;
  gboolean whole;
  g_autofree char *text = NULL;
  gint64 v;

  if (!scan_number (rd, &whole, error))
    return FALSE;
  if (out == NULL)
    return TRUE;
  if (whole && whole_number (start, rd->p - start, &v))
    *out = json_object_new_int64 (v);
  else
    {
      text = g_strndup (start, rd->p - start);
      *out = json_object_new_double (g_ascii_strtod (text, NULL));
    }
  return TRUE;
}

static gboolean read_value (Reader       *rd,
                            json_object **out,
                            GError      **error);

typedef gboolean (*ReadItem) (Reader   *rd,
                              gpointer  data,
                              GError  **error);

/* Reads the items between @open and @close, separated by commas (an object's members, an
 * array's values), each by @item. */
static gboolean
read_list (Reader    *rd,
           char       open,
           char       close,
           ReadItem   item,
           gpointer   data,
           GError   **error)
{
  if (!read_char (rd, open))
    return read_fail (rd, error);
  if (!read_deeper (rd, error))
    return FALSE;
  if (!read_char (rd, close))
    for (;;)
      {
        if (!item (rd, data, error))
          return FALSE;
        if (read_char (rd, ','))
          continue;
        if (read_char (rd, close))
          break;
        return read_fail (rd, error);
      }
  rd->depth--;
  return TRUE;
}

/* The member's name and the colon after it. */
static gboolean
read_name (Reader      *rd,
           const char **name,
           gsize       *len,
           GError     **error)
{
  if (!read_string (rd, name, len, error))
    return FALSE;
  if (!read_char (rd, ':'))
    return read_fail (rd, error);
  return TRUE;
}

/* The field of @entity named by the @key_len bytes at @key. In the registry's order each name
 * is the next field on from @cursor, found without a search; @cursor is left after it. */
static const KhField *
find_field (const KhEntity *entity,
            const char     *key,
            gsize           key_len,
            guint          *cursor)
{
  for (guint pass = 0; pass < 2; pass++)
    for (guint j = pass == 0 ? *cursor : 0; j < entity->n_fields; j++)
      if (entity->fields[j].name[0] == key[0] && strncmp (entity->fields[j].name, key, key_len) == 0
          && entity->fields[j].name[key_len] == '\0')
        {
          *cursor = j + 1;
          return &entity->fields[j];
        }
  return NULL;
}

typedef struct
{
  json_object    *obj;     /* NULL: only checked */
  const KhEntity *entity;  /* the members are its fields */
  guint           cursor;  /* the field after the last one found */
} ObjectRead;

static gboolean
read_member (Reader   *rd,
             gpointer  data,
             GError  **error)
{
  ObjectRead *o = data;
  const char *key;
  gsize key_len;
  const KhField *field = NULL;
  g_autofree char *copy = NULL;
  json_object *value = NULL;

  if (!read_name (rd, &key, &key_len, error))
    return FALSE;
  if (o->obj != NULL && o->entity != NULL)
    field = find_field (o->entity, key, key_len, &o->cursor);
  if (o->obj != NULL && field == NULL)
    copy = g_strndup (key, key_len);  /* the value may take the scratch */
  if (!read_value (rd, o->obj != NULL ? &value : NULL, error))
    return FALSE;
  if (field != NULL)
    json_object_object_add_ex (o->obj, field->name, value, JSON_C_OBJECT_ADD_CONSTANT_KEY);
  else if (o->obj != NULL)
    json_object_object_add (o->obj, copy, value);
  return TRUE;
}

/* Reads an object (only checks it when @out is NULL); with @entity, its members are that
 * entity's fields, named by the registry's own strings. */
static gboolean
read_object (Reader          *rd,
             const KhEntity  *entity,
             json_object    **out,
             GError         **error)
{
  ObjectRead o = { out != NULL ? json_object_new_object () : NULL, entity, 0 };

  if (!read_list (rd, '{', '}', read_member, &o, error))
    {
      json_object_put (o.obj);
      return FALSE;
    }
  if (out != NULL)
    *out = o.obj;
  return TRUE;
}

static gboolean
read_element (Reader   *rd,
              gpointer  data,
              GError  **error)
{
  json_object *array = data;
  json_object *value = NULL;

  if (!read_value (rd, array != NULL ? &value : NULL, error))
    return FALSE;
  if (array != NULL)
    json_object_array_add (array, value);
  return TRUE;
}

static gboolean
read_array (Reader       *rd,
            json_object **out,
            GError      **error)
{
  json_object *array = out != NULL ? json_object_new_array () : NULL;

  if (!read_list (rd, '[', ']', read_element, array, error))
    {
      json_object_put (array);
      return FALSE;
    }
  if (out != NULL)
    *out = array;
  return TRUE;
}

static gboolean
read_word (Reader     *rd,
           const char *word)
{
  gsize n = strlen (word);

  if ((gsize) (rd->end - rd->p) < n || memcmp (rd->p, word, n) != 0)
    return FALSE;
  rd->p += n;
  return TRUE;
}

/* Reads any value into @out (NULL for JSON null), or only checks it when @out is NULL. */
static gboolean
read_value (Reader       *rd,
            json_object **out,
            GError      **error)
{
  read_space (rd);
  if (rd->p >= rd->end)
    return read_fail (rd, error);
  switch (*rd->p)
    {
    case '"':
      {
        const char *text;
        gsize len;

        if (!read_string (rd, &text, &len, error))
          return FALSE;
        if (out != NULL)
          *out = json_object_new_string_len (text, (int) len);
        return TRUE;
      }
    case '{':
      return read_object (rd, NULL, out, error);
    case '[':
      return read_array (rd, out, error);
    case 't':
      if (!read_word (rd, "true"))
        return read_fail (rd, error);
      if (out != NULL)
        *out = json_object_new_boolean (TRUE);
      return TRUE;
    case 'f':
      if (!read_word (rd, "false"))
        return read_fail (rd, error);
      if (out != NULL)
        *out = json_object_new_boolean (FALSE);
      return TRUE;
    case 'n':
      if (!read_word (rd, "null"))
        return read_fail (rd, error);
      if (out != NULL)
        *out = NULL;
      return TRUE;
    default:
      if (*rd->p == '-' || g_ascii_isdigit (*rd->p))
        return read_number (rd, out, error);
      return read_fail (rd, error);
    }
}

/* Records read without json-c ------------------------------------------------------------------
 *
 * The usual record (the members the server writes, each once, fields of the registry with text,
 * whole numbers, true, false or null, or an object for a JSON field, every one of them valid)
 * is read into a Remote whose
 * strings and values are in the page's blocks: a few large allocations for the page instead of
 * some twenty-five small ones per record, which the fetching thread spent most of its time
 * making and freeing. Anything else (a member twice, a field that is not known or not valid, a
 * list or an object as a value, text that is not JSON) is read again with json-c, which then
 * takes or refuses it as it always did. */

#define BLOCK_SIZE (256 * 1024)

typedef struct
{
  GPtrArray *blocks;
  GPtrArray *objects;  /* the values of JSON fields, json-c's */
  char      *next;
  gsize      left;
  const KhEntity *last_entity;  /* the record before's: most records are of its entity */
} Blocks;

static gpointer
blocks_alloc (Blocks *b,
              gsize   n)
{
  gpointer p;

  n = (n + 7) & ~(gsize) 7;
  if (n > b->left)
    {
      gsize size = MAX (n, BLOCK_SIZE);

      b->next = g_malloc (size);
      b->left = size;
      g_ptr_array_add (b->blocks, b->next);
    }
  p = b->next;
  b->next += n;
  b->left -= n;
  return p;
}

/* The string at the reader, NUL-terminated in the blocks; FALSE for one holding a NUL. */
static gboolean
read_plain_string (Reader      *rd,
                   Blocks      *b,
                   const char **out,
                   int         *len)
{
  const char *text;
  gsize n;
  char *copy;

  if (!read_string (rd, &text, &n, NULL) || n > G_MAXINT
      || (text == rd->scratch->str && memchr (text, '\0', n) != NULL))
    return FALSE;
  copy = blocks_alloc (b, n + 1);
  memcpy (copy, text, n);
  copy[n] = '\0';
  *out = copy;
  *len = (int) n;
  return TRUE;
}

/* A value at the reader: text, a whole number, true, false or null; an object or a list
 * only for a JSON field (@field; NULL for none). */
static gboolean
read_plain_value (Reader        *rd,
                  Blocks        *b,
                  const KhField *field,
                  KhValue       *v)
{
  const char *start;
  gboolean whole;

  read_space (rd);
  if (rd->p >= rd->end)
    return FALSE;
  switch (*rd->p)
    {
    case '{':
    case '[':
      if (field == NULL || field->type != KH_FIELD_JSON || !read_value (rd, &v->json, NULL))
        return FALSE;
      v->kind = KH_VALUE_OTHER;
      g_ptr_array_add (b->objects, v->json);
      return TRUE;
    case '"':
      /* The page was checked to be UTF-8 with no NUL, and so is what its escapes stand for. */
      v->kind = KH_VALUE_TEXT;
      v->utf8 = TRUE;
      return read_plain_string (rd, b, &v->text, &v->len);
    case 't':
      v->kind = KH_VALUE_BOOL;
      v->number = 1;
      return read_word (rd, "true");
    case 'f':
      v->kind = KH_VALUE_BOOL;
      v->number = 0;
      return read_word (rd, "false");
    case 'n':
      v->kind = KH_VALUE_NULL;
      return read_word (rd, "null");
    default:
      start = rd->p;
      v->kind = KH_VALUE_INT;
      return (*rd->p == '-' || g_ascii_isdigit (*rd->p)) && scan_number (rd, &whole, NULL) && whole
             && whole_number (start, rd->p - start, &v->number);
    }
}

/* The fields object of a record of @entity into @values (one per field, zeroed). */
static gboolean
read_plain_fields (Reader         *rd,
                   Blocks         *b,
                   const KhEntity *entity,
                   KhValue        *values)
{
  guint cursor = 0;

  if (!read_char (rd, '{'))
    return FALSE;
  if (read_char (rd, '}'))
    return TRUE;
  for (;;)
    {
      const char *key;
      gsize key_len;
      const KhField *field;
      KhValue *v;

      if (!read_name (rd, &key, &key_len, NULL)
          || (field = find_field (entity, key, key_len, &cursor)) == NULL)
        return FALSE;
      v = &values[field - entity->fields];
      if (v->kind != KH_VALUE_ABSENT || !read_plain_value (rd, b, field, v)
          || !kh_field_validate_value (field, v, NULL))
        return FALSE;
      if (read_char (rd, ','))
        continue;
      return read_char (rd, '}');
    }
}

/* A usual record at the reader into @r; FALSE for anything else, read again with json-c. */
static gboolean
read_plain_record (Reader *rd,
                   Blocks *b,
                   Remote *r)
{
  guint seen = 0;
  KhValue *values = NULL;
  const char *entity_name = NULL;
  int len;

  memset (r, 0, sizeof *r);
  r->at_len = r->by_len = -1;
  if (!read_char (rd, '{') || !read_deeper (rd, NULL) || read_char (rd, '}'))
    return FALSE;
  for (;;)
    {
      const char *key;
      gsize key_len;
      int member = -1;
      gboolean ok;

      if (!read_name (rd, &key, &key_len, NULL))
        return FALSE;
      for (int i = 0; i < N_MEMBERS; i++)
        if (record_members[i][0] == key[0] && strncmp (record_members[i], key, key_len) == 0
            && record_members[i][key_len] == '\0')
          {
            member = i;
            break;
          }
      if (member >= 0 && (seen & (1u << member)))
        return FALSE;
      if (member >= 0)
        seen |= 1u << member;
      read_space (rd);
      switch (member)
        {
        case M_ENTITY:
          ok = read_plain_string (rd, b, &entity_name, &len);
          if (ok && b->last_entity != NULL && strcmp (b->last_entity->name, entity_name) == 0)
            r->entity = b->last_entity;
          else if (ok)
            ok = (r->entity = b->last_entity = kh_entity_lookup (entity_name)) != NULL;
          break;
        case M_ID:
          ok = read_plain_string (rd, b, &r->id, &r->id_len) && kh_uuid_is_valid (r->id);
          break;
        case M_VERSION:
          {
            KhValue v = { 0 };

            ok = read_plain_value (rd, b, NULL, &v) && v.kind == KH_VALUE_INT && v.number > 0;
            r->version = v.number;
          }
          break;
        case M_DELETED:
          {
            KhValue v = { 0 };

            ok = read_plain_value (rd, b, NULL, &v) && v.kind == KH_VALUE_BOOL;
            r->deleted = v.number != 0;
          }
          break;
        case M_FIELDS:
          /* The server names the entity first. */
          ok = r->entity != NULL;
          if (ok)
            {
              values = blocks_alloc (b, sizeof (KhValue) * MAX (r->entity->n_fields, 1));
              memset (values, 0, sizeof (KhValue) * r->entity->n_fields);
              ok = read_plain_fields (rd, b, r->entity, values);
            }
          break;
        case M_UPDATED_BY:
        case M_UPDATED_AT:
          {
            const char **text = member == M_UPDATED_BY ? &r->updated_by : &r->updated_at;
            int *n = member == M_UPDATED_BY ? &r->by_len : &r->at_len;

            if (rd->p < rd->end && *rd->p == 'n')
              ok = read_word (rd, "null");
            else
              ok = read_plain_string (rd, b, text, n);
          }
          break;
        default:
          ok = read_value (rd, NULL, NULL);  /* a member the client does not know: skipped */
          break;
        }
      if (!ok)
        return FALSE;
      if (read_char (rd, ','))
        continue;
      if (!read_char (rd, '}'))
        return FALSE;
      break;
    }
  rd->depth--;
  /* The wire's limits (sync/kh-codec.h), as check_members(). */
  if (values == NULL || !(seen & (1u << M_ID)) || !(seen & (1u << M_VERSION)) || !(seen & (1u << M_DELETED))
      || r->at_len > 64 || r->by_len > 65536)
    return FALSE;
  r->values = values;
  if (r->updated_at == NULL)
    {
      r->updated_at = "1970-01-01T00:00:00Z";
      r->at_len = -1;
    }
  return TRUE;
}

/* One member of a record into the members (NULL: only checked). */
static gboolean
read_record_member (Reader   *rd,
                    gpointer  data,
                    GError  **error)
{
  json_object **m = data;
  const char *key;
  gsize key_len;
  int member = -1;
  json_object *value = NULL;
  gboolean ok;

  if (!read_name (rd, &key, &key_len, error))
    return FALSE;
  for (int i = 0; m != NULL && i < N_MEMBERS; i++)
    if (record_members[i][0] == key[0] && strncmp (record_members[i], key, key_len) == 0
        && record_members[i][key_len] == '\0')
      {
        member = i;
        break;
      }
  read_space (rd);
  if (member == M_FIELDS && rd->p < rd->end && *rd->p == '{')
    {
      /* The server names the entity first; fields before it are read as any object. */
      const char *entity = m[M_ENTITY] != NULL && json_object_is_type (m[M_ENTITY], json_type_string)
                           ? json_object_get_string (m[M_ENTITY]) : NULL;

      ok = read_object (rd, entity != NULL ? kh_entity_lookup (entity) : NULL, &value, error);
    }
  else
    ok = read_value (rd, member >= 0 ? &value : NULL, error);
  if (!ok)
    return FALSE;
  if (member >= 0)
    {
      json_object_put (m[member]);
      m[member] = value;
    }
  return TRUE;
}

static void
members_clear (json_object *m[N_MEMBERS])
{
  for (int i = 0; i < N_MEMBERS; i++)
    g_clear_pointer (&m[i], json_object_put);
}

typedef struct
{
  GArray  *members;      /* N_MEMBERS per record read with json-c, checked */
  GArray  *remotes;      /* one per record, checked */
  Blocks   blocks;
  guint    n_records;
  GError **check_error;  /* why a record is not valid; the rest are then only read through */
} RecordsRead;

/* One record of the list: its members kept when check_members() accepts them. */
static gboolean
read_record (Reader   *rd,
             gpointer  data,
             GError  **error)
{
  RecordsRead *r = data;
  gboolean keep = *r->check_error == NULL;

  r->n_records++;
  read_space (rd);
  if (keep)
    {
      const char *start = rd->p;
      int depth = rd->depth;
      Remote remote;

      if (read_plain_record (rd, &r->blocks, &remote))
        {
          g_array_append_val (r->remotes, remote);
          return TRUE;
        }
      rd->p = start;
      rd->depth = depth;
    }
  if (rd->p < rd->end && *rd->p == '{')
    {
      json_object *m[N_MEMBERS] = { NULL };

      if (!read_list (rd, '{', '}', read_record_member, keep ? m : NULL, error))
        {
          members_clear (m);
          return FALSE;
        }
      if (keep && check_members (m, r->check_error))
        {
          Remote remote;

          g_array_append_vals (r->members, m, N_MEMBERS);
          remote_from_members (&remote, m);
          g_array_append_val (r->remotes, remote);
        }
      else
        members_clear (m);
      return TRUE;
    }
  if (keep)
    bad_answer (r->check_error, _("a record is not an object"));
  return read_value (rd, NULL, error);
}

typedef struct
{
  const char  *text;
  RecordsRead  records;
  gsize        list_start;  /* where the records list is in the text */
  gsize        list_end;
  gboolean     found;
} PageRead;

/* One member of the page: the records list read here, any other only checked. */
static gboolean
read_page_member (Reader   *rd,
                  gpointer  data,
                  GError  **error)
{
  PageRead *pr = data;
  const char *key;
  gsize key_len;
  gboolean records;

  if (!read_name (rd, &key, &key_len, error))
    return FALSE;
  records = key_len == 7 && memcmp (key, "records", 7) == 0;
  read_space (rd);
  if (records && pr->found)
    {
      g_set_error_literal (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID, _("the records are there twice"));
      return FALSE;
    }
  if (!records || rd->p >= rd->end || *rd->p != '[')
    return read_value (rd, NULL, error);
  pr->list_start = rd->p - pr->text;
  if (!read_list (rd, '[', ']', read_record, &pr->records, error))
    return FALSE;
  pr->list_end = rd->p - pr->text;
  pr->found = TRUE;
  return TRUE;
}

/* Reads the records of a page of changes from the page's TEXT (a JSON object), checked
 * record by record: the first record that is not valid gives @check_error (the page is then
 * not to be applied). @rest is the text with the records list left empty, for json-c (the
 * header; kh_replica_page_set_removed()). Text that is not JSON gives NULL and @error; JSON
 * that is not an object, or has no records list, is left whole in @rest, for its reader to
 * refuse. */
KhReplicaPage *
kh_replica_page_read (const char  *text,
                      gsize        len,
                      char       **rest,
                      GError     **check_error,
                      GError     **error)
{
  g_autoptr(GString) scratch = g_string_new (NULL);
  Reader rd = { text, text, text + len, 0, scratch };
  PageRead pr = { text, { g_array_new (FALSE, FALSE, sizeof (json_object *)),
                          g_array_new (FALSE, FALSE, sizeof (Remote)),
                          { g_ptr_array_new_with_free_func (g_free),
                            g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_put), NULL, 0 },
                          0, check_error },
                  0, 0, FALSE };
  KhReplicaPage *page;
  gboolean ok;

  g_return_val_if_fail (text != NULL || len == 0, NULL);
  g_return_val_if_fail (rest != NULL && check_error != NULL, NULL);

  *rest = NULL;
  read_space (&rd);
  if (!kh_utf8_validate (text, len) || rd.p >= rd.end || *rd.p != '{')
    {
      g_array_unref (pr.records.members);
      g_array_unref (pr.records.remotes);
      g_ptr_array_unref (pr.records.blocks.blocks);
      g_ptr_array_unref (pr.records.blocks.objects);
      *rest = g_strndup (text, len);
      page = page_alloc (0);
      page_index (page);
      return page;
    }
  ok = read_list (&rd, '{', '}', read_page_member, &pr, error);
  read_space (&rd);
  if (ok && rd.p != rd.end)
    ok = read_fail (&rd, error);  /* only white space after the object */
  if (!ok)
    {
      for (guint i = 0; i < pr.records.members->len; i++)
        json_object_put (g_array_index (pr.records.members, json_object *, i));
      g_array_unref (pr.records.members);
      g_array_unref (pr.records.remotes);
      g_ptr_array_unref (pr.records.blocks.blocks);
      g_ptr_array_unref (pr.records.blocks.objects);
      g_clear_error (check_error);
      return NULL;
    }

  if (pr.found)
    *rest = g_strdup_printf ("%.*s[]%.*s", (int) pr.list_start, text, (int) (len - pr.list_end), text + pr.list_end);
  else
    *rest = g_strndup (text, len);
  page = page_alloc (pr.records.n_records);
  page->n_members = pr.records.members->len / N_MEMBERS;
  page->members = (json_object **) (void *) g_array_free (pr.records.members, FALSE);
  page->blocks = pr.records.blocks.blocks;
  page->objects = pr.records.blocks.objects;
  if (*check_error == NULL)
    {
      g_assert (pr.records.remotes->len == page->n_records);
      if (page->n_records > 0)
        memcpy (page->remotes, pr.records.remotes->data, sizeof (Remote) * page->n_records);
      page_index (page);
    }
  g_array_unref (pr.records.remotes);
  return page;
}

/* New records -------------------------------------------------------------------------------- */

/* Records of one entity that are not in the replica yet, the common case of a first pull:
 * they are written together, a multi-row INSERT for the records and one for their audit rows,
 * in the page's order. A page's records are written in order: the batch is written before any
 * record that is not new, before a second record with an id already in it, and at the end. */
typedef struct
{
  const KhEntity *entity;
  GArray         *items;  /* of Remote, pointing into the page */
} NewRecords;

static void
new_records_init (NewRecords *b)
{
  b->entity = NULL;
  b->items = g_array_new (FALSE, FALSE, sizeof (Remote));
}

static void
new_records_clear (NewRecords *b)
{
  g_clear_pointer (&b->items, g_array_unref);
}

static void
bind_audit (sqlite3_stmt *stmt,
            int           col,
            const Remote *r)
{
  sqlite3_bind_text (stmt, col, r->entity->name, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, col + 1, r->id, r->id_len, SQLITE_STATIC);
  sqlite3_bind_text (stmt, col + 2, r->updated_at, r->at_len, SQLITE_STATIC);
  sqlite3_bind_text (stmt, col + 3, r->updated_by, r->by_len, SQLITE_STATIC);
  sqlite3_bind_text (stmt, col + 4, "remote", -1, SQLITE_STATIC);
  sqlite3_bind_null (stmt, col + 5);
  sqlite3_bind_null (stmt, col + 6);
  if (r->deleted)
    sqlite3_bind_text (stmt, col + 7, "deleted", -1, SQLITE_STATIC);
  else
    sqlite3_bind_null (stmt, col + 7);
}

static const char *
audit_many_sql (void)
{
  static char *sql;

  if (g_once_init_enter (&sql))
    {
      GString *s = g_string_new ("INSERT INTO audit (entity, record_id, at, actor, action, field, "
                                 "old_value, new_value) VALUES ");

      for (guint r = 0; r < KH_INSERT_ROWS_MAX; r++)
        g_string_append (s, r ? ", (?, ?, ?, ?, ?, ?, ?, ?)" : "(?, ?, ?, ?, ?, ?, ?, ?)");
      g_once_init_leave (&sql, g_string_free (s, FALSE));
    }
  return sql;
}

/* Writes the batch: the same rows and audit rows as apply_plain() writes for a new record. */
static gboolean
new_records_write (KhStore     *store,
                   NewRecords  *b,
                   GError     **error)
{
  const KhEntity *entity = b->entity;
  const EntitySql *sql;
  guint n = b->items->len;
  guint done = 0;

  if (n == 0)
    return TRUE;
  sql = entity_sql (entity);
  while (n - done >= sql->insert_rows)
    {
      sqlite3_stmt *stmt = kh_store_prepare_static (store, sql->insert_many, error);
      int col = 1;

      if (stmt == NULL)
        return FALSE;
      for (guint k = 0; k < sql->insert_rows; k++)
        {
          const Remote *r = &g_array_index (b->items, Remote, done + k);

          sqlite3_bind_int64 (stmt, col++, r->version);
          sqlite3_bind_int (stmt, col++, r->deleted ? 1 : 0);
          sqlite3_bind_text (stmt, col++, r->updated_at, r->at_len, SQLITE_STATIC);
          sqlite3_bind_text (stmt, col++, r->updated_by, r->by_len, SQLITE_STATIC);
          sqlite3_bind_text (stmt, col++, r->updated_at, r->at_len, SQLITE_STATIC);
          if (r->values != NULL)
            bind_values (stmt, col, entity, r->values);
          else
            bind_fields (stmt, col, entity, r->fields);
          col += entity->n_fields;
          sqlite3_bind_text (stmt, col++, r->id, r->id_len, SQLITE_STATIC);
        }
      if (!step_done (store, stmt, "insert", error))
        {
          g_prefix_error (error, _("Could not store %s from the server: "), _(entity->label));
          return FALSE;
        }
      done += sql->insert_rows;
    }
  for (guint k = done; k < n; k++)
    {
      const Remote *r = &g_array_index (b->items, Remote, k);

      if (!write_state (store, entity, r->id, TRUE, r->version, r->deleted, r->fields, r->values,
                        r->updated_at, r->updated_by, error))
        return FALSE;
    }

  done = 0;
  while (n - done >= KH_INSERT_ROWS_MAX)
    {
      sqlite3_stmt *stmt = kh_store_prepare_static (store, audit_many_sql (), error);

      if (stmt == NULL)
        return FALSE;
      for (guint k = 0; k < KH_INSERT_ROWS_MAX; k++)
        bind_audit (stmt, 1 + k * KH_AUDIT_COLUMNS, &g_array_index (b->items, Remote, done + k));
      if (!step_done (store, stmt, "audit", error))
        return FALSE;
      done += KH_INSERT_ROWS_MAX;
    }
  for (guint k = done; k < n; k++)
    {
      const Remote *r = &g_array_index (b->items, Remote, k);

      if (!kh_journal_add_audit (store, entity->name, r->id, r->updated_at, r->updated_by,
                               "remote", NULL, NULL, r->deleted ? "deleted" : NULL, error))
        return FALSE;
    }
  g_array_set_size (b->items, 0);
  return TRUE;
}

static gboolean
new_records_add (KhStore       *store,
                 NewRecords    *b,
                 const Remote  *r,
                 GError       **error)
{
  if (b->entity != r->entity && !new_records_write (store, b, error))
    return FALSE;
  b->entity = r->entity;
  g_array_append_vals (b->items, r, 1);
  return TRUE;
}

/* Overwrites a record that has no local changes with the server's state, with audit rows for
 * what changed. */
static gboolean
apply_plain (KhStore      *store,
             Remote       *r,
             json_object  *local,
             gboolean      force,
             GError      **error)
{
  const KhEntity *entity = r->entity;
  gboolean local_deleted;
  gboolean same = TRUE;

  if (local == NULL)
    {
      if (!write_state (store, entity, r->id, TRUE, r->version, r->deleted, r->fields, NULL,
                        r->updated_at, r->updated_by, error))
        return FALSE;
      return kh_journal_add_audit (store, entity->name, r->id, r->updated_at, r->updated_by,
                                 "remote", NULL, NULL, r->deleted ? "deleted" : NULL, error);
    }

  if (!force && json_object_get_int64 (get_member (local, "version")) > r->version)
    return TRUE; /* older than what we have */

  local_deleted = json_object_get_boolean (get_member (local, "deleted"));
  if (local_deleted != r->deleted || json_object_get_int64 (get_member (local, "version")) != r->version)
    same = FALSE;
  for (guint i = 0; same && i < entity->n_fields; i++)
    if (!json_equal (get_member (local, entity->fields[i].name), get_member (r->fields, entity->fields[i].name)))
      same = FALSE;
  if (same)
    return TRUE;

  if (!write_state (store, entity, r->id, FALSE, r->version, r->deleted, r->fields, NULL,
                    r->updated_at, r->updated_by, error))
    return FALSE;

  for (guint i = 0; i < entity->n_fields; i++)
    {
      const char *name = entity->fields[i].name;
      json_object *old = get_member (local, name);
      json_object *new = get_member (r->fields, name);

      if (!json_equal (old, new))
        {
          g_autofree char *old_text = kh_store_value_to_text (old);
          g_autofree char *new_text = kh_store_value_to_text (new);

          if (!kh_journal_add_audit (store, entity->name, r->id, r->updated_at, r->updated_by,
                                   "remote", name, old_text, new_text, error))
            return FALSE;
        }
    }
  if (local_deleted != r->deleted
      && !kh_journal_add_audit (store, entity->name, r->id, r->updated_at, r->updated_by, "remote",
                              KH_COLUMN_DELETED, local_deleted ? "true" : "false",
                              r->deleted ? "true" : "false", error))
    return FALSE;
  return kh_journal_drop_base (store, entity->name, r->id, error);
}

/* Whether @value is what one of the record's entries carried for @name when it was last sent
 * (and not refused): then the server's state holds the replica's own change. */
static gboolean
is_own_echo (GPtrArray   *entries,
             const char  *name,
             json_object *value)
{
  for (guint i = 0; i < entries->len; i++)
    {
      Entry *e = entries->pdata[i];
      json_object *v = NULL;

      if (e->sent == NULL || e->attempts == 0 || strcmp (e->state, "pending") != 0)
        continue;
      if (json_object_object_get_ex (e->sent, name, &v) && json_equal (v, value))
        return TRUE;
    }
  return FALSE;
}

/* The three-way merge of a record with unsent local changes. Returns the number of conflicts
 * raised in @n_conflicts. */
static gboolean
merge (KhStore      *store,
       Remote       *r,
       json_object  *local,
       gboolean      force,
       guint        *n_conflicts,
       GError      **error)
{
  const KhEntity *entity = r->entity;
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GHashTable) pending = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) open = NULL;
  json_object *new_fields = NULL;
  KhJournalBase base = { 0 };
  gint64 local_version = json_object_get_int64 (get_member (local, "version"));
  gboolean local_deleted = json_object_get_boolean (get_member (local, "deleted"));
  gboolean local_created = local_version == 0;
  gboolean base_usable;
  gboolean local_changed_deleted = FALSE;
  gboolean remote_changed_fields = FALSE;
  gboolean new_deleted;
  const char *local_at = get_str (local, "updated_at");
  gboolean ok = FALSE;

  *n_conflicts = 0;
  if (!force && local_version > r->version)
    return TRUE;

  entries = load_entries (store, entity->name, r->id, error);
  if (entries == NULL || !kh_journal_load_base (store, entity->name, r->id, &base, error))
    goto out;
  open = open_conflict_fields (store, entity->name, r->id);

  for (guint i = 0; i < entries->len; i++)
    {
      Entry *e = entries->pdata[i];

      for (guint k = 0; e->fields[k] != NULL; k++)
        g_hash_table_add (pending, e->fields[k]);
      if (strcmp (e->op, "delete") == 0 || strcmp (e->op, "restore") == 0)
        local_changed_deleted = TRUE;
    }

  /* A local create that was sent and whose answer was lost: the record exists on the server,
   * so the server applied it (its id was made here), and what the create carried is the base
   * the server's later edits started from. Without it, another person's edit made before the
   * next pull looked like a change on both sides. */
  if (!base.known && local_created)
    for (guint i = 0; i < entries->len; i++)
      {
        Entry *e = entries->pdata[i];

        if (strcmp (e->op, "create") == 0 && e->sent != NULL && e->attempts > 0
            && strcmp (e->state, "pending") == 0)
          {
            base.known = TRUE;
            base.version = 0;
            base.deleted = FALSE;
            base.data = json_object_get (e->sent);
          }
      }

  /* A local create not yet seen by the server has an empty base: the record did not exist.
   * Without a kept base for an older record, every locally changed field that differs is
   * treated as a conflict. */
  base_usable = base.known || local_created;
  if (base.known)
    local_changed_deleted = local_deleted != base.deleted;

  for (guint i = 0; i < entity->n_fields; i++)
    {
      const char *name = entity->fields[i].name;
      json_object *b = base.known ? get_member (base.data, name) : NULL;

      if (base_usable ? !json_equal (get_member (r->fields, name), b) : r->version > local_version)
        {
          /* The replica's own edit coming back is not someone else's. */
          if (!is_own_echo (entries, name, get_member (r->fields, name)))
            remote_changed_fields = TRUE;
        }
    }

  /* The deleted flag. */
  if (local_deleted == r->deleted)
    new_deleted = local_deleted;
  else if (!local_changed_deleted)
    {
      if (r->deleted && g_hash_table_size (pending) > 0)
        {
          /* Edited here, deleted there: keep the edit on screen, ask a person. */
          new_deleted = local_deleted;
          if (!raise_conflict (store, entity->name, r->id, KH_CONFLICT_DELETED, "false", "false", "true",
                               r->version, r->updated_by, r->updated_at, local_at, error))
            goto out;
          if (!g_hash_table_contains (open, KH_CONFLICT_DELETED))
            (*n_conflicts)++;
        }
      else
        new_deleted = r->deleted;
    }
  else
    {
      new_deleted = local_deleted;
      if (local_deleted && remote_changed_fields)
        {
          /* Deleted here, edited there. */
          if (!raise_conflict (store, entity->name, r->id, KH_CONFLICT_DELETED, "false", "true", "false",
                               r->version, r->updated_by, r->updated_at, local_at, error))
            goto out;
          if (!g_hash_table_contains (open, KH_CONFLICT_DELETED))
            (*n_conflicts)++;
        }
    }
  if (local_deleted == r->deleted && g_hash_table_contains (open, KH_CONFLICT_DELETED)
      && !close_conflict (store, entity->name, r->id, KH_CONFLICT_DELETED, error))
    goto out;

  /* The fields. */
  new_fields = json_object_new_object ();
  for (guint i = 0; i < entity->n_fields; i++)
    {
      const char *name = entity->fields[i].name;
      json_object *rv = get_member (r->fields, name);
      json_object *lv = get_member (local, name);
      json_object *bv = base.known ? get_member (base.data, name) : NULL;
      json_object *v;

      if (!g_hash_table_contains (pending, name))
        v = rv;
      else if (json_equal (rv, lv))
        {
          v = lv;
          if (g_hash_table_contains (open, name)
              && !close_conflict (store, entity->name, r->id, name, error))
            goto out;
        }
      else if ((base_usable && json_equal (rv, bv)) || is_own_echo (entries, name, rv))
        v = lv;
      else if (base.known && json_equal (lv, bv))
        v = rv;
      else
        {
          g_autofree char *bt = value_text (bv);
          g_autofree char *lt = value_text (lv);
          g_autofree char *rt = value_text (rv);

          v = lv;
          if (!raise_conflict (store, entity->name, r->id, name, bt, lt, rt, r->version,
                               r->updated_by, r->updated_at, local_at, error))
            goto out;
          if (!g_hash_table_contains (open, name))
            (*n_conflicts)++;
        }
      if (v != NULL)
        json_object_object_add (new_fields, name, json_object_get (v));

      if (!g_hash_table_contains (pending, name) && !json_equal (lv, rv))
        {
          g_autofree char *old_text = kh_store_value_to_text (lv);
          g_autofree char *new_text = kh_store_value_to_text (rv);

          if (!kh_journal_add_audit (store, entity->name, r->id, r->updated_at, r->updated_by,
                                   "remote", name, old_text, new_text, error))
            goto out;
        }
    }

  if (!write_state (store, entity, r->id, FALSE, r->version, new_deleted, new_fields, NULL,
                    local_at, get_str (local, "updated_by"), error))
    goto out;
  if (!kh_journal_save_base (store, entity->name, r->id, r->version, r->deleted, r->fields, error))
    goto out;

  /* The local changes are now made on the server's state at r->version. A create the server
   * already has becomes an update of what still differs. */
  for (guint i = 0; i < entries->len; i++)
    {
      Entry *e = entries->pdata[i];
      g_autoptr(GPtrArray) names = NULL;
      g_autofree char *mutation_id = NULL;
      sqlite3_stmt *stmt;
      json_object *arr;

      if (strcmp (e->op, "create") != 0)
        continue;
      names = g_ptr_array_new ();
      for (guint k = 0; k < entity->n_fields; k++)
        {
          const char *name = entity->fields[k].name;

          if (!json_equal (get_member (new_fields, name), get_member (r->fields, name)))
            g_ptr_array_add (names, (gpointer) name);
        }
      if (names->len == 0 && local_deleted == r->deleted)
        {
          if (!delete_entry (store, e->seq, error))
            goto out;
          continue;
        }
      mutation_id = kh_uuid_v7_new ();
      stmt = kh_store_prepare (store, "UPDATE outbox SET op = ?, mutation_id = ?, fields = ?, attempts = 0 "
                                      "WHERE seq = ?", error);
      if (stmt == NULL)
        goto out;
      arr = names_to_json (names);
      sqlite3_bind_text (stmt, 1, local_deleted && !r->deleted ? "delete"
                                  : (!local_deleted && r->deleted ? "restore" : "update"), -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 2, mutation_id, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 3, json_object_to_json_string_ext (arr, JSON_C_TO_STRING_PLAIN), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (stmt, 4, e->seq);
      json_object_put (arr);
      if (!step_done (store, stmt, "outbox", error))
        goto out;
    }
  if (!rebase_entries (store, entity->name, r->id, r->version, error))
    goto out;
  ok = TRUE;

out:
  json_object_put (new_fields);
  kh_journal_base_clear (&base);
  return ok;
}

/* Which records of @page are not in the replica (one flag per record), found with one query
 * per entity instead of one read per record: a first pull brings only such records. A record
 * sent twice in the page is absent by its first occurrence only; the second finds the first
 * one written. */
static guint8 *
records_absent (KhStore        *store,
                KhReplicaPage  *page,
                GError        **error)
{
  g_autoptr(GHashTable) present = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree guint8 *absent = g_new0 (guint8, page->n_records + 1); /* never NULL */
  GHashTableIter iter;
  gpointer key;
  gpointer value;

  g_hash_table_iter_init (&iter, page->id_lists);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      const KhEntity *entity = key;
      GString *list = value;
      g_autofree char *sql = g_strdup_printf ("SELECT id FROM %s WHERE id IN (SELECT value FROM json_each (?))",
                                              entity->name);
      sqlite3_stmt *stmt = kh_store_prepare (store, sql, error);
      int rc;

      if (stmt == NULL)
        return NULL;
      sqlite3_bind_text (stmt, 1, list->str, (int) list->len, SQLITE_STATIC);
      while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        g_hash_table_add (present, g_strdup ((const char *) sqlite3_column_text (stmt, 0)));
      sqlite3_reset (stmt);
      if (rc != SQLITE_DONE)
        {
          kh_sqlite_set_error (error, kh_store_get_db (store), "read");
          return NULL;
        }
    }
  /* Ids are UUIDs: one set serves every entity. */
  for (guint i = 0; i < page->n_records; i++)
    absent[i] = !page->repeated[i]
                && (g_hash_table_size (present) == 0 || !g_hash_table_contains (present, page->remotes[i].id));
  return g_steal_pointer (&absent);
}

/* The fields of a record read without json-c, as json-c holds them, for a merge. */
static json_object *
values_to_json (const KhEntity *entity,
                const KhValue  *values)
{
  json_object *fields = json_object_new_object ();

  for (guint i = 0; i < entity->n_fields; i++)
    {
      const KhValue *v = &values[i];
      json_object *value;

      switch (v->kind)
        {
        case KH_VALUE_ABSENT:
          continue;
        case KH_VALUE_TEXT:
          value = json_object_new_string_len (v->text, v->len);
          break;
        case KH_VALUE_INT:
          value = json_object_new_int64 (v->number);
          break;
        case KH_VALUE_BOOL:
          value = json_object_new_boolean (v->number != 0);
          break;
        case KH_VALUE_OTHER:
          value = json_object_get (v->json);
          break;
        case KH_VALUE_NULL:
        default:
          value = NULL;
          break;
        }
      json_object_object_add_ex (fields, entity->fields[i].name, value, JSON_C_OBJECT_ADD_CONSTANT_KEY);
    }
  return fields;
}

static gboolean
apply_remote (KhStore         *store,
              const Remote    *remote,
              gboolean         absent,
              gboolean         repeated,
              GHashTable      *with_entries,
              gboolean         force,
              NewRecords      *fresh,
              KhReplicaStats  *stats,
              GError         **error)
{
  Remote r = *remote;
  g_autofree char *key = NULL;
  json_object *fields = NULL;  /* owned: the fields of a record read without json-c */
  json_object *local;
  gboolean ok;

  if (absent)
    {
      /* Not in the replica: nothing local to merge with, whatever the outbox holds. */
      if (!new_records_add (store, fresh, &r, error))
        return FALSE;
      stats->applied++;
      return TRUE;
    }
  /* The same record twice in a page: the first one is written before the second is read. */
  if (repeated && !new_records_write (store, fresh, error))
    return FALSE;
  local = load_local (store, r.entity, r.id, error);
  if (local == NULL && error != NULL && *error != NULL)
    return FALSE;
  if (local == NULL)
    {
      /* Not in the replica: nothing local to merge with, whatever the outbox holds. */
      if (!new_records_add (store, fresh, &r, error))
        return FALSE;
      stats->applied++;
      return TRUE;
    }
  if (!new_records_write (store, fresh, error))
    {
      json_object_put (local);
      return FALSE;
    }
  if (r.values != NULL)
    {
      r.fields = fields = values_to_json (r.entity, r.values);
      r.values = NULL;
    }

  key = record_key (r.entity->name, r.id);
  if (g_hash_table_contains (with_entries, key))
    {
      guint n = 0;

      ok = merge (store, &r, local, force, &n, error);
      if (ok)
        {
          stats->merged++;
          stats->conflicts += n;
        }
    }
  else
    {
      ok = apply_plain (store, &r, local, force, error);
      if (ok)
        stats->applied++;
    }
  json_object_put (local);
  json_object_put (fields);
  return ok;
}

static GHashTable *
records_with_entries (KhStore  *store,
                      GError  **error)
{
  sqlite3_stmt *stmt = kh_store_prepare (store, "SELECT DISTINCT entity, record_id FROM outbox", error);
  GHashTable *set;

  if (stmt == NULL)
    return NULL;
  set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    g_hash_table_add (set, record_key ((const char *) sqlite3_column_text (stmt, 0),
                                       (const char *) sqlite3_column_text (stmt, 1)));
  sqlite3_reset (stmt);
  return set;
}

/* At the end of a reset re-pull: what the server did not send is not in our scope any more
 * (or the server lost it in a restore). Records without local changes go; records with local
 * changes are kept and sent again as new records, so nothing typed is dropped. */
static gboolean
finish_reset (KhStore         *store,
              KhReplicaStats  *stats,
              GError         **error)
{
  const KhEntity * const *entities;
  guint n;

  entities = kh_entities (&n);
  for (guint e = 0; e < n; e++)
    {
      const KhEntity *entity = entities[e];
      g_autofree char *sql = g_strdup_printf (
        "SELECT id, deleted FROM %s t WHERE version > 0 AND NOT EXISTS "
        "(SELECT 1 FROM pull_seen p WHERE p.entity = ? AND p.record_id = t.id)", entity->name);
      g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
      g_autoptr(GArray) deleted = g_array_new (FALSE, FALSE, sizeof (gboolean));
      sqlite3_stmt *stmt = kh_store_prepare (store, sql, error);

      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_text (stmt, 1, entity->name, -1, SQLITE_STATIC);
      while (sqlite3_step (stmt) == SQLITE_ROW)
        {
          gboolean d = sqlite3_column_int (stmt, 1) != 0;

          g_ptr_array_add (ids, g_strdup ((const char *) sqlite3_column_text (stmt, 0)));
          g_array_append_val (deleted, d);
        }
      sqlite3_reset (stmt);

      for (guint i = 0; i < ids->len; i++)
        {
          const char *id = ids->pdata[i];

          if (kh_journal_count_entries (store, entity->name, id) == 0 || g_array_index (deleted, gboolean, i))
            {
              if (!delete_entries (store, entity->name, id, error)
                  || !drop_record (store, entity, id, error))
                return FALSE;
              stats->removed++;
            }
          else
            {
              g_autofree char *upd = g_strdup_printf ("UPDATE %s SET version = 0 WHERE id = ?", entity->name);
              json_object *local = load_local (store, entity, id, error);
              g_autoptr(GPtrArray) names = g_ptr_array_new ();
              json_object *arr;
              gboolean ok;

              if (local == NULL)
                return FALSE;
              for (guint k = 0; k < entity->n_fields; k++)
                if (get_member (local, entity->fields[k].name) != NULL)
                  g_ptr_array_add (names, (gpointer) entity->fields[k].name);
              stmt = kh_store_prepare (store, upd, error);
              ok = stmt != NULL;
              if (ok)
                {
                  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
                  ok = step_done (store, stmt, "reset", error);
                }
              arr = names_to_json (names);
              ok = ok && delete_entries (store, entity->name, id, error)
                   && kh_journal_drop_base (store, entity->name, id, error)
                   && close_conflict (store, entity->name, id, NULL, error)
                   && kh_journal_add_outbox (store, entity->name, id, "create", arr, 0, NULL, error);
              json_object_put (arr);
              json_object_put (local);
              if (!ok)
                return FALSE;
            }
        }
    }
  return kh_sqlite_exec (kh_store_get_db (store), "DELETE FROM pull_seen", error)
         && kh_replica_set_state (store, KH_SYNC_RESETTING, NULL, error);
}

gboolean
kh_replica_start_repull (KhStore  *store,
                         GError  **error)
{
  gboolean ok;

  g_return_val_if_fail (KH_IS_STORE (store), FALSE);

  if (!kh_store_begin (store, error))
    return FALSE;
  ok = kh_sqlite_exec (kh_store_get_db (store), "DELETE FROM pull_seen", error)
       && kh_replica_set_state (store, KH_SYNC_RESETTING, "1", error)
       && kh_replica_set_state (store, KH_SYNC_CURSOR, NULL, error);
  if (!ok)
    {
      kh_store_rollback (store);
      return FALSE;
    }
  return kh_store_commit (store, error);
}

/* Applies one page of the change feed and stores its cursor, in one transaction. When @reset
 * is set, the page starts a re-pull from the beginning; when a re-pull ends (@has_more false),
 * the records it did not bring are reconciled. On any error nothing is changed. */
gboolean
kh_replica_apply_page (KhStore         *store,
                       json_object     *records,
                       json_object     *removed,
                       const char      *cursor,
                       gboolean         reset,
                       gboolean         has_more,
                       KhReplicaStats  *stats,
                       GError         **error)
{
  g_autoptr(KhReplicaPage) page = NULL;

  g_return_val_if_fail (KH_IS_STORE (store), FALSE);

  page = kh_replica_page_new (records, removed, error);
  if (page == NULL)
    return FALSE;
  return kh_replica_apply_checked_page (store, page, cursor, reset, has_more, stats, error);
}

/* kh_replica_apply_page() for a page that kh_replica_page_new() read. */
gboolean
kh_replica_apply_checked_page (KhStore         *store,
                               KhReplicaPage   *page,
                               const char      *cursor,
                               gboolean         reset,
                               gboolean         has_more,
                               KhReplicaStats  *stats,
                               GError         **error)
{
  g_autoptr(GHashTable) with_entries = NULL;
  g_autofree guint8 *absent = NULL;
  g_autofree char *resetting_text = NULL;
  KhReplicaStats counts = { 0 };
  NewRecords fresh;
  gboolean resetting;
  size_t n_removed;
  gboolean ok = TRUE;

  g_return_val_if_fail (KH_IS_STORE (store), FALSE);
  g_return_val_if_fail (page != NULL, FALSE);

  if (cursor == NULL)
    return bad_answer (error, _("there is no cursor"));
  n_removed = page->removed ? json_object_array_length (page->removed) : 0;

  if (!kh_store_begin (store, error))
    return FALSE;

  resetting_text = kh_replica_get_state (store, KH_SYNC_RESETTING);
  resetting = reset || g_strcmp0 (resetting_text, "1") == 0;
  if (ok && reset)
    ok = kh_sqlite_exec (kh_store_get_db (store), "DELETE FROM pull_seen", error)
         && kh_replica_set_state (store, KH_SYNC_RESETTING, "1", error);

  with_entries = ok ? records_with_entries (store, error) : NULL;
  ok = ok && with_entries != NULL;
  absent = ok ? records_absent (store, page, error) : NULL;
  ok = ok && absent != NULL;

  new_records_init (&fresh);
  for (guint i = 0; ok && i < page->n_records; i++)
    {
      const Remote *r = &page->remotes[i];

      ok = apply_remote (store, r, absent[i], page->repeated[i], with_entries, resetting, &fresh, &counts, error);
      if (ok && resetting)
        {
          sqlite3_stmt *stmt = kh_store_prepare (store, "INSERT OR IGNORE INTO pull_seen (entity, record_id) VALUES (?, ?)", error);

          ok = stmt != NULL;
          if (ok)
            {
              sqlite3_bind_text (stmt, 1, r->entity->name, -1, SQLITE_STATIC);
              sqlite3_bind_text (stmt, 2, r->id, r->id_len, SQLITE_STATIC);
              ok = step_done (store, stmt, "pull_seen", error);
            }
        }
    }
  ok = ok && new_records_write (store, &fresh, error);
  new_records_clear (&fresh);
  counts.pulled = page->n_records;

  for (size_t i = 0; ok && i < n_removed; i++)
    {
      json_object *item = json_object_array_get_idx (page->removed, i);
      const KhEntity *entity = kh_entity_lookup (get_str (item, "entity"));
      const char *id = get_str (item, "id");
      g_autofree char *key = record_key (entity->name, id);

      if (g_hash_table_contains (with_entries, key))
        continue; /* kept and pushed; the server will say why it refuses */
      ok = drop_record (store, entity, id, error);
      if (ok)
        counts.removed++;
    }

  ok = ok && kh_replica_set_state (store, KH_SYNC_CURSOR, cursor, error);
  if (ok && resetting && !has_more)
    ok = finish_reset (store, &counts, error);

  /* The page's records are indexed for search at COMMIT, together (kh-schema.c). */
  if (!ok)
    {
      kh_store_rollback (store);
      return FALSE;
    }
  if (!kh_store_commit (store, error))
    return FALSE;

  if (stats != NULL)
    {
      stats->pulled += counts.pulled;
      stats->applied += counts.applied;
      stats->merged += counts.merged;
      stats->conflicts += counts.conflicts;
      stats->removed += counts.removed;
    }
  return TRUE;
}

/* Push ---------------------------------------------------------------------------------------- */

/* Takes the next batch of at most @max mutations to send, and marks them as attempted in the
 * same transaction. Returns {"mutations": [...wire form...], "seqs": [...]}; an empty batch has
 * empty arrays. Entries whose seq is in @skip_seqs are left for another sync. */
json_object *
kh_replica_take_batch (KhStore     *store,
                       guint        max,
                       GHashTable  *skip_seqs,
                       GError     **error)
{
  return kh_replica_take_batch_busy (store, max, skip_seqs, NULL, error);
}

/* "entity:id", the key of @busy_records. */
char *
kh_replica_record_key (const char *entity,
                       const char *id)
{
  return record_key (entity, id);
}

/* kh_replica_take_batch() leaving out every entry of the records in @busy_records (keys from
 * kh_replica_record_key()): those of a batch still on its way, whose answer decides what the
 * record's next entry is based on. */
json_object *
kh_replica_take_batch_busy (KhStore     *store,
                            guint        max,
                            GHashTable  *skip_seqs,
                            GHashTable  *busy_records,
                            GError     **error)
{
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  json_object *mutations = json_object_new_array ();
  json_object *seqs = json_object_new_array ();
  json_object *batch;
  g_autoptr(GArray) rows = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func (entry_free);
  g_autoptr(GPtrArray) entity_names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) record_ids = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *now = kh_store_now ();
  sqlite3_stmt *stmt;
  gboolean ok = TRUE;
  gint64 after = G_MININT64;
  gboolean any_open;
  guint chunk;
  int rc;

  g_return_val_if_fail (KH_IS_STORE (store), NULL);
  g_return_val_if_fail (max > 0, NULL);

  chunk = MAX (64, 2 * max);
  batch = json_object_new_object ();
  json_object_object_add (batch, "mutations", mutations);
  json_object_object_add (batch, "seqs", seqs);

  if (!kh_store_begin (store, error))
    {
      json_object_put (batch);
      return NULL;
    }
  /* Most replicas have no open conflict: then no entry's record is looked up for one. */
  stmt = kh_store_prepare (store, "SELECT EXISTS (SELECT 1 FROM conflict WHERE resolved_at IS NULL)", error);
  if (stmt == NULL)
    goto fail;
  any_open = sqlite3_step (stmt) != SQLITE_ROW || sqlite3_column_int (stmt, 0) != 0;
  sqlite3_reset (stmt);

  /* Entries are read in chunks, from the oldest, until the batch is full: reading every
   * pending entry for each batch made pushing a long outbox quadratic. */
  for (;;)
    {
      guint read = 0;

      g_ptr_array_set_size (entries, 0);
      g_ptr_array_set_size (entity_names, 0);
      g_ptr_array_set_size (record_ids, 0);
      stmt = kh_store_prepare (store,
        "SELECT seq, mutation_id, op, fields, base_version, attempts, state, entity, record_id "
        "FROM outbox WHERE state = 'pending' AND seq > ? ORDER BY seq LIMIT ?", error);
      if (stmt == NULL)
        goto fail;
      sqlite3_bind_int64 (stmt, 1, after);
      sqlite3_bind_int64 (stmt, 2, chunk);
      while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        {
          Entry *e = entry_from_row (stmt);

          g_ptr_array_add (entries, e);
          g_ptr_array_add (entity_names, g_strdup ((const char *) sqlite3_column_text (stmt, 7)));
          g_ptr_array_add (record_ids, g_strdup ((const char *) sqlite3_column_text (stmt, 8)));
          after = e->seq;
          read++;
        }
      sqlite3_reset (stmt);
      if (rc != SQLITE_DONE)
        {
          kh_sqlite_set_error (error, kh_store_get_db (store), "outbox");
          goto fail;
        }

      for (guint i = 0; i < entries->len && json_object_array_length (mutations) < max; i++)
        {
          Entry *e = entries->pdata[i];
          const char *entity_name = entity_names->pdata[i];
          const char *id = record_ids->pdata[i];
          const KhEntity *entity = kh_entity_lookup (entity_name);
          g_autofree char *key = record_key (entity_name, id);
          g_autoptr(GHashTable) open = NULL;
          json_object *local;
          json_object *m;
          json_object *fields;

          /* One entry per record per batch: a later one waits for the answer to the first. */
          if (g_hash_table_contains (seen, key)
              || (busy_records != NULL && g_hash_table_contains (busy_records, key)))
            continue;
          g_hash_table_add (seen, g_steal_pointer (&key));
          if (entity == NULL)
            continue;
          if (skip_seqs != NULL && g_hash_table_contains (skip_seqs, &e->seq))
            continue;
          open = any_open ? open_conflict_fields (store, entity_name, id)
                          : g_hash_table_new (g_str_hash, g_str_equal);
          if (g_hash_table_contains (open, KH_CONFLICT_DELETED))
            continue;

          /* An edit folded into a delete: the protocol's delete carries no fields, so the edit
           * goes first as an update, and the delete follows in an entry of its own. */
          if (strcmp (e->op, "delete") == 0 && e->fields[0] != NULL && e->attempts == 0)
            {
              g_autofree char *delete_id = kh_uuid_v7_new ();

              stmt = kh_store_prepare (store, "UPDATE outbox SET op = 'update' WHERE seq = ?", error);
              if (stmt == NULL)
                goto fail;
              sqlite3_bind_int64 (stmt, 1, e->seq);
              if (!step_done (store, stmt, "outbox", error))
                goto fail;
              stmt = kh_store_prepare (store,
                "INSERT INTO outbox (mutation_id, entity, record_id, op, fields, base_version, created_at, updated_at) "
                "VALUES (?, ?, ?, 'delete', '[]', ?, ?, ?)", error);
              if (stmt == NULL)
                goto fail;
              sqlite3_bind_text (stmt, 1, delete_id, -1, SQLITE_STATIC);
              sqlite3_bind_text (stmt, 2, entity_name, -1, SQLITE_STATIC);
              sqlite3_bind_text (stmt, 3, id, -1, SQLITE_STATIC);
              sqlite3_bind_int64 (stmt, 4, e->base_version);
              sqlite3_bind_text (stmt, 5, now, -1, SQLITE_STATIC);
              sqlite3_bind_text (stmt, 6, now, -1, SQLITE_STATIC);
              if (!step_done (store, stmt, "outbox", error))
                goto fail;
              g_free (e->op);
              e->op = g_strdup ("update");
            }
          local = load_local (store, entity, id, error);
          if (local == NULL)
            {
              if (error != NULL && *error != NULL)
                goto fail;
              continue;
            }

          fields = json_object_new_object ();
          if (strcmp (e->op, "create") == 0)
            {
              for (guint k = 0; k < entity->n_fields; k++)
                {
                  json_object *v = get_member (local, entity->fields[k].name);

                  if (v != NULL)
                    json_object_object_add (fields, entity->fields[k].name, json_object_get (v));
                }
            }
          else if (strcmp (e->op, "delete") != 0)
            {
              for (guint k = 0; e->fields[k] != NULL; k++)
                {
                  const char *name = e->fields[k];
                  json_object *v = get_member (local, name);

                  if (kh_entity_get_field (entity, name) == NULL || g_hash_table_contains (open, name))
                    continue;
                  json_object_object_add (fields, name, v ? json_object_get (v) : NULL);
                }
              if (strcmp (e->op, "update") == 0 && json_object_object_length (fields) == 0)
                {
                  /* Everything it changes waits for a person to resolve a conflict. */
                  json_object_put (fields);
                  json_object_put (local);
                  continue;
                }
            }

          m = json_object_new_object ();
          json_object_object_add (m, "mutation_id", json_object_new_string (e->mutation_id));
          json_object_object_add (m, "entity", json_object_new_string (entity_name));
          json_object_object_add (m, "id", json_object_new_string (id));
          json_object_object_add (m, "op", json_object_new_string (e->op));
          json_object_object_add (m, "base_version", json_object_new_int64 (strcmp (e->op, "create") == 0 ? 0 : e->base_version));
          if (strcmp (e->op, "delete") != 0)
            json_object_object_add (m, "fields", fields);
          else
            json_object_put (fields);
          json_object_array_add (mutations, m);
          json_object_array_add (seqs, json_object_new_int64 (e->seq));
          g_array_append_val (rows, e->seq);
          json_object_put (local);
        }

      if (read < chunk || json_object_array_length (mutations) >= max)
        break;
    }

  stmt = kh_store_prepare (store, "UPDATE outbox SET attempts = attempts + 1, updated_at = ?, sent = ? "
                                  "WHERE seq = ?", error);
  if (stmt == NULL)
    goto fail;
  for (guint i = 0; ok && i < rows->len; i++)
    {
      json_object *fields = NULL;

      json_object_object_get_ex (json_object_array_get_idx (mutations, i), "fields", &fields);
      sqlite3_bind_text (stmt, 1, now, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 2, fields ? json_object_to_json_string_ext (fields, JSON_C_TO_STRING_PLAIN) : NULL,
                         -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (stmt, 3, g_array_index (rows, gint64, i));
      ok = step_done (store, stmt, "outbox", error);
    }
  if (!ok)
    goto fail;
  if (!kh_store_commit (store, error))
    {
      json_object_put (batch);
      return NULL;
    }
  return batch;

fail:
  kh_store_rollback (store);
  json_object_put (batch);
  return NULL;
}

json_object *
kh_replica_batch_mutations (json_object *batch)
{
  return get_member (batch, "mutations");
}

/* The server took mutation @m (its outbox entry already deleted by the caller). */
static gboolean
ack (KhStore      *store,
     json_object  *m,
     gint64        version,
     GError      **error)
{
  const KhEntity *entity = kh_entity_lookup (get_str (m, "entity"));
  const char *id = get_str (m, "id");
  const char *op = get_str (m, "op");
  json_object *fields = get_member (m, "fields");
  sqlite3_stmt *stmt;
  KhJournalBase base = { 0 };
  gboolean ok;

  stmt = kh_store_prepare_static (store, entity_sql (entity)->version, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, version);
  sqlite3_bind_text (stmt, 2, id, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, version);
  if (!step_done (store, stmt, "version", error))
    return FALSE;

  if (kh_journal_count_entries (store, entity->name, id) == 0)
    return kh_journal_drop_base (store, entity->name, id, error);

  /* Later local changes are still waiting: the base now holds what this mutation set. */
  if (!kh_journal_load_base (store, entity->name, id, &base, error))
    return FALSE;
  if (!base.known && strcmp (op, "create") != 0)
    return TRUE;
  if (base.known && version < base.version)
    {
      kh_journal_base_clear (&base);
      return TRUE;
    }
  if (!base.known)
    base.data = json_object_new_object ();
  if (fields != NULL)
    {
      json_object_object_foreach (fields, key, val)
        {
          if (val == NULL)
            json_object_object_del (base.data, key);
          else
            json_object_object_add (base.data, key, json_object_get (val));
        }
    }
  if (strcmp (op, "delete") == 0)
    base.deleted = TRUE;
  else if (strcmp (op, "restore") == 0 || strcmp (op, "create") == 0)
    base.deleted = FALSE;
  ok = kh_journal_save_base (store, entity->name, id, version, base.deleted, base.data, error);
  kh_journal_base_clear (&base);
  return ok;
}

/* Applies the server's answers to a batch from kh_replica_take_batch(), in one transaction. The
 * answers are checked first: on a malformed answer nothing is changed. */
gboolean
kh_replica_apply_results (KhStore         *store,
                          json_object     *batch,
                          json_object     *results,
                          KhReplicaStats  *stats,
                          GError         **error)
{
  json_object *mutations = get_member (batch, "mutations");
  json_object *seqs = get_member (batch, "seqs");
  g_autoptr(GHashTable) with_entries = NULL;
  KhReplicaStats page = { 0 };
  size_t n;
  gboolean ok = TRUE;

  g_return_val_if_fail (KH_IS_STORE (store), FALSE);

  if (results == NULL || !json_object_is_type (results, json_type_array))
    return bad_answer (error, _("the push results are not a list"));
  n = json_object_array_length (mutations);
  if (json_object_array_length (results) != n)
    return bad_answer (error, _("the push results do not match the mutations sent"));
  for (size_t i = 0; i < n; i++)
    {
      json_object *res = json_object_array_get_idx (results, i);
      json_object *m = json_object_array_get_idx (mutations, i);
      const char *status = get_str (res, "status");
      json_object *version = get_member (res, "version");

      if (g_strcmp0 (get_str (res, "mutation_id"), get_str (m, "mutation_id")) != 0 || status == NULL)
        return bad_answer (error, _("a push result does not name its mutation"));
      if (strcmp (status, "applied") == 0 || strcmp (status, "duplicate") == 0)
        {
          if (version == NULL || !json_object_is_type (version, json_type_int) || json_object_get_int64 (version) < 0)
            return bad_answer (error, _("a push result has no version"));
        }
      else if (strcmp (status, "conflict") == 0)
        {
          json_object *record = get_member (res, "record");

          if (!kh_replica_check_record (record, error))
            return FALSE;
          if (g_strcmp0 (get_str (record, "id"), get_str (m, "id")) != 0
              || g_strcmp0 (get_str (record, "entity"), get_str (m, "entity")) != 0)
            return bad_answer (error, _("a conflict names another record"));
        }
      else if (strcmp (status, "rejected") != 0)
        return bad_answer (error, _("a push result has an unknown status"));
    }

  if (!kh_store_begin (store, error))
    return FALSE;
  ok = TRUE;

  for (size_t i = 0; ok && i < n; i++)
    {
      json_object *res = json_object_array_get_idx (results, i);
      json_object *m = json_object_array_get_idx (mutations, i);
      gint64 seq = json_object_get_int64 (json_object_array_get_idx (seqs, i));
      const char *status = get_str (res, "status");
      sqlite3_stmt *stmt;
      gboolean present;

      gboolean taken = strcmp (status, "applied") == 0 || strcmp (status, "duplicate") == 0;

      /* The entry may have been replaced meanwhile (a conflict resolved): then this answer is
       * about a mutation the replica no longer holds. One the server took is done with: it
       * goes in the same statement that finds it. */
      stmt = kh_store_prepare (store, taken ? "DELETE FROM outbox WHERE seq = ? AND mutation_id = ?"
                                            : "SELECT 1 FROM outbox WHERE seq = ? AND mutation_id = ?", error);
      if (stmt == NULL)
        {
          ok = FALSE;
          break;
        }
      sqlite3_bind_int64 (stmt, 1, seq);
      sqlite3_bind_text (stmt, 2, get_str (m, "mutation_id"), -1, SQLITE_STATIC);
      if (taken)
        {
          ok = step_done (store, stmt, "outbox", error);
          present = ok && sqlite3_changes (kh_store_get_db (store)) > 0;
        }
      else
        {
          present = sqlite3_step (stmt) == SQLITE_ROW;
          sqlite3_reset (stmt);
        }
      if (!ok)
        break;
      if (!present)
        continue;

      if (taken)
        {
          ok = ack (store, m, json_object_get_int64 (get_member (res, "version")), error);
          page.pushed++;
        }
      else if (strcmp (status, "rejected") == 0)
        {
          const char *message = get_str (res, "message");
          const char *code = get_str (res, "code");
          g_autofree char *now = kh_store_now ();

          stmt = kh_store_prepare (store, "UPDATE outbox SET state = 'rejected', reason = ?, updated_at = ? WHERE seq = ?", error);
          ok = stmt != NULL;
          if (ok)
            {
              sqlite3_bind_text (stmt, 1, message ? message : (code ? code : _("The server refused this change.")),
                                 -1, SQLITE_TRANSIENT);
              sqlite3_bind_text (stmt, 2, now, -1, SQLITE_STATIC);
              sqlite3_bind_int64 (stmt, 3, seq);
              ok = step_done (store, stmt, "outbox", error);
            }
          page.rejected++;
        }
      else
        {
          json_object *record = get_member (res, "record");
          json_object *members[N_MEMBERS];
          Remote r;
          json_object *local;
          guint nc = 0;

          record_get_members (record, members);
          remote_from_members (&r, members);
          local = load_local (store, r.entity, r.id, error);
          if (local == NULL)
            ok = error == NULL || *error == NULL;
          else
            {
              ok = merge (store, &r, local, TRUE, &nc, error);
              page.merged++;
              page.conflicts += nc;
              json_object_put (local);
            }
        }
    }

  if (!ok)
    {
      kh_store_rollback (store);
      return FALSE;
    }
  if (!kh_store_commit (store, error))
    return FALSE;
  if (stats != NULL)
    {
      stats->pushed += page.pushed;
      stats->rejected += page.rejected;
      stats->merged += page.merged;
      stats->conflicts += page.conflicts;
    }
  return TRUE;
}

/* Conflicts for people ------------------------------------------------------------------------ */

json_object *
kh_replica_list_conflicts (KhStore  *store,
                           GError  **error)
{
  sqlite3_stmt *stmt;
  json_object *array;
  int rc;

  g_return_val_if_fail (KH_IS_STORE (store), NULL);

  stmt = kh_store_prepare (store,
    "SELECT entity, record_id, field, base_value, local_value, remote_value, remote_version, "
    "remote_by, remote_at, local_at, created_at FROM conflict WHERE resolved_at IS NULL ORDER BY seq", error);
  if (stmt == NULL)
    return NULL;
  array = json_object_new_array ();
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      json_object *row = json_object_new_object ();
      static const char *names[] = { "entity", "id", "field", "base", "local", "remote" };
      static const char *more[] = { "remote_by", "remote_at", "local_at", "created_at" };

      for (int i = 0; i < 3; i++)
        json_object_object_add (row, names[i], json_object_new_string ((const char *) sqlite3_column_text (stmt, i)));
      for (int i = 3; i < 6; i++)
        json_object_object_add (row, names[i], parse_value_text ((const char *) sqlite3_column_text (stmt, i)));
      json_object_object_add (row, "remote_version", json_object_new_int64 (sqlite3_column_int64 (stmt, 6)));
      for (int i = 0; i < 4; i++)
        if (sqlite3_column_type (stmt, 7 + i) != SQLITE_NULL)
          json_object_object_add (row, more[i], json_object_new_string ((const char *) sqlite3_column_text (stmt, 7 + i)));
      json_object_array_add (array, row);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      kh_sqlite_set_error (error, kh_store_get_db (store), "conflict");
      json_object_put (array);
      return NULL;
    }
  return array;
}

static gint64
count_query (KhStore    *store,
             const char *sql)
{
  sqlite3_stmt *stmt = kh_store_prepare (store, sql, NULL);
  gint64 n = 0;

  if (stmt == NULL)
    return 0;
  if (sqlite3_step (stmt) == SQLITE_ROW)
    n = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return n;
}

gint64
kh_replica_count_conflicts (KhStore *store)
{
  g_return_val_if_fail (KH_IS_STORE (store), 0);
  return count_query (store, "SELECT count(*) FROM conflict WHERE resolved_at IS NULL");
}

gint64
kh_replica_count_rejected (KhStore *store)
{
  g_return_val_if_fail (KH_IS_STORE (store), 0);
  return count_query (store, "SELECT count(*) FROM outbox WHERE state = 'rejected'");
}

static gboolean
resolve_deleted (KhStore         *store,
                 const KhEntity  *entity,
                 const char      *id,
                 KhResolveChoice  choice,
                 gboolean         local_deleted,
                 gint64           remote_version,
                 GError         **error)
{
  g_autoptr(GPtrArray) entries = load_entries (store, entity->name, id, error);
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  KhJournalBase base = { 0 };
  json_object *arr;
  gboolean ok;

  if (entries == NULL)
    return FALSE;
  if (choice == KH_RESOLVE_VALUE)
    {
      g_set_error_literal (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID,
                           _("A delete against an edit is resolved with “mine” or “theirs”."));
      return FALSE;
    }

  if (choice == KH_RESOLVE_THEIRS)
    {
      g_autofree char *now = kh_store_now ();

      if (!kh_journal_load_base (store, entity->name, id, &base, error))
        return FALSE;
      if (!base.known)
        {
          g_set_error_literal (error, KH_DATA_ERROR, KH_DATA_ERROR_CONFLICT,
                               _("The server's state of this record is not known here; sync first."));
          return FALSE;
        }
      ok = write_state (store, entity, id, FALSE, base.version, base.deleted, base.data, NULL, now,
                        kh_store_get_actor (store), error)
           && delete_entries (store, entity->name, id, error)
           && kh_journal_drop_base (store, entity->name, id, error)
           && close_conflict (store, entity->name, id, NULL, error);
      kh_journal_base_clear (&base);
      return ok;
    }

  for (guint i = 0; i < entries->len; i++)
    {
      Entry *e = entries->pdata[i];

      for (guint k = 0; e->fields[k] != NULL; k++)
        if (!g_ptr_array_find_with_equal_func (names, e->fields[k], g_str_equal, NULL))
          g_ptr_array_add (names, e->fields[k]);
    }
  arr = names_to_json (names);
  ok = delete_entries (store, entity->name, id, error)
       && kh_journal_add_outbox (store, entity->name, id, local_deleted ? "delete" : "restore",
                               local_deleted ? NULL : arr, remote_version, NULL, error)
       && close_conflict (store, entity->name, id, KH_CONFLICT_DELETED, error);
  json_object_put (arr);
  return ok;
}

/* Resolves the open conflict on @field of record @id: keeps the local value (mine), takes the
 * server's (theirs) or sets @value (typed as in the CLI: dates as dd/mm/yyyy, money with dots).
 * The choice is written to the record and to the outbox, based on the server's version, so the
 * next push carries it. */
gboolean
kh_replica_resolve (KhStore          *store,
                    const char       *id,
                    const char       *field,
                    KhResolveChoice   choice,
                    const char       *value,
                    GError          **error)
{
  sqlite3_stmt *stmt;
  g_autofree char *entity_name = NULL;
  g_autofree char *local_text = NULL;
  g_autofree char *remote_text = NULL;
  g_autofree char *sql = NULL;
  g_autofree char *now = NULL;
  g_autofree char *old_text = NULL;
  g_autofree char *new_text = NULL;
  const KhEntity *entity;
  const KhField *f;
  gint64 remote_version = 0;
  json_object *local = NULL;
  json_object *v = NULL;
  json_object *names = NULL;
  gboolean ok = FALSE;

  g_return_val_if_fail (KH_IS_STORE (store), FALSE);
  g_return_val_if_fail (id != NULL && field != NULL, FALSE);

  if (!kh_store_begin (store, error))
    return FALSE;

  stmt = kh_store_prepare (store, "SELECT entity, local_value, remote_value, remote_version FROM conflict "
                                  "WHERE record_id = ? AND field = ? AND resolved_at IS NULL", error);
  if (stmt == NULL)
    goto out;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, field, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      entity_name = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
      local_text = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
      remote_text = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
      remote_version = sqlite3_column_int64 (stmt, 3);
    }
  sqlite3_reset (stmt);
  if (entity_name == NULL || (entity = kh_entity_lookup (entity_name)) == NULL)
    {
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_NOT_FOUND,
                   _("There is no open conflict on “%s” of the record “%s”."), field, id);
      goto out;
    }
  now = kh_store_now ();

  if (strcmp (field, KH_CONFLICT_DELETED) == 0)
    {
      ok = resolve_deleted (store, entity, id, choice, g_strcmp0 (local_text, "true") == 0,
                            remote_version, error)
           && kh_journal_add_audit (store, entity->name, id, now, kh_store_get_actor (store), "resolve",
                                  field, local_text, choice == KH_RESOLVE_MINE ? local_text : remote_text, error);
      goto out;
    }

  f = kh_entity_get_field (entity, field);
  if (f == NULL)
    {
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_UNKNOWN_FIELD,
                   _("“%s” is not a field of %s, so it has no conflict to resolve."), field, _(entity->label));
      goto out;
    }
  local = load_local (store, entity, id, error);
  if (local == NULL)
    goto out;

  switch (choice)
    {
    case KH_RESOLVE_MINE:
      v = get_member (local, field) ? json_object_get (get_member (local, field)) : NULL;
      break;
    case KH_RESOLVE_THEIRS:
      v = parse_value_text (remote_text);
      break;
    case KH_RESOLVE_VALUE:
    default:
      if (!kh_field_parse (f, value ? value : "", &v, error))
        goto out;
      break;
    }
  if (!kh_field_validate (f, v, error))
    goto out;

  old_text = kh_store_value_to_text (get_member (local, field));
  new_text = kh_store_value_to_text (v);
  sql = g_strdup_printf ("UPDATE %s SET %s = ?, updated_at = ?, updated_by = ? WHERE id = ?",
                         entity->name, f->name);
  stmt = kh_store_prepare (store, sql, error);
  if (stmt == NULL)
    goto out;
  kh_store_bind_value (stmt, 1, f, v);
  sqlite3_bind_text (stmt, 2, now, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, kh_store_get_actor (store), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, id, -1, SQLITE_STATIC);
  if (!step_done (store, stmt, "resolve", error))
    goto out;

  names = json_object_new_array ();
  json_object_array_add (names, json_object_new_string (f->name));
  ok = close_conflict (store, entity->name, id, field, error)
       && kh_journal_add_outbox (store, entity->name, id, "update", names,
                               json_object_get_int64 (get_member (local, "version")), NULL, error)
       && rebase_entries (store, entity->name, id, json_object_get_int64 (get_member (local, "version")), error)
       && kh_journal_add_audit (store, entity->name, id, now, kh_store_get_actor (store), "resolve",
                              field, old_text, new_text, error);

out:
  json_object_put (local);
  json_object_put (v);
  json_object_put (names);
  if (!ok)
    {
      kh_store_rollback (store);
      return FALSE;
    }
  if (!kh_store_commit (store, error))
    return FALSE;
  kh_store_emit_changed (store, entity_name, id);
  return TRUE;
}


/* Gives up the changes of record @id the server refused: the fields they changed go back to the
 * server's state (a refused new record goes away), other unsent changes stay. */
gboolean
kh_replica_discard_rejected (KhStore     *store,
                             const char  *id,
                             GError     **error)
{
  const KhEntity * const *entities;
  const KhEntity *entity = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GHashTable) pending = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) refused = g_hash_table_new (g_str_hash, g_str_equal);
  json_object *local = NULL;
  json_object *fields = NULL;
  KhJournalBase base = { 0 };
  gboolean created = FALSE;
  gboolean ok = FALSE;
  guint n;

  g_return_val_if_fail (KH_IS_STORE (store), FALSE);

  if (!kh_store_begin (store, error))
    return FALSE;
  entities = kh_entities (&n);
  for (guint e = 0; e < n && entity == NULL; e++)
    {
      g_autoptr(GPtrArray) found = load_entries (store, entities[e]->name, id, error);

      if (found == NULL)
        goto out;
      for (guint i = 0; i < found->len; i++)
        if (strcmp (((Entry *) found->pdata[i])->state, "rejected") == 0)
          {
            entity = entities[e];
            entries = g_steal_pointer (&found);
            break;
          }
    }
  if (entity == NULL)
    {
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_NOT_FOUND,
                   _("The record “%s” has no change the server refused."), id);
      goto out;
    }

  for (guint i = 0; i < entries->len; i++)
    {
      Entry *e = entries->pdata[i];
      GHashTable *set = strcmp (e->state, "rejected") == 0 ? refused : pending;

      for (guint k = 0; e->fields[k] != NULL; k++)
        g_hash_table_add (set, e->fields[k]);
      if (strcmp (e->state, "rejected") == 0 && strcmp (e->op, "create") == 0)
        created = TRUE;
      if (strcmp (e->state, "rejected") == 0 && !delete_entry (store, e->seq, error))
        goto out;
    }

  local = load_local (store, entity, id, error);
  if (local == NULL || !kh_journal_load_base (store, entity->name, id, &base, error))
    goto out;
  if (created && json_object_get_int64 (get_member (local, "version")) == 0)
    {
      ok = delete_entries (store, entity->name, id, error) && drop_record (store, entity, id, error);
      goto out;
    }
  if (!base.known)
    {
      ok = TRUE; /* nothing known to go back to: the local values stay */
      goto out;
    }
  fields = kh_journal_fields_of (entity, local);
  for (guint i = 0; i < entity->n_fields; i++)
    {
      const char *name = entity->fields[i].name;
      json_object *bv = get_member (base.data, name);

      if (!g_hash_table_contains (refused, name) || g_hash_table_contains (pending, name))
        continue;
      if (bv != NULL)
        json_object_object_add (fields, name, json_object_get (bv));
      else
        json_object_object_del (fields, name);
    }
  ok = write_state (store, entity, id, FALSE, json_object_get_int64 (get_member (local, "version")),
                    g_hash_table_size (pending) > 0 ? json_object_get_boolean (get_member (local, "deleted")) : base.deleted,
                    fields, NULL, get_str (local, "updated_at"), get_str (local, "updated_by"), error)
       && (g_hash_table_size (pending) > 0 || kh_journal_drop_base (store, entity->name, id, error));

out:
  json_object_put (local);
  json_object_put (fields);
  kh_journal_base_clear (&base);
  if (!ok)
    {
      kh_store_rollback (store);
      return FALSE;
    }
  if (!kh_store_commit (store, error))
    return FALSE;
  kh_store_emit_changed (store, entity->name, id);
  return TRUE;
}

/* Integrity ----------------------------------------------------------------------------------- */

guint64
kh_fnv1a64 (const char *text)
{
  guint64 h = G_GUINT64_CONSTANT (0xcbf29ce484222325);

  for (const unsigned char *p = (const unsigned char *) text; *p != '\0'; p++)
    {
      h ^= *p;
      h *= G_GUINT64_CONSTANT (0x100000001b3);
    }
  return h;
}

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
          g_snprintf (buf, sizeof buf, "%s:%" G_GINT64_FORMAT,
                      (const char *) sqlite3_column_text (stmt, 0), (gint64) sqlite3_column_int64 (stmt, 1));
          sum ^= kh_fnv1a64 (buf);
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
      if (!drop_record (store, entity, ids->pdata[i], error))
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
