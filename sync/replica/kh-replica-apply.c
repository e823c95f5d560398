/* kh-replica-apply.c: applying a page of the change feed
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include "kh-journal.h"
#include "kh-replica-private.h"

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
  sql = _kh_replica_entity_sql (entity);
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
            _kh_replica_bind_values (stmt, col, entity, r->values);
          else
            _kh_replica_bind_fields (stmt, col, entity, r->fields);
          col += entity->n_fields;
          sqlite3_bind_text (stmt, col++, r->id, r->id_len, SQLITE_STATIC);
        }
      if (!kh_sqlite_step_done (stmt, "insert", error))
        {
          g_prefix_error (error, _("Could not store %s from the server: "), _(entity->label));
          return FALSE;
        }
      done += sql->insert_rows;
    }
  for (guint k = done; k < n; k++)
    {
      const Remote *r = &g_array_index (b->items, Remote, k);

      if (!_kh_replica_write_state (store, entity, r->id, TRUE, r->version, r->deleted, r->fields, r->values,
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
      if (!kh_sqlite_step_done (stmt, "audit", error))
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
      if (!_kh_replica_write_state (store, entity, r->id, TRUE, r->version, r->deleted, r->fields, NULL,
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

  if (!_kh_replica_write_state (store, entity, r->id, FALSE, r->version, r->deleted, r->fields, NULL,
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

/* Records outside the area ------------------------------------------------------------------- */

/* A record the server says is outside the area (named in `removed`, or not brought by a reset
 * re-pull) while it has unsent changes stays on the replica with them: the server refuses them
 * (out of scope) and the person sees why. A key in sync_state marks such a record, so that
 * giving its changes up removes it (kh_replica_discard_rejected()), and its coming back into
 * the area puts its refused changes to the server again. Few records are ever marked, and only
 * records with outbox entries are looked up. */
static char *
outside_key (const char *entity,
             const char *id)
{
  return g_strconcat (KH_REPLICA_OUTSIDE_KEY, entity, ":", id, NULL);
}

gboolean
_kh_replica_is_outside (KhStore    *store,
                        const char *entity,
                        const char *id)
{
  g_autofree char *key = outside_key (entity, id);
  g_autofree char *value = kh_replica_get_state (store, key);

  return value != NULL;
}

gboolean
_kh_replica_set_outside (KhStore     *store,
                         const char  *entity,
                         const char  *id,
                         gboolean     outside,
                         GError     **error)
{
  g_autofree char *key = outside_key (entity, id);

  return kh_replica_set_state (store, key, outside ? "1" : NULL, error);
}

/* Changes the server refused as outside the area are judged again: the area (or the server's
 * history) changed since, so such a refusal may not hold any more. Refused again, they are
 * shown again. A change refused for any other reason stays refused and shown until the person
 * acts: sent again, it would be refused again after every reset. The marks of refusals that
 * are gone (given up, or put back here) go too. */
static gboolean
put_refused_again (KhStore     *store,
                   const char  *entity,
                   const char  *id,
                   GError     **error)
{
  sqlite3_stmt *stmt = kh_store_prepare (store,
    "UPDATE outbox SET state = 'pending', reason = NULL "
    "WHERE state = 'rejected' AND (? IS NULL OR (entity = ? AND record_id = ?)) "
    "AND EXISTS (SELECT 1 FROM sync_state WHERE key = '" KH_REPLICA_SCOPE_REFUSED_KEY "' || outbox.seq)", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, entity, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, entity, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, id, -1, SQLITE_STATIC);
  if (!kh_sqlite_step_done (stmt, "outbox", error))
    return FALSE;
  return kh_sqlite_exec (kh_store_get_db (store),
    "DELETE FROM sync_state WHERE key LIKE '" KH_REPLICA_SCOPE_REFUSED_KEY "%' AND NOT EXISTS "
    "(SELECT 1 FROM outbox o WHERE o.state = 'rejected' AND sync_state.key = '" KH_REPLICA_SCOPE_REFUSED_KEY "' || o.seq)",
    error);
}

