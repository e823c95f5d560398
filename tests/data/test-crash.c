/* test-crash.c: what a write reported as committed survives SIGKILL
 *
 * A child process (crash-writer) creates and edits records in a loop and prints each write
 * once the store returned. The parent kills it with SIGKILL at random moments, at least 20
 * times, then opens the database as the app would and checks: every reported write is there
 * (an edit with its value), each record has exactly one create in the outbox and the audit
 * trail, no outbox or audit row is about a record that does not exist, the search index
 * matches the records, and PRAGMA integrity_check is ok. The seed is printed; set
 * KH_CRASH_SEED to replay a run.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kh-schema.h"
#include "kh-store-sql.h"
#include "kh-test-store.h"

#define KILLS 24

static char *writer_path;

static char *
query_text (sqlite3    *db,
            const char *sql)
{
  sqlite3_stmt *stmt = NULL;
  char *text;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  text = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  return text;
}

static void
check_database (const char *path,
                GHashTable *committed,
                GHashTable *phones)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KhStore) store = kh_store_open (path, &error);
  GHashTableIter iter;
  gpointer key, value;
  sqlite3 *db;
  g_autofree char *integrity = NULL;

  g_assert_no_error (error);
  db = kh_store_get_db (store);

  g_hash_table_iter_init (&iter, committed);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      json_object *r = kh_store_get (store, "person", key, &error);
      const char *phone = g_hash_table_lookup (phones, key);

      if (r == NULL)
        g_error ("the committed record %s is gone: %s", (char *) key, error->message);
      /* A reported edit is in the audit trail (the record may hold a later edit that was
       * committed but killed before it was reported). */
      if (phone != NULL)
        {
          sqlite3_stmt *stmt = NULL;

          g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT count(*) FROM audit WHERE entity = 'person' AND record_id = ? "
                                                   "AND field = 'phone' AND new_value = ?", -1, &stmt, NULL), ==, SQLITE_OK);
          sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
          sqlite3_bind_text (stmt, 2, phone, -1, SQLITE_STATIC);
          g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
          if (sqlite3_column_int (stmt, 0) < 1)
            g_error ("the committed edit %s of %s is gone", phone, (char *) key);
          sqlite3_finalize (stmt);
          g_assert_nonnull (json_object_object_get (r, "phone"));
        }
      json_object_put (r);
    }

  /* One create in the outbox and in the audit per record, nothing about records that are not
   * there, and the search index in step with the records. */
  g_assert_cmpint (kh_test_query_int (store,
    "SELECT count(*) FROM person p WHERE (SELECT count(*) FROM outbox o WHERE o.entity = 'person' AND o.record_id = p.id "
    "AND o.op = 'create') != 1 OR (SELECT count(*) FROM audit a WHERE a.entity = 'person' AND a.record_id = p.id "
    "AND a.action = 'create') != 1"), ==, 0);
  g_assert_cmpint (kh_test_query_int (store,
    "SELECT count(*) FROM outbox WHERE record_id NOT IN (SELECT id FROM person UNION SELECT id FROM org_unit)"), ==, 0);
  g_assert_cmpint (kh_test_query_int (store,
    "SELECT count(*) FROM audit WHERE record_id NOT IN (SELECT id FROM person UNION SELECT id FROM org_unit)"), ==, 0);
  g_assert_cmpint (kh_test_query_int (store, "SELECT count(*) FROM outbox"), ==,
                   kh_test_query_int (store, "SELECT count(*) FROM person") + 1);
  g_assert_cmpint (kh_test_query_int (store, "SELECT count(*) FROM audit WHERE action = 'update'"), ==,
                   kh_test_query_int (store, "SELECT count(*) FROM audit WHERE action = 'update' AND field = 'phone' AND new_value IS NOT NULL"));
  /* Each record holds the value of its last audited edit. */
  g_assert_cmpint (kh_test_query_int (store,
    "SELECT count(*) FROM person p WHERE p.phone IS NOT (SELECT a.new_value FROM audit a "
    "WHERE a.entity = 'person' AND a.record_id = p.id AND a.field = 'phone' ORDER BY a.seq DESC LIMIT 1)"), ==, 0);
  g_assert_cmpint (kh_test_count (store, "person_fts"), ==, kh_test_count (store, "person"));
  g_assert_true (kh_sqlite_exec (db, "INSERT INTO person_fts (person_fts) VALUES ('integrity-check')", &error));
  g_assert_no_error (error);

  integrity = query_text (db, "PRAGMA integrity_check");
  g_assert_cmpstr (integrity, ==, "ok");
}

