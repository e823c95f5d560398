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
  g_string_append_printf (out, "],\"reset\":%s", page->reset ? "true" : "false");
  if (page->scope_unit_id != NULL)
    {
      g_string_append (out, ",\"scope_unit_id\":");
      kh_wire_write_string (out, page->scope_unit_id, -1);
    }
  g_string_append_c (out, '}');
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

static void
write_int64 (GString *out,
             gint64   v)
{
  char buf[24];
  char *p = buf + sizeof buf;
  guint64 u = v < 0 ? (guint64) -(v + 1) + 1 : (guint64) v;

  do
    *--p = (char) ('0' + u % 10);
  while ((u /= 10) > 0);
  if (v < 0)
    *--p = '-';
  g_string_append_len (out, p, buf + sizeof buf - p);
}

void
kh_wire_write_canonical (GString        *out,
                         const KhEntity *entity,
                         const KhValue  *values)
{
  gboolean first = TRUE;

  g_string_append_c (out, '{');
  for (guint i = 0; i < entity->n_fields; i++)
    {
      const KhValue *v = &values[i];

      if (v->kind == KH_VALUE_ABSENT || v->kind == KH_VALUE_NULL
          || (v->kind == KH_VALUE_OTHER && v->json == NULL))
        continue;
      if (!first)
        g_string_append_c (out, ',');
      first = FALSE;
      kh_wire_write_string (out, entity->fields[i].name, -1);
      g_string_append_c (out, ':');
      switch (v->kind)
        {
        case KH_VALUE_TEXT:
          kh_wire_write_string (out, v->text, v->len);
          break;
        case KH_VALUE_INT:
          write_int64 (out, v->number);
          break;
        case KH_VALUE_BOOL:
          g_string_append (out, v->number ? "true" : "false");
          break;
        case KH_VALUE_ABSENT:
        case KH_VALUE_NULL:
        case KH_VALUE_OTHER:
        default:
          kh_wire_write_json (out, v->json);
          break;
        }
    }
  g_string_append_c (out, '}');
}

static inline guint64
fnv1a64_bytes (guint64     h,
               const char *bytes,
               gsize       len)
{
  for (const guchar *p = (const guchar *) bytes, *end = p + len; p < end; p++)
    {
      h ^= *p;
      h *= FNV_PRIME;
    }
  return h;
}

/* FNV-1a-64 of "<id>:<version>:<0|1>:" followed by @len bytes of @canonical. */
static guint64
hash_record (const char *id,
             gint64      version,
             gboolean    deleted,
             const char *canonical,
             gsize       len)
{
  char buf[32];
  char *p = buf + sizeof buf;
  guint64 u = version < 0 ? (guint64) -(version + 1) + 1 : (guint64) version;
  guint64 h = fnv1a64_append (FNV_OFFSET, id);

  /* ":<version>:<deleted>:", written backwards from the end of the buffer. */
  *--p = ':';
  *--p = deleted ? '1' : '0';
  *--p = ':';
  do
    *--p = (char) ('0' + u % 10);
  while ((u /= 10) > 0);
  if (version < 0)
    *--p = '-';
  *--p = ':';
  h = fnv1a64_bytes (h, p, (gsize) (buf + sizeof buf - p));
  return fnv1a64_bytes (h, canonical, len);
}

/* FNV-1a-64 of @s (@len bytes) as kh_wire_write_string() writes it, quotes included, without
 * writing it: the replica's columns are hashed straight from SQLite's buffers. */
static guint64
fnv1a64_string (guint64     h,
                const char *s,
                gsize       len)
{
  static const char hex[] = "0123456789abcdef";

  h = (h ^ '"') * FNV_PRIME;
  for (const guchar *p = (const guchar *) s, *end = p + len; p < end; p++)
    {
      guchar c = *p;
      char esc[6];
      int n = 2;

      if (c >= 0x20 && c != '"' && c != '\\')
        {
          h = (h ^ c) * FNV_PRIME;
          continue;
        }
      esc[0] = '\\';
      switch (c)
        {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
          esc[1] = 'u';
          esc[2] = '0';
          esc[3] = '0';
          esc[4] = hex[c >> 4];
          esc[5] = hex[c & 0xf];
          n = 6;
          break;
        }
      h = fnv1a64_bytes (h, esc, (gsize) n);
    }
  return (h ^ '"') * FNV_PRIME;
}

/* The checksum of kh_wire_write_canonical()'s text, hashed as it would be written; only JSON
 * values (rare) are written out first. tests/sync/test-wire-write.c holds the two together. */
