/* kh-codec.c: the sync protocol's messages (see PROTOCOL.md)
 *
 * This file holds the error codes, the strict member readers the other files of the codec share
 * (kh-codec-private.h), parsing, error bodies, records, login and health. The push messages are
 * in kh-codec-push.c; the change feed and integrity in kh-codec-changes.c.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-codec-private.h"
#include "kh-uuid.h"

G_DEFINE_QUARK (kh-sync-error-quark, kh_sync_error)

static const struct
{
  const char *code;
  int         status;
} error_codes[] = {
  [KH_SYNC_ERROR_BAD_JSON] = { "bad_json", 400 },
  [KH_SYNC_ERROR_TOO_DEEP] = { "too_deep", 400 },
  [KH_SYNC_ERROR_WRONG_TYPE] = { "wrong_type", 400 },
  [KH_SYNC_ERROR_INVALID] = { "invalid", 400 },
  [KH_SYNC_ERROR_UNAUTHORIZED] = { "unauthorized", 401 },
  [KH_SYNC_ERROR_FORBIDDEN] = { "forbidden", 403 },
  [KH_SYNC_ERROR_OUT_OF_SCOPE] = { "out_of_scope", 403 },
  [KH_SYNC_ERROR_NOT_FOUND] = { "not_found", 404 },
  [KH_SYNC_ERROR_TIMEOUT] = { "timeout", 408 },
  [KH_SYNC_ERROR_EPOCH_CHANGED] = { "epoch_changed", 409 },
  [KH_SYNC_ERROR_TOO_LARGE] = { "too_large", 413 },
  [KH_SYNC_ERROR_TOO_MANY_MUTATIONS] = { "too_many_mutations", 413 },
  [KH_SYNC_ERROR_RATE_LIMITED] = { "rate_limited", 429 },
  [KH_SYNC_ERROR_INTERNAL] = { "internal", 500 },
  [KH_SYNC_ERROR_BUSY] = { "busy", 503 },
  [KH_SYNC_ERROR_OVERDRAWN] = { "overdrawn", 409 },
  [KH_SYNC_ERROR_ALREADY_REGISTERED] = { "already_registered", 409 },
  [KH_SYNC_ERROR_LOCKED] = { "locked", 409 },
};

const char *
kh_sync_error_to_code (KhSyncError error)
{
  if ((guint) error >= G_N_ELEMENTS (error_codes))
    return "internal";
  return error_codes[error].code;
}

gboolean
kh_sync_error_from_code (const char  *code,
                         KhSyncError *error)
{
  for (guint i = 0; code != NULL && i < G_N_ELEMENTS (error_codes); i++)
    if (strcmp (error_codes[i].code, code) == 0)
      {
        *error = (KhSyncError) i;
        return TRUE;
      }
  return FALSE;
}

int
kh_sync_error_http_status (KhSyncError error)
{
  if ((guint) error >= G_N_ELEMENTS (error_codes))
    return 500;
  return error_codes[error].status;
}

/* Helpers for strict decoding ------------------------------------------------------------------ */

gboolean
kh_codec_wrong_type (GError    **error,
                     const char *where,
                     const char *name,
                     const char *expected)
{
  g_set_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_WRONG_TYPE,
               _("“%s%s%s” must be %s."), where ? where : "", where ? "." : "", name, expected);
  return FALSE;
}

/* A member of @obj: NULL with an error when it is missing (and @required) or of another type.
 * A JSON null counts as missing. */
json_object *
kh_codec_member (json_object  *obj,
                 const char   *where,
                 const char   *name,
                 json_type     type,
                 gboolean      required,
                 gboolean     *present,
                 GError      **error)
{
  json_object *v = NULL;
  static const char *type_names[] = {
    [json_type_null] = N_("null"), [json_type_boolean] = N_("true or false"),
    [json_type_double] = N_("a number"), [json_type_int] = N_("an integer"),
    [json_type_object] = N_("an object"), [json_type_array] = N_("an array"),
    [json_type_string] = N_("text"),
  };

  /* *present says whether the member is there (even with the wrong type); a NULL return
   * with *present or @required set is a failure. */
  *present = FALSE;
  if (!json_object_object_get_ex (obj, name, &v) || v == NULL)
    {
      if (required)
        kh_codec_wrong_type (error, where, name, _(type_names[type]));
      return NULL;
    }
  *present = TRUE;
  if (!json_object_is_type (v, type))
    {
      kh_codec_wrong_type (error, where, name, _(type_names[type]));
      return NULL;
    }
  return v;
}

