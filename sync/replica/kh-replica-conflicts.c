/* kh-replica-conflicts.c: conflicts, raised by a merge, resolved by a person
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include "kh-error.h"
#include "kh-journal.h"
#include "kh-replica-private.h"

/* Conflicts ----------------------------------------------------------------------------------- */

GHashTable *
_kh_replica_open_conflict_fields (KhStore    *store,
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

gboolean
_kh_replica_close_conflict (KhStore     *store,
                            const char  *entity,
                            const char  *id,
                            const char  *field,
                            GError     **error)
{
  return kh_journal_close_conflicts (store, entity, id, field, NULL, NULL, error);
}

gboolean
_kh_replica_raise_conflict (KhStore     *store,
                            const char  *entity,
                            const char  *id,
                            const char  *field,
                            const char  *base_value,
                            const char  *local_value,
                            const char  *remote_value,
                            gint64       remote_version,
                            const char  *remote_by,
                            const char  *remote_at,
                            const char  *local_at,
                            GError     **error)
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
  return kh_sqlite_step_done (stmt, "conflict", error);
}

/* Conflicts for people ------------------------------------------------------------------------ */

G_DEFINE_BOXED_TYPE (KhConflict, kh_conflict, kh_conflict_copy, kh_conflict_free)

KhConflict *
kh_conflict_copy (const KhConflict *conflict)
{
  KhConflict *copy;

  g_return_val_if_fail (conflict != NULL, NULL);

  copy = g_new0 (KhConflict, 1);
  copy->seq = conflict->seq;
  copy->entity = g_strdup (conflict->entity);
  copy->record_id = g_strdup (conflict->record_id);
  copy->field = g_strdup (conflict->field);
  copy->base = json_object_get (conflict->base);
  copy->local = json_object_get (conflict->local);
  copy->remote = json_object_get (conflict->remote);
  copy->remote_version = conflict->remote_version;
  copy->remote_by = g_strdup (conflict->remote_by);
  copy->remote_at = g_strdup (conflict->remote_at);
  copy->local_at = g_strdup (conflict->local_at);
  copy->created_at = g_strdup (conflict->created_at);
  return copy;
}

void
kh_conflict_free (KhConflict *conflict)
{
  if (conflict == NULL)
    return;
  g_free (conflict->entity);
  g_free (conflict->record_id);
  g_free (conflict->field);
  json_object_put (conflict->base);
  json_object_put (conflict->local);
  json_object_put (conflict->remote);
  g_free (conflict->remote_by);
  g_free (conflict->remote_at);
  g_free (conflict->local_at);
  g_free (conflict->created_at);
  g_free (conflict);
}

static char *
column_dup (sqlite3_stmt *stmt,
            int           column)
{
  if (sqlite3_column_type (stmt, column) == SQLITE_NULL)
    return NULL;
  return g_strdup ((const char *) sqlite3_column_text (stmt, column));
}

/* "Mine" is what this computer has now: the record's current value of the field (or its
 * deleted flag), which a local edit made while the conflict is open changes. The value kept in
 * the row, from when the conflict was raised, stands only when the record is not here. */
static gboolean
current_local (KhStore     *store,
               GHashTable  *records,
               KhConflict  *c,
               GError     **error)
{
  const KhEntity *entity = kh_entity_lookup (c->entity);
  g_autofree char *key = NULL;
  json_object *local;

  if (entity == NULL)
    return TRUE;
  key = _kh_replica_record_key (c->entity, c->record_id);
  if (!g_hash_table_lookup_extended (records, key, NULL, (gpointer *) &local))
    {
      local = _kh_replica_load_local (store, entity, c->record_id, error);
      if (local == NULL && error != NULL && *error != NULL)
        return FALSE;
      g_hash_table_insert (records, g_steal_pointer (&key), local);
    }
  if (local == NULL)
    return TRUE;
  /* A conflict of its own kind (KH_CONFLICT_REGISTERED) keeps what the row says. */
  if (strcmp (c->field, KH_CONFLICT_DELETED) == 0)
    {
      json_object_put (c->local);
      c->local = json_object_new_boolean (json_object_get_boolean (get_member (local, "deleted")));
    }
  else if (kh_entity_get_field (entity, c->field) != NULL)
    {
      json_object_put (c->local);
      c->local = json_object_get (get_member (local, c->field));
    }
  return TRUE;
}

/* The open conflicts, oldest first, as KhConflict with each side's value decoded from the JSON
 * form the table keeps it in, and "mine" as the record has it now. */
