/* kh-figures-view.c: the year's figures with a chart, on the Overview page
 *
 * The figures of the replica's top unit for a year and the four before it
 * (kh_report_compute_years()): a bar chart of the five learning models for the year
 * (registered, achieved, and the eligible population where every unit has one), the years side
 * by side, the scholarships and awards, the funds, and the units directly below. They are
 * counted in a worker thread on a connection of its own, so the window never waits, and can be
 * exported to Excel.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-figures-view.h"
#include "kh-format.h"
#include "kh-list-page.h"
#include "kh-report.h"
#include "kh-ui-test-private.h"
#include "kh-width-choice.h"

#define N_YEARS 6
#define N_SIDE_BY_SIDE 5

struct _KhFiguresView
{
  GtkBox               parent_instance;

  KhStore             *store;
  GCancellable        *cancellable;
  json_object         *report;       /* the year chosen: the last of years_report */
  json_object         *years_report;
  int                  years[N_YEARS];
  gboolean             years_set;

  GtkDropDown         *year_dropdown;
  GtkCheckButton      *successor_check;
  GtkButton           *export_button;
  GtkLabel            *status_label;
  GtkDrawingArea      *chart;
  GtkLabel            *shares_label;
  GtkGrid             *years_grid;
  GtkGrid             *years_down;   /* the same figures a year under the other, for a phone */
  AdwPreferencesGroup *awards_group;
  AdwPreferencesGroup *funds_group;
  AdwPreferencesGroup *children_group;
  GPtrArray           *rows;
  GtkFileChooserNative *chooser;
  gboolean             legend_cut;   /* the chart's legend, last drawn, was cut short */
};

G_DEFINE_FINAL_TYPE (KhFiguresView, kh_figures_view, GTK_TYPE_BOX)

/* Counting, in a worker -------------------------------------------------------------------- */

typedef struct
{
  char     *path;
  int       year;
  gboolean  by_successor;
} Job;

static void
job_free (gpointer data)
{
  Job *job = data;

  g_free (job->path);
  g_free (job);
}

static void
compute_thread (GTask        *task,
                gpointer      source,
                gpointer      data,
                GCancellable *cancellable)
{
  Job *job = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(KhStore) store = kh_store_open_for_job (job->path, &error);
  g_autofree char *unit = NULL;
  json_object *report;

  if (store == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  unit = kh_report_default_unit (store);
  if (unit == NULL)
    {
      g_task_return_pointer (task, NULL, NULL);
      return;
    }
  if (job->year == 0)
    job->year = kh_report_latest_year (store);
  /* The year and the four before it, side by side (the period a province reports on). */
  report = kh_report_compute_years (store, unit, job->year - (N_SIDE_BY_SIDE - 1), job->year,
                                    job->by_successor, &error);
  if (report == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, report, (GDestroyNotify) json_object_put);
}

/* Showing ---------------------------------------------------------------------------------- */

static gint64
geti (json_object *o,
      const char  *key)
{
  return json_object_get_int64 (json_object_object_get (o, key));
}

static const char *
gets (json_object *o,
      const char  *key)
{
  const char *s = json_object_get_string (json_object_object_get (o, key));

  return s != NULL ? s : "";
}

static void
clear_rows (KhFiguresView *self)
{
  for (guint i = 0; i < self->rows->len; i++)
    {
      GtkWidget *row = self->rows->pdata[i];
      GtkWidget *group = gtk_widget_get_ancestor (row, ADW_TYPE_PREFERENCES_GROUP);

      if (group != NULL)
        adw_preferences_group_remove (ADW_PREFERENCES_GROUP (group), row);
    }
  g_ptr_array_set_size (self->rows, 0);
}

static void
add_row (KhFiguresView       *self,
         AdwPreferencesGroup *group,
         const char          *title,
         const char          *subtitle,
         const char          *value)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *label = gtk_label_new (value);

  /* Unit and fund names are plain text: "Trường A & B" must not be read as markup. */
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  if (subtitle != NULL)
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  gtk_widget_add_css_class (label, "numeric");
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), label);
  adw_preferences_group_add (group, row);
  g_ptr_array_add (self->rows, row);
}

