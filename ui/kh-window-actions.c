/* kh-window-actions.c: the main window's actions and their shortcuts
 *
 * The actions here are the window's own: pages, sync, sign-in, preferences, import and print.
 * What depends on the page (searching it, making a new record there) the page does with its own
 * actions, "page.search" and "page.new-record", installed in its class; Ctrl+F and Ctrl+N are
 * bound on the window, so that they work wherever the focus is, and pass the key on to the page
 * on show.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include "kh-codec.h"
#include "kh-format.h"
#include "kh-import-dialog.h"
#include "kh-ledger-actions.h"
#include "kh-print-list.h"
#include "kh-preferences-window.h"
#include "kh-replica.h"
#include "kh-sign-in-dialog.h"
#include "kh-sync-page.h"
#include "kh-window-private.h"

static void
show_page_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *param)
{
  kh_window_show_page (KH_WINDOW (widget), g_variant_get_string (param, NULL));
}

static void
import_list_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *param)
{
  KhWindow *self = KH_WINDOW (widget);
  KhImportDialog *dialog = kh_import_dialog_new (GTK_WINDOW (self), self->store, "award_entry", NULL);

  gtk_window_present (GTK_WINDOW (dialog));
}

static void
print_list_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *param)
{
  KhWindow *self = KH_WINDOW (widget);
  g_autofree char *list_id = kh_print_selected_list_id (gtk_stack_get_visible_child (self->stack));
  g_autoptr(GError) error = NULL;

  if (list_id == NULL)
    {
      kh_window_add_toast (self, adw_toast_new (_("Select an award list, or one of its entries, to print it.")));
      return;
    }
  if (!kh_print_award_list (GTK_WINDOW (self), self->store, list_id, NULL, NULL, &error))
    kh_window_add_toast (self, adw_toast_new (error->message));
}

static void
show_sidebar_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *param)
{
  KhWindow *self = KH_WINDOW (widget);

  adw_leaflet_navigate (self->leaflet, ADW_NAVIGATION_DIRECTION_BACK);
}

/* Whether the page on show installs the action @name in its class. */
static gboolean
page_has_action (KhWindow   *self,
                 const char *name)
{
  GtkWidget *page = gtk_stack_get_visible_child (self->stack);
  GType owner;
  const char *action;
  const GVariantType *parameter_type;
  const char *property;

  if (page == NULL)
    return FALSE;
  for (guint i = 0;
       gtk_widget_class_query_action (GTK_WIDGET_GET_CLASS (page), i, &owner, &action, &parameter_type,
                                      &property);
       i++)
    if (g_str_equal (action, name))
      return TRUE;
  return FALSE;
}

static void
activate_page_action (KhWindow   *self,
                      const char *name)
{
  if (page_has_action (self, name))
    gtk_widget_activate_action (gtk_stack_get_visible_child (self->stack), name, NULL);
}

static void
search_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *param)
{
  activate_page_action (KH_WINDOW (widget), "page.search");
}

static void
new_record_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *param)
{
  activate_page_action (KH_WINDOW (widget), "page.new-record");
}

/* A failed sync in words a person can act on: what happened to their changes, and what to do. */
static char *
describe_sync_error (KhWindow     *self,
                     const GError *error)
{
  if (error->domain == G_IO_ERROR && error->code != G_IO_ERROR_CANCELLED)
    {
      if (self->pending > 0)
        {
          g_autofree char *count = kh_format_number_style (self->pending, KH_FORMAT_AUTO);

          return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                               "You are offline or the server cannot be reached; "
                                               "%s change will be sent when connected.",
                                               "You are offline or the server cannot be reached; "
                                               "%s changes will be sent when connected.",
                                               (gulong) self->pending), count);
        }
      return g_strdup (_("You are offline or the server cannot be reached; nothing is waiting to "
                         "be sent."));
    }
  if (g_error_matches (error, KH_SYNC_ERROR, KH_SYNC_ERROR_UNAUTHORIZED))
    return g_strdup (_("The server no longer accepts your sign-in. Sign in again; your changes "
                       "are kept until then."));
  return g_strdup (error->message);
}

/* After a sync: changes the server refused stay on this computer until someone corrects or
 * gives them up on the Sync page, so say so with the first reason. */
