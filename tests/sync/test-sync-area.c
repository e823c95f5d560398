/* test-sync-area.c: unsent changes across a change of the officer's area, against the real
 * server, on SQLite and on PostgreSQL
 *
 * An officer (replica O, officer_a, commune A) makes a change and does not sync; the area is
 * changed on the server (`user scope officer_a B`), O syncs, the area comes back, O syncs
 * again. What is proved, for each kind of unsent change (delete, clear, edit, create,
 * restore): while the record is outside the area the change is neither lost nor sent as
 * something else, and the person sees it as refused with the server's reason; when the area
 * returns the change reaches the server; at the end the replica equals a fresh replica of the
 * same account, record by record, with nothing pending or refused. And a refused change given
 * up by the person (discard) brings the replica back to the server's truth at once, without a
 * verify.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "kh-codec.h"
#include "kh-replica.h"
#include "kh-sync-test-util.h"

typedef struct
{
  KhTestServer *server;
  char         *dir;
  KhTReplica   *admin;   /* the province's administrator: what the server holds */
  KhTReplica   *o;       /* officer_a, commune A */
  char         *unit_a;
  char         *unit_b;
} Fixture;

static void
set_up (Fixture       *f,
        gconstpointer  data)
{
  f->server = kh_test_server_new_serving (data);
  if (f->server == NULL)
    return;
  f->dir = kh_test_tmpdir ();
  f->admin = kh_treplica_new (f->server, f->dir, "admin", f->server->base, "admin");
  f->o = kh_treplica_new (f->server, f->dir, "o", f->server->base, "officer_a");
  kh_treplica_sync (f->admin);
  kh_treplica_sync (f->o);
  f->unit_a = g_strdup (kh_treplica_unit (f->admin, "A"));
  f->unit_b = g_strdup (kh_treplica_unit (f->admin, "B"));
}

static void
tear_down (Fixture       *f,
           gconstpointer  data)
{
  kh_treplica_free (f->admin);
  kh_treplica_free (f->o);
  kh_test_server_free (f->server);
  if (f->dir != NULL)
    kh_test_rmdir (f->dir);
  g_free (f->dir);
  g_free (f->unit_a);
  g_free (f->unit_b);
}

#define SKIP_WITHOUT_SERVER(f) \
  if ((f)->server == NULL) { g_test_skip ("KH_TEST_PG_URL is not set"); return; }

/* A person in commune A, with a phone, on the server and on both replicas. */
static char *
add_person (Fixture    *f,
            const char *name)
{
  g_autofree char *json = g_strdup_printf ("{\"full_name\": \"%s\", \"phone\": \"0905000111\", "
                                           "\"org_unit_id\": \"%s\"}", name, f->unit_a);
  char *id = kh_treplica_add (f->admin, "person", json);

  kh_treplica_sync (f->admin);
  kh_treplica_sync (f->o);
  return id;
}

/* Whether @r holds the person @id at all, tombstone or not. */
static gboolean
holds (KhTReplica *r,
       const char *id)
{
  KhQuery q = { .include_deleted = TRUE };
  gint64 n;

  q.where = json_object_new_object ();
  json_object_object_add (q.where, "id", json_object_new_string (id));
  n = kh_store_count (r->store, "person", &q, NULL);
  json_object_put (q.where);
  return n > 0;
}

static gboolean
is_deleted (json_object *rec)
{
  return json_object_get_boolean (json_object_object_get (rec, "deleted"));
}

/* The person as the server has it now (through the administrator's replica). */
static json_object *
on_server (Fixture    *f,
           const char *id)
{
  kh_treplica_sync (f->admin);
  return kh_treplica_get (f->admin, "person", id);
}

/* The change to @id is in O's outbox as refused, with a reason the person can read: nothing
 * was dropped without a word. */