/* "Model: no share, no eligible population for A, B and 3 more." */
static char *
missing_text (json_object *m)
{
  json_object *missing = json_object_object_get (m, "eligible_missing");
  g_autoptr(GString) names = g_string_new (NULL);
  size_t n = json_object_array_length (missing);
  gint64 all = geti (m, "eligible_missing_count");

  for (size_t k = 0; k < n && k < 5; k++)
    {
      if (k > 0)
        g_string_append (names, ", ");
      g_string_append (names, gets (json_object_array_get_idx (missing, k), "name"));
    }
  if (all > (gint64) MIN (n, 5))
    g_string_append_printf (names, _(" and %d more"), (int) (all - (gint64) MIN (n, 5)));
  return g_strdup_printf (_("%s: no share, no eligible population for %s."), gets (m, "label"), names->str);
}

/* Why a model's share is not given: the units without a denominator, or figures that do not
 * fit. */
static void
show_shares (KhFiguresView *self)
{
  json_object *models = json_object_object_get (self->report, "models");
  g_autoptr(GString) text = g_string_new (NULL);

  for (size_t i = 0; i < json_object_array_length (models); i++)
    {
      json_object *m = json_object_array_get_idx (models, i);
      json_object *missing = json_object_object_get (m, "eligible_missing");

      if (json_object_get_boolean (json_object_object_get (m, "over_eligible")))
        {
          g_autofree char *reg = kh_format_number_style (geti (m, "registered"), KH_FORMAT_AUTO);
          g_autofree char *elig = kh_format_number_style (geti (m, "eligible"), KH_FORMAT_AUTO);

          if (text->len > 0)
            g_string_append_c (text, '\n');
          g_string_append_printf (text, _("%s: %s registered of %s eligible; check the eligible population."),
                                  gets (m, "label"), reg, elig);
        }
      else if (missing != NULL)
        {
          g_autofree char *why = missing_text (m);

          if (text->len > 0)
            g_string_append_c (text, '\n');
          g_string_append (text, why);
        }
    }
  gtk_label_set_text (self->shares_label, text->str);
  gtk_widget_set_visible (GTK_WIDGET (self->shares_label), text->len > 0);
}

static void
clear_years (KhFiguresView *self)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->years_grid))) != NULL)
    gtk_grid_remove (self->years_grid, child);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->years_down))) != NULL)
    gtk_grid_remove (self->years_down, child);
}

static GtkWidget *
grid_label (const char *text,
            float       xalign,
            gboolean    heading)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_xalign (GTK_LABEL (label), xalign);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  /* The years' columns of one width, wide enough for "1.234 / 5.678". */
  if (xalign > 0.5f)
    gtk_label_set_width_chars (GTK_LABEL (label), 11);
  if (heading)
    gtk_widget_add_css_class (label, "heading");
  else if (xalign > 0.5f)
    gtk_widget_add_css_class (label, "numeric");
  return label;
}

/* A model's figures in a year: achieved of registered, and the share @between them and after. */
static char *
model_figures (json_object *m,
               const char  *between)
{
  json_object *sh = json_object_object_get (m, "achieved_share");
  g_autofree char *ach = kh_format_number_style (geti (m, "achieved"), KH_FORMAT_AUTO);
  g_autofree char *reg = kh_format_number_style (geti (m, "registered"), KH_FORMAT_AUTO);
  g_autofree char *pct = sh != NULL ? kh_format_percent_style (json_object_get_double (sh), KH_FORMAT_AUTO)
                                    : g_strdup ("—");

  return g_strdup_printf ("%s / %s%s%s", ach, reg, between, pct);
}

/* The years one under the other, the year chosen first: on a phone five years side by side
 * scrolled sideways, and a person lost the row's name with the first column. Each year is a
 * heading, then a line for each model and for the money, the name and its figures. */
