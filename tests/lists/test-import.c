/* test-import.c: lists from CSV and Excel files into the store, all or nothing
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <xlsxwriter.h>

#include "kh-error.h"
#include "kh-import.h"
#include "lists-util.h"

typedef struct
{
  TestStore t;
  char     *province;
  char     *commune;
  char     *list;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  test_store_init (&f->t);
  f->province = test_make (f->t.store, "org_unit", "code", "56", "name", "Tỉnh Khánh Hòa", "kind", "province", NULL);
  f->commune = test_make (f->t.store, "org_unit", "code", "N001", "name", "Xã Diên Khánh", "kind", "commune",
                          "parent_id", f->province, NULL);
  f->list = test_make (f->t.store, "award_list", "title", "Học bổng Tết 2025", "occasion", "tet",
                       "school_year", "2024-2025", "org_unit_id", f->commune, "status", "draft", NULL);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_free (f->province);
  g_free (f->commune);
  g_free (f->list);
  test_store_clear (&f->t);
}

static json_object *
entries_by_name (Fixture *f)
{
  KhQuery q = { .order_by = "recipient_name" };
  g_autoptr(GError) error = NULL;
  json_object *list = kh_store_list (f->t.store, "award_entry", &q, &error);

  g_assert_no_error (error);
  return list;
}

static const char *
field_of (json_object *array,
          guint        i,
          const char  *name)
{
  return json_object_get_string (json_object_object_get (json_object_array_get_idx (array, i), name));
}

/* A school's list as it arrives: a title row, Vietnamese headers, a running number and a
 * signature column, labels instead of codes, amounts and dates as people write them. */
static const char school_csv[] =
  "\xEF\xBB\xBF" "DANH SÁCH HỌC SINH ĐỀ NGHỊ NHẬN HỌC BỔNG TẾT 2025;;;;;;;\n"
  "STT;Họ và tên;Ngày sinh;Giới tính;Trường;Lớp;Loại;Số tiền;Ký nhận\n"
  "1;Nguyễn Văn Đức;03/06/2010;Nam;THCS Diên Khánh;9A;Vượt khó;1.250.000;\n"
  "2;Trần Thị Hồng Nhung;21/11/2012;Nữ;THCS Diên Khánh;7B;Học sinh giỏi;\"2.000.000 ₫\";\n"
  "3;Lê Minh Anh;2008-01-15;nữ;THPT Nguyễn Trãi;12;merit;3000000;\n";

static void
test_import_school_csv (Fixture       *f,
                        gconstpointer  data)
{
  KhImportOptions o = { .entity = "award_entry", .list_id = f->list };
  g_autoptr(GError) error = NULL;
  g_autoptr(KhImportReport) r = NULL;
  json_object *rows;

  r = kh_import_data (f->t.store, school_csv, sizeof school_csv - 1, &o, &error);
  g_assert_no_error (error);
  g_assert_nonnull (r);
  g_assert_cmpuint (r->n_errors, ==, 0);
  g_assert_true (r->committed);
  g_assert_cmpuint (r->header_row, ==, 2);
  g_assert_cmpuint (r->rows_written, ==, 3);
  /* STT and the signature column are not data; the others found their fields. */
  g_assert_cmpint (g_array_index (r->mapping, int, 0), ==, -1);
  g_assert_cmpint (g_array_index (r->mapping, int, 8), ==, -1);
  g_assert_cmpint (kh_import_match_header ("award_entry", "Họ và tên"), ==,
                   g_array_index (r->mapping, int, 1));
  g_assert_cmpint (kh_import_match_header ("award_entry", "SO TIEN"), >=, 0);
  g_assert_cmpint (kh_import_match_header ("award_entry", "Amount (đồng)"), ==,
                   kh_import_match_header ("award_entry", "Số tiền"));

  rows = entries_by_name (f);
  g_assert_cmpuint (json_object_array_length (rows), ==, 3);
  g_assert_cmpstr (field_of (rows, 0, "recipient_name"), ==, "Lê Minh Anh");
  g_assert_cmpstr (field_of (rows, 0, "birth_date"), ==, "2008-01-15");
  g_assert_cmpstr (field_of (rows, 0, "gender"), ==, "female");
  g_assert_cmpstr (field_of (rows, 0, "category"), ==, "merit");
  g_assert_cmpstr (field_of (rows, 1, "recipient_name"), ==, "Nguyễn Văn Đức");
  g_assert_cmpstr (field_of (rows, 1, "gender"), ==, "male");
  g_assert_cmpstr (field_of (rows, 1, "category"), ==, "hardship");
  g_assert_cmpint (json_object_get_int64 (json_object_object_get (json_object_array_get_idx (rows, 1), "amount")), ==, 1250000);
  g_assert_cmpint (json_object_get_int64 (json_object_object_get (json_object_array_get_idx (rows, 2), "amount")), ==, 2000000);
  /* The list's unit and a proposed status come with the list. */
  g_assert_cmpstr (field_of (rows, 2, "org_unit_id"), ==, f->commune);
  g_assert_cmpstr (field_of (rows, 2, "list_id"), ==, f->list);
  g_assert_cmpstr (field_of (rows, 2, "status"), ==, "proposed");
  json_object_put (rows);
}

