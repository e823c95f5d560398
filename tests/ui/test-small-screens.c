/* test-small-screens.c: the window on a 1366×768 laptop and on a 360-pixel phone
 *
 * Measured by the widgets' allocations, not by pixels: a text a person would see cut short is
 * a label whose layout is ellipsized or wider than what holds it; a table that scrolls sideways
 * is a scrolled window whose content is wider than its page. The award list picker shows two
 * lists of one commune and one year whole, and stays within a phone's window; the header's
 * title fits at 360 pixels; the Overview's years read down, not across, there; every column of
 * every list is in view at 1366×768. With KH_SCREENSHOT_DIR set, pictures of each are saved.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "kh-demo.h"
#include "kh-record-item.h"
#include "kh-screenshot.h"
#include "kh-test-demo-window.h"
#include "kh-test-dir.h"
#include "kh-test-store.h"
#include "kh-ui-test-private.h"
#include "kh-width-choice.h"

typedef KhTestDemoWindow Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  /* The measures are of where the pages come to rest, not of a leaflet halfway through. */
  g_object_set (gtk_settings_get_default (), "gtk-enable-animations", FALSE, NULL);
  kh_test_demo_window_open (f, 0, 0);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  kh_test_demo_window_close (f);
}

static void
resize (Fixture *f,
        int      width,
        int      height)
{
  gtk_window_set_default_size (GTK_WINDOW (f->window), width, height);
  kh_widget_wait_for_paint (GTK_WIDGET (f->window), 3);
}

