/* kh-replica-merge.c: the three-way merge
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-journal.h"
#include "kh-replica-private.h"
#include "kh-uuid.h"

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

/* One merge's inputs and what its steps find, passed from step to step. */
typedef struct
{
  KhStore        *store;
  const Remote   *r;
  json_object    *local;
  const KhEntity *entity;
  GPtrArray      *entries;                /* the record's outbox entries */
  GHashTable     *pending;                /* the fields they change */
  GHashTable     *open;                   /* the fields with an open conflict */
  KhJournalBase   base;
  gboolean        base_usable;
  gboolean        local_deleted;
  gboolean        local_changed_deleted;  /* the entries delete or restore, or the base differs */
  const char     *local_at;
  guint           n_conflicts;
} Merge;

/* Raises (or renews) a conflict on @name, counted when it was not open already. */
static gboolean
conflict_on (Merge       *m,
             const char  *name,
             const char  *base_value,
             const char  *local_value,
             const char  *remote_value,
             GError     **error)
{
  const Remote *r = m->r;

  if (!_kh_replica_raise_conflict (m->store, m->entity->name, r->id, name, base_value, local_value,
                                   remote_value, r->version, r->updated_by, r->updated_at,
                                   m->local_at, error))
    return FALSE;
  if (!g_hash_table_contains (m->open, name))
    m->n_conflicts++;
  return TRUE;
}

/* The fields the entries change and whether they delete or restore, and the base of a create
 * whose answer was lost. */
static void
merge_read_entries (Merge  *m,
                    gint64  local_version)
{
  gboolean local_created = local_version == 0;

  for (guint i = 0; i < m->entries->len; i++)
    {
      Entry *e = m->entries->pdata[i];

      for (guint k = 0; e->fields[k] != NULL; k++)
        g_hash_table_add (m->pending, e->fields[k]);
      if (strcmp (e->op, "delete") == 0 || strcmp (e->op, "restore") == 0)
        m->local_changed_deleted = TRUE;
    }

  /* A local create that was sent and whose answer was lost: the record exists on the server,
   * so the server applied it (its id was made here), and what the create carried is the base
   * the server's later edits started from. Without it, another person's edit made before the
   * next pull looked like a change on both sides. */
  if (!m->base.known && local_created)
    for (guint i = 0; i < m->entries->len; i++)
      {
        Entry *e = m->entries->pdata[i];

        if (strcmp (e->op, "create") == 0 && e->sent != NULL && e->attempts > 0
            && strcmp (e->state, "pending") == 0)
          {
            m->base.known = TRUE;
            m->base.version = 0;
            m->base.deleted = FALSE;
            m->base.data = json_object_get (e->sent);
          }
      }

  /* A local create not yet seen by the server has an empty base: the record did not exist.
   * Without a kept base for an older record, every locally changed field that differs is
   * treated as a conflict. */
  m->base_usable = m->base.known || local_created;
  /* An entry that deletes or restores is a change of the flag even when the record's flag is
   * the base's: a person who deletes a record while a conflict keeps it on screen against the
   * server's delete makes the base (saved from that delete) say "deleted" too, and a restore
   * on the server since then must not take the record back from under the waiting delete. */
  if (m->base.known && m->local_deleted != m->base.deleted)
    m->local_changed_deleted = TRUE;
}

/* Whether someone else changed a field on the server since the base. */
static gboolean
remote_changed_fields (Merge  *m,
                       gint64  local_version)
{
  const Remote *r = m->r;

  for (guint i = 0; i < m->entity->n_fields; i++)
    {
      const char *name = m->entity->fields[i].name;
      json_object *b = m->base.known ? get_member (m->base.data, name) : NULL;

      if (m->base_usable ? !json_equal (get_member (r->fields, name), b) : r->version > local_version)
        {
          /* The replica's own edit coming back is not someone else's. */
          if (!is_own_echo (m->entries, name, get_member (r->fields, name)))
            return TRUE;
        }
    }
  return FALSE;
}

