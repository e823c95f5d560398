/* test-store-backup.c: the replica's automatic backups and restoring one
 *
 * - a backup is due once a day, named after its time, mode 0600, and only the newest are kept;
 * - a backup made while another connection writes is sound and of one moment;
 * - a restore puts back exactly the records of the backup, and the store goes on working;
 * - a damaged file or a backup of another replica is refused, and nothing changes.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gstdio.h>
#include <sys/stat.h>

#include "kh-entity.h"
#include "kh-error.h"
#include "kh-store-backup.h"
#include "kh-test-store.h"

static char *
add_person (KhStore *store)
{
  g_autoptr(GError) error = NULL;
  const KhEntity *person = kh_entity_lookup ("person");
  json_object *values = kh_test_valid_record (person, store, FALSE);
  char *id = kh_store_create (store, "person", values, &error);

  g_assert_no_error (error);
  json_object_put (values);
  return id;
}

static void
test_auto (void)
{
  g_autofree char *dir = kh_test_tmpdir ();
  g_autoptr(KhStore) store = kh_test_open_store (dir, "replica.db");
  const char *path = kh_store_get_path (store);
  g_autoptr(GDateTime) t0 = g_date_time_new_utc (2026, 12, 1, 8, 0, 0);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = NULL;
  char *made = NULL;
  struct stat st;

  g_free (add_person (store));
  g_assert_true (kh_store_backup_auto (path, t0, FALSE, 3, &made, &error));
  g_assert_no_error (error);
  g_assert_nonnull (made);
  g_assert_true (g_str_has_suffix (made, "replica.db-backups/replica-20261201T080000Z.db"));
  g_assert_cmpint (g_stat (made, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  /* A sealed replica's backup is sealed with the same key: no record reads out of it. */
  {
    g_autoptr(KhStore) copy = NULL;
    g_autofree char *contents = NULL;
    gsize len = 0;
    const char *name = "Nguyễn Thị Backup";
    json_object *values = kh_test_valid_record (kh_entity_lookup ("person"), store, FALSE);
    json_object *got;
    g_autofree char *id = NULL;

    json_object_object_add (values, "full_name", json_object_new_string (name));
    id = kh_store_create (store, "person", values, &error);
    g_assert_no_error (error);
    json_object_put (values);
    g_autoptr(GDateTime) later = g_date_time_add_minutes (t0, 1);

    g_clear_pointer (&made, g_free);
    g_assert_true (kh_store_backup_auto (path, later, TRUE, 3, &made, &error));
    g_assert_no_error (error);
    g_assert_true (g_file_get_contents (made, &contents, &len, NULL));
    if (g_getenv ("KHUYENHOC_PASSPHRASE") != NULL)
      for (gsize i = 0; i + strlen (name) <= len; i++)
        g_assert_false (memcmp (contents + i, name, strlen (name)) == 0);
    copy = kh_store_open (made, &error);
    g_assert_no_error (error);
    got = kh_store_get (copy, "person", id, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (json_object_get_string (json_object_object_get (got, "full_name")), ==, name);
    json_object_put (got);
    g_clear_object (&copy);
    g_assert_cmpint (g_unlink (made), ==, 0);
  }
  g_clear_pointer (&made, g_free);

  /* Not again the same day. */
  for (int hours = 1; hours < 24; hours += 11)
    {
      g_autoptr(GDateTime) t = g_date_time_add_hours (t0, hours);

      g_assert_true (kh_store_backup_auto (path, t, FALSE, 3, &made, &error));
      g_assert_null (made);
    }
  /* A day later, and the next days: three kept, the newest first. */
  for (int day = 1; day <= 4; day++)
    {
      g_autoptr(GDateTime) t = g_date_time_add_hours (t0, 24 * day);

      g_assert_true (kh_store_backup_auto (path, t, FALSE, 3, &made, &error));
      g_assert_nonnull (made);
      g_clear_pointer (&made, g_free);
    }
  list = kh_store_backup_list (path);
  g_assert_cmpuint (list->len, ==, 3);
  g_assert_true (g_str_has_suffix (list->pdata[0], "replica-20261205T080000Z.db"));
  g_assert_true (g_str_has_suffix (list->pdata[2], "replica-20261203T080000Z.db"));
  {
    g_autoptr(GDateTime) when = kh_store_backup_time (list->pdata[1]);
    g_autoptr(GDateTime) expected = g_date_time_add_hours (t0, 72);

    g_assert_true (g_date_time_equal (when, expected));
  }
  /* Asked for (Back up now), one is made at once. */
  {
    g_autoptr(GDateTime) t = g_date_time_add_hours (t0, 24 * 4 + 1);

    g_assert_true (kh_store_backup_auto (path, t, TRUE, 3, &made, &error));
    g_assert_nonnull (made);
    g_clear_pointer (&made, g_free);
  }
  g_clear_object (&store);
  kh_test_rmdir (dir);
}

