/* test-wire-read.c: the client's fast reader of the wire (kh-wire-read.c and the replica's page
 * reader) against the codec, the reference (kh-codec.c, json-c in strict mode)
 *
 * The same text goes through both; they must give the same values and refuse the same input:
 * every kind of escape, the edges of numbers, and the malformed input the fuzz target
 * (tests/fuzz/fuzz-page.c) knows. Two differences are known and pinned down here: numbers beyond
 * 64 bits (read differently, refused alike where the replica uses them), and what json-c takes
 * although JSON does not (the fast reader refuses it).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include "kh-codec.h"
#include "kh-replica.h"
#include "kh-validate.h"
#include "kh-wire-read.h"

/* The fast reader on the @len bytes at @text: the value of a whole JSON text, UTF-8 checked
 * first as the page reader does; NULL and FALSE when it refuses. */
static gboolean
fast_read (const char   *text,
           gsize         len,
           json_object **out)
{
  g_autoptr(GString) scratch = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  KhWireReader rd = { text, text, text + len, 0, scratch };

  *out = NULL;
  if (!kh_utf8_validate (text, len))
    return FALSE;
  if (!kh_wire_read_value (&rd, out, &error))
    {
      g_assert_nonnull (error);
      return FALSE;
    }
  kh_wire_read_space (&rd);
  if (rd.p != rd.end)
    {
      json_object_put (*out);
      *out = NULL;
      return FALSE;
    }
  return TRUE;
}

static gboolean
codec_read (const char   *text,
            gsize         len,
            json_object **out)
{
  g_autoptr(GError) error = NULL;

  *out = kh_codec_parse (text, len, KH_CODEC_MAX_DEPTH, &error);
  g_assert_true ((*out == NULL) == (error != NULL));
  return *out != NULL;
}

/* Values compared as the replica reads them: strings byte by byte (a NUL from "\u0000" too),
 * whole numbers as 64-bit integers, the rest as json-c compares them. */
static gboolean
same_value (json_object *a,
            json_object *b)
{
  if (a == NULL || b == NULL)
    return a == b;
  if (json_object_get_type (a) != json_object_get_type (b))
    return FALSE;
  switch (json_object_get_type (a))
    {
    case json_type_string:
      return json_object_get_string_len (a) == json_object_get_string_len (b)
             && memcmp (json_object_get_string (a), json_object_get_string (b),
                        json_object_get_string_len (a)) == 0;
    case json_type_int:
      return json_object_get_int64 (a) == json_object_get_int64 (b);
    case json_type_double:
      return json_object_get_double (a) == json_object_get_double (b);
    case json_type_array:
      if (json_object_array_length (a) != json_object_array_length (b))
        return FALSE;
      for (size_t i = 0; i < json_object_array_length (a); i++)
        if (!same_value (json_object_array_get_idx (a, i), json_object_array_get_idx (b, i)))
          return FALSE;
      return TRUE;
    case json_type_object:
      if (json_object_object_length (a) != json_object_object_length (b))
        return FALSE;
      {
        json_object_object_foreach (a, key, va)
          {
            json_object *vb = NULL;

            if (!json_object_object_get_ex (b, key, &vb) || !same_value (va, vb))
              return FALSE;
          }
      }
      return TRUE;
    case json_type_boolean:
    case json_type_null:
    default:
      return json_object_equal (a, b) != 0;
    }
}

/* @value inside {"v": …} through both readers: both take it, to the same value. */
static void
assert_same (const char *value)
{
  g_autofree char *text = g_strdup_printf ("{\"v\": %s}", value);
  json_object *fast = NULL;
  json_object *ref = NULL;

  g_test_message ("%s", text);
  g_assert_true (codec_read (text, strlen (text), &ref));
  g_assert_true (fast_read (text, strlen (text), &fast));
  g_assert_true (same_value (json_object_object_get (fast, "v"), json_object_object_get (ref, "v")));
  json_object_put (fast);
  json_object_put (ref);
}

/* The @len bytes at @text through both readers: both refuse them. */
static void
assert_both_refuse (const char *text,
                    gsize       len)
{
  json_object *fast = NULL;
  json_object *ref = NULL;
  g_autofree char *shown = g_strescape (text, NULL);

  g_test_message ("%s (%zu bytes)", shown, len);
  g_assert_false (codec_read (text, len, &ref));
  g_assert_false (fast_read (text, len, &fast));
  g_assert_null (fast);
  g_assert_null (ref);
}