/* The server sends a record that was outside the area: it is back in it. */
static gboolean
back_in_area (KhStore     *store,
              const char  *entity,
              const char  *id,
              GError     **error)
{
  if (!_kh_replica_is_outside (store, entity, id))
    return TRUE;
  return put_refused_again (store, entity, id, error)
         && _kh_replica_set_outside (store, entity, id, FALSE, error);
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
  local = _kh_replica_load_local (store, r.entity, r.id, error);
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

  key = _kh_replica_record_key (r.entity->name, r.id);
  if (g_hash_table_contains (with_entries, key))
    {
      guint n = 0;

      ok = back_in_area (store, r.entity->name, r.id, error)
           && _kh_replica_merge (store, &r, local, force, &n, error);
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
    g_hash_table_add (set, _kh_replica_record_key ((const char *) sqlite3_column_text (stmt, 0),
                                                   (const char *) sqlite3_column_text (stmt, 1)));
  sqlite3_reset (stmt);
  return set;
}

/* Record @id, with local changes, is not on the server at all (the server lost it in a restore
 * from a backup, or purged its tombstone): it is sent again as a new record, so nothing typed is
 * dropped. Its entry names every field the record has and every field the changes touched, a
 * field cleared included. The merge base stays: the changes were made on it, and another
 * replica may send the record again as new too, so that the server has it back under the same
 * id before this create reaches it. Merged then, a change counts against the state it was made
 * on; without it, the merge took what this create carried for the server's state (as for a
 * create made here whose answer was lost), and every field changed here looked unchanged. */
gboolean
_kh_replica_resend_as_new (KhStore         *store,
                           const KhEntity  *entity,
                           const char      *id,
                           GError         **error)
{
  g_autofree char *upd = g_strdup_printf ("UPDATE %s SET version = 0 WHERE id = ?", entity->name);
  json_object *local = _kh_replica_load_local (store, entity, id, error);
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GHashTable) touched = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  sqlite3_stmt *stmt;
  json_object *arr;
  gboolean ok;

  if (local == NULL)
    return error == NULL || *error == NULL;
  entries = _kh_replica_load_entries (store, entity->name, id, error);
  if (entries == NULL)
    {
      json_object_put (local);
      return FALSE;
    }
  for (guint k = 0; k < entries->len; k++)
    for (char **f = ((Entry *) entries->pdata[k])->fields; *f != NULL; f++)
      g_hash_table_add (touched, *f);
  for (guint k = 0; k < entity->n_fields; k++)
    if (get_member (local, entity->fields[k].name) != NULL
        || g_hash_table_contains (touched, entity->fields[k].name))
      g_ptr_array_add (names, (gpointer) entity->fields[k].name);
  stmt = kh_store_prepare (store, upd, error);
  ok = stmt != NULL;
  if (ok)
    {
      sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
      ok = kh_sqlite_step_done (stmt, "reset", error);
    }
  arr = _kh_replica_names_to_json (names);
  ok = ok && _kh_replica_delete_entries (store, entity->name, id, error)
       && _kh_replica_close_conflict (store, entity->name, id, NULL, error)
       && _kh_replica_set_outside (store, entity->name, id, FALSE, error)
       && kh_journal_add_outbox (store, entity->name, id, "create", arr, 0, NULL, error);
  json_object_put (arr);
  json_object_put (local);
  return ok;
}

/* At the end of a reset re-pull: what the server did not send is not in our scope any more
 * (moved out of the area, or the area changed), or the server lost it in a restore. Records
 * without local changes go. A record with local changes is kept as it is, marked outside the
 * area, its changes still to be sent as they were: the server refuses them as outside the area
 * with its reason, which the person sees, and when the area returns they are made; or it
 * answers that it has no such record, and then the record is sent again as a new one
 * (_kh_replica_resend_as_new()), so nothing typed is dropped. Sending it as a new record at
 * once made a record moved out of the area by someone else a second record. Then, when the
 * server asked for the re-pull (@server_reset), every change refused as outside the area is
 * put to the server again: the area (or the server's history) changed, so the refusal may not
 * hold any more. A repair's re-pull leaves them as they are. */
static gboolean
finish_reset (KhStore         *store,
              gboolean         server_reset,
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
        "SELECT id FROM %s t WHERE version > 0 AND NOT EXISTS "
        "(SELECT 1 FROM pull_seen p WHERE p.entity = ? AND p.record_id = t.id)", entity->name);
      g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
      sqlite3_stmt *stmt = kh_store_prepare (store, sql, error);

      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_text (stmt, 1, entity->name, -1, SQLITE_STATIC);
      while (sqlite3_step (stmt) == SQLITE_ROW)
        g_ptr_array_add (ids, g_strdup ((const char *) sqlite3_column_text (stmt, 0)));
      sqlite3_reset (stmt);

      for (guint i = 0; i < ids->len; i++)
        {
          const char *id = ids->pdata[i];

          if (kh_journal_count_entries (store, entity->name, id) == 0)
            {
              if (!_kh_replica_drop_record (store, entity, id, error))
                return FALSE;
              stats->removed++;
            }
          else if (!_kh_replica_set_outside (store, entity->name, id, TRUE, error))
            return FALSE;
        }
    }
  return (!server_reset || put_refused_again (store, NULL, NULL, error))
         && kh_sqlite_exec (kh_store_get_db (store), "DELETE FROM pull_seen", error)
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
  /* Not "1": a repair is not the server's reset, so refused changes stay as they are. */
  ok = kh_sqlite_exec (kh_store_get_db (store), "DELETE FROM pull_seen", error)
       && kh_replica_set_state (store, KH_SYNC_RESETTING, KH_REPLICA_RESETTING_REPAIR, error)
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
    return _kh_replica_bad_answer (error, _("there is no cursor"));
  n_removed = page->removed ? json_object_array_length (page->removed) : 0;

  if (!kh_store_begin (store, error))
    return FALSE;

  resetting_text = kh_replica_get_state (store, KH_SYNC_RESETTING);
  resetting = reset || resetting_text != NULL;
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
              ok = kh_sqlite_step_done (stmt, "pull_seen", error);
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
      g_autofree char *key = _kh_replica_record_key (entity->name, id);

      if (g_hash_table_contains (with_entries, key))
        {
          /* Kept and pushed; the server will say why it refuses. */
          ok = _kh_replica_set_outside (store, entity->name, id, TRUE, error);
          continue;
        }
      ok = _kh_replica_drop_record (store, entity, id, error);
      if (ok)
        counts.removed++;
    }

  if (ok)
    {
      g_autofree char *before = kh_replica_get_state (store, KH_SYNC_CURSOR);

      ok = _kh_replica_check_tree (store, page, reset || before == NULL || *before == '\0', !has_more, error);
    }
  ok = ok && kh_replica_set_state (store, KH_SYNC_CURSOR, cursor, error);
  if (ok && resetting && !has_more)
    ok = finish_reset (store, reset || g_strcmp0 (resetting_text, "1") == 0, &counts, error);

  /* The page's records are indexed for search at COMMIT, together (kh-schema.c). */
  if (!ok)
    {
      kh_store_rollback (store);
      return FALSE;
    }
  if (!kh_store_commit (store, error))
    return FALSE;

  _kh_replica_stats_add (stats, &counts);
  return TRUE;
}