static void
report_refused (KhWindow *self)
{
  gint64 n = kh_replica_count_rejected (self->store);
  json_object *outbox;
  const char *reason = NULL;
  g_autofree char *words = NULL;
  g_autofree char *message = NULL;
  AdwToast *toast;

  if (n <= 0)
    return;
  outbox = kh_store_list_outbox (self->store, NULL);
  for (size_t i = 0; outbox != NULL && i < json_object_array_length (outbox) && reason == NULL; i++)
    {
      json_object *entry = json_object_array_get_idx (outbox, i);

      if (g_strcmp0 (json_object_get_string (json_object_object_get (entry, "state")), "rejected") == 0)
        reason = json_object_get_string (json_object_object_get (entry, "reason"));
    }
  words = reason != NULL && *reason != '\0' ? kh_sync_page_translate_reason (reason)
          : g_strdup (_("no reason given"));
  /* TRANSLATORS: after a sync, e.g. "The server refused 3 changes: Date of birth: …" */
  message = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "The server refused %d change: %s",
                                          "The server refused %d changes: %s", (gulong) n),
                             (int) n, words);
  json_object_put (outbox);
  toast = adw_toast_new (message);
  adw_toast_set_timeout (toast, 10);
  adw_toast_set_button_label (toast, _("_Show"));
  adw_toast_set_action_name (toast, "win.show-page");
  adw_toast_set_action_target_value (toast, g_variant_new_string ("sync"));
  kh_window_add_toast (self, toast);
}

static void
sync_done_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(KhWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!kh_sync_client_sync_finish (KH_SYNC_CLIENT (object), result, &error))
    {
      g_autofree char *message = NULL;
      AdwToast *toast;

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      kh_window_update_counts (self);
      message = describe_sync_error (self, error);
      toast = adw_toast_new (message);
      adw_toast_set_timeout (toast, 10);
      if (g_error_matches (error, KH_SYNC_ERROR, KH_SYNC_ERROR_UNAUTHORIZED))
        {
          adw_toast_set_button_label (toast, _("Sign _In…"));
          adw_toast_set_action_name (toast, "win.sign-in");
        }
      kh_window_add_toast (self, toast);
    }
  kh_window_update_counts (self);
  report_refused (self);
}

/* With no engine wired in, say so instead of pretending: what was typed stays on this computer. */
static char *
no_engine_message (KhWindow *self)
{
  if (self->pending > 0)
    {
      g_autofree char *count = kh_format_number_style (self->pending, KH_FORMAT_AUTO);

      return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                           "Syncing is off in this window. %s change is kept "
                                           "safely on this computer.",
                                           "Syncing is off in this window. %s changes are kept "
                                           "safely on this computer.",
                                           (gulong) self->pending), count);
    }
  return g_strdup (_("Syncing is off in this window. Everything you enter is kept on this "
                     "computer."));
}

static void
show_sign_in (KhWindow *self)
{
  GtkWidget *dialog = kh_sign_in_dialog_new (self->sync_client);

  gtk_window_set_transient_for (GTK_WINDOW (dialog), GTK_WINDOW (self));
  gtk_window_present (GTK_WINDOW (dialog));
}

/* What Sync now does; the Sync page activates it too, after a conflict is resolved. */
static void
sync_now (KhWindow *self)
{
  if (self->sync_client == NULL)
    {
      g_autofree char *message = no_engine_message (self);
      AdwToast *toast = adw_toast_new (message);

      adw_toast_set_timeout (toast, 8);
      kh_window_add_toast (self, toast);
      return;
    }
  /* Without an account there is nothing to sync with: ask for one instead of failing. */
  if (self->sync_state == KH_SYNC_CLIENT_STATE_SIGNED_OUT)
    {
      show_sign_in (self);
      return;
    }
  kh_sync_client_sync_async (self->sync_client, self->cancellable, sync_done_cb, g_object_ref (self));
}

static void
sync_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *param)
{
  sync_now (KH_WINDOW (widget));
}

static void
sign_in_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *param)
{
  show_sign_in (KH_WINDOW (widget));
}

static void
sign_out (KhWindow *self)
{
  g_autoptr(GError) error = NULL;

  if (self->sync_client == NULL)
    return;
  if (!kh_sync_client_sign_out (self->sync_client, &error))
    kh_window_add_toast (self, adw_toast_new (error->message));
  else
    kh_window_add_toast (self, adw_toast_new (_("Signed out. Your records stay on this computer.")));
}

