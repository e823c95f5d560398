/* test-uuid.c: record ids are UUIDv7, in the order they were made
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include "kh-uuid.h"

/* The canonical form: 36 characters, lower-case hex in groups of 8-4-4-4-12, version 7 and the
 * RFC 9562 variant; kh_uuid_is_valid() accepts it. */
static void
test_uuid_format (void)
{
  for (guint n = 0; n < 1000; n++)
    {
      g_autofree char *id = kh_uuid_v7_new ();

      g_assert_cmpuint (strlen (id), ==, 36);
      for (guint i = 0; i < 36; i++)
        if (i == 8 || i == 13 || i == 18 || i == 23)
          g_assert_cmpint (id[i], ==, '-');
        else
          g_assert_true (g_ascii_isdigit (id[i]) || (id[i] >= 'a' && id[i] <= 'f'));
      g_assert_cmpint (id[14], ==, '7');
      g_assert_nonnull (strchr ("89ab", id[19]));
      g_assert_true (kh_uuid_is_valid (id));
    }
}

/* Ids made one after the other sort in that order, as text, even thousands in one millisecond:
 * the store's tables and the change feed rely on it. They never repeat. */
static void
test_uuid_order (void)
{
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *last = NULL;

  for (guint n = 0; n < 20000; n++)
    {
      char *id = kh_uuid_v7_new ();

      if (last != NULL)
        g_assert_cmpint (strcmp (last, id), <, 0);
      g_assert_false (g_hash_table_contains (seen, id));
      g_hash_table_add (seen, id);
      g_free (last);
      last = g_strdup (id);
    }
}

/* The first 48 bits are the time in milliseconds since 1970, so an id says when it was made. */
static void
test_uuid_time (void)
{
  gint64 before = g_get_real_time () / 1000;
  g_autofree char *id = kh_uuid_v7_new ();
  g_autofree char *hex = g_strdup_printf ("%.8s%.4s", id, id + 9);
  gint64 ms = g_ascii_strtoll (hex, NULL, 16);

  /* A burst may have borrowed a few milliseconds ahead; never more than a second here. */
  g_assert_cmpint (ms, >=, before);
  g_assert_cmpint (ms, <=, before + 1000);
}

/* Anything not in the canonical form is refused: upper case, braces, missing or misplaced
 * hyphens, other characters, a prefix of a valid id or one with more after it. */
static void
test_uuid_bad_input (void)
{
  const char *bad[] = {
    "",
    "0190a5f2-7c1e-7a3b-8f00-12345678901",
    "0190a5f2-7c1e-7a3b-8f00-1234567890123",
    "0190A5F2-7C1E-7A3B-8F00-123456789012",
    "{0190a5f2-7c1e-7a3b-8f00-12345678901}",
    "0190a5f27c1e7a3b8f00123456789012abcd",
    "0190a5f2-7c1e-7a3b-8f0012-3456789012",
    "0190a5f2-7c1e-7a3b-8f00-12345678901g",
    "0190a5f2 7c1e 7a3b 8f00 123456789012",
    "0190a5f2-7c1e-7a3b-8f00-12345678901\xc3\xa9",
    "' OR 1=1 --'                        ",
  };

  g_assert_false (kh_uuid_is_valid (NULL));
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_test_message ("%s", bad[i]);
      g_assert_false (kh_uuid_is_valid (bad[i]));
    }
  /* Any version is accepted, not only the ids this build makes: the server's may differ. */
  g_assert_true (kh_uuid_is_valid ("0190a5f2-7c1e-4a3b-8f00-123456789012"));
  g_assert_true (kh_uuid_is_valid ("00000000-0000-0000-0000-000000000000"));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/data/uuid/format", test_uuid_format);
  g_test_add_func ("/data/uuid/order", test_uuid_order);
  g_test_add_func ("/data/uuid/time", test_uuid_time);
  g_test_add_func ("/data/uuid/bad-input", test_uuid_bad_input);
  return g_test_run ();
}