static void
show_years_down (KhFiguresView *self)
{
  json_object *years = json_object_object_get (self->years_report, "years");
  int row = 0;

  for (size_t k = json_object_array_length (years); k-- > 0;)
    {
      json_object *year = json_object_array_get_idx (years, k);
      json_object *models = json_object_object_get (year, "models");
      g_autofree char *heading = g_strdup_printf ("%d", (int) geti (year, "year"));
      g_autofree char *awards = kh_format_money_style (geti (json_object_object_get (year, "awards_total"), "amount"),
                                                       KH_FORMAT_AUTO);
      g_autofree char *mobilized = kh_format_money_style (geti (json_object_object_get (year, "funds_total"), "mobilized"),
                                                          KH_FORMAT_AUTO);
      GtkWidget *label = grid_label (heading, 0, TRUE);

      if (row > 0)
        gtk_widget_set_margin_top (label, 12);
      gtk_grid_attach (self->years_down, label, 0, row++, 2, 1);
      for (size_t i = 0; i < json_object_array_length (models); i++, row++)
        {
          json_object *m = json_object_array_get_idx (models, i);
          g_autofree char *text = model_figures (m, " · ");
          GtkWidget *cell = grid_label (text, 1, FALSE);

          gtk_label_set_width_chars (GTK_LABEL (cell), -1);
          if (json_object_object_get (m, "eligible_missing") != NULL)
            {
              g_autofree char *why = missing_text (m);

              gtk_widget_set_tooltip_text (cell, why);
            }
          label = grid_label (gets (m, "label"), 0, FALSE);
          gtk_widget_set_hexpand (label, TRUE);
          gtk_grid_attach (self->years_down, label, 0, row, 1, 1);
          gtk_grid_attach (self->years_down, cell, 1, row, 1, 1);
        }
      gtk_grid_attach (self->years_down, grid_label (_("Awards (đồng)"), 0, FALSE), 0, row, 1, 1);
      gtk_grid_attach (self->years_down, grid_label (awards, 1, FALSE), 1, row++, 1, 1);
      gtk_grid_attach (self->years_down, grid_label (_("Mobilized (đồng)"), 0, FALSE), 0, row, 1, 1);
      gtk_grid_attach (self->years_down, grid_label (mobilized, 1, FALSE), 1, row++, 1, 1);
    }
}

/* The years side by side: for each model, achieved of registered and the share under it. */
static void
show_years (KhFiguresView *self)
{
  json_object *years = json_object_object_get (self->years_report, "years");
  size_t n = json_object_array_length (years);
  json_object *first;
  int row = 0;

  clear_years (self);
  if (n == 0)
    return;
  first = json_object_array_get_idx (years, 0);
  for (size_t y = 0; y < n; y++)
    {
      g_autofree char *year = g_strdup_printf ("%d", (int) geti (json_object_array_get_idx (years, y), "year"));

      gtk_grid_attach (self->years_grid, grid_label (year, 1, TRUE), (int) y + 1, row, 1, 1);
    }
  row++;
  for (size_t i = 0; i < json_object_array_length (json_object_object_get (first, "models")); i++, row++)
    {
      json_object *m0 = json_object_array_get_idx (json_object_object_get (first, "models"), i);

      gtk_grid_attach (self->years_grid, grid_label (gets (m0, "label"), 0, FALSE), 0, row, 1, 1);
      for (size_t y = 0; y < n; y++)
        {
          json_object *m = json_object_array_get_idx (json_object_object_get (json_object_array_get_idx (years, y), "models"), i);
          g_autofree char *text = model_figures (m, "\n");
          GtkWidget *cell = grid_label (text, 1, FALSE);

          /* A share left out says why when pointed at. */
          if (json_object_object_get (m, "eligible_missing") != NULL)
            {
              g_autofree char *why = missing_text (m);

              gtk_widget_set_tooltip_text (cell, why);
            }
          gtk_grid_attach (self->years_grid, cell, (int) y + 1, row, 1, 1);
        }
    }
  {
    const char *label = _("Awards (đồng)");

    gtk_grid_attach (self->years_grid, grid_label (label, 0, FALSE), 0, row, 1, 1);
    for (size_t y = 0; y < n; y++)
      {
        json_object *t = json_object_object_get (json_object_array_get_idx (years, y), "awards_total");
        g_autofree char *money = kh_format_money_style (geti (t, "amount"), KH_FORMAT_AUTO);

        gtk_grid_attach (self->years_grid, grid_label (money, 1, FALSE), (int) y + 1, row, 1, 1);
      }
    row++;
    label = _("Mobilized (đồng)");
    gtk_grid_attach (self->years_grid, grid_label (label, 0, FALSE), 0, row, 1, 1);
    for (size_t y = 0; y < n; y++)
      {
        json_object *t = json_object_object_get (json_object_array_get_idx (years, y), "funds_total");
        g_autofree char *money = kh_format_money_style (geti (t, "mobilized"), KH_FORMAT_AUTO);

        gtk_grid_attach (self->years_grid, grid_label (money, 1, FALSE), (int) y + 1, row, 1, 1);
      }
  }
  show_years_down (self);
}