GPtrArray *
kh_replica_get_conflicts (KhStore  *store,
                          GError  **error)
{
  g_autoptr(GHashTable) records = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                         (GDestroyNotify) json_object_put);
  sqlite3_stmt *stmt;
  GPtrArray *conflicts;
  int rc;

  g_return_val_if_fail (KH_IS_STORE (store), NULL);

  stmt = kh_store_prepare (store,
    "SELECT seq, entity, record_id, field, base_value, local_value, remote_value, remote_version, "
    "remote_by, remote_at, local_at, created_at FROM conflict WHERE resolved_at IS NULL ORDER BY seq", error);
  if (stmt == NULL)
    return NULL;
  conflicts = g_ptr_array_new_with_free_func ((GDestroyNotify) kh_conflict_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      KhConflict *c = g_new0 (KhConflict, 1);

      c->seq = sqlite3_column_int64 (stmt, 0);
      c->entity = column_dup (stmt, 1);
      c->record_id = column_dup (stmt, 2);
      c->field = column_dup (stmt, 3);
      c->base = _kh_replica_parse_value_text ((const char *) sqlite3_column_text (stmt, 4));
      c->local = _kh_replica_parse_value_text ((const char *) sqlite3_column_text (stmt, 5));
      c->remote = _kh_replica_parse_value_text ((const char *) sqlite3_column_text (stmt, 6));
      c->remote_version = sqlite3_column_int64 (stmt, 7);
      c->remote_by = column_dup (stmt, 8);
      c->remote_at = column_dup (stmt, 9);
      c->local_at = column_dup (stmt, 10);
      c->created_at = column_dup (stmt, 11);
      g_ptr_array_add (conflicts, c);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      kh_sqlite_set_error (error, kh_store_get_db (store), "conflict");
      g_ptr_array_unref (conflicts);
      return NULL;
    }
  for (guint i = 0; i < conflicts->len; i++)
    if (!current_local (store, records, conflicts->pdata[i], error))
      {
        g_ptr_array_unref (conflicts);
        return NULL;
      }
  return conflicts;
}

/* A conflict in its JSON form, as the command line prints it: "entity", "id", "field", "base",
 * "local", "remote" (the values), "remote_version", and "remote_by", "remote_at", "local_at",
 * "created_at" when known. */
json_object *
kh_conflict_to_json (const KhConflict *conflict)
{
  json_object *row = json_object_new_object ();
  const char *more[] = { "remote_by", "remote_at", "local_at", "created_at" };
  const char *more_values[] = { conflict->remote_by, conflict->remote_at, conflict->local_at,
                                conflict->created_at };

  json_object_object_add (row, "entity", json_object_new_string (conflict->entity));
  json_object_object_add (row, "id", json_object_new_string (conflict->record_id));
  json_object_object_add (row, "field", json_object_new_string (conflict->field));
  json_object_object_add (row, "base", json_object_get (conflict->base));
  json_object_object_add (row, "local", json_object_get (conflict->local));
  json_object_object_add (row, "remote", json_object_get (conflict->remote));
  json_object_object_add (row, "remote_version", json_object_new_int64 (conflict->remote_version));
  for (guint i = 0; i < G_N_ELEMENTS (more); i++)
    if (more_values[i] != NULL)
      json_object_object_add (row, more[i], json_object_new_string (more_values[i]));
  return row;
}

/* kh_replica_get_conflicts() as a JSON array of kh_conflict_to_json(). */
json_object *
kh_replica_list_conflicts (KhStore  *store,
                           GError  **error)
{
  g_autoptr(GPtrArray) conflicts = kh_replica_get_conflicts (store, error);
  json_object *array;

  if (conflicts == NULL)
    return NULL;
  array = json_object_new_array ();
  for (guint i = 0; i < conflicts->len; i++)
    json_object_array_add (array, kh_conflict_to_json (conflicts->pdata[i]));
  return array;
}

/* Records @conflict as a merge would have raised it ("seq" and "created_at" are made here; a
 * newer conflict on the same field replaces an open one), for tests and tools that need one
 * without two replicas. Returns its seq, or -1. */