static void
assert_refused (Fixture    *f,
                const char *id)
{
  g_autoptr(GError) error = NULL;
  json_object *outbox = kh_store_list_outbox (f->o->store, &error);
  gboolean found = FALSE;

  g_assert_no_error (error);
  for (size_t i = 0; i < json_object_array_length (outbox); i++)
    {
      json_object *row = json_object_array_get_idx (outbox, i);

      if (g_strcmp0 (kh_tstr (row, "record_id"), id) != 0)
        continue;
      g_assert_cmpstr (kh_tstr (row, "state"), ==, "rejected");
      g_assert_nonnull (kh_tstr (row, "reason"));
      g_assert_cmpuint (strlen (kh_tstr (row, "reason")), >, 5);
      found = TRUE;
    }
  g_assert_true (found);
  g_assert_cmpint (kh_replica_count_rejected (f->o->store), >=, 1);
  json_object_put (outbox);
}

/* O equals a fresh replica of officer_a pulled from the server now, record by record, and has
 * nothing waiting or refused. */
static void
assert_agrees (Fixture *f)
{
  g_autofree char *name = g_strdup_printf ("fresh%d", g_random_int_range (0, 1000000));
  KhTReplica *fresh = kh_treplica_new (f->server, f->dir, name, f->server->base, "officer_a");
  g_autofree char *df = NULL;
  g_autofree char *dor = NULL;

  kh_treplica_sync (fresh);
  df = kh_treplica_dump (fresh);
  dor = kh_treplica_dump (f->o);
  g_assert_cmpstr (dor, ==, df);
  g_assert_cmpint (kh_store_count_pending (f->o->store), ==, 0);
  g_assert_cmpint (kh_replica_count_rejected (f->o->store), ==, 0);
  kh_treplica_free (fresh);
}

static void
move_officer (Fixture    *f,
              const char *code)
{
  kh_test_server_cli (f->server, NULL, "user", "scope", "officer_a", code, NULL);
}

/* The area goes to commune B and back, O syncing after each move. */
static void
away_and_back (Fixture    *f,
               const char *id)
{
  move_officer (f, "B");
  kh_treplica_sync (f->o);
  assert_refused (f, id);
  move_officer (f, "A");
  kh_treplica_sync (f->o);
  kh_treplica_sync (f->o);
}

/* Point 4: an unsent delete outlives the area's change and is made on the server when the area
 * returns. */
static void
test_delete (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  json_object *rec;

  SKIP_WITHOUT_SERVER (f);
  id = add_person (f, "Xoá Khi Vắng");
  g_assert_true (kh_store_delete (f->o->store, "person", id, &error));
  g_assert_no_error (error);

  move_officer (f, "B");
  kh_treplica_sync (f->o);
  /* Kept, still deleted here, and shown as refused. */
  g_assert_true (holds (f->o, id));
  rec = kh_treplica_get (f->o, "person", id);
  g_assert_true (is_deleted (rec));
  json_object_put (rec);
  assert_refused (f, id);

  move_officer (f, "A");
  kh_treplica_sync (f->o);
  kh_treplica_sync (f->o);
  rec = on_server (f, id);
  g_assert_true (is_deleted (rec));
  json_object_put (rec);
  assert_agrees (f);
}

/* Point 4: an unsent clear of a field stays cleared and is made on the server. */
static void
test_clear (Fixture       *f,
            gconstpointer  data)
{
  g_autofree char *id = NULL;
  json_object *rec;

  SKIP_WITHOUT_SERVER (f);
  id = add_person (f, "Xoá Số Máy");
  kh_treplica_set (f->o, "person", id, "{\"phone\": null}");

  move_officer (f, "B");
  kh_treplica_sync (f->o);
  rec = kh_treplica_get (f->o, "person", id);
  g_assert_null (json_object_object_get (rec, "phone"));
  json_object_put (rec);
  assert_refused (f, id);

  move_officer (f, "A");
  kh_treplica_sync (f->o);
  kh_treplica_sync (f->o);
  rec = on_server (f, id);
  g_assert_null (json_object_object_get (rec, "phone"));
  g_assert_cmpstr (kh_tstr (rec, "full_name"), ==, "Xoá Số Máy");
  json_object_put (rec);
  assert_agrees (f);
}

