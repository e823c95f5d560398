/* kh-server-integrity.c: counts and checksums of what a user sees, and the ids behind them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include "kh-entity.h"
#include "kh-server-core-private.h"
#include "kh-wire.h"

#include <string.h>

typedef struct
{
  const KhEntity   *entity;
  KhIntegrityEntry *entry;    /* borrowed */
} EntitySum;

typedef struct
{
  GHashTable *by_entity;      /* name → EntitySum */
  GString    *scratch;        /* the canonical text of the record being summed */
  KhValue    *values;         /* room for the fields of the largest entity */
} Sums;

/* The checksum of the record in row @v (id, version, deleted, data) of @entity. */
static guint64
row_checksum (const KhEntity     *entity,
              const char * const *v,
              GString            *scratch,
              KhValue            *values)
{
  return kh_wire_stored_checksum (scratch, values, entity, v[0], g_ascii_strtoll (v[1], NULL, 10),
                                  g_ascii_strtoll (v[2], NULL, 10) != 0, v[3]);
}

static KhValue *
values_new (void)
{
  const KhEntity * const *entities;
  guint n;
  guint most = 1;

  entities = kh_entities (&n);
  for (guint i = 0; i < n; i++)
    most = MAX (most, entities[i]->n_fields);
  return g_new0 (KhValue, most);
}

