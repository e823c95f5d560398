/* kh-window.c: the main window
 *
 * A sidebar of sections (AdwLeaflet, so it folds on a small laptop screen) and one page per
 * section in a stack. The header shows the sync state at a glance. The window owns the seam to
 * the sync engine (KhSyncClient) and exposes what it shows as properties, so the engine can be
 * wired in later without touching the pages.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <errno.h>
#include <string.h>

#include "kh-activity-page.h"
#include "kh-list-page.h"
#include "kh-overview-page.h"
#include "kh-replica.h"
#include "kh-screenshot.h"
#include "kh-settings.h"
#include "kh-sync-indicator.h"
#include "kh-sync-page.h"
#include "kh-text-rendering.h"
#include "kh-toast.h"
#include "kh-trash-page.h"
#include "kh-ui-test-private.h"
#include "kh-units-page.h"
#include "kh-window-private.h"

G_DEFINE_FINAL_TYPE (KhWindow, kh_window, ADW_TYPE_APPLICATION_WINDOW)

enum {
  PROP_0,
  PROP_STORE,
  PROP_SYNC_CLIENT,
  PROP_SYNC_STATE,
  PROP_PENDING,
  PROP_CONFLICTS,
  PROP_REFUSED,
  PROP_LAST_SYNC,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

typedef struct
{
  const char *name;
  const char *title;
  const char *icon;
  gboolean    indent;
} PageInfo;

static const PageInfo pages[] = {
  { "overview", N_("Overview"), "go-home-symbolic", FALSE },
  { "models", N_("Learning models"), "view-grid-symbolic", FALSE },
  { "model-citizen", N_("Learning citizens"), NULL, TRUE },
  { "model-family", N_("Learning families"), NULL, TRUE },
  { "model-clan", N_("Learning clans"), NULL, TRUE },
  { "model-community", N_("Learning communities"), NULL, TRUE },
  { "model-unit", N_("Learning units"), NULL, TRUE },
  { "units", N_("Schools and agencies"), "x-office-address-book-symbolic", FALSE },
  { "unit-tree", N_("Unit tree"), "find-location-symbolic", FALSE },
  { "scholarships", N_("Scholarships and awards"), "emblem-favorite-symbolic", FALSE },
  { "funds", N_("Funds and donations"), "x-office-spreadsheet-symbolic", FALSE },
  { "people", N_("People and households"), "system-users-symbolic", FALSE },
  { "activity", N_("Changes in the Area"), "document-open-recent-symbolic", FALSE },
  { "sync", N_("Sync"), "emblem-synchronizing-symbolic", FALSE },
  { "trash", N_("Trash"), "user-trash-symbolic", FALSE },
};

static const char *page_names[G_N_ELEMENTS (pages) + 1];

const char * const *
kh_window_list_pages (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (pages); i++)
    page_names[i] = pages[i].name;
  page_names[G_N_ELEMENTS (pages)] = NULL;
  return page_names;
}

static const PageInfo *
find_page (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (pages); i++)
    if (g_strcmp0 (pages[i].name, name) == 0)
      return &pages[i];
  return NULL;
}

static GtkWidget *
make_sidebar_row (const PageInfo *info)
{
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *label = gtk_label_new (_(info->title));

  gtk_widget_set_name (row, info->name);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  if (info->icon != NULL)
    gtk_box_append (GTK_BOX (box), gtk_image_new_from_icon_name (info->icon));
  else
    gtk_widget_set_margin_start (box, 28);
  gtk_box_append (GTK_BOX (box), label);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _(info->title), -1);
  return row;
}

/* A conflict resolved or a refused change given up: the counts in the header follow at once. */
static void
sync_page_outbox_changed_cb (KhWindow *self)
{
  kh_window_update_counts (self);
}

