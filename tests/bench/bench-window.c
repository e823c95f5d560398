/* bench-window.c: the main window on a 1,000,000-record database
 *
 * Measures, under the display ./dev bench gives (Xvfb):
 *  - the time from opening the database to the window's first frame drawn (target: under 1 s);
 *  - then the time until the overview's figures are in (they are counted after the first frame);
 *  - on the largest list (people): the first jump from the top straight to the last row; the
 *    scroll bar dragged from the first row to the last in 100 steps, a frame each (median, 95th
 *    percentile, worst and mean frame); sorting it by name (a column header), then the same drag
 *    in that order; a row selected, then the order reversed (it must stay selected); search
 *    as you type, a keystroke at a time;
 *  - a record picker (a new registration's household) opened, then searched as you type;
 *  - the process's resident memory afterwards, and its peak.
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
#include "kh-memory.h"
#include "kh-overview-page.h"
#include "kh-record-editor.h"
#include "kh-screenshot.h"
#include "kh-ui-test-private.h"
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

static long
peak_rss_kb (void)
{
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return -1;
  line = strstr (status, "VmHWM:");
  return line ? strtol (line + 6, NULL, 10) : -1;
}

/* Where the memory goes: the resident size after each part. */
static void
print_rss (const char *after)
{
  printf ("# resident after %s: %.1f MB\n", after, rss_kb () / 1024.0);
}

/* With KH_BENCH_PERF_CTL set to the control FIFO of `perf record --control fifo:…` (started
 * with -D -1, events off), the phase named by KH_BENCH_PERF_PHASE is the only one profiled. */
