/* kh-backups-page.c: the Preferences page of the replica's backups, each restorable
 *
 * The backups are made by kh-auto-backup.c (daily) or by "Back up now"; a restore asks first,
 * says what is lost (changes not sent since), and then the window is opened afresh on the
 * restored replica ("restored").
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <glib/gstdio.h>

#include "kh-backups-page.h"
#include "kh-format.h"
#include "kh-store-backup.h"

struct _KhBackupsPage
{
  AdwPreferencesPage   parent_instance;

  KhStore             *store;
  AdwPreferencesGroup *group;
  GPtrArray           *rows;
};

G_DEFINE_FINAL_TYPE (KhBackupsPage, kh_backups_page, ADW_TYPE_PREFERENCES_PAGE)

enum
{
  SIGNAL_RESTORED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
toast (KhBackupsPage *self,
       const char    *text)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (ADW_IS_PREFERENCES_WINDOW (root))
    adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (root), adw_toast_new (text));
}

gboolean
kh_backups_page_restore (KhBackupsPage  *self,
                         const char     *path,
                         GError        **error)
{
  g_return_val_if_fail (KH_IS_BACKUPS_PAGE (self), FALSE);

  if (!kh_store_restore_backup (self->store, path, error))
    return FALSE;
  g_signal_emit (self, signals[SIGNAL_RESTORED], 0);
  return TRUE;
}

static void
confirm_cb (AdwMessageDialog *dialog,
            const char       *response,
            KhBackupsPage    *self)
{
  const char *path = g_object_get_data (G_OBJECT (dialog), "path");
  g_autoptr(GError) error = NULL;

  if (g_strcmp0 (response, "restore") != 0)
    return;
  if (!kh_backups_page_restore (self, path, &error))
    toast (self, error->message);
}

/* "Monday 07/12/2026 08:00" in local time. */
static char *
backup_label (const char *path)
{
  g_autoptr(GDateTime) utc = kh_store_backup_time (path);
  g_autoptr(GDateTime) local = utc != NULL ? g_date_time_to_local (utc) : NULL;

  return local != NULL ? g_date_time_format (local, "%A %d/%m/%Y %H:%M") : g_path_get_basename (path);
}

static void
restore_clicked_cb (GtkButton     *button,
                    KhBackupsPage *self)
{
  const char *path = g_object_get_data (G_OBJECT (button), "path");
  g_autofree char *when = backup_label (path);
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWidget *dialog = adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                              _("Restore this backup?"), NULL);

  adw_message_dialog_format_body (ADW_MESSAGE_DIALOG (dialog),
                                  _("The records go back to how they were on %s. Changes sent to the "
                                    "server since then come back with the next sync; changes not sent "
                                    "yet are lost."), when);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _("_Cancel"),
                                    "restore", _("_Restore"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "restore",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_object_set_data_full (G_OBJECT (dialog), "path", g_strdup (path), g_free);
  g_signal_connect_object (dialog, "response", G_CALLBACK (confirm_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
back_up_now_cb (GtkButton     *button,
                KhBackupsPage *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *made = NULL;

  if (!kh_store_backup_auto (kh_store_get_path (self->store), now, TRUE, KH_STORE_BACKUPS_KEPT, &made, &error))
    {
      toast (self, error->message);
      return;
    }
  kh_backups_page_refresh (self);
  toast (self, _("Backed up."));
}

void
kh_backups_page_refresh (KhBackupsPage *self)
{
  g_autoptr(GPtrArray) list = kh_store_backup_list (kh_store_get_path (self->store));

  for (guint i = 0; i < self->rows->len; i++)
    adw_preferences_group_remove (self->group, self->rows->pdata[i]);
  g_ptr_array_set_size (self->rows, 0);
  for (guint i = 0; i < list->len; i++)
    {
      const char *path = list->pdata[i];
      g_autofree char *title = backup_label (path);
      GtkWidget *row = adw_action_row_new ();
      GtkWidget *button = gtk_button_new_with_label (_("Restore…"));
      GStatBuf st;

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
      if (g_stat (path, &st) == 0)
        {
          g_autofree char *size = kh_format_size ((gint64) st.st_size);

          adw_action_row_set_subtitle (ADW_ACTION_ROW (row), size);
        }
      gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
      g_object_set_data_full (G_OBJECT (button), "path", g_strdup (path), g_free);
      g_signal_connect (button, "clicked", G_CALLBACK (restore_clicked_cb), self);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
      adw_preferences_group_add (self->group, row);
      g_ptr_array_add (self->rows, row);
    }
}

guint
kh_backups_page_get_n_rows (KhBackupsPage *self)
{
  g_return_val_if_fail (KH_IS_BACKUPS_PAGE (self), 0);
  return self->rows->len;
}

static void
kh_backups_page_dispose (GObject *object)
{
  KhBackupsPage *self = KH_BACKUPS_PAGE (object);

  g_clear_pointer (&self->rows, g_ptr_array_unref);
  g_clear_object (&self->store);
  G_OBJECT_CLASS (kh_backups_page_parent_class)->dispose (object);
}

static void
kh_backups_page_class_init (KhBackupsPageClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = kh_backups_page_dispose;
  signals[SIGNAL_RESTORED] = g_signal_new ("restored", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                           NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
kh_backups_page_init (KhBackupsPage *self)
{
  GtkWidget *now = gtk_button_new_with_label (_("Back Up Now"));
  g_autofree char *description = g_strdup_printf (
    g_dngettext (GETTEXT_PACKAGE,
                 "While the app is open, a copy of this computer's records is made once a day; "
                 "the newest %d is kept.",
                 "While the app is open, a copy of this computer's records is made once a day; "
                 "the newest %d are kept.", KH_STORE_BACKUPS_KEPT), KH_STORE_BACKUPS_KEPT);

  self->rows = g_ptr_array_new ();
  adw_preferences_page_set_title (ADW_PREFERENCES_PAGE (self), _("Backups"));
  adw_preferences_page_set_icon_name (ADW_PREFERENCES_PAGE (self), "document-save-symbolic");
  self->group = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
  adw_preferences_group_set_title (self->group, _("Backups on this computer"));
  adw_preferences_group_set_description (self->group, description);
  gtk_widget_set_valign (now, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (now, "flat");
  g_signal_connect (now, "clicked", G_CALLBACK (back_up_now_cb), self);
  adw_preferences_group_set_header_suffix (self->group, now);
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (self), self->group);
}

GtkWidget *
kh_backups_page_new (KhStore *store)
{
  KhBackupsPage *self = g_object_new (KH_TYPE_BACKUPS_PAGE, NULL);

  self->store = g_object_ref (store);
  kh_backups_page_refresh (self);
  return GTK_WIDGET (self);
}
