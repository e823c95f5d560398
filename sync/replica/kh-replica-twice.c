/* kh-replica-twice.c: a registration the server already had from another computer
 *
 * Two replicas offline can both register the same subject for the same model and year; the
 * server takes the first and answers the second `rejected`, code `already_registered`, with the
 * registration it kept (sync/server/kh-server-twice.c). A refusal would leave the officer one
 * way out, giving this one up; but the two are the same registration entered twice, so the
 * answer becomes a conflict of its own kind (KH_CONFLICT_REGISTERED) on the registration made
 * here, with two ways out:
 *
 * - keep the other: this registration goes (the server never had it, so nothing is sent), and
 *   the records here that name it (evaluations, recognitions, attachments) name the other;
 * - merge into one: the same, and the details entered here that the other lacks are written
 *   to it as an ordinary local edit; a detail both have with different values is a conflict on
 *   that field, as a merge makes it.
 *
 * Until then the registration's create waits behind the conflict, and so do the changes of
 * the records that name it, and of the records that name those while the server has not had
 * them either (a file attached to an evaluation of the registration): sent, the server would
 * refuse each one for naming a record it does not have. A record of the same batch as the
 * registration that the server refused for that reason goes back to waiting instead of being
 * shown as refused.
 *
 * A change of a registration the server has (a year changed, a withdrawn one registered again)
 * that would make it a second one stays a refused change: there are not two registrations to
 * make one of.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include "kh-error.h"
#include "kh-journal.h"
#include "kh-record-item.h"
#include "kh-replica-private.h"
#include "kh-uuid.h"

/* A field of @entity that names a registration in @record: a reference to registrations, or to
 * a kind of record another field says (an attachment's owner). */
static gboolean
names_registration (const KhEntity *entity,
                    const KhField  *f,
                    json_object    *record)
{
  if (f->type != KH_FIELD_REF)
    return FALSE;
  if (f->ref_entity != NULL)
    return strcmp (f->ref_entity, "registration") == 0;
  return f->ref_kind != NULL && (record == NULL || g_strcmp0 (get_str (record, f->ref_kind), "registration") == 0);
}

/* Whether field @f of @entity may name a registration (a registration's own subject never does:
 * its kinds are people, households, clans and units). */
static gboolean
may_name (const KhEntity *entity,
          const KhField  *f)
{
  return names_registration (entity, f, NULL)
         && (f->ref_entity != NULL || strcmp (entity->name, "registration") != 0);
}

/* The ids of the registrations waiting behind a KH_CONFLICT_REGISTERED conflict, or NULL when
 * there are none (the usual case). */
GHashTable *
_kh_replica_held_registrations (KhStore  *store,
                                GError  **error)
{
  sqlite3_stmt *stmt = kh_store_prepare (store, "SELECT record_id FROM conflict WHERE entity = 'registration' "
                                                "AND field = ? AND resolved_at IS NULL", error);
  GHashTable *held = NULL;
  int rc;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, KH_CONFLICT_REGISTERED, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      if (held == NULL)
        held = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      g_hash_table_add (held, g_strdup ((const char *) sqlite3_column_text (stmt, 0)));
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      kh_sqlite_set_error (error, kh_store_get_db (store), "conflict");
      g_clear_pointer (&held, g_hash_table_unref);
    }
  return held;
}

/* Whether the record @local of @entity names a record in @held: a registration waiting behind
 * its conflict, or a record the server has never had that waits with one (the batch being
 * taken adds those as it meets them, in the order they were made). */
gboolean
_kh_replica_names_held (const KhEntity *entity,
                        json_object    *local,
                        GHashTable     *held)
{
  if (held == NULL || local == NULL)
    return FALSE;
  for (guint k = 0; k < entity->n_fields; k++)
    {
      const KhField *f = &entity->fields[k];
      const char *v;

      if (f->type != KH_FIELD_REF || (v = get_str (local, f->name)) == NULL)
        continue;
      if (g_hash_table_contains (held, v))
        return TRUE;
    }
  return FALSE;
}

