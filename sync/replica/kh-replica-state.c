/* kh-replica-state.c: small helpers, sync_state, the outbox entries of a record
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include "kh-error.h"
#include "kh-journal.h"
#include "kh-replica-private.h"

/* Small helpers shared by the replica's files ------------------------------------------------ */




char *
_kh_replica_value_text (json_object *v)
{
  if (v == NULL)
    return NULL;
  return g_strdup (json_object_to_json_string_ext (v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

json_object *
_kh_replica_parse_value_text (const char *text)
{
  if (text == NULL)
    return NULL;
  return json_tokener_parse (text);
}


gboolean
_kh_replica_bad_answer (GError     **error,
                        const char  *what)
{
  g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID,
               _("The server sent an answer that is not valid (%s); nothing was changed."), what);
  return FALSE;
}

char *
_kh_replica_record_key (const char *entity,
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
  return kh_sqlite_step_done (stmt, "sync_state", error);
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


void
_kh_replica_entry_free (gpointer data)
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
Entry *
_kh_replica_entry_from_row (sqlite3_stmt *stmt)
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

json_object *
_kh_replica_names_to_json (GPtrArray *names)
{
  json_object *arr = json_object_new_array ();

  for (guint i = 0; i < names->len; i++)
    json_object_array_add (arr, json_object_new_string (names->pdata[i]));
  return arr;
}

GPtrArray *
_kh_replica_load_entries (KhStore     *store,
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
  entries = g_ptr_array_new_with_free_func (_kh_replica_entry_free);
  sqlite3_bind_text (stmt, 1, entity, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, id, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      Entry *e = _kh_replica_entry_from_row (stmt);

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

gboolean
_kh_replica_delete_entry (KhStore  *store,
                          gint64    seq,
                          GError  **error)
{
  sqlite3_stmt *stmt = kh_store_prepare (store, "DELETE FROM outbox WHERE seq = ?", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, seq);
  return kh_sqlite_step_done (stmt, "outbox", error);
}

gboolean
_kh_replica_delete_entries (KhStore     *store,
                            const char  *entity,
                            const char  *id,
                            GError     **error)
{
  sqlite3_stmt *stmt = kh_store_prepare (store, "DELETE FROM outbox WHERE entity = ? AND record_id = ?", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, entity, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, id, -1, SQLITE_STATIC);
  return kh_sqlite_step_done (stmt, "outbox", error);
}

gboolean
_kh_replica_rebase_entries (KhStore     *store,
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
  return kh_sqlite_step_done (stmt, "outbox", error);
}

/* Adds what one transaction counted to the caller's figures (@to may be NULL). */
void
_kh_replica_stats_add (KhReplicaStats       *to,
                       const KhReplicaStats *from)
{
  if (to == NULL)
    return;
  to->pulled += from->pulled;
  to->applied += from->applied;
  to->merged += from->merged;
  to->conflicts += from->conflicts;
  to->removed += from->removed;
  to->pushed += from->pushed;
  to->rejected += from->rejected;
}
