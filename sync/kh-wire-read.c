/* kh-wire-read.c: the client's fast reader of the wire's JSON
 *
 * A page of a first pull holds thousands of records. Parsed by json-c, each is an object of
 * seven members whose fields are an object of their own: two hash tables, every name copied,
 * every value an object, some fifty small allocations per record and as many frees; that was
 * most of the work of receiving a page. The reader here walks the text of the page's
 * "records" list itself and makes only what the writer reads: the members' values and the
 * fields object, whose names are the registry's own strings (not copied). The rest of the
 * page (its header, the removed records) is left to json-c, as any other answer. It reads
 * JSON as json-c in strict mode does: what json-c refuses, it refuses; a control character in a
 * string is taken as it is and half a surrogate pair becomes U+FFFD, as json-c takes them (the
 * fields' own checks refuse control characters).
 *
 * The reference for what the wire holds is the codec (kh-codec.c); tests/sync/test-wire-read.c
 * feeds the same text through both and wants the same values and the same refusals.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <errno.h>
#include <string.h>

#include "kh-error.h"
#include "kh-wire-read.h"

gboolean
kh_wire_read_fail (KhWireReader  *rd,
                   GError       **error)
{
  if (rd->p >= rd->end)
    g_set_error_literal (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID, _("the JSON ends too early"));
  else
    g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID, _("not valid JSON at byte %zu"),
                 (size_t) (rd->p - rd->text));
  return FALSE;
}

gboolean
kh_wire_read_deeper (KhWireReader  *rd,
                     GError       **error)
{
  if (++rd->depth <= KH_CODEC_MAX_DEPTH)
    return TRUE;
  g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID, _("nested too deep at byte %zu"),
               (size_t) (rd->p - rd->text));
  return FALSE;
}

static int
hex4 (const char *p)
{
  int v = 0;

  for (int i = 0; i < 4; i++)
    {
      int d = g_ascii_xdigit_value (p[i]);

      if (d < 0)
        return -1;
      v = v * 16 + d;
    }
  return v;
}

/* Reads the string at the reader: @out is its text in place when it has no escapes, else
 * decoded in rd->scratch (until the next string). */
gboolean
kh_wire_read_string (KhWireReader  *rd,
                     const char   **out,
                     gsize         *len,
                     GError       **error)
{
  const char *start;
  const char *quote;
  const char *escape;

  kh_wire_read_space (rd);
  if (rd->p >= rd->end || *rd->p != '"')
    return kh_wire_read_fail (rd, error);
  start = ++rd->p;
  /* Most strings have no escape: found with memchr(), many bytes at a time. */
  quote = memchr (start, '"', rd->end - start);
  escape = memchr (start, '\\', (quote != NULL ? quote : rd->end) - start);
  if (quote != NULL && escape == NULL)
    {
      *out = start;
      *len = quote - start;
      rd->p = quote + 1;
      return TRUE;
    }
  rd->p = escape != NULL ? escape : rd->end;

  g_string_truncate (rd->scratch, 0);
  g_string_append_len (rd->scratch, start, rd->p - start);
  while (rd->p < rd->end)
    {
      guchar c = *rd->p;
      int u;

      if (c == '"')
        {
          rd->p++;
          *out = rd->scratch->str;
          *len = rd->scratch->len;
          return TRUE;
        }
      if (c != '\\')
        {
          g_string_append_c (rd->scratch, (char) c);
          rd->p++;
          continue;
        }
      if (rd->end - rd->p < 2)
        return kh_wire_read_fail (rd, error);
      c = rd->p[1];
      switch (c)
        {
        case '"':
        case '\\':
        case '/':
          g_string_append_c (rd->scratch, (char) c);
          break;
        case 'b':
          g_string_append_c (rd->scratch, '\b');
          break;
        case 'f':
          g_string_append_c (rd->scratch, '\f');
          break;
        case 'n':
          g_string_append_c (rd->scratch, '\n');
          break;
        case 'r':
          g_string_append_c (rd->scratch, '\r');
          break;
        case 't':
          g_string_append_c (rd->scratch, '\t');
          break;
        case 'u':
          if (rd->end - rd->p < 6 || (u = hex4 (rd->p + 2)) < 0)
            return kh_wire_read_fail (rd, error);
          if (u >= 0xD800 && u <= 0xDBFF)
            {
              /* A pair: the high half, then the low one. */
              int lo = rd->end - rd->p >= 12 && rd->p[6] == '\\' && rd->p[7] == 'u' ? hex4 (rd->p + 8) : -1;

              if (lo >= 0xDC00 && lo <= 0xDFFF)
                {
                  u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
                  rd->p += 6;
                }
              else
                u = 0xFFFD;  /* half a pair: the replacement character, as json-c writes it */
            }
          else if (u >= 0xDC00 && u <= 0xDFFF)
            u = 0xFFFD;
          g_string_append_unichar (rd->scratch, (gunichar) u);
          rd->p += 4;
          break;
        default:
          return kh_wire_read_fail (rd, error);
        }
      rd->p += 2;
    }
  return kh_wire_read_fail (rd, error);
}