static void
show_report (KhFiguresView *self)
{
  json_object *r = self->report;
  json_object *list;

  clear_rows (self);
  gtk_widget_queue_draw (GTK_WIDGET (self->chart));
  gtk_widget_set_sensitive (GTK_WIDGET (self->export_button), r != NULL);
  if (r == NULL)
    {
      gtk_label_set_text (self->status_label, _("There are no units yet."));
      gtk_widget_set_visible (GTK_WIDGET (self->shares_label), FALSE);
      clear_years (self);
      return;
    }
  {
    json_object *unit = json_object_object_get (r, "unit");
    g_autofree char *text = g_strdup_printf (_("Figures for %s (%s), %d"), gets (unit, "name"),
                                             gets (unit, "code"), (int) geti (r, "year"));

    gtk_label_set_text (self->status_label, text);
  }
  show_shares (self);
  show_years (self);

  list = json_object_object_get (r, "awards");
  for (size_t i = 0; i < json_object_array_length (list); i++)
    {
      json_object *a = json_object_array_get_idx (list, i);
      g_autofree char *money = kh_format_money_style (geti (a, "amount"), KH_FORMAT_AUTO);
      g_autofree char *count = kh_format_number_style (geti (a, "count"), KH_FORMAT_AUTO);

      add_row (self, self->awards_group, gets (a, "label"), money, count);
    }
  {
    json_object *t = json_object_object_get (r, "awards_total");
    g_autofree char *money = kh_format_money_style (geti (t, "amount"), KH_FORMAT_AUTO);
    g_autofree char *count = kh_format_number_style (geti (t, "count"), KH_FORMAT_AUTO);

    add_row (self, self->awards_group, _("Total"), money, count);
  }

  list = json_object_object_get (r, "funds");
  for (size_t i = 0; i < json_object_array_length (list); i++)
    {
      json_object *f = json_object_array_get_idx (list, i);
      g_autofree char *title = g_strdup_printf ("%s — %s", gets (f, "name"), gets (f, "unit_name"));
      g_autofree char *in = kh_format_money_style (geti (f, "mobilized"), KH_FORMAT_AUTO);
      g_autofree char *out = kh_format_money_style (geti (f, "disbursed"), KH_FORMAT_AUTO);
      g_autofree char *subtitle = g_strdup_printf (_("mobilized %s, disbursed %s"), in, out);

      add_row (self, self->funds_group, title, subtitle, in);
      if (i >= 49)
        break;
    }
  {
    json_object *t = json_object_object_get (r, "funds_total");
    g_autofree char *in = kh_format_money_style (geti (t, "mobilized"), KH_FORMAT_AUTO);
    g_autofree char *out = kh_format_money_style (geti (t, "disbursed"), KH_FORMAT_AUTO);
    g_autofree char *subtitle = g_strdup_printf (_("mobilized %s, disbursed %s"), in, out);

    add_row (self, self->funds_group, _("Total"), subtitle, in);
  }

  list = json_object_object_get (r, "children");
  for (size_t i = 0; i < json_object_array_length (list) && i < 200; i++)
    {
      json_object *c = json_object_array_get_idx (list, i);
      json_object *models = json_object_object_get (c, "models");
      gint64 registered = 0, achieved = 0;
      g_autofree char *reg = NULL, *ach = NULL, *awards = NULL, *subtitle = NULL, *value = NULL;

      for (size_t k = 0; k < json_object_array_length (models); k++)
        {
          registered += geti (json_object_array_get_idx (models, k), "registered");
          achieved += geti (json_object_array_get_idx (models, k), "achieved");
        }
      reg = kh_format_number_style (registered, KH_FORMAT_AUTO);
      ach = kh_format_number_style (achieved, KH_FORMAT_AUTO);
      awards = kh_format_money_style (geti (c, "awards_amount"), KH_FORMAT_AUTO);
      subtitle = g_strdup_printf (_("registered %s, achieved %s; awards %s"), reg, ach, awards);
      value = kh_format_number_style (geti (c, "awards_count"), KH_FORMAT_AUTO);
      add_row (self, self->children_group, gets (c, "name"), subtitle, value);
    }
}

