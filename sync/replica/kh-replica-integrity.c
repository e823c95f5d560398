/* kh-replica-integrity.c: the local half of the integrity check
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include "kh-error.h"
#include "kh-journal.h"
#include "kh-replica-private.h"
#include "kh-wire.h"

/* Integrity ----------------------------------------------------------------------------------- */

/* A record with local changes (an outbox entry, pending or refused, or an open conflict) is
 * summed as the server last had it: its merge base. Its row holds what the person typed, which
 * the server has not got, and summing that would make its entity differ at every check while
 * the change waits. NULL when there is none: the row is summed. */
static GHashTable *
load_bases (KhStore         *store,
            const KhEntity  *entity,
            GString         *scratch,
            GError         **error)
{
  sqlite3_stmt *stmt = kh_store_prepare (store,
    "SELECT b.record_id, b.version, b.deleted, b.data FROM base b "
    "WHERE b.entity = ?1 AND b.version > 0 AND (EXISTS (SELECT 1 FROM outbox o "
    "WHERE o.entity = ?1 AND o.record_id = b.record_id) OR EXISTS (SELECT 1 FROM conflict c "
    "WHERE c.entity = ?1 AND c.record_id = b.record_id AND c.resolved_at IS NULL))", error);
  g_autofree KhValue *values = g_new0 (KhValue, MAX (entity->n_fields, 1));
  GHashTable *bases = NULL;
  int rc;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, entity->name, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      KhReplicaSum *sum = g_new (KhReplicaSum, 1);
      const char *id = (const char *) sqlite3_column_text (stmt, 0);

      sum->version = sqlite3_column_int64 (stmt, 1);
      sum->checksum = kh_wire_stored_checksum (scratch, values, entity, id, sum->version,
                                               sqlite3_column_int (stmt, 2) != 0,
                                               (const char *) sqlite3_column_text (stmt, 3));
      if (bases == NULL)
        bases = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      g_hash_table_insert (bases, g_strdup (id), sum);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      kh_sqlite_set_error (error, kh_store_get_db (store), "integrity");
      g_clear_pointer (&bases, g_hash_table_unref);
    }
  return bases;
}

typedef void (*SumFunc) (const char          *id,
                         const KhReplicaSum  *sum,
                         gpointer             data);

/* Calls @func for every record of @entity the server has acknowledged (version > 0), with its
 * version and its kh_wire_record_checksum(), read straight from its columns. */
static gboolean
sum_records (KhStore         *store,
             const KhEntity  *entity,
             SumFunc          func,
             gpointer         data,
             GError         **error)
{
  g_autoptr(GString) sql = g_string_new ("SELECT id, version, deleted");
  g_autoptr(GString) scratch = g_string_sized_new (1024);
  g_autoptr(GHashTable) bases = NULL;
  g_autofree KhValue *values = g_new0 (KhValue, MAX (entity->n_fields, 1));
  g_autoptr(GPtrArray) trees = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_put);
  g_autoptr(GError) local_error = NULL;
  sqlite3_stmt *stmt;
  int rc;

  bases = load_bases (store, entity, scratch, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  for (guint i = 0; i < entity->n_fields; i++)
    g_string_append_printf (sql, ", %s", entity->fields[i].name);
  g_string_append_printf (sql, " FROM %s WHERE version > 0", entity->name);
  stmt = kh_store_prepare (store, sql->str, error);
  if (stmt == NULL)
    return FALSE;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const char *id = (const char *) sqlite3_column_text (stmt, 0);
      const KhReplicaSum *base = bases != NULL ? g_hash_table_lookup (bases, id) : NULL;
      KhReplicaSum sum;

      if (base != NULL)
        {
          func (id, base, data);
          continue;
        }
      for (guint i = 0; i < entity->n_fields; i++)
        {
          KhValue *v = &values[i];
          int col = 3 + (int) i;

          memset (v, 0, sizeof *v);
          if (sqlite3_column_type (stmt, col) == SQLITE_NULL)
            continue;
          switch (entity->fields[i].type)
            {
            case KH_FIELD_INT:
            case KH_FIELD_YEAR:
            case KH_FIELD_MONEY:
              v->kind = KH_VALUE_INT;
              v->number = sqlite3_column_int64 (stmt, col);
              break;
            case KH_FIELD_BOOL:
              v->kind = KH_VALUE_BOOL;
              v->number = sqlite3_column_int (stmt, col) != 0;
              break;
            case KH_FIELD_JSON:
              v->kind = KH_VALUE_OTHER;
              v->json = json_tokener_parse ((const char *) sqlite3_column_text (stmt, col));
              if (v->json != NULL)
                g_ptr_array_add (trees, v->json);
              break;
            case KH_FIELD_TEXT:
            case KH_FIELD_ENUM:
            case KH_FIELD_REF:
            case KH_FIELD_DATE:
            default:
              v->kind = KH_VALUE_TEXT;
              v->text = (const char *) sqlite3_column_text (stmt, col);
              v->len = sqlite3_column_bytes (stmt, col);
              break;
            }
        }
      sum.version = sqlite3_column_int64 (stmt, 1);
      sum.checksum = kh_wire_record_checksum (scratch, entity, id, sum.version,
                                              sqlite3_column_int (stmt, 2) != 0, values);
      func (id, &sum, data);
      if (trees->len > 0)
        g_ptr_array_set_size (trees, 0);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      kh_sqlite_set_error (error, kh_store_get_db (store), "integrity");
      return FALSE;
    }
  return TRUE;
}

