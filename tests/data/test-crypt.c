/* test-crypt.c: a sealed replica reads as noise without its key, and opens whole with it
 *
 * Each test fills a replica in a folder of its own (SQLite's temporary files in a folder of
 * its own too), then reads every byte of every file there, as a thief of the laptop would,
 * for the names, national ids and phone numbers the replica holds: none may be there.
 * The same replica then opens with its key and passes integrity_check; a wrong key, a wrong
 * passphrase and an altered page are refused with a message that says so, and leave every
 * file as it was; a plain replica is sealed in place, killed at each step of it, and loses
 * nothing.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define _GNU_SOURCE
#include "kh-i18n.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <sodium.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kh-crypt-key.h"
#include "kh-crypt-vfs.h"
#include "kh-demo.h"
#include "kh-error.h"
#include "kh-search-build.h"
#include "kh-sqlite.h"
#include "kh-store-sql.h"
#include "kh-test-dir.h"
#include "kh-test-store.h"

typedef struct
{
  char      *dir;
  char      *tmp;
  char      *path;
  GPtrArray *secrets;  /* strings that must not be found in any file */
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  guint8 key[KH_CRYPT_KEY_BYTES];

  f->dir = kh_test_tmpdir ();
  f->tmp = g_build_filename (f->dir, "tmp", NULL);
  g_mkdir (f->tmp, 0700);
  /* SQLite makes its temporary files there, and unlinks them at once. */
  g_setenv ("SQLITE_TMPDIR", f->tmp, TRUE);
  f->path = g_build_filename (f->dir, "replica.db", NULL);
  f->secrets = g_ptr_array_new_with_free_func (g_free);
  if (data == NULL)
    {
      kh_crypt_key_generate (key);
      kh_crypt_vfs_set_key (f->path, key);
    }
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  kh_crypt_vfs_forget_key (f->path);
  g_unsetenv ("SQLITE_TMPDIR");
  kh_test_rmdir (f->dir);
  g_free (f->dir);
  g_free (f->tmp);
  g_free (f->path);
  g_ptr_array_unref (f->secrets);
}

/* Remembers @n people's names (as typed and as folded for search), read back from the store,
 * and gives them a phone and a national id (demo people have neither), as what must not be
 * found. */
static void
collect_secrets (Fixture *f,
                 KhStore *store,
                 int      n)
{
  sqlite3 *db = kh_store_get_db (store);
  sqlite3_stmt *stmt = NULL;
  int i = 0;

  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT id, full_name, kh_fold(full_name) FROM person "
                                           "WHERE length(full_name) > 14 LIMIT ?",
                                       -1, &stmt, NULL), ==, SQLITE_OK);
  sqlite3_bind_int (stmt, 1, n);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      g_autoptr(GError) error = NULL;
      json_object *change = json_object_new_object ();
      char *national_id = g_strdup_printf ("0792%08d", 4711 + 37 * i);
      char *phone = g_strdup_printf ("0905%06d", 1234 + 71 * i++);

      g_ptr_array_add (f->secrets, g_strdup ((const char *) sqlite3_column_text (stmt, 1)));
      g_ptr_array_add (f->secrets, g_strdup ((const char *) sqlite3_column_text (stmt, 2)));
      json_object_object_add (change, "national_id", json_object_new_string (national_id));
      json_object_object_add (change, "phone", json_object_new_string (phone));
      g_ptr_array_add (f->secrets, national_id);
      g_ptr_array_add (f->secrets, phone);
      /* Edited through the store: the outbox, the audit and the merge base hold them too. */
      g_assert_true (kh_store_update (store, "person", (const char *) sqlite3_column_text (stmt, 0),
                                      change, &error));
      g_assert_no_error (error);
      json_object_put (change);
    }
  sqlite3_finalize (stmt);
  g_assert_cmpint (i, ==, n);
}

static void
assert_no_secret_in (Fixture    *f,
                     const char *file,
                     const char *contents,
                     gsize       len)
{
  g_assert_null (memmem (contents, len, "SQLite format 3", 15));
  for (guint s = 0; s < f->secrets->len; s++)
    {
      const char *secret = f->secrets->pdata[s];

      if (memmem (contents, len, secret, strlen (secret)) != NULL)
        g_error ("“%s” is in %s", secret, file);
    }
}

