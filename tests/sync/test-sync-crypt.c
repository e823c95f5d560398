/* test-sync-crypt.c: a synced replica, killed in the middle of a write, gives nothing away on
 * the disk, and opens whole with its key; on SQLite and on PostgreSQL
 *
 * The server is filled with demo records; a replica pulls them all (a first pull: the bulk
 * load, its search index built in a scratch file beside the replica, the checkpointer), a
 * person's phone and national id are edited and pushed, and a CLI writing a large batch of
 * records into the same replica is killed with SIGKILL in the middle. Then every byte of every
 * file in the replica's folder and in SQLite's temporary folder is searched for the people's
 * names (as written and as folded for search), the phones and the national ids: none is
 * there. The replica then opens with its key (a passphrase, as without a keyring), passes
 * integrity_check and holds the edits.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#define _GNU_SOURCE
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kh-crypt-key.h"
#include "kh-search-build.h"
#include "kh-store-sql.h"
#include "kh-sync-test-util.h"

#define CLI_BIN KH_BUILD_DIR "/app/khuyenhoc-cli"

static char *tmp_dir;

static char *
admin_password (const char *credentials)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;

  g_assert_true (g_file_get_contents (credentials, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) cols = g_strsplit (lines[i], "\t", -1);

      if (g_strv_length (cols) >= 2 && strcmp (cols[0], "admin") == 0)
        return g_strdup (cols[1]);
    }
  g_assert_not_reached ();
}

static void
assert_no_secret (GPtrArray  *secrets,
                  const char *file,
                  const char *contents,
                  gsize       len)
{
  g_assert_null (memmem (contents, len, "SQLite format 3", 15));
  for (guint s = 0; s < secrets->len; s++)
    {
      const char *secret = secrets->pdata[s];

      if (memmem (contents, len, secret, strlen (secret)) != NULL)
        g_error ("“%s” is in %s", secret, file);
    }
}

static guint
assert_no_secret_under (GPtrArray  *secrets,
                        const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  guint files = 0;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *file = g_build_filename (dir, name, NULL);
      g_autofree char *contents = NULL;
      gsize len = 0;

      if (g_file_test (file, G_FILE_TEST_IS_DIR))
        files += assert_no_secret_under (secrets, file);
      else if (g_file_get_contents (file, &contents, &len, NULL))
        {
          assert_no_secret (secrets, file, contents, len);
          files++;
        }
    }
  return files;
}

static void
test_sealed (gconstpointer data)
{
  KhTestServer *server = kh_test_server_new (data);
  g_autoptr(GPtrArray) secrets = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) edited = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *dir = NULL;
  g_autofree char *credentials = NULL;
  g_autofree char *password = NULL;
  g_autofree char *path = NULL;
  KhTReplica *r;
  sqlite3_stmt *stmt = NULL;
  GPid pid;
  int status = 0;
  guint files;

  if (server == NULL)
    {
      g_test_skip ("KH_TEST_PG_URL is not set");
      return;
    }
  dir = kh_test_tmpdir ();
  credentials = g_build_filename (server->dir, "credentials.txt", NULL);
  kh_test_server_cli (server, NULL, "demo", "--records", "20000", "--credentials", credentials, NULL);
  kh_test_server_start (server, NULL);
  password = admin_password (credentials);

  /* A first pull, its search index built beside the replica. */
  r = kh_treplica_new_full (dir, "replica", server->base, "admin", password);
  path = g_strdup (r->path);
  kh_treplica_sync (r);
  g_assert_cmpint (kh_crypt_file_state (path), ==, KH_CRYPT_FILE_SEALED);

  /* People's names as pulled, and a phone and a national id for some, pushed. */
  g_assert_cmpint (sqlite3_prepare_v2 (kh_store_get_db (r->store),
                                       "SELECT id, full_name, kh_fold(full_name) FROM person "
                                       "WHERE length(full_name) > 14 ORDER BY rid LIMIT 30",
                                       -1, &stmt, NULL), ==, SQLITE_OK);
  for (int i = 0; sqlite3_step (stmt) == SQLITE_ROW; i++)
    {
      g_ptr_array_add (secrets, g_strdup ((const char *) sqlite3_column_text (stmt, 1)));
      g_ptr_array_add (secrets, g_strdup ((const char *) sqlite3_column_text (stmt, 2)));
      if (i < 10)
        {
          char *phone = g_strdup_printf ("0914%06d", 2024 + 113 * i);
          char *national_id = g_strdup_printf ("0561%08d", 90210 + 7919 * i);
          g_autofree char *json = g_strdup_printf ("{\"phone\": \"%s\", \"national_id\": \"%s\"}",
                                                   phone, national_id);

          g_ptr_array_add (edited, g_strdup ((const char *) sqlite3_column_text (stmt, 0)));
          g_ptr_array_add (edited, g_strdup (phone));
          kh_treplica_set (r, "person", (const char *) sqlite3_column_text (stmt, 0), json);
          g_ptr_array_add (secrets, phone);
          g_ptr_array_add (secrets, national_id);
        }
    }
  sqlite3_finalize (stmt);
  g_assert_cmpuint (secrets->len, ==, 80);
  kh_treplica_sync (r);

  /* Another process writes a large batch into the replica, and is killed in the middle. */
  {
    const char *argv[] = { CLI_BIN, "--db", path, "demo", "--records", "200000", NULL };
    g_autoptr(GError) error = NULL;
    g_autofree char *wal = g_strconcat (path, "-wal", NULL);
    gint64 start = g_get_monotonic_time ();
    GStatBuf st;

    g_assert_true (g_spawn_async (NULL, (char **) argv, NULL,
                                  G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL,
                                  NULL, NULL, &pid, &error));
    g_assert_no_error (error);
    /* Killed once its write has reached the WAL. */
    while ((g_stat (wal, &st) != 0 || st.st_size < 4 * 1024 * 1024)
           && g_get_monotonic_time () - start < 60 * G_USEC_PER_SEC)
      g_usleep (10000);
    kill (pid, SIGKILL);
    g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
    g_spawn_close_pid (pid);
    g_assert_true (WIFSIGNALED (status));
  }

  /* Open here, the replica's folder and SQLite's temporary one; then closed. */
  files = assert_no_secret_under (secrets, dir);
  g_assert_cmpuint (files, >=, 4);  /* the database, its WAL and wal-index, the key */
  assert_no_secret_under (secrets, tmp_dir);
  kh_treplica_free (r);
  assert_no_secret_under (secrets, dir);

  /* With its key: whole, and the edits are there. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(KhStore) store = kh_store_open (path, &error);
    sqlite3_stmt *check = NULL;

    g_assert_no_error (error);
    g_assert_cmpint (sqlite3_prepare_v2 (kh_store_get_db (store), "PRAGMA integrity_check",
                                         -1, &check, NULL), ==, SQLITE_OK);
    g_assert_cmpint (sqlite3_step (check), ==, SQLITE_ROW);
    g_assert_cmpstr ((const char *) sqlite3_column_text (check, 0), ==, "ok");
    sqlite3_finalize (check);
    for (guint i = 0; i < edited->len; i += 2)
      {
        json_object *rec = kh_store_get (store, "person", edited->pdata[i], &error);

        g_assert_no_error (error);
        g_assert_cmpstr (json_object_get_string (json_object_object_get (rec, "phone")), ==,
                         edited->pdata[i + 1]);
        json_object_put (rec);
      }
  }
  kh_test_server_free (server);
  kh_test_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;

  /* SQLite's temporary files in a folder of this test's, before SQLite starts. */
  tmp_dir = g_dir_make_tmp ("khuyenhoc-sqlite-XXXXXX", &error);
  g_assert_no_error (error);
  g_setenv ("SQLITE_TMPDIR", tmp_dir, TRUE);
  g_test_init (&argc, &argv, NULL);
  g_setenv ("KHUYENHOC_TOKEN_STORE", "file", TRUE);
  g_assert_nonnull (g_getenv ("KHUYENHOC_PASSPHRASE"));
  /* The search index of the first pull is built in its scratch file, as for a large one. */
  kh_search_build_set_min_rows (100);

  g_test_add_data_func ("/sync/crypt/sqlite", "sqlite", test_sealed);
  g_test_add_data_func ("/sync/crypt/postgresql", "postgresql", test_sealed);
  {
    int rc = g_test_run ();

    kh_test_rmdir (tmp_dir);
    g_free (tmp_dir);
    return rc;
  }
}
