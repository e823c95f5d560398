/* kh-codec-push.c: the push messages: mutations, push requests and their results
 *
 * What a client sends to /push and what the server answers, mutation by mutation (see
 * PROTOCOL.md); the member readers are in kh-codec.c.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-codec-private.h"

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
      kh_codec_wrong_type (error, NULL, "mutations[]", _("an object"));
      return NULL;
    }
  if (!kh_codec_get_uuid (obj, "mutation", "mutation_id", TRUE, &m->mutation_id, error)
      || !kh_codec_get_name (obj, "mutation", "entity", &m->entity, error)
      || !kh_codec_get_uuid (obj, "mutation", "id", TRUE, &m->id, error)
      || !kh_codec_get_string (obj, "mutation", "op", TRUE, 16, &op, error)
      || !kh_codec_get_int (obj, "mutation", "base_version", TRUE, 0, &m->base_version, error))
    return NULL;
  if (!kh_op_from_string (op, &m->op))
    {
      g_set_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_INVALID,
                   _("“mutation.op” must be create, update, delete or restore, not “%s”."), op);
      return NULL;
    }
  fields = kh_codec_member (obj, "mutation", "fields", json_type_object,
                            m->op == KH_OP_CREATE || m->op == KH_OP_UPDATE, &present, error);
  if (fields == NULL && (present || m->op == KH_OP_CREATE || m->op == KH_OP_UPDATE))
    return NULL;
  if (fields != NULL && !kh_codec_check_fields (fields, "mutation", m->op != KH_OP_CREATE, error))
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

  if (!kh_codec_get_uuid (obj, NULL, "client_id", TRUE, &r->client_id, error)
      || !kh_codec_get_int (obj, NULL, "epoch", FALSE, 0, &r->epoch, error))
    return NULL;
  r->has_epoch = json_object_object_get_ex (obj, "epoch", NULL)
                 && json_object_object_get (obj, "epoch") != NULL;
  list = kh_codec_member (obj, NULL, "mutations", json_type_array, TRUE, &present, error);
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
  g_free (result->field);
  g_free (result->registered_id);
  g_free (result->registered_by);
  g_free (result->registered_at);
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
      if (r->field != NULL)
        json_object_object_add (obj, "field", json_object_new_string (r->field));
      if (r->registered_id != NULL)
        {
          json_object *other = json_object_new_object ();

          json_object_object_add (other, "id", json_object_new_string (r->registered_id));
          if (r->registered_by != NULL)
            json_object_object_add (other, "by", json_object_new_string (r->registered_by));
          if (r->registered_at != NULL)
            json_object_object_add (other, "at", json_object_new_string (r->registered_at));
          json_object_object_add (obj, "registered", other);
        }
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
      kh_codec_wrong_type (error, NULL, "results[]", _("an object"));
      return NULL;
    }
  if (!kh_codec_get_uuid (obj, "result", "mutation_id", TRUE, &r->mutation_id, error)
      || !kh_codec_get_string (obj, "result", "status", TRUE, 16, &status, error))
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
      && !kh_codec_get_int (obj, "result", "version", TRUE, 0, &r->version, error))
    return NULL;
  if (r->status == KH_RESULT_CONFLICT)
    {
      gboolean present;
      json_object *names = kh_codec_member (obj, "result", "conflicting_fields", json_type_array,
                                            TRUE, &present, error);
      json_object *rec;

      if (names == NULL)
        return NULL;
      r->conflicting_fields = g_ptr_array_new_with_free_func (g_free);
      for (size_t i = 0; i < json_object_array_length (names); i++)
        {
          json_object *n = json_object_array_get_idx (names, i);

          if (!json_object_is_type (n, json_type_string))
            {
              kh_codec_wrong_type (error, "result", "conflicting_fields[]", _("text"));
              return NULL;
            }
          g_ptr_array_add (r->conflicting_fields, g_strdup (json_object_get_string (n)));
        }
      rec = kh_codec_member (obj, "result", "record", json_type_object, TRUE, &present, error);
      if (rec == NULL || (r->record = kh_record_from_json (rec, error)) == NULL)
        return NULL;
    }
  if (r->status == KH_RESULT_REJECTED
      && (!kh_codec_get_string (obj, "result", "code", TRUE, KH_CODEC_MAX_NAME, &r->code, error)
          || !kh_codec_get_string (obj, "result", "message", TRUE, KH_CODEC_MAX_TEXT, &r->message,
                                   error)
          || !kh_codec_get_string (obj, "result", "field", FALSE, KH_CODEC_MAX_NAME, &r->field, error)))
    return NULL;
  if (r->status == KH_RESULT_REJECTED)
    {
      gboolean present;
      json_object *other = kh_codec_member (obj, "result", "registered", json_type_object, FALSE, &present, error);

      if (other == NULL && present)
        return NULL;
      if (other != NULL
          && (!kh_codec_get_uuid (other, "registered", "id", TRUE, &r->registered_id, error)
              || !kh_codec_get_string (other, "registered", "by", FALSE, KH_CODEC_MAX_NAME, &r->registered_by, error)
              || !kh_codec_get_string (other, "registered", "at", FALSE, KH_CODEC_MAX_NAME, &r->registered_at, error)))
        return NULL;
    }
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

  if (!kh_codec_get_uuid (obj, NULL, "server_id", TRUE, &r->server_id, error)
      || !kh_codec_get_int (obj, NULL, "epoch", TRUE, 0, &r->epoch, error))
    return NULL;
  list = kh_codec_member (obj, NULL, "results", json_type_array, TRUE, &present, error);
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