gint64
kh_replica_add_conflict (KhStore           *store,
                         const KhConflict  *conflict,
                         GError           **error)
{
  const KhEntity *entity;
  g_autofree char *base = NULL;
  g_autofree char *local = NULL;
  g_autofree char *remote = NULL;
  g_autofree char *now = NULL;
  sqlite3_stmt *stmt;
  gint64 seq = -1;

  g_return_val_if_fail (KH_IS_STORE (store), -1);
  g_return_val_if_fail (conflict != NULL, -1);

  entity = conflict->entity != NULL ? kh_entity_lookup (conflict->entity) : NULL;
  if (entity == NULL || conflict->record_id == NULL || conflict->field == NULL
      || (kh_entity_get_field (entity, conflict->field) == NULL
          && !(strcmp (conflict->field, KH_CONFLICT_REGISTERED) == 0 && strcmp (entity->name, "registration") == 0)))
    {
      g_set_error_literal (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID,
                           _("A conflict needs a kind of record, a record and one of its fields."));
      return -1;
    }
  base = _kh_replica_value_text (conflict->base);
  local = _kh_replica_value_text (conflict->local);
  remote = _kh_replica_value_text (conflict->remote);
  now = kh_store_now ();
  stmt = kh_store_prepare (store,
    "INSERT INTO conflict (entity, record_id, field, base_value, local_value, remote_value, "
    "remote_by, remote_at, local_at, created_at, remote_version) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (entity, record_id, field) DO UPDATE SET "
    "base_value = excluded.base_value, local_value = excluded.local_value, "
    "remote_value = excluded.remote_value, remote_by = excluded.remote_by, "
    "remote_at = excluded.remote_at, local_at = excluded.local_at, "
    "created_at = excluded.created_at, remote_version = excluded.remote_version, "
    "resolved_at = NULL RETURNING seq", error);
  if (stmt == NULL)
    return -1;
  sqlite3_bind_text (stmt, 1, conflict->entity, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, conflict->record_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, conflict->field, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, base, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, local, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 6, remote, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 7, conflict->remote_by, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 8, conflict->remote_at, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 9, conflict->local_at, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 10, now, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 11, conflict->remote_version);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    seq = sqlite3_column_int64 (stmt, 0);
  else
    kh_sqlite_set_error (error, kh_store_get_db (store), "conflict");
  sqlite3_reset (stmt);
  if (seq >= 0)
    kh_store_emit_changed (store, "conflict", conflict->record_id);
  return seq;
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

/* Resolves the conflict on "deleted" of record @id from its current local state
 * (@local_deleted): "mine" sends that state, a delete or a restore with the record's edits, on
 * the server's version; "theirs" goes back to the server's state. When both sides now say
 * deleted (the record was deleted here too while the conflict was open), they agree and the
 * server's state is taken either way. */
static gboolean
resolve_deleted (KhStore          *store,
                 const KhEntity   *entity,
                 const char       *id,
                 KhResolveChoice   choice,
                 gboolean          local_deleted,
                 gboolean          remote_deleted,
                 gint64            remote_version,
                 GError          **error)
{
  g_autoptr(GPtrArray) entries = _kh_replica_load_entries (store, entity->name, id, error);
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

  if (choice == KH_RESOLVE_THEIRS || (local_deleted && remote_deleted))
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
      ok = _kh_replica_write_state (store, entity, id, FALSE, base.version, base.deleted, base.data, NULL, now,
                                    kh_store_get_actor (store), error)
           && _kh_replica_delete_entries (store, entity->name, id, error)
           && kh_journal_drop_base (store, entity->name, id, error)
           && _kh_replica_close_conflict (store, entity->name, id, NULL, error);
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
  /* The fields the record's entries named go with the delete as they go with a restore: the
   * push sends them first as an update, and a field whose own conflict is still open keeps
   * its change waiting behind that conflict. */
  arr = _kh_replica_names_to_json (names);
  ok = _kh_replica_delete_entries (store, entity->name, id, error)
       && kh_journal_add_outbox (store, entity->name, id, local_deleted ? "delete" : "restore",
                               arr, remote_version, NULL, error)
       && _kh_replica_close_conflict (store, entity->name, id, KH_CONFLICT_DELETED, error);
  json_object_put (arr);
  return ok;
}

/* Writes the value a person chose for @field (@f) of the local record @local and queues it for
 * the server on the server's latest version. */
static gboolean
resolve_field (KhStore         *store,
               const KhEntity  *entity,
               const KhField   *f,
               const char      *id,
               json_object     *local,
               json_object     *v,
               const char      *now,
               GError         **error)
{
  g_autofree char *old_text = kh_store_value_to_text (get_member (local, f->name));
  g_autofree char *new_text = kh_store_value_to_text (v);
  g_autofree char *sql = g_strdup_printf ("UPDATE %s SET %s = ?, updated_at = ?, updated_by = ? WHERE id = ?",
                                          entity->name, f->name);
  gint64 version = json_object_get_int64 (get_member (local, "version"));
  sqlite3_stmt *stmt = kh_store_prepare (store, sql, error);
  json_object *names;
  gboolean ok;

  if (stmt == NULL)
    return FALSE;
  kh_store_bind_value (stmt, 1, f, v);
  sqlite3_bind_text (stmt, 2, now, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, kh_store_get_actor (store), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, id, -1, SQLITE_STATIC);
  if (!kh_sqlite_step_done (stmt, "resolve", error))
    return FALSE;

  names = json_object_new_array ();
  json_object_array_add (names, json_object_new_string (f->name));
  ok = _kh_replica_close_conflict (store, entity->name, id, f->name, error)
       && kh_journal_add_outbox (store, entity->name, id, "update", names, version, NULL, error)
       && _kh_replica_rebase_entries (store, entity->name, id, version, error)
       && kh_journal_add_audit (store, entity->name, id, now, kh_store_get_actor (store), "resolve",
                                f->name, old_text, new_text, error);
  json_object_put (names);
  return ok;
}

/* The value @choice stands for, checked against the field @f. */
static gboolean
chosen_value (const KhField    *f,
              KhResolveChoice   choice,
              json_object      *local,
              const char       *remote_text,
              const char       *value,
              json_object     **v,
              GError          **error)
{
  switch (choice)
    {
    case KH_RESOLVE_MINE:
      *v = get_member (local, f->name) ? json_object_get (get_member (local, f->name)) : NULL;
      break;
    case KH_RESOLVE_THEIRS:
      *v = _kh_replica_parse_value_text (remote_text);
      break;
    case KH_RESOLVE_VALUE:
    case KH_RESOLVE_MERGE:
    default:
      if (!kh_field_parse (f, value ? value : "", v, error))
        return FALSE;
      break;
    }
  return kh_field_validate (f, *v, error);
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
  g_autofree char *remote_text = NULL;
  g_autofree char *now = NULL;
  const KhEntity *entity;
  const KhField *f;
  gint64 remote_version = 0;
  json_object *local = NULL;
  json_object *v = NULL;
  gboolean ok = FALSE;

  g_return_val_if_fail (KH_IS_STORE (store), FALSE);
  g_return_val_if_fail (id != NULL && field != NULL, FALSE);

  if (strcmp (field, KH_CONFLICT_REGISTERED) == 0)
    return _kh_replica_resolve_registered (store, id, choice, error);
  if (choice == KH_RESOLVE_MERGE)
    {
      g_set_error_literal (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID,
                           _("Only a registration made twice can be merged; keep mine or take theirs."));
      return FALSE;
    }
  if (!kh_store_begin (store, error))
    return FALSE;

  stmt = kh_store_prepare (store, "SELECT entity, remote_value, remote_version FROM conflict "
                                  "WHERE record_id = ? AND field = ? AND resolved_at IS NULL", error);
  if (stmt == NULL)
    goto out;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, field, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      entity_name = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
      remote_text = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
      remote_version = sqlite3_column_int64 (stmt, 2);
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
      /* What is resolved is the record as it is now: it may have been deleted (or restored)
       * here since the conflict was raised. */
      const char *mine;

      local = _kh_replica_load_local (store, entity, id, error);
      if (local == NULL)
        {
          if (error == NULL || *error == NULL)
            g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_NOT_FOUND,
                         _("There is no open conflict on “%s” of the record “%s”."), field, id);
          goto out;
        }
      mine = json_object_get_boolean (get_member (local, "deleted")) ? "true" : "false";
      ok = resolve_deleted (store, entity, id, choice, strcmp (mine, "true") == 0,
                            g_strcmp0 (remote_text, "true") == 0, remote_version, error)
           && kh_journal_add_audit (store, entity->name, id, now, kh_store_get_actor (store), "resolve",
                                    field, mine, choice == KH_RESOLVE_MINE ? mine : remote_text, error);
      goto out;
    }

  f = kh_entity_get_field (entity, field);
  if (f == NULL)
    {
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_UNKNOWN_FIELD,
                   _("“%s” is not a field of %s, so it has no conflict to resolve."), field, _(entity->label));
      goto out;
    }
  local = _kh_replica_load_local (store, entity, id, error);
  ok = local != NULL
       && chosen_value (f, choice, local, remote_text, value, &v, error)
       && resolve_field (store, entity, f, id, local, v, now, error);