static void
test_import_all_or_nothing (Fixture       *f,
                            gconstpointer  data)
{
  const char csv[] =
    "Họ và tên,Ngày sinh,Loại,Số tiền\n"
    "Nguyễn Văn An,03/06/2010,hardship,1000000\n"
    "Phạm Thị Bình,31/02/2011,hardship,1000000\n"   /* no such date */
    ",01/01/2011,merit,500000\n"                    /* no name */
    "Võ Văn Cường,01/01/2011,prize,1.5\n";          /* unknown category, not whole đồng */
  KhImportOptions o = { .entity = "award_entry", .list_id = f->list };
  g_autoptr(GError) error = NULL;
  g_autoptr(KhImportReport) r = kh_import_data (f->t.store, csv, sizeof csv - 1, &o, &error);
  g_autofree char *report_path = g_build_filename (f->t.dir, "report.csv", NULL);
  g_autofree char *saved = NULL;
  g_autofree char *summary = NULL;
  KhImportProblem *p;

  g_assert_no_error (error);
  g_assert_false (r->committed);
  g_assert_cmpuint (test_count (f->t.store, "award_entry"), ==, 0);
  g_assert_cmpuint (r->rows_read, ==, 4);
  for (guint i = 0; i < r->errors->len; i++)
    g_test_message ("%u %s %s", ((KhImportProblem *) r->errors->pdata[i])->row, ((KhImportProblem *) r->errors->pdata[i])->column, ((KhImportProblem *) r->errors->pdata[i])->reason);
  g_assert_cmpuint (r->n_errors, ==, 4);

  p = r->errors->pdata[0];
  g_assert_cmpuint (p->row, ==, 3);
  g_assert_cmpstr (p->column, ==, "Ngày sinh");
  g_assert_cmpstr (p->field, ==, "birth_date");
  p = r->errors->pdata[1];
  g_assert_cmpuint (p->row, ==, 4);
  g_assert_cmpstr (p->column, ==, "Họ và tên");
  p = r->errors->pdata[2];
  g_assert_cmpuint (p->row, ==, 5);
  g_assert_cmpstr (p->column, ==, "Loại");
  g_assert_nonnull (strstr (p->reason, "prize"));
  p = r->errors->pdata[3];
  g_assert_cmpuint (p->row, ==, 5);
  g_assert_cmpstr (p->column, ==, "Số tiền");

  summary = kh_import_report_summary (r);
  g_assert_nonnull (strstr (summary, "4"));
  g_assert_true (kh_import_report_save_csv (r, report_path, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (report_path, &saved, NULL, NULL));
  g_assert_true (g_str_has_prefix (saved, "\xEF\xBB\xBF"));
  g_assert_nonnull (strstr (saved, "\r\n3,Ngày sinh,"));
  g_assert_nonnull (strstr (saved, "\r\n5,Số tiền,"));
}

static void
test_import_duplicates (Fixture       *f,
                        gconstpointer  data)
{
  const char csv[] =
    "Họ và tên,Ngày sinh,Loại,Số tiền,Số phiếu chi\n"
    "Nguyễn Văn An,03/06/2010,hardship,1000000,PC01\n"    /* already in the list */
    "Lê Thị Hoa,01/02/2011,merit,2000000,PC02\n"
    "LE THI HOA,01/02/2011,merit,2000000,PC03\n"          /* same as row 3, spelled loudly */
    "Đỗ Văn Nam,05/05/2012,merit,500000,PC02\n"           /* same voucher as row 3 */
    "Lê Thị Hoa,09/09/2013,merit,500000,PC05\n";          /* same name, another child */
  KhImportOptions o = { .entity = "award_entry", .list_id = f->list };
  g_autoptr(GError) error = NULL;
  g_autofree char *existing = test_make (f->t.store, "award_entry", "list_id", f->list, "org_unit_id", f->commune,
                                         "recipient_name", "Nguyễn Văn An", "birth_date", "2010-06-03",
                                         "category", "hardship", "amount", "#1000000", "status", "approved", NULL);
  KhImportReport *r;

  /* First the caller is asked, and nothing is written. */
  r = kh_import_data (f->t.store, csv, sizeof csv - 1, &o, &error);
  g_assert_no_error (error);
  g_assert_true (r->needs_decision);
  g_assert_false (r->committed);
  g_assert_cmpuint (r->n_errors, ==, 0);
  g_assert_cmpuint (r->n_duplicates, ==, 3);
  g_assert_cmpuint (((KhImportProblem *) r->duplicates->pdata[0])->row, ==, 2);
  g_assert_nonnull (strstr (((KhImportProblem *) r->duplicates->pdata[1])->reason, "3"));
  g_assert_cmpuint (((KhImportProblem *) r->duplicates->pdata[2])->row, ==, 5);
  g_assert_cmpint (test_count (f->t.store, "award_entry"), ==, 1);
  kh_import_report_free (r);

  /* Skipping leaves the three out. */
  o.duplicates = KH_IMPORT_DUPLICATES_SKIP;
  o.dry_run = TRUE;
  r = kh_import_data (f->t.store, csv, sizeof csv - 1, &o, &error);
  g_assert_no_error (error);
  g_assert_false (r->committed);
  g_assert_cmpuint (r->rows_valid, ==, 2);
  g_assert_cmpuint (r->rows_skipped, ==, 3);
  g_assert_cmpint (test_count (f->t.store, "award_entry"), ==, 1);
  kh_import_report_free (r);

  o.dry_run = FALSE;
  r = kh_import_data (f->t.store, csv, sizeof csv - 1, &o, &error);
  g_assert_true (r->committed);
  g_assert_cmpuint (r->rows_written, ==, 2);
  g_assert_cmpint (test_count (f->t.store, "award_entry"), ==, 3);
  kh_import_report_free (r);

  /* Importing anyway writes every row. */
  o.duplicates = KH_IMPORT_DUPLICATES_IMPORT;
  r = kh_import_data (f->t.store, csv, sizeof csv - 1, &o, &error);
  g_assert_true (r->committed);
  g_assert_cmpuint (r->rows_written, ==, 5);
  g_assert_cmpint (test_count (f->t.store, "award_entry"), ==, 8);
  kh_import_report_free (r);
}

static void
test_import_xlsx_people (Fixture       *f,
                         gconstpointer  data)
{
  g_autofree char *path = g_build_filename (f->t.dir, "people.xlsx", NULL);
  lxw_workbook *wb = workbook_new (path);
  lxw_worksheet *ws = workbook_add_worksheet (wb, NULL);
  lxw_format *date = workbook_add_format (wb);
  lxw_datetime d1 = { 1985, 4, 30, 0, 0, 0 };
  KhImportOptions o = { .entity = "person" };
  g_autoptr(GError) error = NULL;
  g_autoptr(KhImportReport) r = NULL;
  KhQuery q = { .order_by = "full_name" };
  json_object *people;

  format_set_num_format (date, "dd/mm/yyyy");
  worksheet_write_string (ws, 0, 0, "Full name", NULL);
  worksheet_write_string (ws, 0, 1, "Date of birth", NULL);
  worksheet_write_string (ws, 0, 2, "Mã đơn vị", NULL);
  worksheet_write_string (ws, 0, 3, "Số điện thoại", NULL);
  worksheet_write_string (ws, 1, 0, "Bùi Thị Thu", NULL);
  worksheet_write_datetime (ws, 1, 1, &d1, date);
  worksheet_write_string (ws, 1, 2, "N001", NULL);
  worksheet_write_string (ws, 1, 3, "0905123456", NULL);
  worksheet_write_string (ws, 2, 0, "Hồ Văn Tâm", NULL);
  worksheet_write_string (ws, 2, 1, "12/12/1990", NULL);
  worksheet_write_number (ws, 2, 2, 56, NULL);      /* the province's code, typed as a number */
  g_assert_cmpint (workbook_close (wb), ==, LXW_NO_ERROR);

  r = kh_import_file (f->t.store, path, &o, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < r->errors->len; i++)
    g_test_message ("%u %s", ((KhImportProblem *) r->errors->pdata[i])->row, ((KhImportProblem *) r->errors->pdata[i])->reason);
  g_assert_cmpuint (r->n_errors, ==, 0);
  g_assert_true (r->committed);
  people = kh_store_list (f->t.store, "person", &q, &error);
  g_assert_cmpuint (json_object_array_length (people), ==, 2);
  g_assert_cmpstr (field_of (people, 0, "birth_date"), ==, "1985-04-30");
  g_assert_cmpstr (field_of (people, 0, "org_unit_id"), ==, f->commune);
  g_assert_cmpstr (field_of (people, 0, "phone"), ==, "0905123456");
  g_assert_cmpstr (field_of (people, 1, "birth_date"), ==, "1990-12-12");
  g_assert_cmpstr (field_of (people, 1, "org_unit_id"), ==, f->province);
  json_object_put (people);
}

static void
test_import_mapping (Fixture       *f,
                     gconstpointer  data)
{
  const char csv[] = "Cột 1,Cột 2,Cột 3,Ghi chú\nVũ Thị Lan,hardship,700000,x\n";
  const char * const map[] = { "Cột 1=recipient_name", "B=category", "3=amount", "Ghi chú=", NULL };
  const char * const bad_field[] = { "Cột 1=no_such_field", NULL };
  const char * const twice[] = { "Cột 1=recipient_name", "Cột 2=recipient_name", NULL };
  KhImportOptions o = { .entity = "award_entry", .list_id = f->list };
  g_autoptr(GError) error = NULL;
  KhImportReport *r;

  /* Unknown headers: the file is refused with what it has and what is missing. */
  r = kh_import_data (f->t.store, csv, sizeof csv - 1, &o, &error);
  g_assert_null (r);
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
  g_clear_error (&error);

  o.map = map;
  r = kh_import_data (f->t.store, csv, sizeof csv - 1, &o, &error);
  g_assert_no_error (error);
  g_assert_true (r->committed);
  g_assert_cmpint (g_array_index (r->mapping, int, 3), ==, -1);
  kh_import_report_free (r);
  g_assert_cmpint (test_count (f->t.store, "award_entry"), ==, 1);

  o.map = bad_field;
  g_assert_null (kh_import_data (f->t.store, csv, sizeof csv - 1, &o, &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_UNKNOWN_FIELD);
  g_clear_error (&error);
  o.map = twice;
  g_assert_null (kh_import_data (f->t.store, csv, sizeof csv - 1, &o, &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
  g_assert_cmpint (test_count (f->t.store, "award_entry"), ==, 1);
}

static void
test_import_hostile (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GString) many = g_string_new ("Họ và tên,Loại,Số tiền\n");
  KhImportOptions o = { .entity = "award_entry", .list_id = f->list };
  g_autoptr(GError) error = NULL;
  const char not_utf8[] = "Họ và tên,Loại,Số tiền\nNguy\xEA\xCC" "n,hardship,1\n";
  const char broken_zip[] = "PK\003\004\024\000\000\000\010\000garbage garbage garbage";

  for (int i = 0; i < 120; i++)
    g_string_append_printf (many, "Người %d,hardship,100000\n", i);
  o.limits.max_rows = 100;
  g_assert_null (kh_import_data (f->t.store, many->str, many->len, &o, &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_IO);
  g_clear_error (&error);
  o.limits.max_rows = 0;

  g_assert_null (kh_import_data (f->t.store, not_utf8, sizeof not_utf8 - 1, &o, &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_IO);
  g_clear_error (&error);

  g_assert_null (kh_import_data (f->t.store, broken_zip, sizeof broken_zip - 1, &o, &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_IO);
  g_clear_error (&error);

  g_assert_null (kh_import_data (f->t.store, "", 0, &o, &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
  g_clear_error (&error);

  /* Nothing of the 100 rows read before the limit stayed, and the store still writes. */
  g_assert_cmpint (test_count (f->t.store, "award_entry"), ==, 0);
  g_free (test_make (f->t.store, "award_entry", "list_id", f->list, "org_unit_id", f->commune,
                     "recipient_name", "Sau cùng", "category", "merit", "amount", "#1", "status", "proposed", NULL));
}

static void
test_import_registrations (Fixture       *f,
                           gconstpointer  data)
{
  g_autofree char *household = test_make (f->t.store, "household", "head_name", "Ngô Văn Hùng",
                                          "org_unit_id", f->commune, NULL);
  g_autofree char *csv = g_strdup_printf ("Mô hình,Năm,Mã đơn vị,Mã đối tượng,Tên đối tượng\n"
                                          "Gia đình học tập,2025,N001,%s,Ngô Văn Hùng\n"
                                          "family,2025,N001,%s,Ngô Văn Hùng\n", household, household);
  KhImportOptions o = { .entity = "registration", .duplicates = KH_IMPORT_DUPLICATES_SKIP };
  g_autoptr(GError) error = NULL;
  g_autoptr(KhImportReport) r = kh_import_data (f->t.store, csv, strlen (csv), &o, &error);
  KhQuery q = { 0 };
  json_object *regs;

  g_assert_no_error (error);
  g_assert_cmpuint (r->n_errors, ==, 0);
  g_assert_true (r->committed);
  g_assert_cmpuint (r->rows_written, ==, 1);
  g_assert_cmpuint (r->rows_skipped, ==, 1);
  regs = kh_store_list (f->t.store, "registration", &q, &error);
  g_assert_cmpstr (field_of (regs, 0, "model"), ==, "family");
  g_assert_cmpstr (field_of (regs, 0, "subject_kind"), ==, "household");
  g_assert_cmpstr (field_of (regs, 0, "status"), ==, "registered");
  json_object_put (regs);
}

/* A list of a past year gives the code of the unit as it is now: the one unit of that time
 * (through the successions) is taken; where the unit now is several former ones merged, the
 * row is refused naming them. */
static void
test_import_past_year (Fixture       *f,
                       gconstpointer  data)
{
  g_autofree char *former = test_make (f->t.store, "org_unit", "code", "C09", "name", "Xã Cũ Chín", "kind", "commune",
                                       "parent_id", f->province, "valid_to", "2025-06-30", NULL);
  g_autofree char *renamed = test_make (f->t.store, "org_unit", "code", "N009", "name", "Xã Mới Chín",
                                        "kind", "commune", "parent_id", f->province, "valid_from", "2025-07-01", NULL);
  g_autofree char *link = test_make (f->t.store, "unit_succession", "predecessor_id", former, "successor_id", renamed,
                                     "kind", "rename", "effective_date", "2025-07-01", NULL);
  g_autofree char *household = test_make (f->t.store, "household", "head_name", "Ngô Văn Hùng",
                                          "org_unit_id", renamed, NULL);
  g_autofree char *csv = g_strdup_printf ("Mô hình,Năm,Mã đơn vị,Mã đối tượng,Tên đối tượng\n"
                                          "family,2023,N009,%s,Ngô Văn Hùng\n", household);
  KhImportOptions o = { .entity = "registration", .duplicates = KH_IMPORT_DUPLICATES_SKIP };
  g_autoptr(GError) error = NULL;
  g_autoptr(KhImportReport) r = kh_import_data (f->t.store, csv, strlen (csv), &o, &error);
  KhQuery q = { 0 };
  json_object *regs;

  g_assert_no_error (error);
  g_assert_cmpuint (r->n_errors, ==, 0);
  g_assert_cmpuint (r->rows_written, ==, 1);
  regs = kh_store_list (f->t.store, "registration", &q, &error);
  g_assert_cmpstr (field_of (regs, 0, "org_unit_id"), ==, former);
  json_object_put (regs);

  /* Two former communes merged: which one cannot be told, and the row is refused. */
  {
    g_autofree char *other = test_make (f->t.store, "org_unit", "code", "C10", "name", "Xã Cũ Mười", "kind", "commune",
                                        "parent_id", f->province, "valid_to", "2025-06-30", NULL);
    g_autofree char *link2 = test_make (f->t.store, "unit_succession", "predecessor_id", other, "successor_id", renamed,
                                        "kind", "merge", "effective_date", "2025-07-01", NULL);
    g_autofree char *csv2 = g_strdup_printf ("Mô hình,Năm,Mã đơn vị,Mã đối tượng,Tên đối tượng\n"
                                             "family,2024,N009,%s,Ngô Văn Hùng\n", household);
    g_autoptr(KhImportReport) r2 = kh_import_data (f->t.store, csv2, strlen (csv2), &o, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (r2->n_errors, ==, 1);
    g_assert_false (r2->committed);
  }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/lists/import/school-csv", Fixture, NULL, fixture_setup, test_import_school_csv, fixture_teardown);
  g_test_add ("/lists/import/all-or-nothing", Fixture, NULL, fixture_setup, test_import_all_or_nothing, fixture_teardown);
  g_test_add ("/lists/import/duplicates", Fixture, NULL, fixture_setup, test_import_duplicates, fixture_teardown);
  g_test_add ("/lists/import/xlsx-people", Fixture, NULL, fixture_setup, test_import_xlsx_people, fixture_teardown);
  g_test_add ("/lists/import/mapping", Fixture, NULL, fixture_setup, test_import_mapping, fixture_teardown);
  g_test_add ("/lists/import/hostile", Fixture, NULL, fixture_setup, test_import_hostile, fixture_teardown);
  g_test_add ("/lists/import/registrations", Fixture, NULL, fixture_setup, test_import_registrations, fixture_teardown);
  g_test_add ("/lists/import/past-year", Fixture, NULL, fixture_setup, test_import_past_year, fixture_teardown);
  return g_test_run ();
}