/* An unsent edit, the same way. */
static void
test_edit (Fixture       *f,
           gconstpointer  data)
{
  g_autofree char *id = NULL;
  json_object *rec;

  SKIP_WITHOUT_SERVER (f);
  id = add_person (f, "Sửa Khi Vắng");
  kh_treplica_set (f->o, "person", id, "{\"phone\": \"0977000222\", \"address\": \"Thôn 3\"}");
  away_and_back (f, id);
  rec = on_server (f, id);
  g_assert_cmpstr (kh_tstr (rec, "phone"), ==, "0977000222");
  g_assert_cmpstr (kh_tstr (rec, "address"), ==, "Thôn 3");
  json_object_put (rec);
  assert_agrees (f);
}

/* An unsent create of a record in the old area: refused while away, made when back. */
static void
test_create (Fixture       *f,
             gconstpointer  data)
{
  g_autofree char *json = NULL;
  g_autofree char *id = NULL;
  json_object *rec;

  SKIP_WITHOUT_SERVER (f);
  json = g_strdup_printf ("{\"full_name\": \"Mới Khi Vắng\", \"org_unit_id\": \"%s\"}", f->unit_a);
  id = kh_treplica_add (f->o, "person", json);
  away_and_back (f, id);
  rec = on_server (f, id);
  g_assert_cmpstr (kh_tstr (rec, "full_name"), ==, "Mới Khi Vắng");
  g_assert_false (is_deleted (rec));
  json_object_put (rec);
  assert_agrees (f);
}

/* An unsent restore of a record deleted on the server. */
static void
test_restore (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  json_object *rec;

  SKIP_WITHOUT_SERVER (f);
  id = add_person (f, "Khôi Phục Khi Vắng");
  g_assert_true (kh_store_delete (f->admin->store, "person", id, &error));
  g_assert_no_error (error);
  kh_treplica_sync (f->admin);
  kh_treplica_sync (f->o);
  g_assert_true (kh_store_restore (f->o->store, "person", id, &error));
  g_assert_no_error (error);

  move_officer (f, "B");
  kh_treplica_sync (f->o);
  rec = kh_treplica_get (f->o, "person", id);
  g_assert_false (is_deleted (rec));
  json_object_put (rec);
  assert_refused (f, id);
  move_officer (f, "A");
  kh_treplica_sync (f->o);
  kh_treplica_sync (f->o);

  rec = on_server (f, id);
  g_assert_false (is_deleted (rec));
  json_object_put (rec);
  assert_agrees (f);
}

/* The record, not the officer, leaves the area: the administrator moves it to commune B under
 * an unsent edit, which the server refuses; moved back, the edit is made. */
static void
test_moved_back (Fixture       *f,
                 gconstpointer  data)
{
  g_autofree char *id = NULL;
  g_autofree char *json = NULL;
  json_object *rec;

  SKIP_WITHOUT_SERVER (f);
  id = add_person (f, "Đi Rồi Về");
  kh_treplica_set (f->o, "person", id, "{\"phone\": \"0977000555\"}");
  json = g_strdup_printf ("{\"org_unit_id\": \"%s\"}", f->unit_b);
  kh_treplica_set (f->admin, "person", id, json);
  kh_treplica_sync (f->admin);
  kh_treplica_sync (f->o);
  assert_refused (f, id);

  g_free (json);
  json = g_strdup_printf ("{\"org_unit_id\": \"%s\"}", f->unit_a);
  kh_treplica_set (f->admin, "person", id, json);
  kh_treplica_sync (f->admin);
  kh_treplica_sync (f->o);
  kh_treplica_sync (f->o);
  rec = on_server (f, id);
  g_assert_cmpstr (kh_tstr (rec, "phone"), ==, "0977000555");
  g_assert_cmpstr (kh_tstr (rec, "org_unit_id"), ==, f->unit_a);
  json_object_put (rec);
  assert_agrees (f);
}