static GtkWidget *
make_page (KhWindow       *self,
           const PageInfo *info)
{
  static const char * const registrations[] = { "registration", "evaluation", "recognition", "criteria_set",
                                                "population", NULL };
  static const char * const model_registrations[] = { "registration", NULL };
  static const char * const units[] = { "org_unit", NULL };
  static const char * const awards[] = { "award_entry", "award_list", "scholarship_programme", NULL };
  static const char * const funds[] = { "donation", "fund", "donor", "disbursement", NULL };
  static const char * const people[] = { "person", "household", "clan", "consent", NULL };

  if (g_str_equal (info->name, "overview"))
    {
      GtkWidget *widget = kh_overview_page_new (self->store);

      /* On a first run the page offers to sign in when there is an engine to sign in with. */
      g_object_bind_property (self, "sync-state", widget, "sync-state", G_BINDING_SYNC_CREATE);
      return widget;
    }
  if (g_str_equal (info->name, "sync"))
    {
      GtkWidget *widget = kh_sync_page_new (self->store);

      /* The Sync page shows the window's sync state, and asks it to sync after a conflict
       * through "win.sync": the window feeds it, the page never reaches back. */
      g_object_bind_property (self, "sync-client", widget, "sync-client", G_BINDING_SYNC_CREATE);
      g_object_bind_property (self, "sync-state", widget, "sync-state", G_BINDING_SYNC_CREATE);
      g_object_bind_property (self, "pending", widget, "pending", G_BINDING_SYNC_CREATE);
      g_object_bind_property (self, "last-sync", widget, "last-sync", G_BINDING_SYNC_CREATE);
      /* The engine writes conflicts and refusals from its own connection: the page follows the
       * window's counts of them, so it changes with the header. */
      g_object_bind_property (self, "conflicts", widget, "conflicts", G_BINDING_SYNC_CREATE);
      g_object_bind_property (self, "refused", widget, "refused", G_BINDING_SYNC_CREATE);
      g_signal_connect_object (widget, "outbox-changed", G_CALLBACK (sync_page_outbox_changed_cb),
                               self, G_CONNECT_SWAPPED);
      return widget;
    }
  if (g_str_equal (info->name, "activity"))
    {
      GtkWidget *widget = kh_activity_page_new (self->store);

      /* Read from the server through the window's engine, when the page is shown and again
       * after each sync. */
      g_object_bind_property (self, "sync-client", widget, "sync-client", G_BINDING_SYNC_CREATE);
      g_object_bind_property (self, "sync-state", widget, "sync-state", G_BINDING_SYNC_CREATE);
      g_object_bind_property (self, "last-sync", widget, "last-sync", G_BINDING_SYNC_CREATE);
      return widget;
    }
  if (g_str_equal (info->name, "trash"))
    return kh_trash_page_new (self->store);
  if (g_str_equal (info->name, "unit-tree"))
    return kh_units_page_new (self->store);
  if (g_str_equal (info->name, "models"))
    return kh_list_page_new (self->store, registrations, NULL, NULL);
  if (g_str_has_prefix (info->name, "model-"))
    {
      json_object *model = json_object_new_string (info->name + strlen ("model-"));
      GtkWidget *widget = kh_list_page_new (self->store, model_registrations, "model", model);

      json_object_put (model);
      return widget;
    }
  if (g_str_equal (info->name, "units"))
    {
      json_object *kinds = json_object_new_array ();
      GtkWidget *widget;

      json_object_array_add (kinds, json_object_new_string ("school"));
      json_object_array_add (kinds, json_object_new_string ("agency"));
      json_object_array_add (kinds, json_object_new_string ("enterprise"));
      widget = kh_list_page_new (self->store, units, "kind", kinds);
      kh_list_page_set_self_assessment (KH_LIST_PAGE (widget), TRUE);
      json_object_put (kinds);
      return widget;
    }
  if (g_str_equal (info->name, "scholarships"))
    return kh_list_page_new (self->store, awards, NULL, NULL);
  if (g_str_equal (info->name, "funds"))
    return kh_list_page_new (self->store, funds, NULL, NULL);
  if (g_str_equal (info->name, "people"))
    return kh_list_page_new (self->store, people, NULL, NULL);
  g_assert_not_reached ();
  return NULL;
}

static void
sidebar_row_activated_cb (KhWindow      *self,
                          GtkListBoxRow *row,
                          GtkListBox    *box)
{
  kh_window_show_page (self, gtk_widget_get_name (GTK_WIDGET (row)));
  adw_leaflet_navigate (self->leaflet, ADW_NAVIGATION_DIRECTION_FORWARD);
}

