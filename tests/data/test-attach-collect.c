/* test-attach-collect.c: the local files of removed attachments
 *
 * What is proved: a file two records share stays while one of them still has it and goes
 * with the last; a file the server lacks stays while its attachment can be restored from the
 * Trash, and opens after the restore; a record forgotten by the replica takes its attachments'
 * needs with it; a SIGKILL between the tombstone's commit and the file's removal leaves a file
 * that the next collection of the folder removes, as it removes a download and a copy left
 * half written and a file no attachment names; a file still needed is never removed.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kh-attach.h"
#include "kh-sqlite.h"
#include "kh-store-sql.h"
#include "kh-test-store.h"

typedef struct
{
  char    *dir;
  KhStore *store;
  char    *person1;
  char    *person2;
} Fixture;

static char *
add_person (KhStore    *store,
            const char *name)
{
  g_autoptr(GError) error = NULL;
  json_object *values = kh_test_valid_record (kh_entity_lookup ("person"), store, FALSE);
  char *id;

  json_object_object_add (values, "full_name", json_object_new_string (name));
  id = kh_store_create (store, "person", values, &error);
  g_assert_no_error (error);
  json_object_put (values);
  return id;
}

static void
set_up (Fixture       *f,
        gconstpointer  data)
{
  f->dir = kh_test_tmpdir ();
  f->store = kh_test_open_store (f->dir, "replica.db");
  f->person1 = add_person (f->store, "Trần Văn Bình");
  f->person2 = add_person (f->store, "Lê Thị Cúc");
}

static void
tear_down (Fixture       *f,
           gconstpointer  data)
{
  g_clear_object (&f->store);
  kh_test_rmdir (f->dir);
  g_free (f->dir);
  g_free (f->person1);
  g_free (f->person2);
}

/* A small JPEG-looking file; its SHA-256 in *@sha256. */
static char *
make_file (Fixture    *f,
           const char *name,
           guint32     seed,
           char      **sha256)
{
  guint8 data[3000];
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  char *path = g_build_filename (f->dir, name, NULL);

  for (gsize i = 0; i < sizeof data; i++)
    data[i] = (guint8) g_rand_int (rand);
  data[0] = 0xff;
  data[1] = 0xd8;
  data[2] = 0xff;
  g_assert_true (g_file_set_contents (path, (const char *) data, sizeof data, NULL));
  *sha256 = g_compute_checksum_for_data (G_CHECKSUM_SHA256, data, sizeof data);
  return path;
}

