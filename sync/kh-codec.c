/* kh-codec.c: the sync protocol's messages (see PROTOCOL.md)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-codec.h"
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

static gboolean
wrong_type (GError    **error,
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
static json_object *
member (json_object  *obj,
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
        wrong_type (error, where, name, _(type_names[type]));
      return NULL;
    }
  *present = TRUE;
  if (!json_object_is_type (v, type))
    {
      wrong_type (error, where, name, _(type_names[type]));
      return NULL;
    }
  return v;
}

static gboolean
get_string (json_object  *obj,
            const char   *where,
            const char   *name,
            gboolean      required,
            gsize         max_len,
            char        **out,
            GError      **error)
{
  gboolean present;
  json_object *v = member (obj, where, name, json_type_string, required, &present, error);
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

static gboolean
get_uuid (json_object  *obj,
          const char   *where,
          const char   *name,
          gboolean      required,
          char        **out,
          GError      **error)
{
  if (!get_string (obj, where, name, required, 36, out, error))
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

static gboolean
get_name (json_object  *obj,
          const char   *where,
          const char   *name,
          char        **out,
          GError      **error)
{
  if (!get_string (obj, where, name, TRUE, KH_CODEC_MAX_NAME, out, error))
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

static gboolean
get_int (json_object  *obj,
         const char   *where,
         const char   *name,
         gboolean      required,
         gint64        min,
         gint64       *out,
         GError      **error)
{
  gboolean present;
  json_object *v = member (obj, where, name, json_type_int, required, &present, error);

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

static gboolean
get_bool (json_object  *obj,
          const char   *where,
          const char   *name,
          gboolean      required,
          gboolean     *out,
          GError      **error)
{
  gboolean present;
  json_object *v = member (obj, where, name, json_type_boolean, required, &present, error);

  if (v == NULL)
    return !required && !present;
  *out = json_object_get_boolean (v);
  return TRUE;
}

/* A "fields" object: names, and values of the JSON types a registry field can have (text,
 * integer, boolean, object for JSON fields; null only when @allow_null). */
static gboolean
check_fields (json_object  *fields,
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
            return wrong_type (error, where, key, _("a value, not null"));
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
          return wrong_type (error, where, key, _("text, an integer, true or false, or an object"));
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
      || !get_string (inner, "error", "code", TRUE, KH_CODEC_MAX_NAME, &c, NULL))
    return FALSE;
  get_string (inner, "error", "message", FALSE, KH_CODEC_MAX_TEXT, &m, NULL);
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
      wrong_type (error, NULL, "record", _("an object"));
      return NULL;
    }
  if (!get_name (obj, "record", "entity", &r->entity, error)
      || !get_uuid (obj, "record", "id", TRUE, &r->id, error)
      || !get_int (obj, "record", "version", TRUE, 0, &r->version, error)
      || !get_bool (obj, "record", "deleted", TRUE, &r->deleted, error)
      || !get_string (obj, "record", "updated_by", FALSE, KH_CODEC_MAX_TEXT, &r->updated_by, error)
      || !get_string (obj, "record", "updated_at", FALSE, KH_CODEC_MAX_TIME, &r->updated_at, error))
    return NULL;
  fields = member (obj, "record", "fields", json_type_object, TRUE, &present, error);
  if (fields == NULL || !check_fields (fields, "record", FALSE, error))
    return NULL;
  r->fields = json_object_get (fields);
  return g_steal_pointer (&r);
}

/* Mutations ------------------------------------------------------------------------------------ */

static const char * const op_names[] = {
  [KH_OP_CREATE] = "create", [KH_OP_UPDATE] = "update",
  [KH_OP_DELETE] = "delete", [KH_OP_RESTORE] = "restore",
};

const char *
kh_op_to_string (KhOp op)
{
  g_return_val_if_fail ((guint) op < G_N_ELEMENTS (op_names), NULL);
  return op_names[op];
}

gboolean
kh_op_from_string (const char *text,
                   KhOp       *op)
{
  for (guint i = 0; text != NULL && i < G_N_ELEMENTS (op_names); i++)
    if (strcmp (op_names[i], text) == 0)
      {
        *op = (KhOp) i;
        return TRUE;
      }
  return FALSE;
}

