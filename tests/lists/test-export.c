/* test-export.c: lists out to Excel and CSV, and back in
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-csv.h"
#include "kh-error.h"
#include "kh-export.h"
#include "kh-import.h"
#include "kh-xlsx-reader.h"
#include "kh-test-store.h"
#include "lists-util.h"

typedef struct
{
  TestStore t;
  char     *commune;
  char     *list;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  test_store_init (&f->t);
  f->commune = test_make (f->t.store, "org_unit", "code", "N001", "name", "Xã Diên Khánh", "kind", "commune", NULL);
  f->list = test_make (f->t.store, "award_list", "title", "Học bổng Tết 2025", "occasion", "tet",
                       "school_year", "2024-2025", "org_unit_id", f->commune, "status", "approved", NULL);
  g_free (test_make (f->t.store, "award_entry", "list_id", f->list, "org_unit_id", f->commune,
                     "recipient_name", "Nguyễn Văn Đức", "birth_date", "2010-06-03", "gender", "male",
                     "school", "THCS Diên Khánh", "grade", "9A", "category", "hardship",
                     "amount", "#1250000", "status", "approved", NULL));
  g_free (test_make (f->t.store, "award_entry", "list_id", f->list, "org_unit_id", f->commune,
                     "recipient_name", "=Trần, \"Bé\" Thị", "category", "merit",
                     "reason", "Học sinh giỏi\ncấp tỉnh", "amount", "#3000000", "status", "approved", NULL));
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_free (f->commune);
  g_free (f->list);
  test_store_clear (&f->t);
}

typedef struct
{
  GPtrArray *rows;
} Rows;

static gboolean
collect_cb (guint          row,
            const KhCell  *cells,
            guint          n_cells,
            gpointer       user_data,
            GError       **error)
{
  Rows *r = user_data;
  GStrvBuilder *b = g_strv_builder_new ();

  for (guint i = 0; i < n_cells; i++)
    g_strv_builder_add (b, cells[i].text);
  g_ptr_array_add (r->rows, g_strv_builder_end (b));
  g_strv_builder_unref (b);
  return TRUE;
}

static int
find (char       **row,
      const char  *text)
{
  for (int i = 0; row[i] != NULL; i++)
    if (g_strcmp0 (row[i], text) == 0)
      return i;
  return -1;
}

static void
test_export_xlsx (Fixture       *f,
                  gconstpointer  data)
{
  g_autofree char *path = g_build_filename (f->t.dir, "list.xlsx", NULL);
  KhExportOptions o = { .list_id = f->list };
  g_autoptr(GError) error = NULL;
  Rows r = { g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev) };
  gint64 n = 0;
  char **header, **first, **total;
  int amount, birth;

  g_assert_true (kh_export_file (f->t.store, "award_entry", path, &o, &n, &error));
  g_assert_no_error (error);
  g_assert_cmpint (n, ==, 2);

  /* Read back: a title row, the header, two rows, a totals row whose SUM has its value. */
  g_assert_true (kh_xlsx_read_file (path, NULL, collect_cb, &r, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (r.rows->len, ==, 5);
  g_assert_cmpstr (((char **) r.rows->pdata[0])[0], ==, "Học bổng Tết 2025");
  header = r.rows->pdata[1];
  first = r.rows->pdata[2];
  total = r.rows->pdata[4];
  amount = find (header, "Amount (đồng)");
  birth = find (header, "Date of birth");
  g_assert_cmpint (amount, >=, 0);
  g_assert_cmpint (birth, >=, 0);
  g_assert_cmpint (find (header, "Award list"), ==, -1);
  g_assert_cmpstr (first[amount], ==, "1250000");
  g_assert_cmpstr (first[birth], ==, "40332");     /* a real date: 03/06/2010 */
  g_assert_cmpstr (first[find (header, "Unit")], ==, "N001");
  g_assert_cmpstr (first[find (header, "Category")], ==, "Hardship scholarship");
  g_assert_cmpstr (total[amount], ==, "4250000");
  g_ptr_array_unref (r.rows);

  /* The workbook imports back, its title and totals rows passed over. */
  {
    g_autofree char *copy = test_make (f->t.store, "award_list", "title", "Bản sao", "occasion", "tet",
                                       "school_year", "2024-2025", "org_unit_id", f->commune,
                                       "status", "draft", NULL);
    KhImportOptions io = { .entity = "award_entry", .list_id = copy };
    g_autoptr(KhImportReport) report = kh_import_file (f->t.store, path, &io, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (report->n_errors, ==, 0);
    g_assert_true (report->committed);
    g_assert_cmpuint (report->rows_read, ==, 2);
    g_assert_cmpint (test_count (f->t.store, "award_entry"), ==, 4);
  }

  g_assert_false (kh_export_file (f->t.store, "award_entry", "/nonexistent/dir/x.xlsx", &o, NULL, &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_IO);
  g_clear_error (&error);
  g_assert_false (kh_export_file (f->t.store, "award_entry", "list.pdf", &o, NULL, &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
}

static void
test_export_csv_round_trip (Fixture       *f,
                            gconstpointer  data)
{
  g_autofree char *path = g_build_filename (f->t.dir, "list.csv", NULL);
  g_autofree char *text = NULL;
  g_autofree char *other = test_make (f->t.store, "award_list", "title", "Bản sao", "occasion", "tet",
                                      "school_year", "2024-2025", "org_unit_id", f->commune,
                                      "status", "draft", NULL);
  /* A whole copy, sensitive fields too, as a person asks for it. */
  KhExportOptions o = { .list_id = f->list, .include_sensitive = TRUE };
  KhImportOptions io = { .entity = "award_entry", .list_id = other };
  g_autoptr(GError) error = NULL;
  g_autoptr(KhImportReport) report = NULL;
  json_object *where = NULL;
  KhQuery q = { .order_by = "amount" };
  json_object *copied;

  g_assert_true (kh_export_file (f->t.store, "award_entry", path, &o, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  /* Excel needs the byte order mark to read UTF-8; a name that looks like a formula is text. */
  g_assert_true (g_str_has_prefix (text, "\xEF\xBB\xBF" "Unit,"));
  g_assert_nonnull (strstr (text, "03/06/2010"));
  g_assert_nonnull (strstr (text, "\"'=Trần, \"\"Bé\"\" Thị\""));

  /* What was exported imports into another list as the same entries. */
  report = kh_import_file (f->t.store, path, &io, &error);
  g_assert_no_error (error);
  g_assert_true (report->committed);
  g_assert_cmpuint (report->rows_written, ==, 2);
  where = test_obj ("list_id", other, NULL);
  q.where = where;
  copied = kh_store_list (f->t.store, "award_entry", &q, &error);
  g_assert_cmpuint (json_object_array_length (copied), ==, 2);
  g_assert_cmpstr (json_object_get_string (json_object_object_get (json_object_array_get_idx (copied, 0), "recipient_name")),
                   ==, "Nguyễn Văn Đức");
  g_assert_cmpstr (json_object_get_string (json_object_object_get (json_object_array_get_idx (copied, 0), "birth_date")),
                   ==, "2010-06-03");
  g_assert_cmpstr (json_object_get_string (json_object_object_get (json_object_array_get_idx (copied, 0), "gender")),
                   ==, "male");
  g_assert_cmpstr (json_object_get_string (json_object_object_get (json_object_array_get_idx (copied, 1), "reason")),
                   ==, "Học sinh giỏi\ncấp tỉnh");
  g_assert_cmpint (json_object_get_int64 (json_object_object_get (json_object_array_get_idx (copied, 1), "amount")),
                   ==, 3000000);
  g_assert_cmpstr (json_object_get_string (json_object_object_get (json_object_array_get_idx (copied, 1), "recipient_name")),
                   ==, "=Trần, \"Bé\" Thị");
  json_object_put (copied);
  json_object_put (where);
}

/* Sensitive fields stay out of an export unless asked for; an export that carries them is in
 * the audit, one that does not is not. */
static void
test_export_sensitive (Fixture       *f,
                       gconstpointer  data)
{
  g_autofree char *csv = g_build_filename (f->t.dir, "plain.csv", NULL);
  g_autofree char *xlsx = g_build_filename (f->t.dir, "full.xlsx", NULL);
  g_autofree char *full = g_build_filename (f->t.dir, "full.csv", NULL);
  g_autofree char *text = NULL;
  g_autofree char *person = test_make (f->t.store, "person", "full_name", "Cao Thị Hạnh", "org_unit_id", f->commune,
                                       "national_id", "056210004321", "ethnicity", "Raglai",
                                       "phone", "0905111222", "address", "Thôn Tà Giang", NULL);
  g_autoptr(GError) error = NULL;
  KhExportOptions plain = { .list_id = f->list };
  KhExportOptions asked = { .list_id = f->list, .include_sensitive = TRUE };
  KhExportOptions people = { 0 };
  KhExportOptions people_asked = { .include_sensitive = TRUE };

  g_assert_true (kh_export_file (f->t.store, "award_entry", csv, &plain, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (csv, &text, NULL, NULL));
  g_assert_null (strstr (text, "Học sinh giỏi"));
  g_assert_nonnull (strstr (text, "Nguyễn Văn Đức"));
  g_clear_pointer (&text, g_free);
  g_assert_true (kh_export_file (f->t.store, "person", csv, &people, NULL, &error));
  g_assert_true (g_file_get_contents (csv, &text, NULL, NULL));
  g_assert_nonnull (strstr (text, "Cao Thị Hạnh"));
  g_assert_null (strstr (text, "056210004321"));
  g_assert_null (strstr (text, "Raglai"));
  g_assert_null (strstr (text, "0905111222"));
  g_assert_null (strstr (text, "Tà Giang"));
  g_clear_pointer (&text, g_free);
  g_assert_true (kh_export_file (f->t.store, "person", xlsx, &people, NULL, &error));
  g_assert_cmpint (kh_test_query_int (f->t.store, "SELECT count(*) FROM audit WHERE action = 'export'"), ==, 0);

  g_assert_true (kh_export_file (f->t.store, "award_entry", full, &asked, NULL, &error));
  g_assert_true (kh_export_file (f->t.store, "person", xlsx, &people_asked, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (kh_export_file (f->t.store, "person", full, &people_asked, NULL, &error));
  g_assert_true (g_file_get_contents (full, &text, NULL, NULL));
  g_assert_nonnull (strstr (text, "056210004321"));
  g_assert_nonnull (strstr (text, "Raglai"));
  g_assert_cmpint (kh_test_query_int (f->t.store, "SELECT count(*) FROM audit WHERE action = 'export'"), ==, 3);
  g_assert_cmpint (kh_test_query_int (f->t.store, "SELECT count(*) FROM audit WHERE action = 'export' "
                                      "AND entity = 'person' AND field LIKE '%national_id%' "
                                      "AND new_value LIKE '%full.xlsx' AND actor = 'tester'"), ==, 1);
  /* The audit names the fields, never their values. */
  g_assert_cmpint (kh_test_query_int (f->t.store, "SELECT count(*) FROM audit WHERE action = 'export' "
                                      "AND (coalesce(old_value, '') || new_value || field) LIKE '%056210004321%'"), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/lists/export/xlsx", Fixture, NULL, fixture_setup, test_export_xlsx, fixture_teardown);
  g_test_add ("/lists/export/csv-round-trip", Fixture, NULL, fixture_setup, test_export_csv_round_trip, fixture_teardown);
  g_test_add ("/lists/export/sensitive", Fixture, NULL, fixture_setup, test_export_sensitive, fixture_teardown);
  return g_test_run ();
}