/* Every escape JSON has, as json-c decodes it: a half of a surrogate pair (alone, or followed by
 * anything but the other half) is U+FFFD; "\u0000" is a NUL inside the string. */
static void
test_escapes (void)
{
  static const char * const values[] = {
    "\"\"", "\"plain\"", "\"a\\nb\"", "\"a\\tb\"", "\"\\\"quoted\\\"\"", "\"back\\\\slash\"",
    "\"\\/slash\"", "\"\\b\\f\\r\"", "\"\\u00e9\"", "\"\\u1EC5\"", "\"Nguy\\u1ec5n V\\u0103n\"",
    "\"\\ud83d\\ude00\"", "\"a\\ud83d\\ude00b\"", "\"\\ud83d\"", "\"\\ude00\"", "\"\\ud83dx\"",
    "\"\\ud83d\\u0041\"", "\"\\ude00\\ud83d\"", "\"\\ud83d\\ud83d\\ude00\"", "\"\\u0000\"",
    "\"a\\u0000b\"", "\"Thôn 6\\nxã \\\"Vĩnh\\\" Lương\"", "\"😀 in UTF-8\"",
  };

  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    assert_same (values[i]);
}

/* Whole numbers in 64 bits are integers; one that overflows, a fraction or an exponent is read
 * as json-c reads it. */
static void
test_numbers (void)
{
  static const char * const values[] = {
    "0", "-0", "1", "-1", "42", "9223372036854775807", "-9223372036854775808", "0.5", "-0.25", "1.0", "0.0", "-0.0", "1e3", "1E3",
    "1e-3", "2.5e+10", "-2.5E-10", "1.7976931348623157e308",
  };

  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    assert_same (values[i]);
}

static void
test_structures (void)
{
  static const char * const values[] = {
    "true", "false", "null", "[]", "{}", "[1, \"two\", [3, [4]], {\"five\": 5}]",
    "{\"a\": {\"b\": [true, null, false]}, \"c\": \"d\"}", " [ 1 ,\n\t2 ] ",
  };
  GString *deep = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    assert_same (values[i]);
  /* As deep as the wire allows: the object around it is one level. */
  for (int i = 0; i < KH_CODEC_MAX_DEPTH - 1; i++)
    g_string_append_c (deep, '[');
  for (int i = 0; i < KH_CODEC_MAX_DEPTH - 1; i++)
    g_string_append_c (deep, ']');
  assert_same (deep->str);
  g_string_free (deep, TRUE);
}

/* Truncated text, wrong nesting, too deep, NUL bytes, invalid UTF-8, and what strict JSON
 * leaves out. */
static void
test_malformed (void)
{
  static const char * const texts[] = {
    "", " ", "{", "{\"v\"", "{\"v\":", "{\"v\": \"abc", "{\"v\": \"abc\\", "{\"v\": \"\\u12",
    "{\"v\": [1, 2}", "{\"v\": {\"a\": 1]}", "{\"v\": [1, 2]]}", "{\"v\": 1}}", "{\"v\": 1} x",
    "{\"v\": tru}", "{\"v\": nul}", "{\"v\": True}", "{\"v\": 01}", "{\"v\": .5}",
    "{\"v\": -}", "{\"v\": +1}", "{\"v\": 1e}",
    "{\"v\": \"\\x\"}", "{\"v\": \"\\u12g4\"}", "{\"v\": 1,}", "{\"v\": [1,]}",
    "{v: 1}", "{\"v\" 1}", "{\"v\": 1 \"w\": 2}", "{\"v\": [1 2]}", "{\"v\": \"a\"\"b\"}",
    "{\"v\": \"\xc3\"}", "{\"v\": \"\xff\"}", "{\"v\": \"\xed\xa0\x80\"}", "{\"v\": \"\xe1\xbb\"}",
  };
  static const char nul_inside[] = "{\"v\": \"a\0b\"}";
  static const char nul_after[] = "{\"v\": 1}\0";
  static const char nul_between[] = "{\"v\":\0 1}";
  GString *deep = g_string_new ("{\"v\": ");

  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    if (texts[i][0] != '\0')
      assert_both_refuse (texts[i], strlen (texts[i]));
  assert_both_refuse (nul_inside, sizeof nul_inside - 1);
  assert_both_refuse (nul_after, sizeof nul_after - 1);
  assert_both_refuse (nul_between, sizeof nul_between - 1);

  /* One level deeper than the wire allows. */
  for (int i = 0; i < KH_CODEC_MAX_DEPTH; i++)
    g_string_append_c (deep, '[');
  for (int i = 0; i < KH_CODEC_MAX_DEPTH; i++)
    g_string_append_c (deep, ']');
  g_string_append_c (deep, '}');
  assert_both_refuse (deep->str, deep->len);
  g_string_free (deep, TRUE);
}

