/* kh-server-models.c: the learning models' rules, held on the server too
 *
 * The store refuses an evaluation its set does not give, a recognition without a passed
 * evaluation (or a reason) or by a level that did not exist at its date, and any change to a
 * set an evaluation used (data/kh-models.c). A replica that is old, altered or offline while
 * another replica uses a set could still send them, so the server judges each such write with
 * the same functions, against the records as the batch leaves them.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-error.h"
#include "kh-models.h"
#include "kh-server-core-private.h"

typedef struct
{
  char           *id;
  KhServerStored *stored;
} Row;

static void
row_free (Row *r)
{
  g_free (r->id);
  _kh_server_stored_free (r->stored);
  g_free (r);
}

static gboolean
row_cb (const char * const *v,
        int                 n,
        gpointer            data)
{
  Row *r = g_new0 (Row, 1);

  r->id = g_strdup (v[0]);
  _kh_server_stored_row_cb (v + 1, n - 1, &r->stored);
  g_ptr_array_add (data, r);
  return TRUE;
}

/* The record as the batch has it, else as the database has it; NULL if neither or deleted. */
static gboolean
current (KhServerBackend  *b,
         GHashTable       *batch,
         const char       *entity,
         const char       *id,
         json_object     **out,
         GError          **error)
{
  g_autofree char *key = g_strdup_printf ("%s/%s", entity, id);
  const KhServerStored *s = g_hash_table_lookup (batch, key);
  g_autoptr(KhServerStored) loaded = NULL;

  *out = NULL;
  if (s == NULL)
    {
      if (!_kh_server_load_stored (b, entity, id, &loaded, error))
        return FALSE;
      s = loaded;
    }
  if (s != NULL && !s->deleted && s->data != NULL)
    *out = json_object_get (s->data);
  return TRUE;
}

/* The live records of @entity whose field @field is @value, as the batch leaves them: those
 * stored (among @entity's, in @scope if not NULL) and those the batch writes. */
static gboolean
records_naming (KhServerBackend  *b,
                GHashTable       *batch,
                GPtrArray        *dirty,
                const char       *entity,
                const char       *field,
                const char       *value,
                const char       *scope,
                json_object     **out,
                GError          **error)
{
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) row_free);
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *pattern = g_strdup_printf ("%%\"%s\":\"%s\"%%", field, value);
  g_autofree char *prefix = g_strdup_printf ("%s/", entity);
  json_object *list = json_object_new_array ();

  /* Found by the id in their text, among the entity's records only (the primary key's first
   * column), in one unit's where the caller knows it. */
  if (scope != NULL)
    {
      KhSqlParam p[3] = { KH_SQL_P_TEXT (scope), KH_SQL_P_TEXT (entity), KH_SQL_P_TEXT (pattern) };

      if (!kh_server_backend_exec (b, "SELECT id, version, deleted, scope_unit, data, field_versions, updated_by, "
                                   "updated_at, created_at FROM records WHERE scope_unit = ? AND entity = ? "
                                   "AND data LIKE ?", p, 3, row_cb, rows, NULL, error))
        goto fail;
    }
  else
    {
      KhSqlParam p[2] = { KH_SQL_P_TEXT (entity), KH_SQL_P_TEXT (pattern) };

      if (!kh_server_backend_exec (b, "SELECT id, version, deleted, scope_unit, data, field_versions, updated_by, "
                                   "updated_at, created_at FROM records WHERE entity = ? AND data LIKE ?",
                                   p, 2, row_cb, rows, NULL, error))
        goto fail;
    }
  for (guint i = 0; i < rows->len; i++)
    {
      Row *r = rows->pdata[i];
      char *key = g_strdup_printf ("%s%s", prefix, r->id);
      const KhServerStored *in_batch = g_hash_table_lookup (batch, key);
      const KhServerStored *s = in_batch != NULL ? in_batch : r->stored;

      g_hash_table_add (seen, key);
      if (s != NULL && !s->deleted && g_strcmp0 (_kh_server_string_member (s->data, field), value) == 0)
        json_object_array_add (list, json_object_get (s->data));
    }
  for (guint i = 0; i < dirty->len; i++)
    {
      const KhServerStored *s;

      if (!g_str_has_prefix (dirty->pdata[i], prefix) || g_hash_table_contains (seen, dirty->pdata[i]))
        continue;
      s = g_hash_table_lookup (batch, dirty->pdata[i]);
      if (s != NULL && !s->deleted && g_strcmp0 (_kh_server_string_member (s->data, field), value) == 0)
        json_object_array_add (list, json_object_get (s->data));
    }
  *out = list;
  return TRUE;