KhMutation *
kh_mutation_new (void)
{
  return g_new0 (KhMutation, 1);
}

void
kh_mutation_free (KhMutation *mutation)
{
  if (mutation == NULL)
    return;
  g_free (mutation->mutation_id);
  g_free (mutation->entity);
  g_free (mutation->id);
  json_object_put (mutation->fields);
  g_free (mutation);
}

json_object *
kh_mutation_to_json (const KhMutation *m)
{
  json_object *obj = json_object_new_object ();

  json_object_object_add (obj, "mutation_id", json_object_new_string (m->mutation_id));
  json_object_object_add (obj, "entity", json_object_new_string (m->entity));
  json_object_object_add (obj, "id", json_object_new_string (m->id));
  json_object_object_add (obj, "op", json_object_new_string (kh_op_to_string (m->op)));
  json_object_object_add (obj, "base_version", json_object_new_int64 (m->base_version));
  json_object_object_add (obj, "fields", m->fields != NULL ? json_object_get (m->fields)
                                                           : json_object_new_object ());
  return obj;
}

KhMutation *
kh_mutation_from_json (json_object  *obj,
                       GError      **error)
{
  g_autoptr(KhMutation) m = kh_mutation_new ();
  g_autofree char *op = NULL;
  gboolean present;
  json_object *fields;

  if (obj == NULL || !json_object_is_type (obj, json_type_object))
    {
      wrong_type (error, NULL, "mutations[]", _("an object"));
      return NULL;
    }
  if (!get_uuid (obj, "mutation", "mutation_id", TRUE, &m->mutation_id, error)
      || !get_name (obj, "mutation", "entity", &m->entity, error)
      || !get_uuid (obj, "mutation", "id", TRUE, &m->id, error)
      || !get_string (obj, "mutation", "op", TRUE, 16, &op, error)
      || !get_int (obj, "mutation", "base_version", TRUE, 0, &m->base_version, error))
    return NULL;
  if (!kh_op_from_string (op, &m->op))
    {
      g_set_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_INVALID,
                   _("“mutation.op” must be create, update, delete or restore, not “%s”."), op);
      return NULL;
    }
  fields = member (obj, "mutation", "fields", json_type_object,
                   m->op == KH_OP_CREATE || m->op == KH_OP_UPDATE, &present, error);
  if (fields == NULL && (present || m->op == KH_OP_CREATE || m->op == KH_OP_UPDATE))
    return NULL;
  if (fields != NULL && !check_fields (fields, "mutation", m->op != KH_OP_CREATE, error))
    return NULL;
  m->fields = fields != NULL ? json_object_get (fields) : json_object_new_object ();
  return g_steal_pointer (&m);
}

KhPushRequest *
kh_push_request_new (void)
{
  KhPushRequest *r = g_new0 (KhPushRequest, 1);

  r->mutations = g_ptr_array_new_with_free_func ((GDestroyNotify) kh_mutation_free);
  return r;
}

void
kh_push_request_free (KhPushRequest *request)
{
  if (request == NULL)
    return;
  g_free (request->client_id);
  g_ptr_array_unref (request->mutations);
  g_free (request);
}

json_object *
kh_push_request_to_json (const KhPushRequest *request)
{
  json_object *obj = json_object_new_object ();
  json_object *list = json_object_new_array_ext ((int) request->mutations->len);

  json_object_object_add (obj, "client_id", json_object_new_string (request->client_id));
  if (request->has_epoch)
    json_object_object_add (obj, "epoch", json_object_new_int64 (request->epoch));
  for (guint i = 0; i < request->mutations->len; i++)
    json_object_array_add (list, kh_mutation_to_json (request->mutations->pdata[i]));
  json_object_object_add (obj, "mutations", list);
  return obj;
}

