/* kh-store-write.c: local writes: create, update, delete, restore
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-entity.h"
#include "kh-error.h"
#include "kh-journal.h"
#include "kh-ledger.h"
#include "kh-models.h"
#include "kh-privacy.h"
#include "kh-sqlite.h"
#include "kh-store-private.h"
#include "kh-uuid.h"
#include "kh-registration.h"
#include "kh-unit-time.h"
#include "kh-validate.h"

/* Writing ------------------------------------------------------------------------------------- */

static gboolean
record_exists (KhStore    *self,
               const char *entity_name,
               const char *id)
{
  const KhEntity *entity = kh_entity_lookup (entity_name);
  sqlite3_stmt *stmt = kh_store_prepare (self, _kh_store_entity_sql (self, entity, ENTITY_SQL_EXISTS), NULL);
  gboolean found;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
  found = sqlite3_step (stmt) == SQLITE_ROW;
  sqlite3_reset (stmt);
  return found;
}

static char *
unit_kind (KhStore    *self,
           const char *id)
{
  sqlite3_stmt *stmt = kh_store_prepare (self, "SELECT kind FROM org_unit WHERE id = ? AND deleted = 0", NULL);
  char *kind = NULL;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_type (stmt, 0) != SQLITE_NULL)
    kind = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_reset (stmt);
  return kind;
}

/* An org unit's kind against its parent's and, when its kind changes, its children's
 * (kh_unit_kind_validate()). A parent this store does not hold (a replica holds only the area
 * below its scope) is left to the server. */
static gboolean
check_unit_kinds (KhStore      *self,
                  const char   *id,
                  json_object  *record,
                  json_object  *changed,
                  GError      **error)
{
  json_object *v = NULL;
  const char *kind;
  const char *parent = NULL;
  const char *valid_to = NULL;
  g_autofree char *parent_kind = NULL;
  sqlite3_stmt *stmt;
  gboolean ok = TRUE;

  if (changed != NULL && !json_object_object_get_ex (changed, "kind", NULL)
      && !json_object_object_get_ex (changed, "parent_id", NULL))
    return TRUE;
  if (!json_object_object_get_ex (record, "kind", &v) || v == NULL)
    return TRUE;
  kind = json_object_get_string (v);
  if (json_object_object_get_ex (record, "parent_id", &v) && v != NULL)
    parent = json_object_get_string (v);
  if (json_object_object_get_ex (record, "valid_to", &v) && v != NULL)
    valid_to = json_object_get_string (v);
  if (parent != NULL)
    parent_kind = unit_kind (self, parent);
  if (!kh_unit_kind_validate (kind, valid_to, parent != NULL, parent_kind, error))
    return FALSE;
  if (changed == NULL || !json_object_object_get_ex (changed, "kind", NULL))
    return TRUE;

  stmt = kh_store_prepare (self, "SELECT DISTINCT kind FROM org_unit WHERE parent_id = ? AND deleted = 0", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_TRANSIENT);
  while (ok && sqlite3_step (stmt) == SQLITE_ROW)
    {
      const char *child = (const char *) sqlite3_column_text (stmt, 0);

      if (child != NULL && !kh_unit_kind_fits (child, kind))
        {
          const KhField *f = kh_entity_get_field (kh_entity_lookup ("org_unit"), "kind");

          kh_data_error_set_invalid (error, "kind", _("Kind: units of the kind “%s” under this one "
                                                      "cannot be under a unit of the kind “%s”."),
                                     kh_field_enum_label (f, child), kh_field_enum_label (f, kind));
          ok = FALSE;
        }
    }
  sqlite3_reset (stmt);
  return ok;
}

/* References a person makes must point at records that exist here and are not deleted, and an
 * org unit must not become its own ancestor. */
