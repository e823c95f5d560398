/* test-sync-lost-edits.c: local changes that must not be lost after a conflict, against the
 * real server over HTTP, on SQLite and on PostgreSQL
 *
 * An administrator's replica A and an officer's replica O edit the same person. Each test is
 * one path a person takes after something went wrong, with the end state asserted on both
 * replicas and on the server record by record, and kh_replica_check() after every step:
 *
 * - a field withheld because of an open conflict keeps its outbox entry when the fields sent
 *   beside it are acknowledged, the pull does not overwrite it, the conflict's "mine" follows a
 *   later edit, and "mine" sends it;
 * - "deleted mine" after a later local delete sends the delete, not the old edit;
 * - an edit of a record deleted on both sides is not sent for ever: both agree it is deleted;
 * - a restore of a record deleted here and edited there closes the moot conflict on "deleted";
 * - a delete made while a conflict is open, on a record the server has deleted, is no change:
 *   the conflict closes, and a later restore on the server reaches the replica;
 * - giving up a refused change closes the conflict it was in;
 * - "deleted mine" keeps the edit of a field whose own conflict is still open;
 * - a change counts by its net effect against the merge base: a field set back, a delete and a
 *   restore, is no change, and the server's state applies;
 * - a record purged on the server and sent again as new by two replicas keeps each one's
 *   changes judged against the state they were made on;
 * - giving up a refused restore keeps an edit made after it, in a conflict on "deleted".
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "kh-entity.h"
#include "kh-fault-proxy.h"
#include "kh-replica.h"
#include "kh-store-sql.h"
#include "kh-sync-test-util.h"

#define CLI_BIN KH_BUILD_DIR "/app/khuyenhoc-cli"

typedef struct
{
  KhTestServer *server;
  char         *dir;
  KhTReplica   *a;        /* the administrator's */
  KhTReplica   *o;        /* the officer's */
  char         *token_a;
  char         *token_o;
  char         *unit_a;
} Fixture;

static void
check (KhTReplica *r)
{
  g_autoptr(GError) error = NULL;

  if (!kh_replica_check (r->store, &error))
    g_error ("%s: %s", r->path, error->message);
}

static void
check_both (Fixture *f)
{
  check (f->a);
  check (f->o);
}

static void
set_up (Fixture       *f,
        gconstpointer  data)
{
  f->server = kh_test_server_new_serving (data);
  if (f->server == NULL)
    return;
  f->dir = kh_test_tmpdir ();
  f->a = kh_treplica_new (f->server, f->dir, "a", f->server->base, "admin");
  f->o = kh_treplica_new (f->server, f->dir, "o", f->server->base, "officer_a");
  f->token_a = kh_test_login (f->server, "admin", NULL);
  f->token_o = kh_test_login (f->server, "officer_a", NULL);
  kh_treplica_sync (f->a);
  kh_treplica_sync (f->o);
  f->unit_a = g_strdup (kh_treplica_unit (f->o, "A"));
  check_both (f);
}

static void
tear_down (Fixture       *f,
           gconstpointer  data)
{
  kh_treplica_free (f->a);
  kh_treplica_free (f->o);
  kh_test_server_free (f->server);
  if (f->dir != NULL)
    kh_test_rmdir (f->dir);
  g_free (f->dir);
  g_free (f->token_a);
  g_free (f->token_o);
  g_free (f->unit_a);
}

#define SKIP_WITHOUT_SERVER(f) \
  if ((f)->server == NULL) { g_test_skip ("KH_TEST_PG_URL is not set"); return; }

/* A sync that succeeds, then the check. */
static KhSyncReport
sync_one (KhTReplica *r)
{
  KhSyncReport rep = kh_treplica_sync (r);

  check (r);
  return rep;
}

static void
set (KhTReplica *r,
     const char *id,
     const char *json)
{
  kh_treplica_set (r, "person", id, json);
  check (r);
}

static void
delete (KhTReplica *r,
        const char *id)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (kh_store_delete (r->store, "person", id, &error));
  g_assert_no_error (error);
  check (r);
}

static void
resolve (KhTReplica      *r,
         const char      *id,
         const char      *field,
         KhResolveChoice  choice)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (kh_replica_resolve (r->store, id, field, choice, NULL, &error));
  g_assert_no_error (error);
  check (r);
}

/* A person of unit A made on O and pulled by both. */
static char *
shared_person (Fixture    *f,
               const char *name)
{
  g_autofree char *json = g_strdup_printf ("{\"full_name\": \"%s\", \"org_unit_id\": \"%s\", "
                                           "\"notes\": \"Ghi chú đầu\", \"phone\": \"0905000000\"}",
                                           name, f->unit_a);
  char *id = kh_treplica_add (f->o, "person", json);

  check (f->o);
  sync_one (f->o);
  sync_one (f->a);
  return id;
}

/* Every record the server gives @token, id → KhRecord. */
static GHashTable *
server_records (Fixture    *f,
                const char *token)
{
  GHashTable *records = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) kh_record_free);
  g_autofree char *cursor = kh_test_pull_all (f->server, token, NULL, 1000, records, NULL, NULL);

  return records;
}

