/* test-xlsx.c: reading Excel workbooks, and refusing hostile ones without harm
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gstdio.h>
#include <string.h>
#include <xlsxwriter.h>
#include <zip.h>

#include "kh-error.h"
#include "kh-xlsx-reader.h"

typedef struct
{
  GPtrArray *rows;    /* GStrv: "TYPE:text" per cell */
  GArray    *numbers;
} Collected;

static gboolean
collect_cb (guint          row,
            const KhCell  *cells,
            guint          n_cells,
            gpointer       user_data,
            GError       **error)
{
  Collected *c = user_data;
  GStrvBuilder *b = g_strv_builder_new ();

  for (guint i = 0; i < n_cells; i++)
    {
      static const char *types[] = { "E", "T", "N", "B", "X" };
      g_autofree char *s = g_strdup_printf ("%s:%s", types[cells[i].type], cells[i].text);

      g_strv_builder_add (b, s);
    }
  g_ptr_array_add (c->rows, g_strv_builder_end (b));
  g_array_append_val (c->numbers, row);
  g_strv_builder_unref (b);
  return TRUE;
}

static void
collected_init (Collected *c)
{
  c->rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  c->numbers = g_array_new (FALSE, FALSE, sizeof (guint));
}

static void
collected_clear (Collected *c)
{
  g_ptr_array_unref (c->rows);
  g_array_unref (c->numbers);
}

#define ROWCELL(c, r, k) (((char **) (c).rows->pdata[r])[k])

static char *
tmp_path (const char *name)
{
  return g_build_filename (g_get_tmp_dir (), name, NULL);
}

static void
write_workbook (const char *path,
                gboolean    constant_memory)
{
  lxw_workbook_options opts = { .constant_memory = constant_memory };
  lxw_workbook *wb = workbook_new_opt (path, &opts);
  lxw_worksheet *ws = workbook_add_worksheet (wb, "Danh sách");
  lxw_format *date = workbook_add_format (wb);
  lxw_datetime dt = { 2010, 6, 3, 0, 0, 0 };

  format_set_num_format (date, "dd/mm/yyyy");
  worksheet_write_string (ws, 0, 0, "DANH SÁCH HỌC SINH NHẬN HỌC BỔNG", NULL);
  worksheet_write_string (ws, 2, 0, "Họ và tên", NULL);
  worksheet_write_string (ws, 2, 1, "Ngày sinh", NULL);
  worksheet_write_string (ws, 2, 2, "Số tiền", NULL);
  worksheet_write_string (ws, 3, 0, "Nguyễn Văn Đức", NULL);
  worksheet_write_datetime (ws, 3, 1, &dt, date);
  worksheet_write_number (ws, 3, 2, 1250000, NULL);
  worksheet_write_string (ws, 4, 0, "Trần Thị Hồng Nhung", NULL);
  worksheet_write_formula_num (ws, 4, 2, "=1000000+500000", NULL, 1500000);
  worksheet_write_boolean (ws, 4, 3, 1, NULL);
  g_assert_cmpint (workbook_close (wb), ==, LXW_NO_ERROR);
}

static void
check_workbook (const char *path)
{
  Collected c;
  g_autoptr(GError) error = NULL;
  gboolean date1904 = TRUE;

  collected_init (&c);
  g_assert_true (kh_xlsx_read_file (path, NULL, collect_cb, &c, &date1904, &error));
  g_assert_no_error (error);
  g_assert_false (date1904);
  g_assert_cmpuint (c.rows->len, ==, 4);
  g_assert_cmpstr (ROWCELL (c, 0, 0), ==, "T:DANH SÁCH HỌC SINH NHẬN HỌC BỔNG");
  g_assert_cmpuint (g_array_index (c.numbers, guint, 1), ==, 3);
  g_assert_cmpstr (ROWCELL (c, 1, 0), ==, "T:Họ và tên");
  g_assert_cmpstr (ROWCELL (c, 2, 0), ==, "T:Nguyễn Văn Đức");
  /* A date is a serial number; 03/06/2010 is 40332. */
  g_assert_cmpstr (ROWCELL (c, 2, 1), ==, "N:40332");
  g_assert_cmpstr (ROWCELL (c, 2, 2), ==, "N:1250000");
  /* A formula counts by its cached value, never evaluated; a gap is an empty cell. */
  g_assert_cmpstr (ROWCELL (c, 3, 1), ==, "E:");
  g_assert_cmpstr (ROWCELL (c, 3, 2), ==, "N:1500000");
  g_assert_cmpstr (ROWCELL (c, 3, 3), ==, "B:1");
  collected_clear (&c);
}