fail:
  json_object_put (list);
  return FALSE;
}

static gboolean
names (json_object *obj,
       const char  *name)
{
  return obj == NULL || json_object_object_get_ex (obj, name, NULL);
}

static gboolean
set_is_used (KhServerBackend  *b,
             GHashTable       *batch,
             GPtrArray        *dirty,
             const char       *set_id,
             gboolean         *used,
             GError          **error)
{
  json_object *evaluations = NULL;

  if (!records_naming (b, batch, dirty, "evaluation", "criteria_set_id", set_id, NULL, &evaluations, error))
    return FALSE;
  *used = json_object_array_length (evaluations) > 0;
  json_object_put (evaluations);
  return TRUE;
}

static gboolean
check_evaluation (KhServerBackend  *b,
                  GHashTable       *batch,
                  GPtrArray        *dirty,
                  GHashTable       *criteria_cache,
                  json_object      *data,
                  char            **refusal,
                  const char      **field,
                  GError          **error)
{
  const char *set_id = _kh_server_string_member (data, "criteria_set_id");
  json_object *set = NULL;
  json_object *criteria = NULL;
  g_autoptr(GError) local = NULL;
  json_object *v;

  if (set_id == NULL)
    {
      /* An empty scores object gives no points. */
      if ((json_object_object_get_ex (data, "scores", &v) && v != NULL
           && !(json_object_is_type (v, json_type_object) && json_object_object_length (v) == 0))
          || (json_object_object_get_ex (data, "total", &v) && v != NULL))
        {
          *refusal = g_strdup (_("Criteria set: an evaluation with points names the criteria set they "
                                 "were given by."));
          *field = "criteria_set_id";
        }
      return TRUE;
    }
  if (!current (b, batch, "criteria_set", set_id, &set, error))
    return FALSE;
  if (set == NULL)
    return TRUE; /* the reference check says why */
  /* A push of many evaluations by one set reads its criteria once (the cache is emptied
   * whenever the batch writes a criterion). */
  criteria = g_hash_table_lookup (criteria_cache, set_id);
  if (criteria != NULL)
    json_object_get (criteria);
  else if (!records_naming (b, batch, dirty, "criterion", "criteria_set_id", set_id, NULL, &criteria, error))
    {
      json_object_put (set);
      return FALSE;
    }
  else
    g_hash_table_insert (criteria_cache, g_strdup (set_id), json_object_get (criteria));
  if (!kh_evaluation_judge (set, criteria, data, NULL, NULL, &local))
    {
      *refusal = g_strdup (local->message);
      *field = kh_data_error_get_field (local) ? g_intern_string (kh_data_error_get_field (local)) : "scores";
    }
  json_object_put (set);
  json_object_put (criteria);
  return TRUE;
}