void
kh_window_show_page (KhWindow   *self,
                     const char *name)
{
  const PageInfo *info;
  GtkWidget *row;

  g_return_if_fail (KH_IS_WINDOW (self));

  info = find_page (name);
  g_return_if_fail (info != NULL);

  gtk_stack_set_visible_child_name (self->stack, name);
  /* Folded, the page is shown too: a toast's Show button or a shortcut must not leave a person
   * looking at the sidebar. */
  adw_leaflet_set_visible_child (self->leaflet, self->content_box);
  adw_window_title_set_title (self->content_title, _(info->title));
  for (row = gtk_widget_get_first_child (GTK_WIDGET (self->sidebar)); row != NULL;
       row = gtk_widget_get_next_sibling (row))
    if (g_strcmp0 (gtk_widget_get_name (row), name) == 0)
      {
        gtk_list_box_select_row (self->sidebar, GTK_LIST_BOX_ROW (row));
        break;
      }
  kh_window_actions_update (self);
}

const char *
kh_window_get_page_name (KhWindow *self)
{
  g_return_val_if_fail (KH_IS_WINDOW (self), NULL);
  return gtk_stack_get_visible_child_name (self->stack);
}

GtkWidget *
kh_window_get_page (KhWindow   *self,
                    const char *name)
{
  g_return_val_if_fail (KH_IS_WINDOW (self), NULL);
  return gtk_stack_get_child_by_name (self->stack, name);
}

void
kh_window_add_toast (KhWindow *self,
                     AdwToast *toast)
{
  g_return_if_fail (KH_IS_WINDOW (self));
  kh_widget_add_toast (GTK_WIDGET (self->toast_overlay), toast);
}

const char *
kh_window_get_last_toast (KhWindow *self)
{
  g_return_val_if_fail (KH_IS_WINDOW (self), NULL);
  return kh_toast_overlay_get_last_title (self->toast_overlay);
}

KhStore *
kh_window_get_store (KhWindow *self)
{
  g_return_val_if_fail (KH_IS_WINDOW (self), NULL);
  return self->store;
}

/* Sync state ------------------------------------------------------------------------------------ */

static void
set_sync_state (KhWindow          *self,
                KhSyncClientState  state)
{
  if (self->sync_state == state)
    return;
  self->sync_state = state;
  kh_window_actions_update (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SYNC_STATE]);
}

static void
set_last_sync (KhWindow  *self,
               GDateTime *when)
{
  if (!kh_sync_time_replace (&self->last_sync, when))
    return;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAST_SYNC]);
}

static void
client_notify_cb (KhWindow     *self,
                  GParamSpec   *pspec,
                  KhSyncClient *client)
{
  KhSyncClientState state = KH_SYNC_CLIENT_STATE_SIGNED_OUT;
  g_autoptr(GDateTime) when = NULL;

  double progress = 0;

  g_object_get (client, "state", &state, "last-sync", &when, "progress", &progress, NULL);
  g_object_set (self->sync_indicator, "progress", progress, NULL);
  g_object_set (self->sync_strip, "progress", progress, NULL);
  set_sync_state (self, state);
  set_last_sync (self, when);
  kh_window_update_counts (self);
}

/* The engine seam: with a client, the window mirrors its state; without one, it says that this
 * build cannot sync, and keeps counting what waits to be sent. */
void
kh_window_set_sync_client (KhWindow     *self,
                           KhSyncClient *client)
{
  g_return_if_fail (KH_IS_WINDOW (self));
  g_return_if_fail (client == NULL || KH_IS_SYNC_CLIENT (client));

  if (self->sync_client == client)
    return;
  if (self->sync_client != NULL)
    g_clear_signal_handler (&self->client_notify_id, self->sync_client);
  g_set_object (&self->sync_client, client);
  if (client != NULL)
    {
      self->client_notify_id = g_signal_connect_object (client, "notify", G_CALLBACK (client_notify_cb),
                                                        self, G_CONNECT_SWAPPED);
      client_notify_cb (self, NULL, client);
    }
  else
    {
      set_sync_state (self, KH_SYNC_CLIENT_STATE_UNAVAILABLE);
      set_last_sync (self, NULL);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SYNC_CLIENT]);
  kh_window_actions_update (self);
}

KhSyncClient *
kh_window_get_sync_client (KhWindow *self)
{
  g_return_val_if_fail (KH_IS_WINDOW (self), NULL);
  return self->sync_client;
}

KhSyncClientState
kh_window_get_sync_state (KhWindow *self)
{
  g_return_val_if_fail (KH_IS_WINDOW (self), KH_SYNC_CLIENT_STATE_UNAVAILABLE);
  return self->sync_state;
}

gint64
kh_window_get_pending (KhWindow *self)
{
  g_return_val_if_fail (KH_IS_WINDOW (self), 0);
  return self->pending;
}