/* Whether the record @local of @entity waits behind a registration in @held: it names one, or
 * names a record here that the server has never had and that waits so itself, @depth links
 * down at most. */
static gboolean
waits_behind (KhStore         *store,
              const KhEntity  *entity,
              json_object     *local,
              GHashTable      *held,
              guint            depth,
              gboolean        *result,
              GError         **error)
{
  *result = _kh_replica_names_held (entity, local, held);
  for (guint k = 0; !*result && depth > 0 && k < entity->n_fields; k++)
    {
      const KhField *f = &entity->fields[k];
      const KhEntity *target;
      json_object *named;
      const char *v;
      gboolean ok;

      if (f->type != KH_FIELD_REF || (v = get_str (local, f->name)) == NULL)
        continue;
      target = kh_entity_lookup (f->ref_entity != NULL ? f->ref_entity : get_str (local, f->ref_kind));
      if (target == NULL)
        continue;
      named = _kh_replica_load_local (store, target, v, error);
      if (named == NULL)
        {
          if (error != NULL && *error != NULL)
            return FALSE;
          continue;
        }
      ok = json_object_get_int64 (get_member (named, "version")) != 0
           || waits_behind (store, target, named, held, depth - 1, result, error);
      json_object_put (named);
      if (!ok)
        return FALSE;
    }
  return TRUE;
}

/* The server's `already_registered` answer to the create of registration @id (@m, entry @seq)
 * becomes a conflict; its create stays, unsent, behind it. */
static gboolean
raise_registered (KhStore      *store,
                  json_object  *res,
                  json_object  *local,
                  const char   *id,
                  GError      **error)
{
  json_object *other = get_member (res, "registered");
  g_autofree char *mine = NULL;
  g_autofree char *theirs = NULL;
  json_object *v;

  v = json_object_new_string (id);
  mine = _kh_replica_value_text (v);
  json_object_put (v);
  v = json_object_new_string (get_str (other, "id"));
  theirs = _kh_replica_value_text (v);
  json_object_put (v);
  return _kh_replica_raise_conflict (store, "registration", id, KH_CONFLICT_REGISTERED, NULL, mine, theirs, 0,
                                     get_str (other, "by"), get_str (other, "at"),
                                     get_str (local, "created_at") ? get_str (local, "created_at")
                                                                   : get_str (local, "updated_at"),
                                     error);
}

/* A change of a record that names a registration waiting behind its conflict goes back to
 * waiting, as if never sent (a new mutation id: the old one was answered). */
static gboolean
requeue (KhStore  *store,
         gint64    seq,
         GError  **error)
{
  g_autofree char *mutation_id = kh_uuid_v7_new ();
  sqlite3_stmt *stmt = kh_store_prepare (store, "UPDATE outbox SET mutation_id = ?, attempts = 0, sent = NULL "
                                                "WHERE seq = ?", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, mutation_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, seq);
  return kh_sqlite_step_done (stmt, "outbox", error);
}

/* Judges the server's refusal @res of mutation @m (entry @seq, still pending) for what this
 * file knows: a registration made here that the server already has from elsewhere
 * (KH_REPLICA_TWICE_CONFLICT), or a record waiting behind a registration held back so
 * (KH_REPLICA_TWICE_REQUEUED); else KH_REPLICA_TWICE_NONE, and the refusal is an ordinary one. */