/* The server's person @id as the administrator sees it. */
static KhRecord *
server_person (Fixture    *f,
               const char *id)
{
  g_autoptr(GHashTable) records = server_records (f, f->token_a);
  KhRecord *rec = NULL;
  gpointer key;

  g_assert_true (g_hash_table_steal_extended (records, id, &key, (gpointer *) &rec));
  g_free (key);
  return rec;
}

static const char *
server_str (KhRecord   *rec,
            const char *name)
{
  return kh_tstr (rec->fields, name);
}

/* The record as the server has it, in kh_treplica_dump()'s form. */
static char *
record_line (const KhEntity *entity,
             const char     *id,
             gint64          version,
             gboolean        deleted,
             json_object    *fields)
{
  GString *line = g_string_new (NULL);

  g_string_append_printf (line, "%s %s v%" G_GINT64_FORMAT "%s", entity->name, id, version, deleted ? " deleted" : "");
  for (guint k = 0; k < entity->n_fields; k++)
    {
      json_object *v = NULL;

      if (json_object_object_get_ex (fields, entity->fields[k].name, &v) && v != NULL)
        g_string_append_printf (line, " %s=%s", entity->fields[k].name,
                                json_object_to_json_string_ext (v, JSON_C_TO_STRING_PLAIN));
    }
  return g_string_free (line, FALSE);
}

static int
compare_lines (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(char * const *) a, *(char * const *) b);
}

/* Everything the server gives @token, in kh_treplica_dump()'s form. */
static char *
server_dump (Fixture    *f,
             const char *token)
{
  g_autoptr(GHashTable) records = server_records (f, token);
  GString *out = g_string_new (NULL);
  const KhEntity * const *entities;
  guint n;

  entities = kh_entities (&n);
  for (guint e = 0; e < n; e++)
    {
      g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
      GHashTableIter iter;
      gpointer value;

      g_hash_table_iter_init (&iter, records);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        {
          KhRecord *rec = value;

          if (strcmp (rec->entity, entities[e]->name) == 0)
            g_ptr_array_add (lines, record_line (entities[e], rec->id, rec->version, rec->deleted, rec->fields));
        }
      g_ptr_array_sort (lines, compare_lines);
      for (guint i = 0; i < lines->len; i++)
        g_string_append_printf (out, "%s\n", (char *) lines->pdata[i]);
    }
  return g_string_free (out, FALSE);
}

/* Both replicas hold exactly what the server gives their accounts, record by record, with
 * nothing left to send or to choose. */
static void
assert_settled (Fixture *f)
{
  KhTReplica *replicas[] = { f->a, f->o };
  const char *tokens[] = { f->token_a, f->token_o };

  for (guint i = 0; i < G_N_ELEMENTS (replicas); i++)
    {
      g_autofree char *local = kh_treplica_dump (replicas[i]);
      g_autofree char *remote = server_dump (f, tokens[i]);

      check (replicas[i]);
      g_assert_cmpint (kh_store_count_pending (replicas[i]->store), ==, 0);
      g_assert_cmpint (kh_replica_count_conflicts (replicas[i]->store), ==, 0);
      g_assert_cmpint (kh_replica_count_rejected (replicas[i]->store), ==, 0);
      g_assert_cmpstr (local, ==, remote);
    }
}

/* The open conflict on @field of @id, or NULL. */
static json_object *
find_conflict (KhTReplica *r,
               const char *id,
               const char *field)
{
  g_autoptr(GError) error = NULL;
  json_object *rows = kh_replica_list_conflicts (r->store, &error);
  json_object *found = NULL;

  g_assert_no_error (error);
  for (size_t i = 0; i < json_object_array_length (rows); i++)
    {
      json_object *row = json_object_array_get_idx (rows, i);

      if (g_strcmp0 (kh_tstr (row, "id"), id) == 0 && g_strcmp0 (kh_tstr (row, "field"), field) == 0)
        found = json_object_get (row);
    }
  json_object_put (rows);
  return found;
}

static void
assert_local (KhTReplica *r,
              const char *id,
              const char *field,
              const char *value)
{
  json_object *rec = kh_treplica_get (r, "person", id);

  g_assert_cmpstr (kh_tstr (rec, field), ==, value);
  json_object_put (rec);
}

static gboolean
local_deleted (KhTReplica *r,
               const char *id)
{
  json_object *rec = kh_treplica_get (r, "person", id);
  gboolean deleted = json_object_get_boolean (json_object_object_get (rec, "deleted"));

  json_object_put (rec);
  return deleted;
}

/* 1. A changes notes and phone in one edit, O changes notes first: notes conflicts, phone goes
 * alone, and notes stays A's until A chooses; an edit of notes while the conflict is open is
 * what "mine" then sends. */
