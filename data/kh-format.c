/* kh-format.c: money, dates and numbers as people read them
 *
 * Vietnamese conventions (DOMAIN.md): đồng have no minor unit and are grouped with dots,
 * "1.250.000 ₫" with a no-break space before the sign; dates are dd/mm/yyyy.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <stdio.h>
#include <string.h>

#include "kh-format.h"

static void
group_digits (GString *out,
              guint64  magnitude,
              char     separator)
{
  char digits[32];
  int len = g_snprintf (digits, sizeof digits, "%" G_GUINT64_FORMAT, magnitude);

  for (int i = 0; i < len; i++)
    {
      if (i > 0 && (len - i) % 3 == 0)
        g_string_append_c (out, separator);
      g_string_append_c (out, digits[i]);
    }
}

/* The Vietnamese form, "1.250.000 ₫", as documents print it whatever the interface language;
 * kh_format_money_style() follows the locale. */
char *
kh_format_money (gint64 dong)
{
  return kh_format_money_style (dong, KH_FORMAT_VIETNAMESE);
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

/* Locale-aware forms ---------------------------------------------------------------------------- */

KhFormatStyle
kh_format_style_for_locale (void)
{
  const char * const *languages = g_get_language_names ();

  /* The first entry is the most specific one the person asked for (LANGUAGE, LC_ALL, …). */
  if (languages != NULL && languages[0] != NULL && g_str_has_prefix (languages[0], "vi"))
    return KH_FORMAT_VIETNAMESE;
  return KH_FORMAT_ENGLISH;
}

static KhFormatStyle
resolve (KhFormatStyle style)
{
  return style == KH_FORMAT_AUTO ? kh_format_style_for_locale () : style;
}

char *
kh_format_number_style (gint64        n,
                        KhFormatStyle style)
{
  GString *out = g_string_new (NULL);
  guint64 magnitude = n < 0 ? (guint64) (-(n + 1)) + 1 : (guint64) n;

  if (n < 0)
    g_string_append_c (out, '-');
  group_digits (out, magnitude, resolve (style) == KH_FORMAT_VIETNAMESE ? '.' : ',');
  return g_string_free (out, FALSE);
}

/* "1.250.000 ₫" in Vietnamese, "1,250,000 ₫" in English; a no-break space keeps the sign with
 * the number. */
char *
kh_format_money_style (gint64        dong,
                       KhFormatStyle style)
{
  g_autofree char *number = kh_format_number_style (dong, style);

  return g_strconcat (number, "\u00a0₫", NULL);
}

/* "99,1 %" in Vietnamese, "99.1%" in English, one decimal. */
char *
kh_format_percent_style (double        percent,
                         KhFormatStyle style)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_ascii_formatd (buf, sizeof buf, "%.1f", percent);
  if (resolve (style) == KH_FORMAT_VIETNAMESE)
    {
      g_strdelimit (buf, ".", ',');
      return g_strconcat (buf, "\u00a0%", NULL);
    }
  return g_strconcat (buf, "%", NULL);
}

/* The size of a file as people read it, in the units GLib's g_format_size() uses (kB = 1000
 * bytes) but in the reader's words and decimal mark: "832 byte", "4,3 kB", "1,2 MB" in
 * Vietnamese, "832 bytes", "4.3 kB" in English. The window and the CLI both say sizes so. */
char *
kh_format_size_style (gint64        bytes,
                      KhFormatStyle style)
{
  static const char * const units[] = { "kB", "MB", "GB", "TB" };
  gboolean vietnamese = resolve (style) == KH_FORMAT_VIETNAMESE;
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  double value = (double) MAX (bytes, 0);
  guint unit = 0;

  if (bytes < 1000)
    {
      if (vietnamese)
        return g_strdup_printf ("%" G_GINT64_FORMAT " byte", MAX (bytes, 0));
      return g_strdup_printf (bytes == 1 ? "%" G_GINT64_FORMAT " byte" : "%" G_GINT64_FORMAT " bytes",
                              MAX (bytes, 0));
    }
  value /= 1000.0;
  /* 999.95 kB would print as 1000.0 kB: that is the next unit's 1.0. */
  while (value >= 999.95 && unit + 1 < G_N_ELEMENTS (units))
    {
      value /= 1000.0;
      unit++;
    }
  g_ascii_formatd (buf, sizeof buf, "%.1f", value);
  if (vietnamese)
    g_strdelimit (buf, ".", ',');
  return g_strconcat (buf, " ", units[unit], NULL);
}

