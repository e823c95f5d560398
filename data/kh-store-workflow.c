/* kh-store-workflow.c: the local store keeps approved records locked (kh-workflow.c)
 *
 * The same rules as the server's, so an officer sees the refusal as they type, not at the next
 * sync; the server's judgement is still the one that counts.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-entity.h"
#include "kh-error.h"
#include "kh-store-private.h"
#include "kh-store-sql.h"
#include "kh-workflow.h"

void
kh_store_set_permits (KhStore *self,
                      guint    permits)
{
  g_return_if_fail (KH_IS_STORE (self));
  self->permits = permits;
}

guint
kh_store_get_permits (KhStore *self)
{
  g_return_val_if_fail (KH_IS_STORE (self), 0);
  return self->permits;
}

void
_kh_store_workflow_load (KhStore *self)
{
  sqlite3_stmt *stmt = kh_store_prepare (self, "SELECT (SELECT value FROM sync_state WHERE key = 'username'), "
                                         "(SELECT value FROM sync_state WHERE key = 'permissions')", NULL);

  if (stmt == NULL)
    return;
  if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_type (stmt, 0) != SQLITE_NULL)
    {
      int parsed = kh_permits_parse ((const char *) sqlite3_column_text (stmt, 1));

      /* Bound before the server sent permissions: an officer's, until the next sign-in. */
      self->permits = sqlite3_column_type (stmt, 1) == SQLITE_NULL ? KH_PERMIT_SUBMIT
                      : parsed >= 0 ? (guint) parsed : 0;
    }
  sqlite3_reset (stmt);
}

static gboolean
owner_locked (KhStore     *self,
              const char  *owner,
              json_object *data,
              const char  *field,
              gboolean    *locked,
              GError     **error)
{
  json_object *v = NULL;
  json_object *record;

  if (data == NULL || !json_object_object_get_ex (data, field, &v) || !json_object_is_type (v, json_type_string))
    return TRUE;
  record = _kh_store_load_record (self, kh_entity_lookup (owner), json_object_get_string (v), NULL);
  if (record == NULL)
    return TRUE;  /* the reference check says what is wrong with it */
  *locked = *locked || kh_workflow_is_locked (owner, record);
  json_object_put (record);
  return TRUE;
}

gboolean
_kh_store_workflow_check (KhStore         *self,
                          const KhEntity  *entity,
                          json_object     *old,
                          json_object     *data,
                          gboolean         deleting,
                          json_object     *changes,
                          GError         **error)
{
  const char *field = NULL;
  const char *owner = kh_workflow_owner (entity->name, &field);
  gboolean locked = FALSE;
  g_autofree char *reason = NULL;

  if ((self->permits & KH_PERMIT_UNCHECKED) || (owner == NULL && kh_workflow_state_field (entity->name) == NULL))
    return TRUE;
  if (owner != NULL
      && (!owner_locked (self, owner, old, field, &locked, error)
          || !owner_locked (self, owner, data, field, &locked, error)))
    return FALSE;
  if (kh_workflow_judge (entity->name, old, data, deleting, changes, locked, self->permits, &reason)
      == KH_WORKFLOW_OK)
    return TRUE;
  g_set_error_literal (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID, reason);
  return FALSE;
}
