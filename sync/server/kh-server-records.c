/* kh-server-records.c: records as the server stores them, read back
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-server-core-private.h"

void
_kh_server_stored_free (KhServerStored *s)
{
  if (s == NULL)
    return;
  g_free (s->scope_unit);
  json_object_put (s->data);
  json_object_put (s->fv);
  g_free (s->updated_by);
  g_free (s->updated_at);
  g_free (s->created_at);
  g_free (s);
}

KhServerStored *
_kh_server_stored_copy (const KhServerStored *s)
{
  KhServerStored *c = g_new0 (KhServerStored, 1);

  /* The JSON is shared: a KhServerStored's objects are never changed once made. */
  c->version = s->version;
  c->deleted = s->deleted;
  c->scope_unit = g_strdup (s->scope_unit);
  c->data = json_object_get (s->data);
  c->fv = json_object_get (s->fv);
  c->updated_by = g_strdup (s->updated_by);
  c->updated_at = g_strdup (s->updated_at);
  c->created_at = g_strdup (s->created_at);
  return c;
}

/* Reads a string at *@p that holds no escape; FALSE (and nothing read) otherwise. */
static gboolean
read_plain_string (const char **p,
                   const char **start,
                   gsize       *len)
{
  const char *q = *p + 1;

  if (**p != '"')
    return FALSE;
  *start = q;
  while (*q != '"')
    {
      if (*q == '\\' || *q == '\0')
        return FALSE;
      q++;
    }
  *len = (gsize) (q - *start);
  *p = q + 1;
  return TRUE;
}

/* The JSON the server stores is written by kh_wire_write_json: a flat object of plain strings,
 * integers, booleans and nulls, with no spaces, nearly always. This reads that form quickly
 * (json-c's tokener was a sixth of a push of edits) and returns NULL for anything else —
 * an escape, a nested value, a fraction, a long number, a space — which json-c then reads. */
static json_object *
parse_flat_object (const char *text)
{
  g_autoptr(json_object) o = json_object_new_object ();
  const char *p = text;

  if (*p++ != '{')
    return NULL;
  if (*p == '}')
    return p[1] == '\0' ? g_steal_pointer (&o) : NULL;
  while (TRUE)
    {
      const char *key, *str;
      gsize key_len, str_len;
      g_autofree char *name = NULL;
      json_object *value;

      if (!read_plain_string (&p, &key, &key_len) || *p++ != ':')
        return NULL;
      if (*p == '"')
        {
          if (!read_plain_string (&p, &str, &str_len))
            return NULL;
          value = json_object_new_string_len (str, (int) str_len);
        }
      else if (*p == '-' || g_ascii_isdigit (*p))
        {
          const char *digits = *p == '-' ? p + 1 : p;
          const char *end = digits;
          gint64 v = 0;

          while (g_ascii_isdigit (*end))
            v = v * 10 + (*end++ - '0');
          /* At most 18 digits cannot overflow; a leading zero is not JSON unless alone. */
          if (end == digits || end - digits > 18 || (*digits == '0' && end - digits > 1))
            return NULL;
          value = json_object_new_int64 (*p == '-' ? -v : v);
          p = end;
        }
      else if (strncmp (p, "true", 4) == 0 || strncmp (p, "false", 5) == 0)
        {
          value = json_object_new_boolean (*p == 't');
          p += *p == 't' ? 4 : 5;
        }
      else if (strncmp (p, "null", 4) == 0)
        {
          value = NULL;
          p += 4;
        }
      else
        return NULL;
      name = g_strndup (key, key_len);
      json_object_object_add (o, name, value);
      if (*p == ',')
        p++;
      else if (*p == '}' && p[1] == '\0')
        return g_steal_pointer (&o);
      else
        return NULL;
    }
}

static json_object *
parse_object (const char *text)
{
  json_object *o = text != NULL ? parse_flat_object (text) : NULL;

  if (o != NULL)
    return o;
  o = text != NULL ? json_tokener_parse (text) : NULL;

  if (o == NULL || !json_object_is_type (o, json_type_object))
    {
      json_object_put (o);
      return json_object_new_object ();
    }
  return o;
}

gboolean
_kh_server_stored_row_cb (const char * const *v,
                          int                 n,
                          gpointer            data)
{
  KhServerStored **out = data;
  KhServerStored *s = g_new0 (KhServerStored, 1);

  s->version = g_ascii_strtoll (v[0], NULL, 10);
  s->deleted = g_ascii_strtoll (v[1], NULL, 10) != 0;
  s->scope_unit = g_strdup (v[2]);
  s->data = parse_object (v[3]);
  s->fv = parse_object (v[4]);
  s->updated_by = g_strdup (v[5]);
  s->updated_at = g_strdup (v[6]);
  s->created_at = g_strdup (v[7]);
  *out = s;
  return FALSE;
}

gboolean
_kh_server_load_stored (KhServerBackend *b,
                        const char      *entity,
                        const char      *id,
                        KhServerStored **out,
                        GError         **error)
{
  KhSqlParam p[2] = { KH_SQL_P_TEXT (entity), KH_SQL_P_TEXT (id) };

  *out = NULL;
  return kh_server_backend_exec (b, "SELECT version, deleted, scope_unit, data, field_versions, "
                                 "updated_by, updated_at, created_at FROM records WHERE entity = ? AND id = ?",
                                 p, 2, _kh_server_stored_row_cb, out, NULL, error);
}

KhRecord *
_kh_server_stored_to_record (const char           *entity,
                             const char           *id,
                             const KhServerStored *s)
{
  KhRecord *r = kh_record_new ();

  r->entity = g_strdup (entity);
  r->id = g_strdup (id);
  r->version = s->version;
  r->deleted = s->deleted;
  r->fields = json_object_get (s->data);
  r->updated_by = g_strdup (s->updated_by);
  r->updated_at = g_strdup (s->updated_at);
  return r;
}

json_object *
kh_server_get_record (KhServer    *self,
                      const char  *entity,
                      const char  *id,
                      gint64      *version,
                      GError     **error)
{
  g_autoptr(KhServerLease) l = _kh_server_lease_new (self);
  g_autoptr(KhServerStored) s = NULL;

  if (!_kh_server_load_stored (l->b, entity, id, &s, error))
    return NULL;
  if (s == NULL)
    {
      *version = 0;
      return NULL;
    }
  *version = s->version;
  return json_object_get (s->data);
}