static gboolean
read_digits (KhWireReader *rd)
{
  const char *start = rd->p;

  while (rd->p < rd->end && g_ascii_isdigit (*rd->p))
    rd->p++;
  return rd->p > start;
}

/* Steps over the number at the reader; @whole says it has no fraction and no exponent. */
gboolean
kh_wire_scan_number (KhWireReader  *rd,
                     gboolean      *whole,
                     GError       **error)
{
  *whole = TRUE;
  if (*rd->p == '-')
    rd->p++;
  if (rd->p < rd->end && *rd->p == '0')
    rd->p++;
  else if (!read_digits (rd))
    return kh_wire_read_fail (rd, error);
  if (rd->p < rd->end && *rd->p == '.')
    {
      *whole = FALSE;
      rd->p++;
      if (!read_digits (rd))
        return kh_wire_read_fail (rd, error);
    }
  if (rd->p < rd->end && (*rd->p == 'e' || *rd->p == 'E'))
    {
      *whole = FALSE;
      rd->p++;
      if (rd->p < rd->end && (*rd->p == '+' || *rd->p == '-'))
        rd->p++;
      if (!read_digits (rd))
        return kh_wire_read_fail (rd, error);
    }
  return TRUE;
}

/* The whole number of @n characters at @start (kh_wire_scan_number()), when it fits in 64 bits. */
gboolean
kh_wire_whole_number (const char *start,
                      gsize       n,
                      gint64     *v)
{
  char buf[32];

  if (n >= sizeof buf)
    return FALSE;  /* more digits than 64 bits hold */
  memcpy (buf, start, n);
  buf[n] = '\0';
  errno = 0;
  *v = g_ascii_strtoll (buf, NULL, 10);
  return errno == 0;
}

gboolean
kh_wire_read_number (KhWireReader  *rd,
                     json_object  **out,
                     GError       **error)
{
  const char *start = rd->p;
  gboolean whole;
  g_autofree char *text = NULL;
  gint64 v;

  if (!kh_wire_scan_number (rd, &whole, error))
    return FALSE;
  if (out == NULL)
    return TRUE;
  if (whole && kh_wire_whole_number (start, rd->p - start, &v))
    *out = json_object_new_int64 (v);
  else
    {
      text = g_strndup (start, rd->p - start);
      *out = json_object_new_double (g_ascii_strtod (text, NULL));
    }
  return TRUE;
}

/* Reads the items between @open and @close, separated by commas (an object's members, an
 * array's values), each by @item. */
gboolean
kh_wire_read_list (KhWireReader    *rd,
                   char             open,
                   char             close,
                   KhWireReadItem   item,
                   gpointer         data,
                   GError         **error)
{
  if (!kh_wire_read_char (rd, open))
    return kh_wire_read_fail (rd, error);
  if (!kh_wire_read_deeper (rd, error))
    return FALSE;
  if (!kh_wire_read_char (rd, close))
    for (;;)
      {
        if (!item (rd, data, error))
          return FALSE;
        if (kh_wire_read_char (rd, ','))
          continue;
        if (kh_wire_read_char (rd, close))
          break;
        return kh_wire_read_fail (rd, error);
      }
  rd->depth--;
  return TRUE;
}