static void
compute_done_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  json_object *report = g_task_propagate_pointer (G_TASK (result), &error);
  KhFiguresView *self;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_clear_pointer (&report, json_object_put);
      return;
    }
  self = KH_FIGURES_VIEW (user_data);
  g_clear_pointer (&self->report, json_object_put);
  g_clear_pointer (&self->years_report, json_object_put);
  self->years_report = report;
  if (report != NULL)
    {
      json_object *years = json_object_object_get (report, "years");

      self->report = json_object_get (json_object_array_get_idx (years, json_object_array_length (years) - 1));
    }
  report = self->report;
  if (error != NULL)
    {
      gtk_label_set_text (self->status_label, error->message);
      return;
    }
  if (!self->years_set && report != NULL)
    {
      /* The years offered end with the latest one that has records. */
      int latest = (int) geti (report, "year");
      g_autoptr(GtkStringList) years = gtk_string_list_new (NULL);

      for (int i = 0; i < N_YEARS; i++)
        {
          char text[8];

          self->years[i] = latest - i;
          g_snprintf (text, sizeof text, "%d", self->years[i]);
          gtk_string_list_append (years, text);
        }
      self->years_set = TRUE;
      gtk_drop_down_set_model (self->year_dropdown, G_LIST_MODEL (years));
      gtk_drop_down_set_selected (self->year_dropdown, 0);
    }
  show_report (self);
}

void
kh_figures_view_refresh (KhFiguresView *self)
{
  g_autoptr(GTask) task = NULL;
  Job *job;
  guint selected;

  g_return_if_fail (KH_IS_FIGURES_VIEW (self));

  if (self->store == NULL)
    return;
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();

  job = g_new0 (Job, 1);
  job->path = g_strdup (kh_store_get_path (self->store));
  selected = gtk_drop_down_get_selected (self->year_dropdown);
  job->year = self->years_set && selected < N_YEARS ? self->years[selected] : 0;
  job->by_successor = gtk_check_button_get_active (self->successor_check);
  gtk_label_set_text (self->status_label, _("Counting…"));

  /* The task does not hold the view: the view cancels it when disposed, and the callback
   * returns on cancellation before it touches the view. */
  task = g_task_new (NULL, self->cancellable, compute_done_cb, self);
  g_task_set_source_tag (task, kh_figures_view_refresh);
  g_task_set_task_data (task, job, job_free);
  g_task_set_return_on_cancel (task, TRUE);
  g_task_run_in_thread (task, compute_thread);
}

/* The chart ---------------------------------------------------------------------------------- */

/* A layout for the chart's words, with hinted advances and glyphs on whole pixels. GTK lays a
 * widget's words out with unhinted advances; drawn by cairo into the chart, the antialiased
 * edges of neighbouring letters then touched, and "Learning clan" read "Learning dan" ("c" and
 * "l" as one "d"). Labels elsewhere go through GTK's text nodes, which place glyphs themselves. */
PangoLayout *
kh_figures_view_create_chart_layout (GtkWidget  *area,
                                     const char *text)
{
  PangoContext *context = gtk_widget_create_pango_context (area);
  cairo_font_options_t *options = cairo_font_options_create ();
  const cairo_font_options_t *current = pango_cairo_context_get_font_options (context);
  PangoLayout *layout;

  if (current != NULL)
    cairo_font_options_merge (options, current);
  cairo_font_options_set_hint_metrics (options, CAIRO_HINT_METRICS_ON);
  pango_cairo_context_set_font_options (context, options);
  cairo_font_options_destroy (options);
  pango_context_set_round_glyph_positions (context, TRUE);
  layout = pango_layout_new (context);
  pango_layout_set_text (layout, text, -1);
  g_object_unref (context);
  return layout;
}