static void
test_crash_sigkill (void)
{
  g_autofree char *dir = kh_test_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "crash.db", NULL);
  g_autoptr(GHashTable) committed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) phones = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *unit = NULL;
  const char *seed_env = g_getenv ("KH_CRASH_SEED");
  guint32 seed = seed_env ? (guint32) g_ascii_strtoull (seed_env, NULL, 10) : g_random_int ();
  GRand *rand = g_rand_new_with_seed (seed);
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  guint mid_write_kills = 0;

  g_test_message ("seed %u (KH_CRASH_SEED=%u replays this run)", seed, seed);
  {
    g_autoptr(KhStore) store = kh_test_open_store (dir, "crash.db");
    json_object *v = json_tokener_parse ("{\"code\": \"56\", \"name\": \"Khánh Hòa\", \"kind\": \"province\"}");

    unit = kh_store_create (store, "org_unit", v, &error);
    g_assert_no_error (error);
    json_object_put (v);
  }

  for (int kill_no = 0; kill_no < KILLS; kill_no++)
    {
      g_autofree char *seed_arg = g_strdup_printf ("%u", g_rand_int (rand));
      const char *argv[] = { writer_path, path, unit, seed_arg, NULL };
      GPid pid;
      int out_fd;
      int status;
      guint delay_ms = g_rand_int_range (rand, 5, 120);
      g_autoptr(GString) output = g_string_new (NULL);
      char buf[4096];
      ssize_t n;
      g_auto(GStrv) lines = NULL;
      guint reported = 0;

      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_assert_true (g_spawn_async_with_pipes (NULL, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                                               NULL, NULL, &pid, NULL, &out_fd, NULL, &error));
      g_assert_no_error (error);
      /* Wait for the writer's first report, however slow its start-up (a sanitizer build on a
       * loaded machine takes tens of milliseconds), so the kill lands while it is writing. */
      {
        struct pollfd pfd = { .fd = out_fd, .events = POLLIN };

        if (poll (&pfd, 1, 30000) > 0 && (n = read (out_fd, buf, sizeof buf)) > 0)
          g_string_append_len (output, buf, n);
      }
      g_usleep (delay_ms * 1000);
      g_assert_cmpint (kill (pid, SIGKILL), ==, 0);
      g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
      g_spawn_close_pid (pid);
      /* A child that died on its own (an error) is a failure, not a crash test. */
      g_assert_true (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);

      while ((n = read (out_fd, buf, sizeof buf)) > 0)
        g_string_append_len (output, buf, n);
      close (out_fd);

      /* Only complete lines are reports; a torn last line was not yet reported. */
      lines = g_strsplit (output->str, "\n", -1);
      for (guint i = 0; lines[i] != NULL && lines[i + 1] != NULL; i++)
        {
          g_auto(GStrv) words = g_strsplit (lines[i], " ", -1);

          if (strcmp (words[0], "C") == 0)
            g_hash_table_add (committed, g_strdup (words[1]));
          else if (strcmp (words[0], "B") == 0)
            for (int k = 1; k <= 3; k++)
              g_hash_table_add (committed, g_strdup (words[k]));
          else if (strcmp (words[0], "U") == 0)
            g_hash_table_replace (phones, g_strdup (words[1]), g_strdup (words[2]));
          else
            g_error ("unexpected line from the writer: %s", lines[i]);
          reported++;
        }
      if (reported > 0)
        mid_write_kills++;
      g_test_message ("kill %d after %u ms: %u writes reported, %u records committed in all",
                      kill_no + 1, delay_ms, reported, g_hash_table_size (committed));
      check_database (path, committed, phones);
    }
  /* The kills must have hit a writer that was writing, not one still starting up. */
  g_assert_cmpuint (mid_write_kills, >=, KILLS / 2);
  g_assert_cmpuint (g_hash_table_size (committed), >, 0);
  g_rand_free (rand);
  kh_test_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *here = g_path_get_dirname (argv[0]);

  g_test_init (&argc, &argv, NULL);
  writer_path = g_build_filename (here, "crash-writer", NULL);
  g_test_add_func ("/data/store/crash/sigkill", test_crash_sigkill);
  return g_test_run ();
}
