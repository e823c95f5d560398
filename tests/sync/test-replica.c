/* test-replica.c: the replica side of sync, without a network
 *
 * The server's answers are written here by hand in the protocol's form; what is checked is what
 * an officer relies on: what they typed is never reverted or lost, true conflicts keep both
 * values, everything else merges by itself, and a bad answer changes nothing.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gstdio.h>
#include <string.h>

#include "kh-error.h"
#include "kh-replica.h"
#include "kh-wire.h"
#include "kh-store-sql.h"
#include "kh-test-dir.h"
#include "kh-test-store.h"

typedef struct
{
  char    *dir;
  KhStore *store;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  f->dir = kh_test_tmpdir ();
  f->store = kh_test_open_store (f->dir, "replica.db");
  kh_store_set_actor (f->store, "officer.a");
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_clear_object (&f->store);
  kh_test_rmdir (f->dir);
  g_free (f->dir);
}

static const char *ID1 = "0190c9a2-7b1e-7c3a-9d7e-2f1a3b4c5d01";
static const char *ID2 = "0190c9a2-7b1e-7c3a-9d7e-2f1a3b4c5d02";

/* A RECORD as the server sends it: an org unit with a name, an address and a population. */
static json_object *
remote_unit (const char *id,
             gint64      version,
             gboolean    deleted,
             const char *name,
             const char *address,
             gint64      population,
             const char *by)
{
  json_object *rec = json_object_new_object ();
  json_object *fields = json_object_new_object ();

  json_object_object_add (fields, "code", json_object_new_string ("22435"));
  json_object_object_add (fields, "name", json_object_new_string (name));
  json_object_object_add (fields, "kind", json_object_new_string ("commune"));
  if (address != NULL)
    json_object_object_add (fields, "address", json_object_new_string (address));
  if (population > 0)
    json_object_object_add (fields, "population", json_object_new_int64 (population));
  json_object_object_add (rec, "entity", json_object_new_string ("org_unit"));
  json_object_object_add (rec, "id", json_object_new_string (id));
  json_object_object_add (rec, "version", json_object_new_int64 (version));
  json_object_object_add (rec, "deleted", json_object_new_boolean (deleted));
  json_object_object_add (rec, "fields", fields);
  json_object_object_add (rec, "updated_by", json_object_new_string (by));
  json_object_object_add (rec, "updated_at", json_object_new_string ("2025-07-01T08:30:00Z"));
  return rec;
}