gboolean
_kh_replica_twice_rejected (KhStore            *store,
                            json_object        *res,
                            json_object        *m,
                            gint64              seq,
                            KhReplicaTwice     *outcome,
                            GError            **error)
{
  const KhEntity *entity = kh_entity_lookup (get_str (m, "entity"));
  const char *id = get_str (m, "id");
  const char *op = get_str (m, "op");
  g_autoptr(GHashTable) held = NULL;
  json_object *local;
  gboolean waits = FALSE;
  gboolean ok = TRUE;

  *outcome = KH_REPLICA_TWICE_NONE;
  if (entity == NULL || id == NULL || op == NULL || strcmp (op, "delete") == 0)
    return TRUE;
  if (strcmp (entity->name, "registration") == 0 && strcmp (op, "create") == 0
      && g_strcmp0 (get_str (res, "code"), "already_registered") == 0
      && get_str (get_member (res, "registered"), "id") != NULL)
    {
      local = _kh_replica_load_local (store, entity, id, error);
      if (local == NULL)
        return error == NULL || *error == NULL;
      if (json_object_get_int64 (get_member (local, "version")) == 0)
        {
          ok = raise_registered (store, res, local, id, error);
          *outcome = KH_REPLICA_TWICE_CONFLICT;
        }
      json_object_put (local);
      return ok;
    }
  held = _kh_replica_held_registrations (store, error);
  if (held == NULL)
    return error == NULL || *error == NULL;
  local = _kh_replica_load_local (store, entity, id, error);
  if (local == NULL)
    return error == NULL || *error == NULL;
  /* Four links: a file attached to an evaluation of a registration is two. */
  ok = waits_behind (store, entity, local, held, 4, &waits, error);
  if (ok && waits)
    {
      ok = requeue (store, seq, error);
      *outcome = KH_REPLICA_TWICE_REQUEUED;
    }
  json_object_put (local);
  return ok;
}

/* Resolving --------------------------------------------------------------------------------- */

typedef struct
{
  const KhEntity *entity;
  char           *id;
  const char     *field;
} Reference;

static void
reference_free (gpointer data)
{
  Reference *r = data;

  g_free (r->id);
  g_free (r);
}

/* The live records here that name registration @id. */
static GPtrArray *
find_references (KhStore     *store,
                 const char  *id,
                 GError     **error)
{
  g_autoptr(GPtrArray) refs = g_ptr_array_new_with_free_func (reference_free);
  const KhEntity * const *entities;
  guint n;

  entities = kh_entities (&n);
  for (guint e = 0; e < n; e++)
    for (guint k = 0; k < entities[e]->n_fields; k++)
      {
        const KhField *f = &entities[e]->fields[k];
        g_autofree char *sql = NULL;
        sqlite3_stmt *stmt;
        int rc;

        if (!may_name (entities[e], f))
          continue;
        sql = f->ref_entity != NULL
              ? g_strdup_printf ("SELECT id FROM %s WHERE %s = ? AND deleted = 0", entities[e]->name, f->name)
              : g_strdup_printf ("SELECT id FROM %s WHERE %s = ? AND %s = 'registration' AND deleted = 0",
                                 entities[e]->name, f->name, f->ref_kind);
        stmt = kh_store_prepare (store, sql, error);
        if (stmt == NULL)
          return NULL;
        sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
        while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
          {
            Reference *r = g_new0 (Reference, 1);

            r->entity = entities[e];
            r->id = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
            r->field = f->name;
            g_ptr_array_add (refs, r);
          }
        sqlite3_reset (stmt);
        if (rc != SQLITE_DONE)
          {
            kh_sqlite_set_error (error, kh_store_get_db (store), entities[e]->name);
            return NULL;
          }
      }
  return g_steal_pointer (&refs);
}

/* What a person entered on a registration and a merge brings over: not what makes it the same
 * registration (the subject, the model, the year), not what the store keeps from its
 * evaluations and recognitions (state, result, score, and the status "evaluated"; both are
 * live, so neither is withdrawn), not the dossier's steps, which only their own actions
 * change. */
static gboolean
merged_field (const char *name)
{
  static const char * const not_merged[] = {
    "model", "year", "subject_kind", "subject_id", "status", "state", "result", "total", "dossier",
    "reopen_reason",
  };

  for (guint i = 0; i < G_N_ELEMENTS (not_merged); i++)
    if (strcmp (name, not_merged[i]) == 0)
      return FALSE;
  return TRUE;
}

/* Writes to the kept registration @other the details of @mine it lacks or has otherwise, as a
 * person's edit; a detail both have with different values is a conflict on it, as a merge of
 * two edits makes it ("mine" this registration's value, "theirs" the other's). */