guint64
kh_wire_record_checksum (GString        *scratch,
                         const KhEntity *entity,
                         const char     *id,
                         gint64          version,
                         gboolean        deleted,
                         const KhValue  *values)
{
  guint64 h = hash_record (id, version, deleted, "{", 1);
  gboolean first = TRUE;

  for (guint i = 0; i < entity->n_fields; i++)
    {
      const KhValue *v = &values[i];
      const char *name = entity->fields[i].name;

      if (v->kind == KH_VALUE_ABSENT || v->kind == KH_VALUE_NULL
          || (v->kind == KH_VALUE_OTHER && v->json == NULL))
        continue;
      if (!first)
        h = (h ^ ',') * FNV_PRIME;
      first = FALSE;
      h = fnv1a64_string (h, name, strlen (name));
      h = (h ^ ':') * FNV_PRIME;
      switch (v->kind)
        {
        case KH_VALUE_TEXT:
          h = fnv1a64_string (h, v->text, (gsize) v->len);
          break;
        case KH_VALUE_BOOL:
          h = v->number ? fnv1a64_bytes (h, "true", 4) : fnv1a64_bytes (h, "false", 5);
          break;
        case KH_VALUE_INT:
          g_string_truncate (scratch, 0);
          write_int64 (scratch, v->number);
          h = fnv1a64_bytes (h, scratch->str, scratch->len);
          break;
        case KH_VALUE_ABSENT:
        case KH_VALUE_NULL:
        case KH_VALUE_OTHER:
        default:
          g_string_truncate (scratch, 0);
          kh_wire_write_json (scratch, v->json);
          h = fnv1a64_bytes (h, scratch->str, scratch->len);
          break;
        }
    }
  return (h ^ '}') * FNV_PRIME;
}

/* Which field of @entity is called @name (@len bytes), looked for from @hint on: stored
 * fields mostly come in registry order, so the next one is nearly always the one after. */
static int
field_index (const KhEntity *entity,
             const char     *name,
             gsize           len,
             guint          *hint)
{
  for (guint k = 0; k < entity->n_fields; k++)
    {
      guint i = (*hint + k) % entity->n_fields;
      const char *f = entity->fields[i].name;

      if (strncmp (f, name, len) == 0 && f[len] == '\0')
        {
          *hint = i + 1;
          return (int) i;
        }
    }
  return -1;
}

/* A string at *@p with no escape: its bytes between the quotes. FALSE for anything else. */
static gboolean
plain_string (const char **p,
              const char **start,
              gsize       *len)
{
  const char *q = *p;

  if (*q != '"')
    return FALSE;
  *start = ++q;
  while (*q != '"')
    {
      if (*q == '\\' || *q == '\0' || (guchar) *q < 0x20)
        return FALSE;
      q++;
    }
  *len = (gsize) (q - *start);
  *p = q + 1;
  return TRUE;
}

/* The flat form the server writes (see kh-server-records.c), read in place. */
static gboolean
flat_values (const KhEntity *entity,
             const char     *text,
             KhValue        *values,
             gboolean       *canonical)
{
  const char *p = text;
  guint hint = 0;
  int last = -1;

  /* Canonical as long as every member is a known field, after the one before it in the
   * registry, with a value, and every number is written as write_int64() writes it. */
  *canonical = TRUE;
  if (*p++ != '{')
    return FALSE;
  if (*p == '}')
    return p[1] == '\0';
  for (;;)
    {
      const char *key;
      gsize key_len;
      KhValue v = { 0 };
      int i;

      if (!plain_string (&p, &key, &key_len) || *p++ != ':')
        return FALSE;
      if (*p == '"')
        {
          gsize len;

          v.kind = KH_VALUE_TEXT;
          if (!plain_string (&p, &v.text, &len) || len > G_MAXINT)
            return FALSE;
          v.len = (int) len;
        }
      else if (*p == '-' || g_ascii_isdigit (*p))
        {
          const char *digits = *p == '-' ? p + 1 : p;
          const char *end = digits;
          gint64 n = 0;

          while (g_ascii_isdigit (*end))
            n = n * 10 + (*end++ - '0');
          /* At most 18 digits cannot overflow; a leading zero is not JSON unless alone. */
          if (end == digits || end - digits > 18 || (*digits == '0' && end - digits > 1)
              || *end == '.' || *end == 'e' || *end == 'E')
            return FALSE;
          v.kind = KH_VALUE_INT;
          v.number = *p == '-' ? -n : n;
          if (*p == '-' && n == 0)
            *canonical = FALSE;
          p = end;
        }
      else if (strncmp (p, "true", 4) == 0 || strncmp (p, "false", 5) == 0)
        {
          v.kind = KH_VALUE_BOOL;
          v.number = *p == 't';
          p += *p == 't' ? 4 : 5;
        }
      else if (strncmp (p, "null", 4) == 0)
        {
          v.kind = KH_VALUE_NULL;
          *canonical = FALSE;
          p += 4;
        }
      else
        return FALSE;
      i = field_index (entity, key, key_len, &hint);
      if (i >= 0)
        values[i] = v;
      if (i <= last)
        *canonical = FALSE;
      last = MAX (last, i);
      if (*p == ',')
        p++;
      else if (*p == '}' && p[1] == '\0')
        return TRUE;
      else
        return FALSE;
    }
}