gboolean
kh_codec_get_string (json_object  *obj,
                     const char   *where,
                     const char   *name,
                     gboolean      required,
                     gsize         max_len,
                     char        **out,
                     GError      **error)
{
  gboolean present;
  json_object *v = kh_codec_member (obj, where, name, json_type_string, required, &present, error);
  const char *s;
  gsize len;

  *out = NULL;
  if (v == NULL)
    return !required && !present;
  s = json_object_get_string (v);
  len = json_object_get_string_len (v);
  if (len > max_len || memchr (s, '\0', len) != NULL || !g_utf8_validate (s, len, NULL))
    {
      g_set_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_INVALID,
                   _("“%s%s%s” is too long or not valid text."), where ? where : "",
                   where ? "." : "", name);
      return FALSE;
    }
  *out = g_strndup (s, len);
  return TRUE;
}

gboolean
kh_codec_get_uuid (json_object  *obj,
                   const char   *where,
                   const char   *name,
                   gboolean      required,
                   char        **out,
                   GError      **error)
{
  if (!kh_codec_get_string (obj, where, name, required, 36, out, error))
    return FALSE;
  if (*out != NULL && !kh_uuid_is_valid (*out))
    {
      g_clear_pointer (out, g_free);
      g_set_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_INVALID,
                   _("“%s%s%s” must be a UUID in lower case."), where ? where : "",
                   where ? "." : "", name);
      return FALSE;
    }
  return TRUE;
}

gboolean
kh_codec_get_name (json_object  *obj,
                   const char   *where,
                   const char   *name,
                   char        **out,
                   GError      **error)
{
  if (!kh_codec_get_string (obj, where, name, TRUE, KH_CODEC_MAX_NAME, out, error))
    return FALSE;
  for (const char *p = *out; *p; p++)
    if (!(g_ascii_islower (*p) || g_ascii_isdigit (*p) || *p == '_'))
      {
        g_clear_pointer (out, g_free);
        g_set_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_INVALID,
                     _("“%s%s%s” is not a name."), where ? where : "", where ? "." : "", name);
        return FALSE;
      }
  return TRUE;
}

gboolean
kh_codec_get_int (json_object  *obj,
                  const char   *where,
                  const char   *name,
                  gboolean      required,
                  gint64        min,
                  gint64       *out,
                  GError      **error)
{
  gboolean present;
  json_object *v = kh_codec_member (obj, where, name, json_type_int, required, &present, error);

  if (v == NULL)
    return !required && !present;
  *out = json_object_get_int64 (v);
  if (*out < min || *out == G_MAXINT64)
    {
      g_set_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_INVALID,
                   _("“%s%s%s” is out of range."), where ? where : "", where ? "." : "", name);
      return FALSE;
    }
  return TRUE;
}

gboolean
kh_codec_get_bool (json_object  *obj,
                   const char   *where,
                   const char   *name,
                   gboolean      required,
                   gboolean     *out,
                   GError      **error)
{
  gboolean present;
  json_object *v = kh_codec_member (obj, where, name, json_type_boolean, required, &present, error);

  if (v == NULL)
    return !required && !present;
  *out = json_object_get_boolean (v);
  return TRUE;
}

/* A "fields" object: names, and values of the JSON types a registry field can have (text,
 * integer, boolean, object for JSON fields; null only when @allow_null). */
gboolean
kh_codec_check_fields (json_object  *fields,
                       const char   *where,
                       gboolean      allow_null,
                       GError      **error)
{
  json_object_object_foreach (fields, key, val)
    {
      gsize len = strlen (key);

      if (len == 0 || len > KH_CODEC_MAX_NAME)
        {
          g_set_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_INVALID,
                       _("“%s.fields” has a field name that is empty or too long."), where);
          return FALSE;
        }
      if (val == NULL)
        {
          if (!allow_null)
            return kh_codec_wrong_type (error, where, key, _("a value, not null"));
          continue;
        }
      switch (json_object_get_type (val))
        {
        case json_type_string:
          if (json_object_get_string_len (val) > KH_CODEC_MAX_TEXT)
            {
              g_set_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_INVALID,
                           _("“%s.%s” is too long."), where, key);
              return FALSE;
            }
          break;
        case json_type_int:
        case json_type_boolean:
        case json_type_object:
          break;
        case json_type_null:
        case json_type_double:
        case json_type_array:
        default:
          return kh_codec_wrong_type (error, where, key,
                                      _("text, an integer, true or false, or an object"));
        }
    }
  return TRUE;
}