static void
test_xlsx_shared_and_inline_strings (void)
{
  g_autofree char *shared = tmp_path ("kh-test-shared.xlsx");
  g_autofree char *inline_ = tmp_path ("kh-test-inline.xlsx");

  write_workbook (shared, FALSE);
  check_workbook (shared);
  write_workbook (inline_, TRUE);
  check_workbook (inline_);
  g_unlink (shared);
  g_unlink (inline_);
}

static void
test_xlsx_serial_dates (void)
{
  g_autofree char *a = NULL, *b = NULL, *c = NULL, *d = NULL;

  g_assert_true (kh_xlsx_serial_to_date (40332, FALSE, &a));
  g_assert_cmpstr (a, ==, "2010-06-03");
  g_assert_true (kh_xlsx_serial_to_date (45658, FALSE, &b));
  g_assert_cmpstr (b, ==, "2025-01-01");
  g_assert_true (kh_xlsx_serial_to_date (1, FALSE, &c));
  g_assert_cmpstr (c, ==, "1900-01-01");
  g_assert_true (kh_xlsx_serial_to_date (38870, TRUE, &d));
  g_assert_cmpstr (d, ==, "2010-06-03");
  /* 29/02/1900 never was; nor are negative days or NaN. */
  g_assert_false (kh_xlsx_serial_to_date (60, FALSE, NULL));
  g_assert_false (kh_xlsx_serial_to_date (-3, FALSE, NULL));
  g_assert_false (kh_xlsx_serial_to_date (0.0 / 0.0, FALSE, NULL));
}

/* A workbook made by hand, part by part, to say exactly what is inside. */
static GBytes *
make_zip (const char *first_name,
          ...)
{
  g_autofree char *path = tmp_path ("kh-test-hand.xlsx");
  zip_t *zip;
  int code = 0;
  const char *name = first_name;
  va_list ap;
  char *contents = NULL;
  gsize length = 0;

  g_unlink (path);
  zip = zip_open (path, ZIP_CREATE | ZIP_TRUNCATE, &code);
  g_assert_nonnull (zip);
  va_start (ap, first_name);
  while (name != NULL)
    {
      const char *data = va_arg (ap, const char *);
      gsize len = va_arg (ap, gsize);
      zip_source_t *src = zip_source_buffer (zip, data, len, 0);

      g_assert_cmpint (zip_file_add (zip, name, src, ZIP_FL_OVERWRITE), >=, 0);
      name = va_arg (ap, const char *);
    }
  va_end (ap);
  g_assert_cmpint (zip_close (zip), ==, 0);
  g_assert_true (g_file_get_contents (path, &contents, &length, NULL));
  g_unlink (path);
  return g_bytes_new_take (contents, length);
}

#define WORKBOOK \
  "<?xml version=\"1.0\"?><workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" " \
  "xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\">" \
  "<workbookPr date1904=\"1\"/><sheets><sheet name=\"A\" sheetId=\"1\" r:id=\"rId7\"/></sheets></workbook>"
#define RELS \
  "<?xml version=\"1.0\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">" \
  "<Relationship Id=\"rId7\" Type=\"worksheet\" Target=\"worksheets/data.xml\"/></Relationships>"
#define PART(name, text) name, text, (gsize) strlen (text)

static gboolean
read_bytes (GBytes               *bytes,
            const KhSheetLimits  *limits,
            Collected            *c,
            gboolean             *date1904,
            GError              **error)
{
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);

  collected_init (c);
  return kh_xlsx_read_data (data, len, limits, collect_cb, c, date1904, error);
}

static void
test_xlsx_by_hand (void)
{
  /* The first sheet found through the workbook's relationships, the 1904 date system, inline
   * strings with rich runs and phonetic hints, cells without references, an error value. */
  g_autoptr(GBytes) bytes = make_zip (
    PART ("xl/workbook.xml", WORKBOOK),
    PART ("xl/_rels/workbook.xml.rels", RELS),
    PART ("xl/worksheets/data.xml",
          "<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>"
          "<row r=\"1\"><c t=\"inlineStr\"><is><r><t>Họ </t></r><r><t>tên</t></r><rPh><t>x</t></rPh></is></c>"
          "<c t=\"inlineStr\"><is><t>Lớp</t></is></c></row>"
          "<row r=\"5\"><c r=\"B5\" t=\"e\"><v>#DIV/0!</v></c><c r=\"D5\"><f>A1</f></c></row>"
          "</sheetData></worksheet>"),
    NULL);
  Collected c;
  g_autoptr(GError) error = NULL;
  gboolean date1904 = FALSE;

  g_assert_true (read_bytes (bytes, NULL, &c, &date1904, &error));
  g_assert_no_error (error);
  g_assert_true (date1904);
  g_assert_cmpuint (c.rows->len, ==, 2);
  g_assert_cmpstr (ROWCELL (c, 0, 0), ==, "T:Họ tên");
  g_assert_cmpstr (ROWCELL (c, 0, 1), ==, "T:Lớp");
  g_assert_cmpuint (g_array_index (c.numbers, guint, 1), ==, 5);
  g_assert_cmpstr (ROWCELL (c, 1, 0), ==, "E:");
  g_assert_cmpstr (ROWCELL (c, 1, 1), ==, "X:#DIV/0!");
  /* A formula with no computed value is an error, not an empty cell. */
  g_assert_cmpstr (ROWCELL (c, 1, 3), ==, "X:");
  collected_clear (&c);
}