KhPushRequest *
kh_push_request_from_json (json_object  *obj,
                           GError      **error)
{
  g_autoptr(KhPushRequest) r = kh_push_request_new ();
  gboolean present;
  json_object *list;
  size_t n;

  if (!get_uuid (obj, NULL, "client_id", TRUE, &r->client_id, error)
      || !get_int (obj, NULL, "epoch", FALSE, 0, &r->epoch, error))
    return NULL;
  r->has_epoch = json_object_object_get_ex (obj, "epoch", NULL)
                 && json_object_object_get (obj, "epoch") != NULL;
  list = member (obj, NULL, "mutations", json_type_array, TRUE, &present, error);
  if (list == NULL)
    return NULL;
  n = json_object_array_length (list);
  if (n > KH_PUSH_MAX_MUTATIONS)
    {
      g_set_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_TOO_MANY_MUTATIONS,
                   _("A push may carry at most %d mutations; this one has %zu. Send them in smaller batches."),
                   KH_PUSH_MAX_MUTATIONS, n);
      return NULL;
    }
  for (size_t i = 0; i < n; i++)
    {
      KhMutation *m = kh_mutation_from_json (json_object_array_get_idx (list, i), error);

      if (m == NULL)
        {
          g_prefix_error (error, _("Mutation %zu: "), i + 1);
          return NULL;
        }
      g_ptr_array_add (r->mutations, m);
    }
  return g_steal_pointer (&r);
}

/* Push results --------------------------------------------------------------------------------- */

static const char * const status_names[] = {
  [KH_RESULT_APPLIED] = "applied", [KH_RESULT_DUPLICATE] = "duplicate",
  [KH_RESULT_CONFLICT] = "conflict", [KH_RESULT_REJECTED] = "rejected",
};

const char *
kh_result_status_to_string (KhResultStatus status)
{
  g_return_val_if_fail ((guint) status < G_N_ELEMENTS (status_names), NULL);
  return status_names[status];
}

KhMutationResult *
kh_mutation_result_new (void)
{
  return g_new0 (KhMutationResult, 1);
}

void
kh_mutation_result_free (KhMutationResult *result)
{
  if (result == NULL)
    return;
  g_free (result->mutation_id);
  kh_record_free (result->record);
  if (result->conflicting_fields != NULL)
    g_ptr_array_unref (result->conflicting_fields);
  g_free (result->code);
  g_free (result->message);
  g_free (result);
}

json_object *
kh_mutation_result_to_json (const KhMutationResult *r)
{
  json_object *obj = json_object_new_object ();

  json_object_object_add (obj, "mutation_id", json_object_new_string (r->mutation_id));
  json_object_object_add (obj, "status", json_object_new_string (kh_result_status_to_string (r->status)));
  if (r->status != KH_RESULT_REJECTED)
    json_object_object_add (obj, "version", json_object_new_int64 (r->version));
  if (r->status == KH_RESULT_CONFLICT)
    {
      json_object *names = json_object_new_array ();

      for (guint i = 0; r->conflicting_fields != NULL && i < r->conflicting_fields->len; i++)
        json_object_array_add (names, json_object_new_string (r->conflicting_fields->pdata[i]));
      json_object_object_add (obj, "conflicting_fields", names);
      if (r->record != NULL)
        json_object_object_add (obj, "record", kh_record_to_json (r->record));
    }
  if (r->status == KH_RESULT_REJECTED)
    {
      json_object_object_add (obj, "code", json_object_new_string (r->code ? r->code : "invalid"));
      json_object_object_add (obj, "message", json_object_new_string (r->message ? r->message : ""));
    }
  return obj;
}

