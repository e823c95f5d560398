/* test-sync-integrity.c: the integrity check and its repair, and a pull that cannot finish,
 * against the real server over HTTP, on SQLite and on PostgreSQL
 *
 * - A replica whose record differs from the server's at the same version (deleted here, a field
 *   changed here behind the engine's back) fails the check and is repaired: the checksum covers
 *   what a record is, not only its version.
 * - The repair of one stale record among thousands fetches that record alone: a few KB, and
 *   the other records' rows are left as they were.
 * - A pull whose link goes down for good after its first page fails, with one error and no
 *   warning, instead of passing for a finished sync.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "kh-fault-proxy.h"
#include "kh-replica.h"
#include "kh-store-sql.h"
#include "kh-sync-test-util.h"

typedef struct
{
  KhTestServer *server;
  char         *dir;
  KhTReplica   *a;
  char         *unit_a;
} Fixture;

static void
set_up (Fixture       *f,
        gconstpointer  data)
{
  f->server = kh_test_server_new_serving (data);
  if (f->server == NULL)
    return;
  f->dir = kh_test_tmpdir ();
  f->a = kh_treplica_new (f->server, f->dir, "a", f->server->base, "officer_a");
  kh_treplica_sync (f->a);
  f->unit_a = g_strdup (kh_treplica_unit (f->a, "A"));
}

static void
tear_down (Fixture       *f,
           gconstpointer  data)
{
  kh_treplica_free (f->a);
  kh_test_server_free (f->server);
  if (f->dir != NULL)
    kh_test_rmdir (f->dir);
  g_free (f->dir);
  g_free (f->unit_a);
}

#define SKIP_WITHOUT_SERVER(f) \
  if ((f)->server == NULL) { g_test_skip ("KH_TEST_PG_URL is not set"); return; }

static char *
add_person (Fixture    *f,
            const char *name)
{
  g_autofree char *json = g_strdup_printf ("{\"full_name\": \"%s\", \"org_unit_id\": \"%s\"}", name, f->unit_a);

  return kh_treplica_add (f->a, "person", json);
}

/* Changes the replica's database behind the engine's back, as a bug or a damaged disk would. */
static void
damage (KhTReplica *r,
        const char *set,
        const char *id)
{
  g_autofree char *sql = g_strdup_printf ("UPDATE person SET %s WHERE id = '%s'", set, id);

  g_assert_cmpint (sqlite3_exec (kh_store_get_db (r->store), sql, NULL, NULL, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_changes (kh_store_get_db (r->store)), ==, 1);
}

static void
assert_equals_fresh (Fixture *f)
{
  KhTReplica *fresh = kh_treplica_new (f->server, f->dir, "fresh", f->server->base, "officer_a");
  g_autofree char *da = NULL;
  g_autofree char *df = NULL;

  kh_treplica_sync (fresh);
  da = kh_treplica_dump (f->a);
  df = kh_treplica_dump (fresh);
  g_assert_cmpstr (da, ==, df);
  kh_treplica_free (fresh);
}

/* Deleted here at the server's version, and a field changed here at the server's version:
 * both differ from the server, and both are repaired. */
static void
test_same_version (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *p1 = NULL;
  g_autofree char *p2 = NULL;
  g_autofree char *p3 = NULL;
  json_object *rec;
  KhSyncReport rep;

  SKIP_WITHOUT_SERVER (f);
  p1 = add_person (f, "Nguyễn Văn Một");
  p2 = add_person (f, "Trần Thị Hai");
  p3 = add_person (f, "Lê Văn Ba");
  kh_treplica_sync (f->a);
  rep = kh_treplica_sync (f->a);
  g_assert_cmpuint (rep.repaired, ==, 0);
  g_assert_true (rep.verified);

  damage (f->a, "deleted = 1", p1);
  damage (f->a, "phone = '0999999999'", p2);
  rep = kh_treplica_sync (f->a);
  g_assert_cmpuint (rep.repaired, ==, 2);

  rec = kh_treplica_get (f->a, "person", p1);
  g_assert_false (json_object_get_boolean (json_object_object_get (rec, "deleted")));
  json_object_put (rec);
  rec = kh_treplica_get (f->a, "person", p2);
  g_assert_null (json_object_object_get (rec, "phone"));
  json_object_put (rec);
  assert_equals_fresh (f);
  rep = kh_treplica_sync (f->a);
  g_assert_cmpuint (rep.repaired, ==, 0);
}

/* Every person row but @skip, as text. */
static char *
rows_but (KhTReplica *r,
          const char *skip)
{
  g_autofree char *columns = kh_store_select_columns (kh_entity_lookup ("person"));
  g_autofree char *sql = g_strdup_printf ("SELECT rowid, %s FROM person WHERE id != ? ORDER BY id", columns);
  sqlite3 *db = kh_store_get_db (r->store);
  GString *out = g_string_new (NULL);
  sqlite3_stmt *stmt;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  sqlite3_bind_text (stmt, 1, skip, -1, SQLITE_STATIC);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      for (int c = 0; c < sqlite3_column_count (stmt); c++)
        g_string_append_printf (out, "%s|", (const char *) sqlite3_column_text (stmt, c));
      g_string_append_c (out, '\n');
    }
  sqlite3_finalize (stmt);
  return g_string_free (out, FALSE);
}