static gboolean
check_references (KhStore         *self,
                  const KhEntity  *entity,
                  const char      *id,
                  json_object     *record,
                  json_object     *changed,
                  GError         **error)
{
  for (guint i = 0; i < entity->n_fields; i++)
    {
      const KhField *field = &entity->fields[i];
      const char *target;
      const char *value;
      json_object *v;

      if (field->type != KH_FIELD_REF)
        continue;
      /* On an edit only the references that change are checked again; a reference whose
       * kind of record comes from a kind field changes with that field too. */
      if (changed != NULL && !json_object_object_get_ex (changed, field->name, NULL)
          && (field->ref_kind == NULL || !json_object_object_get_ex (changed, field->ref_kind, NULL)))
        continue;
      if (!json_object_object_get_ex (record, field->name, &v) || v == NULL)
        continue;
      value = json_object_get_string (v);
      target = kh_field_ref_target (field, record);
      if (target == NULL || kh_entity_lookup (target) == NULL)
        continue;
      if (!record_exists (self, target, value))
        {
          const KhEntity *te = kh_entity_lookup (target);

          kh_data_error_set_invalid (error, field->name, _("%s: there is no %s with the id “%s” here."),
                                     _(field->label), _(te->label), value);
          return FALSE;
        }
    }

  if (strcmp (entity->name, "org_unit") == 0 && id != NULL)
    {
      json_object *parent;
      g_autofree char *cursor = NULL;
      int guard = 0;

      if (json_object_object_get_ex (record, "parent_id", &parent) && parent != NULL)
        cursor = g_strdup (json_object_get_string (parent));
      while (cursor != NULL && guard++ < 64)
        {
          sqlite3_stmt *stmt;

          if (strcmp (cursor, id) == 0)
            {
              kh_data_error_set_invalid (error, "parent_id", "%s",
                                         _("Parent unit: a unit cannot be placed under itself or one of its own units."));
              return FALSE;
            }
          stmt = kh_store_prepare (self, "SELECT parent_id FROM org_unit WHERE id = ?", NULL);
          if (stmt == NULL)
            break;
          sqlite3_bind_text (stmt, 1, cursor, -1, SQLITE_TRANSIENT);
          g_clear_pointer (&cursor, g_free);
          if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_type (stmt, 0) != SQLITE_NULL)
            cursor = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
          sqlite3_reset (stmt);
        }
      if (!check_unit_kinds (self, id, record, changed, error))
        return FALSE;
    }
  return TRUE;
}

char *
kh_store_create (KhStore      *self,
                 const char   *entity_name,
                 json_object  *values,
                 GError      **error)
{
  const KhEntity *entity;
  g_autofree char *id = NULL;
  g_autofree char *now = NULL;
  json_object *names;
  sqlite3_stmt *stmt = NULL;
  gboolean ok;

  g_return_val_if_fail (KH_IS_STORE (self), NULL);

  if ((entity = _kh_store_lookup_entity (entity_name, error)) == NULL)
    return NULL;
  id = kh_uuid_v7_new ();
  now = kh_store_now ();

  if (!_kh_store_write_begin (self, error))
    return NULL;

  /* What the learning models' rules compute (an evaluation's total and result) is filled in
   * before the record is validated; only evaluations are touched, in place. */
  _kh_models_complete (self, entity, NULL, values);
  ok = kh_entity_validate (entity, values, TRUE, error)
       && check_references (self, entity, id, values, NULL, error)
       && kh_unit_time_check_store (self, entity, values, NULL, error)
       && kh_registration_check_once (self, entity, id, values, NULL, error)
       && _kh_privacy_check_write (self, entity, values, NULL, error)
       && _kh_ledger_check_write (self, entity, id, values, NULL, error)
       && _kh_models_check_write (self, entity, id, values, NULL, error)
       && _kh_store_workflow_check (self, entity, NULL, values, FALSE, values, error);

  if (ok)
    {
      stmt = kh_store_prepare (self, _kh_store_entity_sql (self, entity, ENTITY_SQL_INSERT), error);
      ok = stmt != NULL;
    }
  if (ok)
    {
      sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 2, now, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 3, now, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 4, self->actor, -1, SQLITE_STATIC);
      for (guint i = 0; i < entity->n_fields; i++)
        {
          json_object *v = NULL;

          json_object_object_get_ex (values, entity->fields[i].name, &v);
          kh_store_bind_value (stmt, 5 + (int) i, &entity->fields[i], v);
        }
      ok = kh_sqlite_step_done (stmt, "create", error);
    }

  names = json_object_new_array ();
  json_object_object_foreach (values, key, val)
    if (val != NULL)
      json_object_array_add (names, json_object_new_string (key));

  /* A base version of -1 tells kh_journal_add_outbox() the id is new, so it need not look for
   * an entry. */
  ok = ok && kh_journal_add_outbox (self, entity->name, id, "create", names, -1, now, error);
  ok = ok && kh_journal_add_audit (self, entity->name, id, now, self->actor, "create", NULL, NULL,
                                   json_object_to_json_string_ext (values, JSON_C_TO_STRING_PLAIN), error);
  json_object_put (names);
  ok = ok && _kh_models_after_write (self, entity, values, error);

  if (!_kh_store_write_end (self, ok, error))
    return NULL;

  kh_store_emit_changed (self, entity->name, id);
  return g_steal_pointer (&id);
}

