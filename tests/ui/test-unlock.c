/* test-unlock.c: without a keyring, the window asks for the passphrase of its replica's key
 *
 * A new replica: a dialog asks for a new passphrase, twice; two that differ are refused and
 * asked again; then the key is made, wrapped in the key file, and given to the store. Opened
 * again: one passphrase; a wrong one is said and asked again; the right one opens. Quitting the
 * dialog opens nothing. A replica whose key is lost is explained, and not opened.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "kh-crypt-key.h"
#include "kh-crypt-vfs.h"
#include "kh-store.h"
#include "kh-test-dir.h"
#include "kh-unlock.h"

static int result;
static GtkWidget *answered;

static void
done_cb (gboolean opened,
         gpointer data)
{
  result = opened ? 1 : 2;
}

static AdwMessageDialog *
find_dialog (const char *name)
{
  GListModel *toplevels = gtk_window_get_toplevels ();  /* not ours */

  /* The newest one: an answered dialog may not be gone yet. */
  for (int spins = 0; spins < 100; spins++)
    {
      for (guint i = g_list_model_get_n_items (toplevels); i > 0; i--)
        {
          g_autoptr(GtkWidget) w = g_list_model_get_item (toplevels, i - 1);

          if (ADW_IS_MESSAGE_DIALOG (w) && gtk_widget_get_visible (w) && w != answered
              && (name == NULL || g_strcmp0 (gtk_widget_get_name (w), name) == 0))
            return ADW_MESSAGE_DIALOG (w);
        }
      g_main_context_iteration (NULL, FALSE);
    }
  return NULL;
}

/* Types @texts into the dialog's passphrase entries and answers @response. */
static void
answer (const char  *response,
        const char **texts)
{
  AdwMessageDialog *dialog = find_dialog ("unlock-dialog");
  GtkWidget *box;
  GtkWidget *entry;
  guint n = 0;

  g_assert_nonnull (dialog);
  box = adw_message_dialog_get_extra_child (dialog);
  for (entry = gtk_widget_get_first_child (box); entry != NULL; entry = gtk_widget_get_next_sibling (entry))
    gtk_editable_set_text (GTK_EDITABLE (entry), texts[n++]);
  g_assert_null (texts[n]);
  /* The dialog closes itself once answered. */
  answered = GTK_WIDGET (dialog);
  adw_message_dialog_response (dialog, response);
  for (int i = 0; i < 10; i++)
    g_main_context_iteration (NULL, FALSE);
}

static void
test_unlock (void)
{
  g_autoptr(GtkApplication) app = gtk_application_new ("vn.khuyenhoc.KhuyenHoc.TestUnlock",
                                                       G_APPLICATION_NON_UNIQUE);
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = kh_test_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "replica.db", NULL);
  g_autofree char *key_file = kh_crypt_key_file (path);
  AdwMessageDialog *dialog;

  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);
  adw_init ();

  /* New: two passphrases that differ are refused; the same twice make the key. */
  result = 0;
  kh_unlock_replica (app, path, done_cb, NULL);
  answer ("open", (const char *[]) { "mật khẩu xã", "mat khau xa", NULL });
  g_assert_cmpint (result, ==, 0);
  g_assert_false (g_file_test (key_file, G_FILE_TEST_EXISTS));
  answer ("open", (const char *[]) { "mật khẩu xã", "mật khẩu xã", NULL });
  g_assert_cmpint (result, ==, 1);
  g_assert_true (g_file_test (key_file, G_FILE_TEST_EXISTS));
  g_assert_true (kh_crypt_vfs_has_key (path));
  {
    g_autoptr(KhStore) store = kh_store_open (path, &error);

    g_assert_no_error (error);
  }
  g_assert_cmpint (kh_crypt_file_state (path), ==, KH_CRYPT_FILE_SEALED);

  /* Again, as after a restart: a wrong passphrase is said and asked again. */
  kh_crypt_vfs_forget_key (path);
  result = 0;
  kh_unlock_replica (app, path, done_cb, NULL);
  answer ("open", (const char *[]) { "mat khau xa", NULL });
  g_assert_cmpint (result, ==, 0);
  dialog = find_dialog ("unlock-dialog");
  g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), "passphrase is wrong"));
  answer ("open", (const char *[]) { "mật khẩu xã", NULL });
  g_assert_cmpint (result, ==, 1);
  g_assert_true (kh_crypt_vfs_has_key (path));

  /* Quitting opens nothing. */
  kh_crypt_vfs_forget_key (path);
  result = 0;
  kh_unlock_replica (app, path, done_cb, NULL);
  answer ("cancel", (const char *[]) { "", NULL });
  g_assert_cmpint (result, ==, 2);
  g_assert_false (kh_crypt_vfs_has_key (path));

  /* The key file gone: the key is lost, and the message says what that means. */
  g_assert_cmpint (g_unlink (key_file), ==, 0);
  result = 0;
  kh_unlock_replica (app, path, done_cb, NULL);
  g_assert_cmpint (result, ==, 2);
  dialog = find_dialog (NULL);
  g_assert_nonnull (dialog);
  g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), "key is lost"));
  gtk_window_destroy (GTK_WINDOW (dialog));
  kh_test_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  gtk_test_init (&argc, &argv, NULL);
  /* As on a computer without a keyring, and without a script's passphrase. */
  g_setenv ("KHUYENHOC_TOKEN_STORE", "file", TRUE);
  g_unsetenv ("KHUYENHOC_PASSPHRASE");
  g_test_add_func ("/ui/unlock/passphrase", test_unlock);
  return g_test_run ();
}
