/* kh-overview-page.c: the year's figures at a glance
 *
 * Counts come from the store once the page is shown, on a worker thread with its own connection
 * (SQLite's WAL lets it read while the window writes): on a million records they take about a
 * second, which must neither delay the window's first frame nor freeze it afterwards.
 *
 * On a first run (no account and not one record) the headings would all read zero: the page
 * shows instead what to do first, sign in or start working offline.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include "kh-entity.h"

#include "kh-figures-view.h"
#include "kh-overview-page.h"
#include "kh-privacy.h"
#include "kh-replica.h"
#include "kh-sync-client.h"
#include "kh-ui-test-private.h"

struct _KhOverviewPage
{
  GtkBox               parent_instance;

  KhStore             *store;
  GCancellable        *cancellable;
  gboolean             busy;
  guint                refresh_source;
  gboolean             stale;
  gulong               changed_id;
  KhSyncClientState    sync_state;
  gboolean             empty;         /* the last count found no record at all */
  gboolean             offline_chosen;

  GtkStack            *stack;
  GtkWidget           *sign_in_button;
  KhFiguresView       *figures_view;
  AdwPreferencesGroup *models_group;
  AdwPreferencesGroup *awards_group;
  AdwPreferencesGroup *people_group;
  AdwPreferencesGroup *local_group;
  GPtrArray           *rows;
};

G_DEFINE_FINAL_TYPE (KhOverviewPage, kh_overview_page, GTK_TYPE_BOX)

enum
{
  PROP_0,
  PROP_SYNC_STATE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

typedef struct
{
  char   *path;
  gint64  models[KH_N_MODELS];
  gint64  entries, lists, donations, funds;
  gint64  people, households, clans, units;
  gint64  no_consent;
  gint64  pending, conflicts;
} Figures;

static void
figures_free (gpointer data)
{
  Figures *f = data;

  g_free (f->path);
  g_free (f);
}

static gint64
count (KhStore     *store,
       const char  *entity,
       const char  *field,
       json_object *value)
{
  KhQuery query = { 0 };
  gint64 n;

  if (field != NULL)
    {
      query.where = json_object_new_object ();
      json_object_object_add (query.where, field, value);
    }
  n = kh_store_count (store, entity, &query, NULL);
  json_object_put (query.where);
  return MAX (n, 0);
}

static void
count_thread (GTask        *task,
              gpointer      source,
              gpointer      data,
              GCancellable *cancellable)
{
  Figures *f = data;
  GError *error = NULL;
  g_autoptr(KhStore) store = kh_store_open_for_job (f->path, &error);

  if (store == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  for (guint i = 0; i < KH_N_MODELS; i++)
    f->models[i] = count (store, "registration", "model", json_object_new_string (kh_models ()[i]));
  f->entries = count (store, "award_entry", NULL, NULL);
  f->lists = count (store, "award_list", NULL, NULL);
  f->donations = count (store, "donation", NULL, NULL);
  f->funds = count (store, "fund", NULL, NULL);
  f->people = count (store, "person", NULL, NULL);
  f->no_consent = kh_store_count_without_consent (store, NULL);
  f->households = count (store, "household", NULL, NULL);
  f->clans = count (store, "clan", NULL, NULL);
  f->units = count (store, "org_unit", NULL, NULL);
  f->pending = kh_store_count_pending (store);
  f->conflicts = kh_replica_count_conflicts (store);
  g_task_return_boolean (task, TRUE);
}

static void
add_row (KhOverviewPage      *self,
         AdwPreferencesGroup *group,
         const char          *title,
         const char          *value)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *label = gtk_label_new (value);

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  gtk_widget_add_css_class (label, "numeric");
  gtk_widget_add_css_class (label, "title-4");
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), label);
  adw_preferences_group_add (group, row);
  g_ptr_array_add (self->rows, row);
}

/* Signed out (or unable to sync) with nothing stored: the first run. An account, a record or
 * the person's choice to work offline shows the figures. */
static void
update_first_run (KhOverviewPage *self)
{
  gboolean signed_out = self->sync_state == KH_SYNC_CLIENT_STATE_SIGNED_OUT
                        || self->sync_state == KH_SYNC_CLIENT_STATE_UNAVAILABLE;
  gboolean first_run = self->empty && signed_out && !self->offline_chosen;

  /* Without a sync engine there is no one to sign in with: only working offline is offered. */
  gtk_widget_set_visible (self->sign_in_button, self->sync_state == KH_SYNC_CLIENT_STATE_SIGNED_OUT);
  gtk_stack_set_visible_child_name (self->stack, first_run ? "first-run" : "figures");
}