gint64
kh_window_get_conflicts (KhWindow *self)
{
  g_return_val_if_fail (KH_IS_WINDOW (self), 0);
  return self->conflicts;
}

gint64
kh_window_get_refused (KhWindow *self)
{
  g_return_val_if_fail (KH_IS_WINDOW (self), 0);
  return self->refused;
}

GDateTime *
kh_window_get_last_sync (KhWindow *self)
{
  g_return_val_if_fail (KH_IS_WINDOW (self), NULL);
  return self->last_sync;
}

void
kh_window_update_counts (KhWindow *self)
{
  gint64 pending;
  gint64 conflicts;
  gint64 refused;

  g_return_if_fail (KH_IS_WINDOW (self));

  pending = kh_store_count_pending (self->store);
  conflicts = kh_replica_count_conflicts (self->store);
  refused = kh_replica_count_rejected (self->store);
  if (refused != self->refused)
    {
      self->refused = refused;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REFUSED]);
    }
  if (pending != self->pending)
    {
      self->pending = pending;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PENDING]);
    }
  if (conflicts != self->conflicts)
    {
      self->conflicts = conflicts;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONFLICTS]);
    }
}

static gboolean
update_counts_idle_cb (gpointer data)
{
  KhWindow *self = data;

  self->count_source = 0;
  kh_window_update_counts (self);
  return G_SOURCE_REMOVE;
}

static void
store_changed_cb (KhWindow   *self,
                  const char *entity,
                  const char *id,
                  KhStore    *store)
{
  /* Many writes in a row (an import, a pull) count once. */
  if (self->count_source == 0)
    self->count_source = g_idle_add (update_counts_idle_cb, self);
}

/* Screenshots ---------------------------------------------------------------------------------- */

gboolean
kh_window_save_screenshots (KhWindow    *self,
                            const char  *directory,
                            const char  *suffix,
                            GError     **error)
{
  const char * const *names = kh_window_list_pages ();
  GtkSettings *settings = gtk_widget_get_settings (GTK_WIDGET (self));
  gboolean animations = TRUE;
  gboolean ok = TRUE;

  g_return_val_if_fail (KH_IS_WINDOW (self), FALSE);
  g_return_val_if_fail (directory != NULL, FALSE);

  if (g_mkdir_with_parents (directory, 0755) != 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                   _("Could not make the folder “%s”: %s"), directory, g_strerror (errno));
      return FALSE;
    }
  /* A picture shows where a page comes to rest, not a leaflet halfway through folding. */
  g_object_get (settings, "gtk-enable-animations", &animations, NULL);
  g_object_set (settings, "gtk-enable-animations", FALSE, NULL);
  for (guint i = 0; ok && names[i] != NULL; i++)
    {
      g_autofree char *file = g_strdup_printf ("%s%s%s.png", names[i], suffix ? "-" : "", suffix ? suffix : "");
      g_autofree char *path = g_build_filename (directory, file, NULL);

      GtkWidget *page;
      gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

      kh_window_show_page (self, names[i]);
      kh_widget_wait_for_paint (GTK_WIDGET (self), 3);
      /* The overview's figures are counted on a thread: the picture waits for them. */
      page = kh_window_get_page (self, names[i]);
      while (KH_IS_OVERVIEW_PAGE (page) && kh_overview_page_is_busy (KH_OVERVIEW_PAGE (page))
             && g_get_monotonic_time () < deadline)
        g_main_context_iteration (NULL, TRUE);
      kh_widget_wait_for_paint (GTK_WIDGET (self), 2);
      ok = kh_widget_save_png (GTK_WIDGET (self), path, error);
    }
  g_object_set (settings, "gtk-enable-animations", animations, NULL);
  return ok;
}

/* Object --------------------------------------------------------------------------------------- */

