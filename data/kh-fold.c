/* kh-fold.c: Vietnamese folding for search
 *
 * "Nguyễn Văn Đức", "nguyen van duc" and "NGUYỄN VĂN ĐỨC" fold to the same "nguyen van duc":
 * tone marks and the other diacritics (breve, circumflex, horn) are removed by decomposing to
 * NFD and dropping combining marks, đ/Đ becomes d, and the result is lower case.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-fold.h"

#include <string.h>

static gboolean
is_combining_mark (gunichar c)
{
  return (c >= 0x0300 && c <= 0x036F) || (c >= 0x1AB0 && c <= 0x1AFF)
         || (c >= 0x1DC0 && c <= 0x1DFF) || (c >= 0x20D0 && c <= 0x20FF);
}

/* The definition: decompose to NFD, drop combining marks, đ/Đ → d, lower case. */
char *
kh_fold_nfd (const char *text)
{
  g_autofree char *nfd = NULL;
  GString *out;

  if (text == NULL)
    return g_strdup ("");

  nfd = g_utf8_normalize (text, -1, G_NORMALIZE_NFD);
  if (nfd == NULL)
    return g_strdup ("");

  out = g_string_sized_new (strlen (nfd));
  for (const char *p = nfd; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c < 0x80)
        {
          g_string_append_c (out, g_ascii_tolower ((char) c));
          continue;
        }
      if (is_combining_mark (c))
        continue;
      if (c == 0x0110 || c == 0x0111)    /* Đ đ */
        c = 'd';
      else
        c = g_unichar_tolower (c);
      g_string_append_unichar (out, c);
    }
  return g_string_free (out, FALSE);
}

/* What kh_fold_nfd() makes of one code point of the Latin blocks Vietnamese is written in
 * (U+0080–U+036F, with the combining marks, and U+1E00–U+1EFF): a code point, FOLD_DROP for
 * nothing, or FOLD_SLOW when it makes more than one (then the whole text takes the slow path).
 * Built once from the same decomposition, so both agree (tests/data/test-fold checks every
 * code point). The index and search fold every name written, and NFD of the whole text was
 * most of the cost. */
#define FOLD_DROP 0xFFFFFFFEu
#define FOLD_SLOW 0xFFFFFFFFu
#define LOW_END   0x0370
#define EXT_START 0x1E00
#define EXT_END   0x1F00

static gunichar fold_low[LOW_END];
static gunichar fold_ext[EXT_END - EXT_START];

static gunichar
fold_one (gunichar c)
{
  gunichar d[G_UNICHAR_MAX_DECOMPOSITION_LENGTH];
  gsize n = g_unichar_fully_decompose (c, FALSE, d, G_N_ELEMENTS (d));
  gunichar out = FOLD_DROP;

  for (gsize i = 0; i < n; i++)
    {
      gunichar x = d[i];

      if (x >= 0x80 && is_combining_mark (x))
        continue;
      if (out != FOLD_DROP)
        return FOLD_SLOW;
      if (x < 0x80)
        out = (gunichar) g_ascii_tolower ((char) x);
      else if (x == 0x0110 || x == 0x0111)
        out = 'd';
      else
        out = g_unichar_tolower (x);
    }
  return out;
}

static void
fold_tables_init (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done))
    {
      for (gunichar c = 0; c < LOW_END; c++)
        fold_low[c] = fold_one (c);
      for (gunichar c = EXT_START; c < EXT_END; c++)
        fold_ext[c - EXT_START] = fold_one (c);
      g_once_init_leave (&done, 1);
    }
}

char *
kh_fold (const char *text)
{
  GString *out;
  gsize len;

  if (text == NULL)
    return g_strdup ("");
  len = strlen (text);
  if (!g_utf8_validate_len (text, len, NULL))
    return g_strdup ("");
  fold_tables_init ();

  out = g_string_sized_new (len);
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = (guchar) *p < 0x80 ? (gunichar) *p : g_utf8_get_char (p);
      gunichar f;

      if (c < 0x80)
        {
          g_string_append_c (out, g_ascii_tolower ((char) c));
          continue;
        }
      if (c < LOW_END)
        f = fold_low[c];
      else if (c >= EXT_START && c < EXT_END)
        f = fold_ext[c - EXT_START];
      else if (is_combining_mark (c))
        f = FOLD_DROP;
      else
        f = FOLD_SLOW;
      if (f == FOLD_SLOW)
        {
          g_string_free (out, TRUE);
          return kh_fold_nfd (text);
        }
      if (f != FOLD_DROP)
        g_string_append_unichar (out, f);
    }
  return g_string_free (out, FALSE);
}

/* Turns what a person typed into an FTS5 query: every word must match, the last one (and each
 * one, since people type names in any order) as a prefix. Words are quoted so that FTS5 syntax
 * characters in the input are only text.
 */
char *
kh_fold_to_fts_query (const char *text)
{
  g_autofree char *folded = kh_fold (text);
  GString *query = g_string_new (NULL);
  const char *p = folded;

  while (*p != '\0')
    {
      const char *start;

      while (*p != '\0' && !g_unichar_isalnum (g_utf8_get_char (p)))
        p = g_utf8_next_char (p);
      start = p;
      while (*p != '\0' && g_unichar_isalnum (g_utf8_get_char (p)))
        p = g_utf8_next_char (p);
      if (p > start)
        {
          if (query->len > 0)
            g_string_append_c (query, ' ');
          g_string_append_c (query, '"');
          g_string_append_len (query, start, p - start);
          g_string_append (query, "\"*");
        }
    }
  if (query->len == 0)
    {
      g_string_free (query, TRUE);
      return NULL;
    }
  return g_string_free (query, FALSE);
}
