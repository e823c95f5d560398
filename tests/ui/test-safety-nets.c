/* test-safety-nets.c: the Trash page and the Backups page of the Preferences
 *
 * - the Trash lists the records deleted in the last months (not older ones), and its Restore
 *   button puts a record back in one click;
 * - the Backups page lists the replica's backups, and a restore puts the records of one back.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>
#include <locale.h>

#include "kh-backups-page.h"
#include "kh-entity.h"
#include "kh-store-backup.h"
#include "kh-store-sql.h"
#include "kh-test-store.h"
#include "kh-trash-page.h"

static char *
add_person (KhStore *store)
{
  g_autoptr(GError) error = NULL;
  json_object *values = kh_test_valid_record (kh_entity_lookup ("person"), store, FALSE);
  char *id = kh_store_create (store, "person", values, &error);

  g_assert_no_error (error);
  json_object_put (values);
  return id;
}

static gboolean
is_deleted (KhStore    *store,
            const char *id)
{
  g_autoptr(GError) error = NULL;
  json_object *record = kh_store_get (store, "person", id, &error);
  gboolean deleted;

  g_assert_no_error (error);
  deleted = json_object_get_boolean (json_object_object_get (record, "deleted"));
  json_object_put (record);
  return deleted;
}

static void
loaded_cb (GtkWidget *page,
           gboolean  *loaded)
{
  *loaded = TRUE;
}

/* The first button under @widget, depth first. */
static GtkWidget *
find_button (GtkWidget *widget)
{
  if (GTK_IS_BUTTON (widget) && gtk_widget_get_mapped (widget))
    return widget;
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_button (c);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static void
test_trash (void)
{
  g_autofree char *dir = kh_test_tmpdir ();
  g_autoptr(KhStore) store = kh_test_open_store (dir, "replica.db");
  g_autoptr(GError) error = NULL;
  g_autofree char *kept = add_person (store);
  g_autofree char *recent = add_person (store);
  g_autofree char *old = add_person (store);
  g_autofree char *sql = NULL;
  GtkWidget *window = gtk_window_new ();
  GtkWidget *overlay = adw_toast_overlay_new ();
  GtkWidget *page = kh_trash_page_new (store);
  gboolean loaded = FALSE;
  GtkWidget *button;

  g_assert_true (kh_store_delete (store, "person", recent, &error));
  g_assert_true (kh_store_delete (store, "person", old, &error));
  /* Deleted long before the Trash's months. */
  sql = g_strdup_printf ("UPDATE person SET updated_at = '2020-01-01T00:00:00.000Z' WHERE id = '%s'", old);
  g_assert_cmpint (sqlite3_exec (kh_store_get_db (store), sql, NULL, NULL, NULL), ==, SQLITE_OK);

  g_signal_connect (page, "loaded", G_CALLBACK (loaded_cb), &loaded);
  adw_toast_overlay_set_child (ADW_TOAST_OVERLAY (overlay), page);
  gtk_window_set_child (GTK_WINDOW (window), overlay);
  gtk_window_present (GTK_WINDOW (window));
  while (!loaded)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (kh_trash_page_get_n_items (KH_TRASH_PAGE (page)), ==, 1);

  /* One click. */
  button = find_button (page);
  g_assert_nonnull (button);
  g_signal_emit_by_name (button, "clicked");
  g_assert_false (is_deleted (store, recent));
  g_assert_true (is_deleted (store, old));
  g_assert_false (is_deleted (store, kept));
  g_assert_cmpuint (kh_trash_page_get_n_items (KH_TRASH_PAGE (page)), ==, 0);

  /* Shown again, it reads the store again. */
  g_assert_true (kh_store_delete (store, "person", kept, &error));
  loaded = FALSE;
  kh_trash_page_reload (KH_TRASH_PAGE (page));
  while (!loaded)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (kh_trash_page_get_n_items (KH_TRASH_PAGE (page)), ==, 1);

  gtk_window_destroy (GTK_WINDOW (window));
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_clear_object (&store);
  kh_test_rmdir (dir);
}

static void
restored_cb (GtkWidget *page,
             int       *count)
{
  (*count)++;
}

static void
test_backups (void)
{
  g_autofree char *dir = kh_test_tmpdir ();
  g_autoptr(KhStore) store = kh_test_open_store (dir, "replica.db");
  g_autoptr(GError) error = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GDateTime) yesterday = g_date_time_add_days (now, -1);
  g_autofree char *first = add_person (store);
  g_autofree char *made = NULL;
  g_autofree char *second = NULL;
  g_autoptr(GPtrArray) list = NULL;
  GtkWidget *page;
  int restored = 0;

  g_assert_true (kh_store_backup_auto (kh_store_get_path (store), yesterday, FALSE, 7, &made, &error));
  g_clear_pointer (&made, g_free);
  second = add_person (store);
  g_assert_true (kh_store_backup_auto (kh_store_get_path (store), now, FALSE, 7, &made, &error));
  g_assert_no_error (error);

  page = g_object_ref_sink (kh_backups_page_new (store));
  g_signal_connect (page, "restored", G_CALLBACK (restored_cb), &restored);
  g_assert_cmpuint (kh_backups_page_get_n_rows (KH_BACKUPS_PAGE (page)), ==, 2);

  /* Yesterday's: the second person is not in it. */
  list = kh_store_backup_list (kh_store_get_path (store));
  g_assert_true (kh_backups_page_restore (KH_BACKUPS_PAGE (page), list->pdata[1], &error));
  g_assert_no_error (error);
  g_assert_cmpint (restored, ==, 1);
  g_assert_cmpint (kh_test_count (store, "person"), ==, 1);
  g_assert_false (is_deleted (store, first));
  /* Today's brings it back. */
  g_assert_true (kh_backups_page_restore (KH_BACKUPS_PAGE (page), list->pdata[0], &error));
  g_assert_cmpint (kh_test_count (store, "person"), ==, 2);
  g_assert_false (is_deleted (store, second));

  g_assert_finalize_object (page);
  g_clear_object (&store);
  kh_test_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  setlocale (LC_ALL, "");
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  g_test_add_func ("/ui/safety-nets/trash", test_trash);
  g_test_add_func ("/ui/safety-nets/backups", test_backups);
  return g_test_run ();
}
