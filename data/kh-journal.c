/* kh-journal.c: what a local write keeps beside the record: its outbox entry, its merge base
 * and its audit rows
 *
 * The store writes these inside each local change, in the change's transaction; the replica
 * (sync/replica/) reads and rewrites them when it merges, pushes and resolves. Keeping them
 * here, below both, means the store never calls into sync.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-journal.h"
#include "kh-sqlite.h"
#include "kh-store-sql.h"
#include "kh-uuid.h"

static json_object *
journal_get_member (json_object *obj,
                    const char  *name)
{
  json_object *v = NULL;

  if (obj == NULL || !json_object_object_get_ex (obj, name, &v))
    return NULL;
  return v;
}

static const char *
journal_get_str (json_object *obj,
                 const char  *name)
{
  json_object *v = journal_get_member (obj, name);

  return v != NULL && json_object_is_type (v, json_type_string) ? json_object_get_string (v) : NULL;
}

/* Only the registry fields of a local record's JSON form. */
json_object *
kh_journal_fields_of (const KhEntity *entity,
                      json_object    *record)
{
  json_object *obj = json_object_new_object ();

  for (guint i = 0; i < entity->n_fields; i++)
    {
      json_object *v = journal_get_member (record, entity->fields[i].name);

      if (v != NULL)
        json_object_object_add (obj, entity->fields[i].name, json_object_get (v));
    }
  return obj;
}

/* The merge base ------------------------------------------------------------------------------ */

void
kh_journal_base_clear (KhJournalBase *base)
{
  g_clear_pointer (&base->data, json_object_put);
  base->known = FALSE;
}

gboolean
kh_journal_load_base (KhStore        *store,
                      const char     *entity,
                      const char     *id,
                      KhJournalBase  *base,
                      GError        **error)
{
  sqlite3_stmt *stmt = kh_store_prepare (store, "SELECT version, deleted, data FROM base "
                                                "WHERE entity = ? AND record_id = ?", error);
  int rc;

  memset (base, 0, sizeof *base);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, entity, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, id, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      base->known = TRUE;
      base->version = sqlite3_column_int64 (stmt, 0);
      base->deleted = sqlite3_column_int (stmt, 1) != 0;
      base->data = json_tokener_parse ((const char *) sqlite3_column_text (stmt, 2));
      if (base->data == NULL)
        base->data = json_object_new_object ();
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    {
      kh_sqlite_set_error (error, kh_store_get_db (store), "base");
      return FALSE;
    }
  return TRUE;
}

gboolean
kh_journal_save_base (KhStore      *store,
                      const char   *entity,
                      const char   *id,
                      gint64        version,
                      gboolean      deleted,
                      json_object  *data,
                      GError      **error)
{
  sqlite3_stmt *stmt = kh_store_prepare (store,
    "INSERT INTO base (entity, record_id, version, deleted, data) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (entity, record_id) DO UPDATE SET version = excluded.version, "
    "deleted = excluded.deleted, data = excluded.data", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, entity, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, id, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, version);
  sqlite3_bind_int (stmt, 4, deleted ? 1 : 0);
  sqlite3_bind_text (stmt, 5, json_object_to_json_string_ext (data, JSON_C_TO_STRING_PLAIN),
                     -1, SQLITE_TRANSIENT);
  return kh_sqlite_step_done (stmt, "base", error);
}

gboolean
kh_journal_drop_base (KhStore     *store,
                      const char  *entity,
                      const char  *id,
                      GError     **error)
{
  sqlite3_stmt *stmt = kh_store_prepare (store, "DELETE FROM base WHERE entity = ? AND record_id = ?", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, entity, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, id, -1, SQLITE_STATIC);
  return kh_sqlite_step_done (stmt, "base", error);
}