static void
test_withheld_field (Fixture       *f,
                     gconstpointer  data)
{
  g_autofree char *id = NULL;
  json_object *c;
  KhRecord *rec;
  KhSyncReport rep;

  SKIP_WITHOUT_SERVER (f);
  id = shared_person (f, "Phan Văn Tâm");

  set (f->a, id, "{\"notes\": \"Ghi chú của A\", \"phone\": \"0905111111\"}");
  set (f->o, id, "{\"notes\": \"Ghi chú của O\"}");
  sync_one (f->o);
  rep = sync_one (f->a);
  g_assert_cmpuint (rep.conflicts, ==, 1);
  g_assert_cmpuint (rep.pushed, ==, 1);

  /* The phone went out alone; A's notes wait for a choice, still in the outbox. */
  rec = server_person (f, id);
  g_assert_cmpstr (server_str (rec, "phone"), ==, "0905111111");
  g_assert_cmpstr (server_str (rec, "notes"), ==, "Ghi chú của O");
  kh_record_free (rec);
  assert_local (f->a, id, "notes", "Ghi chú của A");
  assert_local (f->a, id, "phone", "0905111111");
  g_assert_cmpint (kh_store_count_pending (f->a->store), ==, 1);

  /* The pull that brings A's own phone back leaves A's notes alone. */
  sync_one (f->a);
  assert_local (f->a, id, "notes", "Ghi chú của A");
  c = find_conflict (f->a, id, "notes");
  g_assert_nonnull (c);
  g_assert_cmpstr (kh_tstr (c, "local"), ==, "Ghi chú của A");
  g_assert_cmpstr (kh_tstr (c, "remote"), ==, "Ghi chú của O");
  json_object_put (c);

  /* An edit while the conflict is open is what "mine" stands for from now on. */
  set (f->a, id, "{\"notes\": \"Ghi chú mới của A\"}");
  c = find_conflict (f->a, id, "notes");
  g_assert_nonnull (c);
  g_assert_cmpstr (kh_tstr (c, "local"), ==, "Ghi chú mới của A");
  json_object_put (c);
  rep = sync_one (f->a);
  g_assert_cmpuint (rep.pushed, ==, 0);
  assert_local (f->a, id, "notes", "Ghi chú mới của A");
  rec = server_person (f, id);
  g_assert_cmpstr (server_str (rec, "notes"), ==, "Ghi chú của O");
  kh_record_free (rec);

  /* Mine: A's latest notes reach the server and O. */
  resolve (f->a, id, "notes", KH_RESOLVE_MINE);
  rep = sync_one (f->a);
  g_assert_cmpuint (rep.pushed, ==, 1);
  sync_one (f->o);
  sync_one (f->a);

  rec = server_person (f, id);
  g_assert_cmpstr (server_str (rec, "notes"), ==, "Ghi chú mới của A");
  g_assert_cmpstr (server_str (rec, "phone"), ==, "0905111111");
  g_assert_false (rec->deleted);
  kh_record_free (rec);
  assert_local (f->a, id, "notes", "Ghi chú mới của A");
  assert_local (f->o, id, "notes", "Ghi chú mới của A");
  assert_local (f->o, id, "phone", "0905111111");
  assert_settled (f);
}

/* 1, again: A's edit holds notes back for a conflict; it reaches the server (phone only) but
 * its answer is lost. A then chooses "mine" for notes and syncs: the retry of the same mutation
 * is the same request, so the server's "duplicate" means phone only, and A's notes still go.
 * Before, the retry was made again from the record, now without the conflict: it carried
 * notes under the old mutation id, the server answered "duplicate" without taking them, and
 * the entry was dropped with A's notes in it. */
static void
test_withheld_answer_lost (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  json_object *batch;
  KhRecord *rec;
  KhSyncReport rep;

  SKIP_WITHOUT_SERVER (f);
  id = shared_person (f, "Trần Thị Mất");

  set (f->a, id, "{\"notes\": \"Ghi chú của A\"}");
  set (f->o, id, "{\"notes\": \"Ghi chú của O\"}");
  sync_one (f->o);
  rep = sync_one (f->a);
  g_assert_cmpuint (rep.conflicts, ==, 1);

  set (f->a, id, "{\"phone\": \"0905222333\"}");
  batch = kh_replica_take_batch (f->a->store, 500, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_object_array_length (kh_replica_batch_mutations (batch)), ==, 1);
  {
    g_autoptr(KhPushResponse) r = kh_test_push (f->server, f->token_a,
                                                json_object_get (kh_replica_batch_mutations (batch)));

    g_assert_cmpuint (r->results->len, ==, 1);
    g_assert_cmpint (((KhMutationResult *) r->results->pdata[0])->status, ==, KH_RESULT_APPLIED);
  }
  json_object_put (batch);

  resolve (f->a, id, "notes", KH_RESOLVE_MINE);
  sync_one (f->a);
  sync_one (f->a);
  sync_one (f->o);

  rec = server_person (f, id);
  g_assert_cmpstr (server_str (rec, "phone"), ==, "0905222333");
  g_assert_cmpstr (server_str (rec, "notes"), ==, "Ghi chú của A");
  kh_record_free (rec);
  assert_local (f->a, id, "notes", "Ghi chú của A");
  assert_local (f->o, id, "notes", "Ghi chú của A");
  assert_settled (f);
}

/* 2. A edits, O deletes: a conflict on "deleted". A then deletes the record too: the record as
 * it is now, deleted, is what the server has (the merge base), so A's change has no net effect
 * and the conflict is moot: it closes and nothing is sent. Before, "mine" was needed, and it
 * sent the edit the conflict was raised on, restoring the record on the server. */