static void
kh_window_constructed (GObject *object)
{
  KhWindow *self = (KhWindow *) object;

  G_OBJECT_CLASS (kh_window_parent_class)->constructed (object);

  g_assert (self->store != NULL);

  for (guint i = 0; i < G_N_ELEMENTS (pages); i++)
    {
      gtk_list_box_append (self->sidebar, make_sidebar_row (&pages[i]));
      gtk_stack_add_named (self->stack, make_page (self, &pages[i]), pages[i].name);
    }
  self->store_changed_id = g_signal_connect_object (self->store, "changed",
                                                    G_CALLBACK (store_changed_cb), self,
                                                    G_CONNECT_SWAPPED);
  g_object_set_data (G_OBJECT (self), "sync-indicator", self->sync_indicator);
  g_object_set_data (G_OBJECT (self), "sync-strip", self->sync_strip);
  g_object_bind_property (self, "sync-state", self->sync_indicator, "state", G_BINDING_SYNC_CREATE);
  g_object_bind_property (self, "pending", self->sync_indicator, "pending", G_BINDING_SYNC_CREATE);
  g_object_bind_property (self, "conflicts", self->sync_indicator, "conflicts", G_BINDING_SYNC_CREATE);
  g_object_bind_property (self, "refused", self->sync_indicator, "refused", G_BINDING_SYNC_CREATE);
  g_object_bind_property (self, "last-sync", self->sync_indicator, "last-sync", G_BINDING_SYNC_CREATE);
  g_object_bind_property (self, "sync-state", self->sync_strip, "state", G_BINDING_SYNC_CREATE);
  g_object_bind_property (self, "pending", self->sync_strip, "pending", G_BINDING_SYNC_CREATE);
  g_object_bind_property (self, "conflicts", self->sync_strip, "conflicts", G_BINDING_SYNC_CREATE);
  g_object_bind_property (self, "refused", self->sync_strip, "refused", G_BINDING_SYNC_CREATE);
  g_object_bind_property (self, "last-sync", self->sync_strip, "last-sync", G_BINDING_SYNC_CREATE);

  kh_window_show_page (self, "overview");
}

/* The pending count reads the whole outbox: it waits for the first frame. */
static void
first_paint_cb (GdkFrameClock *clock,
                KhWindow      *self)
{
  g_signal_handlers_disconnect_by_func (clock, first_paint_cb, self);
  if (self->count_source == 0)
    self->count_source = g_idle_add (update_counts_idle_cb, self);
}

static void
kh_window_realize (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (kh_window_parent_class)->realize (widget);
  g_signal_connect_object (gtk_widget_get_frame_clock (widget), "after-paint",
                           G_CALLBACK (first_paint_cb), widget, 0);
}

static void
kh_window_dispose (GObject *object)
{
  KhWindow *self = (KhWindow *) object;

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->count_source, g_source_remove);
  if (self->store != NULL)
    g_clear_signal_handler (&self->store_changed_id, self->store);
  if (self->sync_client != NULL)
    g_clear_signal_handler (&self->client_notify_id, self->sync_client);
  gtk_widget_dispose_template (GTK_WIDGET (self), KH_TYPE_WINDOW);
  g_clear_object (&self->sync_client);
  g_clear_object (&self->store);
  g_clear_object (&self->settings);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (kh_window_parent_class)->dispose (object);
}

static void
kh_window_finalize (GObject *object)
{
  KhWindow *self = (KhWindow *) object;

  g_clear_pointer (&self->last_sync, g_date_time_unref);

  G_OBJECT_CLASS (kh_window_parent_class)->finalize (object);
}

