/* bench-lists.c: importing and exporting a 100,000-row list, and the province's figures at
 * 1,000,000 records
 *
 * Run by ./dev bench. Prints each figure on a line of its own:
 *   import-xlsx: 100000 rows in 4.1 s, 24390 rows/s
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gstdio.h>
#include <sys/resource.h>
#include <xlsxwriter.h>

#include "kh-demo.h"
#include "kh-export.h"
#include "kh-import.h"
#include "kh-report.h"
#include "kh-store.h"

static char *
make_record (KhStore    *store,
             const char *entity,
             json_object *values)
{
  g_autoptr(GError) error = NULL;
  char *id = kh_store_create (store, entity, values, &error);

  g_assert_no_error (error);
  json_object_put (values);
  return id;
}

static json_object *
obj3 (const char *k1, const char *v1, const char *k2, const char *v2, const char *k3, const char *v3)
{
  json_object *o = json_object_new_object ();

  json_object_object_add (o, k1, json_object_new_string (v1));
  json_object_object_add (o, k2, json_object_new_string (v2));
  json_object_object_add (o, k3, json_object_new_string (v3));
  return o;
}

static void
write_list (const char *path,
            int         rows)
{
  static const char *family[] = { "Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Phan", "Võ", "Đặng", "Bùi", "Đỗ" };
  static const char *middle[] = { "Văn", "Thị", "Ngọc", "Minh", "Đức", "Thanh" };
  static const char *given[] = { "Hoa", "Hương", "Lan", "Hùng", "Tuấn", "Dũng", "Nam", "Minh", "Anh", "Tâm", "Yến" };
  static const char *category[] = { "Vượt khó", "Khuyến tài", "Đặc biệt", "Vượt khó" };
  lxw_workbook_options options = { .constant_memory = LXW_TRUE };
  lxw_workbook *wb = workbook_new_opt (path, &options);
  lxw_worksheet *ws = workbook_add_worksheet (wb, NULL);
  lxw_format *date = workbook_add_format (wb);
  const char *headers[] = { "STT", "Họ và tên", "Ngày sinh", "Giới tính", "Trường", "Lớp", "Loại", "Số tiền", "Số phiếu chi" };

  format_set_num_format (date, "dd/mm/yyyy");
  worksheet_write_string (ws, 0, 0, "DANH SÁCH HỌC SINH NHẬN HỌC BỔNG", NULL);
  for (int c = 0; c < 9; c++)
    worksheet_write_string (ws, 1, (lxw_col_t) c, headers[c], NULL);
  for (int i = 0; i < rows; i++)
    {
      g_autofree char *name = g_strdup_printf ("%s %s %s", family[i % 10], middle[(i / 10) % 6], given[(i / 60) % 11]);
      g_autofree char *school = g_strdup_printf ("Trường THCS số %d", i % 40 + 1);
      g_autofree char *voucher = g_strdup_printf ("PC%06d", i + 1);
      lxw_datetime dt = { 2006 + i % 12, 1 + i % 12, 1 + (i / 12) % 28, 0, 0, 0 };
      lxw_row_t r = (lxw_row_t) i + 2;

      worksheet_write_number (ws, r, 0, i + 1, NULL);
      worksheet_write_string (ws, r, 1, name, NULL);
      worksheet_write_datetime (ws, r, 2, &dt, date);
      worksheet_write_string (ws, r, 3, i % 2 ? "Nữ" : "Nam", NULL);
      worksheet_write_string (ws, r, 4, school, NULL);
      worksheet_write_string (ws, r, 5, "9A", NULL);
      worksheet_write_string (ws, r, 6, category[i % 4], NULL);
      worksheet_write_number (ws, r, 7, 500000 * (1 + i % 6), NULL);
      worksheet_write_string (ws, r, 8, voucher, NULL);
    }
  g_assert_cmpint (workbook_close (wb), ==, LXW_NO_ERROR);
}

static double
seconds_since (gint64 start)
{
  return (g_get_monotonic_time () - start) / 1e6;
}

static void
bench_list (const char *dir)
{
  g_autofree char *db = g_build_filename (dir, "list.db", NULL);
  g_autofree char *xlsx = g_build_filename (dir, "list.xlsx", NULL);
  g_autofree char *out_xlsx = g_build_filename (dir, "out.xlsx", NULL);
  g_autofree char *out_csv = g_build_filename (dir, "out.csv", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(KhStore) store = kh_store_open (db, &error);
  g_autofree char *unit = NULL;
  g_autofree char *list = NULL;
  g_autoptr(KhImportReport) report = NULL;
  KhImportOptions io = { .entity = "award_entry", .duplicates = KH_IMPORT_DUPLICATES_IMPORT };
  KhExportOptions eo = { 0 };
  const int rows = 100000;
  gint64 start, n = 0;
  double s;
  json_object *l;

  g_assert_no_error (error);
  unit = make_record (store, "org_unit", obj3 ("code", "N001", "name", "Xã Diên Khánh", "kind", "commune"));
  l = obj3 ("title", "Học bổng Tết 2025", "occasion", "tet", "school_year", "2024-2025");
  json_object_object_add (l, "org_unit_id", json_object_new_string (unit));
  json_object_object_add (l, "status", json_object_new_string ("draft"));
  list = make_record (store, "award_list", l);

  write_list (xlsx, rows);
  io.list_id = list;
  start = g_get_monotonic_time ();
  report = kh_import_file (store, xlsx, &io, &error);
  s = seconds_since (start);
  g_assert_no_error (error);
  g_assert_cmpuint (report->n_errors, ==, 0);
  g_assert_true (report->committed);
  g_assert_cmpuint (report->rows_written, ==, rows);
  g_print ("import-xlsx: %d rows in %.2f s, %.0f rows/s (validated, one transaction, with outbox and audit)\n",
           rows, s, rows / s);

  eo.list_id = list;
  start = g_get_monotonic_time ();
  g_assert_true (kh_export_file (store, "award_entry", out_xlsx, &eo, &n, &error));
  s = seconds_since (start);
  g_assert_cmpint (n, ==, rows);
  g_print ("export-xlsx: %" G_GINT64_FORMAT " rows in %.2f s, %.0f rows/s\n", n, s, n / s);

  start = g_get_monotonic_time ();
  g_assert_true (kh_export_file (store, "award_entry", out_csv, &eo, &n, &error));
  s = seconds_since (start);
  g_print ("export-csv: %" G_GINT64_FORMAT " rows in %.2f s, %.0f rows/s\n", n, s, n / s);
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static void
bench_figures (const char *dir)
{
  g_autofree char *db = g_build_filename (dir, "province.db", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(KhStore) store = kh_store_open (db, &error);
  KhDemoStats stats = { 0 };
  const gint64 records = 1000000;
  static const struct { const char *unit; int year; gboolean successor; } cases[] = {
    { "56N", 2024, TRUE },   /* today's province, 2024 through the succession links */
    { "56N", 2025, TRUE },
    { "56", 2024, FALSE },   /* the old province by its own tree */
    { "N001", 2024, TRUE },  /* one commune */
  };

  g_assert_no_error (error);
  g_assert_true (kh_demo_generate (store, records, 2025, &stats, &error));
  g_assert_no_error (error);
  g_print ("figures: made %" G_GINT64_FORMAT " demo records in %.1f s\n", stats.records, stats.seconds);

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      double times[7];
      json_object *report = NULL;

      for (int i = 0; i < 7; i++)
        {
          gint64 start = g_get_monotonic_time ();

          g_clear_pointer (&report, json_object_put);
          report = kh_report_compute (store, cases[c].unit, cases[c].year, cases[c].successor, &error);
          times[i] = seconds_since (start) * 1000;
          g_assert_no_error (error);
        }
      qsort (times, 7, sizeof times[0], compare_doubles);
      g_print ("figures %s %d%s: median %.1f ms (first %.1f ms, best %.1f ms) over %" G_GINT64_FORMAT
               " units; %" G_GINT64_FORMAT " awards, %" G_GINT64_FORMAT " registrations of families\n",
               cases[c].unit, cases[c].year, cases[c].successor ? " by successor" : "",
               times[3], times[6], times[0],
               json_object_get_int64 (json_object_object_get (report, "units")),
               json_object_get_int64 (json_object_object_get (json_object_object_get (report, "awards_total"), "count")),
               json_object_get_int64 (json_object_object_get (json_object_array_get_idx (json_object_object_get (report, "models"), 1), "registered")));
      json_object_put (report);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("kh-bench-lists-XXXXXX", &error);
  struct rusage usage;
  GDir *d;
  const char *name;

  g_assert_no_error (error);
  if (argc < 2 || g_strcmp0 (argv[1], "figures") != 0)
    bench_list (dir);
  if (argc < 2 || g_strcmp0 (argv[1], "list") != 0)
    bench_figures (dir);
  getrusage (RUSAGE_SELF, &usage);
  g_print ("peak memory: %ld MB\n", usage.ru_maxrss / 1024);

  d = g_dir_open (dir, 0, NULL);
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (dir, name, NULL);

      g_unlink (p);
    }
  if (d != NULL)
    g_dir_close (d);
  g_rmdir (dir);
  return 0;
}