static void
expect_refused (GBytes              *bytes,
                const KhSheetLimits *limits,
                const char          *fragment)
{
  Collected c;
  g_autoptr(GError) error = NULL;

  g_assert_false (read_bytes (bytes, limits, &c, NULL, &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_IO);
  if (fragment != NULL && strstr (error->message, fragment) == NULL)
    g_error ("“%s” does not mention “%s”", error->message, fragment);
  collected_clear (&c);
}

static void
test_xlsx_hostile (void)
{
  KhSheetLimits limits;
  g_autofree char *zeros = g_malloc0 (8 << 20);
  g_autoptr(GBytes) broken = make_zip (
    PART ("xl/workbook.xml", WORKBOOK), PART ("xl/_rels/workbook.xml.rels", RELS),
    PART ("xl/worksheets/data.xml", "<worksheet><sheetData><row><c t=\"s\"><v>0</v></row></sheetData>"), NULL);
  g_autoptr(GBytes) dtd = make_zip (
    PART ("xl/workbook.xml", WORKBOOK), PART ("xl/_rels/workbook.xml.rels", RELS),
    PART ("xl/worksheets/data.xml",
          "<?xml version=\"1.0\"?><!DOCTYPE w [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]>"
          "<worksheet><sheetData><row><c t=\"inlineStr\"><is><t>&b;</t></is></c></row></sheetData></worksheet>"), NULL);
  g_autoptr(GBytes) bad_index = make_zip (
    PART ("xl/workbook.xml", WORKBOOK), PART ("xl/_rels/workbook.xml.rels", RELS),
    PART ("xl/worksheets/data.xml", "<worksheet><sheetData><row><c t=\"s\"><v>99</v></c></row></sheetData></worksheet>"), NULL);
  g_autoptr(GBytes) no_workbook = make_zip (PART ("hello.txt", "hi"), NULL);
  g_autoptr(GBytes) bomb = NULL;
  g_autoptr(GBytes) not_zip = g_bytes_new_static ("PK\003\004 nothing else", 20);
  g_autoptr(GBytes) wide = make_zip (
    PART ("xl/workbook.xml", WORKBOOK), PART ("xl/_rels/workbook.xml.rels", RELS),
    PART ("xl/worksheets/data.xml", "<worksheet><sheetData><row><c r=\"XFD1\" t=\"inlineStr\"><is><t>x</t></is></c></row></sheetData></worksheet>"), NULL);

  /* Eight megabytes of one repeated tag compress to a few kilobytes: a small ZIP bomb, and a
   * cap of one megabyte stops it when the bytes really read pass the cap. */
  for (gsize i = 0; i + 7 <= (8u << 20); i += 7)
    memcpy (zeros + i, "<row/> ", 7);
  memcpy (zeros, "<worksheet><sheetData>", 22);
  bomb = make_zip (PART ("xl/workbook.xml", WORKBOOK), PART ("xl/_rels/workbook.xml.rels", RELS),
                   "xl/worksheets/data.xml", zeros, (gsize) (8u << 20), NULL);
  g_assert_cmpuint (g_bytes_get_size (bomb), <, 200000);

  expect_refused (broken, NULL, "damaged");
  expect_refused (dtd, NULL, "document type");
  expect_refused (bad_index, NULL, "damaged");
  expect_refused (no_workbook, NULL, "workbook.xml");
  expect_refused (not_zip, NULL, ".xlsx");
  expect_refused (wide, NULL, "columns");
  kh_sheet_limits_init (&limits);
  limits.max_bytes = 1 << 20;
  expect_refused (bomb, &limits, "too large");
  limits.max_bytes = 64 << 20;
  limits.max_rows = 1000;
  expect_refused (bomb, &limits, "rows");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/lists/xlsx/shared-and-inline-strings", test_xlsx_shared_and_inline_strings);
  g_test_add_func ("/lists/xlsx/serial-dates", test_xlsx_serial_dates);
  g_test_add_func ("/lists/xlsx/by-hand", test_xlsx_by_hand);
  g_test_add_func ("/lists/xlsx/hostile", test_xlsx_hostile);
  return g_test_run ();
}
