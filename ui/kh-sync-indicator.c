/* kh-sync-indicator.c: the header bar's sync state at a glance
 *
 * Synced (and when), syncing, offline with N changes waiting, failed, N changes refused or N
 * conflicts: the one line an officer looks at before closing the laptop. Clicking it opens the
 * Sync page. The check mark of a sync that went well stays FRESH_SECONDS only: after that the
 * header says when it synced but no longer claims that the server is reachable now.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include "kh-format.h"

#include "kh-sync-indicator.h"
#include "kh-ui-test-private.h"

#define FRESH_SECONDS 30

struct _KhSyncIndicator
{
  GtkButton          parent_instance;

  KhSyncClientState  state;
  gint64             pending;
  gint64             conflicts;
  gint64             refused;
  GDateTime         *last_sync;
  guint              fresh_source;
  double             progress;

  GtkImage          *icon;
  GtkLabel          *label;
};

G_DEFINE_FINAL_TYPE (KhSyncIndicator, kh_sync_indicator, GTK_TYPE_BUTTON)

enum {
  PROP_0,
  PROP_STATE,
  PROP_PENDING,
  PROP_CONFLICTS,
  PROP_REFUSED,
  PROP_LAST_SYNC,
  PROP_PROGRESS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static char *
waiting_text (gint64 pending)
{
  g_autofree char *count = kh_format_number_style (pending, KH_FORMAT_AUTO);

  /* TRANSLATORS: %s is a count, grouped as the language writes it: "3.000" */
  return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Offline with %s change waiting",
                                       "Offline with %s changes waiting", (gulong) pending),
                          count);
}

static gboolean
is_fresh (KhSyncIndicator *self)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();

  return self->last_sync != NULL
         && g_date_time_difference (now, self->last_sync) < FRESH_SECONDS * G_TIME_SPAN_SECOND;
}

static void update (KhSyncIndicator *self);

static gboolean
fresh_over_cb (gpointer data)
{
  KhSyncIndicator *self = data;

  self->fresh_source = 0;
  update (self);
  return G_SOURCE_REMOVE;
}

static void
update (KhSyncIndicator *self)
{
  g_autofree char *text = NULL;
  const char *tooltip = NULL;
  const char *icon = "emblem-ok-symbolic";

  gtk_widget_remove_css_class (GTK_WIDGET (self), "warning");
  gtk_widget_remove_css_class (GTK_WIDGET (self), "error");

  if (self->conflicts > 0)
    {
      g_autofree char *count = kh_format_number_style (self->conflicts, KH_FORMAT_AUTO);

      text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s conflict to resolve",
                                           "%s conflicts to resolve", (gulong) self->conflicts),
                              count);
      icon = "dialog-warning-symbolic";
      tooltip = _("Someone else changed the same fields: choose which values to keep");
      gtk_widget_add_css_class (GTK_WIDGET (self), "warning");
    }
  else if (self->refused > 0 && self->state != KH_SYNC_CLIENT_STATE_SYNCING)
    {
      g_autofree char *count = kh_format_number_style (self->refused, KH_FORMAT_AUTO);

      text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s change refused",
                                           "%s changes refused", (gulong) self->refused),
                              count);
      icon = "dialog-error-symbolic";
      tooltip = _("The server did not accept some changes: open the Sync page to correct or give them up");
      gtk_widget_add_css_class (GTK_WIDGET (self), "error");
    }
  else
    switch (self->state)
      {
      case KH_SYNC_CLIENT_STATE_SYNCING:
        if (self->progress > 0)
          /* TRANSLATORS: the header while syncing, e.g. "Syncing… 45 %" */
          text = g_strdup_printf (_("Syncing… %d %%"), (int) (self->progress * 100));
        else
          text = g_strdup (_("Syncing…"));
        icon = "emblem-synchronizing-symbolic";
        break;
      case KH_SYNC_CLIENT_STATE_ERROR:
        text = g_strdup (_("Sync failed"));
        icon = "dialog-error-symbolic";
        tooltip = _("Open the Sync page to see what went wrong");
        gtk_widget_add_css_class (GTK_WIDGET (self), "error");
        break;
      case KH_SYNC_CLIENT_STATE_IDLE:
        if (self->pending > 0)
          {
            g_autofree char *count = kh_format_number_style (self->pending, KH_FORMAT_AUTO);

            text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s change to send",
                                                 "%s changes to send", (gulong) self->pending),
                                    count);
          }
        else if (self->last_sync != NULL)
          {
            g_autoptr(GDateTime) local = g_date_time_to_local (self->last_sync);
            g_autofree char *time = g_date_time_format (local, "%H:%M");

            /* TRANSLATORS: %s is a time of day, e.g. 10:32 */
            text = g_strdup_printf (_("Synced at %s"), time);
            if (!is_fresh (self))
              icon = "document-open-recent-symbolic";
          }
        else
          text = g_strdup (_("Synced"));
        break;
      case KH_SYNC_CLIENT_STATE_SIGNED_OUT:
        icon = "system-users-symbolic";
        text = self->pending > 0 ? waiting_text (self->pending) : g_strdup (_("Not signed in"));
        tooltip = _("Sign in to send and receive changes");
        break;
      case KH_SYNC_CLIENT_STATE_OFFLINE:
      case KH_SYNC_CLIENT_STATE_UNAVAILABLE:
      default:
        icon = "network-offline-symbolic";
        text = self->pending > 0 ? waiting_text (self->pending) : g_strdup (_("Offline"));
        tooltip = self->state == KH_SYNC_CLIENT_STATE_UNAVAILABLE
                  ? _("Syncing is off in this window; your changes are kept on this computer")
                  : _("Changes will be sent when the connection is back");
        break;
      }

  /* The check mark goes when the sync is no longer fresh. */
  g_clear_handle_id (&self->fresh_source, g_source_remove);
  if (is_fresh (self))
    {
      g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
      GTimeSpan left = FRESH_SECONDS * G_TIME_SPAN_SECOND - g_date_time_difference (now, self->last_sync);

      self->fresh_source = g_timeout_add ((guint) (left / 1000) + 1, fresh_over_cb, self);
    }
  gtk_image_set_from_icon_name (self->icon, icon);
  gtk_label_set_text (self->label, text);
  /* The tooltip repeats the state in full: on a narrow window the label is cut short. */
  {
    g_autofree char *full = tooltip ? g_strdup_printf ("%s\n%s", text, tooltip) : NULL;

    gtk_widget_set_tooltip_text (GTK_WIDGET (self), full ? full : text);
  }
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL, text, -1);
}