/* The merged deleted flag into @new_deleted; a delete against an edit is a conflict. */
static gboolean
merge_deleted (Merge     *m,
               gboolean   remote_changed,
               gboolean  *new_deleted,
               GError   **error)
{
  const Remote *r = m->r;

  if (m->local_deleted == r->deleted)
    *new_deleted = m->local_deleted;
  else if (!m->local_changed_deleted)
    {
      if (r->deleted && g_hash_table_size (m->pending) > 0)
        {
          /* Edited here, deleted there: keep the edit on screen, ask a person. */
          *new_deleted = m->local_deleted;
          if (!conflict_on (m, KH_CONFLICT_DELETED, "false", "false", "true", error))
            return FALSE;
        }
      else
        *new_deleted = r->deleted;
    }
  else
    {
      *new_deleted = m->local_deleted;
      /* Deleted here, edited (or restored) there. */
      if (m->local_deleted && (remote_changed || (m->base.known && r->deleted != m->base.deleted))
          && !conflict_on (m, KH_CONFLICT_DELETED, "false", "true", "false", error))
        return FALSE;
    }
  if (m->local_deleted == r->deleted && g_hash_table_contains (m->open, KH_CONFLICT_DELETED)
      && !_kh_replica_close_conflict (m->store, m->entity->name, r->id, KH_CONFLICT_DELETED, error))
    return FALSE;
  return TRUE;
}

/* The merged value of each field into @new_fields: one side's change taken, a change on both
 * sides kept local and raised as a conflict; the server's changes audited. */
static gboolean
merge_fields (Merge        *m,
              json_object  *new_fields,
              GError      **error)
{
  const Remote *r = m->r;

  for (guint i = 0; i < m->entity->n_fields; i++)
    {
      const char *name = m->entity->fields[i].name;
      gboolean pending = g_hash_table_contains (m->pending, name);
      json_object *rv = get_member (r->fields, name);
      json_object *lv = get_member (m->local, name);
      json_object *bv = m->base.known ? get_member (m->base.data, name) : NULL;
      json_object *v;

      if (!pending)
        v = rv;
      else if (json_equal (rv, lv))
        {
          v = lv;
          if (g_hash_table_contains (m->open, name)
              && !_kh_replica_close_conflict (m->store, m->entity->name, r->id, name, error))
            return FALSE;
        }
      else if ((m->base_usable && json_equal (rv, bv)) || is_own_echo (m->entries, name, rv))
        v = lv;
      else if (m->base.known && json_equal (lv, bv))
        v = rv;
      else
        {
          g_autofree char *bt = _kh_replica_value_text (bv);
          g_autofree char *lt = _kh_replica_value_text (lv);
          g_autofree char *rt = _kh_replica_value_text (rv);

          v = lv;
          if (!conflict_on (m, name, bt, lt, rt, error))
            return FALSE;
        }
      if (v != NULL)
        json_object_object_add (new_fields, name, json_object_get (v));

      if (!pending && !json_equal (lv, rv))
        {
          g_autofree char *old_text = kh_store_value_to_text (lv);
          g_autofree char *new_text = kh_store_value_to_text (rv);

          if (!kh_journal_add_audit (m->store, m->entity->name, r->id, r->updated_at, r->updated_by,
                                     "remote", name, old_text, new_text, error))
            return FALSE;
        }
    }
  return TRUE;
}

/* The local changes are now made on the server's state at r->version. A create the server
 * already has becomes an update of what still differs. */