static void
test_resolve_after_delete (Fixture       *f,
                           gconstpointer  data)
{
  g_autofree char *id = NULL;
  json_object *c;
  KhRecord *rec;
  KhSyncReport rep;

  SKIP_WITHOUT_SERVER (f);
  id = shared_person (f, "Lò Thị Mai");

  set (f->a, id, "{\"phone\": \"0905222222\"}");
  delete (f->o, id);
  sync_one (f->o);
  rep = sync_one (f->a);
  g_assert_cmpuint (rep.conflicts, ==, 1);
  g_assert_false (local_deleted (f->a, id));

  /* A deletes it too while the conflict is open: both sides agree. */
  delete (f->a, id);
  c = find_conflict (f->a, id, KH_CONFLICT_DELETED);
  g_assert_null (c);
  g_assert_cmpint (kh_store_count_pending (f->a->store), ==, 0);
  g_assert_true (local_deleted (f->a, id));
  rep = sync_one (f->a);
  g_assert_cmpuint (rep.pushed, ==, 0);
  sync_one (f->o);
  sync_one (f->a);

  rec = server_person (f, id);
  g_assert_true (rec->deleted);
  kh_record_free (rec);
  g_assert_true (local_deleted (f->a, id));
  g_assert_true (local_deleted (f->o, id));
  assert_settled (f);
}

/* 3. A edits and then deletes a record O has deleted meanwhile: both agree it is deleted, and
 * the edit is not sent at every sync for ever. */
static void
test_deleted_both (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *id = NULL;
  KhRecord *rec;
  KhSyncReport rep;

  SKIP_WITHOUT_SERVER (f);
  id = shared_person (f, "Hà Văn Sơn");

  set (f->a, id, "{\"phone\": \"0905333333\"}");
  delete (f->o, id);
  sync_one (f->o);
  delete (f->a, id);
  sync_one (f->a);
  g_assert_cmpint (kh_store_count_pending (f->a->store), ==, 0);
  g_assert_cmpint (kh_replica_count_conflicts (f->a->store), ==, 0);

  /* Nothing is left to send: a second sync sends nothing. */
  rep = sync_one (f->a);
  g_assert_cmpuint (rep.pushed, ==, 0);
  g_assert_cmpuint (rep.rejected, ==, 0);
  sync_one (f->o);

  rec = server_person (f, id);
  g_assert_true (rec->deleted);
  g_assert_cmpstr (server_str (rec, "phone"), ==, "0905000000");
  kh_record_free (rec);
  g_assert_true (local_deleted (f->a, id));
  g_assert_true (local_deleted (f->o, id));
  assert_settled (f);
}

/* 4. A deletes, O edits: a conflict on "deleted". A then restores the record: both sides say
 * it is not deleted, so the conflict is moot and closes, and O's edit, which the conflict
 * held, is what A has. Before, the restore removed the unsent delete and left the conflict
 * open with nothing behind it. */
static void
test_restore_after_conflict (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  KhRecord *rec;
  KhSyncReport rep;

  SKIP_WITHOUT_SERVER (f);
  id = shared_person (f, "Đinh Văn Hùng");

  delete (f->a, id);
  set (f->o, id, "{\"phone\": \"0905555555\"}");
  sync_one (f->o);
  rep = sync_one (f->a);
  g_assert_cmpuint (rep.conflicts, ==, 1);
  g_assert_true (local_deleted (f->a, id));

  g_assert_true (kh_store_restore (f->a->store, "person", id, &error));
  g_assert_no_error (error);
  check (f->a);
  g_assert_false (local_deleted (f->a, id));
  g_assert_cmpint (kh_replica_count_conflicts (f->a->store), ==, 0);
  assert_local (f->a, id, "phone", "0905555555");
  sync_one (f->a);
  sync_one (f->o);

  rec = server_person (f, id);
  g_assert_false (rec->deleted);
  g_assert_cmpstr (server_str (rec, "phone"), ==, "0905555555");
  kh_record_free (rec);
  assert_local (f->a, id, "phone", "0905555555");
  g_assert_false (local_deleted (f->o, id));
  assert_settled (f);
}

/* 5. A edits, O deletes: a conflict on "deleted". A deletes the record too while the conflict
 * is open, and before A pulls it again O restores it. A's delete agrees with the server's state
 * A had merged (the merge base, deleted): it is no change, so the conflict closes and nothing
 * is sent, and O's restore, a later change, reaches A as it would any replica. */