/* Every file under @dir, read whole. */
static guint
assert_no_secret_under (Fixture    *f,
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
        {
          files += assert_no_secret_under (f, file);
          continue;
        }
      g_assert_true (g_file_get_contents (file, &contents, &len, NULL));
      assert_no_secret_in (f, file, contents, len);
      files++;
    }
  return files;
}

static void
assert_opens_whole (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KhStore) store = kh_store_open (path, &error);

  g_assert_no_error (error);
  g_assert_cmpint (kh_test_query_int (store, "SELECT count(*) FROM person"), >, 0);
  g_assert_cmpint (kh_test_query_int (store, "SELECT count(*) FROM pragma_integrity_check "
                                             "WHERE integrity_check <> 'ok'"), ==, 0);
}

/* A demo, an edit, the search index built beside the database (a bulk load, as a first pull
 * does it) and a sort that spills to a temporary file: none of their files holds a name. */
static void
test_sealed_files (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KhStore) store = kh_store_open (f->path, &error);
  sqlite3 *db;
  sqlite3_stmt *stmt = NULL;
  guint spilled = 0;

  g_assert_no_error (error);
  g_assert_true (kh_demo_generate (store, 3000, 7, NULL, &error));
  g_assert_no_error (error);
  collect_secrets (f, store, 20);
  /* The search index of a bulk load goes through "<replica>-search". */
  kh_search_build_set_min_rows (10);
  g_assert_true (kh_store_defer_upkeep (store, &error));
  g_assert_true (kh_store_restore_upkeep (store, &error));
  g_assert_no_error (error);
  g_assert_cmpint (kh_test_query_int (store, "SELECT count(*) FROM person_fts WHERE person_fts MATCH 'nguyen'"),
                   >, 0);

  /* A sort larger than its memory goes to a temporary file, unlinked but open: read it
   * through /proc while the statement holds it. The store keeps them in memory
   * (temp_store = MEMORY); the connections that do not, such as the search index's helper,
   * seal them: so does this one, made to spill. */
  db = kh_store_get_db (store);
  g_assert_true (kh_sqlite_exec (db, "PRAGMA cache_size = 10; PRAGMA temp_store = FILE", NULL));
  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT p.full_name || hex(randomblob(1000)) AS x "
                                           "FROM person p, (SELECT 1 UNION SELECT 2 UNION SELECT 3 UNION SELECT 4) "
                                           "ORDER BY x", -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  {
    g_autoptr(GDir) fds = g_dir_open ("/proc/self/fd", 0, NULL);
    const char *fd;

    while (fds != NULL && (fd = g_dir_read_name (fds)) != NULL)
      {
        g_autofree char *link = g_build_filename ("/proc/self/fd", fd, NULL);
        g_autofree char *target = g_file_read_link (link, NULL);
        g_autofree char *contents = NULL;
        gsize len = 0;

        if (target == NULL || !g_str_has_prefix (target, f->tmp))
          continue;
        g_assert_true (g_file_get_contents (link, &contents, &len, NULL));
        if (len > 0)
          spilled++;
        assert_no_secret_in (f, target, contents, len);
      }
  }
  sqlite3_finalize (stmt);
  g_assert_cmpuint (spilled, >, 0);

  /* Open: the database, its WAL and the wal-index; closed: the database. */
  g_assert_cmpuint (assert_no_secret_under (f, f->dir), >=, 3);
  g_clear_object (&store);
  g_assert_cmpuint (assert_no_secret_under (f, f->dir), >=, 1);
  assert_opens_whole (f->path);
}

/* The rollback journal (a database not in WAL mode, such as one a migration or another tool
 * leaves so) holds the pages it saves sealed, and a process killed in the middle of a
 * transaction is rolled back from it, whole. */