typedef struct
{
  json_object    *obj;     /* NULL: only checked */
  const KhEntity *entity;  /* the members are its fields */
  guint           cursor;  /* the field after the last one found */
} ObjectRead;

static gboolean
read_member (KhWireReader  *rd,
             gpointer       data,
             GError       **error)
{
  ObjectRead *o = data;
  const char *key;
  gsize key_len;
  const KhField *field = NULL;
  g_autofree char *copy = NULL;
  json_object *value = NULL;

  if (!kh_wire_read_name (rd, &key, &key_len, error))
    return FALSE;
  if (o->obj != NULL && o->entity != NULL)
    field = kh_wire_find_field (o->entity, key, key_len, &o->cursor);
  if (o->obj != NULL && field == NULL)
    copy = g_strndup (key, key_len);  /* the value may take the scratch */
  if (!kh_wire_read_value (rd, o->obj != NULL ? &value : NULL, error))
    return FALSE;
  if (field != NULL)
    json_object_object_add_ex (o->obj, field->name, value, JSON_C_OBJECT_ADD_CONSTANT_KEY);
  else if (o->obj != NULL)
    json_object_object_add (o->obj, copy, value);
  return TRUE;
}

/* Reads an object (only checks it when @out is NULL); with @entity, its members are that
 * entity's fields, named by the registry's own strings. */
gboolean
kh_wire_read_object (KhWireReader    *rd,
                     const KhEntity  *entity,
                     json_object    **out,
                     GError         **error)
{
  ObjectRead o = { out != NULL ? json_object_new_object () : NULL, entity, 0 };

  if (!kh_wire_read_list (rd, '{', '}', read_member, &o, error))
    {
      json_object_put (o.obj);
      return FALSE;
    }
  if (out != NULL)
    *out = o.obj;
  return TRUE;
}

static gboolean
read_element (KhWireReader  *rd,
              gpointer       data,
              GError       **error)
{
  json_object *array = data;
  json_object *value = NULL;

  if (!kh_wire_read_value (rd, array != NULL ? &value : NULL, error))
    return FALSE;
  if (array != NULL)
    json_object_array_add (array, value);
  return TRUE;
}

gboolean
kh_wire_read_array (KhWireReader  *rd,
                    json_object  **out,
                    GError       **error)
{
  json_object *array = out != NULL ? json_object_new_array () : NULL;

  if (!kh_wire_read_list (rd, '[', ']', read_element, array, error))
    {
      json_object_put (array);
      return FALSE;
    }
  if (out != NULL)
    *out = array;
  return TRUE;
}

/* Reads any value into @out (NULL for JSON null), or only checks it when @out is NULL. */
gboolean
kh_wire_read_value (KhWireReader  *rd,
                    json_object  **out,
                    GError       **error)
{
  kh_wire_read_space (rd);
  if (rd->p >= rd->end)
    return kh_wire_read_fail (rd, error);
  switch (*rd->p)
    {
    case '"':
      {
        const char *text;
        gsize len;

        if (!kh_wire_read_string (rd, &text, &len, error))
          return FALSE;
        if (out != NULL)
          *out = json_object_new_string_len (text, (int) len);
        return TRUE;
      }
    case '{':
      return kh_wire_read_object (rd, NULL, out, error);
    case '[':
      return kh_wire_read_array (rd, out, error);
    case 't':
      if (!kh_wire_read_word (rd, "true"))
        return kh_wire_read_fail (rd, error);
      if (out != NULL)
        *out = json_object_new_boolean (TRUE);
      return TRUE;
    case 'f':
      if (!kh_wire_read_word (rd, "false"))
        return kh_wire_read_fail (rd, error);
      if (out != NULL)
        *out = json_object_new_boolean (FALSE);
      return TRUE;
    case 'n':
      if (!kh_wire_read_word (rd, "null"))
        return kh_wire_read_fail (rd, error);
      if (out != NULL)
        *out = NULL;
      return TRUE;
    default:
      if (*rd->p == '-' || g_ascii_isdigit (*rd->p))
        return kh_wire_read_number (rd, out, error);
      return kh_wire_read_fail (rd, error);
    }
}