static void
test_delete_against_restore (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  KhRecord *rec;
  KhSyncReport rep;

  SKIP_WITHOUT_SERVER (f);
  id = shared_person (f, "Mùa A Dình");

  set (f->a, id, "{\"phone\": \"0905666666\"}");
  delete (f->o, id);
  sync_one (f->o);
  rep = sync_one (f->a);
  g_assert_cmpuint (rep.conflicts, ==, 1);
  g_assert_false (local_deleted (f->a, id));
  delete (f->a, id);
  g_assert_cmpint (kh_replica_count_conflicts (f->a->store), ==, 0);
  g_assert_cmpint (kh_store_count_pending (f->a->store), ==, 0);

  g_assert_true (kh_store_restore (f->o->store, "person", id, &error));
  g_assert_no_error (error);
  check (f->o);
  sync_one (f->o);

  rep = sync_one (f->a);
  g_assert_cmpuint (rep.pushed, ==, 0);
  g_assert_false (local_deleted (f->a, id));
  rec = server_person (f, id);
  g_assert_false (rec->deleted);
  g_assert_cmpstr (server_str (rec, "phone"), ==, "0905000000");
  kh_record_free (rec);
  g_assert_false (local_deleted (f->o, id));
  assert_settled (f);
}

/* 6. A and O change the notes: a conflict on O. O's change is then refused by the server
 * (marked here as the push marks it) and O gives it up: the field takes the server's value and
 * the conflict closes with it. Before, the conflict stayed open with nothing behind it. */
static void
test_discard_refused_in_conflict (Fixture       *f,
                                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  KhRecord *rec;
  KhSyncReport rep;

  SKIP_WITHOUT_SERVER (f);
  id = shared_person (f, "Sầm Thị Nga");

  set (f->a, id, "{\"notes\": \"Ghi chú của A\"}");
  set (f->o, id, "{\"notes\": \"Ghi chú của O\"}");
  sync_one (f->a);
  rep = sync_one (f->o);
  g_assert_cmpuint (rep.conflicts, ==, 1);

  g_assert_cmpint (sqlite3_exec (kh_store_get_db (f->o->store),
                                 "UPDATE outbox SET state = 'rejected', reason = 'refused'", NULL, NULL, NULL),
                   ==, SQLITE_OK);
  g_assert_true (kh_replica_discard_rejected (f->o->store, id, &error));
  g_assert_no_error (error);
  check (f->o);
  assert_local (f->o, id, "notes", "Ghi chú của A");
  sync_one (f->o);
  sync_one (f->a);

  rec = server_person (f, id);
  g_assert_cmpstr (server_str (rec, "notes"), ==, "Ghi chú của A");
  kh_record_free (rec);
  assert_settled (f);
}

/* 7. A and O change the address: a conflict on it on A. A then deletes the record, and O
 * edits it again: a second conflict, on "deleted". A keeps "mine" for the delete: the address
 * A typed still waits behind its own open conflict. Before, the resolution replaced the
 * record's entries with a delete that named no field, and the address conflict was left open
 * with nothing behind it. */
static void
test_resolve_deleted_keeps_field (Fixture       *f,
                                  gconstpointer  data)
{
  g_autofree char *id = NULL;
  KhRecord *rec;
  KhSyncReport rep;
  json_object *c;

  SKIP_WITHOUT_SERVER (f);
  id = shared_person (f, "Giàng A Páo");

  set (f->a, id, "{\"address\": \"Địa chỉ của A\"}");
  set (f->o, id, "{\"address\": \"Địa chỉ của O\"}");
  sync_one (f->o);
  rep = sync_one (f->a);
  g_assert_cmpuint (rep.conflicts, ==, 1);
  delete (f->a, id);
  set (f->o, id, "{\"notes\": \"Ghi chú của O\"}");
  sync_one (f->o);
  sync_one (f->a);
  c = find_conflict (f->a, id, KH_CONFLICT_DELETED);
  g_assert_nonnull (c);
  json_object_put (c);
  c = find_conflict (f->a, id, "address");
  g_assert_nonnull (c);
  json_object_put (c);

  resolve (f->a, id, KH_CONFLICT_DELETED, KH_RESOLVE_MINE);
  g_assert_true (local_deleted (f->a, id));
  c = find_conflict (f->a, id, "address");
  g_assert_nonnull (c);
  json_object_put (c);
  /* "Mine" for the address then sends it, before the delete. */
  resolve (f->a, id, "address", KH_RESOLVE_MINE);
  sync_one (f->a);
  sync_one (f->o);
  sync_one (f->a);

  rec = server_person (f, id);
  g_assert_true (rec->deleted);
  g_assert_cmpstr (server_str (rec, "address"), ==, "Địa chỉ của A");
  kh_record_free (rec);
  g_assert_true (local_deleted (f->a, id));
  g_assert_true (local_deleted (f->o, id));
  assert_settled (f);
}

/* A local change counts by its net effect against the merge base. A sets a field and sets it
 * back to what it was (a clear of a field that was empty, a phone typed and typed back), while
 * O changes the same field: A has nothing to send, no conflict is raised, and O's value reaches
 * A at the next pull. Before, the entry kept the field and the merge or the push raised a
 * conflict (or the server's value never reached A) over a change A no longer made (model seed
 * 2382849284). */