/* The lengths of a model's bars, as fractions of its row. Each row has its own scale (the
 * larger of registered and eligible): the models count different things (citizens in tens of
 * thousands, clans in hundreds), and on one scale a denominator of 254,657 households made
 * every other bar vanish. The numbers are written beside the bars. */
void
kh_figures_view_bar_lengths (json_object *model,
                             double      *registered,
                             double      *achieved,
                             double      *eligible)
{
  json_object *e = json_object_object_get (model, "eligible");
  gint64 reg = geti (model, "registered");
  gint64 elig = e != NULL ? json_object_get_int64 (e) : 0;
  gint64 scale = MAX (MAX (reg, elig), 1);

  *registered = (double) reg / (double) scale;
  *achieved = (double) geti (model, "achieved") / (double) scale;
  *eligible = e != NULL ? (double) elig / (double) scale : 0;
}

/* The words beside a model's bars: achieved of registered, and of the eligible population. */
static char *
bar_text (json_object *m)
{
  g_autofree char *reg = kh_format_number_style (geti (m, "registered"), KH_FORMAT_AUTO);
  g_autofree char *ach = kh_format_number_style (geti (m, "achieved"), KH_FORMAT_AUTO);
  json_object *sh = json_object_object_get (m, "achieved_share");

  if (sh != NULL)
    {
      g_autofree char *elig = kh_format_number_style (geti (m, "eligible"), KH_FORMAT_AUTO);
      g_autofree char *pct = kh_format_percent_style (json_object_get_double (sh), KH_FORMAT_AUTO);

      /* TRANSLATORS: achieved / registered of eligible (share achieved) */
      return g_strdup_printf (_("%s / %s of %s (%s)"), ach, reg, elig, pct);
    }
  return g_strdup_printf ("%s / %s", ach, reg);
}

static void
draw_chart (GtkDrawingArea *area,
            cairo_t        *cr,
            int             width,
            int             height,
            gpointer        user_data)
{
  KhFiguresView *self = KH_FIGURES_VIEW (user_data);
  json_object *models = self->report ? json_object_object_get (self->report, "models") : NULL;
  GtkStyleContext *style = gtk_widget_get_style_context (GTK_WIDGET (area));
  GdkRGBA fg;
  double label_w = MIN (200.0, width * 0.30);
  double value_w = MIN (230.0, width * 0.34);
  double bar_x = label_w + 8, bar_w = MAX (width - label_w - value_w - 16, 20);
  double row_h;
  size_t n;
  PangoLayout *legend;
  int legend_w, legend_h;

  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  gtk_style_context_get_color (style, &fg);
  G_GNUC_END_IGNORE_DEPRECATIONS

  if (models == NULL || (n = json_object_array_length (models)) == 0)
    return;
  legend = kh_figures_view_create_chart_layout (GTK_WIDGET (area),
                                                _("Light: registered · Dark: achieved · Outline: eligible · each row to its own scale"));
  pango_layout_set_width (legend, width * PANGO_SCALE);
  pango_layout_set_wrap (legend, PANGO_WRAP_WORD_CHAR);
  pango_layout_set_height (legend, -2);
  pango_layout_set_ellipsize (legend, PANGO_ELLIPSIZE_END);
  pango_layout_get_pixel_size (legend, &legend_w, &legend_h);
  self->legend_cut = pango_layout_is_ellipsized (legend);
  row_h = (height - legend_h - 8.0) / n;

  for (size_t i = 0; i < n; i++)
    {
      json_object *m = json_object_array_get_idx (models, i);
      double y = i * row_h + 4;
      double h = MIN (row_h - 10, 28);
      double reg, ach, elig;
      g_autofree char *value = bar_text (m);
      PangoLayout *layout = kh_figures_view_create_chart_layout (GTK_WIDGET (area), gets (m, "label"));
      int lw, lh;

      kh_figures_view_bar_lengths (m, &reg, &ach, &elig);
      gdk_cairo_set_source_rgba (cr, &fg);
      pango_layout_set_width (layout, (int) (label_w * PANGO_SCALE));
      pango_layout_set_wrap (layout, PANGO_WRAP_WORD_CHAR);
      pango_layout_set_height (layout, -2);
      pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
      pango_layout_get_pixel_size (layout, &lw, &lh);
      cairo_move_to (cr, 0, y + (h - lh) / 2);
      pango_cairo_show_layout (cr, layout);

      /* Registered, light; achieved, strong; the eligible population as an outline. */
      cairo_set_source_rgb (cr, 0.60, 0.76, 0.95);
      cairo_rectangle (cr, bar_x, y, bar_w * reg, h);
      cairo_fill (cr);
      cairo_set_source_rgb (cr, 0.11, 0.44, 0.85);
      cairo_rectangle (cr, bar_x, y + h * 0.25, bar_w * ach, h * 0.5);
      cairo_fill (cr);
      if (elig > 0)
        {
          cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.6);
          cairo_set_line_width (cr, 1);
          cairo_rectangle (cr, bar_x + 0.5, y + 0.5, bar_w * elig - 1, h - 1);
          cairo_stroke (cr);
        }

      /* On a narrow window the figures take two lines rather than lose the share at their
       * end ("27 / 60 trên 94 (28,7 …"), as the model's name does. */
      pango_layout_set_text (layout, value, -1);
      pango_layout_set_width (layout, (int) (value_w * PANGO_SCALE));
      pango_layout_set_wrap (layout, PANGO_WRAP_WORD_CHAR);
      pango_layout_set_height (layout, -2);
      pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
      pango_layout_get_pixel_size (layout, &lw, &lh);
      gdk_cairo_set_source_rgba (cr, &fg);
      cairo_move_to (cr, bar_x + bar_w + 8, y + (h - lh) / 2);
      pango_cairo_show_layout (cr, layout);
      g_object_unref (layout);
    }

  /* Under the bars when it fits; on a narrow window from the left edge, on two lines. */
  gdk_cairo_set_source_rgba (cr, &fg);
  cairo_move_to (cr, bar_x + legend_w <= width ? bar_x : 0, height - legend_h - 2);
  pango_cairo_show_layout (cr, legend);
  g_object_unref (legend);
}

