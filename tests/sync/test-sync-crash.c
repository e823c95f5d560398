/* test-sync-crash.c: `khuyenhoc-cli sync` killed with SIGKILL at random moments
 *
 * Each round, another replica puts new records on the server (something to pull) and the
 * victim replica creates and edits records (something to push); then the CLI syncs the victim
 * and is killed after a random delay within the time a whole sync takes, so kills land before,
 * inside and after the pull and the push. After at least 50 kills, one clean sync: every record
 * the victim created is on the server exactly once with its last edit, every record the other
 * replica made is in the victim, and the victim equals a fresh replica. The seed is printed.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "kh-replica.h"
#include "kh-store-sql.h"
#include "kh-sync-test-util.h"

#define CLI_BIN KH_BUILD_DIR "/app/khuyenhoc-cli"
#define KILLS 50

static guint32 seed;

static gint64
sent_pending (KhTReplica *r)
{
  sqlite3_stmt *stmt = kh_store_prepare (r->store, "SELECT count(*) FROM outbox WHERE attempts > 0", NULL);
  gint64 n = 0;

  if (sqlite3_step (stmt) == SQLITE_ROW)
    n = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return n;
}

static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

/* Runs the CLI's sync; kills it after @delay_us unless it ended before. Returns TRUE when it
 * was killed. */
static gboolean
cli_sync (const char *db,
          gint64      delay_us,
          double     *seconds)
{
  const char *argv[] = { CLI_BIN, "--db", db, "sync", "--attempts", "2", "--backoff", "0.01", NULL };
  g_autoptr(GError) error = NULL;
  gint64 start = g_get_monotonic_time ();
  GPid pid;
  int status = 0;
  gboolean killed = FALSE;

  g_spawn_async (NULL, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL,
                 die_with_parent, NULL, &pid, &error);
  g_assert_no_error (error);
  if (delay_us >= 0)
    {
      while (g_get_monotonic_time () - start < delay_us)
        {
          if (waitpid (pid, &status, WNOHANG) == pid)
            goto done;
          g_usleep (200);
        }
      kill (pid, SIGKILL);
      killed = TRUE;
    }
  waitpid (pid, &status, 0);
done:
  g_spawn_close_pid (pid);
  if (seconds != NULL)
    *seconds = (g_get_monotonic_time () - start) / 1e6;
  if (!killed)
    g_assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  return killed && WIFSIGNALED (status);
}