static gboolean
check_recognition (KhServerBackend  *b,
                   GHashTable       *batch,
                   GPtrArray        *dirty,
                   json_object      *data,
                   json_object      *changes,
                   char            **refusal,
                   const char      **field,
                   GError          **error)
{
  const char *registration_id = _kh_server_string_member (data, "registration_id");
  const char *reason = _kh_server_string_member (data, "reason");
  json_object *registration = NULL;
  json_object *evaluations = NULL;
  json_object *decisive = NULL;
  g_autoptr(GError) local = NULL;

  if (!kh_issuing_level_validate (_kh_server_string_member (data, "issuing_level"),
                                  _kh_server_string_member (data, "decision_date"), &local))
    {
      *refusal = g_strdup (local->message);
      *field = "issuing_level";
      return TRUE;
    }
  if (!names (changes, "registration_id") && !names (changes, "reason"))
    return TRUE;
  if ((reason != NULL && *reason != '\0') || registration_id == NULL)
    return TRUE;
  if (!current (b, batch, "registration", registration_id, &registration, error))
    return FALSE;
  if (registration == NULL)
    return TRUE;
  if (!records_naming (b, batch, dirty, "evaluation", "registration_id", registration_id,
                       _kh_server_string_member (registration, "org_unit_id"), &evaluations, error))
    {
      json_object_put (registration);
      return FALSE;
    }
  /* The evaluation that decides: the latest review by the level above, else the latest
   * self-assessment (kh-models.c). */
  for (size_t i = 0; i < json_object_array_length (evaluations); i++)
    {
      json_object *e = json_object_array_get_idx (evaluations, i);
      gboolean review = g_strcmp0 (_kh_server_string_member (e, "stage"), "review") == 0;
      gboolean best_review = decisive != NULL && g_strcmp0 (_kh_server_string_member (decisive, "stage"), "review") == 0;

      if (decisive == NULL || (review && !best_review)
          || (review == best_review && g_strcmp0 (_kh_server_string_member (e, "evaluated_on"),
                                                  _kh_server_string_member (decisive, "evaluated_on")) > 0))
        decisive = e;
    }
  if (decisive == NULL || !kh_result_passed (_kh_server_string_member (decisive, "result")))
    {
      *refusal = g_strdup (decisive != NULL
                           ? _("Registration: its evaluation did not pass; a recognition without a passed "
                               "evaluation needs a reason.")
                           : _("Registration: it has no evaluation yet; a recognition without a passed "
                               "evaluation needs a reason."));
      *field = "registration_id";
    }
  json_object_put (evaluations);
  json_object_put (registration);
  return TRUE;
}

/* @criteria_cache: set id → its criteria, kept by the caller for one batch. Judges the write of
 * the record @id of @entity: @data is the record after it, @old_data before
 * (NULL: new), @changes what changes (NULL: everything). Sets *@refusal (and *@field) to a
 * refusal a person can act on, or leaves it NULL. */
gboolean
_kh_server_check_model (KhServerBackend  *b,
                        GHashTable       *batch,
                        GPtrArray        *dirty,
                        GHashTable       *criteria_cache,
                        const KhEntity   *entity,
                        const char       *id,
                        json_object      *data,
                        json_object      *old_data,
                        json_object      *changes,
                        char            **refusal,
                        const char      **field,
                        GError          **error)
{
  const char *name = entity->name;

  *refusal = NULL;
  *field = NULL;
  if (strcmp (name, "evaluation") == 0)
    {
      if (!names (changes, "scores") && !names (changes, "total") && !names (changes, "result")
          && !names (changes, "criteria_set_id"))
        return TRUE;
      return check_evaluation (b, batch, dirty, criteria_cache, data, refusal, field, error);
    }
  if (strcmp (name, "recognition") == 0)
    return check_recognition (b, batch, dirty, data, changes, refusal, field, error);
  if ((strcmp (name, "criteria_set") == 0 && old_data != NULL && changes != NULL
       && !kh_criteria_set_change_allowed (changes))
      || strcmp (name, "criterion") == 0)
    {
      const char *set_id = strcmp (name, "criterion") == 0
                           ? _kh_server_string_member (data, "criteria_set_id") : id;
      gboolean used = FALSE;

      if (set_id == NULL)
        return TRUE;
      if (!set_is_used (b, batch, dirty, set_id, &used, error))
        return FALSE;
      if (used)
        {
          json_object *set = NULL;

          if (strcmp (name, "criterion") == 0 && !current (b, batch, "criteria_set", set_id, &set, error))
            return FALSE;
          *refusal = kh_criteria_set_used_message (set != NULL ? set : data);
          json_object_put (set);
        }
    }
  return TRUE;
}