/* Parsing -------------------------------------------------------------------------------------- */

json_object *
kh_codec_parse (const char  *data,
                gsize        len,
                int          max_depth,
                GError     **error)
{
  json_tokener *tok;
  json_object *obj;
  enum json_tokener_error jerr;
  gsize end;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  if (len == 0)
    {
      g_set_error_literal (error, KH_SYNC_ERROR, KH_SYNC_ERROR_BAD_JSON,
                           _("The request has no body; a JSON object was expected."));
      return NULL;
    }
  if (len > G_MAXINT)
    {
      g_set_error_literal (error, KH_SYNC_ERROR, KH_SYNC_ERROR_TOO_LARGE,
                           _("The body is too large."));
      return NULL;
    }
  if (!g_utf8_validate (data, (gssize) len, NULL))
    {
      g_set_error_literal (error, KH_SYNC_ERROR, KH_SYNC_ERROR_BAD_JSON,
                           _("The body is not valid UTF-8."));
      return NULL;
    }

  tok = json_tokener_new_ex (max_depth > 0 ? max_depth : KH_CODEC_MAX_DEPTH);
  json_tokener_set_flags (tok, JSON_TOKENER_STRICT);
  obj = json_tokener_parse_ex (tok, data, (int) len);
  jerr = json_tokener_get_error (tok);
  end = json_tokener_get_parse_end (tok);
  json_tokener_free (tok);

  if (jerr == json_tokener_error_depth)
    {
      json_object_put (obj);
      g_set_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_TOO_DEEP,
                   _("The JSON is nested more than %d levels deep."),
                   max_depth > 0 ? max_depth : KH_CODEC_MAX_DEPTH);
      return NULL;
    }
  if (jerr == json_tokener_continue || (jerr == json_tokener_success && obj == NULL))
    {
      json_object_put (obj);
      g_set_error_literal (error, KH_SYNC_ERROR, KH_SYNC_ERROR_BAD_JSON,
                           _("The JSON ends too early: the body was cut off."));
      return NULL;
    }
  if (jerr != json_tokener_success)
    {
      json_object_put (obj);
      g_set_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_BAD_JSON,
                   _("The body is not valid JSON (%s at byte %zu)."),
                   json_tokener_error_desc (jerr), (size_t) end);
      return NULL;
    }
  /* Only white space may follow the object. */
  for (gsize i = end; i < len; i++)
    if (!g_ascii_isspace (data[i]))
      {
        json_object_put (obj);
        g_set_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_BAD_JSON,
                     _("The body has text after the JSON object, at byte %zu."), (size_t) i);
        return NULL;
      }
  if (!json_object_is_type (obj, json_type_object))
    {
      json_object_put (obj);
      g_set_error_literal (error, KH_SYNC_ERROR, KH_SYNC_ERROR_WRONG_TYPE,
                           _("The body must be a JSON object."));
      return NULL;
    }
  return obj;
}

const char *
kh_codec_to_string (json_object *obj,
                    gsize       *len)
{
  size_t n = 0;
  const char *s = json_object_to_json_string_length (obj, JSON_C_TO_STRING_PLAIN
                                                     | JSON_C_TO_STRING_NOSLASHESCAPE, &n);

  if (len != NULL)
    *len = n;
  return s;
}

/* Errors --------------------------------------------------------------------------------------- */

json_object *
kh_codec_error_to_json (KhSyncError  code,
                        const char  *message)
{
  json_object *inner = json_object_new_object ();
  json_object *obj = json_object_new_object ();

  json_object_object_add (inner, "code", json_object_new_string (kh_sync_error_to_code (code)));
  json_object_object_add (inner, "message", json_object_new_string (message ? message : ""));
  json_object_object_add (obj, "error", inner);
  return obj;
}

