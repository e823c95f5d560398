/* kh-wire.c: the fast paths of the wire format (see kh-wire.h and PROTOCOL.md)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "kh-wire.h"

#define FNV_OFFSET G_GUINT64_CONSTANT (0xcbf29ce484222325)
#define FNV_PRIME  G_GUINT64_CONSTANT (0x100000001b3)

/* Writing ------------------------------------------------------------------------------------- */

void
kh_wire_write_string (GString    *out,
                      const char *s,
                      gssize      len)
{
  static const char hex[] = "0123456789abcdef";
  gsize n = len < 0 ? strlen (s) : (gsize) len;
  gsize run = 0;

  g_string_append_c (out, '"');
  /* Runs of bytes that need no escape are copied at once, most strings in one. */
  for (gsize i = 0; i < n; i++)
    {
      guchar c = (guchar) s[i];
      const char *esc = NULL;

      if (c >= 0x20 && c != '"' && c != '\\')
        continue;
      g_string_append_len (out, s + run, (gssize) (i - run));
      run = i + 1;
      switch (c)
        {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default: break;
        }
      if (esc != NULL)
        g_string_append (out, esc);
      else
        {
          char u[7] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf], '\0' };

          g_string_append (out, u);
        }
    }
  g_string_append_len (out, s + run, (gssize) (n - run));
  g_string_append_c (out, '"');
}

static void
write_int (GString     *out,
           json_object *o)
{
  gint64 v = json_object_get_int64 (o);
  char buf[24];
  char *p = buf + sizeof buf;
  guint64 u = v < 0 ? (guint64) -(v + 1) + 1 : (guint64) v;

  /* INT64_MAX may stand for a larger unsigned value: json-c knows which. */
  if (v == G_MAXINT64)
    {
      g_string_append (out, kh_codec_to_string (o, NULL));
      return;
    }
  do
    *--p = (char) ('0' + u % 10);
  while ((u /= 10) > 0);
  if (v < 0)
    *--p = '-';
  g_string_append_len (out, p, buf + sizeof buf - p);
}

/* Numbers other than integers are left to json-c. Without json-c's printbuf and a printf per
 * integer: a push writes two objects per record, and json-c's writer was a large share of it. */
void
kh_wire_write_json (GString     *out,
                    json_object *o)
{
  switch (json_object_get_type (o))
    {
    case json_type_null:
      g_string_append (out, "null");
      break;
    case json_type_boolean:
      g_string_append (out, json_object_get_boolean (o) ? "true" : "false");
      break;
    case json_type_int:
      write_int (out, o);
      break;
    case json_type_string:
      kh_wire_write_string (out, json_object_get_string (o), json_object_get_string_len (o));
      break;
    case json_type_array:
      g_string_append_c (out, '[');
      for (size_t i = 0, n = json_object_array_length (o); i < n; i++)
        {
          if (i > 0)
            g_string_append_c (out, ',');
          kh_wire_write_json (out, json_object_array_get_idx (o, i));
        }
      g_string_append_c (out, ']');
      break;
    case json_type_object:
      {
        gboolean first = TRUE;

        g_string_append_c (out, '{');
        json_object_object_foreach (o, key, val)
          {
            if (!first)
              g_string_append_c (out, ',');
            first = FALSE;
            kh_wire_write_string (out, key, -1);
            g_string_append_c (out, ':');
            kh_wire_write_json (out, val);
          }
        g_string_append_c (out, '}');
      }
      break;
    case json_type_double:
    default:
      g_string_append (out, kh_codec_to_string (o, NULL));
      break;
    }
}

void
kh_wire_write_record (GString    *out,
                      const char *entity,
                      const char *id,
                      const char *version,
                      gboolean    deleted,
                      const char *fields,
                      const char *updated_by,
                      const char *updated_at)
{
  /* Appended piece by piece: a printf would copy the fields through a buffer of its own. */
  g_string_append (out, "{\"entity\":");
  kh_wire_write_string (out, entity, -1);
  g_string_append (out, ",\"id\":");
  kh_wire_write_string (out, id, -1);
  g_string_append (out, ",\"version\":");
  g_string_append (out, version);
  g_string_append (out, deleted ? ",\"deleted\":true" : ",\"deleted\":false");
  g_string_append (out, ",\"fields\":");
  g_string_append (out, fields != NULL ? fields : "{}");
  if (updated_by != NULL)
    {
      g_string_append (out, ",\"updated_by\":");
      kh_wire_write_string (out, updated_by, -1);
    }
  if (updated_at != NULL)
    {
      g_string_append (out, ",\"updated_at\":");
      kh_wire_write_string (out, updated_at, -1);
    }
  g_string_append_c (out, '}');
}

GString *
kh_wire_write_page (const KhChangesPage *page,
                    const char          *records,
                    gsize                len)
{
  GString *out = g_string_sized_new (len + 256);

  g_string_append (out, "{\"server_id\":");
  kh_wire_write_string (out, page->server_id, -1);
  g_string_append_printf (out, ",\"epoch\":%" G_GINT64_FORMAT ",\"cursor\":", page->epoch);
  kh_wire_write_string (out, page->cursor, -1);
  g_string_append_printf (out, ",\"has_more\":%s,\"records\":[", page->has_more ? "true" : "false");
  g_string_append_len (out, records, (gssize) len);
  g_string_append (out, "],\"removed\":[");
  for (guint i = 0; i < page->removed->len; i++)
    {
      KhRemoved *r = page->removed->pdata[i];

      g_string_append (out, i > 0 ? ",{\"entity\":" : "{\"entity\":");
      kh_wire_write_string (out, r->entity, -1);
      g_string_append (out, ",\"id\":");
      kh_wire_write_string (out, r->id, -1);
      g_string_append_c (out, '}');
    }
  g_string_append_printf (out, "],\"reset\":%s}", page->reset ? "true" : "false");
  return out;
}

/* Checksums ----------------------------------------------------------------------------------- */

static guint64
fnv1a64_append (guint64     h,
                const char *text)
{
  for (const guchar *p = (const guchar *) text; *p != '\0'; p++)
    {
      h ^= *p;
      h *= FNV_PRIME;
    }
  return h;
}

guint64
kh_wire_fnv1a64 (const char *text)
{
  return fnv1a64_append (FNV_OFFSET, text);
}

guint64
kh_wire_record_checksum (const char *id,
                         gint64      version)
{
  char buf[32];

  g_snprintf (buf, sizeof buf, ":%" G_GINT64_FORMAT, version);
  return fnv1a64_append (fnv1a64_append (FNV_OFFSET, id), buf);
}
