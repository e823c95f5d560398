/* kh-server-integrity.c: counts and checksums of what a user sees, and the ids behind them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include "kh-entity.h"
#include "kh-server-core-private.h"
#include "kh-wire.h"

typedef struct
{
  GHashTable *by_entity;  /* name → KhIntegrityEntry (borrowed) */
  KhIntegrity *integrity;
} Sums;

static gboolean
sum_row_cb (const char * const *v,
            int                 n,
            gpointer            data)
{
  Sums *s = data;
  KhIntegrityEntry *e = g_hash_table_lookup (s->by_entity, v[0]);

  if (e == NULL)
    return TRUE;
  e->count++;
  e->checksum ^= kh_wire_record_checksum (v[1], g_ascii_strtoll (v[2], NULL, 10));
  return TRUE;
}

KhIntegrity *
kh_server_integrity (KhServer            *self,
                     const KhServerUser  *user,
                     GError             **error)
{
  g_autoptr(KhServerLease) l = _kh_server_lease_new (self);
  g_autoptr(KhIntegrity) all = kh_integrity_new ();
  g_autoptr(KhIntegrity) out = kh_integrity_new ();
  g_autoptr(GHashTable) by_entity = g_hash_table_new (g_str_hash, g_str_equal);
  Sums sums = { by_entity, all };
  KhSqlParam p[1] = { KH_SQL_P_TEXT (user->scope_unit_id) };
  const KhEntity * const *entities;
  guint n;
  KhServerMeta meta;

  entities = kh_entities (&n);
  for (guint i = 0; i < n; i++)
    g_hash_table_insert (by_entity, (gpointer) entities[i]->name,
                         kh_integrity_add (all, entities[i]->name));
  if (!kh_server_backend_begin (l->b, KH_TX_READ, error) || !_kh_server_load_meta (l->b, &meta, error))
    return NULL;
  if (!kh_server_backend_exec (l->b, "SELECT entity, id, version FROM records "
                               "WHERE scope_unit IS NULL OR scope_unit IN " SUBTREE,
                               p, 1, sum_row_cb, &sums, NULL, error))
    {
      g_free (meta.server_id);
      return NULL;
    }
  kh_server_backend_commit (l->b, NULL);
  for (guint i = 0; i < all->entities->len; i++)
    {
      KhIntegrityEntry *e = all->entities->pdata[i];

      if (e->count > 0)
        {
          KhIntegrityEntry *o = kh_integrity_add (out, e->entity);

          o->count = e->count;
          o->checksum = e->checksum;
        }
    }
  out->server_id = meta.server_id;
  out->epoch = meta.epoch;
  return g_steal_pointer (&out);
}

static gboolean
id_row_cb (const char * const *v,
           int                 n,
           gpointer            data)
{
  kh_integrity_ids_add (data, v[0], g_ascii_strtoll (v[1], NULL, 10));
  return TRUE;
}

KhIntegrityIds *
kh_server_integrity_ids (KhServer            *self,
                         const KhServerUser  *user,
                         const char          *entity,
                         const char          *after,
                         gint64               limit,
                         GError             **error)
{
  g_autoptr(KhServerLease) l = NULL;
  g_autoptr(KhIntegrityIds) ids = kh_integrity_ids_new ();

  if (entity == NULL || kh_entity_lookup (entity) == NULL)
    {
      g_set_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_INVALID,
                   _("“%s” is not a kind of record this server keeps."), entity ? entity : "");
      return NULL;
    }
  if (limit <= 0)
    limit = KH_PAGE_DEFAULT;
  limit = MIN (limit, KH_PAGE_MAX);
  l = _kh_server_lease_new (self);
  {
    KhSqlParam p[4] = { KH_SQL_P_TEXT (entity), KH_SQL_P_TEXT (after ? after : ""),
                        KH_SQL_P_TEXT (user->scope_unit_id), KH_SQL_P_INT (limit + 1) };

    if (!kh_server_backend_exec (l->b, "SELECT id, version FROM records WHERE entity = ? AND id > ? "
                                 "AND (scope_unit IS NULL OR (scope_unit || '') IN " SUBTREE ") ORDER BY id LIMIT ?",
                                 p, 4, id_row_cb, ids, NULL, error))
      return NULL;
  }
  if (ids->ids->len > (guint) limit)
    {
      ids->has_more = TRUE;
      g_array_set_size (ids->ids, (guint) limit);
    }
  return g_steal_pointer (&ids);
}
