/* kh-replica-check.c: the replica's promise about local changes, checked
 *
 * Every change the store accepted is on the server, or waiting in the outbox, or held in an
 * open conflict, or refused and shown to the person (a rejected outbox entry), or given up by
 * a person on purpose (resolved the other way, discarded). What can be seen of that on the
 * replica alone is checked here, on any replica at any time: the tests call it after every
 * step, and `khuyenhoc-cli check` lets a person (or a support call) ask.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include "kh-error.h"
#include "kh-journal.h"
#include "kh-replica-private.h"

/* Problems past this many are counted, not listed. */
#define MAX_LISTED 20

typedef struct
{
  KhStore    *store;
  GPtrArray  *problems;  /* of char *, each one line */
  guint       n_more;
  GHashTable *with_entries;  /* "entity:id" of records with an entry, pending or rejected */
  GHashTable *entry_fields;  /* "entity:id:field" named by such an entry */
  GHashTable *with_open;     /* "entity:id" of records with an open conflict */
} Check;

static void
problem (Check      *c,
         const char *format,
         ...) G_GNUC_PRINTF (2, 3);

static void
problem (Check      *c,
         const char *format,
         ...)
{
  va_list args;

  if (c->problems->len >= MAX_LISTED)
    {
      c->n_more++;
      return;
    }
  va_start (args, format);
  g_ptr_array_add (c->problems, g_strdup_vprintf (format, args));
  va_end (args);
}

/* The outbox: every entry is about a record this replica has (a delete may outlive it), and a
 * pending update names something to send. */
static gboolean
check_outbox (Check   *c,
              GError **error)
{
  sqlite3_stmt *stmt = kh_store_prepare (c->store, "SELECT entity, record_id, op, fields, state FROM outbox "
                                                   "ORDER BY seq", error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const char *entity_name = (const char *) sqlite3_column_text (stmt, 0);
      const char *id = (const char *) sqlite3_column_text (stmt, 1);
      const char *op = (const char *) sqlite3_column_text (stmt, 2);
      const char *state = (const char *) sqlite3_column_text (stmt, 4);
      const KhEntity *entity = kh_entity_lookup (entity_name);
      json_object *names = json_tokener_parse ((const char *) sqlite3_column_text (stmt, 3));
      json_object *local = NULL;
      gboolean named = FALSE;

      g_hash_table_add (c->with_entries, _kh_replica_record_key (entity_name, id));
      for (size_t k = 0; names != NULL && json_object_is_type (names, json_type_array)
                         && k < json_object_array_length (names); k++)
        {
          const char *name = json_object_get_string (json_object_array_get_idx (names, k));

          g_hash_table_add (c->entry_fields, g_strconcat (entity_name, ":", id, ":", name, NULL));
          if (entity != NULL && kh_entity_get_field (entity, name) != NULL)
            named = TRUE;
        }
      json_object_put (names);
      if (entity == NULL)
        {
          problem (c, _("%s %s: a change waits for a kind of record this program does not know."), entity_name, id);
          continue;
        }
      local = _kh_replica_load_local (c->store, entity, id, error);
      if (local == NULL && error != NULL && *error != NULL)
        {
          sqlite3_reset (stmt);
          return FALSE;
        }
      if (local == NULL && strcmp (op, "delete") != 0)
        problem (c, _("%s %s: a change (%s) waits for a record that is not on this computer."),
                 entity_name, id, op);
      if (strcmp (state, "pending") == 0 && strcmp (op, "update") == 0 && !named)
        problem (c, _("%s %s: a waiting change names no field, so it can never be sent."), entity_name, id);
      json_object_put (local);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      kh_sqlite_set_error (error, kh_store_get_db (c->store), "outbox");
      return FALSE;
    }
  return TRUE;
}

/* Open conflicts: each one holds a local change that an outbox entry will send once a person
 * has chosen; a conflict with nothing behind it would let the choice "mine" send nothing. */
static gboolean
check_conflicts (Check   *c,
                 GError **error)
{
  sqlite3_stmt *stmt = kh_store_prepare (c->store, "SELECT entity, record_id, field FROM conflict "
                                                   "WHERE resolved_at IS NULL ORDER BY seq", error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const char *entity_name = (const char *) sqlite3_column_text (stmt, 0);
      const char *id = (const char *) sqlite3_column_text (stmt, 1);
      const char *field = (const char *) sqlite3_column_text (stmt, 2);
      const KhEntity *entity = kh_entity_lookup (entity_name);
      g_autofree char *key = _kh_replica_record_key (entity_name, id);
      g_autofree char *field_key = g_strconcat (key, ":", field, NULL);
      json_object *local = NULL;

      g_hash_table_add (c->with_open, g_strdup (key));
      if (entity != NULL)
        {
          local = _kh_replica_load_local (c->store, entity, id, error);
          if (local == NULL && error != NULL && *error != NULL)
            {
              sqlite3_reset (stmt);
              return FALSE;
            }
        }
      if (local == NULL)
        problem (c, _("%s %s: a conflict on “%s” is open for a record that is not on this computer."),
                 entity_name, id, field);
      else if (strcmp (field, KH_CONFLICT_DELETED) == 0 || strcmp (field, KH_CONFLICT_REGISTERED) == 0
               ? !g_hash_table_contains (c->with_entries, key)
               : !g_hash_table_contains (c->entry_fields, field_key))
        problem (c, _("%s %s: a conflict on “%s” is open, but no local change of it waits to be sent."),
                 entity_name, id, field);
      json_object_put (local);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      kh_sqlite_set_error (error, kh_store_get_db (c->store), "conflict");
      return FALSE;
    }
  return TRUE;
}