static char *
attach (Fixture    *f,
        const char *owner,
        const char *path)
{
  g_autoptr(GError) error = NULL;
  char *id = kh_attach_add (f->store, "person", owner, path, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (id);
  return id;
}

static char *
local_path (Fixture    *f,
            const char *name)
{
  g_autofree char *dir = kh_attach_dir (f->store);

  return g_build_filename (dir, name, NULL);
}

static gboolean
file_here (Fixture    *f,
           const char *name)
{
  g_autofree char *path = local_path (f, name);

  return g_file_test (path, G_FILE_TEST_EXISTS);
}

static gint64
noted (Fixture    *f,
       const char *sha256)
{
  g_autoptr(GError) error = NULL;
  sqlite3_stmt *stmt = kh_store_prepare (f->store, "SELECT count(*) FROM attachment_file WHERE sha256 = ?1", &error);
  gint64 n;

  g_assert_no_error (error);
  sqlite3_bind_text (stmt, 1, sha256, -1, SQLITE_TRANSIENT);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  n = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return n;
}

/* Two records share one file: it stays with the first detach, goes with the second. The
 * server has it (marked so, as an upload does), so nothing is lost with it. */
static void
test_shared (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *sha = NULL;
  g_autofree char *other_sha = NULL;
  g_autofree char *path = make_file (f, "danh-sach.jpg", 1, &sha);
  g_autofree char *other = make_file (f, "bien-lai.jpg", 2, &other_sha);
  g_autofree char *a1 = attach (f, f->person1, path);
  g_autofree char *a2 = attach (f, f->person2, path);
  g_autofree char *a3 = attach (f, f->person2, other);

  g_assert_true (kh_attach_mark_uploaded (f->store, sha, &error));
  g_assert_true (kh_attach_mark_uploaded (f->store, other_sha, &error));
  g_assert_true (file_here (f, sha));

  g_assert_true (kh_attach_remove (f->store, a1, &error));
  g_assert_no_error (error);
  g_assert_true (file_here (f, sha));
  g_assert_cmpint (noted (f, sha), ==, 1);

  g_assert_true (kh_attach_remove (f->store, a2, &error));
  g_assert_false (file_here (f, sha));
  g_assert_cmpint (noted (f, sha), ==, 0);
  /* The other file, still attached, is untouched, by the file's collection and the folder's. */
  g_assert_true (file_here (f, other_sha));
  g_assert_true (kh_attach_collect (f->store, NULL, NULL, &error));
  g_assert_true (file_here (f, other_sha));
  g_assert_true (kh_attach_has_file (f->store, other_sha));
}

/* A file the server does not have yet stays while its attachment is in the Trash: restored,
 * the attachment still opens. */
static void
test_not_sent_kept_for_trash (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *sha = NULL;
  g_autofree char *path = make_file (f, "quyet-dinh.jpg", 3, &sha);
  g_autofree char *a = attach (f, f->person1, path);
  g_autoptr(GBytes) bytes = NULL;

  g_assert_true (kh_attach_remove (f->store, a, &error));
  g_assert_true (kh_attach_collect (f->store, NULL, NULL, &error));
  g_assert_true (file_here (f, sha));
  g_assert_true (kh_store_restore (f->store, "attachment", a, &error));
  bytes = kh_attach_read (f->store, sha, 0, 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (bytes), ==, 10);
}

/* The owner gone from the replica (forgotten after the server purged it): its attachments no
 * longer need their files. While the owner is only deleted, they do (it can be restored). */
static void
test_owner_gone (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *sha = NULL;
  g_autofree char *path = make_file (f, "ho-so.jpg", 4, &sha);
  g_autofree char *a = attach (f, f->person1, path);
  g_autofree char *sql = g_strdup_printf ("DELETE FROM person WHERE id = '%s'", f->person1);
  guint removed = 0;

  g_assert_true (kh_attach_mark_uploaded (f->store, sha, &error));
  g_assert_true (kh_store_delete (f->store, "person", f->person1, &error));
  g_assert_true (kh_attach_collect (f->store, NULL, &removed, &error));
  g_assert_cmpuint (removed, ==, 0);
  g_assert_true (file_here (f, sha));

  g_assert_cmpint (sqlite3_exec (kh_store_get_db (f->store), sql, NULL, NULL, NULL), ==, SQLITE_OK);
  g_assert_true (kh_attach_collect (f->store, NULL, &removed, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (removed, ==, 1);
  g_assert_false (file_here (f, sha));
}

/* SIGKILL right after the tombstone commits, before the file goes: the file stays, needed by
 * nothing, and the next collection of the folder removes it, with what other kills left. */
static void
test_killed_in_between (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *sha = NULL;
  g_autofree char *kept_sha = NULL;
  g_autofree char *stray_sha = NULL;
  g_autofree char *lost_sha = NULL;
  g_autofree char *path = make_file (f, "phieu-chi.jpg", 5, &sha);
  g_autofree char *kept = make_file (f, "con-lai.jpg", 6, &kept_sha);
  g_autofree char *a = attach (f, f->person1, path);
  g_autofree char *b = attach (f, f->person2, kept);
  g_autofree char *db = g_strdup (kh_store_get_path (f->store));
  g_autofree char *tmp = local_path (f, "tmp-0123456789abcdef");
  g_autofree char *part = NULL;
  g_autofree char *stray = NULL;
  g_autofree char *lost_file = NULL;
  guint removed = 0;
  int status = 0;
  pid_t pid;

  g_assert_true (kh_attach_mark_uploaded (f->store, sha, &error));
  g_assert_true (kh_attach_mark_uploaded (f->store, kept_sha, &error));
  /* The child opens the replica itself; this connection is not carried across the fork. */
  g_clear_object (&f->store);
  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      KhStore *store = kh_store_open (db, NULL);

      if (store == NULL || !kh_store_delete (store, "attachment", a, NULL))
        _exit (3);
      kill (getpid (), SIGKILL);
      _exit (4);
    }
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
  f->store = kh_test_open_store (f->dir, "replica.db");
  g_assert_true (file_here (f, sha));

  /* What other kills leave: a copy half kept, a download of a file nobody names, a file
   * no attachment names, and a note of a file already removed. */
  g_assert_true (g_file_set_contents (tmp, "half", -1, NULL));
  lost_sha = g_compute_checksum_for_string (G_CHECKSUM_SHA256, "lost", -1);
  stray_sha = g_compute_checksum_for_string (G_CHECKSUM_SHA256, "stray", -1);
  part = g_strconcat (lost_sha, ".part", NULL);
  lost_file = local_path (f, part);
  stray = local_path (f, stray_sha);
  g_assert_true (g_file_set_contents (lost_file, "part", -1, NULL));
  g_assert_true (g_file_set_contents (stray, "stray", -1, NULL));
  g_assert_true (kh_attach_want (f->store, lost_sha, FALSE, &error));

  g_assert_true (kh_attach_collect (f->store, NULL, &removed, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (removed, ==, 2);
  g_assert_false (file_here (f, sha));
  g_assert_false (g_file_test (tmp, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (lost_file, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (stray, G_FILE_TEST_EXISTS));
  g_assert_cmpint (noted (f, sha), ==, 0);
  g_assert_cmpint (noted (f, lost_sha), ==, 0);
  /* The file still attached is there, whole. */
  g_assert_true (kh_attach_has_file (f->store, kept_sha));
  g_assert_cmpint (noted (f, kept_sha), ==, 1);
  (void) b;
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/data/attach-collect/shared", Fixture, NULL, set_up, test_shared, tear_down);
  g_test_add ("/data/attach-collect/not-sent-kept-for-trash", Fixture, NULL, set_up, test_not_sent_kept_for_trash,
              tear_down);
  g_test_add ("/data/attach-collect/owner-gone", Fixture, NULL, set_up, test_owner_gone, tear_down);
  g_test_add ("/data/attach-collect/killed-in-between", Fixture, NULL, set_up, test_killed_in_between, tear_down);
  return g_test_run ();
}