static void
show_page (Fixture    *f,
           const char *name)
{
  GtkWidget *page;
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.show-page", "s", name);
  kh_widget_wait_for_paint (GTK_WIDGET (f->window), 3);
  page = kh_window_get_page (f->window, name);
  while (KH_IS_OVERVIEW_PAGE (page) && kh_overview_page_is_busy (KH_OVERVIEW_PAGE (page))
         && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  /* A page lays out again once its rows are counted and its columns made. */
  kh_widget_wait_for_paint (GTK_WIDGET (f->window), 3);
  kh_widget_wait_for_paint (GTK_WIDGET (f->window), 3);
}

static void
save_shot (GtkWidget  *widget,
           const char *name)
{
  const char *dir = g_getenv ("KH_SCREENSHOT_DIR");
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;

  if (dir == NULL)
    return;
  g_mkdir_with_parents (dir, 0755);
  path = g_build_filename (dir, name, NULL);
  kh_widget_wait_for_paint (widget, 3);
  g_assert_true (kh_widget_save_png (widget, path, &error));
  g_assert_no_error (error);
}

/* The mapped descendants of @widget of @type, @widget included. */
static void
collect (GtkWidget *widget,
         GType      type,
         GPtrArray *found)
{
  if (!gtk_widget_get_mapped (widget))
    return;
  if (g_type_is_a (G_OBJECT_TYPE (widget), type))
    g_ptr_array_add (found, widget);
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    collect (child, type, found);
}

static GPtrArray *
find_all (GtkWidget *widget,
          GType      type)
{
  GPtrArray *found = g_ptr_array_new ();

  collect (widget, type, found);
  return found;
}

/* A label a person reads whole: not ellipsized, its text no wider than the room it is given,
 * and that room within its parent's. */
static gboolean
label_is_whole (GtkLabel *label)
{
  PangoLayout *layout = gtk_label_get_layout (label);
  GtkWidget *parent = gtk_widget_get_parent (GTK_WIDGET (label));
  graphene_rect_t bounds;
  PangoRectangle text;

  if (pango_layout_is_ellipsized (layout))
    return FALSE;
  pango_layout_get_pixel_extents (layout, NULL, &text);
  if (text.width > gtk_widget_get_width (GTK_WIDGET (label)))
    return FALSE;
  if (parent == NULL || !gtk_widget_compute_bounds (GTK_WIDGET (label), parent, &bounds))
    return TRUE;
  return bounds.origin.x >= -0.5 && bounds.origin.x + bounds.size.width <= gtk_widget_get_width (parent) + 0.5;
}

/* A scrolled window shows all its content's width: nothing to scroll sideways to. */
static gboolean
fits_across (GtkScrolledWindow *scrolled)
{
  GtkAdjustment *across = gtk_scrolled_window_get_hadjustment (scrolled);

  return gtk_adjustment_get_upper (across) - gtk_adjustment_get_lower (across)
         <= gtk_adjustment_get_page_size (across) + 0.5;
}

/* The popover's place in @window's coordinates, from its surface's position beside the
 * window's (each surface has room for its shadow around the widget). */
static void
popover_bounds (GtkWidget *popover,
                GtkWidget *window,
                double    *left,
                double    *right)
{
  GdkSurface *surface = gtk_native_get_surface (GTK_NATIVE (popover));
  double popover_x, popover_y, window_x, window_y;

  gtk_native_get_surface_transform (GTK_NATIVE (popover), &popover_x, &popover_y);
  gtk_native_get_surface_transform (GTK_NATIVE (window), &window_x, &window_y);
  *left = gdk_popup_get_position_x (GDK_POPUP (surface)) + popover_x - window_x;
  *right = *left + gtk_widget_get_width (popover);
}


/* Two lists of one commune and one school year, alike but for their last words, show whole in
 * the entries page's list picker: each row's title wraps rather than being cut, and says the
 * whole title when pointed at; on a phone the picker opens within the window. The button keeps
 * the unit a chosen list's title ends with. */
static void
test_list_picker (Fixture       *f,
                  gconstpointer  data)
{
  const char *titles[] = {
    "Học bổng năm học mới 2025–2026 cho học sinh nghèo vượt khó",
    "Học bổng năm học mới 2025–2026 cho học sinh giỏi cấp trung học cơ sở",
  };
  const int sizes[][2] = { { 1200, 700 }, { 360, 640 } };
  g_autofree char *unit = kh_test_create (f->store, "org_unit",
                                          "{\"code\":\"SH25\",\"name\":\"Xã Suối Hiệp Thượng\",\"kind\":\"commune\"}");

  for (guint i = 0; i < G_N_ELEMENTS (titles); i++)
    {
      g_autofree char *json = g_strdup_printf ("{\"title\":\"%s\",\"occasion\":\"new_school_year\","
                                               "\"school_year\":\"2025-2026\",\"org_unit_id\":\"%s\","
                                               "\"status\":\"draft\"}", titles[i], unit);

      g_free (kh_test_create (f->store, "award_list", json));
    }
  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    {
      KhListPage *page;
      KhRecordPicker *picker;
      GtkWidget *popover, *entry;
      g_autoptr(GPtrArray) labels = NULL;
      guint whole = 0;
      double left, right;

      resize (f, sizes[s][0], sizes[s][1]);
      show_page (f, "scholarships");
      page = KH_LIST_PAGE (kh_window_get_page (f->window, "scholarships"));
      picker = KH_RECORD_PICKER (kh_list_page_get_list_filter (page));
      g_assert_nonnull (picker);
      popover = kh_record_picker_get_popover (picker);
      gtk_popover_set_autohide (GTK_POPOVER (popover), FALSE);
      kh_record_picker_popup (picker);
      entry = kh_record_picker_get_search_entry (picker);
      gtk_editable_set_text (GTK_EDITABLE (entry), "2025 cho hoc sinh");
      g_signal_emit_by_name (entry, "search-changed");
      g_assert_cmpuint (g_list_model_get_n_items (kh_record_picker_get_shown (picker)), ==, 2);
      kh_widget_wait_for_paint (popover, 3);

      /* Each title whole, the unit it ends with included, and whole in its tooltip. */
      labels = find_all (popover, GTK_TYPE_LABEL);
      for (guint i = 0; i < labels->len; i++)
        {
          GtkLabel *label = labels->pdata[i];
          const char *text = gtk_label_get_text (label);

          for (guint t = 0; t < G_N_ELEMENTS (titles); t++)
            if (g_str_has_prefix (text, titles[t]))
              {
                g_assert_nonnull (strstr (text, "Xã Suối Hiệp Thượng"));
                g_assert_true (label_is_whole (label));
                g_assert_cmpstr (gtk_widget_get_tooltip_text (GTK_WIDGET (label)), ==, text);
                whole++;
              }
        }
      g_assert_cmpuint (whole, ==, 2);

      /* Within the window, whatever its width. */
      popover_bounds (popover, GTK_WIDGET (f->window), &left, &right);
      g_test_message ("%d px: the picker's popover spans %.0f to %.0f", sizes[s][0], left, right);
      g_assert_cmpfloat (left, >=, 0);
      g_assert_cmpfloat (right, <=, gtk_widget_get_width (GTK_WIDGET (f->window)));
      if (s == 1)
        save_shot (popover, "picker-list-narrow.png");
      else
        save_shot (popover, "picker-list-wide.png");

      /* Chosen, the button keeps the end of the title, where the unit is. */
      kh_record_picker_choose (picker, 0);
      g_assert_true (g_str_has_suffix (kh_record_picker_get_label (picker), "Xã Suối Hiệp Thượng"));
      kh_widget_wait_for_paint (GTK_WIDGET (f->window), 2);
      {
        g_autoptr(GPtrArray) in_button = find_all (GTK_WIDGET (picker), GTK_TYPE_LABEL);
        PangoLayout *layout = gtk_label_get_layout (in_button->pdata[0]);
        const char *text = pango_layout_get_text (layout);
        PangoRectangle extents;
        int index, trailing;

        /* The character drawn at the right end is of the unit's last word, not an ellipsis
         * standing for it. */
        pango_layout_get_extents (layout, NULL, &extents);
        pango_layout_xy_to_index (layout, extents.x + extents.width - PANGO_SCALE, extents.height / 2,
                                  &index, &trailing);
        g_assert_cmpint (index, >=, (int) (strlen (text) - strlen ("Thượng")));
      }
      kh_record_picker_set_selected_id (picker, NULL);
      gtk_popover_popdown (GTK_POPOVER (popover));
    }
}

/* At 360 pixels every page's title is whole in the header, and the words on its buttons. */
static void
test_header_title (Fixture       *f,
                   gconstpointer  data)
{
  const char * const *names = kh_window_list_pages ();

  resize (f, 360, 640);
  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autoptr(GPtrArray) titles = NULL;
      guint shown = 0;

      show_page (f, names[i]);
      titles = find_all (GTK_WIDGET (f->window), ADW_TYPE_WINDOW_TITLE);
      for (guint t = 0; t < titles->len; t++)
        {
          g_autoptr(GPtrArray) labels = find_all (titles->pdata[t], GTK_TYPE_LABEL);

          for (guint l = 0; l < labels->len; l++)
            {
              GtkLabel *label = labels->pdata[l];

              if (*gtk_label_get_text (label) == '\0')
                continue;
              if (!label_is_whole (label))
                g_error ("the title “%s” of the page %s is cut short at 360 pixels",
                         gtk_label_get_text (label), names[i]);
              shown++;
            }
        }
      g_assert_cmpuint (shown, >=, 1);
      /* And the words on the page's buttons. */
      {
        g_autoptr(GPtrArray) buttons = find_all (kh_window_get_page (f->window, names[i]), GTK_TYPE_BUTTON);

        for (guint b = 0; b < buttons->len; b++)
          {
            g_autoptr(GPtrArray) labels = find_all (buttons->pdata[b], GTK_TYPE_LABEL);

            for (guint l = 0; l < labels->len; l++)
              if (!label_is_whole (labels->pdata[l]))
                g_error ("the button “%s” of the page %s is cut short at 360 pixels",
                         gtk_label_get_text (labels->pdata[l]), names[i]);
          }
      }
    }
}

