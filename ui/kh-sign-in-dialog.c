/* kh-sign-in-dialog.c: signing in to the association's server
 *
 * The server address is remembered in GSettings; the password goes to the sync engine, which
 * keeps only the token it gets back (in the keyring). With no engine wired in, the dialog says
 * so instead of pretending to sign in.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include "kh-settings.h"
#include "kh-sign-in-dialog.h"

struct _KhSignInDialog
{
  AdwWindow     parent_instance;

  KhSyncClient *client;
  GCancellable *cancellable;
  GSettings    *settings;

  GtkWidget    *sign_in_button;
  AdwEntryRow  *server_row;
  AdwEntryRow  *user_row;
  GtkWidget    *password_row;
  GtkLabel     *message_label;
};

G_DEFINE_FINAL_TYPE (KhSignInDialog, kh_sign_in_dialog, ADW_TYPE_WINDOW)

static void
show_message (KhSignInDialog *self,
              const char     *message,
              gboolean        is_error)
{
  gtk_label_set_text (self->message_label, message);
  gtk_widget_set_visible (GTK_WIDGET (self->message_label), message != NULL);
  if (is_error)
    gtk_widget_add_css_class (GTK_WIDGET (self->message_label), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->message_label), "error");
}

const char *
kh_sign_in_dialog_get_message (KhSignInDialog *self)
{
  g_return_val_if_fail (KH_IS_SIGN_IN_DIALOG (self), NULL);
  return gtk_widget_get_visible (GTK_WIDGET (self->message_label))
         ? gtk_label_get_text (self->message_label) : NULL;
}

static void
sign_in_done_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(KhSignInDialog) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!kh_sync_client_sign_in_finish (KH_SYNC_CLIENT (object), result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      gtk_widget_set_sensitive (self->sign_in_button, TRUE);
      show_message (self, error->message, TRUE);
      return;
    }
  gtk_window_close (GTK_WINDOW (self));
}

static void
submit_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *param)
{
  KhSignInDialog *self = KH_SIGN_IN_DIALOG (widget);
  const char *server = gtk_editable_get_text (GTK_EDITABLE (self->server_row));

  if (self->settings != NULL)
    g_settings_set_string (self->settings, "server-url", server);
  if (self->client == NULL)
    {
      show_message (self, _("Syncing is off in this window, so it cannot sign in. The server "
                            "address is saved: open Khuyến Học again to sign in. Everything you "
                            "enter stays on this computer."), TRUE);
      return;
    }
  if (*server == '\0' || *gtk_editable_get_text (GTK_EDITABLE (self->user_row)) == '\0')
    {
      show_message (self, _("Enter the server address and your user name."), TRUE);
      return;
    }
  gtk_widget_set_sensitive (self->sign_in_button, FALSE);
  show_message (self, _("Signing in…"), FALSE);
  kh_sync_client_sign_in_async (self->client, server,
                                gtk_editable_get_text (GTK_EDITABLE (self->user_row)),
                                gtk_editable_get_text (GTK_EDITABLE (self->password_row)),
                                self->cancellable, sign_in_done_cb, g_object_ref (self));
}

static void
kh_sign_in_dialog_dispose (GObject *object)
{
  KhSignInDialog *self = (KhSignInDialog *) object;

  g_cancellable_cancel (self->cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (self), KH_TYPE_SIGN_IN_DIALOG);
  g_clear_object (&self->client);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (kh_sign_in_dialog_parent_class)->dispose (object);
}

static void
kh_sign_in_dialog_class_init (KhSignInDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kh_sign_in_dialog_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, "/vn/khuyenhoc/KhuyenHoc/ui/kh-sign-in-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, KhSignInDialog, sign_in_button);
  gtk_widget_class_bind_template_child (widget_class, KhSignInDialog, server_row);
  gtk_widget_class_bind_template_child (widget_class, KhSignInDialog, user_row);
  gtk_widget_class_bind_template_child (widget_class, KhSignInDialog, password_row);
  gtk_widget_class_bind_template_child (widget_class, KhSignInDialog, message_label);

  gtk_widget_class_install_action (widget_class, "sign-in.submit", NULL, submit_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
kh_sign_in_dialog_init (KhSignInDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->cancellable = g_cancellable_new ();
  self->settings = kh_settings_new ();
  if (self->settings != NULL)
    {
      g_autofree char *server = g_settings_get_string (self->settings, "server-url");

      gtk_editable_set_text (GTK_EDITABLE (self->server_row), server);
    }
}

GtkWidget *
kh_sign_in_dialog_new (KhSyncClient *client)
{
  KhSignInDialog *self = g_object_new (KH_TYPE_SIGN_IN_DIALOG, NULL);

  g_set_object (&self->client, client);
  if (client == NULL)
    show_message (self, _("Syncing is off in this window (it was opened for screenshots or "
                          "tests): signing in will not connect. Your records are kept on this "
                          "computer."), FALSE);
  return GTK_WIDGET (self);
}
