/* kh-server-feed.c: the change feed: a user's scope, page by page, from a cursor
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-server-core-private.h"
#include "kh-server-metrics.h"
#include "kh-wire.h"

typedef struct
{
  GString *text;   /* the records, as JSON array elements */
  guint    count;
  gint64   last;
} Feed;

/* A RECORD written straight from the row: the stored data is already compact JSON made by the
 * server, so it goes out as it is, without being parsed and written again. */
static gboolean
feed_row_cb (const char * const *v,
             int                 n,
             gpointer            data)
{
  Feed *f = data;

  if (f->count++ > 0)
    g_string_append_c (f->text, ',');
  kh_wire_write_record (f->text, v[0], v[1], v[2], g_ascii_strtoll (v[3], NULL, 10) != 0, v[4], v[5], v[6]);
  f->last = g_ascii_strtoll (v[2], NULL, 10);
  return TRUE;
}

static gboolean
removed_row_cb (const char * const *v,
                int                 n,
                gpointer            data)
{
  kh_changes_page_add_removed (data, v[0], v[1]);
  return TRUE;
}

static gboolean
parse_cursor (const char  *cursor,
              gint64      *epoch,
              gint64      *gen,
              gint64      *version,
              char       **sid,
              GError     **error)
{
  g_auto(GStrv) parts = g_strsplit (cursor, ".", 5);
  char *end;

  if (g_strv_length (parts) != 4)
    goto bad;
  for (int i = 0; i < 3; i++)
    {
      gint64 v;

      if (*parts[i] == '\0' || !g_ascii_isdigit (*parts[i]))
        goto bad;
      v = g_ascii_strtoll (parts[i], &end, 10);
      if (*end != '\0' || v < 0)
        goto bad;
      *(i == 0 ? epoch : i == 1 ? gen : version) = v;
    }
  if (strlen (parts[3]) != 8)
    goto bad;
  *sid = g_strdup (parts[3]);
  return TRUE;

bad:
  g_set_error_literal (error, KH_SYNC_ERROR, KH_SYNC_ERROR_INVALID,
                       _("The cursor is not one this server gave out; start again with an empty cursor."));
  return FALSE;
}

typedef struct
{
  char     *root;
  char     *until;
} OldScope;

static gboolean
old_scope_row_cb (const char * const *v,
                  int                 n,
                  gpointer            data)
{
  OldScope *o = data;

  o->root = g_strdup (v[0]);
  o->until = g_strdup (v[1]);
  return FALSE;
}

/* After a change of scope, names what the old scope held and the new one does not, so the
 * client keeps its unsent changes to them as refused rather than sending them again as new.
 * Only what the account could have had: records unchanged since its old generation ended
 * (until_version), in units none of whose ancestors in that area changed since (a unit moved
 * in later was never visible), and at most @limit of them; any the list leaves out are sent
 * again and refused as out of scope. The cursor's version is the client's word, so it is no
 * bound: without these limits an old cursor listed every id of the old area, ever after. */
static gboolean
name_left_scope (KhServerBackend     *b,
                 const KhServerUser  *user,
                 gint64               c_gen,
                 gint64               c_version,
                 gint64               limit,
                 KhChangesPage       *page,
                 GError             **error)
{
  KhSqlParam h[2] = { KH_SQL_P_TEXT (user->id), KH_SQL_P_INT (c_gen) };
  OldScope old = { NULL, NULL };
  gboolean ok = TRUE;

  if (c_gen >= user->scope_gen
      || !kh_server_backend_exec (b, "SELECT scope_unit_id, CAST(until_version AS TEXT) FROM scope_history "
                                  "WHERE user_id = ? AND gen = ?", h, 2, old_scope_row_cb, &old, NULL, error))
    return c_gen >= user->scope_gen;
  if (old.root != NULL && old.until != NULL && strcmp (old.root, user->scope_unit_id) != 0)
    {
      gint64 until = MIN (c_version, g_ascii_strtoll (old.until, NULL, 10));
      KhSqlParam p[6] = {
        KH_SQL_P_INT (until), KH_SQL_P_TEXT (old.root), KH_SQL_P_TEXT (user->scope_unit_id),
        KH_SQL_P_INT (until), KH_SQL_P_TEXT (old.root), KH_SQL_P_INT (limit),
      };

      ok = kh_server_backend_exec (b, "SELECT entity, id FROM records WHERE version <= ? "
                                   "AND scope_unit IN " AREA " AND scope_unit NOT IN " AREA " "
                                   "AND scope_unit NOT IN (SELECT c.descendant FROM org_closure c "
                                   "  JOIN records u ON u.entity = 'org_unit' AND u.id = c.ancestor "
                                   "  WHERE u.version > ? AND c.ancestor IN " AREA ") "
                                   "ORDER BY version LIMIT ?",
                                   p, 6, removed_row_cb, page, NULL, error);
    }
  g_free (old.root);
  g_free (old.until);
  return ok;
}

