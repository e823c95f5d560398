/* test-format.c: money in words, locale forms and Vietnamese name order
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <stdlib.h>
#include <string.h>

#include "kh-format.h"

static void
test_format_money_words (void)
{
  static const struct { gint64 n; const char *words; } cases[] = {
    { 1250000, "Một triệu hai trăm năm mươi nghìn đồng" },
    { 21000, "Hai mươi mốt nghìn đồng" },
    { 105000, "Một trăm lẻ năm nghìn đồng" },
    { 1015000, "Một triệu không trăm mười lăm nghìn đồng" },
    { 0, "Không đồng" },
    { 15, "Mười lăm đồng" },
    { 24, "Hai mươi tư đồng" },
    { 11, "Mười một đồng" },
    { 2001000, "Hai triệu không trăm lẻ một nghìn đồng" },
    { 1000000, "Một triệu đồng" },
    { 3500000000, "Ba tỷ năm trăm triệu đồng" },
    { 1000005, "Một triệu không trăm lẻ năm đồng" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *w = kh_format_money_words (cases[i].n);

      g_assert_cmpstr (w, ==, cases[i].words);
    }
}

static void
test_format_styles (void)
{
  g_autofree char *vi = kh_format_money_style (1250000, KH_FORMAT_VIETNAMESE);
  g_autofree char *en = kh_format_money_style (1250000, KH_FORMAT_ENGLISH);
  g_autofree char *doc = kh_format_money (1250000);
  g_autofree char *neg = kh_format_money_style (-1500, KH_FORMAT_VIETNAMESE);
  g_autofree char *pvi = kh_format_percent_style (99.14, KH_FORMAT_VIETNAMESE);
  g_autofree char *pen = kh_format_percent_style (99.14, KH_FORMAT_ENGLISH);
  g_autofree char *d = kh_format_date_style ("2022-06-03", KH_FORMAT_ENGLISH);
  g_autofree char *dl = kh_format_date_long ("2022-06-03");

  g_assert_cmpstr (vi, ==, "1.250.000\u00a0₫");
  g_assert_cmpstr (en, ==, "1,250,000\u00a0₫");
  g_assert_cmpstr (doc, ==, "1.250.000\u00a0₫");
  g_assert_cmpstr (neg, ==, "-1.500\u00a0₫");
  g_assert_cmpstr (pvi, ==, "99,1\u00a0%");
  g_assert_cmpstr (pen, ==, "99.1%");
  g_assert_cmpstr (d, ==, "03/06/2022");
  g_assert_cmpstr (dl, ==, "ngày 03 tháng 6 năm 2022");
}

/* Sizes in the reader's words and decimal mark, not GLib's English "832 bytes" everywhere. */
static void
test_format_size (void)
{
  static const struct { gint64 n; const char *vi; const char *en; } cases[] = {
    { 0, "0 byte", "0 bytes" },
    { 1, "1 byte", "1 byte" },
    { 832, "832 byte", "832 bytes" },
    { 999, "999 byte", "999 bytes" },
    { 1000, "1,0 kB", "1.0 kB" },
    { 4321, "4,3 kB", "4.3 kB" },
    { 999960, "1,0 MB", "1.0 MB" },
    { 1234567, "1,2 MB", "1.2 MB" },
    { G_GINT64_CONSTANT (20) * 1024 * 1024, "21,0 MB", "21.0 MB" },
    { G_GINT64_CONSTANT (3500000000), "3,5 GB", "3.5 GB" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *vi = kh_format_size_style (cases[i].n, KH_FORMAT_VIETNAMESE);
      g_autofree char *en = kh_format_size_style (cases[i].n, KH_FORMAT_ENGLISH);

      g_assert_cmpstr (vi, ==, cases[i].vi);
      g_assert_cmpstr (en, ==, cases[i].en);
    }
}

static void
test_format_style_follows_locale (void)
{
  if (g_test_subprocess ())
    {
      g_autofree char *s = NULL;

      g_setenv ("LANGUAGE", "vi", TRUE);
      g_setenv ("LC_ALL", "C.UTF-8", TRUE);
      g_assert_cmpint (kh_format_style_for_locale (), ==, KH_FORMAT_VIETNAMESE);
      s = kh_format_money_style (1250000, KH_FORMAT_AUTO);
      g_assert_cmpstr (s, ==, "1.250.000\u00a0₫");
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();

  if (g_test_subprocess ())
    return;
  g_setenv ("LANGUAGE", "en", TRUE);
  g_assert_cmpint (kh_format_style_for_locale (), ==, KH_FORMAT_ENGLISH);
}

static int
by_given_name (gconstpointer a,
               gconstpointer b)
{
  return kh_name_compare (*(const char **) a, *(const char **) b, KH_NAME_ORDER_GIVEN_FIRST);
}

static int
as_written (gconstpointer a,
            gconstpointer b)
{
  return kh_name_compare (*(const char **) a, *(const char **) b, KH_NAME_ORDER_AS_WRITTEN);
}

static void
test_format_name_order (void)
{
  const char *names[] = {
    "Trần Văn Bình", "Nguyễn Thị Ánh", "Lê Văn Anh", "Đỗ Thị Dung", "Nguyễn Văn Dũng",
    "Phạm Thị Ân", "Bùi Văn Ăn", "Võ Thị Hoa", "Nguyễn Thị Hoà", "Đặng Ngọc Ơn", "Lê Thị Ô",
  };
  const char *given[] = {
    "Lê Văn Anh", "Nguyễn Thị Ánh", "Bùi Văn Ăn", "Phạm Thị Ân", "Trần Văn Bình", "Đỗ Thị Dung",
    "Nguyễn Văn Dũng", "Võ Thị Hoa", "Nguyễn Thị Hoà", "Lê Thị Ô", "Đặng Ngọc Ơn",
  };
  const char *written[] = {
    "Bùi Văn Ăn", "Đặng Ngọc Ơn", "Đỗ Thị Dung", "Lê Thị Ô", "Lê Văn Anh", "Nguyễn Thị Ánh",
    "Nguyễn Thị Hoà", "Nguyễn Văn Dũng", "Phạm Thị Ân", "Trần Văn Bình", "Võ Thị Hoa",
  };
  const char *sorted[G_N_ELEMENTS (names)];

  /* Given names first: Anh < Ánh (tone) < Ăn < Ân (letters ă, â after a); D before Đ; Dung
   * and Dũng share their letters, so the tone decides. */
  memcpy (sorted, names, sizeof names);
  qsort (sorted, G_N_ELEMENTS (sorted), sizeof sorted[0], by_given_name);
  for (guint i = 0; i < G_N_ELEMENTS (sorted); i++)
    g_assert_cmpstr (sorted[i], ==, given[i]);

  /* As written, Đ comes after D (Đặng, Đỗ after every D…, here after Bùi). */
  memcpy (sorted, names, sizeof names);
  qsort (sorted, G_N_ELEMENTS (sorted), sizeof sorted[0], as_written);
  for (guint i = 0; i < G_N_ELEMENTS (sorted); i++)
    g_assert_cmpstr (sorted[i], ==, written[i]);

  /* The same name in either Unicode form, or in capitals, gets the same key. */
  {
    g_autofree char *a = kh_name_sort_key ("Nguyễn Văn Đức", KH_NAME_ORDER_GIVEN_FIRST);
    g_autofree char *b = kh_name_sort_key ("NGUYỄN VĂN ĐỨC", KH_NAME_ORDER_GIVEN_FIRST);
    g_autofree char *c = kh_name_sort_key ("Nguye\xcc\x82\xcc\x83n Va\xcc\x86n \xc4\x90u\xcc\x9b\xcc\x81" "c",
                                           KH_NAME_ORDER_GIVEN_FIRST);

    g_assert_cmpstr (a, ==, b);
    g_assert_cmpstr (a, ==, c);
  }
}

/* A value reads the same in the window and on the command line: one function, enum labels,
 * money, dates and a capitalized "Yes" or "No" (untranslated here: no locale is set). */
static void
test_format_value (void)
{
  const KhEntity *household = kh_entity_lookup ("household");
  const KhEntity *entry = kh_entity_lookup ("award_entry");
  const KhField *poor = kh_entity_get_field (household, "poor");
  json_object *yes = json_object_new_boolean (TRUE);
  json_object *no = json_object_new_boolean (FALSE);
  json_object *amount = json_object_new_int64 (1250000);
  json_object *date = json_object_new_string ("2024-03-05");
  json_object *status = json_object_new_string ("paid");
  g_autofree char *yes_text = kh_value_format (poor, yes);
  g_autofree char *no_text = kh_value_format (poor, no);
  g_autofree char *none_text = kh_value_format (poor, NULL);
  g_autofree char *amount_text = kh_value_format (kh_entity_get_field (entry, "amount"), amount);
  g_autofree char *date_text = kh_value_format (kh_entity_get_field (entry, "received_on"), date);
  g_autofree char *status_text = kh_value_format (kh_entity_get_field (entry, "status"), status);
  g_autofree char *money = kh_format_money (1250000);

  g_assert_cmpstr (yes_text, ==, "Yes");
  g_assert_cmpstr (no_text, ==, "No");
  g_assert_cmpstr (none_text, ==, "");
  g_assert_cmpstr (amount_text, ==, money);
  g_assert_cmpstr (date_text, ==, "05/03/2024");
  g_assert_cmpstr (status_text, ==, "Paid");
  json_object_put (yes);
  json_object_put (no);
  json_object_put (amount);
  json_object_put (date);
  json_object_put (status);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/lists/format/money-words", test_format_money_words);
  g_test_add_func ("/lists/format/styles", test_format_styles);
  g_test_add_func ("/lists/format/size", test_format_size);
  g_test_add_func ("/lists/format/style-follows-locale", test_format_style_follows_locale);
  g_test_add_func ("/lists/format/name-order", test_format_name_order);
  g_test_add_func ("/lists/format/value", test_format_value);
  return g_test_run ();
}
