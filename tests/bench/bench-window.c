/* bench-window.c: the main window on a 1,000,000-record database
 *
 * Measures, under the display ./dev bench gives (Xvfb):
 *  - the time from opening the database to the window's first frame drawn (target: under 1 s);
 *  - then the time until the overview's figures are in (they are counted after the first frame);
 *  - scrolling the largest list (people) from its first row to its last: the slowest frame
 *    and the mean frame while the scroll bar is dragged down in 100 steps, and a jump straight
 *    to the end;
 *  - sorting that list by name (a column header): SQLite sorts the folded names, unindexed;
 *  - the process's resident memory afterwards.
 *
 * The database is made once with the demo generator into the build folder and reused.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "kh-demo.h"
#include "kh-list-page.h"
#include "kh-overview-page.h"
#include "kh-screenshot.h"
#include "kh-window.h"

#define RECORDS 1000000

static void
first_paint_cb (GdkFrameClock *clock,
                gint64        *when)
{
  if (*when == 0)
    *when = g_get_monotonic_time ();
}

static long
rss_kb (void)
{
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return -1;
  line = strstr (status, "VmRSS:");
  return line ? strtol (line + 6, NULL, 10) : -1;
}

static GtkAdjustment *
list_adjustment (KhListPage *page)
{
  GtkWidget *view = kh_list_page_get_column_view (page);
  GtkWidget *scrolled = gtk_widget_get_ancestor (view, GTK_TYPE_SCROLLED_WINDOW);

  return gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (scrolled));
}

static double
timed_frame (GtkWidget *window)
{
  gint64 start = g_get_monotonic_time ();

  kh_widget_wait_for_paint (window, 1);
  return (g_get_monotonic_time () - start) / 1000.0;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (KH_BUILD_DIR, "tests", "bench-window-1m.db", NULL);
  g_autoptr(KhStore) store = NULL;
  KhWindow *window;
  GdkFrameClock *clock;
  KhListPage *page;
  GtkAdjustment *adj;
  gint64 t0, first_paint = 0, figures;
  double worst = 0, sum = 0, jump;
  guint rows;
  int steps = 100;

  setvbuf (stdout, NULL, _IOLBF, 0);
  gtk_init ();
  adw_init ();

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      KhDemoStats stats = { 0 };
      g_autoptr(KhStore) maker = kh_store_open (path, &error);

      g_assert_no_error (error);
      printf ("# making %d demo records in %s (once)\n", RECORDS, path);
      fflush (stdout);
      if (!kh_demo_generate (maker, RECORDS, 1, &stats, &error))
        g_error ("%s", error->message);
      printf ("# made %" G_GINT64_FORMAT " records in %.1f s\n", stats.records, stats.seconds);
    }

  t0 = g_get_monotonic_time ();
  store = kh_store_open (path, &error);
  g_assert_no_error (error);
  window = kh_window_new (NULL, store);
  gtk_window_present (GTK_WINDOW (window));
  while (!gtk_widget_get_realized (GTK_WIDGET (window)))
    g_main_context_iteration (NULL, TRUE);
  clock = gtk_widget_get_frame_clock (GTK_WIDGET (window));
  g_signal_connect (clock, "after-paint", G_CALLBACK (first_paint_cb), &first_paint);
  while (first_paint == 0)
    g_main_context_iteration (NULL, TRUE);
  kh_widget_wait_for_paint (GTK_WIDGET (window), 2);
  while (kh_overview_page_is_busy (KH_OVERVIEW_PAGE (kh_window_get_page (window, "overview"))))
    g_main_context_iteration (NULL, TRUE);
  figures = g_get_monotonic_time ();
  printf ("window-first-frame-ms: %.1f\n", (first_paint - t0) / 1000.0);
  printf ("overview-figures-ms: %.1f\n", (figures - t0) / 1000.0);

  kh_window_show_page (window, "people");
  page = KH_LIST_PAGE (kh_window_get_page (window, "people"));
  kh_widget_wait_for_paint (GTK_WIDGET (window), 2);
  rows = g_list_model_get_n_items (G_LIST_MODEL (kh_list_page_get_list (page)));
  adj = list_adjustment (page);
  printf ("list-rows: %u\n", rows);

  {
    double idle = 0;

    for (int i = 0; i < 10; i++)
      idle += timed_frame (GTK_WIDGET (window));
    /* A redraw of the whole window with nothing changed: what a frame costs here at all. */
    printf ("redraw-frame-mean-ms: %.1f\n", idle / 10);
  }
  for (int i = 1; i <= steps; i++)
    {
      double upper = gtk_adjustment_get_upper (adj) - gtk_adjustment_get_page_size (adj);
      double ms;

      guint queries = kh_record_list_get_n_queries (kh_list_page_get_list (page));

      gtk_adjustment_set_value (adj, upper * i / steps);
      ms = timed_frame (GTK_WIDGET (window));
      if (ms > 100)
        printf ("# step %d of %d took %.1f ms (%u queries)\n", i, steps, ms,
                kh_record_list_get_n_queries (kh_list_page_get_list (page)) - queries);
      worst = MAX (worst, ms);
      sum += ms;
    }
  printf ("scroll-drag-frame-mean-ms: %.1f\n", sum / steps);
  printf ("scroll-drag-frame-worst-ms: %.1f\n", worst);

  gtk_adjustment_set_value (adj, 0);
  timed_frame (GTK_WIDGET (window));
  kh_record_list_refresh (kh_list_page_get_list (page));
  timed_frame (GTK_WIDGET (window));
  gtk_adjustment_set_value (adj, gtk_adjustment_get_upper (adj));
  jump = timed_frame (GTK_WIDGET (window));
  printf ("jump-first-to-last-frame-ms: %.1f\n", jump);
  {
    GtkColumnView *view = GTK_COLUMN_VIEW (kh_list_page_get_column_view (page));
    g_autoptr(GtkColumnViewColumn) first = g_list_model_get_item (gtk_column_view_get_columns (view), 0);
    gint64 start = g_get_monotonic_time ();

    /* Sorting by name: SQLite sorts the whole table by the folded name (no index on it). */
    gtk_column_view_sort_by_column (view, first, GTK_SORT_ASCENDING);
    timed_frame (GTK_WIDGET (window));
    printf ("sort-by-name-frame-ms: %.1f\n", (g_get_monotonic_time () - start) / 1000.0);
  }
  printf ("rows-cached: %u\n", kh_record_list_get_n_cached (kh_list_page_get_list (page)));
  printf ("rss-mb: %.1f\n", rss_kb () / 1024.0);

  gtk_window_destroy (GTK_WINDOW (window));
  return 0;
}