gboolean
kh_codec_error_from_json (json_object  *body,
                          KhSyncError  *code,
                          char        **code_text,
                          char        **message)
{
  json_object *inner = NULL;
  g_autofree char *c = NULL;
  g_autofree char *m = NULL;

  if (body == NULL || !json_object_object_get_ex (body, "error", &inner)
      || !json_object_is_type (inner, json_type_object)
      || !kh_codec_get_string (inner, "error", "code", TRUE, KH_CODEC_MAX_NAME, &c, NULL))
    return FALSE;
  kh_codec_get_string (inner, "error", "message", FALSE, KH_CODEC_MAX_TEXT, &m, NULL);
  if (code != NULL && !kh_sync_error_from_code (c, code))
    *code = KH_SYNC_ERROR_INTERNAL;
  if (code_text != NULL)
    *code_text = g_steal_pointer (&c);
  if (message != NULL)
    *message = g_steal_pointer (&m);
  return TRUE;
}

/* Records -------------------------------------------------------------------------------------- */

KhRecord *
kh_record_new (void)
{
  return g_new0 (KhRecord, 1);
}

void
kh_record_free (KhRecord *record)
{
  if (record == NULL)
    return;
  g_free (record->entity);
  g_free (record->id);
  json_object_put (record->fields);
  g_free (record->updated_by);
  g_free (record->updated_at);
  g_free (record);
}

json_object *
kh_record_to_json (const KhRecord *record)
{
  json_object *obj = json_object_new_object ();

  json_object_object_add (obj, "entity", json_object_new_string (record->entity));
  json_object_object_add (obj, "id", json_object_new_string (record->id));
  json_object_object_add (obj, "version", json_object_new_int64 (record->version));
  json_object_object_add (obj, "deleted", json_object_new_boolean (record->deleted));
  json_object_object_add (obj, "fields", record->fields != NULL ? json_object_get (record->fields)
                                                                 : json_object_new_object ());
  if (record->updated_by != NULL)
    json_object_object_add (obj, "updated_by", json_object_new_string (record->updated_by));
  if (record->updated_at != NULL)
    json_object_object_add (obj, "updated_at", json_object_new_string (record->updated_at));
  return obj;
}

KhRecord *
kh_record_from_json (json_object  *obj,
                     GError      **error)
{
  g_autoptr(KhRecord) r = kh_record_new ();
  gboolean present;
  json_object *fields;

  if (obj == NULL || !json_object_is_type (obj, json_type_object))
    {
      kh_codec_wrong_type (error, NULL, "record", _("an object"));
      return NULL;
    }
  if (!kh_codec_get_name (obj, "record", "entity", &r->entity, error)
      || !kh_codec_get_uuid (obj, "record", "id", TRUE, &r->id, error)
      || !kh_codec_get_int (obj, "record", "version", TRUE, 0, &r->version, error)
      || !kh_codec_get_bool (obj, "record", "deleted", TRUE, &r->deleted, error)
      || !kh_codec_get_string (obj, "record", "updated_by", FALSE, KH_CODEC_MAX_TEXT,
                               &r->updated_by, error)
      || !kh_codec_get_string (obj, "record", "updated_at", FALSE, KH_CODEC_MAX_TIME,
                               &r->updated_at, error))
    return NULL;
  fields = kh_codec_member (obj, "record", "fields", json_type_object, TRUE, &present, error);
  if (fields == NULL || !kh_codec_check_fields (fields, "record", FALSE, error))
    return NULL;
  r->fields = json_object_get (fields);
  return g_steal_pointer (&r);
}

/* Login and health ----------------------------------------------------------------------------- */

KhLoginRequest *
kh_login_request_new (void)
{
  return g_new0 (KhLoginRequest, 1);
}

void
kh_login_request_free (KhLoginRequest *request)
{
  if (request == NULL)
    return;
  g_free (request->username);
  if (request->password != NULL)
    {
      memset (request->password, 0, strlen (request->password));
      g_free (request->password);
    }
  g_free (request);
}

json_object *
kh_login_request_to_json (const KhLoginRequest *request)
{
  json_object *obj = json_object_new_object ();

  json_object_object_add (obj, "username", json_object_new_string (request->username));
  json_object_object_add (obj, "password", json_object_new_string (request->password));
  return obj;
}