KhMutationResult *
kh_mutation_result_from_json (json_object  *obj,
                              GError      **error)
{
  g_autoptr(KhMutationResult) r = kh_mutation_result_new ();
  g_autofree char *status = NULL;
  gboolean found = FALSE;

  if (obj == NULL || !json_object_is_type (obj, json_type_object))
    {
      wrong_type (error, NULL, "results[]", _("an object"));
      return NULL;
    }
  if (!get_uuid (obj, "result", "mutation_id", TRUE, &r->mutation_id, error)
      || !get_string (obj, "result", "status", TRUE, 16, &status, error))
    return NULL;
  for (guint i = 0; i < G_N_ELEMENTS (status_names); i++)
    if (strcmp (status_names[i], status) == 0)
      {
        r->status = (KhResultStatus) i;
        found = TRUE;
      }
  if (!found)
    {
      g_set_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_INVALID,
                   _("“result.status” is not a known status: “%s”."), status);
      return NULL;
    }
  if (r->status != KH_RESULT_REJECTED
      && !get_int (obj, "result", "version", TRUE, 0, &r->version, error))
    return NULL;
  if (r->status == KH_RESULT_CONFLICT)
    {
      gboolean present;
      json_object *names = member (obj, "result", "conflicting_fields", json_type_array, TRUE,
                                   &present, error);
      json_object *rec;

      if (names == NULL)
        return NULL;
      r->conflicting_fields = g_ptr_array_new_with_free_func (g_free);
      for (size_t i = 0; i < json_object_array_length (names); i++)
        {
          json_object *n = json_object_array_get_idx (names, i);

          if (!json_object_is_type (n, json_type_string))
            {
              wrong_type (error, "result", "conflicting_fields[]", _("text"));
              return NULL;
            }
          g_ptr_array_add (r->conflicting_fields, g_strdup (json_object_get_string (n)));
        }
      rec = member (obj, "result", "record", json_type_object, TRUE, &present, error);
      if (rec == NULL || (r->record = kh_record_from_json (rec, error)) == NULL)
        return NULL;
    }
  if (r->status == KH_RESULT_REJECTED
      && (!get_string (obj, "result", "code", TRUE, KH_CODEC_MAX_NAME, &r->code, error)
          || !get_string (obj, "result", "message", TRUE, KH_CODEC_MAX_TEXT, &r->message, error)))
    return NULL;
  return g_steal_pointer (&r);
}

KhPushResponse *
kh_push_response_new (void)
{
  KhPushResponse *r = g_new0 (KhPushResponse, 1);

  r->results = g_ptr_array_new_with_free_func ((GDestroyNotify) kh_mutation_result_free);
  return r;
}

void
kh_push_response_free (KhPushResponse *response)
{
  if (response == NULL)
    return;
  g_ptr_array_unref (response->results);
  g_free (response->server_id);
  g_free (response);
}

json_object *
kh_push_response_to_json (const KhPushResponse *response)
{
  json_object *obj = json_object_new_object ();
  json_object *list = json_object_new_array_ext ((int) response->results->len);

  for (guint i = 0; i < response->results->len; i++)
    json_object_array_add (list, kh_mutation_result_to_json (response->results->pdata[i]));
  json_object_object_add (obj, "results", list);
  json_object_object_add (obj, "server_id", json_object_new_string (response->server_id));
  json_object_object_add (obj, "epoch", json_object_new_int64 (response->epoch));
  return obj;
}

KhPushResponse *
kh_push_response_from_json (json_object  *obj,
                            GError      **error)
{
  g_autoptr(KhPushResponse) r = kh_push_response_new ();
  gboolean present;
  json_object *list;

  if (!get_uuid (obj, NULL, "server_id", TRUE, &r->server_id, error)
      || !get_int (obj, NULL, "epoch", TRUE, 0, &r->epoch, error))
    return NULL;
  list = member (obj, NULL, "results", json_type_array, TRUE, &present, error);
  if (list == NULL)
    return NULL;
  for (size_t i = 0; i < json_object_array_length (list); i++)
    {
      KhMutationResult *m = kh_mutation_result_from_json (json_object_array_get_idx (list, i), error);

      if (m == NULL)
        return NULL;
      g_ptr_array_add (r->results, m);
    }
  return g_steal_pointer (&r);
}

/* The change feed ------------------------------------------------------------------------------ */

static void
removed_free (KhRemoved *r)
{
  g_free (r->entity);
  g_free (r->id);
  g_free (r);
}

KhChangesPage *
kh_changes_page_new (void)
{
  KhChangesPage *p = g_new0 (KhChangesPage, 1);

  p->records = g_ptr_array_new_with_free_func ((GDestroyNotify) kh_record_free);
  p->removed = g_ptr_array_new_with_free_func ((GDestroyNotify) removed_free);
  return p;
}