gint64
kh_journal_count_entries (KhStore    *store,
                          const char *entity,
                          const char *id)
{
  sqlite3_stmt *stmt = kh_store_prepare (store, "SELECT count(*) FROM outbox WHERE entity = ? AND record_id = ?", NULL);
  gint64 n = 0;

  if (stmt == NULL)
    return 0;
  sqlite3_bind_text (stmt, 1, entity, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    n = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return n;
}

/* Called inside a local write, before it changes @current: the first local change of a record
 * the server has seen keeps the server state it was made on, the base of a later three-way
 * merge. */
gboolean
kh_journal_keep_base (KhStore         *store,
                      const KhEntity  *entity,
                      json_object     *current,
                      GError         **error)
{
  const char *id = journal_get_str (current, "id");
  gint64 version = json_object_get_int64 (journal_get_member (current, "version"));
  sqlite3_stmt *stmt;
  gboolean exists;
  json_object *data;
  gboolean ok;

  if (version <= 0 || id == NULL || kh_journal_count_entries (store, entity->name, id) > 0)
    return TRUE;
  stmt = kh_store_prepare (store, "SELECT 1 FROM base WHERE entity = ? AND record_id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, entity->name, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, id, -1, SQLITE_STATIC);
  exists = sqlite3_step (stmt) == SQLITE_ROW;
  sqlite3_reset (stmt);
  if (exists)
    return TRUE;
  data = kh_journal_fields_of (entity, current);
  ok = kh_journal_save_base (store, entity->name, id, version,
                  json_object_get_boolean (journal_get_member (current, "deleted")), data, error);
  json_object_put (data);
  return ok;
}

/* Audit -------------------------------------------------------------------------------------- */

/* One row of a record's history: who changed what, when, from which value to which. */
gboolean
kh_journal_add_audit (KhStore     *self,
                      const char  *entity,
                      const char  *id,
                      const char  *now,
                      const char  *actor,
                      const char  *action,
                      const char  *field,
                      const char  *old_value,
                      const char  *new_value,
                      GError     **error)
{
  sqlite3_stmt *stmt = kh_store_prepare (self,
    "INSERT INTO audit (entity, record_id, at, actor, action, field, old_value, new_value) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, entity, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, now, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, actor, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, action, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 6, field, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 7, old_value, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 8, new_value, -1, SQLITE_STATIC);
  return kh_sqlite_step_done (stmt, "audit", error);
}

/* The outbox ---------------------------------------------------------------------------------- */

/* The union of an entry's field names and a later change's, in the order they came. */
static json_object *
union_of_names (const char  *pending_fields,
                json_object *fields)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  json_object *old = json_tokener_parse (pending_fields);
  json_object *merged = json_object_new_array ();

  for (size_t i = 0; old != NULL && i < json_object_array_length (old); i++)
    g_ptr_array_add (names, g_strdup (json_object_get_string (json_object_array_get_idx (old, i))));
  for (size_t i = 0; fields != NULL && i < json_object_array_length (fields); i++)
    {
      const char *name = json_object_get_string (json_object_array_get_idx (fields, i));
      gboolean seen = FALSE;

      for (guint k = 0; k < names->len; k++)
        if (strcmp (names->pdata[k], name) == 0)
          seen = TRUE;
      if (!seen)
        g_ptr_array_add (names, g_strdup (name));
    }
  for (guint k = 0; k < names->len; k++)
    json_object_array_add (merged, json_object_new_string (names->pdata[k]));
  json_object_put (old);
  return merged;
}

static gboolean
delete_entry (KhStore  *self,
              gint64    seq,
              GError  **error)
{
  sqlite3_stmt *stmt = kh_store_prepare (self, "DELETE FROM outbox WHERE seq = ?", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, seq);
  return kh_sqlite_step_done (stmt, "outbox", error);
}

/* Folds a change (@op on @fields) into the unsent entry @pending_seq of the same record. */
static gboolean
fold_into_entry (KhStore      *self,
                 gint64        pending_seq,
                 const char   *pending_op,
                 const char   *pending_fields,
                 const char   *op,
                 json_object  *fields,
                 const char   *now,
                 GError      **error)
{
  const char *new_op = pending_op;
  json_object *merged = union_of_names (pending_fields, fields);
  sqlite3_stmt *stmt;
  gboolean ok;

  if (strcmp (op, "delete") == 0)
    {
      if (strcmp (pending_op, "create") == 0)
        {
          /* The server never saw the record: nothing to send. */
          json_object_put (merged);
          return delete_entry (self, pending_seq, error);
        }
      new_op = "delete";
    }
  else if (strcmp (op, "restore") == 0 && strcmp (pending_op, "delete") == 0)
    new_op = json_object_array_length (merged) > 0 ? "update" : NULL;
  else if (strcmp (op, "restore") == 0 || strcmp (op, "create") == 0)
    new_op = op;

  if (new_op == NULL)
    {
      /* Undoing an unsent delete that carried no edits: nothing left to send. */
      json_object_put (merged);
      return delete_entry (self, pending_seq, error);
    }

  stmt = kh_store_prepare (self, "UPDATE outbox SET op = ?, fields = ?, updated_at = ? WHERE seq = ?", error);
  if (stmt == NULL)
    {
      json_object_put (merged);
      return FALSE;
    }
  sqlite3_bind_text (stmt, 1, new_op, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, json_object_to_json_string_ext (merged, JSON_C_TO_STRING_PLAIN), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, now, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 4, pending_seq);
  ok = kh_sqlite_step_done (stmt, "outbox", error);
  json_object_put (merged);
  return ok;
}

static gboolean
insert_entry (KhStore      *self,
              const char   *entity,
              const char   *id,
              const char   *op,
              json_object  *fields,
              gint64        base_version,
              const char   *now,
              GError      **error)
{
  g_autofree char *mutation_id = kh_uuid_v7_new ();
  sqlite3_stmt *stmt;

  stmt = kh_store_prepare (self,
                           "INSERT INTO outbox (mutation_id, entity, record_id, op, fields, base_version, created_at, updated_at) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, mutation_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, entity, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, op, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, fields ? json_object_to_json_string_ext (fields, JSON_C_TO_STRING_PLAIN) : "[]",
                     -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 6, base_version);
  sqlite3_bind_text (stmt, 7, now, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 8, now, -1, SQLITE_STATIC);
  return kh_sqlite_step_done (stmt, "outbox", error);
}

/* A person restored record @id here while a conflict on its deleted flag was open: deleted
 * here, edited on the server. Both sides now say the record is not deleted, so there is
 * nothing left to choose and the conflict closes. The server's edit it stood for is already in
 * the record (the merge took every field not changed here), and a field changed on both sides
 * has a conflict of its own. Left open, the conflict outlived the unsent delete the restore
 * undid, with nothing behind it, and "mine" would have sent nothing. A delete here against an
 * edit on the server stays open: the delete waits behind it, and a person chooses. */
gboolean
kh_journal_settle_restored (KhStore     *self,
                            const char  *entity,
                            const char  *id,
                            const char  *now,
                            GError     **error)
{
  return kh_journal_close_conflicts (self, entity, id, "deleted", "false", now, error);
}

/* Closes the open conflicts of a record: all of them, or those on @field (when not NULL) whose
 * server value is @remote_value (when not NULL). @now is the time, or NULL for now. */
gboolean
kh_journal_close_conflicts (KhStore     *self,
                            const char  *entity,
                            const char  *id,
                            const char  *field,
                            const char  *remote_value,
                            const char  *now,
                            GError     **error)
{
  g_autofree char *own_now = now == NULL ? kh_store_now () : NULL;
  sqlite3_stmt *stmt = kh_store_prepare (self,
    "UPDATE conflict SET resolved_at = ? WHERE entity = ? AND record_id = ? "
    "AND (?4 IS NULL OR field = ?4) AND (?5 IS NULL OR remote_value = ?5) AND resolved_at IS NULL", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, now != NULL ? now : own_now, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, entity, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, field, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, remote_value, -1, SQLITE_STATIC);
  return kh_sqlite_step_done (stmt, "conflict", error);
}

/* The outbox holds at most one unsent entry per record: a later local change is folded into
 * it (the union of changed fields; a delete replaces an edit; a delete of a record the server
 * never saw removes the entry). An entry that was already sent is left exactly as it was, so a
 * retry reuses its mutation id with the same content; the new change gets an entry of its own.
 * A @base_version below 0 says the record was created just now under a new id, so it has no
 * entry to fold into. @now is the change's time, or NULL for now. */
gboolean
kh_journal_add_outbox (KhStore      *self,
                       const char   *entity,
                       const char   *id,
                       const char   *op,
                       json_object  *fields,
                       gint64        base_version,
                       const char   *now,
                       GError      **error)
{
  g_autofree char *own_now = now == NULL ? kh_store_now () : NULL;
  g_autofree char *pending_op = NULL;
  g_autofree char *pending_fields = NULL;
  gint64 pending_seq = -1;
  sqlite3_stmt *stmt;

  if (now == NULL)
    now = own_now;
  if (base_version < 0)
    return insert_entry (self, entity, id, op, fields, 0, now, error);

  stmt = kh_store_prepare (self,
                           "SELECT seq, op, fields FROM outbox WHERE entity = ? AND record_id = ? "
                           "AND state = 'pending' AND attempts = 0 ORDER BY seq DESC LIMIT 1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, entity, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      pending_seq = sqlite3_column_int64 (stmt, 0);
      pending_op = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
      pending_fields = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
    }
  sqlite3_reset (stmt);

  if (pending_seq >= 0)
    return fold_into_entry (self, pending_seq, pending_op, pending_fields, op, fields, now, error);
  return insert_entry (self, entity, id, op, fields, base_version, now, error);
}

/* The net effect of a local change ------------------------------------------------------------ */

/* Whether two field values are the same value (an integer and a double of the same value are). */
static gboolean
journal_values_equal (json_object *a,
                      json_object *b)
{
  if (a == NULL || b == NULL)
    return a == b;
  if ((json_object_is_type (a, json_type_int) || json_object_is_type (a, json_type_double))
      && (json_object_is_type (b, json_type_int) || json_object_is_type (b, json_type_double)))
    return json_object_is_type (a, json_type_int) && json_object_is_type (b, json_type_int)
           ? json_object_get_int64 (a) == json_object_get_int64 (b)
           : json_object_get_double (a) == json_object_get_double (b);
  if (json_object_get_type (a) != json_object_get_type (b))
    return FALSE;
  if (json_object_is_type (a, json_type_string))
    return strcmp (json_object_get_string (a), json_object_get_string (b)) == 0;
  if (json_object_is_type (a, json_type_boolean))
    return json_object_get_boolean (a) == json_object_get_boolean (b);
  return json_object_equal (a, b) != 0;
}

/* The record's only entry is gone: the record holds nothing of its own any more. Its conflicts
 * are moot, its base goes, and when a conflict alone kept it alive against the server's delete,
 * it takes the server's delete. */
static gboolean
journal_no_change (KhStore         *self,
                   const KhEntity  *entity,
                   const char      *id,
                   gint64           seq,
                   gboolean         deleted,
                   gboolean         base_deleted,
                   const char      *now,
                   GError         **error)
{
  if (!delete_entry (self, seq, error)
      || !kh_journal_close_conflicts (self, entity->name, id, NULL, NULL, now, error))
    return FALSE;
  if (deleted != base_deleted)
    {
      g_autofree char *sql = g_strdup_printf ("UPDATE %s SET deleted = ? WHERE id = ?", entity->name);
      sqlite3_stmt *stmt = kh_store_prepare (self, sql, error);

      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int (stmt, 1, base_deleted ? 1 : 0);
      sqlite3_bind_text (stmt, 2, id, -1, SQLITE_STATIC);
      if (!kh_sqlite_step_done (stmt, "delete", error))
        return FALSE;
    }
  return kh_journal_drop_base (self, entity->name, id, error);
}

/* Called at the end of a person's write of record @id (its registry @fields and @deleted flag
 * as they are now), after the outbox entry was added: a local change counts by its net effect
 * against the merge base, the server's state it was made on (three-way merge). A field set and
 * set back to the base's value is no change: it leaves the entry, and a conflict on it is
 * moot. A delete and a restore with nothing else, or a delete of a record the server had
 * deleted, is no change either. An entry left with nothing to send goes, with the base, so the
 * server's state applies as it does to a record never changed here. Judged only when the
 * record's one entry is the unsent one just written: an entry on its way, or refused, was made
 * on another state than the base. */
gboolean
kh_journal_settle_net (KhStore         *self,
                       const KhEntity  *entity,
                       const char      *id,
                       json_object     *fields,
                       gboolean         deleted,
                       const char      *now,
                       GError         **error)
{
  KhJournalBase base = { 0 };
  sqlite3_stmt *stmt;
  gint64 seq = -1;
  int n = 0;
  g_autofree char *op = NULL;
  json_object *names = NULL;
  json_object *kept = NULL;
  gboolean ok = TRUE;
  int rc;

  if (!kh_journal_load_base (self, entity->name, id, &base, error))
    return FALSE;
  if (!base.known)
    return TRUE;

  stmt = kh_store_prepare (self, "SELECT seq, op, fields, state = 'pending' AND attempts = 0 FROM outbox "
                                 "WHERE entity = ? AND record_id = ? LIMIT 2", error);
  if (stmt == NULL)
    {
      kh_journal_base_clear (&base);
      return FALSE;
    }
  sqlite3_bind_text (stmt, 1, entity->name, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, id, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      n++;
      if (sqlite3_column_int (stmt, 3) == 0)
        continue;
      seq = sqlite3_column_int64 (stmt, 0);
      g_free (op);
      op = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
      json_object_put (names);
      names = json_tokener_parse ((const char *) sqlite3_column_text (stmt, 2));
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      kh_sqlite_set_error (error, kh_store_get_db (self), "outbox");
      ok = FALSE;
      goto out;
    }
  if (n != 1 || seq < 0 || strcmp (op, "create") == 0)
    goto out;

  if (deleted && base.deleted)
    {
      /* Deleted here as it is on the server: the edits made before go with the delete. */
      ok = journal_no_change (self, entity, id, seq, deleted, base.deleted, now, error);
      goto out;
    }

  kept = json_object_new_array ();
  for (size_t k = 0; names != NULL && json_object_is_type (names, json_type_array)
                     && k < json_object_array_length (names); k++)
    {
      const char *name = json_object_get_string (json_object_array_get_idx (names, k));

      if (!journal_values_equal (journal_get_member (fields, name), journal_get_member (base.data, name)))
        json_object_array_add (kept, json_object_new_string (name));
      else if (!kh_journal_close_conflicts (self, entity->name, id, name, NULL, now, error))
        {
          ok = FALSE;
          goto out;
        }
    }

  if (deleted == base.deleted || strcmp (op, "update") == 0)
    {
      /* The flag is as on the server, or a conflict alone keeps the record alive against the
       * server's delete: what is left to send is an update of the fields that differ. */
      if (json_object_array_length (kept) == 0)
        ok = journal_no_change (self, entity, id, seq, deleted, base.deleted, now, error);
      else
        {
          stmt = kh_store_prepare (self, "UPDATE outbox SET op = 'update', fields = ? WHERE seq = ?", error);
          ok = stmt != NULL;
          if (ok)
            {
              sqlite3_bind_text (stmt, 1, json_object_to_json_string_ext (kept, JSON_C_TO_STRING_PLAIN), -1,
                                 SQLITE_TRANSIENT);
              sqlite3_bind_int64 (stmt, 2, seq);
              ok = kh_sqlite_step_done (stmt, "outbox", error);
            }
          if (ok && deleted == base.deleted)
            ok = kh_journal_close_conflicts (self, entity->name, id, "deleted", NULL, now, error);
        }
      goto out;
    }

  /* A delete or a restore against the base: it stays, with the fields that still differ. */
  stmt = kh_store_prepare (self, "UPDATE outbox SET fields = ? WHERE seq = ?", error);
  ok = stmt != NULL;
  if (ok)
    {
      sqlite3_bind_text (stmt, 1, json_object_to_json_string_ext (kept, JSON_C_TO_STRING_PLAIN), -1,
                         SQLITE_TRANSIENT);
      sqlite3_bind_int64 (stmt, 2, seq);
      ok = kh_sqlite_step_done (stmt, "outbox", error);
    }

out:
  json_object_put (names);
  json_object_put (kept);
  kh_journal_base_clear (&base);
  return ok;
}