KhLoginRequest *
kh_login_request_from_json (json_object  *obj,
                            GError      **error)
{
  g_autoptr(KhLoginRequest) r = kh_login_request_new ();

  if (!kh_codec_get_string (obj, NULL, "username", TRUE, 128, &r->username, error)
      || !kh_codec_get_string (obj, NULL, "password", TRUE, 1024, &r->password, error))
    return NULL;
  return g_steal_pointer (&r);
}

KhLoginResponse *
kh_login_response_new (void)
{
  return g_new0 (KhLoginResponse, 1);
}

void
kh_login_response_free (KhLoginResponse *r)
{
  if (r == NULL)
    return;
  g_free (r->token);
  g_free (r->username);
  g_free (r->role);
  g_free (r->scope);
  g_free (r->scope_unit_id);
  g_free (r->server_id);
  g_free (r->permissions);
  g_free (r);
}

json_object *
kh_login_response_to_json (const KhLoginResponse *r)
{
  json_object *obj = json_object_new_object ();
  json_object *user = json_object_new_object ();

  json_object_object_add (obj, "token", json_object_new_string (r->token));
  json_object_object_add (user, "username", json_object_new_string (r->username));
  json_object_object_add (user, "role", json_object_new_string (r->role));
  json_object_object_add (user, "scope", json_object_new_string (r->scope ? r->scope : ""));
  json_object_object_add (user, "scope_unit_id", json_object_new_string (r->scope_unit_id));
  if (r->permissions != NULL)
    json_object_object_add (user, "permissions", json_object_new_string (r->permissions));
  json_object_object_add (obj, "user", user);
  json_object_object_add (obj, "server_id", json_object_new_string (r->server_id));
  json_object_object_add (obj, "epoch", json_object_new_int64 (r->epoch));
  return obj;
}

KhLoginResponse *
kh_login_response_from_json (json_object  *obj,
                             GError      **error)
{
  g_autoptr(KhLoginResponse) r = kh_login_response_new ();
  gboolean present;
  json_object *user;

  if (!kh_codec_get_string (obj, NULL, "token", TRUE, 256, &r->token, error)
      || !kh_codec_get_uuid (obj, NULL, "server_id", TRUE, &r->server_id, error)
      || !kh_codec_get_int (obj, NULL, "epoch", TRUE, 0, &r->epoch, error))
    return NULL;
  user = kh_codec_member (obj, NULL, "user", json_type_object, TRUE, &present, error);
  if (user == NULL
      || !kh_codec_get_string (user, "user", "username", TRUE, 128, &r->username, error)
      || !kh_codec_get_string (user, "user", "role", TRUE, 16, &r->role, error)
      || !kh_codec_get_string (user, "user", "scope", TRUE, 64, &r->scope, error)
      || !kh_codec_get_uuid (user, "user", "scope_unit_id", TRUE, &r->scope_unit_id, error)
      || !kh_codec_get_string (user, "user", "permissions", FALSE, 64, &r->permissions, error))
    return NULL;
  return g_steal_pointer (&r);
}

KhHealth *
kh_health_new (void)
{
  return g_new0 (KhHealth, 1);
}

void
kh_health_free (KhHealth *health)
{
  if (health == NULL)
    return;
  g_free (health->status);
  g_free (health->server_id);
  g_free (health);
}

json_object *
kh_health_to_json (const KhHealth *health)
{
  json_object *obj = json_object_new_object ();

  json_object_object_add (obj, "status", json_object_new_string (health->status ? health->status : "ok"));
  json_object_object_add (obj, "server_id", json_object_new_string (health->server_id));
  json_object_object_add (obj, "epoch", json_object_new_int64 (health->epoch));
  json_object_object_add (obj, "protocol", json_object_new_int (health->protocol));
  return obj;
}

KhHealth *
kh_health_from_json (json_object  *obj,
                     GError      **error)
{
  g_autoptr(KhHealth) h = kh_health_new ();
  gint64 protocol = 0;

  if (!kh_codec_get_string (obj, NULL, "status", TRUE, 64, &h->status, error)
      || !kh_codec_get_uuid (obj, NULL, "server_id", TRUE, &h->server_id, error)
      || !kh_codec_get_int (obj, NULL, "epoch", TRUE, 0, &h->epoch, error)
      || !kh_codec_get_int (obj, NULL, "protocol", TRUE, 0, &protocol, error))
    return NULL;
  h->protocol = (int) MIN (protocol, G_MAXINT);
  return g_steal_pointer (&h);
}