out:
  json_object_put (local);
  json_object_put (v);
  if (!ok)
    {
      kh_store_rollback (store);
      return FALSE;
    }
  if (!kh_store_commit (store, error))
    return FALSE;
  kh_store_emit_changed (store, entity_name, id);
  /* The window's list of conflicts listens to this one. */
  kh_store_emit_changed (store, "conflict", id);
  return TRUE;
}

/* Gives up the changes of record @id the server refused: the fields they changed go back to the
 * server's state (a refused new record goes away), other unsent changes stay (edits made after a
 * refused restore of a record deleted on the server stay in a conflict on "deleted"). */
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
  gboolean pending_flag = FALSE;  /* a waiting entry deletes, restores or creates */
  gboolean refused_flag = FALSE;  /* a refused one does */
  gboolean keep_deleted;
  gboolean edited_deleted = FALSE;
  gboolean ok = FALSE;
  guint n;

  g_return_val_if_fail (KH_IS_STORE (store), FALSE);

  if (!kh_store_begin (store, error))
    return FALSE;
  entities = kh_entities (&n);
  for (guint e = 0; e < n && entity == NULL; e++)
    {
      g_autoptr(GPtrArray) found = _kh_replica_load_entries (store, entities[e]->name, id, error);

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
      if (strcmp (e->op, "update") != 0)
        {
          if (set == pending)
            pending_flag = TRUE;
          else
            refused_flag = TRUE;
        }
      if (strcmp (e->state, "rejected") == 0 && strcmp (e->op, "create") == 0)
        created = TRUE;
      if (strcmp (e->state, "rejected") == 0 && !_kh_replica_delete_entry (store, e->seq, error))
        goto out;
    }

  /* A conflict on a field whose refused change is given up has nothing left behind it: the
   * field takes the server's value below, so there is nothing to choose. Left open, "mine"
   * would send nothing. With no change of the record left at all, none of its conflicts
   * holds anything. */
  {
    GHashTableIter iter;
    gpointer name;

    g_hash_table_iter_init (&iter, refused);
    while (g_hash_table_iter_next (&iter, &name, NULL))
      if (!g_hash_table_contains (pending, name)
          && !_kh_replica_close_conflict (store, entity->name, id, name, error))
        goto out;
    if (kh_journal_count_entries (store, entity->name, id) == 0
        && !_kh_replica_close_conflict (store, entity->name, id, NULL, error))
      goto out;
  }

  /* The server said the record is outside the area: its truth for this replica is that the
   * record is not here, as a sync would have made it without the change. */
  if (kh_journal_count_entries (store, entity->name, id) == 0 && _kh_replica_is_outside (store, entity->name, id))
    {
      ok = _kh_replica_drop_record (store, entity, id, error)
           && _kh_replica_set_outside (store, entity->name, id, FALSE, error);
      goto out;
    }
  local = _kh_replica_load_local (store, entity, id, error);
  if (local == NULL || !kh_journal_load_base (store, entity->name, id, &base, error))
    goto out;
  if (created && json_object_get_int64 (get_member (local, "version")) == 0)
    {
      ok = _kh_replica_delete_entries (store, entity->name, id, error) && _kh_replica_drop_record (store, entity, id, error);
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
  /* The deleted flag stays as it is here while a waiting entry deletes or restores (a delete
   * made after the refused edit is not given up with it); it goes back to the server's when
   * the refused entry was what changed it. */
  keep_deleted = pending_flag || (!refused_flag && g_hash_table_size (pending) > 0);
  /* A refused restore given up while edits made after it still wait: the record is deleted
   * there and edited here, which a pull keeps on screen and asks a person about; so does this.
   * Deleted here with the edits waiting, the next sync dropped them without a word, as edits
   * made before a delete. */
  edited_deleted = !keep_deleted && base.deleted && g_hash_table_size (pending) > 0
                   && !json_object_get_boolean (get_member (local, "deleted"));
  if (edited_deleted)
    keep_deleted = TRUE;
  ok = _kh_replica_write_state (store, entity, id, FALSE, json_object_get_int64 (get_member (local, "version")),
                                keep_deleted ? json_object_get_boolean (get_member (local, "deleted")) : base.deleted,
                                fields, NULL, get_str (local, "updated_at"), get_str (local, "updated_by"), error)
       && (!edited_deleted
           || _kh_replica_raise_conflict (store, entity->name, id, KH_CONFLICT_DELETED, "false", "false", "true",
                                          base.version, NULL, NULL, get_str (local, "updated_at"), error))
       && (kh_journal_count_entries (store, entity->name, id) > 0
           || kh_journal_drop_base (store, entity->name, id, error));

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
  if (edited_deleted)
    kh_store_emit_changed (store, "conflict", id);
  return TRUE;
}
