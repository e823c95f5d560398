/* test-cli.c: khuyenhoc-cli's import, export, report and print-list, as IT staff script them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gstdio.h>
#include <json-c/json.h>
#include <string.h>

#include "kh-test-dir.h"

typedef struct
{
  char *dir;
  char *db;
} Fixture;

/* Runs the CLI with --db and the arguments; returns its exit status and what it printed. */
static int
cli (Fixture     *f,
     char       **out,
     char       **err,
     const char  *first,
     ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  const char *arg = first;
  int status = 0;
  va_list ap;

  g_ptr_array_add (argv, (char *) g_getenv ("KH_CLI"));
  g_ptr_array_add (argv, (char *) "--db");
  g_ptr_array_add (argv, f->db);
  va_start (ap, first);
  while (arg != NULL)
    {
      g_ptr_array_add (argv, (char *) arg);
      arg = va_arg (ap, const char *);
    }
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  /* Output not asked for must not reach the TAP stream. */
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL,
                               out != NULL ? G_SPAWN_DEFAULT : G_SPAWN_STDOUT_TO_DEV_NULL,
                               NULL, NULL, out, err, &status, &error));
  g_assert_no_error (error);
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

static char *
file (Fixture    *f,
      const char *name,
      const char *contents)
{
  char *path = g_build_filename (f->dir, name, NULL);

  if (contents != NULL)
    g_assert_true (g_file_set_contents (path, contents, -1, NULL));
  return path;
}

static void
test_cli_lists (void)
{
  Fixture fx = { 0 }, *f = &fx;
  g_autoptr(GError) error = NULL;
  g_autofree char *unit = NULL, *list = NULL, *out = NULL, *err = NULL, *text = NULL;
  g_autofree char *bad = NULL, *good = NULL, *report = NULL, *xlsx = NULL, *csv = NULL, *pdf = NULL;
  json_object *j, *v;

  f->dir = kh_test_tmpdir ();
  f->db = g_build_filename (f->dir, "kh.db", NULL);

  g_assert_cmpint (cli (f, &unit, NULL, "add", "org_unit", "code=N001", "name=Xã Một", "kind=commune", NULL), ==, 0);
  g_strstrip (unit);
  {
    g_autofree char *arg = g_strdup_printf ("org_unit_id=%s", unit);

    g_assert_cmpint (cli (f, &list, NULL, "add", "award_list", "title=Học bổng Tết 2025", "occasion=tet",
                          "school_year=2024-2025", arg, "status=approved", "prepared_by=Trần Thị Lan", NULL), ==, 0);
    g_strstrip (list);
  }

  /* A bad row: the command fails, says where, writes nothing, and saves the report. */
  bad = file (f, "bad.csv", "Họ và tên;Ngày sinh;Loại;Số tiền;Trạng thái\n"
                            "Nguyễn Văn Một;03/06/2010;Vượt khó;1.000.000;Đã duyệt\n"
                            "Trần Thị Hai;31/02/2011;Khuyến tài;2.000.000;Đã duyệt\n");
  report = file (f, "report.csv", NULL);
  g_assert_cmpint (cli (f, &out, &err, "import", "award_entry", bad, "--list", list, "--report", report, NULL), ==, 1);
  g_assert_nonnull (strstr (err, "3"));
  g_assert_nonnull (strstr (err, "Ngày sinh"));
  g_assert_true (g_file_get_contents (report, &text, NULL, NULL));
  g_assert_nonnull (strstr (text, "\r\n3,Ngày sinh,"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (cli (f, &out, NULL, "count", "award_entry", NULL), ==, 0);
  g_assert_cmpint (g_ascii_strtoll (out, NULL, 10), ==, 0);
  g_clear_pointer (&out, g_free);

  /* The corrected file imports, and --json tells what happened. */
  good = file (f, "good.csv", "Họ và tên;Ngày sinh;Loại;Số tiền;Trạng thái\n"
                              "Nguyễn Văn Một;03/06/2010;Vượt khó;1.000.000;Đã duyệt\n"
                              "Trần Thị Hai;28/02/2011;Khuyến tài;2.000.000;Đã duyệt\n");
  g_assert_cmpint (cli (f, &out, NULL, "--json", "import", "award_entry", good, "--list", list, NULL), ==, 0);
  j = json_tokener_parse (out);
  g_assert_nonnull (j);
  g_assert_true (json_object_get_boolean (json_object_object_get (j, "committed")));
  g_assert_cmpint (json_object_get_int (json_object_object_get (j, "rows_written")), ==, 2);
  g_assert_cmpstr (json_object_get_string (json_object_object_get (json_object_object_get (j, "mapping"), "Số tiền")), ==, "amount");
  json_object_put (j);
  g_clear_pointer (&out, g_free);

  /* The same file again: every row is a possible duplicate, and nothing is written. */
  g_assert_cmpint (cli (f, &out, &err, "import", "award_entry", good, "--list", list, NULL), ==, 1);
  g_assert_nonnull (strstr (err, "--duplicates"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  xlsx = file (f, "list.xlsx", NULL);
  csv = file (f, "list.csv", NULL);
  pdf = file (f, "list.pdf", NULL);
  g_assert_cmpint (cli (f, NULL, NULL, "export", "award_entry", xlsx, "--list", list, NULL), ==, 0);
  g_assert_cmpint (cli (f, NULL, NULL, "export", "award_entry", csv, "--list", list, NULL), ==, 0);
  g_assert_cmpint (cli (f, NULL, NULL, "print-list", list, pdf, NULL), ==, 0);
  g_clear_pointer (&text, g_free);
  g_assert_true (g_file_get_contents (csv, &text, NULL, NULL));
  g_assert_true (g_str_has_prefix (text, "\xEF\xBB\xBF"));
  g_clear_pointer (&text, g_free);
  g_assert_true (g_file_get_contents (pdf, &text, NULL, NULL));
  g_assert_true (g_str_has_prefix (text, "%PDF-"));
  g_assert_true (g_file_test (xlsx, G_FILE_TEST_IS_REGULAR));

  /* The figures: the Tết list of school year 2024-2025 counts in 2025. */
  g_assert_cmpint (cli (f, &out, NULL, "--json", "report", "--unit", "N001", "--year", "2025", NULL), ==, 0);
  j = json_tokener_parse (out);
  g_assert_nonnull (j);
  v = json_object_object_get (j, "awards_total");
  g_assert_cmpint (json_object_get_int64 (json_object_object_get (v, "count")), ==, 2);
  g_assert_cmpint (json_object_get_int64 (json_object_object_get (v, "amount")), ==, 3000000);
  json_object_put (j);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (cli (f, NULL, NULL, "report", "--unit", "NOPE", "--year", "2025", NULL), ==, 1);
  g_assert_cmpint (cli (f, NULL, NULL, "report", "--year", "2025", NULL), ==, 2);

  kh_test_rmdir (f->dir);
  g_free (f->dir);
  g_free (f->db);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/lists/cli/import-export-report-print", test_cli_lists);
  return g_test_run ();
}