static void
test_crash (gconstpointer data)
{
  KhTestServer *server = kh_test_server_new_serving (data);
  g_autofree char *dir = NULL;
  g_autoptr(GHashTable) phones = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GPtrArray) mine = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) theirs = g_ptr_array_new_with_free_func (g_free);
  GRand *rand;
  KhTReplica *victim;
  KhTReplica *other;
  KhTReplica *fresh;
  const char *unit;
  double full = 0;
  int kills = 0;
  int in_push = 0;
  int serial = 0;

  if (server == NULL)
    {
      g_test_skip ("KH_TEST_PG_URL is not set");
      return;
    }
  rand = g_rand_new_with_seed (seed);
  g_test_message ("seed %u (replay with KH_SEED=%u)", seed, seed);
  dir = kh_test_tmpdir ();
  victim = kh_treplica_new (server, dir, "victim", server->base, "officer_a");
  other = kh_treplica_new (server, dir, "other", server->base, "officer_a");
  kh_treplica_sync (victim);
  kh_treplica_sync (other);
  unit = kh_treplica_unit (victim, "A");

  for (int round = 0; kills < KILLS && round < KILLS * 3; round++)
    {
      g_autofree char *cursor_before = NULL;
      g_autofree char *cursor_after = NULL;
      double took;

      g_assert_true (kh_store_begin (other->store, NULL));
      for (int k = 0; k < 30; k++)
        {
          g_autofree char *name = g_strdup_printf ("Của khác %d", ++serial);
          g_autofree char *json = g_strdup_printf ("{\"full_name\": \"%s\", \"org_unit_id\": \"%s\"}", name, unit);
          g_autofree char *id = kh_treplica_add (other, "person", json);

          g_ptr_array_add (theirs, g_steal_pointer (&name));
        }
      g_assert_true (kh_store_commit (other->store, NULL));
      kh_treplica_sync (other);

      g_assert_true (kh_store_begin (victim->store, NULL));
      for (int k = 0; k < 20; k++)
        {
          g_autofree char *name = g_strdup_printf ("Của tôi %d", ++serial);
          g_autofree char *json = g_strdup_printf ("{\"full_name\": \"%s\", \"org_unit_id\": \"%s\"}", name, unit);
          char *id = kh_treplica_add (victim, "person", json);

          g_ptr_array_add (mine, id);
        }
      for (int k = 0; k < 10; k++)
        {
          const char *id = mine->pdata[g_rand_int_range (rand, 0, (gint32) mine->len)];
          g_autofree char *phone = g_strdup_printf ("09%08d", ++serial);
          g_autofree char *json = g_strdup_printf ("{\"phone\": \"%s\"}", phone);

          kh_treplica_set (victim, "person", id, json);
          g_hash_table_insert (phones, g_strdup (id), g_steal_pointer (&phone));
        }
      g_assert_true (kh_store_commit (victim->store, NULL));

      cursor_before = kh_replica_get_state (victim->store, KH_SYNC_CURSOR);
      if (full == 0 || round % 10 == 0)
        {
          /* Every tenth round measures how long a whole sync takes now (it grows with the data,
           * and a sanitizer build is slower). */
          cli_sync (victim->path, -1, &full);
          continue;
        }
      if (cli_sync (victim->path, (gint64) (g_rand_double_range (rand, 0.1, 1.1) * full * 1e6), &took))
        {
          kills++;
          cursor_after = kh_replica_get_state (victim->store, KH_SYNC_CURSOR);
          if (sent_pending (victim) > 0)
            in_push++;
        }
    }
  g_test_message ("%d kills in a sync of %.0f ms; %d of them with a push in flight", kills, full * 1000, in_push);
  g_assert_cmpint (kills, >=, KILLS);
  g_assert_cmpint (in_push, >=, 1);

  /* One clean sync, then the others catch up. */
  cli_sync (victim->path, -1, NULL);
  kh_treplica_sync (other);
  if (kh_store_count_pending (victim->store) != 0)
    {
      json_object *outbox = kh_store_list_outbox (victim->store, NULL);

      g_test_message ("left: %s", json_object_to_json_string (outbox));
      json_object_put (outbox);
    }
  g_assert_cmpint (kh_store_count_pending (victim->store), ==, 0);

  fresh = kh_treplica_new (server, dir, "fresh", server->base, "officer_a");
  kh_treplica_sync (fresh);
  for (guint i = 0; i < mine->len; i++)
    {
      json_object *rec = kh_treplica_get (fresh, "person", mine->pdata[i]);
      const char *phone = g_hash_table_lookup (phones, mine->pdata[i]);

      g_assert_cmpint (kh_treplica_count_named (fresh, kh_tstr (rec, "full_name")), ==, 1);
      g_assert_cmpstr (kh_tstr (rec, "phone"), ==, phone);
      json_object_put (rec);
    }
  for (guint i = 0; i < theirs->len; i++)
    g_assert_cmpint (kh_treplica_count_named (victim, theirs->pdata[i]), ==, 1);
  {
    g_autofree char *dv = kh_treplica_dump (victim);
    g_autofree char *df = kh_treplica_dump (fresh);

    g_assert_cmpstr (dv, ==, df);
  }
  g_assert_cmpint (kh_replica_count_conflicts (victim->store), ==, 0);

  kh_treplica_free (fresh);
  kh_treplica_free (victim);
  kh_treplica_free (other);
  kh_test_server_free (server);
  g_rand_free (rand);
  kh_test_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_setenv ("KHUYENHOC_TOKEN_STORE", "file", TRUE);
  seed = g_getenv ("KH_SEED") ? (guint32) atoi (g_getenv ("KH_SEED")) : (guint32) g_test_rand_int ();
  g_print ("# seed %u (replay with KH_SEED=%u)\n", seed, seed);
  g_test_add_data_func ("/sync/crash/sqlite/sigkill", "sqlite", test_crash);
  g_test_add_data_func ("/sync/crash/postgresql/sigkill", "postgresql", test_crash);
  return g_test_run ();
}