static gint64
count_rows (KhTReplica *r,
            const char *sql)
{
  sqlite3_stmt *stmt;
  gint64 n;

  g_assert_cmpint (sqlite3_prepare_v2 (kh_store_get_db (r->store), sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  n = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  return n;
}

/* One stale record among thousands: the repair fetches it alone. */
static void
test_targeted (Fixture       *f,
               gconstpointer  data)
{
  const char *env = g_getenv ("KH_TEST_INTEGRITY_RECORDS");
  guint n = env ? (guint) g_ascii_strtoull (env, NULL, 10) : 3000;
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  const char *stale;
  gint64 audit;
  KhSyncReport rep;
  json_object *rec;

  SKIP_WITHOUT_SERVER (f);
  g_assert_true (kh_store_begin (f->a->store, &error));
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *name = g_strdup_printf ("Người %u", i);

      g_ptr_array_add (ids, add_person (f, name));
    }
  g_assert_true (kh_store_commit (f->a->store, &error));
  g_assert_no_error (error);
  kh_treplica_sync (f->a);
  rep = kh_treplica_sync (f->a);
  g_assert_cmpuint (rep.repaired, ==, 0);

  stale = ids->pdata[n / 2];
  damage (f->a, "notes = 'sai'", stale);
  before = rows_but (f->a, stale);
  audit = count_rows (f->a, "SELECT count(*) FROM audit");

  rep = kh_treplica_sync (f->a);
  g_test_message ("repair of 1 record among %u: %" G_GUINT64_FORMAT " requests, %" G_GUINT64_FORMAT
                  " bytes sent, %" G_GUINT64_FORMAT " received", n, rep.requests, rep.bytes_sent,
                  rep.bytes_received);
  g_assert_cmpuint (rep.repaired, ==, 1);
  g_assert_cmpuint (rep.pulled, ==, 1);
  g_assert_cmpuint (rep.bytes_sent + rep.bytes_received, <, 8 * 1024);
  rec = kh_treplica_get (f->a, "person", stale);
  g_assert_null (json_object_object_get (rec, "notes"));
  json_object_put (rec);

  /* The other rows are as they were, and only the repaired record has a new audit row. */
  after = rows_but (f->a, stale);
  g_assert_true (strcmp (before, after) == 0);
  g_assert_cmpint (count_rows (f->a, "SELECT count(*) FROM audit"), ==, audit + 1);
  assert_equals_fresh (f);
}

/* The link goes down after the first page of a pull and stays down: the sync fails, with one
 * error (a second one set over it would be a warning, fatal here), and the next sync, with the
 * link back, pulls the rest. */
static void
test_pull_link_down (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  g_autofree char *cursor = NULL;
  g_autofree char *after = NULL;
  KhFaultProxy *proxy;
  KhTReplica *o;
  KhSyncReport rep;

  SKIP_WITHOUT_SERVER (f);
  proxy = kh_fault_proxy_new (f->server->port, 1);
  url = g_strdup_printf ("http://127.0.0.1:%d", kh_fault_proxy_get_port (proxy));
  o = kh_treplica_new (f->server, f->dir, "o", url, "officer_a");
  kh_treplica_sync (o);
  g_object_set (o->engine, "page-size", 2, "max-attempts", 2, NULL);
  for (int i = 0; i < 5; i++)
    {
      g_autofree char *name = g_strdup_printf ("Người %d", i);
      g_autofree char *id = add_person (f, name);
    }
  kh_treplica_sync (f->a);

  /* The first page is asked for with the routine size; every page after it with the largest. */
  cursor = kh_replica_get_state (o->store, KH_SYNC_CURSOR);
  kh_fault_proxy_set_fault (proxy, KH_FAULT_RESET_BEFORE, "GET /v1/changes?limit=5000", -1);
  g_assert_false (kh_sync_engine_run (o->engine, 0, &rep, NULL, &error));
  g_assert_nonnull (error);
  g_assert_cmpuint (rep.pulled, ==, 2);
  after = kh_replica_get_state (o->store, KH_SYNC_CURSOR);
  g_assert_cmpstr (after, !=, cursor);
  g_clear_error (&error);

  kh_fault_proxy_set_fault (proxy, KH_FAULT_NONE, NULL, 0);
  g_assert_true (kh_sync_engine_run (o->engine, KH_SYNC_FLAGS_VERIFY, &rep, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (rep.pulled, ==, 3);
  g_assert_cmpint (kh_treplica_count_named (o, "Người 4"), ==, 1);
  kh_treplica_free (o);
  kh_fault_proxy_free (proxy);
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
        g_autofree char *path = g_strdup_printf ("/sync/integrity/%s/" name, backends[b]); \
        g_test_add (path, Fixture, backends[b], set_up, fn, tear_down); \
      }
      ADD ("same-version", test_same_version);
      ADD ("targeted-repair", test_targeted);
      ADD ("pull-link-down", test_pull_link_down);
#undef ADD
    }
  return g_test_run ();
}