static json_object *
load_live_record (KhStore         *self,
                  const KhEntity  *entity,
                  const char      *id,
                  GError         **error)
{
  json_object *record = _kh_store_load_record (self, entity, id, error);
  json_object *deleted;

  if (record == NULL)
    return NULL;
  if (json_object_object_get_ex (record, "deleted", &deleted) && json_object_get_boolean (deleted))
    {
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_DELETED,
                   _("This %s was deleted; restore it before editing."), _(entity->label));
      json_object_put (record);
      return NULL;
    }
  return record;
}

gboolean
kh_store_update (KhStore      *self,
                 const char   *entity_name,
                 const char   *id,
                 json_object  *changes,
                 GError      **error)
{
  const KhEntity *entity;
  g_autoptr(GString) sql = NULL;
  g_autofree char *now = NULL;
  json_object *current = NULL;
  json_object *merged = NULL;
  json_object *changed = NULL;
  json_object *names = NULL;
  sqlite3_stmt *stmt;
  gboolean ok = FALSE;
  int index;

  g_return_val_if_fail (KH_IS_STORE (self), FALSE);
  g_return_val_if_fail (id != NULL, FALSE);

  if ((entity = _kh_store_lookup_entity (entity_name, error)) == NULL)
    return FALSE;
  if (!kh_entity_validate (entity, changes, FALSE, error))
    return FALSE;

  if (!_kh_store_write_begin (self, error))
    return FALSE;

  current = load_live_record (self, entity, id, error);
  if (current == NULL || !kh_journal_keep_base (self, entity, current, error))
    goto out;
  _kh_models_complete (self, entity, current, changes);

  /* Only the fields whose value really changes are written, sent and audited. */
  changed = json_object_new_object ();
  names = json_object_new_array ();
  json_object_object_foreach (changes, key, val)
    {
      json_object *old = NULL;

      json_object_object_get_ex (current, key, &old);
      if (!_kh_store_values_equal (old, val))
        {
          json_object_object_add (changed, key, val ? json_object_get (val) : NULL);
          json_object_array_add (names, json_object_new_string (key));
        }
    }
  if (json_object_object_length (changed) == 0)
    {
      ok = TRUE;
      goto out;
    }

  merged = _kh_store_record_fields (entity, current);
  json_object_object_foreach (changed, ckey, cval)
    {
      if (cval == NULL)
        json_object_object_del (merged, ckey);
      else
        json_object_object_add (merged, ckey, json_object_get (cval));
    }
  if (!kh_entity_validate (entity, merged, TRUE, error)
      || !check_references (self, entity, id, merged, changed, error)
      || !kh_unit_time_check_store (self, entity, merged, changed, error)
      || !kh_registration_check_once (self, entity, id, merged, changed, error)
      || !_kh_privacy_check_write (self, entity, merged, changed, error)
      || !_kh_ledger_check_write (self, entity, id, merged, changed, error)
      || !_kh_models_check_write (self, entity, id, merged, changed, error)
      || !_kh_store_workflow_check (self, entity, current, merged, FALSE, changed, error))
    goto out;

  now = kh_store_now ();
  sql = g_string_new (NULL);
  g_string_printf (sql, "UPDATE %s SET updated_at = ?, updated_by = ?", entity->name);
  json_object_object_foreach (changed, skey, sval)
    {
      g_string_append_printf (sql, ", %s = ?", skey);
      (void) sval;
    }
  g_string_append (sql, " WHERE id = ?");
  stmt = kh_store_prepare (self, sql->str, error);
  if (stmt == NULL)
    goto out;
  sqlite3_bind_text (stmt, 1, now, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, self->actor, -1, SQLITE_STATIC);
  index = 3;
  json_object_object_foreach (changed, bkey, bval)
    kh_store_bind_value (stmt, index++, kh_entity_get_field (entity, bkey), bval);
  sqlite3_bind_text (stmt, index, id, -1, SQLITE_STATIC);
  if (!kh_sqlite_step_done (stmt, "update", error))
    goto out;

  if (!kh_journal_add_outbox (self, entity->name, id, "update", names,
                              json_object_get_int64 (json_object_object_get (current, "version")), now, error)
      || !kh_journal_settle_net (self, entity, id, merged, FALSE, now, error))
                              goto out;

  if (!_kh_models_after_write (self, entity, merged, error))
    goto out;
  ok = TRUE;
  json_object_object_foreach (changed, akey, aval)
    {
      g_autofree char *old_text = kh_store_value_to_text (json_object_object_get (current, akey));
      g_autofree char *new_text = kh_store_value_to_text (aval);

      if (!kh_journal_add_audit (self, entity->name, id, now, self->actor, "update", akey,
                                 old_text, new_text, error))
                                 {
                                 ok = FALSE;
          break;
        }
    }

out:
  ok = _kh_store_write_end (self, ok, ok ? error : NULL) && ok;
  if (ok && changed != NULL && json_object_object_length (changed) > 0)
    kh_store_emit_changed (self, entity->name, id);
  json_object_put (current);
  json_object_put (merged);
  json_object_put (changed);
  json_object_put (names);
  return ok;
}