/* Records moved out of the scope by someone else, in the span (@start, @next] a page covers. */
static gboolean
name_moved_out (KhServerBackend     *b,
                const KhServerUser  *user,
                gint64               start,
                gint64               next,
                KhChangesPage       *page,
                GError             **error)
{
  KhSqlParam p[4] = { KH_SQL_P_INT (start), KH_SQL_P_INT (next), KH_SQL_P_TEXT (user->scope_unit_id),
                      KH_SQL_P_TEXT (user->scope_unit_id) };

  return kh_server_backend_exec (b, "SELECT m.entity, m.id FROM moves m JOIN records r "
                                 "ON r.entity = m.entity AND r.id = m.id "
                                 "WHERE m.version > ? AND m.version <= ? AND m.old_unit IN " AREA " "
                                 "AND (r.scope_unit IS NULL OR r.scope_unit NOT IN " AREA ")",
                                 p, 4, removed_row_cb, page, NULL, error);
}

guint _kh_server_feed_scope_walk_units = KH_FEED_SCOPE_WALK_UNITS;
guint _kh_server_feed_scope_walks;

typedef struct
{
  GPtrArray *units;
  guint      max;
} AreaUnits;

static gboolean
area_unit_row_cb (const char * const *v,
                  int                 n,
                  gpointer            data)
{
  AreaUnits *a = data;

  g_ptr_array_add (a->units, g_strdup (v[0]));
  return a->units->len <= a->max;
}

char *
_kh_server_feed_by_scope_sql (guint    n_units,
                              gboolean part_limits)
{
  GString *sql = g_string_new (NULL);

  /* One part for the shared records (no unit), then one for each unit, each an index range on
   * records_by_scope (scope_unit, version), so already in version order: SQLite merges them as
   * they come (MERGE (UNION ALL)) and stops at the page's end, reading about @limit rows plus
   * one a unit, however big the table; a LIMIT in each part would make it sort each part's
   * rows first. PostgreSQL gets that LIMIT (@part_limits): without it, it may plan an Append
   * and a sort of every row of the area after the cursor; with it, it merges (Merge Append)
   * and reads at most (units + 1) × limit rows whatever the plan. */
  for (guint i = 0; i <= n_units; i++)
    {
      g_string_append (sql, i > 0 ? " UNION ALL " : "");
      g_string_append (sql, part_limits ? "SELECT * FROM (" : "");
      g_string_append_printf (sql, "SELECT entity, id, version, deleted, data, updated_by, updated_at "
                              "FROM records WHERE scope_unit %s AND version > ?",
                              i > 0 ? "= ?" : "IS NULL");
      if (part_limits)
        g_string_append_printf (sql, " ORDER BY version LIMIT ?) AS u%u", i);
    }
  g_string_append (sql, " ORDER BY version LIMIT ?");
  return g_string_free (sql, FALSE);
}

/* The next @limit records after @start in the user's area, by version, shared records
 * included. Two plans give the same rows: an area of a few units (a commune and its villages)
 * merges one walk of records_by_scope a unit, so its cost follows the page, not the table
 * (the version walk reads every record of other areas in between: 30 s for a commune's first
 * page among 10 million records of another province); a large one (a province's hundred
 * communes, most of the table) walks records_by_version from the cursor and drops the few rows
 * outside, with one statement whatever the number of units. The units are read first, in this
 * transaction, and at most one more than the bound. */