static void
test_back_to_base (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *id = NULL;
  KhRecord *rec;
  KhSyncReport rep;

  SKIP_WITHOUT_SERVER (f);
  id = shared_person (f, "Vàng Thị Dua");

  set (f->a, id, "{\"occupation\": \"Nông dân\", \"phone\": \"0905777777\"}");
  set (f->a, id, "{\"occupation\": null}");
  set (f->a, id, "{\"phone\": \"0905000000\"}");
  g_assert_cmpint (kh_store_count_pending (f->a->store), ==, 0);

  set (f->o, id, "{\"occupation\": \"Giáo viên\", \"phone\": \"0905888888\"}");
  sync_one (f->o);
  rep = sync_one (f->a);
  g_assert_cmpuint (rep.pushed, ==, 0);
  g_assert_cmpuint (rep.conflicts, ==, 0);
  assert_local (f->a, id, "occupation", "Giáo viên");
  assert_local (f->a, id, "phone", "0905888888");
  rec = server_person (f, id);
  g_assert_cmpstr (server_str (rec, "occupation"), ==, "Giáo viên");
  kh_record_free (rec);

  /* Back to base beside a real change: only the real change goes. */
  set (f->a, id, "{\"notes\": \"Ghi chú mới\", \"phone\": \"0905999999\"}");
  set (f->a, id, "{\"phone\": \"0905888888\"}");
  set (f->o, id, "{\"phone\": \"0905111111\"}");
  sync_one (f->o);
  rep = sync_one (f->a);
  g_assert_cmpuint (rep.conflicts, ==, 0);
  sync_one (f->o);
  rec = server_person (f, id);
  g_assert_cmpstr (server_str (rec, "notes"), ==, "Ghi chú mới");
  g_assert_cmpstr (server_str (rec, "phone"), ==, "0905111111");
  kh_record_free (rec);
  assert_settled (f);
}

/* A delete and a restore with nothing else is no change; an edit, a delete and a restore is an
 * update of the edited fields, and the edit set back too is no change. O deletes the record
 * meanwhile: with no change here, O's delete reaches A at the next pull (model seed
 * 3879913897); with an edit left, it is an edit against a delete, a conflict (model seed
 * 1030779675); and an edit set back while that conflict is open leaves nothing of A's, so the
 * conflict closes and A takes the server's delete at once. */
static void
test_delete_restore_net (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  g_autofree char *id2 = NULL;
  json_object *c;
  KhSyncReport rep;

  SKIP_WITHOUT_SERVER (f);
  id = shared_person (f, "Sùng A Páo");
  id2 = shared_person (f, "Giàng Thị Mỷ");

  /* No change at all. */
  set (f->a, id, "{\"phone\": \"0905121212\"}");
  delete (f->a, id);
  g_assert_true (kh_store_restore (f->a->store, "person", id, &error));
  g_assert_no_error (error);
  set (f->a, id, "{\"phone\": \"0905000000\"}");
  check (f->a);
  g_assert_cmpint (kh_store_count_pending (f->a->store), ==, 0);

  /* An edit left: an update of it. */
  set (f->a, id2, "{\"phone\": \"0905343434\", \"notes\": \"Chuyển nhà\"}");
  delete (f->a, id2);
  g_assert_true (kh_store_restore (f->a->store, "person", id2, &error));
  g_assert_no_error (error);
  check (f->a);
  g_assert_cmpint (kh_store_count_pending (f->a->store), ==, 1);

  delete (f->o, id);
  delete (f->o, id2);
  sync_one (f->o);
  rep = sync_one (f->a);
  g_assert_true (local_deleted (f->a, id));
  g_assert_false (local_deleted (f->a, id2));
  g_assert_cmpuint (rep.conflicts, ==, 1);
  c = find_conflict (f->a, id2, KH_CONFLICT_DELETED);
  g_assert_nonnull (c);
  json_object_put (c);

  /* A sets both fields back: nothing of A's is left, the conflict is moot. */
  set (f->a, id2, "{\"phone\": \"0905000000\", \"notes\": \"Ghi chú đầu\"}");
  g_assert_cmpint (kh_replica_count_conflicts (f->a->store), ==, 0);
  g_assert_cmpint (kh_store_count_pending (f->a->store), ==, 0);
  g_assert_true (local_deleted (f->a, id2));
  rep = sync_one (f->a);
  g_assert_cmpuint (rep.pushed, ==, 0);
  sync_one (f->o);
  assert_settled (f);
}

/* The server purges its tombstones (restarted with no grace period); the replicas follow it. */
static void
purge_tombstones (Fixture *f)
{
  static const char * const args[] = { "--tombstone-days", "0", NULL };

  kh_test_server_stop (f->server);
  kh_test_server_start (f->server, args);
  g_assert_true (kh_replica_set_state (f->a->store, KH_SYNC_SERVER_URL, f->server->base, NULL));
  g_assert_true (kh_replica_set_state (f->o->store, KH_SYNC_SERVER_URL, f->server->base, NULL));
}

/* O deletes two people and the server purges their tombstones before A pulls. A edits one and
 * deletes it: both sides agree it is gone, and nothing is sent again as a new record or left
 * refused (before, the edit that goes ahead of the delete was refused as unknown and put back
 * at every reset, or, answered "not found", the record came back as new: model seed
 * 156496605). A edits the other and keeps it: what A typed is not dropped, the record is sent
 * again as a new one. */
