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

char *
kh_fold (const char *text)
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