static gboolean
feed_page (KhServerBackend     *b,
           const KhServerUser  *user,
           gint64               start,
           gint64               limit,
           Feed                *feed,
           GError             **error)
{
  g_autoptr(GPtrArray) units = g_ptr_array_new_with_free_func (g_free);
  AreaUnits area = { units, _kh_server_feed_scope_walk_units };
  KhSqlParam up[2] = { KH_SQL_P_TEXT (user->scope_unit_id), KH_SQL_P_INT (area.max + 1) };

  if (area.max > 0
      && !kh_server_backend_exec (b, "SELECT x.u FROM " AREA " AS x LIMIT ?", up, 2, area_unit_row_cb, &area, NULL,
                                  error))
    return FALSE;
  if (area.max > 0 && units->len <= area.max)
    {
      gboolean part_limits = strcmp (kh_server_backend_get_name (b), "postgresql") == 0;
      g_autofree char *sql = _kh_server_feed_by_scope_sql (units->len, part_limits);
      g_autofree KhSqlParam *p = g_new0 (KhSqlParam, 3 * units->len + 3);
      guint n = 0;

      for (guint i = 0; i <= units->len; i++)
        {
          if (i > 0)
            p[n++] = KH_SQL_P_TEXT (units->pdata[i - 1]);
          p[n++] = KH_SQL_P_INT (start);
          if (part_limits)
            p[n++] = KH_SQL_P_INT (limit);
        }
      p[n++] = KH_SQL_P_INT (limit);
      g_atomic_int_inc (&_kh_server_feed_scope_walks);
      return kh_server_backend_exec (b, sql, p, n, feed_row_cb, feed, NULL, error);
    }

  {
    KhSqlParam p[3] = { KH_SQL_P_INT (start), KH_SQL_P_TEXT (user->scope_unit_id), KH_SQL_P_INT (limit) };

    /* "scope_unit || ''" keeps SQLite from answering the OR with two index lookups and a sort
     * of every match (for each page!): it walks the version index from the cursor instead,
     * and stops after @limit rows in scope. PostgreSQL plans it the same way. */
    return kh_server_backend_exec (b, "SELECT entity, id, version, deleted, data, updated_by, updated_at "
                                   "FROM records WHERE version > ? AND (scope_unit IS NULL OR (scope_unit || '') IN " AREA ") "
                                   "ORDER BY version LIMIT ?", p, 3, feed_row_cb, feed, NULL, error);
  }
}

GString *
kh_server_changes (KhServer            *self,
                   const KhServerUser  *user,
                   const char          *cursor,
                   gint64               limit,
                   GError             **error)
{
  g_autoptr(KhServerLease) l = NULL;
  g_autoptr(KhChangesPage) page = kh_changes_page_new ();
  g_autofree char *sid = NULL;
  gint64 c_epoch = 0, c_gen = 0, c_version = 0, max_version = 0;
  gint64 start, next;
  gboolean given = cursor != NULL && *cursor != '\0';
  KhServerMeta meta;
  g_autoptr(GString) records = g_string_sized_new (4096);
  Feed feed = { records, 0, 0 };

  g_return_val_if_fail (user->scope_unit_id != NULL, NULL);

  if (limit <= 0)
    limit = KH_PAGE_DEFAULT;
  limit = MIN (limit, KH_PAGE_MAX);
  if (given && !parse_cursor (cursor, &c_epoch, &c_gen, &c_version, &sid, error))
    return NULL;

  l = _kh_server_lease_new (self);
  if (!kh_server_backend_begin (l->b, KH_TX_READ, error) || !_kh_server_load_meta (l->b, &meta, error))
    return NULL;
  page->server_id = meta.server_id;
  page->epoch = meta.epoch;
  max_version = meta.version;

  start = c_version;
  if (given && (c_epoch != meta.epoch || strncmp (sid, meta.server_id, 8) != 0
                || c_version < meta.purged_through || c_version > max_version
                || c_gen != user->scope_gen))
    {
      page->reset = TRUE;
      start = 0;
      if (c_epoch == meta.epoch && strncmp (sid, meta.server_id, 8) == 0 && c_gen != user->scope_gen
          && !name_left_scope (l->b, user, c_gen, c_version, limit, page, error))
        return NULL;
    }

  if (!feed_page (l->b, user, start, limit, &feed, error))
    return NULL;
  page->has_more = feed.count >= (guint) limit;
  next = page->has_more ? feed.last : max_version;
  if (start > 0 && !name_moved_out (l->b, user, start, next, page, error))
    return NULL;
  /* The client checks that every record is in this unit's tree (kh-replica-tree.c). */
  if (!given || page->reset)
    page->scope_unit_id = g_strdup (user->scope_unit_id);
  page->cursor = g_strdup_printf ("%" G_GINT64_FORMAT ".%" G_GINT64_FORMAT ".%" G_GINT64_FORMAT ".%.8s",
                                  meta.epoch, user->scope_gen, next, meta.server_id);
  kh_server_backend_commit (l->b, NULL);
  kh_server_metrics_feed (feed.count);

  return kh_wire_write_page (page, records->str, records->len);
}