typedef struct
{
  guint64 checksum;
  gint64  count;
} Total;

static void
add_to_total (const char         *id,
              const KhReplicaSum *sum,
              gpointer            data)
{
  Total *t = data;

  t->checksum ^= sum->checksum;
  t->count++;
}

/* Per entity, the count and checksum of the records the server has acknowledged (version > 0),
 * tombstones included: {"person": {"count": N, "checksum": "16 hex"}, …}. */
json_object *
kh_replica_integrity (KhStore  *store,
                      GError  **error)
{
  const KhEntity * const *entities;
  json_object *out;
  guint n;

  g_return_val_if_fail (KH_IS_STORE (store), NULL);

  out = json_object_new_object ();
  entities = kh_entities (&n);
  for (guint e = 0; e < n; e++)
    {
      Total total = { 0, 0 };
      char buf[32];

      if (!sum_records (store, entities[e], add_to_total, &total, error))
        {
          json_object_put (out);
          return NULL;
        }
      if (total.count > 0)
        {
          json_object *item = json_object_new_object ();

          g_snprintf (buf, sizeof buf, "%016" G_GINT64_MODIFIER "x", total.checksum);
          json_object_object_add (item, "count", json_object_new_int64 (total.count));
          json_object_object_add (item, "checksum", json_object_new_string (buf));
          json_object_object_add (out, entities[e]->name, item);
        }
    }
  return out;
}

static void
add_to_table (const char         *id,
              const KhReplicaSum *sum,
              gpointer            data)
{
  g_hash_table_insert (data, g_strdup (id), g_memdup2 (sum, sizeof *sum));
}

/* The acknowledged ids of @entity, each with its version and checksum: id → KhReplicaSum. */
GHashTable *
kh_replica_ids (KhStore     *store,
                const char  *entity_name,
                GError     **error)
{
  const KhEntity *entity = kh_entity_lookup (entity_name);
  g_autoptr(GHashTable) out = NULL;

  g_return_val_if_fail (KH_IS_STORE (store), NULL);
  if (entity == NULL)
    {
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_NOT_FOUND,
                   _("This version does not know records of the kind “%s”."), entity_name);
      return NULL;
    }
  out = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  if (!sum_records (store, entity, add_to_table, out, error))
    return NULL;
  return g_steal_pointer (&out);
}

/* Applies records the integrity check fetched by id as a pull applies a page: a record without
 * local changes takes the server's state, one with local changes is merged. The cursor stays
 * where it is. Not while a re-pull is under way, whose end the page would otherwise bring. */
gboolean
kh_replica_apply_records (KhStore         *store,
                          json_object     *records,
                          KhReplicaStats  *stats,
                          GError         **error)
{
  g_autoptr(KhReplicaPage) page = NULL;
  g_autofree char *cursor = kh_replica_get_state (store, KH_SYNC_CURSOR);
  g_autofree char *resetting = kh_replica_get_state (store, KH_SYNC_RESETTING);

  g_return_val_if_fail (KH_IS_STORE (store), FALSE);
  if (cursor == NULL || g_strcmp0 (resetting, "1") == 0)
    {
      g_set_error_literal (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID,
                           _("The replica is in the middle of a pull; sync again."));
      return FALSE;
    }
  page = kh_replica_page_new (records, NULL, error);
  if (page == NULL)
    return FALSE;
  return kh_replica_apply_checked_page (store, page, cursor, FALSE, FALSE, stats, error);
}

/* Drops the records of @ids the server does not have (found by the integrity check), except
 * those with local changes, in one transaction. Returns how many went; 0 with @error set on
 * failure. */
guint
kh_replica_forget (KhStore     *store,
                   const char  *entity_name,
                   GPtrArray   *ids,
                   GError     **error)
{
  const KhEntity *entity = kh_entity_lookup (entity_name);
  guint n = 0;

  g_return_val_if_fail (KH_IS_STORE (store), 0);
  if (entity == NULL || ids->len == 0)
    return 0;
  if (!kh_store_begin (store, error))
    return 0;
  for (guint i = 0; i < ids->len; i++)
    {
      if (kh_journal_count_entries (store, entity->name, ids->pdata[i]) > 0)
        continue;
      if (!_kh_replica_drop_record (store, entity, ids->pdata[i], error))
        {
          kh_store_rollback (store);
          return 0;
        }
      n++;
    }
  if (!kh_store_commit (store, error))
    return 0;
  return n;
}