static void
perf_control (const char *phase,
              gboolean    enable)
{
  const char *fifo = g_getenv ("KH_BENCH_PERF_CTL");
  FILE *f;

  if (fifo == NULL || g_strcmp0 (g_getenv ("KH_BENCH_PERF_PHASE"), phase) != 0)
    return;
  f = fopen (fifo, "w");
  if (f == NULL)
    return;
  fputs (enable ? "enable\n" : "disable\n", f);
  fclose (f);
  g_usleep (100000);
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

/* Moves the scroll bar and waits for the frame that shows it. Timed from before the move: the
 * list view reads the rows it anchors to inside gtk_adjustment_set_value() itself. */
static double
timed_scroll (GtkWidget     *window,
              GtkAdjustment *adj,
              double         value)
{
  gint64 start = g_get_monotonic_time ();

  gtk_adjustment_set_value (adj, value);
  kh_widget_wait_for_paint (window, 1);
  return (g_get_monotonic_time () - start) / 1000.0;
}

static int
compare_double (gconstpointer a,
                gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

/* Drags the scroll bar from the first row to the last in @steps steps, a frame each, and prints
 * the median, 95th percentile, worst and mean frame as NAME-…-ms. */
static void
drag (KhWindow   *window,
      KhListPage *page,
      const char *name,
      int         steps)
{
  GtkAdjustment *adj = list_adjustment (page);
  g_autofree double *ms = g_new0 (double, steps);
  double sum = 0;

  gtk_adjustment_set_value (adj, 0);
  timed_frame (GTK_WIDGET (window));
  perf_control (name, TRUE);
  for (int i = 1; i <= steps; i++)
    {
      double upper = gtk_adjustment_get_upper (adj) - gtk_adjustment_get_page_size (adj);
      guint queries = kh_record_list_get_n_queries (kh_list_page_get_list (page));

      ms[i - 1] = timed_scroll (GTK_WIDGET (window), adj, upper * i / steps);
      if (ms[i - 1] > 100)
        printf ("# %s: step %d of %d took %.1f ms (%u queries)\n", name, i, steps, ms[i - 1],
                kh_record_list_get_n_queries (kh_list_page_get_list (page)) - queries);
      sum += ms[i - 1];
    }
  perf_control (name, FALSE);
  qsort (ms, steps, sizeof (double), compare_double);
  printf ("%s-frame-median-ms: %.1f\n", name, ms[steps / 2]);
  printf ("%s-frame-p95-ms: %.1f\n", name, ms[(steps * 95) / 100 - 1]);
  printf ("%s-frame-worst-ms: %.1f\n", name, ms[steps - 1]);
  printf ("%s-frame-mean-ms: %.1f\n", name, sum / steps);
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
  double jump;
  guint rows;
  int steps = 100;

  /* As the app: glibc's heaps set up the way its main() sets them. */
  kh_memory_setup ();
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
  print_rss ("the Overview");

  kh_window_show_page (window, "people");
  page = KH_LIST_PAGE (kh_window_get_page (window, "people"));
  kh_widget_wait_for_paint (GTK_WIDGET (window), 2);
  rows = g_list_model_get_n_items (G_LIST_MODEL (kh_list_page_get_list (page)));
  adj = list_adjustment (page);
  printf ("list-rows: %u\n", rows);
  print_rss ("the people list");

  {
    double idle = 0;

    for (int i = 0; i < 10; i++)
      idle += timed_frame (GTK_WIDGET (window));
    /* A redraw of the whole window with nothing changed: what a frame costs here at all. */
    printf ("redraw-frame-mean-ms: %.1f\n", idle / 10);
  }

  /* The first jump: straight from the top to the last row, nothing cached near it. */
  perf_control ("jump", TRUE);
  jump = timed_scroll (GTK_WIDGET (window), adj, gtk_adjustment_get_upper (adj));
  perf_control ("jump", FALSE);
  printf ("jump-first-to-last-frame-ms: %.1f\n", jump);

  drag (window, page, "scroll-drag", steps);

  {
    GtkColumnView *view = GTK_COLUMN_VIEW (kh_list_page_get_column_view (page));
    g_autoptr(GtkColumnViewColumn) first = g_list_model_get_item (gtk_column_view_get_columns (view), 0);
    gint64 start;

    gtk_adjustment_set_value (adj, 0);
    timed_frame (GTK_WIDGET (window));
    start = g_get_monotonic_time ();
    /* Sorting by name: SQLite walks the index of the folded names (schema 4). */
    perf_control ("sort", TRUE);
    gtk_column_view_sort_by_column (view, first, GTK_SORT_ASCENDING);
    timed_frame (GTK_WIDGET (window));
    perf_control ("sort", FALSE);
    printf ("# sorted by %s\n", kh_record_list_get_sort_field (kh_list_page_get_list (page)));
    printf ("sort-by-name-frame-ms: %.1f\n", (g_get_monotonic_time () - start) / 1000.0);
    drag (window, page, "sorted-drag", steps);

    {
      GtkSelectionModel *selection = gtk_column_view_get_model (view);
      KhRecordList *list = kh_list_page_get_list (page);
      g_autoptr(KhRecordItem) chosen = g_list_model_get_item (G_LIST_MODEL (list), rows / 3);
      g_autofree char *id = g_strdup (kh_record_item_get_id (chosen));
      guint position;

      /* A record selected a third of the way down, the order reversed: it stays selected and
       * in view (found again by one lookup), where the list used to go back to the top. */
      gtk_selection_model_select_item (selection, rows / 3, TRUE);
      timed_frame (GTK_WIDGET (window));
      start = g_get_monotonic_time ();
      gtk_column_view_sort_by_column (view, first, GTK_SORT_DESCENDING);
      timed_frame (GTK_WIDGET (window));
      position = kh_record_list_find (list, id);
      printf ("resort-keeping-selection-frame-ms: %.1f (selected row %u → %u, %s)\n",
              (g_get_monotonic_time () - start) / 1000.0, rows / 3, position,
              position < rows && gtk_selection_model_is_selected (selection, position) ? "kept" : "lost");
      print_rss ("sorting");
      gtk_selection_model_unselect_all (selection);
    }
  }

  {
    GtkEditable *entry = GTK_EDITABLE (kh_list_page_get_search_entry (page));
    const char *typed = "nguyen van";
    double worst = 0;

    perf_control ("search", TRUE);
    /* Search as you type, a keystroke at a time (a letter added at the end, as typing does:
     * setting the whole text would clear it first, and an empty search shows every row), each
     * until the list has painted. */
    for (int i = 1; typed[i - 1] != '\0'; i++)
      {
        g_autofree char *prefix = g_strndup (typed, i);
        gint64 start = g_get_monotonic_time ();
        guint queries = kh_record_list_get_n_queries (kh_list_page_get_list (page));
        int end = i - 1;

        gtk_editable_insert_text (entry, typed + i - 1, 1, &end);
        /* The search entry waits a moment before it says the text changed. */
        g_signal_emit_by_name (entry, "search-changed");
        timed_frame (GTK_WIDGET (window));
        worst = MAX (worst, (g_get_monotonic_time () - start) / 1000.0);
        printf ("# search \"%s\": %.1f ms, %u rows, %u queries\n", prefix,
                (g_get_monotonic_time () - start) / 1000.0,
                g_list_model_get_n_items (G_LIST_MODEL (kh_list_page_get_list (page))),
                kh_record_list_get_n_queries (kh_list_page_get_list (page)) - queries);
      }
    perf_control ("search", FALSE);
    printf ("search-keystroke-worst-ms: %.1f (%u rows match \"%s\")\n", worst,
            g_list_model_get_n_items (G_LIST_MODEL (kh_list_page_get_list (page))), typed);
    print_rss ("the search");
  }
  {
    /* A picker's search as you type: a new registration's household, among every household,
     * searched a keystroke at a time with its popover open, each until it has painted. */
    const KhField *model = kh_entity_get_field (kh_entity_lookup ("registration"), "model");
    KhRecordEditor *editor = KH_RECORD_EDITOR (kh_record_editor_new (store, "registration", NULL, NULL));
    KhRecordPicker *picker;
    GtkEditable *entry;
    const char *typed = "nguyen van";
    guint family = 0;
    double worst = 0, opened;
    gint64 start;

    gtk_window_set_transient_for (GTK_WINDOW (editor), GTK_WINDOW (window));
    gtk_window_present (GTK_WINDOW (editor));
    kh_widget_wait_for_paint (GTK_WIDGET (editor), 2);
    while (g_strcmp0 (model->enum_values[family], "family") != 0)
      family++;
    start = g_get_monotonic_time ();
    adw_combo_row_set_selected (ADW_COMBO_ROW (kh_record_editor_get_row (editor, "model")), family);
    picker = KH_RECORD_PICKER (kh_record_editor_get_picker (editor, "subject_id"));
    kh_record_picker_popup (picker);
    kh_widget_wait_for_paint (kh_record_picker_get_popover (picker), 1);
    opened = (g_get_monotonic_time () - start) / 1000.0;
    printf ("picker-open-ms: %.1f (%u households)\n", opened,
            g_list_model_get_n_items (G_LIST_MODEL (kh_record_picker_get_list (picker))));
    print_rss ("the household picker opened");
    entry = GTK_EDITABLE (kh_record_picker_get_search_entry (picker));
    perf_control ("picker", TRUE);
    for (int i = 1; typed[i - 1] != '\0'; i++)
      {
        g_autofree char *prefix = g_strndup (typed, i);
        int end = i - 1;

        start = g_get_monotonic_time ();
        gtk_editable_insert_text (entry, typed + i - 1, 1, &end);
        g_signal_emit_by_name (entry, "search-changed");
        timed_frame (kh_record_picker_get_popover (picker));
        worst = MAX (worst, (g_get_monotonic_time () - start) / 1000.0);
        printf ("# picker search \"%s\": %.1f ms, %u match, %u shown\n", prefix,
                (g_get_monotonic_time () - start) / 1000.0,
                g_list_model_get_n_items (G_LIST_MODEL (kh_record_picker_get_list (picker))),
                g_list_model_get_n_items (kh_record_picker_get_shown (picker)));
      }
    perf_control ("picker", FALSE);
    printf ("picker-search-keystroke-worst-ms: %.1f (%u households match \"%s\")\n", worst,
            g_list_model_get_n_items (G_LIST_MODEL (kh_record_picker_get_list (picker))), typed);
    print_rss ("the household picker searched");
    gtk_window_destroy (GTK_WINDOW (editor));
  }
  {
    /* A unit found by its path, typed a keystroke at a time in a registration's unit picker:
     * each keystroke one MATCH of the units' search index, which holds their parents' names. */
    KhRecordEditor *editor = KH_RECORD_EDITOR (kh_record_editor_new (store, "registration", NULL, NULL));
    KhRecordPicker *picker;
    GtkEditable *entry;
    const char *typed = "thon 1 suoi hiep";
    double worst = 0;

    gtk_window_set_transient_for (GTK_WINDOW (editor), GTK_WINDOW (window));
    gtk_window_present (GTK_WINDOW (editor));
    kh_widget_wait_for_paint (GTK_WIDGET (editor), 2);
    picker = KH_RECORD_PICKER (kh_record_editor_get_picker (editor, "org_unit_id"));
    kh_record_picker_popup (picker);
    kh_widget_wait_for_paint (kh_record_picker_get_popover (picker), 1);
    entry = GTK_EDITABLE (kh_record_picker_get_search_entry (picker));
    for (int i = 1; typed[i - 1] != '\0'; i++)
      {
        g_autofree char *prefix = g_strndup (typed, i);
        int end = i - 1;
        gint64 start = g_get_monotonic_time ();

        gtk_editable_insert_text (entry, typed + i - 1, 1, &end);
        g_signal_emit_by_name (entry, "search-changed");
        timed_frame (kh_record_picker_get_popover (picker));
        worst = MAX (worst, (g_get_monotonic_time () - start) / 1000.0);
        printf ("# unit picker search \"%s\": %.1f ms, %u match\n", prefix,
                (g_get_monotonic_time () - start) / 1000.0,
                g_list_model_get_n_items (G_LIST_MODEL (kh_record_picker_get_list (picker))));
      }
    printf ("unit-picker-search-keystroke-worst-ms: %.1f (%u units match \"%s\")\n", worst,
            g_list_model_get_n_items (G_LIST_MODEL (kh_record_picker_get_list (picker))), typed);
    print_rss ("the unit picker searched");
    gtk_window_destroy (GTK_WINDOW (editor));
  }
  printf ("rows-cached: %u\n", kh_record_list_get_n_cached (kh_list_page_get_list (page)));
  printf ("rss-mb: %.1f\n", rss_kb () / 1024.0);
  printf ("peak-rss-mb: %.1f\n", peak_rss_kb () / 1024.0);

  gtk_window_destroy (GTK_WINDOW (window));
  return 0;
}