static void
test_journal (Fixture       *f,
              gconstpointer  data)
{
  sqlite3 *db = NULL;
  pid_t pid;
  int status;
  g_autofree char *journal = g_strconcat (f->path, "-journal", NULL);

  g_ptr_array_add (f->secrets, g_strdup ("Pi Năng Thị Hồng Nhung"));
  g_assert_cmpint (kh_sqlite_open (f->path, &db, TRUE), ==, SQLITE_OK);
  g_assert_true (kh_sqlite_exec (db, "PRAGMA journal_mode = PERSIST;"
                                     "CREATE TABLE t (name TEXT);"
                                     "WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) "
                                     "INSERT INTO t SELECT 'Pi Năng Thị Hồng Nhung' FROM n;", NULL));
  sqlite3_close (db);

  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      /* A transaction larger than the cache writes pages (and the journal) before it ends. */
      kh_sqlite_open (f->path, &db, TRUE);
      kh_sqlite_exec (db, "PRAGMA cache_size = 5; BEGIN; UPDATE t SET name = 'x'; ", NULL);
      raise (SIGKILL);
    }
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFSIGNALED (status));
  g_assert_true (g_file_test (journal, G_FILE_TEST_EXISTS));
  assert_no_secret_under (f, f->dir);

  g_assert_cmpint (kh_sqlite_open (f->path, &db, TRUE), ==, SQLITE_OK);
  {
    sqlite3_stmt *stmt = NULL;

    g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT count(*) FROM t WHERE name = 'Pi Năng Thị Hồng Nhung'",
                                         -1, &stmt, NULL), ==, SQLITE_OK);
    g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
    g_assert_cmpint (sqlite3_column_int (stmt, 0), ==, 3000);
    sqlite3_finalize (stmt);
  }
  g_assert_true (kh_sqlite_exec (db, "PRAGMA integrity_check", NULL));
  sqlite3_close (db);
}

static GHashTable *
snapshot (const char *dir)
{
  GHashTable *files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *file = g_build_filename (dir, name, NULL);
      g_autofree char *contents = NULL;
      gsize len = 0;

      if (g_file_get_contents (file, &contents, &len, NULL))
        g_hash_table_insert (files, g_strdup (name),
                             g_compute_checksum_for_data (G_CHECKSUM_SHA256, (guchar *) contents, len));
    }
  return files;
}

static void
assert_unchanged (GHashTable *before,
                  GHashTable *after)
{
  GHashTableIter iter;
  gpointer name, sum;

  g_assert_cmpuint (g_hash_table_size (before), ==, g_hash_table_size (after));
  g_hash_table_iter_init (&iter, before);
  while (g_hash_table_iter_next (&iter, &name, &sum))
    g_assert_cmpstr (g_hash_table_lookup (after, name), ==, sum);
}

static void
make_demo (const char *path,
           gint64      records)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KhStore) store = kh_store_open (path, &error);

  g_assert_no_error (error);
  g_assert_true (kh_demo_generate (store, records, 3, NULL, &error));
  g_assert_no_error (error);
}

/* Another key does not open the replica, says so, and leaves it as it was. */
static void
test_wrong_key (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) before = NULL;
  g_autoptr(GHashTable) after = NULL;
  g_autoptr(KhStore) store = NULL;
  guint8 key[KH_CRYPT_KEY_BYTES];

  make_demo (f->path, 3000);
  before = snapshot (f->dir);
  kh_crypt_key_generate (key);
  kh_crypt_vfs_set_key (f->path, key);
  store = kh_store_open (f->path, &error);
  g_assert_null (store);
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_KEY);
  g_assert_nonnull (strstr (error->message, "not this database’s key"));
  after = snapshot (f->dir);
  assert_unchanged (before, after);
}

/* A page altered on the disk does not open: reading it fails with a message that says so,
 * and nothing is written. */
static void
test_tampered (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) before = NULL;
  g_autoptr(GHashTable) after = NULL;
  g_autoptr(KhStore) store = NULL;
  g_autofree char *contents = NULL;
  sqlite3_stmt *stmt = NULL;
  gsize len = 0;
  int rc;

  make_demo (f->path, 3000);
  /* Closed, the WAL is in the database: alter a byte in the middle of page 20. */
  g_assert_true (g_file_get_contents (f->path, &contents, &len, NULL));
  g_assert_cmpuint (len, >, 21 * 4096);
  contents[20 * 4096 + 1000] ^= 0x01;
  g_assert_true (g_file_set_contents (f->path, contents, len, NULL));
  before = snapshot (f->dir);

  store = kh_store_open (f->path, &error);
  if (store != NULL)
    {
      /* The altered page was not read on opening: it is, checking the whole file. */
      g_assert_cmpint (sqlite3_prepare_v2 (kh_store_get_db (store), "PRAGMA integrity_check",
                                           -1, &stmt, NULL), ==, SQLITE_OK);
      rc = sqlite3_step (stmt);
      g_assert_cmpint (rc, !=, SQLITE_ROW);
      kh_sqlite_set_error (&error, kh_store_get_db (store), "integrity_check");
      sqlite3_finalize (stmt);
      g_clear_object (&store);
    }
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_TAMPERED);
  g_assert_nonnull (strstr (error->message, "altered or damaged"));
  g_assert_cmpint (kh_crypt_vfs_take_failure (f->path), ==, KH_CRYPT_FAILURE_TAMPERED);
  after = snapshot (f->dir);
  g_hash_table_remove (after, "replica.db-wal");
  g_hash_table_remove (after, "replica.db-shm");
  assert_unchanged (before, after);
}