/* A sync that neither verifies nor repairs. */
static void
plain_sync (KhTReplica *r)
{
  g_autoptr(GError) error = NULL;
  KhSyncReport rep;

  g_assert_true (kh_sync_engine_run (r->engine, KH_SYNC_FLAGS_NO_VERIFY, &rep, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (rep.repaired, ==, 0);
}

/* Point 5: the area changes under an unsent edit; the person gives the refused edit up: the
 * record leaves the replica at once, a plain sync agrees with the server, and when the area
 * returns the record comes back as the server has it. */
static void
test_discard_scope (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  json_object *rec;

  SKIP_WITHOUT_SERVER (f);
  id = add_person (f, "Bỏ Khi Vắng");
  kh_treplica_set (f->o, "person", id, "{\"phone\": \"0977000333\"}");
  move_officer (f, "B");
  kh_treplica_sync (f->o);
  assert_refused (f, id);

  g_assert_true (kh_replica_discard_rejected (f->o->store, id, &error));
  g_assert_no_error (error);
  g_assert_false (holds (f->o, id));
  plain_sync (f->o);
  assert_agrees (f);

  move_officer (f, "A");
  kh_treplica_sync (f->o);
  rec = kh_treplica_get (f->o, "person", id);
  g_assert_cmpstr (kh_tstr (rec, "phone"), ==, "0905000111");
  json_object_put (rec);
  assert_agrees (f);
}

/* Point 5, the record moved to commune B by the administrator under an unsent edit: the edit
 * is refused; given up, the record leaves the replica with its old unit, without a verify. */
static void
test_discard_moved (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  g_autofree char *json = NULL;

  SKIP_WITHOUT_SERVER (f);
  id = add_person (f, "Chuyển Đi");
  kh_treplica_set (f->o, "person", id, "{\"phone\": \"0977000444\"}");
  json = g_strdup_printf ("{\"org_unit_id\": \"%s\"}", f->unit_b);
  kh_treplica_set (f->admin, "person", id, json);
  kh_treplica_sync (f->admin);

  kh_treplica_sync (f->o);
  assert_refused (f, id);
  g_assert_true (holds (f->o, id));
  g_assert_true (kh_replica_discard_rejected (f->o->store, id, &error));
  g_assert_no_error (error);
  g_assert_false (holds (f->o, id));
  plain_sync (f->o);
  assert_agrees (f);

  /* Moved back, it comes back as the server has it. */
  g_free (json);
  json = g_strdup_printf ("{\"org_unit_id\": \"%s\"}", f->unit_a);
  kh_treplica_set (f->admin, "person", id, json);
  kh_treplica_sync (f->admin);
  kh_treplica_sync (f->o);
  g_assert_true (holds (f->o, id));
  assert_agrees (f);
}

/* Point 5, a refusal inside the area (an officer may not change shared reference data): given
 * up, the record takes back the server's state (its merge base) at once. */
static void
test_discard_in_area (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *set = NULL;
  json_object *rec;

  SKIP_WITHOUT_SERVER (f);
  set = kh_treplica_add (f->admin, "criteria_set",
                         "{\"name\": \"Bộ chung\", \"model\": \"family\", \"method\": \"points\"}");
  kh_treplica_sync (f->admin);
  kh_treplica_sync (f->o);
  kh_treplica_set (f->o, "criteria_set", set, "{\"name\": \"Bộ của xã\"}");
  kh_treplica_sync (f->o);
  g_assert_cmpint (kh_replica_count_rejected (f->o->store), ==, 1);

  g_assert_true (kh_replica_discard_rejected (f->o->store, set, &error));
  g_assert_no_error (error);
  rec = kh_treplica_get (f->o, "criteria_set", set);
  g_assert_cmpstr (kh_tstr (rec, "name"), ==, "Bộ chung");
  json_object_put (rec);
  plain_sync (f->o);
  assert_agrees (f);
}

/* Point 5, a delete made after the refused edit: the officer edits, the area changes, the edit
 * is refused; the officer then deletes the record and gives the refused edit up. The delete is
 * a change of its own: the record stays deleted here with the delete waiting, and when the
 * area returns the delete is made. Before, giving up the edit put the record's deleted flag
 * back to the server's while the delete still waited (model seed 833934053). */
static void
test_discard_keeps_delete (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  json_object *rec;

  SKIP_WITHOUT_SERVER (f);
  id = add_person (f, "Xoá Sau Khi Bị Từ Chối");
  kh_treplica_set (f->o, "person", id, "{\"phone\": \"0977000666\"}");
  move_officer (f, "B");
  kh_treplica_sync (f->o);
  assert_refused (f, id);
  g_assert_true (kh_store_delete (f->o->store, "person", id, &error));
  g_assert_no_error (error);

  g_assert_true (kh_replica_discard_rejected (f->o->store, id, &error));
  g_assert_no_error (error);
  g_assert_true (kh_replica_check (f->o->store, NULL));
  rec = kh_treplica_get (f->o, "person", id);
  g_assert_nonnull (rec);
  g_assert_true (is_deleted (rec));
  g_assert_cmpstr (kh_tstr (rec, "phone"), ==, "0905000111");
  json_object_put (rec);
  g_assert_cmpint (kh_store_count_pending (f->o->store), ==, 1);

  move_officer (f, "A");
  kh_treplica_sync (f->o);
  kh_treplica_sync (f->o);
  rec = on_server (f, id);
  g_assert_true (is_deleted (rec));
  g_assert_cmpstr (kh_tstr (rec, "phone"), ==, "0905000111");
  json_object_put (rec);
  assert_agrees (f);
}

/* O's edit reaches the server but its answer is lost; the administrator then moves the record
 * to commune B. O's next sync hears the record left the area (it is kept for its waiting
 * edit), and the retry is answered "duplicate": the edit is done with, so the record leaves O
 * at once, as it would have had the answer come. Before, O kept a stale copy outside its area
 * until a verify. */
static void
test_answer_lost_outside (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  g_autofree char *json = NULL;
  g_autofree char *token = NULL;
  json_object *batch;
  KhSyncReport rep;

  SKIP_WITHOUT_SERVER (f);
  id = add_person (f, "Trả Lời Bị Mất");
  kh_treplica_set (f->o, "person", id, "{\"phone\": \"0977000777\"}");
  batch = kh_replica_take_batch (f->o->store, 500, NULL, &error);
  g_assert_no_error (error);
  token = kh_test_login (f->server, "officer_a", NULL);
  {
    g_autoptr(KhPushResponse) r = kh_test_push (f->server, token,
                                                json_object_get (kh_replica_batch_mutations (batch)));

    g_assert_cmpuint (r->results->len, ==, 1);
    g_assert_cmpint (((KhMutationResult *) r->results->pdata[0])->status, ==, KH_RESULT_APPLIED);
  }
  json_object_put (batch);

  json = g_strdup_printf ("{\"org_unit_id\": \"%s\"}", f->unit_b);
  kh_treplica_set (f->admin, "person", id, json);
  kh_treplica_sync (f->admin);

  /* Without a verify: the sync itself puts the replica right. */
  g_assert_true (kh_sync_engine_run (f->o->engine, KH_SYNC_FLAGS_NO_VERIFY, &rep, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (rep.rejected, ==, 0);
  g_assert_false (holds (f->o, id));
  g_assert_cmpint (kh_store_count_pending (f->o->store), ==, 0);
  assert_agrees (f);
}

/* O's field waits for a conflict (held back from its pushes) when a later edit of the same
 * field, and of another one, is refused because the area changed. When the area returns, the
 * later edit is put to the server again, and O's value of the conflicted field is still O's:
 * in the conflict or in the outbox, never replaced by the server's without a word. */
static void
withheld_outside (Fixture  *f,
                  gboolean  answer_lost,
                  gboolean  resolve_first)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  json_object *rec;
  KhSyncReport rep;

  SKIP_WITHOUT_SERVER (f);
  id = add_person (f, "Giữ Lại Vắng");
  kh_treplica_set (f->o, "person", id, "{\"guardian_name\": \"Mẹ O\", \"notes\": \"của O 1\"}");
  kh_treplica_set (f->admin, "person", id, "{\"notes\": \"của admin\", \"occupation\": \"Nông dân\"}");
  kh_treplica_sync (f->admin);
  rep = kh_treplica_sync (f->o);
  g_assert_cmpuint (rep.conflicts, ==, 1);
  if (answer_lost)
    {
      /* O's entry goes again (its guardian was taken already) and the answer is lost. */
      g_autofree char *token = kh_test_login (f->server, "officer_a", NULL);
      json_object *batch;

      kh_treplica_set (f->o, "person", id, "{\"guardian_name\": \"Bố O\"}");
      batch = kh_replica_take_batch (f->o->store, 500, NULL, &error);
      g_assert_no_error (error);
      {
        g_autoptr(KhPushResponse) r = kh_test_push (f->server, token,
                                                    json_object_get (kh_replica_batch_mutations (batch)));

        g_assert_cmpuint (r->results->len, ==, 1);
      }
      json_object_put (batch);
    }
  kh_treplica_set (f->o, "person", id, "{\"occupation\": \"Giáo viên\", \"notes\": \"của O 2\"}");
  if (resolve_first)
    {
      g_assert_true (kh_replica_resolve (f->o->store, id, "notes", KH_RESOLVE_MINE, NULL, &error));
      g_assert_no_error (error);
    }

  move_officer (f, "B");
  kh_treplica_sync (f->o);
  g_assert_cmpint (kh_replica_count_rejected (f->o->store), >=, 1);
  move_officer (f, "A");
  kh_treplica_sync (f->o);
  kh_treplica_sync (f->o);

  rec = on_server (f, id);
  g_assert_cmpstr (kh_tstr (rec, "guardian_name"), ==, answer_lost ? "Bố O" : "Mẹ O");
  g_assert_cmpstr (kh_tstr (rec, "occupation"), ==, "Giáo viên");
  json_object_put (rec);
  rec = kh_treplica_get (f->o, "person", id);
  g_assert_cmpstr (kh_tstr (rec, "notes"), ==, "của O 2");
  json_object_put (rec);
  if (!resolve_first)
    {
      g_assert_cmpint (kh_replica_count_conflicts (f->o->store), ==, 1);
      g_assert_true (kh_replica_resolve (f->o->store, id, "notes", KH_RESOLVE_MINE, NULL, &error));
      g_assert_no_error (error);
      plain_sync (f->o);
    }
  rec = on_server (f, id);
  g_assert_cmpstr (kh_tstr (rec, "notes"), ==, "của O 2");
  json_object_put (rec);
  assert_agrees (f);
}

static void
test_withheld_outside (Fixture       *f,
                       gconstpointer  data)
{
  withheld_outside (f, FALSE, FALSE);
}

/* The same, when O's entry had reached the server before the area changed and its answer was
 * lost: its retry is taken, the held field stays. */
static void
test_withheld_outside_lost (Fixture       *f,
                            gconstpointer  data)
{
  withheld_outside (f, TRUE, FALSE);
}

/* The same, with the conflict resolved ("mine") before the area changes: the retry of the entry
 * whose answer was lost must be the request the server took, without the notes it held back
 * then. Before, it was made again from the record and carried notes; the server's "duplicate"
 * made the replica believe the server had them, and when the area returned the merge took the
 * server's notes over the person's. */
static void
test_withheld_resolved_outside (Fixture       *f,
                                gconstpointer  data)
{
  withheld_outside (f, TRUE, TRUE);
}

/* The server is restored from a backup: its epoch grows, and every replica re-pulls. */
static void
bump_epoch (Fixture *f)
{
  kh_test_server_stop (f->server);
  kh_test_server_cli (f->server, NULL, "epoch", "bump", NULL);
  kh_test_server_start (f->server, NULL);
  g_assert_true (kh_replica_set_state (f->admin->store, KH_SYNC_SERVER_URL, f->server->base, NULL));
  g_assert_true (kh_replica_set_state (f->o->store, KH_SYNC_SERVER_URL, f->server->base, NULL));
}

/* A change refused for another reason than the area (an officer may not change shared
 * reference data) stays refused and shown across a change of the area and a server epoch
 * bump, until the person acts: it is not sent again after every reset, to be refused again.
 * Before, every reset put every refused change back in the outbox. */
static void
test_refusal_stays (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *set = NULL;
  KhSyncReport rep;

  SKIP_WITHOUT_SERVER (f);
  set = kh_treplica_add (f->admin, "criteria_set",
                         "{\"name\": \"Bộ chung\", \"model\": \"family\", \"method\": \"points\"}");
  kh_treplica_sync (f->admin);
  kh_treplica_sync (f->o);
  kh_treplica_set (f->o, "criteria_set", set, "{\"name\": \"Bộ của xã\"}");
  rep = kh_treplica_sync (f->o);
  g_assert_cmpuint (rep.rejected, ==, 1);

  move_officer (f, "B");
  rep = kh_treplica_sync (f->o);
  g_assert_cmpuint (rep.rejected, ==, 0);
  g_assert_cmpuint (rep.pushed, ==, 0);
  g_assert_cmpint (kh_replica_count_rejected (f->o->store), ==, 1);
  move_officer (f, "A");
  bump_epoch (f);
  rep = kh_treplica_sync (f->o);
  g_assert_cmpuint (rep.rejected, ==, 0);
  g_assert_cmpuint (rep.pushed, ==, 0);
  g_assert_cmpint (kh_replica_count_rejected (f->o->store), ==, 1);
  g_assert_true (kh_replica_check (f->o->store, NULL));

  g_assert_true (kh_replica_discard_rejected (f->o->store, set, &error));
  g_assert_no_error (error);
  plain_sync (f->o);
  assert_agrees (f);
}

/* A change whose reference the server cannot take (the household it names was deleted on the
 * server before the change got there) is refused as invalid, naming the field: the server does
 * not say whether the record named is gone or in another area, and either way the person must
 * name another one. The refusal stays shown across a server reset, like any refusal that is
 * not about the record's own area. Before, it came as `out_of_scope` and was put back in the
 * outbox and refused again at every reset. */
static void
test_reference_refusal_stays (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *person = NULL;
  g_autofree char *household = NULL;
  g_autofree char *json = NULL;
  json_object *rec;
  KhSyncReport rep;

  SKIP_WITHOUT_SERVER (f);
  person = add_person (f, "Lò Văn Pọm");
  json = g_strdup_printf ("{\"head_name\": \"Lò Văn Ún\", \"org_unit_id\": \"%s\"}", f->unit_a);
  household = kh_treplica_add (f->admin, "household", json);
  kh_treplica_sync (f->admin);
  kh_treplica_sync (f->o);
  g_clear_pointer (&json, g_free);
  json = g_strdup_printf ("{\"household_id\": \"%s\"}", household);
  kh_treplica_set (f->o, "person", person, json);
  g_assert_true (kh_store_delete (f->admin->store, "household", household, &error));
  g_assert_no_error (error);
  kh_treplica_sync (f->admin);

  rep = kh_treplica_sync (f->o);
  g_assert_cmpuint (rep.rejected, ==, 1);
  assert_refused (f, person);
  bump_epoch (f);
  rep = kh_treplica_sync (f->o);
  g_assert_cmpuint (rep.rejected, ==, 0);
  g_assert_cmpuint (rep.pushed, ==, 0);
  assert_refused (f, person);
  g_assert_true (kh_replica_check (f->o->store, NULL));
  rec = on_server (f, person);
  g_assert_null (kh_tstr (rec, "household_id"));
  json_object_put (rec);

  g_assert_true (kh_replica_discard_rejected (f->o->store, person, &error));
  g_assert_no_error (error);
  plain_sync (f->o);
  assert_agrees (f);
}

/* The op of O's one outbox entry for @id. */
static char *
entry_op (Fixture    *f,
          const char *id)
{
  g_autoptr(GError) error = NULL;
  json_object *outbox = kh_store_list_outbox (f->o->store, &error);
  char *op = NULL;

  g_assert_no_error (error);
  for (size_t i = 0; i < json_object_array_length (outbox); i++)
    {
      json_object *row = json_object_array_get_idx (outbox, i);

      if (g_strcmp0 (kh_tstr (row, "record_id"), id) == 0)
        {
          g_assert_null (op);
          op = g_strdup (kh_tstr (row, "op"));
        }
    }
  json_object_put (outbox);
  return op;
}

/* A record moved out of the area by the administrator under an unsent edit, when the officer's
 * next pull is a re-pull (an epoch bump) that cannot name it as removed: the edit is refused
 * as outside the area and shown as the edit it is, not sent again as a new record; when the
 * administrator moves the record back (and changes its notes), the edit is made, and nothing
 * else of the officer's old copy overwrites the server. Before, the re-pull made it a create,
 * refused as a create, and when the record came back the officer's edit never reached the
 * server. */
static void
test_moved_in_reset (Fixture       *f,
                     gconstpointer  data)
{
  g_autofree char *id = NULL;
  g_autofree char *json = NULL;
  g_autofree char *op = NULL;
  json_object *rec;

  SKIP_WITHOUT_SERVER (f);
  id = add_person (f, "Đi Khi Khôi Phục");
  kh_treplica_set (f->o, "person", id, "{\"phone\": \"0977000555\"}");
  json = g_strdup_printf ("{\"org_unit_id\": \"%s\"}", f->unit_b);
  kh_treplica_set (f->admin, "person", id, json);
  kh_treplica_sync (f->admin);
  bump_epoch (f);

  kh_treplica_sync (f->o);
  assert_refused (f, id);
  op = entry_op (f, id);
  g_assert_cmpstr (op, ==, "update");
  g_assert_true (holds (f->o, id));
  rec = on_server (f, id);
  g_assert_cmpstr (kh_tstr (rec, "phone"), ==, "0905000111");
  g_assert_cmpstr (kh_tstr (rec, "org_unit_id"), ==, f->unit_b);
  json_object_put (rec);
  g_assert_true (kh_replica_check (f->o->store, NULL));

  g_free (json);
  json = g_strdup_printf ("{\"org_unit_id\": \"%s\", \"notes\": \"Về lại xã A\"}", f->unit_a);
  kh_treplica_set (f->admin, "person", id, json);
  kh_treplica_sync (f->admin);
  kh_treplica_sync (f->o);
  kh_treplica_sync (f->o);
  rec = on_server (f, id);
  g_assert_cmpstr (kh_tstr (rec, "phone"), ==, "0977000555");
  g_assert_cmpstr (kh_tstr (rec, "notes"), ==, "Về lại xã A");
  g_assert_cmpstr (kh_tstr (rec, "org_unit_id"), ==, f->unit_a);
  json_object_put (rec);
  assert_agrees (f);
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
        g_autofree char *path = g_strdup_printf ("/sync/area/%s/" name, backends[b]); \
        g_test_add (path, Fixture, backends[b], set_up, fn, tear_down); \
      }
      ADD ("delete", test_delete);
      ADD ("clear", test_clear);
      ADD ("edit", test_edit);
      ADD ("create", test_create);
      ADD ("restore", test_restore);
      ADD ("moved-back", test_moved_back);
      ADD ("discard-scope", test_discard_scope);
      ADD ("discard-moved", test_discard_moved);
      ADD ("discard-in-area", test_discard_in_area);
      ADD ("discard-keeps-delete", test_discard_keeps_delete);
      ADD ("answer-lost-outside", test_answer_lost_outside);
      ADD ("withheld-outside", test_withheld_outside);
      ADD ("withheld-outside-lost", test_withheld_outside_lost);
      ADD ("withheld-resolved-outside", test_withheld_resolved_outside);
      ADD ("refusal-stays", test_refusal_stays);
      ADD ("reference-refusal-stays", test_reference_refusal_stays);
      ADD ("moved-in-reset", test_moved_in_reset);
#undef ADD
    }
  return g_test_run ();
}