/* A record that differs from the server's state it was changed on (its merge base) holds a
 * local change: something must still send it, or show it. */
static gboolean
check_bases (Check   *c,
             GError **error)
{
  g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *stmt = kh_store_prepare (c->store, "SELECT entity, record_id FROM base", error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      g_ptr_array_add (keys, g_strdup ((const char *) sqlite3_column_text (stmt, 0)));
      g_ptr_array_add (keys, g_strdup ((const char *) sqlite3_column_text (stmt, 1)));
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      kh_sqlite_set_error (error, kh_store_get_db (c->store), "base");
      return FALSE;
    }

  for (guint i = 0; i < keys->len; i += 2)
    {
      const char *entity_name = keys->pdata[i];
      const char *id = keys->pdata[i + 1];
      const KhEntity *entity = kh_entity_lookup (entity_name);
      g_autofree char *key = _kh_replica_record_key (entity_name, id);
      json_object *local;
      KhJournalBase base = { 0 };
      const char *differs = NULL;

      if (entity == NULL || g_hash_table_contains (c->with_entries, key) || g_hash_table_contains (c->with_open, key))
        continue;
      local = _kh_replica_load_local (c->store, entity, id, error);
      if (local == NULL)
        {
          if (error != NULL && *error != NULL)
            return FALSE;
          continue;
        }
      if (!kh_journal_load_base (c->store, entity_name, id, &base, error))
        {
          json_object_put (local);
          return FALSE;
        }
      if (json_object_get_boolean (get_member (local, "deleted")) != base.deleted)
        differs = KH_CONFLICT_DELETED;
      for (guint k = 0; differs == NULL && k < entity->n_fields; k++)
        if (!json_equal (get_member (local, entity->fields[k].name), get_member (base.data, entity->fields[k].name)))
          differs = entity->fields[k].name;
      if (differs != NULL)
        problem (c, _("%s %s: “%s” was changed here, but the change is neither waiting to be sent nor in a conflict."),
                 entity_name, id, differs);
      kh_journal_base_clear (&base);
      json_object_put (local);
    }
  return TRUE;
}

/* A record made here that the server has not acknowledged (version 0) and that is not
 * deleted must have its create waiting, or refused. */
static gboolean
check_new_records (Check   *c,
                   GError **error)
{
  const KhEntity * const *entities;
  guint n;

  entities = kh_entities (&n);
  for (guint e = 0; e < n; e++)
    {
      g_autofree char *sql = g_strdup_printf ("SELECT id FROM %s WHERE version = 0 AND deleted = 0",
                                              entities[e]->name);
      sqlite3_stmt *stmt = kh_store_prepare (c->store, sql, error);
      int rc;

      if (stmt == NULL)
        return FALSE;
      while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        {
          const char *id = (const char *) sqlite3_column_text (stmt, 0);
          g_autofree char *key = _kh_replica_record_key (entities[e]->name, id);

          if (!g_hash_table_contains (c->with_entries, key))
            problem (c, _("%s %s: made here and never acknowledged by the server, but nothing waits to send it."),
                     entities[e]->name, id);
        }
      sqlite3_reset (stmt);
      if (rc != SQLITE_DONE)
        {
          kh_sqlite_set_error (error, kh_store_get_db (c->store), entities[e]->name);
          return FALSE;
        }
    }
  return TRUE;
}

/* Checks what the replica promises about local changes (see the top of this file): every
 * record that differs from the server state it was changed on has a change waiting to be sent,
 * refused and shown, or in an open conflict; every open conflict has a waiting change of its
 * field behind it and a record; every outbox entry has its record (a delete may outlive it),
 * and a waiting update names a field to send; every record made here and not yet acknowledged
 * has its create waiting. Reads only; returns FALSE with every problem found (one a line) in
 * @error, or on a database error. */
gboolean
kh_replica_check (KhStore  *store,
                  GError  **error)
{
  g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GHashTable) with_entries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) entry_fields = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) with_open = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  Check c = { store, problems, 0, with_entries, entry_fields, with_open };
  g_autoptr(GString) text = NULL;

  g_return_val_if_fail (KH_IS_STORE (store), FALSE);

  if (!check_outbox (&c, error) || !check_conflicts (&c, error) || !check_bases (&c, error)
      || !check_new_records (&c, error))
    return FALSE;
  if (problems->len == 0)
    return TRUE;

  text = g_string_new (_("Some local changes are not safe on their way to the server:"));
  for (guint i = 0; i < problems->len; i++)
    g_string_append_printf (text, "\n  %s", (const char *) problems->pdata[i]);
  if (c.n_more > 0)
    {
      g_string_append (text, "\n  ");
      g_string_append_printf (text, g_dngettext (GETTEXT_PACKAGE, "and %u more problem.", "and %u more problems.",
                                                 c.n_more), c.n_more);
    }
  g_set_error_literal (error, KH_DATA_ERROR, KH_DATA_ERROR_CONFLICT, text->str);
  return FALSE;
}