static void
test_purged_under_edit (Fixture       *f,
                        gconstpointer  data)
{
  g_autofree char *gone = NULL;
  g_autofree char *kept = NULL;
  KhRecord *rec;
  KhSyncReport rep;

  SKIP_WITHOUT_SERVER (f);
  gone = shared_person (f, "Thào A Chư");
  kept = shared_person (f, "Lầu Thị Chá");
  delete (f->o, gone);
  delete (f->o, kept);
  sync_one (f->o);
  purge_tombstones (f);

  set (f->a, gone, "{\"notes\": \"Đã chuyển đi\"}");
  delete (f->a, gone);
  set (f->a, kept, "{\"notes\": \"Vẫn ở đây\"}");
  rep = sync_one (f->a);
  g_assert_cmpuint (rep.rejected, ==, 0);
  sync_one (f->a);
  g_assert_cmpint (kh_replica_count_rejected (f->a->store), ==, 0);
  g_assert_cmpint (kh_store_count_pending (f->a->store), ==, 0);
  {
    g_autoptr(GHashTable) records = server_records (f, f->token_a);

    g_assert_null (g_hash_table_lookup (records, gone));
  }
  rec = server_person (f, kept);
  g_assert_false (rec->deleted);
  g_assert_cmpstr (server_str (rec, "notes"), ==, "Vẫn ở đây");
  kh_record_free (rec);
  sync_one (f->o);
  assert_settled (f);
}

/* A third replica deletes a person A and O both edit, unsent, and the server purges the
 * tombstone. O, moved to another area meanwhile, sends its record again as new and is
 * refused (outside the area); back in its area, the refused create is put to the server again
 * but the push does not get through. A sends its record again as new, and the server has it
 * again under the same id. When O pulls it, O's create was sent and never answered, as a
 * create whose answer was lost looks; but O's changes were made on the state both replicas
 * had pulled, and stay judged against it: notes, changed only on O, reaches the server; phone,
 * changed only on A, is A's; guardian_name, changed on both, is a conflict. Before, sending a
 * record again as new dropped that state, and O took what its own create carried for the
 * server's: every field O had changed looked unchanged there and took A's value without a
 * word (model seed 785337897). */
static void
test_purged_sent_again_by_both (Fixture       *f,
                                gconstpointer  data)
{
  g_autofree char *id = NULL;
  g_autofree char *proxy_url = NULL;
  g_autoptr(json_object) conflict = NULL;
  g_autoptr(GError) error = NULL;
  KhFaultProxy *proxy;
  KhTReplica *d;
  KhRecord *rec;
  KhSyncReport rep;

  SKIP_WITHOUT_SERVER (f);
  id = shared_person (f, "Giàng A Páo");
  d = kh_treplica_new (f->server, f->dir, "d", f->server->base, "admin");
  sync_one (d);
  set (f->a, id, "{\"phone\": \"0905111111\", \"guardian_name\": \"Giàng A Lử\"}");
  set (f->o, id, "{\"notes\": \"Đã đi học lại\", \"guardian_name\": \"Giàng Thị Mỷ\"}");
  delete (d, id);
  sync_one (d);
  kh_treplica_free (d);
  purge_tombstones (f);
  proxy = kh_fault_proxy_new (f->server->port, 1);
  proxy_url = g_strdup_printf ("http://127.0.0.1:%d", kh_fault_proxy_get_port (proxy));
  g_assert_true (kh_replica_set_state (f->o->store, KH_SYNC_SERVER_URL, proxy_url, NULL));

  kh_test_server_cli (f->server, NULL, "user", "scope", "officer_a", "B", NULL);
  rep = sync_one (f->o);
  g_assert_cmpuint (rep.rejected, ==, 1);
  kh_test_server_cli (f->server, NULL, "user", "scope", "officer_a", "A", NULL);
  kh_fault_proxy_set_fault (proxy, KH_FAULT_500, "POST /v1/push", -1);
  g_assert_false (kh_treplica_try_sync (f->o, &rep, &error));
  g_clear_error (&error);
  check (f->o);
  kh_fault_proxy_set_fault (proxy, KH_FAULT_NONE, NULL, 0);

  sync_one (f->a);
  rec = server_person (f, id);
  g_assert_false (rec->deleted);
  g_assert_cmpstr (server_str (rec, "phone"), ==, "0905111111");
  kh_record_free (rec);

  sync_one (f->o);
  assert_local (f->o, id, "notes", "Đã đi học lại");
  assert_local (f->o, id, "phone", "0905111111");
  assert_local (f->o, id, "guardian_name", "Giàng Thị Mỷ");
  conflict = find_conflict (f->o, id, "guardian_name");
  g_assert_nonnull (conflict);
  rec = server_person (f, id);
  g_assert_cmpstr (server_str (rec, "notes"), ==, "Đã đi học lại");
  g_assert_cmpstr (server_str (rec, "guardian_name"), ==, "Giàng A Lử");
  kh_record_free (rec);

  resolve (f->o, id, "guardian_name", KH_RESOLVE_MINE);
  sync_one (f->o);
  sync_one (f->a);
  rec = server_person (f, id);
  g_assert_cmpstr (server_str (rec, "guardian_name"), ==, "Giàng Thị Mỷ");
  kh_record_free (rec);
  assert_settled (f);
  kh_fault_proxy_free (proxy);
}