/* Without a keyring: the key is wrapped with a passphrase beside the replica. A wrong
 * passphrase is refused and changes nothing; without the key file the key is lost, and the
 * message says what that means. */
static void
test_passphrase (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) before = NULL;
  g_autoptr(GHashTable) after = NULL;
  g_autofree char *key_file = kh_crypt_key_file (f->path);
  g_autofree char *moved = g_strconcat (key_file, ".away", NULL);
  KhStore *store;

  g_assert_true (kh_crypt_unlock_passphrase (f->path, "bí mật của xã", &error));
  g_assert_no_error (error);
  g_assert_true (g_file_test (key_file, G_FILE_TEST_EXISTS));
  make_demo (f->path, 3000);
  g_assert_cmpint (kh_crypt_file_state (f->path), ==, KH_CRYPT_FILE_SEALED);
  kh_crypt_vfs_forget_key (f->path);

  /* Not opened without the key; not by a wrong passphrase. */
  before = snapshot (f->dir);
  store = kh_store_open (f->path, &error);
  g_assert_null (store);
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_KEY);
  g_clear_error (&error);
  g_assert_false (kh_crypt_unlock_passphrase (f->path, "bi mat cua xa", &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_KEY);
  g_assert_nonnull (strstr (error->message, "passphrase is wrong"));
  g_clear_error (&error);
  g_assert_false (kh_crypt_vfs_has_key (f->path));
  after = snapshot (f->dir);
  assert_unchanged (before, after);

  /* The key file lost: said honestly. */
  g_assert_cmpint (g_rename (key_file, moved), ==, 0);
  g_assert_false (kh_crypt_unlock_passphrase (f->path, "bí mật của xã", &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_KEY);
  g_assert_nonnull (strstr (error->message, "key is lost"));
  g_assert_nonnull (strstr (error->message, "not yet sent"));
  g_clear_error (&error);
  g_assert_cmpint (g_rename (moved, key_file), ==, 0);

  g_assert_true (kh_crypt_unlock_passphrase (f->path, "bí mật của xã", &error));
  g_assert_no_error (error);
  assert_opens_whole (f->path);
}

static int kill_at = -1;

static void
kill_hook (int stage)
{
  if (stage == kill_at)
    raise (SIGKILL);
}

/* A plain replica is sealed in place when it is opened with a key; killed at any step of it,
 * it loses nothing: it opens after, plain or sealed, with every record. */
static void
test_convert (Fixture       *f,
              gconstpointer  data)
{
  guint8 key[KH_CRYPT_KEY_BYTES];
  gint64 records;

  kh_crypt_key_generate (key);
  for (kill_at = 0; kill_at <= 7; kill_at++)
    {
      g_autoptr(GError) error = NULL;
      pid_t pid;
      int status;

      kh_crypt_vfs_forget_key (f->path);
      kh_test_rmdir (f->dir);
      g_mkdir_with_parents (f->tmp, 0700);
      {
        g_autoptr(KhStore) store = kh_store_open (f->path, &error);

        g_assert_no_error (error);
        g_assert_true (kh_demo_generate (store, 3000, 11, NULL, &error));
        collect_secrets (f, store, 5);
        records = kh_test_query_int (store, "SELECT count(*) FROM person");
      }
      {
        g_assert_cmpint (kh_crypt_file_state (f->path), ==, KH_CRYPT_FILE_PLAIN);
        /* Forked with no connection open, as SQLite asks. */
        pid = fork ();
        g_assert_cmpint (pid, >=, 0);
        if (pid == 0)
          {
            kh_crypt_set_convert_hook (kill_hook);
            kh_crypt_vfs_set_key (f->path, key);
            kh_store_open (f->path, NULL);
            _exit (0);
          }
        g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
      }
      if (kill_at <= 6)
        g_assert_true (WIFSIGNALED (status));
      else
        g_assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);

      /* Opened again, with the key: sealed now, every record there. */
      kh_crypt_vfs_set_key (f->path, key);
      {
        g_autoptr(KhStore) store = kh_store_open (f->path, &error);

        g_assert_no_error (error);
        g_assert_cmpint (kh_test_query_int (store, "SELECT count(*) FROM person"), ==, records);
        g_assert_cmpint (kh_test_query_int (store, "SELECT count(*) FROM pragma_integrity_check "
                                                   "WHERE integrity_check <> 'ok'"), ==, 0);
      }
      g_assert_cmpint (kh_crypt_file_state (f->path), ==, KH_CRYPT_FILE_SEALED);
      assert_no_secret_under (f, f->dir);
      g_ptr_array_set_size (f->secrets, 0);
    }
}