static gboolean
merge_details (KhStore         *store,
               const KhEntity  *entity,
               const char      *other_id,
               json_object     *mine,
               json_object     *other,
               GError         **error)
{
  json_object *changes = json_object_new_object ();
  g_autoptr(GPtrArray) both = g_ptr_array_new ();
  gboolean ok = TRUE;

  for (guint k = 0; k < entity->n_fields; k++)
    {
      const char *name = entity->fields[k].name;
      json_object *v = get_member (mine, name);
      json_object *o = get_member (other, name);

      if (!merged_field (name) || v == NULL || json_equal (v, o))
        continue;
      json_object_object_add (changes, name, json_object_get (v));
      if (o != NULL)
        g_ptr_array_add (both, (gpointer) name);
    }
  if (json_object_object_length (changes) > 0)
    ok = kh_store_update (store, entity->name, other_id, changes, error);
  for (guint i = 0; ok && i < both->len; i++)
    {
      const char *name = both->pdata[i];
      g_autofree char *local_text = _kh_replica_value_text (get_member (mine, name));
      g_autofree char *remote_text = _kh_replica_value_text (get_member (other, name));
      g_autofree char *now = kh_store_now ();

      ok = _kh_replica_raise_conflict (store, entity->name, other_id, name, NULL, local_text, remote_text,
                                       json_object_get_int64 (get_member (other, "version")),
                                       get_str (other, "updated_by"), get_str (other, "updated_at"), now, error);
    }
  json_object_put (changes);
  return ok;
}

/* Moves each record in @refs from the registration given up to @other_id, as a person's edit
 * (every rule of the record still holds: a record locked by its decision is not moved, and the
 * resolution is refused with the reason). */
static gboolean
move_references (KhStore     *store,
                 GPtrArray   *refs,
                 const char  *other_id,
                 GError     **error)
{
  for (guint i = 0; i < refs->len; i++)
    {
      Reference *r = refs->pdata[i];
      json_object *changes = json_object_new_object ();
      g_autoptr(GError) local_error = NULL;
      gboolean ok;

      json_object_object_add (changes, r->field, json_object_new_string (other_id));
      ok = kh_store_update (store, r->entity->name, r->id, changes, &local_error);
      json_object_put (changes);
      if (!ok)
        {
          g_autofree char *title = kh_store_dup_title (store, r->entity->name, r->id);

          g_set_error (error, KH_DATA_ERROR, local_error->code,
                       _("%s “%s” names this registration and cannot be moved to the other one: %s"),
                       _(r->entity->label), title ? title : r->id, local_error->message);
          return FALSE;
        }
    }
  return TRUE;
}

/* Resolves the KH_CONFLICT_REGISTERED conflict of registration @id: KH_RESOLVE_THEIRS keeps the
 * other registration, KH_RESOLVE_MERGE merges this one into it (see the top of this file). One
 * transaction: the registration here goes, the records naming it name the other, and with a
 * merge its details go to the other. */