static void
offline_clicked_cb (KhOverviewPage *self)
{
  self->offline_chosen = TRUE;
  update_first_run (self);
}

static char *
number (gint64 n)
{
  return g_strdup_printf ("%'" G_GINT64_FORMAT, n);
}

static void
show_figures (KhOverviewPage *self,
              Figures        *f)
{
  struct { AdwPreferencesGroup *group; const char *title; gint64 value; } rows[] = {
    { self->awards_group, _("Scholarships, awards and grants"), f->entries },
    { self->awards_group, _("Award lists"), f->lists },
    { self->awards_group, _("Donations"), f->donations },
    { self->awards_group, _("Study promotion funds"), f->funds },
    { self->people_group, _("People"), f->people },
    { self->people_group, _("Minors without a valid consent"), f->no_consent },
    { self->people_group, _("Households"), f->households },
    { self->people_group, _("Clans"), f->clans },
    { self->people_group, _("Units, schools and villages"), f->units },
    { self->local_group, _("Changes waiting to be sent"), f->pending },
    { self->local_group, _("Conflicts to resolve"), f->conflicts },
  };

  for (guint i = 0; i < self->rows->len; i++)
    {
      GtkWidget *row = self->rows->pdata[i];

      adw_preferences_group_remove (ADW_PREFERENCES_GROUP (gtk_widget_get_ancestor (row, ADW_TYPE_PREFERENCES_GROUP)), row);
    }
  g_ptr_array_set_size (self->rows, 0);

  for (guint i = 0; i < KH_N_MODELS; i++)
    {
      g_autofree char *text = number (f->models[i]);

      add_row (self, self->models_group, kh_model_label (kh_models ()[i]), text);
    }
  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      g_autofree char *text = number (rows[i].value);

      add_row (self, rows[i].group, rows[i].title, text);
    }
  kh_figures_view_refresh (self->figures_view);

  {
    gint64 total = f->entries + f->lists + f->donations + f->funds + f->people + f->households
                   + f->clans + f->units + f->pending + f->conflicts;

    for (guint i = 0; i < KH_N_MODELS; i++)
      total += f->models[i];
    self->empty = total == 0;
  }
  update_first_run (self);
}

static void
weak_ref_free (gpointer data)
{
  g_weak_ref_clear (data);
  g_free (data);
}

/* The task holds the page only weakly, so a window closed while counting finalizes at once
 * (with its store) instead of waiting for the thread. */
static void
count_done_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  GWeakRef *ref = user_data;
  g_autoptr(KhOverviewPage) self = g_weak_ref_get (ref);
  g_autoptr(GError) error = NULL;
  gboolean ok = g_task_propagate_boolean (G_TASK (result), &error);

  weak_ref_free (ref);
  if (self == NULL || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (!ok)
    g_warning ("%s", error->message);
  else
    show_figures (self, g_task_get_task_data (G_TASK (result)));
  self->busy = FALSE;
  /* Something changed while counting: count again. */
  if (self->stale && gtk_widget_get_mapped (GTK_WIDGET (self)))
    kh_overview_page_refresh (self);
}

void
kh_overview_page_refresh (KhOverviewPage *self)
{
  g_autoptr(GTask) task = NULL;
  Figures *f;

  g_return_if_fail (KH_IS_OVERVIEW_PAGE (self));

  if (self->busy)
    return;
  self->busy = TRUE;
  self->stale = FALSE;
  f = g_new0 (Figures, 1);
  f->path = g_strdup (kh_store_get_path (self->store));
  {
    GWeakRef *ref = g_new0 (GWeakRef, 1);

    g_weak_ref_init (ref, self);
    task = g_task_new (NULL, self->cancellable, count_done_cb, ref);
  }
  g_task_set_source_tag (task, kh_overview_page_refresh);
  g_task_set_task_data (task, f, figures_free);
  g_task_run_in_thread (task, count_thread);
}

gboolean
kh_overview_page_is_busy (KhOverviewPage *self)
{
  g_return_val_if_fail (KH_IS_OVERVIEW_PAGE (self), FALSE);
  return self->busy || self->refresh_source != 0;
}

static gboolean
refresh_idle_cb (gpointer data)
{
  KhOverviewPage *self = data;

  self->refresh_source = 0;
  kh_overview_page_refresh (self);
  return G_SOURCE_REMOVE;
}