static gboolean
set_deleted (KhStore     *self,
             const char  *entity_name,
             const char  *id,
             gboolean     deleted,
             GError     **error)
{
  const KhEntity *entity;
  g_autofree char *sql = NULL;
  g_autofree char *now = NULL;
  json_object *current = NULL;
  json_object *flag;
  sqlite3_stmt *stmt;
  gboolean ok = FALSE;

  g_return_val_if_fail (KH_IS_STORE (self), FALSE);
  g_return_val_if_fail (id != NULL, FALSE);

  if ((entity = _kh_store_lookup_entity (entity_name, error)) == NULL)
    return FALSE;
  if (!_kh_store_write_begin (self, error))
    return FALSE;

  current = _kh_store_load_record (self, entity, id, error);
  if (current == NULL || !kh_journal_keep_base (self, entity, current, error))
    goto out;
  flag = json_object_object_get (current, "deleted");
  if (json_object_get_boolean (flag) != deleted
      && !_kh_store_workflow_check (self, entity, current, NULL, TRUE, NULL, error))
    goto out;
  if (json_object_get_boolean (flag) == deleted)
    {
      if (deleted)
        g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_DELETED,
                     _("This %s was already deleted."), _(entity->label));
      else
        g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID,
                     _("This %s is not deleted."), _(entity->label));
      goto out;
    }
  /* A payment restored spends its money again. */
  if (!deleted && !_kh_ledger_check_write (self, entity, id, current, NULL, error))
    goto out;

  now = kh_store_now ();
  sql = g_strdup_printf ("UPDATE %s SET deleted = ?, updated_at = ?, updated_by = ? WHERE id = ?",
                         entity->name);
  stmt = kh_store_prepare (self, sql, error);
  if (stmt == NULL)
    goto out;
  sqlite3_bind_int (stmt, 1, deleted ? 1 : 0);
  sqlite3_bind_text (stmt, 2, now, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, self->actor, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, id, -1, SQLITE_STATIC);
  if (!kh_sqlite_step_done (stmt, "delete", error))
    goto out;

  if (deleted)
    ok = kh_journal_add_outbox (self, entity->name, id, "delete", NULL,
                                json_object_get_int64 (json_object_object_get (current, "version")), now, error);
  else if (json_object_get_int64 (json_object_object_get (current, "version")) == 0)
    {
      /* The server has never seen this record: restoring it means creating it again, unless
       * an unsent create is still waiting. */
      json_object *names = json_object_new_array ();

      for (guint i = 0; i < entity->n_fields; i++)
        if (json_object_object_get_ex (current, entity->fields[i].name, NULL))
          json_object_array_add (names, json_object_new_string (entity->fields[i].name));
      ok = kh_journal_add_outbox (self, entity->name, id, "create", names, 0, now, error);
      json_object_put (names);
    }
  else
    ok = kh_journal_add_outbox (self, entity->name, id, "restore", NULL,
                                json_object_get_int64 (json_object_object_get (current, "version")), now, error);

  ok = ok && (deleted || kh_journal_settle_restored (self, entity->name, id, now, error));
  if (ok)
    {
      json_object *fields = kh_journal_fields_of (entity, current);

      ok = kh_journal_settle_net (self, entity, id, fields, deleted, now, error);
      json_object_put (fields);
    }
  ok = ok
       && kh_journal_add_audit (self, entity->name, id, now, self->actor, deleted ? "delete" : "restore",
                                NULL, NULL, NULL, error);
  /* A deleted evaluation or recognition no longer counts for its registration's state; a
   * criterion of a set in use cannot go. */
  if (ok && deleted && strcmp (entity->name, "criterion") == 0)
    ok = _kh_models_check_write (self, entity, id, current, current, error);
  ok = ok && _kh_models_after_write (self, entity, current, error);

out:
  ok = _kh_store_write_end (self, ok, ok ? error : NULL) && ok;
  if (ok)
    kh_store_emit_changed (self, entity->name, id);
  json_object_put (current);
  return ok;
}

gboolean
kh_store_delete (KhStore     *self,
                 const char  *entity,
                 const char  *id,
                 GError     **error)
{
  return set_deleted (self, entity, id, TRUE, error);
}

gboolean
kh_store_restore (KhStore     *self,
                  const char  *entity,
                  const char  *id,
                  GError     **error)
{
  return set_deleted (self, entity, id, FALSE, error);
}
