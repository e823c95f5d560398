/* test-print.c: the award list printed for signatures
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <pango/pangocairo.h>
#include <string.h>

#include "kh-error.h"
#include "kh-format.h"
#include "kh-print.h"
#include "lists-util.h"

static char *
make_list (TestStore *t,
           guint      n_entries)
{
  g_autofree char *unit = test_make (t->store, "org_unit", "code", "N001", "name", "Xã Diên Khánh",
                                     "kind", "commune", NULL);
  char *list = test_make (t->store, "award_list", "title", "Học bổng Tết 2025", "occasion", "tet",
                          "school_year", "2024-2025", "org_unit_id", unit, "status", "approved",
                          "decision_number", "12/QĐ-KH", "decision_date", "2025-01-20",
                          "prepared_by", "Trần Thị Lan", "accountant", "Lê Văn Tài",
                          "approved_by", "Nguyễn Văn Hùng", NULL);
  static const char *given[] = { "Yến", "Anh", "Minh", "Bình", "Đức" };

  for (guint i = 0; i < n_entries; i++)
    {
      g_autofree char *name = g_strdup_printf ("Nguyễn Văn %s %u", given[i % 5], i);

      g_free (test_make (t->store, "award_entry", "list_id", list, "org_unit_id", unit,
                         "recipient_name", name, "birth_date", "2010-06-03", "school", "THCS Diên Khánh",
                         "grade", "9A", "category", i % 2 ? "merit" : "hardship",
                         "amount", i % 2 ? "#250000" : "#1000000", "status", "approved", NULL));
    }
  g_free (test_make (t->store, "award_entry", "list_id", list, "org_unit_id", unit,
                     "recipient_name", "Đã Hủy", "category", "merit", "amount", "#9000000",
                     "status", "cancelled", NULL));
  return list;
}

static guint
count_pdf_pages (const char *path)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  guint pages = 0;

  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  g_assert_true (g_str_has_prefix (data, "%PDF-"));
  /* The content streams are compressed and hold NUL bytes: compare bytes, not strings. */
  for (gsize i = 0; i + 12 < len; i++)
    if (memcmp (data + i, "/Type /Page", 11) == 0 && data[i + 11] != 's')
      pages++;
  return pages;
}

static void
test_print_short_list (void)
{
  TestStore t;
  g_autofree char *list = NULL;
  g_autofree char *pdf = NULL;
  g_autoptr(KhAwardListDoc) doc = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *words = NULL;

  test_store_init (&t);
  list = make_list (&t, 3);
  doc = kh_award_list_doc_new (t.store, list, &error);
  g_assert_no_error (error);
  /* The cancelled entry is not printed and not in the total. */
  g_assert_cmpuint (kh_award_list_doc_get_n_entries (doc), ==, 3);
  g_assert_cmpint (kh_award_list_doc_get_total (doc), ==, 2250000);
  words = kh_format_money_words (kh_award_list_doc_get_total (doc));
  g_assert_cmpstr (words, ==, "Hai triệu hai trăm năm mươi nghìn đồng");

  g_assert_cmpint (kh_award_list_doc_paginate (doc, KH_PAGE_A4_WIDTH, KH_PAGE_A4_HEIGHT), ==, 1);
  pdf = g_build_filename (t.dir, "list.pdf", NULL);
  g_assert_true (kh_award_list_doc_write_pdf (doc, pdf, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_pdf_pages (pdf), ==, 1);
  g_clear_pointer (&doc, kh_award_list_doc_free);
  test_store_clear (&t);
}

static void
test_print_long_list (void)
{
  TestStore t;
  g_autofree char *list = NULL;
  g_autofree char *pdf = NULL;
  g_autoptr(KhAwardListDoc) doc = NULL;
  g_autoptr(GError) error = NULL;
  cairo_surface_t *surface;
  cairo_t *cr;
  int pages, landscape;

  test_store_init (&t);
  list = make_list (&t, 60);
  doc = kh_award_list_doc_new (t.store, list, &error);
  g_assert_no_error (error);

  /* Sixty rows take more than two A4 pages; a landscape page holds fewer rows, so more pages. */
  pages = kh_award_list_doc_paginate (doc, KH_PAGE_A4_WIDTH, KH_PAGE_A4_HEIGHT);
  g_assert_cmpint (pages, >=, 3);
  landscape = kh_award_list_doc_paginate (doc, KH_PAGE_A4_HEIGHT, KH_PAGE_A4_WIDTH);
  g_assert_cmpint (landscape, >, pages);

  /* The drawing function works on any cairo context, as GtkPrintOperation gives one: every
   * page puts ink on the page. */
  surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, (int) KH_PAGE_A4_HEIGHT, (int) KH_PAGE_A4_WIDTH);
  cr = cairo_create (surface);
  for (int p = 0; p < landscape; p++)
    {
      const guint32 *pixels;
      int stride, dark = 0;

      cairo_set_source_rgb (cr, 1, 1, 1);
      cairo_paint (cr);
      kh_award_list_doc_draw_page (doc, cr, p);
      cairo_surface_flush (surface);
      pixels = (const guint32 *) cairo_image_surface_get_data (surface);
      stride = cairo_image_surface_get_stride (surface) / 4;
      for (int y = 0; y < (int) KH_PAGE_A4_WIDTH; y++)
        for (int x = 0; x < (int) KH_PAGE_A4_HEIGHT; x++)
          if ((pixels[y * stride + x] & 0xFF) < 0x80)
            dark++;
      g_assert_cmpint (dark, >, 500);
    }
  cairo_destroy (cr);
  cairo_surface_destroy (surface);

  pdf = g_build_filename (t.dir, "list.pdf", NULL);
  g_assert_true (kh_award_list_doc_write_pdf (doc, pdf, &error));
  g_assert_cmpuint (count_pdf_pages (pdf), ==, (guint) pages);
  g_clear_pointer (&doc, kh_award_list_doc_free);

  g_assert_null (kh_award_list_doc_new (t.store, "01890000-0000-7000-8000-000000000000", &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_NOT_FOUND);
  test_store_clear (&t);
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/lists/print/short-list", test_print_short_list);
  g_test_add_func ("/lists/print/long-list", test_print_long_list);
  ret = g_test_run ();

  /* Fontconfig keeps its caches for the life of the process; let them go, so that
   * LeakSanitizer reports only leaks of ours. */
  pango_cairo_font_map_set_default (NULL);
  cairo_debug_reset_static_data ();
  FcFini ();
  return ret;
}