/* A sealed replica's connection keeps more pages opened than a plain one's: a page read again
 * is opened again (bench-crypt's lists took a quarter more CPU than on a plain replica). Not a
 * job's connection. */
static void
test_cache (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *plain_path = g_build_filename (f->dir, "plain.db", NULL);
  g_autoptr(KhStore) sealed = kh_store_open (f->path, &error);
  g_autoptr(KhStore) plain = NULL;

  g_assert_no_error (error);
  plain = kh_store_open (plain_path, &error);
  g_assert_no_error (error);
  g_assert_true (kh_crypt_vfs_is_sealed (kh_store_get_db (sealed)));
  g_assert_false (kh_crypt_vfs_is_sealed (kh_store_get_db (plain)));
  g_assert_cmpint (kh_test_query_int (sealed, "PRAGMA cache_size"), ==, -KH_CRYPT_CACHE_KIB);
  g_assert_cmpint (kh_test_query_int (plain, "PRAGMA cache_size"), >, -KH_CRYPT_CACHE_KIB);
  /* A job's connection on a worker thread reads each page about once: the plain cache, so the
   * window stays within its memory while the figures are read. */
  {
    g_autoptr(KhStore) job = kh_store_open_for_job (f->path, &error);

    g_assert_no_error (error);
    g_assert_true (kh_crypt_vfs_is_sealed (kh_store_get_db (job)));
    g_assert_cmpint (kh_test_query_int (job, "PRAGMA cache_size"), ==,
                     kh_test_query_int (plain, "PRAGMA cache_size"));
  }
  /* The sync engine's, the larger one of a pull. */
  {
    g_autoptr(KhStore) sync = kh_store_open_for_sync (f->path, &error);

    g_assert_no_error (error);
    g_assert_cmpint (kh_test_query_int (sync, "PRAGMA cache_size"), ==, -KH_CRYPT_SYNC_CACHE_KIB);
  }
  /* Pages read back opened in place are whole. */
  g_assert_true (kh_demo_generate (sealed, 3000, 7, NULL, &error));
  g_assert_no_error (error);
  g_clear_object (&sealed);
  assert_opens_whole (f->path);
}

/* The whole of file @path, read through the platform's VFS (no descriptor of our own while a
 * connection holds the file, see kh_crypt_vfs_peek()). */
static guint8 *
peek_all (const char    *path,
          sqlite3_int64 *size)
{
  GStatBuf st;
  guint8 *buf;

  g_assert_cmpint (g_stat (path, &st), ==, 0);
  buf = g_malloc0 (st.st_size + 1);
  g_assert_true (kh_crypt_vfs_peek (path, buf, st.st_size, size));
  g_assert_cmpint (*size, ==, st.st_size);
  return buf;
}

/* A checkpoint carries each page from the WAL to the database sealed as it is: nothing is
 * opened or sealed again (a first pull checkpoints every page it writes, and opening each
 * was a sixth of what sealing cost it), the database's page is its WAL frame's byte for
 * byte, and the database then opens whole. */