static void
sign_out_response_cb (AdwMessageDialog *dialog,
                      const char       *response,
                      KhWindow         *self)
{
  if (g_strcmp0 (response, "sign-out") == 0)
    sign_out (self);
}

/* Changes not yet sent exist only in this replica: signing out is when a person may go on to
 * move the database aside or lose its key (a new keyring, a forgotten passphrase), and with it
 * those changes. The window says so first, and how many. */
static void
sign_out_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *param)
{
  KhWindow *self = KH_WINDOW (widget);
  g_autofree char *count = NULL;
  g_autofree char *body = NULL;
  GtkWidget *dialog;

  if (self->sync_client == NULL)
    return;
  kh_window_update_counts (self);
  if (self->pending == 0)
    {
      sign_out (self);
      return;
    }
  count = kh_format_number_style (self->pending, KH_FORMAT_AUTO);
  body = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                       "%s change has not been sent to the server. It stays in "
                                       "this computer’s encrypted database and is sent when you "
                                       "sign in again; if that database or its key is lost, the "
                                       "server cannot give it back.",
                                       "%s changes have not been sent to the server. They stay "
                                       "in this computer’s encrypted database and are sent when "
                                       "you sign in again; if that database or its key is lost, "
                                       "the server cannot give them back.",
                                       (gulong) self->pending), count);
  dialog = adw_message_dialog_new (GTK_WINDOW (self), _("Sign Out With Unsent Changes?"), body);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Stay Signed In"),
                                    "sign-out", _("_Sign Out"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "sign-out",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  gtk_widget_set_name (dialog, "sign-out-dialog");
  g_signal_connect_object (dialog, "response", G_CALLBACK (sign_out_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
preferences_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *param)
{
  GtkWidget *prefs = kh_preferences_window_new ();

  kh_preferences_window_set_store (KH_PREFERENCES_WINDOW (prefs), KH_WINDOW (widget)->store);
  gtk_window_set_transient_for (GTK_WINDOW (prefs), GTK_WINDOW (widget));
  gtk_window_present (GTK_WINDOW (prefs));
}

static void
undo_delete_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *param)
{
  KhWindow *self = KH_WINDOW (widget);
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) parts = g_strsplit (g_variant_get_string (param, NULL), "/", 2);

  if (g_strv_length (parts) != 2)
    return;
  if (!kh_store_restore (self->store, parts[0], parts[1], &error))
    kh_window_add_toast (self, adw_toast_new (error->message));
}

void
kh_window_actions_update (KhWindow *self)
{
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.search", page_has_action (self, "page.search"));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.new-record",
                                 page_has_action (self, "page.new-record"));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.sign-out",
                                 self->sync_client != NULL
                                 && self->sync_state != KH_SYNC_CLIENT_STATE_SIGNED_OUT
                                 && self->sync_state != KH_SYNC_CLIENT_STATE_UNAVAILABLE);
}

void
kh_window_class_actions_init (KhWindowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  gtk_widget_class_install_action (widget_class, "win.show-page", "s", show_page_action);
  gtk_widget_class_install_action (widget_class, "win.show-sidebar", NULL, show_sidebar_action);
  gtk_widget_class_install_action (widget_class, "win.search", NULL, search_action);
  gtk_widget_class_install_action (widget_class, "win.new-record", NULL, new_record_action);
  gtk_widget_class_install_action (widget_class, "win.import-list", NULL, import_list_action);
  gtk_widget_class_install_action (widget_class, "win.print-list", NULL, print_list_action);
  gtk_widget_class_install_action (widget_class, "win.sync", NULL, sync_action);
  gtk_widget_class_install_action (widget_class, "win.sign-in", NULL, sign_in_action);
  gtk_widget_class_install_action (widget_class, "win.sign-out", NULL, sign_out_action);
  gtk_widget_class_install_action (widget_class, "win.preferences", NULL, preferences_action);
  gtk_widget_class_install_action (widget_class, "win.undo-delete", "s", undo_delete_action);
  kh_window_class_ledger_actions_init (widget_class);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_f, GDK_CONTROL_MASK, "win.search", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_n, GDK_CONTROL_MASK, "win.new-record", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_i, GDK_CONTROL_MASK, "win.import-list", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_p, GDK_CONTROL_MASK, "win.print-list", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_w, GDK_CONTROL_MASK, "window.close", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F5, 0, "win.sync", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_r, GDK_CONTROL_MASK, "win.sync", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_comma, GDK_CONTROL_MASK, "win.preferences", NULL);
}