gboolean
_kh_replica_resolve_registered (KhStore          *store,
                                const char       *id,
                                KhResolveChoice   choice,
                                GError          **error)
{
  const KhEntity *entity = kh_entity_lookup ("registration");
  sqlite3_stmt *stmt;
  g_autofree char *remote_text = NULL;
  g_autofree char *now = NULL;
  g_autoptr(GPtrArray) refs = NULL;
  json_object *other_value = NULL;
  const char *other_id;
  json_object *mine = NULL;
  json_object *other = NULL;
  gboolean found;
  gboolean ok = FALSE;

  if (!kh_store_begin (store, error))
    return FALSE;
  stmt = kh_store_prepare (store, "SELECT remote_value FROM conflict WHERE entity = 'registration' "
                                  "AND record_id = ? AND field = ? AND resolved_at IS NULL", error);
  if (stmt == NULL)
    goto out;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, KH_CONFLICT_REGISTERED, -1, SQLITE_STATIC);
  found = sqlite3_step (stmt) == SQLITE_ROW;
  if (found)
    remote_text = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_reset (stmt);
  other_value = found ? _kh_replica_parse_value_text (remote_text) : NULL;
  other_id = other_value != NULL && json_object_is_type (other_value, json_type_string)
             ? json_object_get_string (other_value) : NULL;
  if (other_id == NULL)
    {
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_NOT_FOUND,
                   _("There is no open conflict on “%s” of the record “%s”."), KH_CONFLICT_REGISTERED, id);
      goto out;
    }
  if (choice != KH_RESOLVE_THEIRS && choice != KH_RESOLVE_MERGE)
    {
      g_set_error_literal (error, KH_DATA_ERROR, KH_DATA_ERROR_CONFLICT,
                           _("This subject was registered for the same model and year on another computer "
                             "first: keep the other registration, or merge this one into it."));
      goto out;
    }
  mine = _kh_replica_load_local (store, entity, id, error);
  if (mine == NULL)
    goto out;
  other = _kh_replica_load_local (store, entity, other_id, error);
  if (other == NULL && error != NULL && *error != NULL)
    goto out;
  refs = find_references (store, id, error);
  if (refs == NULL)
    goto out;
  if ((choice == KH_RESOLVE_MERGE || refs->len > 0)
      && (other == NULL || json_object_get_boolean (get_member (other, "deleted"))))
    {
      if (choice == KH_RESOLVE_MERGE)
        g_set_error_literal (error, KH_DATA_ERROR, KH_DATA_ERROR_NOT_FOUND,
                             _("The other registration is not on this computer yet: sync, then merge. If it "
                               "is outside your area, keep the other instead."));
      else
        g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_NOT_FOUND,
                     g_dngettext (GETTEXT_PACKAGE,
                                  "%u record names this registration and would move to the other one, which is "
                                  "not on this computer yet: sync first.",
                                  "%u records name this registration and would move to the other one, which is "
                                  "not on this computer yet: sync first.", refs->len), refs->len);
      goto out;
    }

  /* This registration goes first: the server never had it, so nothing is sent, and with it
   * gone the other is the subject's only registration when the store judges the edits below. */
  now = kh_store_now ();
  ok = _kh_replica_delete_entries (store, entity->name, id, error)
       && _kh_replica_drop_record (store, entity, id, error)
       && kh_journal_add_audit (store, entity->name, id, now, kh_store_get_actor (store), "resolve",
                                KH_CONFLICT_REGISTERED, id, other_id, error)
       && move_references (store, refs, other_id, error)
       && (choice != KH_RESOLVE_MERGE || merge_details (store, entity, other_id, mine, other, error));

out:
  json_object_put (other_value);
  json_object_put (mine);
  json_object_put (other);
  if (!ok)
    {
      kh_store_rollback (store);
      return FALSE;
    }
  if (!kh_store_commit (store, error))
    return FALSE;
  kh_store_emit_changed (store, "registration", id);
  kh_store_emit_changed (store, "conflict", id);
  return TRUE;
}

/* The heading of a KH_CONFLICT_REGISTERED conflict, the same words in the window and on the
 * command line: "Already registered by NAME on DATE". */
char *
kh_conflict_describe_registered (const KhConflict *conflict)
{
  g_autoptr(GDateTime) utc = NULL;
  g_autoptr(GDateTime) local = NULL;
  g_autofree char *day = NULL;
  const char *by;

  g_return_val_if_fail (conflict != NULL, NULL);

  by = conflict->remote_by != NULL ? conflict->remote_by : _("another computer");
  utc = conflict->remote_at != NULL ? g_date_time_new_from_iso8601 (conflict->remote_at, NULL) : NULL;
  local = utc != NULL ? g_date_time_to_local (utc) : NULL;
  day = local != NULL ? g_date_time_format (local, "%d/%m/%Y") : NULL;
  if (day == NULL)
    /* TRANSLATORS: a conflict's heading when the day it was made is not known; %s: who */
    return g_strdup_printf (_("Already registered by %s"), by);
  /* TRANSLATORS: a conflict's heading: the same subject registered for the same model and year
   * on another computer first; %s: who (an account name), %s: the day, e.g. 27/11/2026 */
  return g_strdup_printf (_("Already registered by %s on %s"), by, day);
}