/* At 360 pixels nothing on the Overview scrolls sideways: the years read down, each with its
 * figures, the one chosen first; at 1366×768 they are side by side. The chart's legend is whole
 * at both. */
static void
test_overview_years (Fixture       *f,
                     gconstpointer  data)
{
  const int sizes[][2] = { { 1366, 768 }, { 360, 640 } };

  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    {
      GtkWidget *page;
      g_autoptr(GPtrArray) scrolled = NULL;
      g_autoptr(GPtrArray) labels = NULL;
      guint years = 0;
      double first_x = -1;
      gboolean side_by_side = FALSE;

      resize (f, sizes[s][0], sizes[s][1]);
      show_page (f, "overview");
      page = kh_window_get_page (f->window, "overview");
      scrolled = find_all (page, GTK_TYPE_SCROLLED_WINDOW);
      for (guint i = 0; i < scrolled->len; i++)
        if (!fits_across (scrolled->pdata[i]))
          g_error ("a part of the Overview scrolls sideways at %d pixels", sizes[s][0]);
      /* The five years' headings: in one row wide, one under the other narrow. */
      labels = find_all (page, GTK_TYPE_LABEL);
      for (guint i = 0; i < labels->len; i++)
        {
          const char *text = gtk_label_get_text (labels->pdata[i]);
          graphene_rect_t bounds;

          if (strlen (text) != 4 || !g_ascii_isdigit (text[0]) || atoi (text) < 2000
              || !gtk_widget_has_css_class (labels->pdata[i], "heading"))
            continue;
          g_assert_true (gtk_widget_compute_bounds (labels->pdata[i], page, &bounds));
          g_assert_cmpfloat (bounds.origin.x + bounds.size.width, <=, gtk_widget_get_width (page));
          if (first_x >= 0 && bounds.origin.x != first_x)
            side_by_side = TRUE;
          first_x = bounds.origin.x;
          years++;
        }
      g_assert_cmpuint (years, ==, 5);
      g_assert_true (side_by_side == (s == 0));
      {
        g_autoptr(GPtrArray) choices = find_all (page, KH_TYPE_WIDTH_CHOICE);
        GtkWidget *group = NULL;

        for (guint i = 0; i < choices->len && group == NULL; i++)
          group = gtk_widget_get_ancestor (choices->pdata[i], ADW_TYPE_PREFERENCES_GROUP);
        g_assert_nonnull (group);
        /* The figures are drawn within the table's room, not over the heading above it. */
        {
          g_autoptr(GPtrArray) figures = find_all (choices->pdata[0], GTK_TYPE_LABEL);

          for (guint i = 0; i < figures->len; i++)
            {
              graphene_rect_t bounds;

              g_assert_true (gtk_widget_compute_bounds (figures->pdata[i], choices->pdata[0], &bounds));
              g_assert_cmpfloat (bounds.origin.y, >=, 0);
              g_assert_cmpfloat (bounds.origin.y + bounds.size.height, <=,
                                 gtk_widget_get_height (choices->pdata[0]) + 0.5);
            }
        }
        save_shot (group, s == 0 ? "overview-years-1366x768.png" : "overview-years-narrow.png");
      }
      /* The chart's legend too, on two lines if need be. */
      {
        g_autoptr(GPtrArray) views = find_all (page, KH_TYPE_FIGURES_VIEW);

        g_assert_cmpuint (views->len, ==, 1);
        g_assert_true (kh_figures_view_is_legend_whole (views->pdata[0]));
      }
      /* Every figure is whole. */
      for (guint i = 0; i < labels->len; i++)
        if (!label_is_whole (labels->pdata[i]))
          g_error ("“%s” is cut short on the Overview at %d pixels",
                   gtk_label_get_text (labels->pdata[i]), sizes[s][0]);
    }
}

