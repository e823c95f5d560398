/* test-csv.c: reading CSV files as Excel and LibreOffice save them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-csv.h"
#include "kh-error.h"

typedef struct
{
  GPtrArray *rows;   /* of GStrv, cells joined as they came */
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
    g_strv_builder_add (b, cells[i].text);
  g_ptr_array_add (c->rows, g_strv_builder_end (b));
  g_array_append_val (c->numbers, row);
  g_strv_builder_unref (b);
  return TRUE;
}

static gboolean
read_csv (const char  *data,
          gssize       length,
          Collected   *c,
          GError     **error)
{
  c->rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  c->numbers = g_array_new (FALSE, FALSE, sizeof (guint));
  return kh_csv_read_data (data, length < 0 ? strlen (data) : (gsize) length, NULL, collect_cb, c, error);
}

static void
collected_clear (Collected *c)
{
  g_ptr_array_unref (c->rows);
  g_array_unref (c->numbers);
}

#define CELL(c, r, k) (((char **) (c).rows->pdata[r])[k])

static void
test_csv_excel_forms (void)
{
  /* Excel's "CSV UTF-8": a byte order mark, commas, CRLF; a quoted field with a comma, a
   * doubled quote and a line break; an empty line that is not a row. */
  const char *data = "\xEF\xBB\xBFHọ và tên,Ngày sinh,Số tiền\r\n"
                     "\"Nguyễn Văn Đức\",03/06/2010,\"1,250,000\"\r\n"
                     "\r\n"
                     "\"Trần \"\"Bé\"\" Thị\nHồng\",,500000\r\n";
  Collected c;
  g_autoptr(GError) error = NULL;

  g_assert_true (read_csv (data, -1, &c, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (c.rows->len, ==, 3);
  g_assert_cmpstr (CELL (c, 0, 0), ==, "Họ và tên");
  g_assert_cmpstr (CELL (c, 1, 0), ==, "Nguyễn Văn Đức");
  g_assert_cmpstr (CELL (c, 1, 2), ==, "1,250,000");
  g_assert_cmpstr (CELL (c, 2, 0), ==, "Trần \"Bé\" Thị\nHồng");
  g_assert_cmpstr (CELL (c, 2, 1), ==, "");
  /* Row numbers are the spreadsheet's: the empty line is row 3. */
  g_assert_cmpuint (g_array_index (c.numbers, guint, 2), ==, 4);
  collected_clear (&c);
}

static void
test_csv_semicolon_and_tab (void)
{
  Collected c;
  g_autoptr(GError) error = NULL;

  /* Vietnamese Windows uses a comma as the decimal mark, so Excel separates with semicolons. */
  g_assert_true (read_csv ("Họ tên;Số tiền\nLê Văn A;1.000.000,5\n", -1, &c, &error));
  g_assert_cmpstr (CELL (c, 1, 1), ==, "1.000.000,5");
  collected_clear (&c);

  /* Excel's "Unicode text" is UTF-16 with tabs. */
  {
    g_autofree char *utf16 = NULL;
    gsize len = 0;
    g_autofree char *with_bom = NULL;

    utf16 = g_convert ("Họ tên\tLớp\nPhạm Thị Hoa\t9A\n", -1, "UTF-16LE", "UTF-8", NULL, &len, NULL);
    g_assert_nonnull (utf16);
    with_bom = g_malloc (len + 2);
    with_bom[0] = (char) 0xFF;
    with_bom[1] = (char) 0xFE;
    memcpy (with_bom + 2, utf16, len);
    g_assert_true (read_csv (with_bom, (gssize) len + 2, &c, &error));
    g_assert_no_error (error);
    g_assert_cmpstr (CELL (c, 1, 0), ==, "Phạm Thị Hoa");
    g_assert_cmpstr (CELL (c, 1, 1), ==, "9A");
    collected_clear (&c);
  }
}

static void
test_csv_refuses (void)
{
  Collected c;
  g_autoptr(GError) error = NULL;

  /* TCVN3 / Windows-1258 bytes are not UTF-8: the line is named, nothing is guessed. */
  g_assert_false (read_csv ("Ho ten\nNguy\xEA\xCCn\n", -1, &c, &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "2"));
  g_assert_cmpuint (c.rows->len, ==, 0);
  collected_clear (&c);
  g_clear_error (&error);

  g_assert_false (read_csv ("a,b\n\"never closed,c\n", -1, &c, &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_IO);
  collected_clear (&c);
  g_clear_error (&error);

  g_assert_false (read_csv ("PK\003\004rest", 8, &c, &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_IO);
  collected_clear (&c);
  g_clear_error (&error);

  g_assert_false (read_csv ("a\0b", 3, &c, &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_IO);
  collected_clear (&c);
}

static void
test_csv_limits (void)
{
  KhSheetLimits limits;
  Collected c = { g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev),
                  g_array_new (FALSE, FALSE, sizeof (guint)) };
  g_autoptr(GString) many = g_string_new ("name\n");
  g_autoptr(GError) error = NULL;

  for (int i = 0; i < 200; i++)
    g_string_append (many, "x\n");
  kh_sheet_limits_init (&limits);
  limits.max_rows = 100;
  g_assert_false (kh_csv_read_data (many->str, many->len, &limits, collect_cb, &c, &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_IO);
  g_clear_error (&error);

  kh_sheet_limits_init (&limits);
  limits.max_columns = 3;
  g_assert_false (kh_csv_read_data ("a,b,c,d\n", 8, &limits, collect_cb, &c, &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_IO);
  g_clear_error (&error);

  kh_sheet_limits_init (&limits);
  limits.max_cell = 4;
  g_assert_false (kh_csv_read_data ("abcdef\n", 7, &limits, collect_cb, &c, &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_IO);
  collected_clear (&c);
}

static void
test_csv_write_cells (void)
{
  g_autoptr(GString) line = g_string_new (NULL);
  Collected c;
  g_autoptr(GError) error = NULL;

  kh_csv_append_cell (line, "Nguyễn, Văn", ',', TRUE);
  kh_csv_append_cell (line, "=HYPERLINK(\"http://x\")", ',', FALSE);
  kh_csv_append_cell (line, NULL, ',', FALSE);
  kh_csv_append_cell (line, "a\"b", ',', FALSE);
  g_string_append (line, "\n");
  /* A cell Excel would run as a formula is written as text. */
  g_assert_cmpstr (line->str, ==, "\"Nguyễn, Văn\",\"'=HYPERLINK(\"\"http://x\"\")\",,\"a\"\"b\"\n");
  g_assert_true (read_csv (line->str, -1, &c, &error));
  g_assert_cmpstr (CELL (c, 0, 0), ==, "Nguyễn, Văn");
  g_assert_cmpstr (CELL (c, 0, 3), ==, "a\"b");
  collected_clear (&c);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/lists/csv/excel-forms", test_csv_excel_forms);
  g_test_add_func ("/lists/csv/semicolon-and-tab", test_csv_semicolon_and_tab);
  g_test_add_func ("/lists/csv/refuses", test_csv_refuses);
  g_test_add_func ("/lists/csv/limits", test_csv_limits);
  g_test_add_func ("/lists/csv/write-cells", test_csv_write_cells);
  return g_test_run ();
}