const char *
kh_sync_indicator_get_text (KhSyncIndicator *self)
{
  g_return_val_if_fail (KH_IS_SYNC_INDICATOR (self), NULL);
  return gtk_label_get_text (self->label);
}

static void
kh_sync_indicator_dispose (GObject *object)
{
  g_clear_handle_id (&KH_SYNC_INDICATOR (object)->fresh_source, g_source_remove);
  gtk_widget_dispose_template (GTK_WIDGET (object), KH_TYPE_SYNC_INDICATOR);
  G_OBJECT_CLASS (kh_sync_indicator_parent_class)->dispose (object);
}

static void
kh_sync_indicator_finalize (GObject *object)
{
  KhSyncIndicator *self = (KhSyncIndicator *) object;

  g_clear_handle_id (&self->fresh_source, g_source_remove);
  g_clear_pointer (&self->last_sync, g_date_time_unref);
  G_OBJECT_CLASS (kh_sync_indicator_parent_class)->finalize (object);
}

static void
kh_sync_indicator_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  KhSyncIndicator *self = KH_SYNC_INDICATOR (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_PENDING:
      g_value_set_int64 (value, self->pending);
      break;
    case PROP_CONFLICTS:
      g_value_set_int64 (value, self->conflicts);
      break;
    case PROP_REFUSED:
      g_value_set_int64 (value, self->refused);
      break;
    case PROP_LAST_SYNC:
      g_value_set_boxed (value, self->last_sync);
      break;
    case PROP_PROGRESS:
      g_value_set_double (value, self->progress);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kh_sync_indicator_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  KhSyncIndicator *self = KH_SYNC_INDICATOR (object);

  switch (prop_id)
    {
    case PROP_STATE:
      if (self->state == (KhSyncClientState) g_value_get_enum (value))
        return;
      self->state = g_value_get_enum (value);
      break;
    case PROP_PENDING:
      if (self->pending == g_value_get_int64 (value))
        return;
      self->pending = g_value_get_int64 (value);
      break;
    case PROP_CONFLICTS:
      if (self->conflicts == g_value_get_int64 (value))
        return;
      self->conflicts = g_value_get_int64 (value);
      break;
    case PROP_REFUSED:
      if (self->refused == g_value_get_int64 (value))
        return;
      self->refused = g_value_get_int64 (value);
      break;
    case PROP_LAST_SYNC:
      g_clear_pointer (&self->last_sync, g_date_time_unref);
      self->last_sync = g_value_dup_boxed (value);
      break;
    case PROP_PROGRESS:
      if (self->progress == g_value_get_double (value))
        return;
      self->progress = g_value_get_double (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      return;
    }
  update (self);
  g_object_notify_by_pspec (object, pspec);
}

static void
kh_sync_indicator_class_init (KhSyncIndicatorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kh_sync_indicator_dispose;
  object_class->finalize = kh_sync_indicator_finalize;
  object_class->get_property = kh_sync_indicator_get_property;
  object_class->set_property = kh_sync_indicator_set_property;

  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, KH_TYPE_SYNC_CLIENT_STATE, KH_SYNC_CLIENT_STATE_UNAVAILABLE,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PENDING] =
    g_param_spec_int64 ("pending", NULL, NULL, 0, G_MAXINT64, 0,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_CONFLICTS] =
    g_param_spec_int64 ("conflicts", NULL, NULL, 0, G_MAXINT64, 0,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_REFUSED] =
    g_param_spec_int64 ("refused", NULL, NULL, 0, G_MAXINT64, 0,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_LAST_SYNC] =
    g_param_spec_boxed ("last-sync", NULL, NULL, G_TYPE_DATE_TIME,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PROGRESS] =
    g_param_spec_double ("progress", NULL, NULL, 0, 1, 0,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class, "/vn/khuyenhoc/KhuyenHoc/ui/kh-sync-indicator.ui");
  gtk_widget_class_bind_template_child (widget_class, KhSyncIndicator, icon);
  gtk_widget_class_bind_template_child (widget_class, KhSyncIndicator, label);
}

static void
kh_sync_indicator_init (KhSyncIndicator *self)
{
  self->state = KH_SYNC_CLIENT_STATE_UNAVAILABLE;
  gtk_widget_init_template (GTK_WIDGET (self));
  update (self);
}