/* Export -------------------------------------------------------------------------------------- */

/* The years side by side go beside the year's workbook: NAME-years.xlsx. */
static gboolean
export_years (KhFiguresView  *self,
              const char     *path,
              GError        **error)
{
  g_autofree char *stem = g_strndup (path, strlen (path) - strlen (".xlsx"));
  g_autofree char *years = g_strconcat (stem, _("-years"), ".xlsx", NULL);

  return self->years_report == NULL || kh_report_years_export_xlsx (self->years_report, years, error);
}

/* The eligible populations are records of their own, listed with the learning models. */
static void
population_clicked_cb (KhFiguresView *self)
{
  GtkWidget *stack = gtk_widget_get_ancestor (GTK_WIDGET (self), GTK_TYPE_STACK);

  /* Shown first: a list page loads its first kind of record when it is first shown. */
  gtk_widget_activate_action (GTK_WIDGET (self), "win.show-page", "s", "models");

  /* The Overview's own stack (first run or figures) is not the window's. */
  while (stack != NULL && gtk_stack_get_child_by_name (GTK_STACK (stack), "models") == NULL)
    stack = gtk_widget_get_ancestor (gtk_widget_get_parent (stack), GTK_TYPE_STACK);
  if (stack != NULL)
    {
      GtkWidget *page = gtk_stack_get_child_by_name (GTK_STACK (stack), "models");

      if (KH_IS_LIST_PAGE (page))
        kh_list_page_set_entity (KH_LIST_PAGE (page), "population");
    }
}

static void
export_response_cb (GtkNativeDialog *dialog,
                    int              response,
                    KhFiguresView   *self)
{
  if (response == GTK_RESPONSE_ACCEPT && self->report != NULL)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      g_autoptr(GError) error = NULL;
      if (path != NULL && !g_str_has_suffix (path, ".xlsx"))
        {
          char *with = g_strconcat (path, ".xlsx", NULL);

          g_free (path);
          path = with;
        }
      if (path == NULL || !kh_report_export_xlsx (self->report, path, &error)
          || !export_years (self, path, &error))
        gtk_label_set_text (self->status_label, error ? error->message : _("Choose a file on this computer."));
      else
        gtk_label_set_text (self->status_label, _("The figures were saved."));
    }
  g_clear_object (&self->chooser);
}