static const char page_text[] =
  "{\"server_id\": \"0190c9a2-7b1e-7c3a-9d7e-2f1a3b4c5d99\", \"epoch\": 1, \"cursor\": \"1.0.5.ab\", "
  "\"has_more\": false, \"reset\": false, \"records\": ["
  "{\"entity\": \"person\", \"id\": \"0190c9a2-7b1e-7c3a-9d7e-2f1a3b4c5d01\", \"version\": 5, "
  "\"deleted\": false, \"fields\": {\"full_name\": \"Nguy\\u1ec5n V\\u0103n \\u0110\\u1ee9c\", "
  "\"birth_date\": \"2012-03-04\", \"gender\": \"male\", "
  "\"address\": \"Th\\u00f4n 6\\nx\\u00e3 \\\"V\\u0129nh\\\" L\\u01b0\\u01a1ng\\t\\/\\\\\"}, "
  "\"updated_by\": \"officer.b\", \"updated_at\": \"2025-07-01T08:30:00Z\"}, "
  "{\"entity\": \"org_unit\", \"id\": \"0190c9a2-7b1e-7c3a-9d7e-2f1a3b4c5d02\", \"version\": 2, "
  "\"deleted\": true, \"fields\": {\"code\": \"22435\", \"name\": \"X\\u00e3 A\", \"kind\": \"commune\", "
  "\"population\": 0}}], "
  "\"removed\": [{\"entity\": \"person\", \"id\": \"0190c9a2-7b1e-7c3a-9d7e-2f1a3b4c5d03\"}]}";

/* Whether the replica's page reader refuses @text the way the engine reads a page: its records
 * by the fast reader, the rest by the codec. */
static gboolean
page_refused (const char *text,
              gsize       len,
              guint      *n_records)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) check_error = NULL;
  g_autofree char *rest = NULL;
  g_autoptr(KhReplicaPage) page = kh_replica_page_read (text, len, &rest, &check_error, &error);
  json_object *header;
  KhChangesPage *changes;

  if (page == NULL)
    return TRUE;
  if (check_error != NULL)
    return TRUE;
  header = kh_codec_parse (rest, strlen (rest), KH_CODEC_MAX_DEPTH, NULL);
  changes = header != NULL ? kh_changes_page_header_from_json (header, NULL) : NULL;
  json_object_put (header);
  if (changes == NULL)
    return TRUE;
  kh_changes_page_free (changes);
  *n_records = kh_replica_page_get_n_records (page);
  return FALSE;
}

static gboolean
page_refused_by_codec (const char *text,
                       gsize       len,
                       guint      *n_records)
{
  json_object *obj = kh_codec_parse (text, len, KH_CODEC_MAX_DEPTH, NULL);
  KhChangesPage *changes = obj != NULL ? kh_changes_page_from_json (obj, NULL) : NULL;

  json_object_put (obj);
  if (changes == NULL)
    return TRUE;
  *n_records = changes->records->len;
  kh_changes_page_free (changes);
  return FALSE;
}

/* What json-c takes even in strict mode but JSON does not: the fast reader refuses it. The
 * server writes with the codec, so the wire never carries it. */
static void
test_stricter_than_json_c (void)
{
  static const char * const texts[] = {
    "{\"v\": 1.}", "{\"v\": -01}", "{\"v\": NaN}", "{\"v\": Infinity}", "{\"v\": -Infinity}",
    "{'v': 1}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      json_object *fast = NULL;

      g_test_message ("%s", texts[i]);
      g_assert_false (fast_read (texts[i], strlen (texts[i]), &fast));
      g_assert_null (fast);
    }
}

