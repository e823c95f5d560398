/* kh-format.c: money, dates and numbers as people read them
 *
 * Vietnamese conventions (DOMAIN.md): đồng have no minor unit and are grouped with dots,
 * "1.250.000 ₫" with a no-break space before the sign; dates are dd/mm/yyyy.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-format.h"

#include <stdio.h>
#include <string.h>

char *
kh_format_money (gint64 dong)
{
  char digits[32];
  GString *out = g_string_new (NULL);
  guint64 magnitude = dong < 0 ? (guint64) (-(dong + 1)) + 1 : (guint64) dong;
  int len;

  len = g_snprintf (digits, sizeof digits, "%" G_GUINT64_FORMAT, magnitude);
  if (dong < 0)
    g_string_append_c (out, '-');
  for (int i = 0; i < len; i++)
    {
      if (i > 0 && (len - i) % 3 == 0)
        g_string_append_c (out, '.');
      g_string_append_c (out, digits[i]);
    }
  g_string_append (out, "\u00a0₫");
  return g_string_free (out, FALSE);
}

char *
kh_format_date (const char *iso)
{
  unsigned int y, m, d;

  if (iso == NULL || sscanf (iso, "%4u-%2u-%2u", &y, &m, &d) != 3)
    return g_strdup (iso ? iso : "");
  return g_strdup_printf ("%02u/%02u/%04u", d, m, y);
}

/* The amount in Vietnamese words, as printed under a list's total: 1.250.000 gives
 * "Một triệu hai trăm năm mươi nghìn đồng". */
static const char *digit_words[] = {
  "không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín"
};

static void
append_triple (GString  *out,
               unsigned  n,
               gboolean  full)
{
  unsigned h = n / 100, t = (n / 10) % 10, u = n % 10;

  if (full || h > 0)
    g_string_append_printf (out, "%s%s trăm", out->len ? " " : "", digit_words[h]);
  if (t == 0)
    {
      if (u > 0 && (full || h > 0))
        g_string_append (out, " lẻ");
    }
  else if (t == 1)
    g_string_append_printf (out, "%smười", out->len ? " " : "");
  else
    g_string_append_printf (out, "%s%s mươi", out->len ? " " : "", digit_words[t]);

  if (u == 0)
    return;
  if (t >= 2 && u == 1)
    g_string_append (out, " mốt");
  else if (t >= 1 && u == 5)
    g_string_append (out, " lăm");
  else if (t >= 2 && u == 4)
    g_string_append (out, " tư");
  else
    g_string_append_printf (out, "%s%s", out->len ? " " : "", digit_words[u]);
}

char *
kh_format_money_words (gint64 dong)
{
  static const char *groups[] = { "", " nghìn", " triệu", " tỷ", " nghìn tỷ", " triệu tỷ", " tỷ tỷ" };
  unsigned parts[7] = { 0 };
  guint64 magnitude = dong < 0 ? (guint64) (-(dong + 1)) + 1 : (guint64) dong;
  GString *out = g_string_new (NULL);
  int top = 0;
  char *first_upper;

  for (int i = 0; i < 7 && magnitude > 0; i++)
    {
      parts[i] = magnitude % 1000;
      magnitude /= 1000;
      if (parts[i])
        top = i;
    }

  if (dong == 0)
    g_string_append (out, "không");
  for (int i = top; i >= 0 && dong != 0; i--)
    {
      if (parts[i] == 0)
        continue;
      append_triple (out, parts[i], i != top);
      g_string_append (out, groups[i]);
    }
  g_string_append (out, " đồng");
  if (dong < 0)
    g_string_prepend (out, "âm ");

  /* Capitalize the first letter, which may be a multi-byte character. */
  first_upper = g_utf8_strup (out->str, g_utf8_next_char (out->str) - out->str);
  g_string_erase (out, 0, g_utf8_next_char (out->str) - out->str);
  g_string_prepend (out, first_upper);
  g_free (first_upper);
  return g_string_free (out, FALSE);
}