char *
kh_format_size (gint64 bytes)
{
  return kh_format_size_style (bytes, KH_FORMAT_AUTO);
}

/* dd/mm/yyyy in both languages: that is how dates are written in Vietnam, whatever the
 * interface language, and an English reader of these lists expects it too. */
char *
kh_format_date_style (const char    *iso,
                      KhFormatStyle  style)
{
  (void) style;
  return kh_format_date (iso);
}

/* The form used in documents: "ngày 03 tháng 6 năm 2022". */
char *
kh_format_date_long (const char *iso)
{
  unsigned int y, m, d;

  if (iso == NULL || sscanf (iso, "%4u-%2u-%2u", &y, &m, &d) != 3)
    return g_strdup (iso ? iso : "");
  return g_strdup_printf ("ngày %02u tháng %u năm %04u", d, m, y);
}

/* Vietnamese name order --------------------------------------------------------------------- */

/* The Vietnamese alphabet: a ă â b c d đ e ê g h i k l m n o ô ơ p q r s t u ư v x y, with
 * f, j, w, z (foreign names) placed where a Vietnamese dictionary puts them. A letter's rank
 * comes from its base letter and its vowel mark (breve, circumflex, horn); tone marks are a
 * second level, in the dictionary's order: none, huyền, hỏi, ngã, sắc, nặng. */
static int
letter_rank (gunichar base,
             gunichar mark)
{
  int index;

  switch (base)
    {
    case 'a': index = mark == 0x0306 ? 1 : mark == 0x0302 ? 2 : 0; break;
    case 'd': index = 0; break;
    case 'e': index = mark == 0x0302 ? 1 : 0; break;
    case 'o': index = mark == 0x0302 ? 1 : mark == 0x031B ? 2 : 0; break;
    case 'u': index = mark == 0x031B ? 1 : 0; break;
    default: index = 0; break;
    }
  /* Four places per base letter leave room for its marked forms (ă â, đ, ê, ô ơ, ư). */
  if (base >= 'a' && base <= 'z')
    return 0x20 + (int) (base - 'a') * 4 + index;
  return -1;
}

static int
tone_rank (gunichar mark)
{
  switch (mark)
    {
    case 0x0300: return 1; /* huyền */
    case 0x0309: return 2; /* hỏi */
    case 0x0303: return 3; /* ngã */
    case 0x0301: return 4; /* sắc */
    case 0x0323: return 5; /* nặng */
    default: return 0;
    }
}

/* One word's key: its letters' ranks, a 0x01, then its tones as digits. @word is @len bytes of
 * lower case text in NFD; @tones is scratch space. */
static void
append_word_key (GString    *key,
                 GString    *tones,
                 const char *word,
                 gsize       len)
{
  const char *end = word + len;
  gunichar base = 0;
  gunichar vowel_mark = 0;

  g_string_truncate (tones, 0);
  for (const char *p = word; ; p = g_utf8_next_char (p))
    {
      gunichar c = p < end ? g_utf8_get_char (p) : 0;
      gboolean mark = c == 0x0306 || c == 0x0302 || c == 0x031B;
      int tone = tone_rank (c);

      if (c != 0 && mark)
        {
          vowel_mark = c;
          continue;
        }
      if (c != 0 && tone > 0)
        {
          g_string_append_c (tones, (char) ('0' + tone));
          continue;
        }
      if (base != 0)
        {
          int rank = letter_rank (base, vowel_mark);

          if (base == 0x0111)   /* đ comes right after d */
            g_string_append_c (key, (char) (0x20 + ('d' - 'a') * 4 + 1));
          else if (rank >= 0)
            g_string_append_c (key, (char) rank);
          else if (g_unichar_isdigit (base))
            g_string_append_c (key, (char) (0x10 + g_unichar_digit_value (base)));
          else if (g_unichar_isalpha (base))
            g_string_append_unichar (key, base);   /* other scripts after the Latin letters */
        }
      if (c == 0)
        break;
      base = c;
      vowel_mark = 0;
    }
  g_string_append_c (key, 0x01);
  g_string_append_len (key, tones->str, tones->len);
  g_string_append_c (key, 0x02);
}

