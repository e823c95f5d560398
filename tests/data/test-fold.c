/* test-fold.c: Vietnamese folding and search queries
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-fold.h"

static void
test_fold_names (void)
{
  static const struct { const char *in, *out; } cases[] = {
    { "Nguyễn Văn Đức", "nguyen van duc" },
    { "NGUYỄN VĂN ĐỨC", "nguyen van duc" },
    { "nguyen van duc", "nguyen van duc" },
    { "Trần Thị Hồng Nhung", "tran thi hong nhung" },
    { "Phạm Ngọc Ánh", "pham ngoc anh" },
    { "Bùi Thị Thương", "bui thi thuong" },
    { "Lê Ơn Ưng", "le on ung" },
    { "Pi Năng Thị Hoa", "pi nang thi hoa" },
    /* Decomposed input (as some keyboards send it) folds the same. */
    { "Nguye\xcc\x82\xcc\x83n", "nguyen" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *folded = kh_fold (cases[i].in);
      g_assert_cmpstr (folded, ==, cases[i].out);
    }
}

/* The fast fold agrees with its definition (NFD, marks dropped, đ → d, lower case) for every
 * code point of the first three planes' start, alone and between letters, and for marks
 * after a letter; invalid UTF-8 folds to nothing either way. */
static void
test_fold_same_as_nfd (void)
{
  static const char *texts[] = {
    "Nguyễn Văn Đức", "Nguye\xcc\x82\xcc\x83n", "e\xcc\x81\xcc\x82", "Ǆ ǅ ǆ", "ﬁ", "한국어 Việt",
    "Ωμέγα", "İstanbul", "", "\xff\xfe", "abc\xe1\xbb",
  };

  for (gunichar c = 1; c < 0x3000; c++)
    {
      char buf[16] = "A";
      int n;
      g_autofree char *fast = NULL;
      g_autofree char *nfd = NULL;

      if (c >= 0xD800 && c <= 0xDFFF)
        continue;
      n = g_unichar_to_utf8 (c, buf + 1);
      buf[1 + n] = 'b';
      buf[2 + n] = '\0';
      fast = kh_fold (buf);
      nfd = kh_fold_nfd (buf);
      if (g_strcmp0 (fast, nfd) != 0)
        g_error ("U+%04X: kh_fold gives “%s”, NFD gives “%s”", c, fast, nfd);
      g_clear_pointer (&fast, g_free);
      g_clear_pointer (&nfd, g_free);
      fast = kh_fold (buf + 1);
      nfd = kh_fold_nfd (buf + 1);
      g_assert_cmpstr (fast, ==, nfd);
    }
  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_autofree char *fast = kh_fold (texts[i]);
      g_autofree char *nfd = kh_fold_nfd (texts[i]);

      g_assert_cmpstr (fast, ==, nfd);
    }
}

static void
test_fold_query (void)
{
  g_autofree char *q1 = kh_fold_to_fts_query ("Nguyễn  văn \"đ");
  g_autofree char *q2 = kh_fold_to_fts_query ("  ** ");
  g_autofree char *q3 = kh_fold_to_fts_query ("a OR b NEAR(c)");

  g_assert_cmpstr (q1, ==, "\"nguyen\"* \"van\"* \"d\"*");
  g_assert_null (q2);
  /* FTS5 operators typed by a person are only words. */
  g_assert_cmpstr (q3, ==, "\"a\"* \"or\"* \"b\"* \"near\"* \"c\"*");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/data/fold/names", test_fold_names);
  g_test_add_func ("/data/fold/query", test_fold_query);
  g_test_add_func ("/data/fold/same-as-nfd", test_fold_same_as_nfd);
  return g_test_run ();
}