static void
kh_window_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  KhWindow *self = KH_WINDOW (object);

  switch (prop_id)
    {
    case PROP_STORE:
      g_value_set_object (value, self->store);
      break;
    case PROP_SYNC_CLIENT:
      g_value_set_object (value, self->sync_client);
      break;
    case PROP_SYNC_STATE:
      g_value_set_enum (value, self->sync_state);
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
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kh_window_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  KhWindow *self = KH_WINDOW (object);

  switch (prop_id)
    {
    case PROP_STORE:
      self->store = g_value_dup_object (value);
      break;
    case PROP_SYNC_CLIENT:
      kh_window_set_sync_client (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static gboolean
kh_window_not (gpointer data,
               gboolean value)
{
  return !value;
}

/* Folded (a phone, a window narrowed to 360 pixels), the header keeps only the close button of
 * the window's buttons, on the side the desktop puts it: beside minimize and maximize a page's
 * title had 160 pixels, and "Học bổng và khen thưởng" lost its end. Unfolded, NULL: the
 * desktop's own layout. */
static char *
kh_window_folded_layout (gpointer data,
                         gboolean folded)
{
  g_autofree char *layout = NULL;
  g_auto(GStrv) sides = NULL;
  GString *kept;

  if (!folded)
    return NULL;
  g_object_get (gtk_settings_get_default (), "gtk-decoration-layout", &layout, NULL);
  if (layout == NULL || strstr (layout, "close") == NULL)
    return g_steal_pointer (&layout);
  sides = g_strsplit (layout, ":", 2);
  kept = g_string_new (NULL);
  for (guint i = 0; sides[i] != NULL; i++)
    {
      if (i > 0)
        g_string_append_c (kept, ':');
      if (strstr (sides[i], "close") != NULL)
        g_string_append (kept, "close");
    }
  return g_string_free (kept, FALSE);
}

static void
kh_window_class_init (KhWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = kh_window_constructed;
  object_class->dispose = kh_window_dispose;
  object_class->finalize = kh_window_finalize;
  object_class->get_property = kh_window_get_property;
  object_class->set_property = kh_window_set_property;
  widget_class->realize = kh_window_realize;

  properties[PROP_STORE] =
    g_param_spec_object ("store", NULL, NULL, KH_TYPE_STORE,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SYNC_CLIENT] =
    g_param_spec_object ("sync-client", NULL, NULL, KH_TYPE_SYNC_CLIENT,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SYNC_STATE] =
    g_param_spec_enum ("sync-state", NULL, NULL, KH_TYPE_SYNC_CLIENT_STATE, KH_SYNC_CLIENT_STATE_UNAVAILABLE,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PENDING] =
    g_param_spec_int64 ("pending", NULL, NULL, 0, G_MAXINT64, 0,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_CONFLICTS] =
    g_param_spec_int64 ("conflicts", NULL, NULL, 0, G_MAXINT64, 0,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_REFUSED] =
    g_param_spec_int64 ("refused", NULL, NULL, 0, G_MAXINT64, 0,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_LAST_SYNC] =
    g_param_spec_boxed ("last-sync", NULL, NULL, G_TYPE_DATE_TIME,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (KH_TYPE_SYNC_INDICATOR);

  gtk_widget_class_set_template_from_resource (widget_class, "/vn/khuyenhoc/KhuyenHoc/ui/kh-window.ui");
  gtk_widget_class_bind_template_child (widget_class, KhWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, KhWindow, leaflet);
  gtk_widget_class_bind_template_child (widget_class, KhWindow, sidebar);
  gtk_widget_class_bind_template_child (widget_class, KhWindow, content_box);
  gtk_widget_class_bind_template_child (widget_class, KhWindow, content_title);
  gtk_widget_class_bind_template_child (widget_class, KhWindow, sync_indicator);
  gtk_widget_class_bind_template_child (widget_class, KhWindow, sync_strip);
  gtk_widget_class_bind_template_callback (widget_class, kh_window_not);
  gtk_widget_class_bind_template_callback (widget_class, kh_window_folded_layout);
  gtk_widget_class_bind_template_child (widget_class, KhWindow, stack);
  gtk_widget_class_bind_template_callback (widget_class, sidebar_row_activated_cb);

  kh_window_class_actions_init (klass);
}

static void
kh_window_init (KhWindow *self)
{
  self->cancellable = g_cancellable_new ();
  self->sync_state = KH_SYNC_CLIENT_STATE_UNAVAILABLE;
  /* Before anything is drawn, so no glyph is rendered with the hinting that drops marks. */
  kh_text_rendering_setup (gtk_widget_get_display (GTK_WIDGET (self)));
  gtk_widget_init_template (GTK_WIDGET (self));
}

KhWindow *
kh_window_new (GtkApplication *application,
               KhStore        *store)
{
  KhWindow *self;

  g_return_val_if_fail (application == NULL || GTK_IS_APPLICATION (application), NULL);
  g_return_val_if_fail (KH_IS_STORE (store), NULL);

  self = g_object_new (KH_TYPE_WINDOW, "application", application, "store", store, NULL);
  /* The application's window comes back at the size it was left; a window made by a test or
   * a tool has the template's size and leaves the person's settings alone. */
  if (application != NULL && (self->settings = kh_settings_new ()) != NULL)
    {
      g_settings_bind (self->settings, "window-width", self, "default-width", G_SETTINGS_BIND_DEFAULT);
      g_settings_bind (self->settings, "window-height", self, "default-height", G_SETTINGS_BIND_DEFAULT);
      g_settings_bind (self->settings, "window-maximized", self, "maximized", G_SETTINGS_BIND_DEFAULT);
    }
  return self;
}