/* The columns of the list page @name are all in view at @width, their headings whole. */
static void
check_columns (Fixture    *f,
               const char *name,
               int         width)
{
  GtkWidget *page = kh_window_get_page (f->window, name);
  GtkWidget *view, *scrolled;
  g_autoptr(GPtrArray) labels = NULL;

  if (!KH_IS_LIST_PAGE (page))
    return;
  show_page (f, name);
  view = kh_list_page_get_column_view (KH_LIST_PAGE (page));
  scrolled = gtk_widget_get_ancestor (view, GTK_TYPE_SCROLLED_WINDOW);
  g_test_message ("%s at %d: %.0f of %.0f pixels across", name, width,
                  gtk_adjustment_get_upper (gtk_scrolled_window_get_hadjustment (GTK_SCROLLED_WINDOW (scrolled))),
                  gtk_adjustment_get_page_size (gtk_scrolled_window_get_hadjustment (GTK_SCROLLED_WINDOW (scrolled))));
  if (!fits_across (GTK_SCROLLED_WINDOW (scrolled)))
    g_error ("the columns of the page %s go beyond the window at %d pixels", name, width);
  /* The headings are the first row of the view. */
  labels = find_all (gtk_widget_get_first_child (view), GTK_TYPE_LABEL);
  g_assert_cmpuint (labels->len, >=, 2);
  for (guint l = 0; l < labels->len; l++)
    {
      GtkWidget *title = gtk_widget_get_ancestor (labels->pdata[l], GTK_TYPE_BUTTON);
      graphene_rect_t bounds;

      /* A heading is whole when it is within its column's button. */
      title = title != NULL ? title : gtk_widget_get_parent (gtk_widget_get_parent (labels->pdata[l]));
      g_assert_true (gtk_widget_compute_bounds (labels->pdata[l], title, &bounds));
      if (pango_layout_is_ellipsized (gtk_label_get_layout (labels->pdata[l]))
          || bounds.origin.x + bounds.size.width > gtk_widget_get_width (title) + 0.5)
        g_error ("the heading “%s” of the page %s is cut short at %d pixels",
                 gtk_label_get_text (labels->pdata[l]), name, width);
      g_assert_true (gtk_widget_compute_bounds (labels->pdata[l], scrolled, &bounds));
      g_assert_cmpfloat (bounds.origin.x + bounds.size.width, <=, gtk_widget_get_width (scrolled) + 0.5);
    }
}