static void
schedule_refresh (KhOverviewPage *self)
{
  if (self->refresh_source == 0)
    self->refresh_source = g_idle_add_full (G_PRIORITY_LOW, refresh_idle_cb, self, NULL);
}

static void
kh_overview_page_map (GtkWidget *widget)
{
  KhOverviewPage *self = KH_OVERVIEW_PAGE (widget);

  GTK_WIDGET_CLASS (kh_overview_page_parent_class)->map (widget);
  if (self->stale)
    schedule_refresh (self);
}

static void
store_changed_cb (KhOverviewPage *self)
{
  self->stale = TRUE;
  if (gtk_widget_get_mapped (GTK_WIDGET (self)))
    schedule_refresh (self);
}

static void
kh_overview_page_dispose (GObject *object)
{
  KhOverviewPage *self = (KhOverviewPage *) object;

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->refresh_source, g_source_remove);
  if (self->store != NULL)
    g_clear_signal_handler (&self->changed_id, self->store);
  g_clear_pointer (&self->rows, g_ptr_array_unref);
  gtk_widget_dispose_template (GTK_WIDGET (self), KH_TYPE_OVERVIEW_PAGE);
  g_clear_object (&self->store);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (kh_overview_page_parent_class)->dispose (object);
}

gboolean
kh_overview_page_is_first_run_shown (KhOverviewPage *self)
{
  g_return_val_if_fail (KH_IS_OVERVIEW_PAGE (self), FALSE);
  return g_strcmp0 (gtk_stack_get_visible_child_name (self->stack), "first-run") == 0;
}

static void
kh_overview_page_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  KhOverviewPage *self = KH_OVERVIEW_PAGE (object);

  switch (prop_id)
    {
    case PROP_SYNC_STATE:
      g_value_set_enum (value, self->sync_state);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kh_overview_page_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  KhOverviewPage *self = KH_OVERVIEW_PAGE (object);

  switch (prop_id)
    {
    case PROP_SYNC_STATE:
      if (self->sync_state != (KhSyncClientState) g_value_get_enum (value))
        {
          self->sync_state = g_value_get_enum (value);
          update_first_run (self);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kh_overview_page_class_init (KhOverviewPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kh_overview_page_dispose;
  object_class->get_property = kh_overview_page_get_property;
  object_class->set_property = kh_overview_page_set_property;
  widget_class->map = kh_overview_page_map;

  g_type_ensure (KH_TYPE_FIGURES_VIEW);
  gtk_widget_class_set_template_from_resource (widget_class, "/vn/khuyenhoc/KhuyenHoc/ui/kh-overview-page.ui");
  /* The window's sync state: whether signing in is offered on a first run. */
  properties[PROP_SYNC_STATE] =
    g_param_spec_enum ("sync-state", NULL, NULL, KH_TYPE_SYNC_CLIENT_STATE, KH_SYNC_CLIENT_STATE_UNAVAILABLE,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_bind_template_child (widget_class, KhOverviewPage, stack);
  gtk_widget_class_bind_template_child (widget_class, KhOverviewPage, sign_in_button);
  gtk_widget_class_bind_template_child (widget_class, KhOverviewPage, figures_view);
  gtk_widget_class_bind_template_child (widget_class, KhOverviewPage, models_group);
  gtk_widget_class_bind_template_child (widget_class, KhOverviewPage, awards_group);
  gtk_widget_class_bind_template_child (widget_class, KhOverviewPage, people_group);
  gtk_widget_class_bind_template_child (widget_class, KhOverviewPage, local_group);
  gtk_widget_class_bind_template_callback (widget_class, offline_clicked_cb);
}

static void
kh_overview_page_init (KhOverviewPage *self)
{
  self->rows = g_ptr_array_new ();
  self->cancellable = g_cancellable_new ();
  self->stale = TRUE;
  self->sync_state = KH_SYNC_CLIENT_STATE_UNAVAILABLE;
  gtk_widget_init_template (GTK_WIDGET (self));
  /* Until the first count, the figures (not a welcome that may flash away). */
  update_first_run (self);
}

GtkWidget *
kh_overview_page_new (KhStore *store)
{
  KhOverviewPage *self;

  g_return_val_if_fail (KH_IS_STORE (store), NULL);

  self = g_object_new (KH_TYPE_OVERVIEW_PAGE, NULL);
  self->store = g_object_ref (store);
  kh_figures_view_set_store (self->figures_view, store);
  self->changed_id = g_signal_connect_object (store, "changed", G_CALLBACK (store_changed_cb),
                                              self, G_CONNECT_SWAPPED);
  return GTK_WIDGET (self);
}
