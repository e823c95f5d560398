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
  return g_test_run ();
}