/* A page of one record, its version left to fill in. */
static const char page_with_version[] =
  "{\"server_id\": \"0190c9a2-7b1e-7c3a-9d7e-2f1a3b4c5d99\", \"epoch\": 1, \"cursor\": \"1.0.5.ab\", "
  "\"has_more\": false, \"reset\": false, \"records\": [{\"entity\": \"org_unit\", "
  "\"id\": \"0190c9a2-7b1e-7c3a-9d7e-2f1a3b4c5d02\", \"version\": %s, \"deleted\": false, "
  "\"fields\": {\"code\": \"22435\", \"name\": \"X\\u00e3 A\", \"kind\": \"commune\"}}], \"removed\": []}";

/* A whole number beyond 64 bits: json-c makes an integer held at the nearest 64-bit end, the
 * fast reader a double of the number's value. The values differ, but the use does not: a
 * record whose version is such a number is refused by both (the codec refuses the held
 * G_MAXINT64, the replica a version that is not an integer). */
static void
test_numbers_beyond_64_bits (void)
{
  static const char * const values[] = {
    "9223372036854775808", "-9223372036854775809", "18446744073709551616",
    "123456789012345678901234567890",
  };

  g_autofree char *usual = g_strdup_printf (page_with_version, "5");
  guint n_usual = 0;

  /* The same page with a usual version is taken by both. */
  g_assert_false (page_refused (usual, strlen (usual), &n_usual));
  g_assert_false (page_refused_by_codec (usual, strlen (usual), &n_usual));

  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    {
      g_autofree char *text = g_strdup_printf ("{\"v\": %s}", values[i]);
      g_autofree char *page = g_strdup_printf (page_with_version, values[i]);
      json_object *fast = NULL;
      json_object *ref = NULL;
      json_object *v;
      guint n = 0;

      g_test_message ("%s", text);
      g_assert_true (codec_read (text, strlen (text), &ref));
      g_assert_true (fast_read (text, strlen (text), &fast));
      v = json_object_object_get (fast, "v");
      g_assert_true (json_object_is_type (v, json_type_double));
      g_assert_cmpfloat (json_object_get_double (v), ==, g_ascii_strtod (values[i], NULL));
      g_assert_true (json_object_is_type (json_object_object_get (ref, "v"), json_type_int));
      json_object_put (fast);
      json_object_put (ref);

      g_assert_true (page_refused (page, strlen (page), &n));
      g_assert_true (page_refused_by_codec (page, strlen (page), &n));
    }
}

/* A whole page: the same tree from both, and its records read by the replica's reader; cut short
 * anywhere, or with a NUL or a byte that is not UTF-8 put in, both refuse it. */
static void
test_page (void)
{
  gsize len = sizeof page_text - 1;
  json_object *fast = NULL;
  json_object *ref = NULL;
  guint n_fast = 0;
  guint n_ref = 0;

  g_assert_true (codec_read (page_text, len, &ref));
  g_assert_true (fast_read (page_text, len, &fast));
  g_assert_true (same_value (fast, ref));
  json_object_put (fast);
  json_object_put (ref);
  g_assert_false (page_refused (page_text, len, &n_fast));
  g_assert_false (page_refused_by_codec (page_text, len, &n_ref));
  g_assert_cmpuint (n_fast, ==, 2);
  g_assert_cmpuint (n_ref, ==, 2);

  for (gsize cut = 1; cut < len; cut++)
    {
      g_assert_true (page_refused (page_text, cut, &n_fast));
      g_assert_true (page_refused_by_codec (page_text, cut, &n_ref));
    }
  for (gsize at = 0; at < len; at += 7)
    {
      g_autofree char *broken = g_memdup2 (page_text, len);

      broken[at] = '\0';
      g_assert_true (page_refused (broken, len, &n_fast));
      g_assert_true (page_refused_by_codec (broken, len, &n_ref));
      broken[at] = '\xff';
      g_assert_true (page_refused (broken, len, &n_fast));
      g_assert_true (page_refused_by_codec (broken, len, &n_ref));
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/sync/wire-read/escapes", test_escapes);
  g_test_add_func ("/sync/wire-read/numbers", test_numbers);
  g_test_add_func ("/sync/wire-read/structures", test_structures);
  g_test_add_func ("/sync/wire-read/numbers-beyond-64-bits", test_numbers_beyond_64_bits);
  g_test_add_func ("/sync/wire-read/malformed", test_malformed);
  g_test_add_func ("/sync/wire-read/stricter-than-json-c", test_stricter_than_json_c);
  g_test_add_func ("/sync/wire-read/page", test_page);

  return g_test_run ();
}