static void
apply (Fixture     *f,
       json_object *rec,
       const char  *cursor,
       KhReplicaStats *stats)
{
  g_autoptr(GError) error = NULL;
  json_object *records = json_object_new_array ();
  gboolean ok;

  json_object_array_add (records, rec);
  ok = kh_replica_apply_page (f->store, records, NULL, cursor, FALSE, FALSE, stats, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  json_object_put (records);
}

static json_object *
get (Fixture    *f,
     const char *id)
{
  g_autoptr(GError) error = NULL;
  json_object *rec = kh_store_get (f->store, "org_unit", id, &error);

  g_assert_no_error (error);
  return rec;
}

static const char *
str (json_object *obj,
     const char  *name)
{
  json_object *v = NULL;

  if (!json_object_object_get_ex (obj, name, &v) || v == NULL)
    return NULL;
  return json_object_get_string (v);
}

static gint64
num (json_object *obj,
     const char  *name)
{
  json_object *v = NULL;

  json_object_object_get_ex (obj, name, &v);
  return json_object_get_int64 (v);
}

static void
set_field (Fixture    *f,
           const char *id,
           const char *name,
           const char *value)
{
  g_autoptr(GError) error = NULL;
  json_object *changes = json_object_new_object ();

  json_object_object_add (changes, name, value ? json_object_new_string (value) : NULL);
  g_assert_true (kh_store_update (f->store, "org_unit", id, changes, &error));
  g_assert_no_error (error);
  json_object_put (changes);
}

/* A pulled record with no local change takes the server's state; search and history follow. */
static void
test_pull_plain (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  KhReplicaStats stats = { 0 };
  json_object *rec;
  json_object *hits;
  json_object *history;
  g_autofree char *cursor = NULL;

  apply (f, remote_unit (ID1, 5, FALSE, "Xã Vĩnh Lương", "Thôn 1", 0, "province"), "c1", &stats);
  g_assert_cmpuint (stats.pulled, ==, 1);
  g_assert_cmpuint (stats.applied, ==, 1);
  cursor = kh_replica_get_state (f->store, KH_SYNC_CURSOR);
  g_assert_cmpstr (cursor, ==, "c1");

  rec = get (f, ID1);
  g_assert_cmpstr (str (rec, "name"), ==, "Xã Vĩnh Lương");
  g_assert_cmpint (num (rec, "version"), ==, 5);
  json_object_put (rec);
  hits = kh_store_search (f->store, "vinh luong", NULL, 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_object_array_length (hits), ==, 1);
  json_object_put (hits);

  /* A later version overwrites; the old name is no longer found; history says who. */
  apply (f, remote_unit (ID1, 9, FALSE, "Phường Bắc Nha Trang", "Thôn 1", 0, "province"), "c2", &stats);
  rec = get (f, ID1);
  g_assert_cmpstr (str (rec, "name"), ==, "Phường Bắc Nha Trang");
  json_object_put (rec);
  hits = kh_store_search (f->store, "vinh luong", NULL, 10, &error);
  g_assert_cmpuint (json_object_array_length (hits), ==, 0);
  json_object_put (hits);
  history = kh_store_history (f->store, "org_unit", ID1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_object_array_length (history), ==, 2);
  g_assert_cmpstr (str (json_object_array_get_idx (history, 1), "action"), ==, "remote");
  g_assert_cmpstr (str (json_object_array_get_idx (history, 1), "field"), ==, "name");
  g_assert_cmpstr (str (json_object_array_get_idx (history, 1), "actor"), ==, "province");
  json_object_put (history);

  /* An older version arriving late changes nothing. */
  apply (f, remote_unit (ID1, 7, FALSE, "Cũ", NULL, 0, "x"), "c3", &stats);
  rec = get (f, ID1);
  g_assert_cmpstr (str (rec, "name"), ==, "Phường Bắc Nha Trang");
  json_object_put (rec);

  /* A remote delete hides it from search. */
  apply (f, remote_unit (ID1, 10, TRUE, "Phường Bắc Nha Trang", "Thôn 1", 0, "province"), "c4", &stats);
  hits = kh_store_search (f->store, "bac nha trang", NULL, 10, &error);
  g_assert_cmpuint (json_object_array_length (hits), ==, 0);
  json_object_put (hits);
  g_assert_cmpint (kh_store_count_pending (f->store), ==, 0);
}

/* A record's members and fields are read whatever their order: the server's order (the
 * registry's) and any other give the same record. */
static void
test_pull_any_order (Fixture       *f,
                     gconstpointer  data)
{
  static const char *ID_REVERSED = "0190c9a2-7b1e-7c3a-9d7e-2f1a3b4c5d71";
  KhReplicaStats stats = { 0 };
  json_object *rec = json_object_new_object ();
  json_object *fields = json_object_new_object ();
  json_object *got;

  json_object_object_add (fields, "address", json_object_new_string ("Thôn 3"));
  json_object_object_add (fields, "population", json_object_new_int64 (5400));
  json_object_object_add (fields, "kind", json_object_new_string ("commune"));
  json_object_object_add (fields, "name", json_object_new_string ("Xã Ninh Ích"));
  json_object_object_add (fields, "code", json_object_new_string ("22471"));
  json_object_object_add (rec, "updated_at", json_object_new_string ("2025-07-02T09:00:00Z"));
  json_object_object_add (rec, "updated_by", json_object_new_string ("huyen"));
  json_object_object_add (rec, "fields", fields);
  json_object_object_add (rec, "deleted", json_object_new_boolean (FALSE));
  json_object_object_add (rec, "version", json_object_new_int64 (7));
  json_object_object_add (rec, "id", json_object_new_string (ID_REVERSED));
  json_object_object_add (rec, "entity", json_object_new_string ("org_unit"));
  apply (f, rec, "c1", &stats);
  /* In the registry's order, with fields left out. */
  apply (f, remote_unit (ID1, 3, FALSE, "Xã Vĩnh Lương", NULL, 0, "tinh"), "c2", &stats);
  g_assert_cmpuint (stats.applied, ==, 2);

  got = get (f, ID_REVERSED);
  g_assert_cmpstr (str (got, "code"), ==, "22471");
  g_assert_cmpstr (str (got, "name"), ==, "Xã Ninh Ích");
  g_assert_cmpstr (str (got, "kind"), ==, "commune");
  g_assert_cmpint (num (got, "population"), ==, 5400);
  g_assert_cmpstr (str (got, "address"), ==, "Thôn 3");
  g_assert_cmpint (num (got, "version"), ==, 7);
  g_assert_cmpstr (str (got, "updated_by"), ==, "huyen");
  g_assert_cmpstr (str (got, "updated_at"), ==, "2025-07-02T09:00:00Z");
  json_object_put (got);
  got = get (f, ID1);
  g_assert_cmpstr (str (got, "name"), ==, "Xã Vĩnh Lương");
  g_assert_cmpstr (str (got, "updated_by"), ==, "tinh");
  g_assert_null (str (got, "address"));
  g_assert_false (json_object_object_get_ex (got, "population", NULL));
  json_object_put (got);
}

/* A large page of new records, the shape of a first pull: every record, its history row and
 * its search entry are there, a record the page carries twice ends on its later state, and a
 * record with local changes in the middle of the page is merged, not overwritten. */
static void
test_pull_many (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  KhReplicaStats stats = { 0 };
  json_object *records = json_object_new_array ();
  json_object *rec;
  json_object *hits;
  char id[37];
  const guint n = 150;
  gboolean ok;

  apply (f, remote_unit (ID1, 5, FALSE, "Xã A", "Thôn 1", 100, "p"), "c1", NULL);
  set_field (f, ID1, "address", "Thôn 2");

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *name = g_strdup_printf ("Xã Số %u", i);

      g_snprintf (id, sizeof id, "0190c9a2-7b1e-7c3a-9d7e-%012x", 0x1000 + i);
      json_object_array_add (records, remote_unit (id, 3, i == 97, name, NULL, 0, "province"));
      if (i == 70)
        json_object_array_add (records, remote_unit (ID1, 8, FALSE, "Xã B", "Thôn 1", 100, "p"));
    }
  /* The page's record 100 again, changed. */
  g_snprintf (id, sizeof id, "0190c9a2-7b1e-7c3a-9d7e-%012x", 0x1000 + 100);
  json_object_array_add (records, remote_unit (id, 4, FALSE, "Phường Mới", NULL, 0, "district"));
  ok = kh_replica_apply_page (f->store, records, NULL, "c2", FALSE, FALSE, &stats, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  json_object_put (records);

  g_assert_cmpuint (stats.pulled, ==, n + 2);
  g_assert_cmpuint (stats.merged, ==, 1);
  g_assert_cmpint (kh_test_query_int (f->store, "SELECT count(*) FROM org_unit"), ==, n + 1);
  g_assert_cmpint (kh_test_query_int (f->store, "SELECT count(*) FROM audit WHERE action = 'remote' AND field IS NULL "
                                 "AND actor = 'province'"), ==, n);
  g_assert_cmpint (kh_test_query_int (f->store, "SELECT count(*) FROM audit WHERE action = 'remote' AND field IS NULL "
                                 "AND new_value = 'deleted'"), ==, 1);

  rec = get (f, ID1);
  g_assert_cmpstr (str (rec, "name"), ==, "Xã B");
  g_assert_cmpstr (str (rec, "address"), ==, "Thôn 2");
  json_object_put (rec);
  rec = get (f, id);
  g_assert_cmpstr (str (rec, "name"), ==, "Phường Mới");
  g_assert_cmpint (num (rec, "version"), ==, 4);
  json_object_put (rec);
  g_snprintf (id, sizeof id, "0190c9a2-7b1e-7c3a-9d7e-%012x", 0x1000 + n - 1);
  rec = get (f, id);
  g_assert_cmpstr (str (rec, "name"), ==, "Xã Số 149");
  g_assert_cmpint (num (rec, "version"), ==, 3);
  json_object_put (rec);

  /* Search finds records written early and late in the page, not the deleted one, and the
   * twice-sent record only under its later name. */
  hits = kh_store_search (f->store, "so 55", NULL, 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_object_array_length (hits), ==, 1);
  json_object_put (hits);
  hits = kh_store_search (f->store, "so 149", NULL, 10, &error);
  g_assert_cmpuint (json_object_array_length (hits), ==, 1);
  json_object_put (hits);
  hits = kh_store_search (f->store, "so 97", NULL, 10, &error);
  g_assert_cmpuint (json_object_array_length (hits), ==, 0);
  json_object_put (hits);
  hits = kh_store_search (f->store, "so 100", NULL, 10, &error);
  g_assert_cmpuint (json_object_array_length (hits), ==, 0);
  json_object_put (hits);
  hits = kh_store_search (f->store, "phuong moi", NULL, 10, &error);
  g_assert_cmpuint (json_object_array_length (hits), ==, 1);
  json_object_put (hits);
  g_assert_cmpint (kh_test_query_int (f->store, "SELECT count(*) FROM org_unit_fts"), ==, n);
}

/* Local edit of the address, remote edit of the name: both survive, no conflict, and the
 * officer's address is still there and still to be sent, now on the newer version. */
static void
test_merge_disjoint (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  KhReplicaStats stats = { 0 };
  json_object *rec;
  json_object *outbox;

  apply (f, remote_unit (ID1, 5, FALSE, "Xã A", "Thôn 1", 100, "p"), "c1", NULL);
  set_field (f, ID1, "address", "Thôn 2");
  apply (f, remote_unit (ID1, 8, FALSE, "Xã B", "Thôn 1", 100, "p"), "c2", &stats);

  g_assert_cmpuint (stats.merged, ==, 1);
  g_assert_cmpuint (stats.conflicts, ==, 0);
  rec = get (f, ID1);
  g_assert_cmpstr (str (rec, "name"), ==, "Xã B");
  g_assert_cmpstr (str (rec, "address"), ==, "Thôn 2");
  g_assert_cmpint (num (rec, "version"), ==, 8);
  json_object_put (rec);
  outbox = kh_store_list_outbox (f->store, &error);
  g_assert_cmpuint (json_object_array_length (outbox), ==, 1);
  g_assert_cmpint (num (json_object_array_get_idx (outbox, 0), "base_version"), ==, 8);
  json_object_put (outbox);
  g_assert_cmpint (kh_replica_count_conflicts (f->store), ==, 0);
}

/* Both sides change the name to different values: a conflict keeps both, with who and when;
 * the officer still sees their own value; the name is held back from push. */
static void
test_merge_conflict (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  KhReplicaStats stats = { 0 };
  json_object *rec;
  json_object *conflicts;
  json_object *c;
  json_object *batch;
  json_object *m;
  json_object *fields;

  apply (f, remote_unit (ID1, 5, FALSE, "Xã A", "Thôn 1", 100, "p"), "c1", NULL);
  set_field (f, ID1, "name", "Xã Mới");
  set_field (f, ID1, "address", "Thôn 9");
  apply (f, remote_unit (ID1, 8, FALSE, "Xã Khác", "Thôn 1", 100, "province.officer"), "c2", &stats);

  g_assert_cmpuint (stats.conflicts, ==, 1);
  rec = get (f, ID1);
  g_assert_cmpstr (str (rec, "name"), ==, "Xã Mới");
  json_object_put (rec);

  conflicts = kh_replica_list_conflicts (f->store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_object_array_length (conflicts), ==, 1);
  c = json_object_array_get_idx (conflicts, 0);
  g_assert_cmpstr (str (c, "field"), ==, "name");
  g_assert_cmpstr (str (c, "base"), ==, "Xã A");
  g_assert_cmpstr (str (c, "local"), ==, "Xã Mới");
  g_assert_cmpstr (str (c, "remote"), ==, "Xã Khác");
  g_assert_cmpstr (str (c, "remote_by"), ==, "province.officer");
  g_assert_nonnull (str (c, "remote_at"));
  g_assert_nonnull (str (c, "local_at"));
  json_object_put (conflicts);

  /* The push carries the address, not the contested name. */
  batch = kh_replica_take_batch (f->store, 500, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_object_array_length (kh_replica_batch_mutations (batch)), ==, 1);
  m = json_object_array_get_idx (kh_replica_batch_mutations (batch), 0);
  g_assert_cmpint (num (m, "base_version"), ==, 8);
  json_object_object_get_ex (m, "fields", &fields);
  g_assert_true (json_object_object_get_ex (fields, "address", NULL));
  g_assert_false (json_object_object_get_ex (fields, "name", NULL));
  json_object_put (batch);

  /* The same change arriving on both sides is no conflict. */
  set_field (f, ID1, "address", "Thôn 5");
  apply (f, remote_unit (ID1, 9, FALSE, "Xã Khác", "Thôn 5", 100, "p"), "c3", &stats);
  g_assert_cmpint (kh_replica_count_conflicts (f->store), ==, 1);
}

static void
test_resolve (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  json_object *rec;
  json_object *batch;
  json_object *m;
  json_object *fields;

  apply (f, remote_unit (ID1, 5, FALSE, "Xã A", NULL, 100, "p"), "c1", NULL);
  apply (f, remote_unit (ID2, 6, FALSE, "Xã C", NULL, 100, "p"), "c2", NULL);
  set_field (f, ID1, "name", "Xã Mới");
  set_field (f, ID2, "name", "Xã Của Tôi");
  apply (f, remote_unit (ID1, 8, FALSE, "Xã Khác", NULL, 100, "p"), "c3", NULL);
  apply (f, remote_unit (ID2, 9, FALSE, "Xã Của Họ", NULL, 100, "p"), "c4", NULL);
  g_assert_cmpint (kh_replica_count_conflicts (f->store), ==, 2);

  /* Nothing to send while both are open. */
  batch = kh_replica_take_batch (f->store, 500, NULL, &error);
  g_assert_cmpuint (json_object_array_length (kh_replica_batch_mutations (batch)), ==, 0);
  json_object_put (batch);

  /* Theirs on one, a new value on the other. */
  g_assert_true (kh_replica_resolve (f->store, ID1, "name", KH_RESOLVE_THEIRS, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (kh_replica_resolve (f->store, ID2, "name", KH_RESOLVE_VALUE, "Xã Hợp Nhất", &error));
  g_assert_no_error (error);
  g_assert_cmpint (kh_replica_count_conflicts (f->store), ==, 0);
  g_assert_false (kh_replica_resolve (f->store, ID2, "name", KH_RESOLVE_MINE, NULL, &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_NOT_FOUND);
  g_clear_error (&error);

  rec = get (f, ID1);
  g_assert_cmpstr (str (rec, "name"), ==, "Xã Khác");
  json_object_put (rec);
  rec = get (f, ID2);
  g_assert_cmpstr (str (rec, "name"), ==, "Xã Hợp Nhất");
  json_object_put (rec);

  /* Each resolution is an update on the server's version. */
  batch = kh_replica_take_batch (f->store, 500, NULL, &error);
  g_assert_cmpuint (json_object_array_length (kh_replica_batch_mutations (batch)), ==, 2);
  m = json_object_array_get_idx (kh_replica_batch_mutations (batch), 1);
  g_assert_cmpstr (str (m, "id"), ==, ID2);
  g_assert_cmpstr (str (m, "op"), ==, "update");
  g_assert_cmpint (num (m, "base_version"), ==, 9);
  json_object_object_get_ex (m, "fields", &fields);
  g_assert_cmpstr (str (fields, "name"), ==, "Xã Hợp Nhất");
  json_object_put (batch);
}

/* An edit here against a delete there, and a delete here against an edit there. */
static void
test_delete_conflicts (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  json_object *rec;
  json_object *conflicts;
  json_object *batch;
  json_object *m;

  apply (f, remote_unit (ID1, 5, FALSE, "Xã A", NULL, 100, "p"), "c1", NULL);
  apply (f, remote_unit (ID2, 6, FALSE, "Xã B", NULL, 100, "p"), "c2", NULL);
  set_field (f, ID1, "address", "Thôn 3");
  g_assert_true (kh_store_delete (f->store, "org_unit", ID2, &error));
  apply (f, remote_unit (ID1, 8, TRUE, "Xã A", NULL, 100, "p"), "c3", NULL);
  apply (f, remote_unit (ID2, 9, FALSE, "Xã B2", NULL, 100, "p"), "c4", NULL);

  conflicts = kh_replica_list_conflicts (f->store, &error);
  g_assert_cmpuint (json_object_array_length (conflicts), ==, 2);
  g_assert_cmpstr (str (json_object_array_get_idx (conflicts, 0), "field"), ==, KH_CONFLICT_DELETED);
  g_assert_cmpstr (str (json_object_array_get_idx (conflicts, 1), "field"), ==, KH_CONFLICT_DELETED);
  json_object_put (conflicts);

  /* The officer's edit is still shown and not deleted; their delete still holds. */
  rec = get (f, ID1);
  g_assert_false (json_object_get_boolean (json_object_object_get (rec, "deleted")));
  g_assert_cmpstr (str (rec, "address"), ==, "Thôn 3");
  json_object_put (rec);
  rec = get (f, ID2);
  g_assert_true (json_object_get_boolean (json_object_object_get (rec, "deleted")));
  json_object_put (rec);

  /* Mine on the edit: it comes back as a restore carrying the edit, on the delete's version. */
  g_assert_true (kh_replica_resolve (f->store, ID1, KH_CONFLICT_DELETED, KH_RESOLVE_MINE, NULL, &error));
  g_assert_no_error (error);
  /* Theirs on the delete: the record comes back as the server has it, nothing to send. */
  g_assert_true (kh_replica_resolve (f->store, ID2, KH_CONFLICT_DELETED, KH_RESOLVE_THEIRS, NULL, &error));
  g_assert_no_error (error);
  rec = get (f, ID2);
  g_assert_false (json_object_get_boolean (json_object_object_get (rec, "deleted")));
  g_assert_cmpstr (str (rec, "name"), ==, "Xã B2");
  g_assert_cmpint (num (rec, "version"), ==, 9);
  json_object_put (rec);

  batch = kh_replica_take_batch (f->store, 500, NULL, &error);
  g_assert_cmpuint (json_object_array_length (kh_replica_batch_mutations (batch)), ==, 1);
  m = json_object_array_get_idx (kh_replica_batch_mutations (batch), 0);
  g_assert_cmpstr (str (m, "op"), ==, "restore");
  g_assert_cmpint (num (m, "base_version"), ==, 8);
  g_assert_cmpstr (str (json_object_object_get (m, "fields"), "address"), ==, "Thôn 3");
  json_object_put (batch);
}

static json_object *
result (json_object *m,
        const char  *status,
        gint64       version)
{
  json_object *r = json_object_new_object ();

  json_object_object_add (r, "mutation_id", json_object_new_string (str (m, "mutation_id")));
  json_object_object_add (r, "status", json_object_new_string (status));
  if (version > 0)
    json_object_object_add (r, "version", json_object_new_int64 (version));
  if (strcmp (status, "rejected") == 0)
    {
      json_object_object_add (r, "code", json_object_new_string ("invalid"));
      json_object_object_add (r, "message", json_object_new_string ("Mã không hợp lệ."));
    }
  return r;
}

/* Sending marks entries as attempted; a retry reuses the mutation id; a local edit during the
 * flight gets an entry of its own; answers remove, reject (with the reason, not blocking the
 * others) or merge. */
static void
test_push_results (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  KhReplicaStats stats = { 0 };
  json_object *values;
  json_object *batch;
  json_object *batch2;
  json_object *results;
  json_object *outbox;
  json_object *rec;
  g_autofree char *id3 = NULL;
  g_autofree char *first_id = NULL;

  apply (f, remote_unit (ID1, 5, FALSE, "Xã A", NULL, 100, "p"), "c1", NULL);
  apply (f, remote_unit (ID2, 6, FALSE, "Xã B", NULL, 100, "p"), "c2", NULL);
  set_field (f, ID1, "address", "Thôn 1");
  set_field (f, ID2, "address", "Thôn 2");
  values = json_tokener_parse ("{\"code\": \"99\", \"name\": \"Trường Tiểu học Mới\", \"kind\": \"school\"}");
  id3 = kh_store_create (f->store, "org_unit", values, &error);
  g_assert_no_error (error);
  json_object_put (values);

  batch = kh_replica_take_batch (f->store, 500, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_object_array_length (kh_replica_batch_mutations (batch)), ==, 3);
  first_id = g_strdup (str (json_object_array_get_idx (kh_replica_batch_mutations (batch), 0), "mutation_id"));

  /* The answer was lost: the retry has the same ids. */
  batch2 = kh_replica_take_batch (f->store, 500, NULL, &error);
  g_assert_cmpstr (str (json_object_array_get_idx (kh_replica_batch_mutations (batch2), 0), "mutation_id"), ==, first_id);
  json_object_put (batch2);

  /* An edit while the push is in flight is not folded into the sent entry. */
  set_field (f, ID1, "address", "Thôn 11");
  g_assert_cmpint (kh_store_count_pending (f->store), ==, 4);

  results = json_object_new_array ();
  json_object_array_add (results, result (json_object_array_get_idx (kh_replica_batch_mutations (batch), 0), "applied", 20));
  json_object_array_add (results, result (json_object_array_get_idx (kh_replica_batch_mutations (batch), 1), "rejected", 0));
  json_object_array_add (results, result (json_object_array_get_idx (kh_replica_batch_mutations (batch), 2), "duplicate", 21));
  g_assert_true (kh_replica_apply_results (f->store, batch, results, &stats, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (stats.pushed, ==, 2);
  g_assert_cmpuint (stats.rejected, ==, 1);
  json_object_put (results);
  json_object_put (batch);

  rec = get (f, ID1);
  g_assert_cmpint (num (rec, "version"), ==, 20);
  g_assert_cmpstr (str (rec, "address"), ==, "Thôn 11");
  json_object_put (rec);
  rec = get (f, id3);
  g_assert_cmpint (num (rec, "version"), ==, 21);
  json_object_put (rec);

  outbox = kh_store_list_outbox (f->store, &error);
  g_assert_cmpuint (json_object_array_length (outbox), ==, 2);
  g_assert_cmpstr (str (json_object_array_get_idx (outbox, 0), "state"), ==, "rejected");
  g_assert_cmpstr (str (json_object_array_get_idx (outbox, 0), "reason"), ==, "Mã không hợp lệ.");
  g_assert_cmpstr (str (json_object_array_get_idx (outbox, 1), "record_id"), ==, ID1);
  json_object_put (outbox);
  g_assert_cmpint (kh_replica_count_rejected (f->store), ==, 1);

  /* The base now holds what the acknowledged mutation set: a remote change of another field
   * merges without conflict, the officer's newer address stays. */
  apply (f, remote_unit (ID1, 22, FALSE, "Xã A mới", "Thôn 1", 100, "p"), "c3", &stats);
  g_assert_cmpint (kh_replica_count_conflicts (f->store), ==, 0);
  rec = get (f, ID1);
  g_assert_cmpstr (str (rec, "address"), ==, "Thôn 11");
  g_assert_cmpstr (str (rec, "name"), ==, "Xã A mới");
  json_object_put (rec);

  /* The rejected entry is not sent again and does not block the record's next change. */
  batch = kh_replica_take_batch (f->store, 500, NULL, &error);
  g_assert_cmpuint (json_object_array_length (kh_replica_batch_mutations (batch)), ==, 1);
  g_assert_cmpstr (str (json_object_array_get_idx (kh_replica_batch_mutations (batch), 0), "id"), ==, ID1);
  json_object_put (batch);

  /* The officer gives up the refused change: the address goes back to the server's. */
  rec = get (f, ID2);
  g_assert_cmpstr (str (rec, "address"), ==, "Thôn 2");
  json_object_put (rec);
  g_assert_true (kh_replica_discard_rejected (f->store, ID2, &error));
  g_assert_no_error (error);
  rec = get (f, ID2);
  g_assert_null (str (rec, "address"));
  json_object_put (rec);
  g_assert_cmpint (kh_replica_count_rejected (f->store), ==, 0);
  g_assert_false (kh_replica_discard_rejected (f->store, ID2, &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_NOT_FOUND);
}

/* A conflict answer feeds the same merge. */
static void
test_push_conflict (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  KhReplicaStats stats = { 0 };
  json_object *batch;
  json_object *results;
  json_object *res;
  json_object *m;
  json_object *rec;

  apply (f, remote_unit (ID1, 5, FALSE, "Xã A", NULL, 100, "p"), "c1", NULL);
  set_field (f, ID1, "name", "Xã Của Tôi");
  set_field (f, ID1, "address", "Thôn 4");
  batch = kh_replica_take_batch (f->store, 500, NULL, &error);
  m = json_object_array_get_idx (kh_replica_batch_mutations (batch), 0);
  res = result (m, "conflict", 7);
  json_object_object_add (res, "record", remote_unit (ID1, 7, FALSE, "Xã Của Họ", NULL, 100, "other"));
  json_object_object_add (res, "conflicting_fields", json_tokener_parse ("[\"name\"]"));
  results = json_object_new_array ();
  json_object_array_add (results, res);
  g_assert_true (kh_replica_apply_results (f->store, batch, results, &stats, &error));
  g_assert_no_error (error);
  json_object_put (results);
  json_object_put (batch);

  g_assert_cmpuint (stats.conflicts, ==, 1);
  rec = get (f, ID1);
  g_assert_cmpstr (str (rec, "name"), ==, "Xã Của Tôi");
  json_object_put (rec);

  /* The address goes again, on the server's version, without the name. */
  batch = kh_replica_take_batch (f->store, 500, NULL, &error);
  m = json_object_array_get_idx (kh_replica_batch_mutations (batch), 0);
  g_assert_cmpint (num (m, "base_version"), ==, 7);
  g_assert_cmpstr (str (json_object_object_get (m, "fields"), "address"), ==, "Thôn 4");
  g_assert_false (json_object_object_get_ex (json_object_object_get (m, "fields"), "name", NULL));
  json_object_put (batch);
}

/* A push's answer is lost and someone else's edit of the same field comes in the next pull: a
 * conflict. The retry is the request that was lost, and the server answers it "duplicate" (it
 * had taken it before the other edit); the person's value still waits for their choice in the
 * outbox, and "mine" sends it on the server's version. Before, the answer removed the entry,
 * and the conflict stayed open with nothing behind it. */
static void
test_retry_into_conflict (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  KhReplicaStats stats = { 0 };
  json_object *batch;
  json_object *results;
  json_object *m;

  apply (f, remote_unit (ID1, 5, FALSE, "Xã A", NULL, 100, "p"), "c1", NULL);
  set_field (f, ID1, "name", "Xã Một");
  batch = kh_replica_take_batch (f->store, 500, NULL, &error);
  json_object_put (batch); /* sent; the answer never came */
  apply (f, remote_unit (ID1, 7, FALSE, "Xã Ba", NULL, 100, "other"), "c2", &stats);
  g_assert_cmpint (kh_replica_count_conflicts (f->store), ==, 1);

  batch = kh_replica_take_batch (f->store, 500, NULL, &error);
  g_assert_cmpuint (json_object_array_length (kh_replica_batch_mutations (batch)), ==, 1);
  m = json_object_array_get_idx (kh_replica_batch_mutations (batch), 0);
  g_assert_cmpstr (str (json_object_object_get (m, "fields"), "name"), ==, "Xã Một");
  results = json_object_new_array ();
  json_object_array_add (results, result (m, "duplicate", 6));
  g_assert_true (kh_replica_apply_results (f->store, batch, results, &stats, &error));
  g_assert_no_error (error);
  json_object_put (results);
  json_object_put (batch);

  g_assert_true (kh_replica_check (f->store, &error));
  g_assert_no_error (error);
  g_assert_cmpint (kh_replica_count_conflicts (f->store), ==, 1);
  batch = kh_replica_take_batch (f->store, 500, NULL, &error);
  g_assert_cmpuint (json_object_array_length (kh_replica_batch_mutations (batch)), ==, 0);
  json_object_put (batch);

  g_assert_true (kh_replica_resolve (f->store, ID1, "name", KH_RESOLVE_MINE, NULL, &error));
  batch = kh_replica_take_batch (f->store, 500, NULL, &error);
  g_assert_cmpuint (json_object_array_length (kh_replica_batch_mutations (batch)), ==, 1);
  m = json_object_array_get_idx (kh_replica_batch_mutations (batch), 0);
  g_assert_cmpint (num (m, "base_version"), ==, 7);
  g_assert_cmpstr (str (json_object_object_get (m, "fields"), "name"), ==, "Xã Một");
  json_object_put (batch);
}

/* A bad page changes nothing: not the records before the bad one, not the cursor. */
static void
test_bad_page (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  json_object *records = json_object_new_array ();
  json_object *bad;
  g_autofree char *cursor = NULL;

  apply (f, remote_unit (ID1, 5, FALSE, "Xã A", NULL, 100, "p"), "c1", NULL);

  json_object_array_add (records, remote_unit (ID2, 6, FALSE, "Xã B", NULL, 100, "p"));
  bad = remote_unit (ID1, 7, FALSE, "Xã A", NULL, 100, "p");
  json_object_object_add (json_object_object_get (bad, "fields"), "population", json_object_new_string ("many"));
  json_object_array_add (records, bad);
  g_assert_false (kh_replica_apply_page (f->store, records, NULL, "c2", FALSE, FALSE, NULL, &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
  g_clear_error (&error);
  json_object_put (records);

  /* A version that is not a number. */
  records = json_object_new_array ();
  bad = remote_unit (ID2, 6, FALSE, "Xã B", NULL, 100, "p");
  json_object_object_add (bad, "version", json_object_new_string ("6"));
  json_object_array_add (records, bad);
  g_assert_false (kh_replica_apply_page (f->store, records, NULL, "c2", FALSE, FALSE, NULL, &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
  g_clear_error (&error);
  json_object_put (records);

  /* A value the local schema refuses (a required field missing) fails at the database and is
   * rolled back with the rest of the page. */
  records = json_object_new_array ();
  json_object_array_add (records, remote_unit (ID2, 6, FALSE, "Xã B", NULL, 100, "p"));
  bad = remote_unit ("0190c9a2-7b1e-7c3a-9d7e-2f1a3b4c5d03", 7, FALSE, "Xã C", NULL, 100, "p");
  json_object_object_del (json_object_object_get (bad, "fields"), "name");
  json_object_array_add (records, bad);
  g_assert_false (kh_replica_apply_page (f->store, records, NULL, "c2", FALSE, FALSE, NULL, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  json_object_put (records);

  cursor = kh_replica_get_state (f->store, KH_SYNC_CURSOR);
  g_assert_cmpstr (cursor, ==, "c1");
  g_assert_cmpint (kh_test_query_int (f->store, "SELECT count(*) FROM org_unit"), ==, 1);
  g_assert_cmpint (kh_test_query_int (f->store, "SELECT version FROM org_unit"), ==, 5);
}

/* A reset re-pull drops what the server no longer sends, but keeps what the officer changed,
 * as it was: the record may have left the area (the server then refuses the change as outside
 * it), or the server may have lost it in a restore, and then, told it has no such record, the
 * replica sends it again as a new record. */
static void
test_reset (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  KhReplicaStats stats = { 0 };
  json_object *records;
  json_object *outbox;
  json_object *rec;
  json_object *batch;
  json_object *results;
  json_object *res;
  json_object *m;
  const char *id3 = "0190c9a2-7b1e-7c3a-9d7e-2f1a3b4c5d03";

  apply (f, remote_unit (ID1, 5, FALSE, "Xã A", NULL, 100, "p"), "c1", NULL);
  apply (f, remote_unit (ID2, 6, FALSE, "Xã B", NULL, 100, "p"), "c2", NULL);
  apply (f, remote_unit (id3, 7, FALSE, "Xã C", NULL, 100, "p"), "c3", NULL);
  set_field (f, ID2, "address", "Thôn 7");

  records = json_object_new_array ();
  json_object_array_add (records, remote_unit (ID1, 2, FALSE, "Xã A", NULL, 100, "p"));
  g_assert_true (kh_replica_apply_page (f->store, records, NULL, "r1", TRUE, TRUE, &stats, &error));
  g_assert_no_error (error);
  json_object_put (records);
  /* Cut here: nothing is dropped until the re-pull ends. */
  g_assert_cmpint (kh_test_query_int (f->store, "SELECT count(*) FROM org_unit"), ==, 3);
  records = json_object_new_array ();
  g_assert_true (kh_replica_apply_page (f->store, records, NULL, "r2", FALSE, FALSE, &stats, &error));
  g_assert_no_error (error);
  json_object_put (records);

  g_assert_cmpint (kh_test_query_int (f->store, "SELECT count(*) FROM org_unit"), ==, 2);
  g_assert_cmpuint (stats.removed, ==, 1);
  /* The server restored from a backup has version 2: the replica follows it down. */
  rec = get (f, ID1);
  g_assert_cmpint (num (rec, "version"), ==, 2);
  json_object_put (rec);
  rec = get (f, ID2);
  g_assert_cmpstr (str (rec, "address"), ==, "Thôn 7");
  g_assert_cmpint (num (rec, "version"), ==, 6);
  json_object_put (rec);
  outbox = kh_store_list_outbox (f->store, &error);
  g_assert_cmpuint (json_object_array_length (outbox), ==, 1);
  g_assert_cmpstr (str (json_object_array_get_idx (outbox, 0), "op"), ==, "update");
  json_object_put (outbox);

  /* The server has no such record: it is sent again as a new one. */
  batch = kh_replica_take_batch (f->store, 500, NULL, &error);
  g_assert_no_error (error);
  m = json_object_array_get_idx (kh_replica_batch_mutations (batch), 0);
  g_assert_cmpstr (str (m, "op"), ==, "update");
  results = json_object_new_array ();
  res = json_object_new_object ();
  json_object_object_add (res, "mutation_id", json_object_new_string (str (m, "mutation_id")));
  json_object_object_add (res, "status", json_object_new_string ("rejected"));
  json_object_object_add (res, "code", json_object_new_string ("not_found"));
  json_object_object_add (res, "message", json_object_new_string ("Không có bản ghi này."));
  json_object_array_add (results, res);
  g_assert_true (kh_replica_apply_results (f->store, batch, results, &stats, &error));
  g_assert_no_error (error);
  json_object_put (results);
  json_object_put (batch);
  rec = get (f, ID2);
  g_assert_cmpint (num (rec, "version"), ==, 0);
  json_object_put (rec);
  outbox = kh_store_list_outbox (f->store, &error);
  g_assert_cmpuint (json_object_array_length (outbox), ==, 1);
  g_assert_cmpstr (str (json_object_array_get_idx (outbox, 0), "op"), ==, "create");
  g_assert_cmpstr (str (json_object_array_get_idx (outbox, 0), "state"), ==, "pending");
  json_object_put (outbox);
  g_assert_true (kh_replica_check (f->store, NULL));
}

static void
test_integrity (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  json_object *sums;
  json_object *unit;
  char expect[17];
  json_object *values;
  g_autofree char *id = NULL;

  /* FNV-1a 64 of "a", from the reference. */
  g_assert_cmpuint (kh_wire_fnv1a64 ("a"), ==, G_GUINT64_CONSTANT (0xaf63dc4c8601ec8c));

  apply (f, remote_unit (ID1, 5, FALSE, "Xã A", NULL, 100, "p"), "c1", NULL);
  apply (f, remote_unit (ID2, 6, TRUE, "Xã B", NULL, 100, "p"), "c2", NULL);
  /* A local record the server has not acknowledged is not counted. */
  values = json_tokener_parse ("{\"code\": \"99\", \"name\": \"Mới\", \"kind\": \"school\"}");
  id = kh_store_create (f->store, "org_unit", values, &error);
  json_object_put (values);

  sums = kh_replica_integrity (f->store, &error);
  g_assert_no_error (error);
  unit = json_object_object_get (sums, "org_unit");
  g_assert_nonnull (unit);
  g_assert_cmpint (num (unit, "count"), ==, 2);
  {
    /* The canonical text of each record (PROTOCOL.md §4): fields in the registry's order. */
    g_autofree char *a = g_strdup_printf ("%s:5:0:{\"code\":\"22435\",\"name\":\"Xã A\",\"kind\":\"commune\","
                                          "\"population\":100}", ID1);
    g_autofree char *b = g_strdup_printf ("%s:6:1:{\"code\":\"22435\",\"name\":\"Xã B\",\"kind\":\"commune\","
                                          "\"population\":100}", ID2);

    g_snprintf (expect, sizeof expect, "%016" G_GINT64_MODIFIER "x", kh_wire_fnv1a64 (a) ^ kh_wire_fnv1a64 (b));
  }
  g_assert_cmpstr (str (unit, "checksum"), ==, expect);
  g_assert_null (json_object_object_get (sums, "person"));
  json_object_put (sums);
}


/* The answer to a push was lost, the officer edited the same field again, and the pull brings
 * the first edit back from the server: that is the officer's own change, not a conflict, and
 * the newer value stays and is sent. */
static void
test_own_echo (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  KhReplicaStats stats = { 0 };
  json_object *batch;
  json_object *rec;
  json_object *m;

  apply (f, remote_unit (ID1, 5, FALSE, "Xã A", NULL, 100, "p"), "c1", NULL);
  set_field (f, ID1, "name", "Xã Một");
  batch = kh_replica_take_batch (f->store, 500, NULL, &error);
  json_object_put (batch); /* sent; the answer never came */
  set_field (f, ID1, "name", "Xã Hai");
  apply (f, remote_unit (ID1, 6, FALSE, "Xã Một", NULL, 100, "officer.a"), "c2", &stats);

  g_assert_cmpuint (stats.conflicts, ==, 0);
  g_assert_cmpint (kh_replica_count_conflicts (f->store), ==, 0);
  rec = get (f, ID1);
  g_assert_cmpstr (str (rec, "name"), ==, "Xã Hai");
  json_object_put (rec);

  /* Someone else's value is still a conflict. */
  apply (f, remote_unit (ID1, 7, FALSE, "Xã Ba", NULL, 100, "other"), "c3", &stats);
  g_assert_cmpint (kh_replica_count_conflicts (f->store), ==, 1);

  /* The first edit goes again as the very request that was lost (the server answers it from
   * its memory of the mutation id, without reading it again); the contested newer name waits
   * for a person. */
  batch = kh_replica_take_batch (f->store, 500, NULL, &error);
  g_assert_cmpuint (json_object_array_length (kh_replica_batch_mutations (batch)), ==, 1);
  m = json_object_array_get_idx (kh_replica_batch_mutations (batch), 0);
  g_assert_cmpstr (str (json_object_object_get (m, "fields"), "name"), ==, "Xã Một");
  {
    json_object *results = json_object_new_array ();

    json_object_array_add (results, result (m, "duplicate", 6));
    g_assert_true (kh_replica_apply_results (f->store, batch, results, &stats, &error));
    g_assert_no_error (error);
    json_object_put (results);
  }
  json_object_put (batch);
  rec = get (f, ID1);
  g_assert_cmpstr (str (rec, "name"), ==, "Xã Hai");
  json_object_put (rec);
  batch = kh_replica_take_batch (f->store, 500, NULL, &error);
  g_assert_cmpuint (json_object_array_length (kh_replica_batch_mutations (batch)), ==, 0);
  json_object_put (batch);

  /* Chosen, it goes on the server's version. */
  g_assert_true (kh_replica_resolve (f->store, ID1, "name", KH_RESOLVE_MINE, NULL, &error));
  batch = kh_replica_take_batch (f->store, 500, NULL, &error);
  m = json_object_array_get_idx (kh_replica_batch_mutations (batch), 0);
  g_assert_cmpint (num (m, "base_version"), ==, 7);
  g_assert_cmpstr (str (json_object_object_get (m, "fields"), "name"), ==, "Xã Hai");
  json_object_put (batch);
}


/* An edit and then a delete before any sync: the edit is not lost with the delete (the
 * protocol's delete carries no fields), it goes first as an update. */
static void
test_edit_then_delete (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  json_object *batch;
  json_object *m;
  json_object *results;
  json_object *res;

  apply (f, remote_unit (ID1, 5, FALSE, "Xã A", NULL, 100, "p"), "c1", NULL);
  set_field (f, ID1, "address", "Thôn 8");
  g_assert_true (kh_store_delete (f->store, "org_unit", ID1, &error));

  batch = kh_replica_take_batch (f->store, 500, NULL, &error);
  g_assert_cmpuint (json_object_array_length (kh_replica_batch_mutations (batch)), ==, 1);
  m = json_object_array_get_idx (kh_replica_batch_mutations (batch), 0);
  g_assert_cmpstr (str (m, "op"), ==, "update");
  g_assert_cmpstr (str (json_object_object_get (m, "fields"), "address"), ==, "Thôn 8");
  results = json_object_new_array ();
  res = json_object_new_object ();
  json_object_object_add (res, "mutation_id", json_object_new_string (str (m, "mutation_id")));
  json_object_object_add (res, "status", json_object_new_string ("applied"));
  json_object_object_add (res, "version", json_object_new_int64 (6));
  json_object_array_add (results, res);
  g_assert_true (kh_replica_apply_results (f->store, batch, results, NULL, &error));
  json_object_put (results);
  json_object_put (batch);

  batch = kh_replica_take_batch (f->store, 500, NULL, &error);
  g_assert_cmpuint (json_object_array_length (kh_replica_batch_mutations (batch)), ==, 1);
  m = json_object_array_get_idx (kh_replica_batch_mutations (batch), 0);
  g_assert_cmpstr (str (m, "op"), ==, "delete");
  json_object_put (batch);
}

/* A batch is taken from the oldest pending entries, past the ones to skip, even when those
 * fill more than one chunk of the outbox read (200 entries, the first 100 skipped, 30 at a
 * time: the batches are the seqs after them, in order, each entry once). */
static void
test_take_batch_chunks (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) skip = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  g_autoptr(GArray) seqs = g_array_new (FALSE, FALSE, sizeof (gint64));
  json_object *batch;
  json_object *taken;

  g_assert_true (kh_store_begin (f->store, &error));
  for (int i = 0; i < 200; i++)
    {
      g_autofree char *json = g_strdup_printf ("{\"code\": \"U%03d\", \"name\": \"Xã %d\", \"kind\": \"commune\"}", i, i);
      json_object *v = json_tokener_parse (json);

      g_free (kh_store_create (f->store, "org_unit", v, &error));
      g_assert_no_error (error);
      json_object_put (v);
    }
  g_assert_true (kh_store_commit (f->store, &error));
  {
    sqlite3_stmt *stmt = kh_store_prepare (f->store, "SELECT seq FROM outbox ORDER BY seq", &error);

    while (sqlite3_step (stmt) == SQLITE_ROW)
      {
        gint64 seq = sqlite3_column_int64 (stmt, 0);

        g_array_append_val (seqs, seq);
      }
    sqlite3_reset (stmt);
  }
  g_assert_cmpuint (seqs->len, ==, 200);
  for (guint i = 0; i < 100; i++)
    g_hash_table_add (skip, g_memdup2 (&g_array_index (seqs, gint64, i), sizeof (gint64)));

  batch = kh_replica_take_batch (f->store, 30, skip, &error);
  g_assert_no_error (error);
  json_object_object_get_ex (batch, "seqs", &taken);
  g_assert_cmpuint (json_object_array_length (taken), ==, 30);
  for (guint i = 0; i < 30; i++)
    g_assert_cmpint (json_object_get_int64 (json_object_array_get_idx (taken, i)), ==,
                     g_array_index (seqs, gint64, 100 + i));
  g_assert_cmpuint (json_object_array_length (kh_replica_batch_mutations (batch)), ==, 30);
  json_object_put (batch);

  /* Without a skip and a large batch: all 200, once each. */
  batch = kh_replica_take_batch (f->store, 500, NULL, &error);
  g_assert_no_error (error);
  json_object_object_get_ex (batch, "seqs", &taken);
  g_assert_cmpuint (json_object_array_length (taken), ==, 200);
  for (guint i = 0; i < 200; i++)
    g_assert_cmpint (json_object_get_int64 (json_object_array_get_idx (taken, i)), ==,
                     g_array_index (seqs, gint64, i));
  json_object_put (batch);
}

/* A create is sent and its answer lost; someone edits the record on the server before the
 * next pull. The server's state grew from the create, so the other person's edit is taken as
 * it is, an edit made here since the send is kept and sent as an update of the server's
 * version, and nothing is a conflict. */
static void
test_lost_create_answer (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  KhReplicaStats stats = { 0 };
  json_object *v = json_tokener_parse ("{\"code\": \"22435\", \"name\": \"Xã A\", \"kind\": \"commune\", "
                                       "\"population\": 100}");
  json_object *batch;
  json_object *rec;
  json_object *m;

  id = kh_store_create (f->store, "org_unit", v, &error);
  g_assert_no_error (error);
  json_object_put (v);
  batch = kh_replica_take_batch (f->store, 500, NULL, &error);
  g_assert_cmpuint (json_object_array_length (kh_replica_batch_mutations (batch)), ==, 1);
  json_object_put (batch); /* sent; the answer never came */
  set_field (f, id, "address", "Thôn 2");

  /* The server applied the create (version 1); another officer renamed the unit (version 2). */
  apply (f, remote_unit (id, 2, FALSE, "Xã Bình An", NULL, 100, "other"), "c1", &stats);
  g_assert_cmpuint (stats.conflicts, ==, 0);
  g_assert_cmpint (kh_replica_count_conflicts (f->store), ==, 0);
  rec = get (f, id);
  g_assert_cmpstr (str (rec, "name"), ==, "Xã Bình An");
  g_assert_cmpstr (str (rec, "address"), ==, "Thôn 2");
  json_object_put (rec);

  /* What goes next is the local edit on the server's version, not the old name back. */
  batch = kh_replica_take_batch (f->store, 500, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_object_array_length (kh_replica_batch_mutations (batch)), ==, 1);
  m = json_object_array_get_idx (kh_replica_batch_mutations (batch), 0);
  g_assert_cmpstr (str (m, "op"), ==, "update");
  g_assert_cmpint (num (m, "base_version"), ==, 2);
  g_assert_cmpstr (str (json_object_object_get (m, "fields"), "address"), ==, "Thôn 2");
  g_assert_false (json_object_object_get_ex (json_object_object_get (m, "fields"), "name", NULL));
  json_object_put (batch);

  /* A field both sides changed after the create is still a conflict. */
  apply (f, remote_unit (id, 3, FALSE, "Xã Bình An", "Thôn 9", 100, "other"), "c2", &stats);
  g_assert_cmpint (kh_replica_count_conflicts (f->store), ==, 1);
}

/* A page read from its text (kh_replica_page_read(), what the sync engine does) writes the same
 * records as the page parsed by json-c; text that is not strict JSON is refused, and a record
 * that is not valid spoils the page, not the reading. */
static const char *READ_PAGE =
  "{\"server_id\": \"0190c9a2-7b1e-7c3a-9d7e-2f1a3b4c5d99\", \"records\": [\n"
  "  {\"entity\": \"org_unit\", \"id\": \"0190c9a2-7b1e-7c3a-9d7e-2f1a3b4c5d01\", \"version\": 3,"
  "   \"deleted\": false, \"fields\": {\"code\": \"22435\", \"name\": \"X\\u00e3 \\\"B\\u00ecnh\\\" An \\ud83d\\ude00\\\\\\/\","
  "   \"kind\": \"commune\", \"address\": \"Th\u00f4n 1\\nx\u00f3m 2\\t(c\u0169)\", \"population\": 12034},"
  "   \"updated_by\": \"officer.b\", \"updated_at\": \"2025-07-01T08:30:00Z\", \"later\": [1, {\"a\": null}]},\n"
  "  {\"fields\": {\"population\": 0, \"kind\": \"ward\", \"address\": \"\\udc00 \\ud800x \\ud800\\u0041\", \"name\": \"Ph\u01b0\u1eddng 2\", \"code\": \"00001\"},"
  "   \"updated_at\": \"2025-07-02T08:30:00Z\", \"deleted\": true, \"version\": 9007199254740993,"
  "   \"id\": \"0190c9a2-7b1e-7c3a-9d7e-2f1a3b4c5d02\", \"entity\": \"org_unit\"}\n"
  "], \"removed\": [], \"cursor\": \"c1\", \"has_more\": false}";

static void
test_read_page (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) check_error = NULL;
  g_autoptr(KhReplicaPage) page = NULL;
  g_autofree char *rest = NULL;
  g_autofree char *other_dir = kh_test_tmpdir ();
  g_autofree char *other_path = g_build_filename (other_dir, "replica.db", NULL);
  g_autoptr(KhStore) other = kh_store_open (other_path, &error);
  json_object *whole = json_tokener_parse (READ_PAGE);
  json_object *rest_obj;
  const char *ids[] = { ID1, ID2 };

  g_assert_no_error (error);
  g_assert_nonnull (whole);
  page = kh_replica_page_read (READ_PAGE, strlen (READ_PAGE), &rest, &check_error, &error);
  g_assert_no_error (error);
  g_assert_no_error (check_error);
  g_assert_nonnull (page);
  g_assert_cmpuint (kh_replica_page_get_n_records (page), ==, 2);
  /* The rest is the page without its records. */
  rest_obj = json_tokener_parse (rest);
  g_assert_nonnull (rest_obj);
  g_assert_cmpuint (json_object_array_length (json_object_object_get (rest_obj, "records")), ==, 0);
  g_assert_cmpstr (str (rest_obj, "cursor"), ==, "c1");
  g_assert_true (kh_replica_page_set_removed (page, json_object_object_get (rest_obj, "removed"), &error));
  json_object_put (rest_obj);

  g_assert_true (kh_replica_apply_checked_page (f->store, page, "c1", FALSE, FALSE, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (kh_replica_apply_page (other, json_object_object_get (whole, "records"), NULL, "c1",
                                        FALSE, FALSE, NULL, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    {
      g_autoptr(GError) e = NULL;
      json_object *read = kh_store_get (f->store, "org_unit", ids[i], &e);
      json_object *parsed = kh_store_get (other, "org_unit", ids[i], &e);

      g_assert_no_error (e);
      g_assert_nonnull (read);
      g_assert_true (json_object_equal (read, parsed));
      json_object_put (read);
      json_object_put (parsed);
    }
  {
    json_object *unit = get (f, ID1);

    g_assert_cmpstr (str (unit, "name"), ==, "Xã \"Bình\" An \xf0\x9f\x98\x80\\/");
    g_assert_cmpstr (str (unit, "address"), ==, "Thôn 1\nxóm 2\t(cũ)");
    g_assert_cmpint (num (unit, "population"), ==, 12034);
    json_object_put (unit);
  }
  json_object_put (whole);
  g_clear_object (&other);
  kh_test_rmdir (other_dir);
}

static void
test_read_page_refused (Fixture       *f,
                        gconstpointer  data)
{
  /* Text that is not JSON, and whether json-c (strict) refuses it too: it takes "1." and "-1e"
   * as numbers, which the reader does not. */
  const struct { const char *text; gboolean json_c_refuses; } bad[] = {
    { "{\"records\": [{\"entity\": \"org_unit\"", TRUE },                 /* cut short */
    { "{\"records\": [{\"entity\": \"org_\\xunit\"}]}", TRUE },          /* an unknown escape */
    { "{\"records\": [{\"entity\": \"\\u12\"}]}", TRUE },                /* a short \\u */
    { "{\"records\": [{\"version\": 01}]}", TRUE },                        /* a leading zero */
    { "{\"records\": [{\"version\": 1.}]}", FALSE },
    { "{\"records\": [{\"version\": -}]}", TRUE },
    { "{\"records\": [{\"version\": -1e}]}", FALSE },
    { "{\"records\": [{\"deleted\": tru}]}", TRUE },
    { "{\"records\": [{\"deleted\": true,}]}", TRUE },                     /* a trailing comma */
    { "{\"records\": [{\"deleted\" true}]}", TRUE },                       /* no colon */
    { "{\"records\": [], \"records\": []}", FALSE },                       /* the records twice */
    { "{\"records\": []} x", TRUE },                                         /* text after the object */
    { "{\"records\": [{\"fields\": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}]}", TRUE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GError) check_error = NULL;
      g_autofree char *rest = NULL;
      const char *text = bad[i].text;
      KhReplicaPage *page = kh_replica_page_read (text, strlen (text), &rest, &check_error, &error);

      g_test_message ("%s", text);
      g_assert_null (page);
      g_assert_nonnull (error);
      g_assert_null (check_error);
      if (bad[i].json_c_refuses)
        {
          json_tokener *tok = json_tokener_new_ex (32);
          json_object *obj;

          json_tokener_set_flags (tok, JSON_TOKENER_STRICT);
          obj = json_tokener_parse_ex (tok, text, (int) strlen (text));
          g_assert_true (obj == NULL || json_tokener_get_parse_end (tok) < strlen (text));
          json_object_put (obj);
          json_tokener_free (tok);
        }
    }

  /* JSON, but a record that is not valid: read through, counted, and said. */
  {
    const char *text = "{\"records\": [{\"entity\": \"no_such\", \"id\": \"x\"}, 7, {\"entity\": \"org_unit\"}]}";
    g_autoptr(GError) error = NULL;
    g_autoptr(GError) check_error = NULL;
    g_autofree char *rest = NULL;
    g_autoptr(KhReplicaPage) page = kh_replica_page_read (text, strlen (text), &rest, &check_error, &error);

    g_assert_no_error (error);
    g_assert_nonnull (page);
    g_assert_cmpuint (kh_replica_page_get_n_records (page), ==, 3);
    g_assert_error (check_error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
  }
  /* Not an object, or no records list: all left for the header's reader to refuse. */
  {
    const char *texts[] = { "[1, 2]", "{\"records\": 5}", "\xff\xfe" };

    for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
      {
        g_autoptr(GError) error = NULL;
        g_autoptr(GError) check_error = NULL;
        g_autofree char *rest = NULL;
        g_autoptr(KhReplicaPage) page = kh_replica_page_read (texts[i], strlen (texts[i]), &rest, &check_error, &error);

        g_assert_no_error (error);
        g_assert_no_error (check_error);
        g_assert_cmpstr (rest, ==, texts[i]);
        g_assert_cmpuint (kh_replica_page_get_n_records (page), ==, 0);
      }
  }
}

/* Records as the server writes them are read without json-c (kh_replica_page_read()); any
 * other is read again with json-c. Either way, each record here, alone in a page, is refused
 * for the same reason as the page parsed by json-c, or written the same: into an empty replica,
 * and over an older version of itself. */
#define SAME_ID "0190c9a2-7b1e-7c3a-9d7e-2f1a3b4c5d41"
#define SAME_HEAD "\"entity\": \"org_unit\", \"id\": \"" SAME_ID "\", \"version\": 2, \"deleted\": false, "
#define SAME_TAIL ", \"updated_by\": \"officer.b\", \"updated_at\": \"2025-07-01T08:30:00Z\""
#define SAME_FIELDS "\"fields\": {\"code\": \"22435\", \"name\": \"X\u00e3 An\", \"kind\": \"commune\"}"
#define SAME_UNIT(fields) "{" SAME_HEAD "\"fields\": {\"code\": \"1\", \"name\": \"A\", \"kind\": \"ward\"" fields "}" SAME_TAIL "}"

static const char *SAME_RECORDS[] = {
  "{" SAME_HEAD SAME_FIELDS SAME_TAIL "}",
  "{" SAME_HEAD "\"fields\": {\"code\": \"1\", \"name\": \"A \\u0041\\n\\\"q\\\" \\ud83d\\ude00\", \"kind\": \"ward\", "
  "\"population\": 5, \"address\": null}" SAME_TAIL "}",
  "{" SAME_HEAD "\"fields\": {\"code\": null, \"name\": \"A\", \"kind\": \"ward\"}" SAME_TAIL "}",
  SAME_UNIT (", \"nope\": 1"),
  SAME_UNIT (", \"name\": \"B\""),
  SAME_UNIT (", \"population\": 1.5"),
  SAME_UNIT (", \"population\": \"5\""),
  SAME_UNIT (", \"population\": 1e2"),
  SAME_UNIT (", \"population\": -0"),
  SAME_UNIT (", \"population\": 300000000"),
  SAME_UNIT (", \"population\": true"),
  SAME_UNIT (", \"population\": [1]"),
  SAME_UNIT (", \"address\": {\"a\": 1}"),
  SAME_UNIT (", \"address\": \"a\\u0000b\""),
  SAME_UNIT (", \"address\": \"\""),
  SAME_UNIT (", \"address\": \"a\\u0001b\""),
  SAME_UNIT (", \"parent_id\": \"" SAME_ID "\""),
  SAME_UNIT (", \"parent_id\": \"nope\""),
  SAME_UNIT (", \"valid_from\": \"2025-07-01\""),
  SAME_UNIT (", \"valid_from\": \"01/07/2025\""),
  "{" SAME_HEAD "\"fields\": {\"code\": \"1\", \"name\": \"A\", \"kind\": \"hamlet-x\"}" SAME_TAIL "}",
  "{" SAME_HEAD "\"fields\": {\"kind\": \"ward\", \"name\": \"A\", \"code\": \"1\"}" SAME_TAIL "}",
  "{" SAME_HEAD "\"fields\": {}" SAME_TAIL "}",
  "{" SAME_HEAD "\"fields\": []" SAME_TAIL "}",
  "{" SAME_HEAD "\"fields\": null" SAME_TAIL "}",
  "{" SAME_HEAD "\"x\": 1" SAME_TAIL "}",
  "{" SAME_FIELDS ", " SAME_HEAD "\"later\": 1" SAME_TAIL "}",
  "{\"entity\": \"person\", " SAME_HEAD SAME_FIELDS SAME_TAIL "}",
  "{\"id\": \"nope\", " SAME_HEAD SAME_FIELDS SAME_TAIL "}",
  "{" SAME_HEAD SAME_FIELDS SAME_TAIL ", \"later\": [1, {\"a\": [null, \"\\u00e3\"]}], \"x\": {}}",
  "{\"entity\": \"org_unit\", \"id\": \"" SAME_ID "\", \"version\": 0, \"deleted\": false, " SAME_FIELDS "}",
  "{\"entity\": \"org_unit\", \"id\": \"" SAME_ID "\", \"version\": -3, \"deleted\": false, " SAME_FIELDS "}",
  "{\"entity\": \"org_unit\", \"id\": \"" SAME_ID "\", \"version\": 2.0, \"deleted\": false, " SAME_FIELDS "}",
  "{\"entity\": \"org_unit\", \"id\": \"" SAME_ID "\", \"version\": \"2\", \"deleted\": false, " SAME_FIELDS "}",
  "{\"entity\": \"org_unit\", \"id\": \"" SAME_ID "\", \"version\": 2, \"deleted\": \"no\", " SAME_FIELDS "}",
  "{\"entity\": \"org_unit\", \"id\": \"" SAME_ID "\", \"version\": 2, \"deleted\": true, " SAME_FIELDS "}",
  "{\"entity\": \"org_unit\", \"id\": \"" SAME_ID "\", \"version\": 2, " SAME_FIELDS "}",
  "{\"entity\": \"org_unit\", \"version\": 2, \"deleted\": false, " SAME_FIELDS "}",
  "{\"entity\": \"no_such\", \"id\": \"" SAME_ID "\", \"version\": 2, \"deleted\": false, " SAME_FIELDS "}",
  "{\"entity\": 5, \"id\": \"" SAME_ID "\", \"version\": 2, \"deleted\": false, " SAME_FIELDS "}",
  "{" SAME_HEAD SAME_FIELDS ", \"updated_by\": null}",
  "{" SAME_HEAD SAME_FIELDS ", \"updated_by\": 5}",
  "{" SAME_HEAD SAME_FIELDS ", \"updated_at\": \"2025-07-01T08:30:00.000000000000000000000000000000000000000000000Z\"}",
  "{" SAME_HEAD SAME_FIELDS ", \"updated_at\": \"2025-07-01T08:30:00Z\", \"updated_at\": \"2025-07-02T08:30:00Z\"}",
  "{\"entity\": \"household\", \"id\": \"" SAME_ID "\", \"version\": 2, \"deleted\": false, \"fields\": "
  "{\"head_name\": \"L\u00ea V\u0103n T\u00e1m\", \"org_unit_id\": \"" SAME_ID "\", \"members\": 4, \"poor\": true}}",
  "{\"entity\": \"household\", \"id\": \"" SAME_ID "\", \"version\": 2, \"deleted\": false, \"fields\": "
  "{\"head_name\": \"T\", \"org_unit_id\": \"" SAME_ID "\", \"poor\": 1}}",
  "{\"entity\": \"evaluation\", \"id\": \"" SAME_ID "\", \"version\": 2, \"deleted\": false, \"fields\": "
  "{\"registration_id\": \"" SAME_ID "\", \"org_unit_id\": \"" SAME_ID "\", \"scores\": {\"c1\": 5}, "
  "\"total\": 5, \"result\": \"pass\"}}",
  "{\"entity\": \"evaluation\", \"id\": \"" SAME_ID "\", \"version\": 2, \"deleted\": false, \"fields\": "
  "{\"registration_id\": \"" SAME_ID "\", \"org_unit_id\": \"" SAME_ID "\", \"scores\": [5], \"result\": \"pass\"}}",
  "{\"entity\": \"evaluation\", \"id\": \"" SAME_ID "\", \"version\": 2, \"deleted\": false, \"fields\": "
  "{\"registration_id\": \"" SAME_ID "\", \"org_unit_id\": \"" SAME_ID "\", \"scores\": {\"a\": {\"b\": [1.5, null]}}, "
  "\"total\": 1.5, \"result\": \"pass\"}}",
  "7",
  "{}",
  /* Refused by both, but json-c clamps a whole number too large for 64 bits where the reader
   * takes it as a fraction: not the same reason. */
  SAME_UNIT (", \"population\": 99999999999999999999"),
};

static KhStore *
same_store (const char *dir,
            const char *name,
            gboolean    older)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (dir, name, NULL);
  KhStore *store = kh_store_open (path, &error);

  g_assert_no_error (error);
  if (older)
    {
      /* Version 1 of the record. */
      const char *older_records =
        "[{\"entity\": \"org_unit\", \"id\": \"" SAME_ID "\", \"version\": 1, \"deleted\": false, "
        "\"fields\": {\"code\": \"9\", \"name\": \"Old\", \"kind\": \"commune\", \"address\": \"Here\"}}]";
      json_object *records = json_tokener_parse (older_records);

      g_assert_true (kh_replica_apply_page (store, records, NULL, "c0", FALSE, TRUE, NULL, &error));
      g_assert_no_error (error);
      json_object_put (records);
    }
  return store;
}

static void
test_read_page_same (Fixture       *f,
                     gconstpointer  data)
{
  g_autofree char *dir = kh_test_tmpdir ();
  const char *entities[] = { "org_unit", "household", "evaluation", "person" };
  /* Into an empty replica, and over version 1; each record's writes are undone after it. */
  KhStore *stores[2][2] = {
    { same_store (dir, "read-new.db", FALSE), same_store (dir, "json-new.db", FALSE) },
    { same_store (dir, "read-old.db", TRUE), same_store (dir, "json-old.db", TRUE) },
  };

  for (guint i = 0; i < G_N_ELEMENTS (SAME_RECORDS); i++)
    for (int older = 0; older < 2; older++)
      {
        g_autofree char *text = g_strdup_printf ("{\"records\": [%s], \"cursor\": \"c1\"}", SAME_RECORDS[i]);
        g_autoptr(GError) error = NULL;
        g_autoptr(GError) check_error = NULL;
        g_autoptr(GError) json_error = NULL;
        g_autoptr(GError) read_apply_error = NULL;
        g_autoptr(GError) json_apply_error = NULL;
        g_autofree char *rest = NULL;
        g_autoptr(KhReplicaPage) page = NULL;
        g_autoptr(KhReplicaPage) parsed = NULL;
        KhStore *read_store = stores[older][0];
        KhStore *json_store = stores[older][1];
        json_object *whole = json_tokener_parse (text);

        g_test_message ("%s (%s)", SAME_RECORDS[i], older ? "over version 1" : "new");
        g_assert_nonnull (whole);
        page = kh_replica_page_read (text, strlen (text), &rest, &check_error, &error);
        g_assert_no_error (error);
        g_assert_nonnull (page);
        parsed = kh_replica_page_new (json_object_object_get (whole, "records"), NULL, &json_error);
        g_assert_true ((check_error == NULL) == (parsed != NULL));
        if (check_error != NULL)
          {
            if (i < G_N_ELEMENTS (SAME_RECORDS) - 1)
              g_assert_cmpstr (check_error->message, ==, json_error->message);
            json_object_put (whole);
            continue;
          }
        g_assert_true (kh_store_begin (read_store, &error) && kh_store_begin (json_store, &error));
        kh_replica_apply_checked_page (read_store, page, "c1", FALSE, FALSE, NULL, &read_apply_error);
        kh_replica_apply_checked_page (json_store, parsed, "c1", FALSE, FALSE, NULL, &json_apply_error);
        g_assert_true ((read_apply_error == NULL) == (json_apply_error == NULL));
        if (read_apply_error != NULL)
          g_assert_cmpstr (read_apply_error->message, ==, json_apply_error->message);
        for (guint e = 0; e < G_N_ELEMENTS (entities); e++)
          {
            g_autoptr(GError) e1 = NULL;
            g_autoptr(GError) e2 = NULL;
            json_object *read = kh_store_get (read_store, entities[e], SAME_ID, &e1);
            json_object *json = kh_store_get (json_store, entities[e], SAME_ID, &e2);

            g_assert_true (json_object_equal (read, json));
            json_object_put (read);
            json_object_put (json);
          }
        kh_store_rollback (read_store);
        kh_store_rollback (json_store);
        json_object_put (whole);
      }
  for (int k = 0; k < 4; k++)
    g_object_unref (stores[k / 2][k % 2]);
  kh_test_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD ("/sync/replica/pull-plain", test_pull_plain);
  ADD ("/sync/replica/pull-many", test_pull_many);
  ADD ("/sync/replica/pull-any-order", test_pull_any_order);
  ADD ("/sync/replica/merge-disjoint", test_merge_disjoint);
  ADD ("/sync/replica/merge-conflict", test_merge_conflict);
  ADD ("/sync/replica/resolve", test_resolve);
  ADD ("/sync/replica/delete-conflicts", test_delete_conflicts);
  ADD ("/sync/replica/push-results", test_push_results);
  ADD ("/sync/replica/push-conflict", test_push_conflict);
  ADD ("/sync/replica/bad-page", test_bad_page);
  ADD ("/sync/replica/reset", test_reset);
  ADD ("/sync/replica/integrity", test_integrity);
  ADD ("/sync/replica/own-echo", test_own_echo);
  ADD ("/sync/replica/retry-into-conflict", test_retry_into_conflict);
  ADD ("/sync/replica/edit-then-delete", test_edit_then_delete);
  ADD ("/sync/replica/take-batch-chunks", test_take_batch_chunks);
  ADD ("/sync/replica/lost-create-answer", test_lost_create_answer);
  ADD ("/sync/replica/read-page", test_read_page);
  ADD ("/sync/replica/read-page-refused", test_read_page_refused);
  ADD ("/sync/replica/read-page-same", test_read_page_same);
#undef ADD

  return g_test_run ();
}