void
kh_wire_json_values (const KhEntity *entity,
                     json_object    *fields,
                     KhValue        *values)
{
  memset (values, 0, entity->n_fields * sizeof *values);
  if (fields == NULL || !json_object_is_type (fields, json_type_object))
    return;
  for (guint i = 0; i < entity->n_fields; i++)
    {
      json_object *o = NULL;
      KhValue *v = &values[i];

      if (!json_object_object_get_ex (fields, entity->fields[i].name, &o))
        continue;
      switch (json_object_get_type (o))
        {
        case json_type_null:
          v->kind = KH_VALUE_NULL;
          break;
        case json_type_string:
          v->kind = KH_VALUE_TEXT;
          v->text = json_object_get_string (o);
          v->len = json_object_get_string_len (o);
          break;
        case json_type_boolean:
          v->kind = KH_VALUE_BOOL;
          v->number = json_object_get_boolean (o);
          break;
        case json_type_int:
          /* INT64_MAX may stand for a larger unsigned value: written by json-c then. */
          if (json_object_get_int64 (o) != G_MAXINT64)
            {
              v->kind = KH_VALUE_INT;
              v->number = json_object_get_int64 (o);
              break;
            }
          G_GNUC_FALLTHROUGH;
        case json_type_double:
        case json_type_object:
        case json_type_array:
        default:
          v->kind = KH_VALUE_OTHER;
          v->json = o;
          break;
        }
    }
}

gboolean
kh_wire_fields_values (const KhEntity *entity,
                       const char     *fields,
                       KhValue        *values,
                       json_object   **tree,
                       gboolean       *canonical)
{
  gboolean flat_canonical = FALSE;

  *tree = NULL;
  if (canonical != NULL)
    *canonical = FALSE;
  memset (values, 0, entity->n_fields * sizeof *values);
  if (fields == NULL)
    return TRUE;
  if (flat_values (entity, fields, values, &flat_canonical))
    {
      if (canonical != NULL)
        *canonical = flat_canonical;
      return TRUE;
    }
  *tree = json_tokener_parse (fields);
  if (*tree == NULL || !json_object_is_type (*tree, json_type_object))
    {
      g_clear_pointer (tree, json_object_put);
      memset (values, 0, entity->n_fields * sizeof *values);
      return FALSE;
    }
  kh_wire_json_values (entity, *tree, values);
  return TRUE;
}

guint64
kh_wire_record_checksum_json (const char  *entity_name,
                              const char  *id,
                              gint64       version,
                              gboolean     deleted,
                              json_object *fields)
{
  const KhEntity *entity = kh_entity_lookup (entity_name);
  g_autoptr(GString) scratch = NULL;
  g_autofree KhValue *values = NULL;

  if (entity == NULL)
    return 0;
  scratch = g_string_new (NULL);
  values = g_new0 (KhValue, MAX (entity->n_fields, 1));
  kh_wire_json_values (entity, fields, values);
  return kh_wire_record_checksum (scratch, entity, id, version, deleted, values);
}

guint64
kh_wire_stored_checksum (GString        *scratch,
                         KhValue        *values,
                         const KhEntity *entity,
                         const char     *id,
                         gint64          version,
                         gboolean        deleted,
                         const char     *fields)
{
  g_autoptr(json_object) tree = NULL;
  gboolean canonical = FALSE;

  /* Text that is not a JSON object counts as no fields: the replica cannot hold anything
   * else, and the check then finds the record different. */
  kh_wire_fields_values (entity, fields, values, &tree, &canonical);
  if (canonical)
    return hash_record (id, version, deleted, fields, strlen (fields));
  return kh_wire_record_checksum (scratch, entity, id, version, deleted, values);
}