/* At the window's default size and at 1366×768 (a small laptop), every column of every list is
 * in view, its heading whole. */
static void
test_columns_in_view (Fixture       *f,
                      gconstpointer  data)
{
  const char * const *names = kh_window_list_pages ();
  int sizes[2][2];

  gtk_window_get_default_size (GTK_WINDOW (f->window), &sizes[0][0], &sizes[0][1]);
  g_assert_cmpint (sizes[0][0], <=, 1366);
  g_assert_cmpint (sizes[0][1], <=, 768);
  sizes[1][0] = 1366;
  sizes[1][1] = 768;
  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    {
      resize (f, sizes[s][0], sizes[s][1]);
      for (guint i = 0; names[i] != NULL; i++)
        check_columns (f, names[i], sizes[s][0]);
    }
  show_page (f, "people");
  save_shot (GTK_WIDGET (f->window), "small-people-1366x768.png");
}

int
main (int   argc,
      char *argv[])
{
  const char *localedir = g_getenv ("KHUYENHOC_LOCALEDIR");

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, localedir ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  g_test_add ("/ui/small/list-picker", Fixture, NULL, fixture_set_up, test_list_picker, fixture_tear_down);
  g_test_add ("/ui/small/header-title", Fixture, NULL, fixture_set_up, test_header_title, fixture_tear_down);
  g_test_add ("/ui/small/overview-years", Fixture, NULL, fixture_set_up, test_overview_years, fixture_tear_down);
  g_test_add ("/ui/small/columns-in-view", Fixture, NULL, fixture_set_up, test_columns_in_view, fixture_tear_down);
  return g_test_run ();
}