void
kh_changes_page_free (KhChangesPage *page)
{
  if (page == NULL)
    return;
  g_free (page->server_id);
  g_free (page->cursor);
  g_ptr_array_unref (page->records);
  g_ptr_array_unref (page->removed);
  g_free (page);
}

void
kh_changes_page_add_removed (KhChangesPage *page,
                             const char    *entity,
                             const char    *id)
{
  KhRemoved *r = g_new0 (KhRemoved, 1);

  r->entity = g_strdup (entity);
  r->id = g_strdup (id);
  g_ptr_array_add (page->removed, r);
}

static KhChangesPage *changes_page_from_json (json_object  *obj,
                                             gboolean      with_records,
                                             GError      **error);

KhChangesPage *
kh_changes_page_from_json (json_object  *obj,
                           GError      **error)
{
  return changes_page_from_json (obj, TRUE, error);
}

/* kh_changes_page_from_json() without reading the records into the page (its records array
 * stays empty): for a reader that applies them from @obj itself after checking them. */
KhChangesPage *
kh_changes_page_header_from_json (json_object  *obj,
                                  GError      **error)
{
  return changes_page_from_json (obj, FALSE, error);
}

static KhChangesPage *
changes_page_from_json (json_object  *obj,
                        gboolean      with_records,
                        GError      **error)
{
  g_autoptr(KhChangesPage) p = kh_changes_page_new ();
  gboolean present;
  json_object *records;
  json_object *removed;

  if (!get_uuid (obj, NULL, "server_id", TRUE, &p->server_id, error)
      || !get_int (obj, NULL, "epoch", TRUE, 0, &p->epoch, error)
      || !get_string (obj, NULL, "cursor", TRUE, 256, &p->cursor, error)
      || !get_bool (obj, NULL, "has_more", TRUE, &p->has_more, error)
      || !get_bool (obj, NULL, "reset", TRUE, &p->reset, error))
    return NULL;
  records = member (obj, NULL, "records", json_type_array, TRUE, &present, error);
  if (records == NULL)
    return NULL;
  for (size_t i = 0; with_records && i < json_object_array_length (records); i++)
    {
      KhRecord *r = kh_record_from_json (json_object_array_get_idx (records, i), error);

      if (r == NULL)
        return NULL;
      g_ptr_array_add (p->records, r);
    }
  removed = member (obj, NULL, "removed", json_type_array, FALSE, &present, error);
  if (removed == NULL && present)
    return NULL;
  for (size_t i = 0; removed != NULL && i < json_object_array_length (removed); i++)
    {
      json_object *o = json_object_array_get_idx (removed, i);
      g_autofree char *entity = NULL;
      g_autofree char *id = NULL;

      if (o == NULL || !json_object_is_type (o, json_type_object))
        {
          wrong_type (error, NULL, "removed[]", _("an object"));
          return NULL;
        }
      if (!get_name (o, "removed", "entity", &entity, error)
          || !get_uuid (o, "removed", "id", TRUE, &id, error))
        return NULL;
      kh_changes_page_add_removed (p, entity, id);
    }
  return g_steal_pointer (&p);
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

  if (!get_string (obj, NULL, "username", TRUE, 128, &r->username, error)
      || !get_string (obj, NULL, "password", TRUE, 1024, &r->password, error))
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

  if (!get_string (obj, NULL, "token", TRUE, 256, &r->token, error)
      || !get_uuid (obj, NULL, "server_id", TRUE, &r->server_id, error)
      || !get_int (obj, NULL, "epoch", TRUE, 0, &r->epoch, error))
    return NULL;
  user = member (obj, NULL, "user", json_type_object, TRUE, &present, error);
  if (user == NULL
      || !get_string (user, "user", "username", TRUE, 128, &r->username, error)
      || !get_string (user, "user", "role", TRUE, 16, &r->role, error)
      || !get_string (user, "user", "scope", TRUE, 64, &r->scope, error)
      || !get_uuid (user, "user", "scope_unit_id", TRUE, &r->scope_unit_id, error))
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

  if (!get_string (obj, NULL, "status", TRUE, 64, &h->status, error)
      || !get_uuid (obj, NULL, "server_id", TRUE, &h->server_id, error)
      || !get_int (obj, NULL, "epoch", TRUE, 0, &h->epoch, error)
      || !get_int (obj, NULL, "protocol", TRUE, 0, &protocol, error))
    return NULL;
  h->protocol = (int) MIN (protocol, G_MAXINT);
  return g_steal_pointer (&h);
}