/* O restores a person A deleted, O's area changes, and the restore is refused; O then edits
 * the record and gives the refused restore up. The record goes back to the server's state,
 * deleted, but the edit made after the restore was not given up: it is an edit here of a
 * record deleted there, kept on screen in a conflict on "deleted" for the person to choose, as
 * a pull makes it. Chosen "mine" when the area returns, the record comes back with the edit.
 * Before, the record was deleted here with the edit waiting, and the next sync dropped the
 * edit without a word, as one made before a delete (model seed 1026997168). */
static void
test_discard_restore_keeps_edit (Fixture       *f,
                                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  KhSyncReport rep;
  KhRecord *rec;

  SKIP_WITHOUT_SERVER (f);
  id = shared_person (f, "Hoàng Văn Sếnh");
  delete (f->a, id);
  sync_one (f->a);
  sync_one (f->o);
  g_assert_true (kh_store_restore (f->o->store, "person", id, &error));
  g_assert_no_error (error);
  kh_test_server_cli (f->server, NULL, "user", "scope", "officer_a", "B", NULL);
  rep = sync_one (f->o);
  g_assert_cmpuint (rep.rejected, ==, 1);
  set (f->o, id, "{\"phone\": \"0905777777\"}");

  g_assert_true (kh_replica_discard_rejected (f->o->store, id, &error));
  g_assert_no_error (error);
  check (f->o);
  g_assert_false (local_deleted (f->o, id));
  assert_local (f->o, id, "phone", "0905777777");
  g_assert_cmpint (kh_store_count_pending (f->o->store), ==, 1);
  g_assert_cmpint (kh_replica_count_rejected (f->o->store), ==, 0);
  g_assert_cmpint (kh_replica_count_conflicts (f->o->store), ==, 1);

  kh_test_server_cli (f->server, NULL, "user", "scope", "officer_a", "A", NULL);
  sync_one (f->o);
  g_assert_cmpint (kh_store_count_pending (f->o->store), ==, 1);
  g_assert_cmpint (kh_replica_count_conflicts (f->o->store), ==, 1);
  resolve (f->o, id, KH_CONFLICT_DELETED, KH_RESOLVE_MINE);
  sync_one (f->o);
  rec = server_person (f, id);
  g_assert_false (rec->deleted);
  g_assert_cmpstr (server_str (rec, "phone"), ==, "0905777777");
  kh_record_free (rec);
  sync_one (f->a);
  assert_settled (f);
}

/* `khuyenhoc-cli check` says so, and exits 0, on a replica that keeps its promise. */
static void
test_cli_check (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  const char *argv[] = { CLI_BIN, "--db", NULL, "check", NULL };
  int status = -1;

  SKIP_WITHOUT_SERVER (f);
  g_autofree char *id = shared_person (f, "Vi Văn Lâm");
  set (f->a, id, "{\"phone\": \"0905444444\"}");
  argv[2] = f->a->path;
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, &error));
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_assert_cmpuint (strlen (out), >, 10);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* An outbox emptied behind the replica's back loses A's phone: the check finds it. */
  g_assert_cmpint (sqlite3_exec (kh_store_get_db (f->a->store), "DELETE FROM outbox", NULL, NULL, NULL), ==, SQLITE_OK);
  g_assert_false (kh_replica_check (f->a->store, &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, id));
  g_clear_error (&error);
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, &error));
  g_assert_no_error (error);
  g_assert_false (g_spawn_check_wait_status (status, NULL));
  g_assert_nonnull (strstr (err, id));
}

int
main (int   argc,
      char *argv[])
{
  static const char *backends[] = { "sqlite", "postgresql" };

  g_test_init (&argc, &argv, NULL);
  g_setenv ("KHUYENHOC_TOKEN_STORE", "file", TRUE);

  for (guint b = 0; b < G_N_ELEMENTS (backends); b++)
    {
#define ADD(name, fn) \
      { \
        g_autofree char *path = g_strdup_printf ("/sync/lost-edits/%s/" name, backends[b]); \
        g_test_add (path, Fixture, backends[b], set_up, fn, tear_down); \
      }
      ADD ("withheld-field", test_withheld_field);
      ADD ("withheld-answer-lost", test_withheld_answer_lost);
      ADD ("resolve-after-delete", test_resolve_after_delete);
      ADD ("deleted-both", test_deleted_both);
      ADD ("cli-check", test_cli_check);
      ADD ("restore-after-conflict", test_restore_after_conflict);
      ADD ("delete-against-restore", test_delete_against_restore);
      ADD ("discard-refused-in-conflict", test_discard_refused_in_conflict);
      ADD ("resolve-deleted-keeps-field", test_resolve_deleted_keeps_field);
      ADD ("back-to-base", test_back_to_base);
      ADD ("delete-restore-net", test_delete_restore_net);
      ADD ("purged-under-edit", test_purged_under_edit);
      ADD ("purged-sent-again-by-both", test_purged_sent_again_by_both);
      ADD ("discard-restore-keeps-edit", test_discard_restore_keeps_edit);
#undef ADD
    }
  return g_test_run ();
}