static gboolean
sum_row_cb (const char * const *v,
            int                 n,
            gpointer            data)
{
  Sums *s = data;
  EntitySum *e = g_hash_table_lookup (s->by_entity, v[0]);

  if (e == NULL)
    return TRUE;
  e->entry->count++;
  e->entry->checksum ^= row_checksum (e->entity, v + 1, s->scratch, s->values);
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
  g_autoptr(GHashTable) by_entity = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  g_autoptr(GString) scratch = g_string_sized_new (1024);
  g_autofree KhValue *values = values_new ();
  Sums sums = { by_entity, scratch, values };
  KhSqlParam p[1] = { KH_SQL_P_TEXT (user->scope_unit_id) };
  const KhEntity * const *entities;
  guint n;
  KhServerMeta meta;

  entities = kh_entities (&n);
  for (guint i = 0; i < n; i++)
    {
      EntitySum *e = g_new (EntitySum, 1);

      e->entity = entities[i];
      e->entry = kh_integrity_add (all, entities[i]->name);
      g_hash_table_insert (by_entity, (gpointer) entities[i]->name, e);
    }
  if (!kh_server_backend_begin (l->b, KH_TX_READ, error) || !_kh_server_load_meta (l->b, &meta, error))
    return NULL;
  if (!kh_server_backend_exec (l->b, "SELECT entity, id, version, deleted, data FROM records "
                               "WHERE scope_unit IS NULL OR scope_unit IN " AREA,
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

typedef struct
{
  const KhEntity *entity;
  KhIntegrityIds *ids;
  GString        *scratch;
  KhValue        *values;
} IdList;

static gboolean
id_row_cb (const char * const *v,
           int                 n,
           gpointer            data)
{
  IdList *l = data;

  kh_integrity_ids_add (l->ids, v[0], g_ascii_strtoll (v[1], NULL, 10),
                        row_checksum (l->entity, v, l->scratch, l->values));
  return TRUE;
}

KhIntegrityIds *
kh_server_integrity_ids (KhServer            *self,
                         const KhServerUser  *user,
                         const char          *entity,
                         const char          *after,
                         const char          *suffix,
                         gint64               limit,
                         GError             **error)
{
  g_autoptr(KhServerLease) l = NULL;
  g_autoptr(KhIntegrityIds) ids = kh_integrity_ids_new ();
  g_autofree char *like = g_strconcat ("%", suffix ? suffix : "", NULL);
  g_autoptr(GString) scratch = g_string_sized_new (1024);
  g_autofree KhValue *values = values_new ();
  IdList list = { entity ? kh_entity_lookup (entity) : NULL, ids, scratch, values };

  if (list.entity == NULL)
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
    KhSqlParam p[5] = { KH_SQL_P_TEXT (entity), KH_SQL_P_TEXT (after ? after : ""), KH_SQL_P_TEXT (like),
                        KH_SQL_P_TEXT (user->scope_unit_id), KH_SQL_P_INT (limit + 1) };

    if (!kh_server_backend_exec (l->b, "SELECT id, version, deleted, data FROM records WHERE entity = ? AND id > ? "
                                 "AND id LIKE ? AND (scope_unit IS NULL OR (scope_unit || '') IN " AREA ") "
                                 "ORDER BY id LIMIT ?",
                                 p, 5, id_row_cb, &list, NULL, error))
      return NULL;
  }
  if (ids->ids->len > (guint) limit)
    {
      ids->has_more = TRUE;
      g_array_set_size (ids->ids, (guint) limit);
    }
  return g_steal_pointer (&ids);
}

typedef struct
{
  const KhEntity   *entity;
  gsize             skip;        /* the length of the suffix */
  KhIntegrityEntry *buckets[16];
  GString          *scratch;
  KhValue          *values;
} Buckets;

static gboolean
bucket_row_cb (const char * const *v,
               int                 n,
               gpointer            data)
{
  Buckets *b = data;
  gsize len = strlen (v[0]);
  int digit = len > b->skip ? g_ascii_xdigit_value (v[0][len - b->skip - 1]) : -1;

  if (digit < 0)
    return TRUE;
  b->buckets[digit]->count++;
  b->buckets[digit]->checksum ^= row_checksum (b->entity, v, b->scratch, b->values);
  return TRUE;
}

KhIntegrity *
kh_server_integrity_buckets (KhServer            *self,
                             const KhServerUser  *user,
                             const char          *entity,
                             const char          *suffix,
                             GError             **error)
{
  g_autoptr(KhServerLease) l = NULL;
  g_autoptr(KhIntegrity) all = kh_integrity_new ();
  g_autoptr(KhIntegrity) out = kh_integrity_new ();
  g_autoptr(GString) scratch = g_string_sized_new (1024);
  g_autofree KhValue *values = values_new ();
  g_autofree char *like = g_strconcat ("%", suffix ? suffix : "", NULL);
  Buckets b = { entity ? kh_entity_lookup (entity) : NULL, suffix ? strlen (suffix) : 0, { NULL }, scratch, values };
  KhServerMeta meta;

  if (b.entity == NULL)
    {
      g_set_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_INVALID,
                   _("“%s” is not a kind of record this server keeps."), entity ? entity : "");
      return NULL;
    }
  for (int d = 0; d < 16; d++)
    {
      char name[2] = { "0123456789abcdef"[d], '\0' };

      b.buckets[d] = kh_integrity_add (all, name);
    }
  l = _kh_server_lease_new (self);
  if (!kh_server_backend_begin (l->b, KH_TX_READ, error) || !_kh_server_load_meta (l->b, &meta, error))
    return NULL;
  {
    KhSqlParam p[3] = { KH_SQL_P_TEXT (entity), KH_SQL_P_TEXT (like), KH_SQL_P_TEXT (user->scope_unit_id) };

    if (!kh_server_backend_exec (l->b, "SELECT id, version, deleted, data FROM records WHERE entity = ? AND id LIKE ? "
                                 "AND (scope_unit IS NULL OR scope_unit IN " AREA ")",
                                 p, 3, bucket_row_cb, &b, NULL, error))
      {
        g_free (meta.server_id);
        return NULL;
      }
  }
  kh_server_backend_commit (l->b, NULL);
  for (int d = 0; d < 16; d++)
    if (b.buckets[d]->count > 0)
      {
        KhIntegrityEntry *o = kh_integrity_add (out, b.buckets[d]->entity);

        o->count = b.buckets[d]->count;
        o->checksum = b.buckets[d]->checksum;
      }
  out->server_id = meta.server_id;
  out->epoch = meta.epoch;
  return g_steal_pointer (&out);
}

typedef struct
{
  GString *text;
  guint    count;
} Found;

static gboolean
record_row_cb (const char * const *v,
               int                 n,
               gpointer            data)
{
  Found *f = data;

  if (f->count++ > 0)
    g_string_append_c (f->text, ',');
  kh_wire_write_record (f->text, v[0], v[1], v[2], g_ascii_strtoll (v[3], NULL, 10) != 0, v[4], v[5], v[6]);
  return TRUE;
}

/* One look-up per id: the repair of the integrity check asks for the few records that differ,
 * and each is found by its key. The scope is checked as the change feed checks it. */
GString *
kh_server_records_by_ids (KhServer            *self,
                          const KhServerUser  *user,
                          const char          *entity,
                          const char * const  *ids,
                          guint                n_ids,
                          GError             **error)
{
  g_autoptr(KhServerLease) l = NULL;
  g_autoptr(GString) text = g_string_new ("{\"records\":[");
  Found found = { text, 0 };
  KhServerMeta meta;

  if (entity == NULL || kh_entity_lookup (entity) == NULL)
    {
      g_set_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_INVALID,
                   _("“%s” is not a kind of record this server keeps."), entity ? entity : "");
      return NULL;
    }
  l = _kh_server_lease_new (self);
  if (!kh_server_backend_begin (l->b, KH_TX_READ, error) || !_kh_server_load_meta (l->b, &meta, error))
    return NULL;
  for (guint i = 0; i < n_ids; i++)
    {
      KhSqlParam p[3] = { KH_SQL_P_TEXT (entity), KH_SQL_P_TEXT (ids[i]), KH_SQL_P_TEXT (user->scope_unit_id) };

      if (!kh_server_backend_exec (l->b, "SELECT entity, id, version, deleted, data, updated_by, updated_at "
                                   "FROM records WHERE entity = ? AND id = ? "
                                   "AND (scope_unit IS NULL OR scope_unit IN " AREA ")",
                                   p, 3, record_row_cb, &found, NULL, error))
        {
          g_free (meta.server_id);
          return NULL;
        }
    }
  kh_server_backend_commit (l->b, NULL);
  g_string_append (text, "],\"server_id\":");
  kh_wire_write_string (text, meta.server_id, -1);
  g_string_append_printf (text, ",\"epoch\":%" G_GINT64_FORMAT "}", meta.epoch);
  g_free (meta.server_id);
  return g_steal_pointer (&text);
}