static gboolean
rebase_creates (Merge        *m,
                json_object  *new_fields,
                GError      **error)
{
  const Remote *r = m->r;

  for (guint i = 0; i < m->entries->len; i++)
    {
      Entry *e = m->entries->pdata[i];
      g_autoptr(GPtrArray) names = NULL;
      g_autofree char *mutation_id = NULL;
      sqlite3_stmt *stmt;
      json_object *arr;

      if (strcmp (e->op, "create") != 0)
        continue;
      names = g_ptr_array_new ();
      for (guint k = 0; k < m->entity->n_fields; k++)
        {
          const char *name = m->entity->fields[k].name;

          if (!json_equal (get_member (new_fields, name), get_member (r->fields, name)))
            g_ptr_array_add (names, (gpointer) name);
        }
      if (names->len == 0 && m->local_deleted == r->deleted)
        {
          if (!_kh_replica_delete_entry (m->store, e->seq, error))
            return FALSE;
          continue;
        }
      mutation_id = kh_uuid_v7_new ();
      stmt = kh_store_prepare (m->store, "UPDATE outbox SET op = ?, mutation_id = ?, fields = ?, attempts = 0 "
                                         "WHERE seq = ?", error);
      if (stmt == NULL)
        return FALSE;
      arr = _kh_replica_names_to_json (names);
      sqlite3_bind_text (stmt, 1, m->local_deleted && !r->deleted ? "delete"
                                  : (!m->local_deleted && r->deleted ? "restore" : "update"), -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 2, mutation_id, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 3, json_object_to_json_string_ext (arr, JSON_C_TO_STRING_PLAIN), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (stmt, 4, e->seq);
      json_object_put (arr);
      if (!kh_sqlite_step_done (stmt, "outbox", error))
        return FALSE;
    }
  return _kh_replica_rebase_entries (m->store, m->entity->name, r->id, r->version, error);
}

/* A record deleted here and on the server: both agree, so the delete is done. What the record's
 * waiting entries would still send (edits made before the delete here) can never apply to a
 * tombstone, and the server answers an update of it with a conflict each time: they go, with
 * the record's open conflicts, and the record takes the server's state. Entries the server
 * refused stay for the person to see and discard. */
static gboolean
merge_both_deleted (Merge   *m,
                    GError **error)
{
  const Remote *r = m->r;
  gboolean refused = FALSE;
  json_object *new_fields;
  gboolean ok;

  for (guint i = 0; i < m->entries->len; i++)
    {
      Entry *e = m->entries->pdata[i];

      if (strcmp (e->state, "pending") != 0)
        refused = TRUE;
      else if (!_kh_replica_delete_entry (m->store, e->seq, error))
        return FALSE;
    }
  /* With nothing pending, merge_fields() takes the server's value of every field and audits
   * what changes. */
  g_hash_table_remove_all (m->pending);
  new_fields = json_object_new_object ();
  ok = _kh_replica_close_conflict (m->store, m->entity->name, r->id, NULL, error)
       && merge_fields (m, new_fields, error)
       && _kh_replica_write_state (m->store, m->entity, r->id, FALSE, r->version, TRUE, new_fields, NULL,
                                   r->updated_at, r->updated_by, error)
       && (refused ? kh_journal_save_base (m->store, m->entity->name, r->id, r->version, TRUE, r->fields, error)
                   : kh_journal_drop_base (m->store, m->entity->name, r->id, error));
  json_object_put (new_fields);
  return ok;
}

/* The three-way merge of a record with unsent local changes. Returns the number of conflicts
 * raised in @n_conflicts. */
gboolean
_kh_replica_merge (KhStore      *store,
                   Remote       *r,
                   json_object  *local,
                   gboolean      force,
                   guint        *n_conflicts,
                   GError      **error)
{
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GHashTable) pending = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) open = NULL;
  gint64 local_version = json_object_get_int64 (get_member (local, "version"));
  Merge m = { store, r, local, r->entity, NULL, pending, NULL, { 0 }, FALSE,
              json_object_get_boolean (get_member (local, "deleted")), FALSE,
              get_str (local, "updated_at"), 0 };
  json_object *new_fields = NULL;
  gboolean new_deleted;
  gboolean ok = FALSE;

  *n_conflicts = 0;
  if (!force && local_version > r->version)
    return TRUE;

  entries = _kh_replica_load_entries (store, r->entity->name, r->id, error);
  if (entries == NULL || !kh_journal_load_base (store, r->entity->name, r->id, &m.base, error))
    goto out;
  m.entries = entries;
  m.open = open = _kh_replica_open_conflict_fields (store, r->entity->name, r->id);
  merge_read_entries (&m, local_version);
  if (m.local_deleted && r->deleted)
    {
      ok = merge_both_deleted (&m, error);
      goto out;
    }
  /* A field in an open conflict holds the local value until a person chooses, whatever the
   * outbox says. */
  {
    GHashTableIter iter;
    gpointer name;

    g_hash_table_iter_init (&iter, open);
    while (g_hash_table_iter_next (&iter, &name, NULL))
      if (strcmp (name, KH_CONFLICT_DELETED) != 0)
        g_hash_table_add (pending, name);
  }

  new_fields = json_object_new_object ();
  ok = merge_deleted (&m, remote_changed_fields (&m, local_version), &new_deleted, error)
       && merge_fields (&m, new_fields, error)
       && _kh_replica_write_state (store, r->entity, r->id, FALSE, r->version, new_deleted, new_fields, NULL,
                                   m.local_at, get_str (local, "updated_by"), error)
       && kh_journal_save_base (store, r->entity->name, r->id, r->version, r->deleted, r->fields, error)
       && rebase_creates (&m, new_fields, error);

out:
  *n_conflicts = m.n_conflicts;
  json_object_put (new_fields);
  kh_journal_base_clear (&m.base);
  return ok;
}