/* A key that sorts names as Vietnamese officers expect with a plain byte comparison (strcmp,
 * or SQLite's BINARY collation): by given name, then family name, then middle names; or
 * word by word as written. Lists of people sort by it in SQLite (kh_name_key(), indexed), so
 * it is computed for every person written or pulled: the name is lowered and decomposed once,
 * and its words are spans of that text, not copies. */
char *
kh_name_sort_key (const char  *full_name,
                  KhNameOrder  order)
{
  struct { const char *start; gsize len; } words[64];
  g_autofree char *lower = NULL;
  g_autofree char *nfd = NULL;
  GString *key = g_string_new (NULL);
  GString *tones;
  const char *start = NULL;
  guint n = 0;

  if (full_name == NULL)
    return g_string_free (key, FALSE);
  lower = g_utf8_strdown (full_name, -1);
  nfd = g_utf8_normalize (lower, -1, G_NORMALIZE_NFD);
  if (nfd == NULL)
    return g_string_free (key, FALSE);
  /* Words are split on any Unicode space (a no-break space too), character by character:
   * splitting on bytes would cut "à" (C3 A0) at the A0 of a no-break space. A name of more
   * than 64 words keeps its last words together in the last one. */
  for (const char *p = nfd; ; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c == 0 || (g_unichar_isspace (c) && n + 1 < G_N_ELEMENTS (words)))
        {
          if (start != NULL)
            {
              words[n].start = start;
              words[n].len = p - start;
              n++;
            }
          start = NULL;
          if (c == 0)
            break;
        }
      else if (start == NULL)
        start = p;
    }
  if (n == 0)
    return g_string_free (key, FALSE);

  tones = g_string_new (NULL);
  if (order == KH_NAME_ORDER_GIVEN_FIRST && n > 1)
    {
      append_word_key (key, tones, words[n - 1].start, words[n - 1].len);
      append_word_key (key, tones, words[0].start, words[0].len);
      for (guint i = 1; i + 1 < n; i++)
        append_word_key (key, tones, words[i].start, words[i].len);
    }
  else
    for (guint i = 0; i < n; i++)
      append_word_key (key, tones, words[i].start, words[i].len);
  g_string_free (tones, TRUE);
  return g_string_free (key, FALSE);
}

int
kh_name_compare (const char  *a,
                 const char  *b,
                 KhNameOrder  order)
{
  g_autofree char *ka = kh_name_sort_key (a, order);
  g_autofree char *kb = kh_name_sort_key (b, order);
  int c = strcmp (ka, kb);

  return c != 0 ? c : g_strcmp0 (a, b);
}

/* A value of @field as a person reads it, the same in the window and on the command line: enum
 * labels, money as 1.250.000 ₫, dates as dd/mm/yyyy, "Yes" or "No". A reference is left as its
 * id; kh_store_dup_title() names it. An absent value is the empty string. */
char *
kh_value_format (const KhField *field,
                 json_object   *value)
{
  g_return_val_if_fail (field != NULL, NULL);

  if (value == NULL)
    return g_strdup ("");
  switch (field->type)
    {
    case KH_FIELD_ENUM:
      return g_strdup (kh_field_enum_label (field, json_object_get_string (value)));
    case KH_FIELD_MONEY:
      return kh_format_money (json_object_get_int64 (value));
    case KH_FIELD_DATE:
      return kh_format_date (json_object_get_string (value));
    case KH_FIELD_BOOL:
      return g_strdup (json_object_get_boolean (value) ? _("Yes") : _("No"));
    case KH_FIELD_INT:
    case KH_FIELD_YEAR:
      return g_strdup_printf ("%" G_GINT64_FORMAT, json_object_get_int64 (value));
    case KH_FIELD_JSON:
      return g_strdup (json_object_to_json_string_ext (value, JSON_C_TO_STRING_PLAIN));
    case KH_FIELD_TEXT:
    case KH_FIELD_REF:
    default:
      return g_strdup (json_object_get_string (value));
    }
}
