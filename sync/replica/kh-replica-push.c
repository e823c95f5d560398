/* kh-replica-push.c: pushing the outbox in batches
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include "kh-journal.h"
#include "kh-replica-private.h"
#include "kh-uuid.h"

/* Push ---------------------------------------------------------------------------------------- */

/* Takes the next batch of at most @max mutations to send, and marks them as attempted in the
 * same transaction. Returns {"mutations": [...wire form...], "seqs": [...]}, plus "withheld":
 * [...seqs...] when some entries held fields back for an open conflict; an empty batch has
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
  return _kh_replica_record_key (entity, id);
}

/* What taking a batch keeps from entry to entry. */
typedef struct
{
  KhStore     *store;
  const char  *now;
  GHashTable  *seen;          /* the records with an entry in the batch, or one passed over */
  GHashTable  *skip_seqs;
  GHashTable  *busy_records;
  gboolean     any_open;      /* some conflict is open */
  json_object *mutations;
  json_object *seqs;
  GArray      *rows;          /* the seqs, to mark as attempted */
  json_object *withheld;      /* the seqs of entries that held fields back, or NULL for none */
  GHashTable  *held;          /* registrations waiting behind their conflict, or NULL for none */
} BatchTake;

/* An edit folded into a delete: the protocol's delete carries no fields, so the edit goes first
 * as an update, and the delete follows in an entry of its own. */
static gboolean
split_delete (BatchTake   *t,
              Entry       *e,
              const char  *entity_name,
              const char  *id,
              GError     **error)
{
  g_autofree char *delete_id = kh_uuid_v7_new ();
  sqlite3_stmt *stmt;

  stmt = kh_store_prepare (t->store, "UPDATE outbox SET op = 'update' WHERE seq = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, e->seq);
  if (!kh_sqlite_step_done (stmt, "outbox", error))
    return FALSE;
  stmt = kh_store_prepare (t->store,
    "INSERT INTO outbox (mutation_id, entity, record_id, op, fields, base_version, created_at, updated_at) "
    "VALUES (?, ?, ?, 'delete', '[]', ?, ?, ?)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, delete_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, entity_name, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, id, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 4, e->base_version);
  sqlite3_bind_text (stmt, 5, t->now, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 6, t->now, -1, SQLITE_STATIC);
  if (!kh_sqlite_step_done (stmt, "outbox", error))
    return FALSE;
  g_free (e->op);
  e->op = g_strdup ("update");
  return TRUE;
}

/* The fields entry @e sends, from the local record @local: all of a create's, none of a
 * delete's, else those it changes that wait for no conflict; NULL when an update has none. */
static json_object *
entry_fields (Entry          *e,
              const KhEntity *entity,
              json_object    *local,
              GHashTable     *open)
{
  json_object *fields = json_object_new_object ();

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
          return NULL;
        }
    }
  return fields;
}

/* Adds entry @e of record @id to the batch as a mutation, or passes over it (FALSE only on an
 * error). */