/* Integrity ------------------------------------------------------------------------------------ */

char *
kh_codec_checksum_to_string (guint64 checksum)
{
  return g_strdup_printf ("%016" G_GINT64_MODIFIER "x", checksum);
}

gboolean
kh_codec_checksum_from_string (const char *text,
                               guint64    *checksum)
{
  guint64 v = 0;

  if (text == NULL || strlen (text) != 16)
    return FALSE;
  for (int i = 0; i < 16; i++)
    {
      int d = g_ascii_xdigit_value (text[i]);

      if (d < 0 || g_ascii_isupper (text[i]))
        return FALSE;
      v = (v << 4) | (guint64) d;
    }
  *checksum = v;
  return TRUE;
}

static void
integrity_entry_free (KhIntegrityEntry *e)
{
  g_free (e->entity);
  g_free (e);
}

KhIntegrity *
kh_integrity_new (void)
{
  KhIntegrity *i = g_new0 (KhIntegrity, 1);

  i->entities = g_ptr_array_new_with_free_func ((GDestroyNotify) integrity_entry_free);
  return i;
}

void
kh_integrity_free (KhIntegrity *integrity)
{
  if (integrity == NULL)
    return;
  g_ptr_array_unref (integrity->entities);
  g_free (integrity->server_id);
  g_free (integrity);
}

KhIntegrityEntry *
kh_integrity_add (KhIntegrity *integrity,
                  const char  *entity)
{
  KhIntegrityEntry *e = g_new0 (KhIntegrityEntry, 1);

  e->entity = g_strdup (entity);
  g_ptr_array_add (integrity->entities, e);
  return e;
}

const KhIntegrityEntry *
kh_integrity_lookup (const KhIntegrity *integrity,
                     const char        *entity)
{
  for (guint i = 0; i < integrity->entities->len; i++)
    {
      const KhIntegrityEntry *e = integrity->entities->pdata[i];

      if (strcmp (e->entity, entity) == 0)
        return e;
    }
  return NULL;
}

json_object *
kh_integrity_to_json (const KhIntegrity *integrity)
{
  json_object *obj = json_object_new_object ();
  json_object *entities = json_object_new_object ();

  for (guint i = 0; i < integrity->entities->len; i++)
    {
      const KhIntegrityEntry *e = integrity->entities->pdata[i];
      json_object *o = json_object_new_object ();
      g_autofree char *sum = kh_codec_checksum_to_string (e->checksum);

      json_object_object_add (o, "count", json_object_new_int64 (e->count));
      json_object_object_add (o, "digest", json_object_new_string (sum));
      json_object_object_add (entities, e->entity, o);
    }
  json_object_object_add (obj, "entities", entities);
  json_object_object_add (obj, "server_id", json_object_new_string (integrity->server_id));
  json_object_object_add (obj, "epoch", json_object_new_int64 (integrity->epoch));
  return obj;
}

