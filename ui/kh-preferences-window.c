/* kh-preferences-window.c: server, sync interval, metered networks; the backups page
 *
 * Every row is bound to GSettings, so a change is kept at once and the sync engine reads the
 * same keys.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include "kh-backups-page.h"
#include "kh-preferences-window.h"
#include "kh-settings.h"

struct _KhPreferencesWindow
{
  AdwPreferencesWindow  parent_instance;

  GSettings            *settings;

  AdwEntryRow          *server_row;
  AdwComboRow          *interval_row;
  GtkSwitch            *metered_switch;
  GtkSwitch            *scale_switch;
};

G_DEFINE_FINAL_TYPE (KhPreferencesWindow, kh_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

/* Minutes between automatic syncs; 0 means only when asked. */
static const guint intervals[] = { 0, 5, 15, 30, 60 };

static void
interval_selected_cb (KhPreferencesWindow *self)
{
  guint i = adw_combo_row_get_selected (self->interval_row);

  if (self->settings != NULL && i < G_N_ELEMENTS (intervals))
    g_settings_set_uint (self->settings, "sync-interval", intervals[i]);
}

static void
kh_preferences_window_dispose (GObject *object)
{
  KhPreferencesWindow *self = (KhPreferencesWindow *) object;

  gtk_widget_dispose_template (GTK_WIDGET (self), KH_TYPE_PREFERENCES_WINDOW);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (kh_preferences_window_parent_class)->dispose (object);
}

static void
kh_preferences_window_class_init (KhPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kh_preferences_window_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, "/vn/khuyenhoc/KhuyenHoc/ui/kh-preferences-window.ui");
  gtk_widget_class_bind_template_child (widget_class, KhPreferencesWindow, server_row);
  gtk_widget_class_bind_template_child (widget_class, KhPreferencesWindow, interval_row);
  gtk_widget_class_bind_template_child (widget_class, KhPreferencesWindow, metered_switch);
  gtk_widget_class_bind_template_child (widget_class, KhPreferencesWindow, scale_switch);
}

static void
kh_preferences_window_init (KhPreferencesWindow *self)
{
  GtkStringList *labels = gtk_string_list_new (NULL);
  guint current = 15;

  gtk_widget_init_template (GTK_WIDGET (self));

  gtk_string_list_append (labels, _("Only when I ask"));
  for (guint i = 1; i < G_N_ELEMENTS (intervals); i++)
    {
      g_autofree char *label = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u minute", "%u minutes",
                                                             intervals[i]), intervals[i]);

      gtk_string_list_append (labels, label);
    }
  adw_combo_row_set_model (self->interval_row, G_LIST_MODEL (labels));
  g_object_unref (labels);

  self->settings = kh_settings_new ();
  if (self->settings == NULL)
    {
      gtk_widget_set_sensitive (GTK_WIDGET (self), FALSE);
      return;
    }
  g_settings_bind (self->settings, "server-url", self->server_row, "text", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "sync-on-metered", self->metered_switch, "active", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "scale-photos-on-metered", self->scale_switch, "active", G_SETTINGS_BIND_DEFAULT);
  current = g_settings_get_uint (self->settings, "sync-interval");
  for (guint i = 0; i < G_N_ELEMENTS (intervals); i++)
    if (intervals[i] == current)
      adw_combo_row_set_selected (self->interval_row, i);
  g_signal_connect_swapped (self->interval_row, "notify::selected", G_CALLBACK (interval_selected_cb), self);
}

/* The replica was restored: the window is opened afresh on it, so that no page shows records
 * read before. */
static void
restored_cb (KhPreferencesWindow *self)
{
  GtkWindow *main = gtk_window_get_transient_for (GTK_WINDOW (self));
  GApplication *app = g_application_get_default ();

  gtk_window_destroy (GTK_WINDOW (self));
  if (main == NULL || app == NULL)
    return;
  /* Held, so that the app does not end with its last window. */
  g_application_hold (app);
  gtk_window_destroy (main);
  g_application_activate (app);
  g_application_release (app);
}

void
kh_preferences_window_set_store (KhPreferencesWindow *self,
                                 KhStore             *store)
{
  GtkWidget *page;

  g_return_if_fail (KH_IS_PREFERENCES_WINDOW (self));

  page = kh_backups_page_new (store);
  g_signal_connect_object (page, "restored", G_CALLBACK (restored_cb), self, G_CONNECT_SWAPPED);
  adw_preferences_window_add (ADW_PREFERENCES_WINDOW (self), ADW_PREFERENCES_PAGE (page));
}

GtkWidget *
kh_preferences_window_new (void)
{
  return g_object_new (KH_TYPE_PREFERENCES_WINDOW, NULL);
}