typedef struct
{
  char  *path;
  gint   stop;
  guint  written;
} Writer;

static gpointer
writer_thread (gpointer data)
{
  Writer *w = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(KhStore) store = kh_store_open (w->path, &error);

  g_assert_no_error (error);
  kh_store_set_actor (store, "writer");
  while (!g_atomic_int_get (&w->stop))
    {
      g_free (add_person (store));
      w->written++;
    }
  return NULL;
}

static void
test_restore (void)
{
  g_autofree char *dir = kh_test_tmpdir ();
  g_autoptr(KhStore) store = kh_test_open_store (dir, "replica.db");
  g_autoptr(KhStore) other = kh_test_open_store (dir, "other.db");
  g_autoptr(GError) error = NULL;
  g_autofree char *backup = g_build_filename (dir, "copy.db", NULL);
  g_autofree char *foreign = g_build_filename (dir, "foreign.db", NULL);
  g_autofree char *damaged = g_build_filename (dir, "damaged.db", NULL);
  g_autofree char *kept = NULL;
  g_autofree char *added = NULL;
  json_object *got = NULL;
  g_autofree char *partial = NULL;
  Writer w = { NULL, 0, 0 };
  GThread *thread;
  gint64 people, outbox;

  for (int i = 0; i < 20; i++)
    g_free (add_person (store));
  kept = add_person (store);

  /* Backed up while another connection writes. */
  w.path = (char *) kh_store_get_path (store);
  thread = g_thread_new ("writer", writer_thread, &w);
  while (g_atomic_int_get ((gint *) &w.written) < 5)
    g_usleep (1000);
  g_assert_true (kh_store_backup_file (kh_store_get_path (store), backup, &error));
  g_assert_no_error (error);
  g_atomic_int_set (&w.stop, 1);
  g_thread_join (thread);
  partial = g_strconcat (backup, ".partial", NULL);
  g_assert_false (g_file_test (partial, G_FILE_TEST_EXISTS));
  people = kh_test_count (store, "person");
  g_assert_cmpint (people, ==, 21 + (gint64) w.written);

  /* What the backup holds: its counts are those of one moment (each person has its outbox
   * entry, written in the same transaction). */
  {
    g_autoptr(KhStore) copy = kh_store_open (backup, &error);

    g_assert_no_error (error);
    g_assert_cmpint (kh_test_count (copy, "person"), >=, 21 + 5);
    g_assert_cmpint (kh_test_query_int (copy, "SELECT count(*) FROM outbox WHERE entity = 'person'"), ==,
                     kh_test_count (copy, "person"));
    people = kh_test_count (copy, "person");
    outbox = kh_store_count_pending (copy);
    g_assert_cmpstr (kh_store_get_replica_id (copy), ==, kh_store_get_replica_id (store));
  }

  /* Then a delete and a new record, undone by the restore. */
  g_assert_true (kh_store_delete (store, "person", kept, &error));
  added = add_person (store);
  g_assert_true (kh_store_restore_backup (store, backup, &error));
  g_assert_no_error (error);
  g_assert_cmpint (kh_test_count (store, "person"), ==, people);
  g_assert_cmpint (kh_store_count_pending (store), ==, outbox);
  got = kh_store_get (store, "person", kept, &error);
  g_assert_no_error (error);
  g_assert_nonnull (got);
  json_object_put (got);
  g_assert_null (kh_store_get (store, "person", added, NULL));
  /* And the store goes on: a new record, and the other connection sees it all. */
  g_free (add_person (store));
  {
    g_autoptr(KhStore) again = kh_store_open (kh_store_get_path (store), &error);

    g_assert_no_error (error);
    g_assert_cmpint (kh_test_count (again, "person"), ==, people + 1);
  }

  /* Refused: another replica's backup, and a damaged file; nothing changes. */
  g_assert_true (kh_store_backup_file (kh_store_get_path (other), foreign, &error));
  g_assert_false (kh_store_restore_backup (store, foreign, &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
  g_clear_error (&error);
  {
    static const char header[] = "SQLite format 3\0 and then not a database";

    g_assert_true (g_file_set_contents (damaged, header, sizeof header - 1, NULL));
  }
  g_assert_false (kh_store_restore_backup (store, damaged, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_cmpint (kh_test_count (store, "person"), ==, people + 1);

  g_clear_object (&store);
  g_clear_object (&other);
  kh_test_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/data/store/backup/auto", test_auto);
  g_test_add_func ("/data/store/backup/restore", test_restore);
  return g_test_run ();
}