KhIntegrity *
kh_integrity_from_json (json_object  *obj,
                        GError      **error)
{
  g_autoptr(KhIntegrity) integrity = kh_integrity_new ();
  gboolean present;
  json_object *entities;

  if (!get_uuid (obj, NULL, "server_id", TRUE, &integrity->server_id, error)
      || !get_int (obj, NULL, "epoch", TRUE, 0, &integrity->epoch, error))
    return NULL;
  entities = member (obj, NULL, "entities", json_type_object, TRUE, &present, error);
  if (entities == NULL)
    return NULL;
  json_object_object_foreach (entities, key, val)
    {
      KhIntegrityEntry *e;
      g_autofree char *sum = NULL;

      if (val == NULL || !json_object_is_type (val, json_type_object))
        {
          wrong_type (error, "entities", key, _("an object"));
          return NULL;
        }
      e = kh_integrity_add (integrity, key);
      if (!get_int (val, key, "count", TRUE, 0, &e->count, error)
          || !get_string (val, key, "digest", TRUE, 16, &sum, error))
        return NULL;
      if (!kh_codec_checksum_from_string (sum, &e->checksum))
        {
          g_set_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_INVALID,
                       _("“%s.digest” must be 16 lower-case hex digits."), key);
          return NULL;
        }
    }
  return g_steal_pointer (&integrity);
}

static void
id_version_clear (gpointer data)
{
  KhIdVersion *iv = data;

  g_free (iv->id);
}

KhIntegrityIds *
kh_integrity_ids_new (void)
{
  KhIntegrityIds *ids = g_new0 (KhIntegrityIds, 1);

  ids->ids = g_array_new (FALSE, TRUE, sizeof (KhIdVersion));
  g_array_set_clear_func (ids->ids, id_version_clear);
  return ids;
}

void
kh_integrity_ids_free (KhIntegrityIds *ids)
{
  if (ids == NULL)
    return;
  g_array_unref (ids->ids);
  g_free (ids);
}

void
kh_integrity_ids_add (KhIntegrityIds *ids,
                      const char     *id,
                      gint64          version,
                      guint64         checksum)
{
  KhIdVersion iv = { g_strdup (id), version, checksum };

  g_array_append_val (ids->ids, iv);
}

json_object *
kh_integrity_ids_to_json (const KhIntegrityIds *ids)
{
  json_object *obj = json_object_new_object ();
  json_object *list = json_object_new_array_ext ((int) ids->ids->len);

  for (guint i = 0; i < ids->ids->len; i++)
    {
      const KhIdVersion *iv = &g_array_index (ids->ids, KhIdVersion, i);
      json_object *pair = json_object_new_array_ext (3);
      g_autofree char *sum = kh_codec_checksum_to_string (iv->checksum);

      json_object_array_add (pair, json_object_new_string (iv->id));
      json_object_array_add (pair, json_object_new_int64 (iv->version));
      json_object_array_add (pair, json_object_new_string (sum));
      json_object_array_add (list, pair);
    }
  json_object_object_add (obj, "ids", list);
  json_object_object_add (obj, "has_more", json_object_new_boolean (ids->has_more));
  return obj;
}

KhIntegrityIds *
kh_integrity_ids_from_json (json_object  *obj,
                            GError      **error)
{
  g_autoptr(KhIntegrityIds) ids = kh_integrity_ids_new ();
  gboolean present;
  json_object *list;

  if (!get_bool (obj, NULL, "has_more", TRUE, &ids->has_more, error))
    return NULL;
  list = member (obj, NULL, "ids", json_type_array, TRUE, &present, error);
  if (list == NULL)
    return NULL;
  for (size_t i = 0; i < json_object_array_length (list); i++)
    {
      json_object *pair = json_object_array_get_idx (list, i);
      json_object *id;
      json_object *version;
      json_object *sum;
      guint64 checksum = 0;

      if (pair == NULL || !json_object_is_type (pair, json_type_array)
          || json_object_array_length (pair) != 3
          || !json_object_is_type ((id = json_object_array_get_idx (pair, 0)), json_type_string)
          || !json_object_is_type ((version = json_object_array_get_idx (pair, 1)), json_type_int)
          || !json_object_is_type ((sum = json_object_array_get_idx (pair, 2)), json_type_string)
          || !kh_uuid_is_valid (json_object_get_string (id))
          || !kh_codec_checksum_from_string (json_object_get_string (sum), &checksum))
        {
          wrong_type (error, NULL, "ids[]", _("a UUID, an integer and 16 hex digits"));
          return NULL;
        }
      kh_integrity_ids_add (ids, json_object_get_string (id), json_object_get_int64 (version), checksum);
    }
  return g_steal_pointer (&ids);
}
