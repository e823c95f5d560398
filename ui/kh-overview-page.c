/* kh-overview-page.c: the year's figures at a glance
 *
 * Counts come from the store once the page is shown, in an idle callback, so the window's first
 * frame never waits for them.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include "kh-entity.h"

#include "kh-conflicts.h"
#include "kh-figures-view.h"
#include "kh-overview-page.h"

struct _KhOverviewPage
{
  GtkBox               parent_instance;

  KhStore             *store;
  guint                refresh_source;
  gboolean             stale;
  gulong               changed_id;

  KhFiguresView       *figures_view;
  AdwPreferencesGroup *models_group;
  AdwPreferencesGroup *awards_group;
  AdwPreferencesGroup *people_group;
  AdwPreferencesGroup *local_group;
  GPtrArray           *rows;
};

G_DEFINE_FINAL_TYPE (KhOverviewPage, kh_overview_page, GTK_TYPE_BOX)

static const char * const models[] = { "citizen", "family", "clan", "community", "unit" };

static gint64
count (KhOverviewPage *self,
       const char     *entity,
       const char     *field,
       json_object    *value)
{
  KhQuery query = { 0 };
  gint64 n;

  if (field != NULL)
    {
      query.where = json_object_new_object ();
      json_object_object_add (query.where, field, value);
    }
  n = kh_store_count (self->store, entity, &query, NULL);
  json_object_put (query.where);
  return MAX (n, 0);
}

static void
add_row (KhOverviewPage      *self,
         AdwPreferencesGroup *group,
         const char          *title,
         const char          *value)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *label = gtk_label_new (value);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  gtk_widget_add_css_class (label, "numeric");
  gtk_widget_add_css_class (label, "title-4");
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), label);
  adw_preferences_group_add (group, row);
  g_ptr_array_add (self->rows, row);
}

static char *
number (gint64 n)
{
  return g_strdup_printf ("%'" G_GINT64_FORMAT, n);
}

void
kh_overview_page_refresh (KhOverviewPage *self)
{
  const KhField *model_field = kh_entity_get_field (kh_entity_lookup ("registration"), "model");

  g_return_if_fail (KH_IS_OVERVIEW_PAGE (self));

  for (guint i = 0; i < self->rows->len; i++)
    {
      GtkWidget *row = self->rows->pdata[i];

      adw_preferences_group_remove (ADW_PREFERENCES_GROUP (gtk_widget_get_ancestor (row, ADW_TYPE_PREFERENCES_GROUP)), row);
    }
  g_ptr_array_set_size (self->rows, 0);

  for (guint i = 0; i < G_N_ELEMENTS (models); i++)
    {
      g_autofree char *text = number (count (self, "registration", "model", json_object_new_string (models[i])));

      add_row (self, self->models_group, kh_field_enum_label (model_field, models[i]), text);
    }
  {
    g_autofree char *entries = number (count (self, "award_entry", NULL, NULL));
    g_autofree char *lists = number (count (self, "award_list", NULL, NULL));
    g_autofree char *donations = number (count (self, "donation", NULL, NULL));
    g_autofree char *funds = number (count (self, "fund", NULL, NULL));

    add_row (self, self->awards_group, _("Scholarships, awards and grants"), entries);
    add_row (self, self->awards_group, _("Award lists"), lists);
    add_row (self, self->awards_group, _("Donations"), donations);
    add_row (self, self->awards_group, _("Study promotion funds"), funds);
  }
  {
    g_autofree char *people = number (count (self, "person", NULL, NULL));
    g_autofree char *households = number (count (self, "household", NULL, NULL));
    g_autofree char *clans = number (count (self, "clan", NULL, NULL));
    g_autofree char *units = number (count (self, "org_unit", NULL, NULL));

    add_row (self, self->people_group, _("People"), people);
    add_row (self, self->people_group, _("Households"), households);
    add_row (self, self->people_group, _("Clans"), clans);
    add_row (self, self->people_group, _("Units, schools and villages"), units);
  }
  {
    g_autofree char *pending = number (kh_store_count_pending (self->store));
    g_autofree char *conflicts = number (kh_conflicts_count (self->store));

    add_row (self, self->local_group, _("Changes waiting to be sent"), pending);
    add_row (self, self->local_group, _("Conflicts to resolve"), conflicts);
  }
  kh_figures_view_refresh (self->figures_view);
  self->stale = FALSE;
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

  g_clear_handle_id (&self->refresh_source, g_source_remove);
  if (self->store != NULL)
    g_clear_signal_handler (&self->changed_id, self->store);
  g_clear_pointer (&self->rows, g_ptr_array_unref);
  gtk_widget_dispose_template (GTK_WIDGET (self), KH_TYPE_OVERVIEW_PAGE);
  g_clear_object (&self->store);

  G_OBJECT_CLASS (kh_overview_page_parent_class)->dispose (object);
}

static void
kh_overview_page_class_init (KhOverviewPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kh_overview_page_dispose;
  widget_class->map = kh_overview_page_map;

  g_type_ensure (KH_TYPE_FIGURES_VIEW);
  gtk_widget_class_set_template_from_resource (widget_class, "/vn/khuyenhoc/KhuyenHoc/ui/kh-overview-page.ui");
  gtk_widget_class_bind_template_child (widget_class, KhOverviewPage, figures_view);
  gtk_widget_class_bind_template_child (widget_class, KhOverviewPage, models_group);
  gtk_widget_class_bind_template_child (widget_class, KhOverviewPage, awards_group);
  gtk_widget_class_bind_template_child (widget_class, KhOverviewPage, people_group);
  gtk_widget_class_bind_template_child (widget_class, KhOverviewPage, local_group);
}

static void
kh_overview_page_init (KhOverviewPage *self)
{
  self->rows = g_ptr_array_new ();
  self->stale = TRUE;
  gtk_widget_init_template (GTK_WIDGET (self));
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