static void
export_clicked_cb (KhFiguresView *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();
  g_autofree char *name = NULL;

  if (self->report == NULL)
    return;
  name = g_strdup_printf ("%s-%d.xlsx", _("figures"), (int) geti (self->report, "year"));
  self->chooser = gtk_file_chooser_native_new (_("Export the figures"), GTK_WINDOW (root),
                                               GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"), NULL);
  gtk_file_filter_set_name (filter, _("Excel workbooks"));
  gtk_file_filter_add_suffix (filter, "xlsx");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), filter);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (self->chooser), name);
  g_signal_connect (self->chooser, "response", G_CALLBACK (export_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

/* Object -------------------------------------------------------------------------------------- */

static void
options_changed_cb (KhFiguresView *self)
{
  if (self->years_set)
    kh_figures_view_refresh (self);
}

static void
kh_figures_view_dispose (GObject *object)
{
  KhFiguresView *self = (KhFiguresView *) object;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  g_clear_pointer (&self->rows, g_ptr_array_unref);
  g_clear_pointer (&self->report, json_object_put);
  g_clear_pointer (&self->years_report, json_object_put);
  g_clear_object (&self->store);
  gtk_widget_dispose_template (GTK_WIDGET (self), KH_TYPE_FIGURES_VIEW);

  G_OBJECT_CLASS (kh_figures_view_parent_class)->dispose (object);
}

static void
kh_figures_view_class_init (KhFiguresViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kh_figures_view_dispose;

  g_type_ensure (KH_TYPE_WIDTH_CHOICE);
  gtk_widget_class_set_template_from_resource (widget_class, "/vn/khuyenhoc/KhuyenHoc/ui/kh-figures-view.ui");
  gtk_widget_class_bind_template_child (widget_class, KhFiguresView, year_dropdown);
  gtk_widget_class_bind_template_child (widget_class, KhFiguresView, successor_check);
  gtk_widget_class_bind_template_child (widget_class, KhFiguresView, export_button);
  gtk_widget_class_bind_template_child (widget_class, KhFiguresView, status_label);
  gtk_widget_class_bind_template_child (widget_class, KhFiguresView, chart);
  gtk_widget_class_bind_template_child (widget_class, KhFiguresView, shares_label);
  gtk_widget_class_bind_template_child (widget_class, KhFiguresView, years_grid);
  gtk_widget_class_bind_template_child (widget_class, KhFiguresView, years_down);
  gtk_widget_class_bind_template_child (widget_class, KhFiguresView, awards_group);
  gtk_widget_class_bind_template_child (widget_class, KhFiguresView, funds_group);
  gtk_widget_class_bind_template_child (widget_class, KhFiguresView, children_group);
  gtk_widget_class_bind_template_callback (widget_class, options_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, export_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, population_clicked_cb);
}

static void
kh_figures_view_init (KhFiguresView *self)
{
  self->rows = g_ptr_array_new ();
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_drawing_area_set_draw_func (self->chart, draw_chart, self, NULL);
}

GtkWidget *
kh_figures_view_new (void)
{
  return g_object_new (KH_TYPE_FIGURES_VIEW, NULL);
}

void
kh_figures_view_set_store (KhFiguresView *self,
                           KhStore       *store)
{
  g_return_if_fail (KH_IS_FIGURES_VIEW (self));
  g_set_object (&self->store, store);
}

json_object *
kh_figures_view_get_report (KhFiguresView *self)
{
  g_return_val_if_fail (KH_IS_FIGURES_VIEW (self), NULL);
  return self->report;
}

gboolean
kh_figures_view_is_legend_whole (KhFiguresView *self)
{
  g_return_val_if_fail (KH_IS_FIGURES_VIEW (self), FALSE);
  return !self->legend_cut;
}

json_object *
kh_figures_view_get_years (KhFiguresView *self)
{
  g_return_val_if_fail (KH_IS_FIGURES_VIEW (self), NULL);
  return self->years_report;
}