static gboolean
take_entry (BatchTake   *t,
            Entry       *e,
            const char  *entity_name,
            const char  *id,
            GError     **error)
{
  const KhEntity *entity = kh_entity_lookup (entity_name);
  g_autofree char *key = _kh_replica_record_key (entity_name, id);
  const char *seen_key = key;
  g_autoptr(GHashTable) open = NULL;
  json_object *local;
  json_object *m;
  json_object *fields = NULL;

  /* One entry per record per batch: a later one waits for the answer to the first. */
  if (g_hash_table_contains (t->seen, key)
      || (t->busy_records != NULL && g_hash_table_contains (t->busy_records, key)))
    return TRUE;
  g_hash_table_add (t->seen, g_steal_pointer (&key));
  if (entity == NULL)
    return TRUE;
  if (t->skip_seqs != NULL && g_hash_table_contains (t->skip_seqs, &e->seq))
    return TRUE;
  open = t->any_open ? _kh_replica_open_conflict_fields (t->store, entity_name, id)
                     : g_hash_table_new (g_str_hash, g_str_equal);
  if (g_hash_table_contains (open, KH_CONFLICT_DELETED) || g_hash_table_contains (open, KH_CONFLICT_REGISTERED))
    return TRUE;

  if (strcmp (e->op, "delete") == 0 && e->fields[0] != NULL && e->attempts == 0
      && !split_delete (t, e, entity_name, id, error))
    return FALSE;
  local = _kh_replica_load_local (t->store, entity, id, error);
  if (local == NULL)
    return error == NULL || *error == NULL;
  /* A record naming a registration that waits behind its conflict waits with it: the server
   * does not have that registration. So does a record naming such a record, when the server
   * has never had that one either: the records naming this one wait from here on. */
  if (t->held != NULL && strcmp (e->op, "delete") != 0 && _kh_replica_names_held (entity, local, t->held))
    {
      if (json_object_get_int64 (get_member (local, "version")) == 0)
        g_hash_table_add (t->held, g_strdup (id));
      json_object_put (local);
      return TRUE;
    }
  /* A retry is the same request: the server keeps the first one it took under this mutation
   * id and answers a retry "duplicate" without reading it, so a retry made again from the
   * record (with a field a conflict held back then, or a value changed since) would be taken
   * for what the server has, and the rest dropped or based on a value the server never got. */
  if (e->sent == NULL || !json_object_is_type (e->sent, json_type_object) || strcmp (e->op, "delete") == 0
      || json_object_deep_copy (e->sent, &fields, NULL) != 0)
    fields = entry_fields (e, entity, local, open);
  json_object_put (local);
  if (fields == NULL)
    {
      /* Everything this update changes waits for a person; the record's later entries need
       * not wait with it (their fields are read from the record when sent, and they too
       * hold back what is in conflict). */
      g_hash_table_remove (t->seen, seen_key);
      return TRUE;
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
  json_object_array_add (t->mutations, m);
  json_object_array_add (t->seqs, json_object_new_int64 (e->seq));
  g_array_append_val (t->rows, e->seq);
  /* An update or restore sends each field it names once, unless it holds it back: then its
   * acknowledgement must keep what was not sent. */
  if ((strcmp (e->op, "update") == 0 || strcmp (e->op, "restore") == 0)
      && g_strv_length (e->fields) > (guint) json_object_object_length (fields))
    {
      if (t->withheld == NULL)
        t->withheld = json_object_new_array ();
      json_object_array_add (t->withheld, json_object_new_int64 (e->seq));
    }
  return TRUE;
}

/* Reads up to @chunk pending entries after seq @after into @entries, with each one's entity
 * and record id; @after moves to the last one read. */
static gboolean
read_entries (KhStore    *store,
              gint64     *after,
              guint       chunk,
              GPtrArray  *entries,
              GPtrArray  *entity_names,
              GPtrArray  *record_ids,
              GError    **error)
{
  sqlite3_stmt *stmt;
  int rc;

  g_ptr_array_set_size (entries, 0);
  g_ptr_array_set_size (entity_names, 0);
  g_ptr_array_set_size (record_ids, 0);
  stmt = kh_store_prepare (store,
    "SELECT seq, mutation_id, op, fields, base_version, attempts, state, entity, record_id, sent "
    "FROM outbox WHERE state = 'pending' AND seq > ? ORDER BY seq LIMIT ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, *after);
  sqlite3_bind_int64 (stmt, 2, chunk);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      Entry *e = _kh_replica_entry_from_row (stmt);

      if (e->attempts > 0 && sqlite3_column_type (stmt, 9) != SQLITE_NULL)
        e->sent = json_tokener_parse ((const char *) sqlite3_column_text (stmt, 9));
      g_ptr_array_add (entries, e);
      g_ptr_array_add (entity_names, g_strdup ((const char *) sqlite3_column_text (stmt, 7)));
      g_ptr_array_add (record_ids, g_strdup ((const char *) sqlite3_column_text (stmt, 8)));
      *after = e->seq;
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      kh_sqlite_set_error (error, kh_store_get_db (store), "outbox");
      return FALSE;
    }
  return TRUE;
}

/* Marks the batch's entries as attempted, keeping the fields each one sent. */
static gboolean
mark_sent (BatchTake  *t,
           GError    **error)
{
  sqlite3_stmt *stmt = kh_store_prepare (t->store, "UPDATE outbox SET attempts = attempts + 1, updated_at = ?, sent = ? "
                                                   "WHERE seq = ?", error);
  gboolean ok = stmt != NULL;

  for (guint i = 0; ok && i < t->rows->len; i++)
    {
      json_object *fields = NULL;

      json_object_object_get_ex (json_object_array_get_idx (t->mutations, i), "fields", &fields);
      sqlite3_bind_text (stmt, 1, t->now, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 2, fields ? json_object_to_json_string_ext (fields, JSON_C_TO_STRING_PLAIN) : NULL,
                         -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (stmt, 3, g_array_index (t->rows, gint64, i));
      ok = kh_sqlite_step_done (stmt, "outbox", error);
    }
  return ok;
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
  g_autoptr(GHashTable) held = NULL;
  g_autoptr(GArray) rows = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func (_kh_replica_entry_free);
  g_autoptr(GPtrArray) entity_names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) record_ids = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *now = kh_store_now ();
  BatchTake t = { store, now, seen, skip_seqs, busy_records, FALSE, json_object_new_array (),
                  json_object_new_array (), rows, NULL };
  json_object *batch;
  sqlite3_stmt *stmt;
  gint64 after = G_MININT64;
  guint chunk;

  g_return_val_if_fail (KH_IS_STORE (store), NULL);
  g_return_val_if_fail (max > 0, NULL);

  chunk = MAX (64, 2 * max);
  batch = json_object_new_object ();
  json_object_object_add (batch, "mutations", t.mutations);
  json_object_object_add (batch, "seqs", t.seqs);

  if (!kh_store_begin (store, error))
    {
      json_object_put (batch);
      return NULL;
    }
  /* Most replicas have no open conflict: then no entry's record is looked up for one. */
  stmt = kh_store_prepare (store, "SELECT EXISTS (SELECT 1 FROM conflict WHERE resolved_at IS NULL)", error);
  if (stmt == NULL)
    goto fail;
  t.any_open = sqlite3_step (stmt) != SQLITE_ROW || sqlite3_column_int (stmt, 0) != 0;
  sqlite3_reset (stmt);
  if (t.any_open)
    {
      held = t.held = _kh_replica_held_registrations (store, error);
      if (held == NULL && error != NULL && *error != NULL)
        goto fail;
    }

  /* Entries are read in chunks, from the oldest, until the batch is full: reading every
   * pending entry for each batch made pushing a long outbox quadratic. */
  for (;;)
    {
      if (!read_entries (store, &after, chunk, entries, entity_names, record_ids, error))
        goto fail;
      for (guint i = 0; i < entries->len && json_object_array_length (t.mutations) < max; i++)
        if (!take_entry (&t, entries->pdata[i], entity_names->pdata[i], record_ids->pdata[i], error))
          goto fail;
      if (entries->len < chunk || json_object_array_length (t.mutations) >= max)
        break;
    }

  if (t.withheld != NULL)
    json_object_object_add (batch, "withheld", g_steal_pointer (&t.withheld));
  if (!mark_sent (&t, error))
    goto fail;
  if (!kh_store_commit (store, error))
    {
      json_object_put (batch);
      return NULL;
    }
  return batch;

fail:
  kh_store_rollback (store);
  json_object_put (t.withheld);
  json_object_put (batch);
  return NULL;
}

json_object *
kh_replica_batch_mutations (json_object *batch)
{
  return get_member (batch, "mutations");
}

/* The server took mutation @m (its outbox entry already deleted by the caller, or kept with
 * only the fields it held back). */
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

  stmt = kh_store_prepare_static (store, _kh_replica_entity_sql (entity)->version, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, version);
  sqlite3_bind_text (stmt, 2, id, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, version);
  if (!kh_sqlite_step_done (stmt, "version", error))
    return FALSE;

  if (kh_journal_count_entries (store, entity->name, id) == 0)
    return kh_journal_drop_base (store, entity->name, id, error);

  /* Later local changes are still waiting: the base now holds what this mutation set. A
   * create starts the record's history on the server afresh: its fields are the whole record
   * (a record sent again as new keeps an older base, from before the server lost it, whose
   * version may be of another epoch). */
  if (!kh_journal_load_base (store, entity->name, id, &base, error))
    return FALSE;
  if (!base.known && strcmp (op, "create") != 0)
    return TRUE;
  if (strcmp (op, "create") == 0)
    kh_journal_base_clear (&base);
  else if (version < base.version)
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

/* Checks the server's answers to @mutations before anything is changed. */
static gboolean
check_results (json_object  *mutations,
               json_object  *results,
               GError      **error)
{
  size_t n = json_object_array_length (mutations);

  if (results == NULL || !json_object_is_type (results, json_type_array))
    return _kh_replica_bad_answer (error, _("the push results are not a list"));
  if (json_object_array_length (results) != n)
    return _kh_replica_bad_answer (error, _("the push results do not match the mutations sent"));
  for (size_t i = 0; i < n; i++)
    {
      json_object *res = json_object_array_get_idx (results, i);
      json_object *m = json_object_array_get_idx (mutations, i);
      const char *status = get_str (res, "status");
      json_object *version = get_member (res, "version");

      if (g_strcmp0 (get_str (res, "mutation_id"), get_str (m, "mutation_id")) != 0 || status == NULL)
        return _kh_replica_bad_answer (error, _("a push result does not name its mutation"));
      if (strcmp (status, "applied") == 0 || strcmp (status, "duplicate") == 0)
        {
          if (version == NULL || !json_object_is_type (version, json_type_int) || json_object_get_int64 (version) < 0)
            return _kh_replica_bad_answer (error, _("a push result has no version"));
        }
      else if (strcmp (status, "conflict") == 0)
        {
          json_object *record = get_member (res, "record");

          if (!kh_replica_check_record (record, error))
            return FALSE;
          if (g_strcmp0 (get_str (record, "id"), get_str (m, "id")) != 0
              || g_strcmp0 (get_str (record, "entity"), get_str (m, "entity")) != 0)
            return _kh_replica_bad_answer (error, _("a conflict names another record"));
        }
      else if (strcmp (status, "rejected") != 0)
        return _kh_replica_bad_answer (error, _("a push result has an unknown status"));
    }
  return TRUE;
}

/* Keeps entry @seq as refused, with @reason for the person. */
static gboolean
refuse (KhStore     *store,
        gint64       seq,
        const char  *reason,
        GError     **error)
{
  g_autofree char *now = kh_store_now ();
  sqlite3_stmt *stmt;

  stmt = kh_store_prepare (store, "UPDATE outbox SET state = 'rejected', reason = ?, updated_at = ? WHERE seq = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, reason, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, now, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, seq);
  return kh_sqlite_step_done (stmt, "outbox", error);
}

/* Keeps a refused mutation's entry with the server's reason (@refused set), or settles one about a
 * record the server does not have (@refused cleared). */
static gboolean
reject (KhStore      *store,
        json_object  *res,
        json_object  *m,
        gint64        seq,
        gboolean     *refused,
        GError      **error)
{
  const char *message = get_str (res, "message");
  const char *code = get_str (res, "code");

  /* A record a reset re-pull did not bring, that the server does not have at all: the server
   * lost it (a restore from a backup), or purged its tombstone. A record alive here is sent
   * again as a new record; one deleted here is gone on both sides, whatever its entries (the
   * edits before a delete go first as an update) would still send. */
  if (g_strcmp0 (code, "not_found") == 0)
    {
      const KhEntity *entity = kh_entity_lookup (get_str (m, "entity"));
      const char *id = get_str (m, "id");

      if (entity != NULL && id != NULL && _kh_replica_is_outside (store, entity->name, id))
        {
          json_object *local = _kh_replica_load_local (store, entity, id, error);
          gboolean alive = local != NULL && !json_object_get_boolean (get_member (local, "deleted"));

          json_object_put (local);
          if (local == NULL && error != NULL && *error != NULL)
            return FALSE;
          *refused = FALSE;
          if (alive)
            return _kh_replica_resend_as_new (store, entity, id, error);
          return _kh_replica_delete_entries (store, entity->name, id, error)
                 && _kh_replica_close_conflict (store, entity->name, id, NULL, error)
                 && _kh_replica_drop_record (store, entity, id, error)
                 && _kh_replica_set_outside (store, entity->name, id, FALSE, error);
        }
    }
  /* A refusal because of the area may not hold once the area changes; any other one (a
   * value, a right, a record the server does not have) stays until the person acts. */
  if (g_strcmp0 (code, "out_of_scope") == 0)
    {
      g_autofree char *key = g_strdup_printf (KH_REPLICA_SCOPE_REFUSED_KEY "%" G_GINT64_FORMAT, seq);

      if (!kh_replica_set_state (store, key, "1", error))
        return FALSE;
    }
  return refuse (store, seq, message ? message : (code ? code : _("The server refused this change.")), error);
}

/* After a conflict answer that the merge asked nobody about: when the server's record is still
 * at the version the mutation was based on, sending it again would bring the same answer (the
 * server does not take an update of a deleted record), so it is not sent again for ever but
 * kept as refused, with a reason the person sees, until they discard it. */
static gboolean
refuse_repeated (KhStore      *store,
                 const Remote *r,
                 json_object  *m,
                 gint64        seq,
                 GError      **error)
{
  g_autoptr(GHashTable) open = NULL;
  sqlite3_stmt *stmt;
  gboolean pending;

  if (g_strcmp0 (get_str (m, "op"), "create") == 0
      || json_object_get_int64 (get_member (m, "base_version")) != r->version)
    return TRUE;
  open = _kh_replica_open_conflict_fields (store, r->entity->name, r->id);
  if (g_hash_table_size (open) > 0)
    return TRUE;
  stmt = kh_store_prepare (store, "SELECT 1 FROM outbox WHERE seq = ? AND mutation_id = ? AND state = 'pending'", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, seq);
  sqlite3_bind_text (stmt, 2, get_str (m, "mutation_id"), -1, SQLITE_STATIC);
  pending = sqlite3_step (stmt) == SQLITE_ROW;
  sqlite3_reset (stmt);
  if (!pending)
    return TRUE;
  return refuse (store, seq, _("The server will not take this change as it stands (the record was deleted "
                               "there). Discard it to keep the server’s version."), error);
}

/* A conflict: the server's state of the record, merged with the local one. */
static gboolean
merge_answer (KhStore         *store,
              json_object     *res,
              json_object     *m,
              gint64           seq,
              KhReplicaStats  *page,
              GError         **error)
{
  json_object *members[N_MEMBERS];
  Remote r;
  json_object *local;
  guint nc = 0;
  gboolean ok;

  _kh_replica_record_get_members (get_member (res, "record"), members);
  _kh_replica_remote_from_members (&r, members);
  local = _kh_replica_load_local (store, r.entity, r.id, error);
  if (local == NULL)
    return error == NULL || *error == NULL;
  ok = _kh_replica_merge (store, &r, local, TRUE, &nc, error)
       && (nc > 0 || refuse_repeated (store, &r, m, seq, error));
  page->merged++;
  page->conflicts += nc;
  json_object_put (local);
  return ok;
}

/* The server took entry @seq, but not all of it: the fields held back for an open conflict
 * were not sent. They stay in the entry, now an update of the version the server answered,
 * under a new mutation id (the server has the old one as applied); the fields sent are done
 * with, but for those in @open: a conflict opened on them since they were sent (a retry sends
 * what the first attempt sent), and the person's value waits for their choice. @fields_text
 * and @sent_text are the entry's names and the fields it sent. */
static gboolean
keep_withheld (KhStore      *store,
               json_object  *m,
               gint64        seq,
               const char   *fields_text,
               const char   *sent_text,
               GHashTable   *open,
               gint64        version,
               GError      **error)
{
  const KhEntity *entity = kh_entity_lookup (get_str (m, "entity"));
  json_object *names = json_tokener_parse (fields_text ? fields_text : "[]");
  json_object *sent = json_tokener_parse (sent_text ? sent_text : "{}");
  g_autoptr(GPtrArray) left = g_ptr_array_new ();
  g_autofree char *mutation_id = NULL;
  g_autofree char *now = NULL;
  json_object *arr;
  sqlite3_stmt *stmt;
  gboolean ok;

  for (size_t i = 0; names != NULL && json_object_is_type (names, json_type_array)
                     && i < json_object_array_length (names); i++)
    {
      const char *name = json_object_get_string (json_object_array_get_idx (names, i));

      if (name != NULL && kh_entity_get_field (entity, name) != NULL
          && (!json_object_object_get_ex (sent, name, NULL) || (open != NULL && g_hash_table_contains (open, name))))
        g_ptr_array_add (left, (gpointer) name);
    }
  if (left->len == 0)
    {
      json_object_put (names);
      json_object_put (sent);
      return _kh_replica_delete_entry (store, seq, error);
    }
  mutation_id = kh_uuid_v7_new ();
  now = kh_store_now ();
  arr = _kh_replica_names_to_json (left);
  stmt = kh_store_prepare (store, "UPDATE outbox SET op = 'update', fields = ?, mutation_id = ?, attempts = 0, "
                                  "sent = NULL, base_version = max (base_version, ?), updated_at = ? WHERE seq = ?",
                           error);
  ok = stmt != NULL;
  if (ok)
    {
      sqlite3_bind_text (stmt, 1, json_object_to_json_string_ext (arr, JSON_C_TO_STRING_PLAIN), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 2, mutation_id, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (stmt, 3, version);
      sqlite3_bind_text (stmt, 4, now, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (stmt, 5, seq);
      ok = kh_sqlite_step_done (stmt, "outbox", error);
    }
  json_object_put (arr);
  json_object_put (names);
  json_object_put (sent);
  return ok;
}

/* Applies the server's answer @res to mutation @m, entry @seq (which held fields back when
 * @withheld). */
static gboolean
apply_result (KhStore         *store,
              json_object     *res,
              json_object     *m,
              gint64           seq,
              gboolean         withheld,
              gboolean         any_open,
              KhReplicaStats  *page,
              GError         **error)
{
  const char *status = get_str (res, "status");
  gboolean taken = strcmp (status, "applied") == 0 || strcmp (status, "duplicate") == 0;
  gint64 version = json_object_get_int64 (get_member (res, "version"));
  g_autoptr(GHashTable) open = NULL;
  sqlite3_stmt *stmt;
  gboolean present;

  /* A retry sends what its first attempt sent, also a field a conflict opened on since. */
  if (taken && any_open && strcmp (get_str (m, "op"), "delete") != 0)
    {
      open = _kh_replica_open_conflict_fields (store, get_str (m, "entity"), get_str (m, "id"));
      g_hash_table_remove (open, KH_CONFLICT_DELETED);
      if (g_hash_table_size (open) > 0)
        withheld = TRUE;
    }

  /* The entry may have been replaced meanwhile (a conflict resolved): then this answer is
   * about a mutation the replica no longer holds. One the server took is done with: it
   * goes in the same statement that finds it, unless it held fields back. */
  if (taken && withheld)
    {
      g_autofree char *fields_text = NULL;
      g_autofree char *sent_text = NULL;

      stmt = kh_store_prepare (store, "SELECT fields, sent FROM outbox WHERE seq = ? AND mutation_id = ?", error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, seq);
      sqlite3_bind_text (stmt, 2, get_str (m, "mutation_id"), -1, SQLITE_STATIC);
      present = sqlite3_step (stmt) == SQLITE_ROW;
      if (present)
        {
          fields_text = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
          sent_text = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
        }
      sqlite3_reset (stmt);
      if (!present)
        return TRUE;
      if (!keep_withheld (store, m, seq, fields_text, sent_text, open, version, error))
        return FALSE;
      page->pushed++;
      return ack (store, m, version, error);
    }
  /* An answer other than "taken" says the server did not take this mutation id, under any of
   * its attempts: what the entry sent is no longer a request to repeat as it was. */
  stmt = kh_store_prepare (store, taken ? "DELETE FROM outbox WHERE seq = ? AND mutation_id = ?"
                                        : "UPDATE outbox SET sent = NULL WHERE seq = ? AND mutation_id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, seq);
  sqlite3_bind_text (stmt, 2, get_str (m, "mutation_id"), -1, SQLITE_STATIC);
  if (!kh_sqlite_step_done (stmt, "outbox", error))
    return FALSE;
  present = sqlite3_changes (kh_store_get_db (store)) > 0;
  if (!present)
    return TRUE;

  if (taken)
    {
      page->pushed++;
      return ack (store, m, version, error);
    }
  if (strcmp (status, "rejected") == 0)
    {
      gboolean refused = TRUE;
      KhReplicaTwice twice = KH_REPLICA_TWICE_NONE;

      /* A refusal is rare: what it may be about is looked up for each one. */
      if (!_kh_replica_twice_rejected (store, res, m, seq, &twice, error))
        return FALSE;
      if (twice == KH_REPLICA_TWICE_CONFLICT)
        page->conflicts++;
      if (twice != KH_REPLICA_TWICE_NONE)
        return TRUE;
      if (!reject (store, res, m, seq, &refused, error))
        return FALSE;
      if (refused)
        page->rejected++;
      return TRUE;
    }
  return merge_answer (store, res, m, seq, page, error);
}

/* A record kept outside the area only for its unsent changes leaves when the last of them is
 * done with (the server took it: a push whose answer was lost, taken on its retry after the
 * record left the area), as it would have if the change had been made before: kept, it stayed
 * stale until a verify. Few records are ever outside, so the batch's records are looked at only
 * when some are. */
static gboolean
leave_area (KhStore      *store,
            json_object  *mutations,
            GError      **error)
{
  /* The keys are "outside:…": every one sorts from "outside:" to before "outside;". */
  sqlite3_stmt *stmt = kh_store_prepare (store, "SELECT EXISTS (SELECT 1 FROM sync_state "
                                                "WHERE key >= 'outside:' AND key < 'outside;')", error);
  gboolean any;

  if (stmt == NULL)
    return FALSE;
  any = sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_int (stmt, 0) != 0;
  sqlite3_reset (stmt);
  if (!any)
    return TRUE;
  for (size_t i = 0; i < json_object_array_length (mutations); i++)
    {
      json_object *m = json_object_array_get_idx (mutations, i);
      const KhEntity *entity = kh_entity_lookup (get_str (m, "entity"));
      const char *id = get_str (m, "id");

      if (entity == NULL || id == NULL || !_kh_replica_is_outside (store, entity->name, id)
          || kh_journal_count_entries (store, entity->name, id) > 0)
        continue;
      if (!_kh_replica_drop_record (store, entity, id, error)
          || !_kh_replica_set_outside (store, entity->name, id, FALSE, error))
        return FALSE;
    }
  return TRUE;
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
  json_object *withheld = get_member (batch, "withheld");
  g_autoptr(GHashTable) held = NULL;
  KhReplicaStats page = { 0 };
  gboolean any_open = TRUE;
  gboolean ok = TRUE;

  g_return_val_if_fail (KH_IS_STORE (store), FALSE);

  if (!check_results (mutations, results, error))
    return FALSE;
  /* Most batches hold nothing back: then no entry is looked at before it is deleted. */
  if (withheld != NULL && json_object_is_type (withheld, json_type_array))
    {
      held = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
      for (size_t i = 0; i < json_object_array_length (withheld); i++)
        {
          gint64 seq = json_object_get_int64 (json_object_array_get_idx (withheld, i));

          g_hash_table_add (held, g_memdup2 (&seq, sizeof seq));
        }
    }
  if (!kh_store_begin (store, error))
    return FALSE;
  /* Most replicas have no open conflict: then no record's conflicts are looked up. */
  {
    sqlite3_stmt *stmt = kh_store_prepare (store, "SELECT EXISTS (SELECT 1 FROM conflict WHERE resolved_at IS NULL)",
                                           error);

    ok = stmt != NULL;
    if (ok)
      {
        any_open = sqlite3_step (stmt) != SQLITE_ROW || sqlite3_column_int (stmt, 0) != 0;
        sqlite3_reset (stmt);
      }
  }
  for (size_t i = 0; ok && i < json_object_array_length (mutations); i++)
    {
      gint64 seq = json_object_get_int64 (json_object_array_get_idx (seqs, i));

      ok = apply_result (store, json_object_array_get_idx (results, i), json_object_array_get_idx (mutations, i),
                         seq, held != NULL && g_hash_table_contains (held, &seq), any_open, &page, error);
    }
  ok = ok && leave_area (store, mutations, error);
  if (!ok)
    {
      kh_store_rollback (store);
      return FALSE;
    }
  if (!kh_store_commit (store, error))
    return FALSE;
  _kh_replica_stats_add (stats, &page);
  return TRUE;
}