static void
test_checkpoint (Fixture       *f,
                 gconstpointer  data)
{
  g_autofree char *wal_path = g_strconcat (f->path, "-wal", NULL);
  g_autofree guint8 *wal = NULL;
  g_autofree guint8 *file = NULL;
  g_autoptr(GHashTable) last = g_hash_table_new (NULL, NULL);  /* page number → its last frame */
  GHashTableIter iter;
  gpointer pgno, frame;
  sqlite3_int64 wal_size = 0, file_size = 0;
  guint64 sealed0, opened0, sealed1, opened1;
  sqlite3 *db = NULL;
  int log = 0, copied = 0;

  g_ptr_array_add (f->secrets, g_strdup ("Pi Năng Thị Hồng Nhung"));
  g_assert_cmpint (kh_sqlite_open (f->path, &db, TRUE), ==, SQLITE_OK);
  g_assert_true (kh_sqlite_exec (db, "PRAGMA journal_mode = WAL;"
                                     "PRAGMA wal_autocheckpoint = 0;"
                                     "CREATE TABLE t (name TEXT);"
                                     "WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) "
                                     "INSERT INTO t SELECT 'Pi Năng Thị Hồng Nhung ' || i FROM n;"
                                     "UPDATE t SET name = name || ' ' WHERE rowid % 7 = 0;", NULL));

  kh_crypt_vfs_counts (&sealed0, &opened0);
  g_assert_cmpint (sqlite3_wal_checkpoint_v2 (db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &copied),
                   ==, SQLITE_OK);
  kh_crypt_vfs_counts (&sealed1, &opened1);
  g_assert_cmpint (log, >, 20);
  g_assert_cmpint (copied, ==, log);
  g_assert_cmpuint (sealed1, ==, sealed0);
  g_assert_cmpuint (opened1, ==, opened0);

  /* Byte for byte: each page's last frame in the WAL is the database's page. */
  wal = peek_all (wal_path, &wal_size);
  file = peek_all (f->path, &file_size);
  g_assert_cmpint (wal_size, ==, 32 + (sqlite3_int64) log * (24 + 4096));
  for (int i = 0; i < log; i++)
    {
      const guint8 *h = wal + 32 + (gsize) i * (24 + 4096);
      guint32 n = (guint32) h[0] << 24 | (guint32) h[1] << 16 | (guint32) h[2] << 8 | h[3];

      g_hash_table_insert (last, GUINT_TO_POINTER (n), (gpointer) (h + 24));
    }
  g_hash_table_iter_init (&iter, last);
  while (g_hash_table_iter_next (&iter, &pgno, &frame))
    {
      g_assert_cmpint ((GPOINTER_TO_UINT (pgno)) * 4096, <=, file_size);
      g_assert_cmpmem (file + (GPOINTER_TO_UINT (pgno) - 1) * 4096, 4096, frame, 4096);
    }
  sqlite3_close (db);
  assert_no_secret_under (f, f->dir);

  /* Every page carried opens where it was put. */
  g_assert_cmpint (kh_sqlite_open (f->path, &db, FALSE), ==, SQLITE_OK);
  {
    sqlite3_stmt *stmt = NULL;

    g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT count(*), sum(length(name)) FROM t", -1, &stmt, NULL),
                     ==, SQLITE_OK);
    g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
    g_assert_cmpint (sqlite3_column_int (stmt, 0), ==, 3000);
    sqlite3_finalize (stmt);
    g_assert_cmpint (sqlite3_prepare_v2 (db, "PRAGMA integrity_check", -1, &stmt, NULL), ==, SQLITE_OK);
    g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
    g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 0), ==, "ok");
    sqlite3_finalize (stmt);
  }
  sqlite3_close (db);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  /* These tests give keys themselves. */
  g_unsetenv ("KHUYENHOC_PASSPHRASE");

  g_test_add ("/data/crypt/sealed-files", Fixture, NULL, fixture_setup, test_sealed_files, fixture_teardown);
  g_test_add ("/data/crypt/journal", Fixture, NULL, fixture_setup, test_journal, fixture_teardown);
  g_test_add ("/data/crypt/wrong-key", Fixture, NULL, fixture_setup, test_wrong_key, fixture_teardown);
  g_test_add ("/data/crypt/tampered", Fixture, NULL, fixture_setup, test_tampered, fixture_teardown);
  g_test_add ("/data/crypt/passphrase", Fixture, "no key", fixture_setup, test_passphrase, fixture_teardown);
  g_test_add ("/data/crypt/convert", Fixture, "no key", fixture_setup, test_convert, fixture_teardown);
  g_test_add ("/data/crypt/cache", Fixture, NULL, fixture_setup, test_cache, fixture_teardown);
  g_test_add ("/data/crypt/checkpoint", Fixture, NULL, fixture_setup, test_checkpoint, fixture_teardown);
  return g_test_run ();
}
