/* kh-replica-tree.c: a page must keep the replica one tree, inside its area
 *
 * A server (a faulty one, or one that is not ours) could send records of another area or org
 * units whose parents go round in a circle; the replica would keep them, the window's tree
 * and the figures' roll-ups would walk in circles or count another ward's records. A page is
 * therefore refused, like any other invalid page, when after applying it (in its transaction,
 * which is then rolled back) an org unit it brought is its own ancestor, or a record it brought
 * is in a unit whose parents lead to a top that is not the user's scope unit nor a unit of its
 * area: the area also holds, through unit_succession (as on the server), the units that
 * preceded a unit in it and theirs, and their parents, which are not its, may lead elsewhere.
 * A succession comes in the feed after the records of its predecessor that were made before
 * it, so a unit that leads elsewhere is judged again when the pull ends, like an open one.
 *
 * The feed is in version order, so a record may come before a unit above it that changed
 * later: a unit not in the replica yet leaves the question open, and the places left open are
 * asked again when the pull ends (has_more false). A record whose own unit never came is let
 * be (a deleted unit's tombstone is purged after the window while its records may stay); a
 * unit that came with a way up ending short of the scope unit is a second tree, refused. Verdicts are remembered on the store until
 * a page brings an org unit, so a first pull of a million records asks the tree once per unit,
 * not once per record.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-replica-private.h"

typedef struct
{
  char       *scope;    /* the scope the verdicts are for */
  GHashTable *inside;   /* unit id → TRUE: inside the scope */
  GHashTable *open;     /* unit ids not in the replica when a record named them */
  GHashTable *area;     /* the units of the area as the replica knows it; NULL: not asked */
} TreeCache;

static void
tree_cache_free (TreeCache *c)
{
  g_free (c->scope);
  g_hash_table_unref (c->inside);
  g_hash_table_unref (c->open);
  g_clear_pointer (&c->area, g_hash_table_unref);
  g_free (c);
}

static TreeCache *
tree_cache (KhStore    *store,
            const char *scope)
{
  TreeCache *c = g_object_get_data (G_OBJECT (store), "kh-replica-tree");

  if (c == NULL || g_strcmp0 (c->scope, scope) != 0)
    {
      c = g_new0 (TreeCache, 1);
      c->scope = g_strdup (scope);
      c->inside = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      c->open = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      g_object_set_data_full (G_OBJECT (store), "kh-replica-tree", c, (GDestroyNotify) tree_cache_free);
    }
  return c;
}

void
kh_replica_page_set_scope (KhReplicaPage *page,
                           const char    *scope_unit_id)
{
  g_return_if_fail (page != NULL);

  g_free (page->scope_unit_id);
  page->scope_unit_id = g_strdup (scope_unit_id);
}

/* The parent of the unit @id: FALSE when the replica has no such unit. */
static gboolean
parent_of (KhStore     *store,
           const char  *id,
           char       **parent,
           GError     **error)
{
  sqlite3_stmt *stmt = kh_store_prepare (store, "SELECT parent_id FROM org_unit WHERE id = ?", error);
  gboolean found;

  *parent = NULL;
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_TRANSIENT);
  found = sqlite3_step (stmt) == SQLITE_ROW;
  if (found && sqlite3_column_type (stmt, 0) != SQLITE_NULL)
    *parent = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_reset (stmt);
  return found;
}

/* The units of @scope's area the replica holds: its subtree, and that of every unit that
 * preceded a unit in it, transitively (AREA on the server). Once per page that brings units
 * or successions, not per record. */
static GHashTable *
area_of (KhStore     *store,
         const char  *scope,
         GError     **error)
{
  sqlite3_stmt *stmt = kh_store_prepare (store,
    "WITH RECURSIVE area (u) AS (SELECT ? "
    "UNION SELECT o.id FROM org_unit o JOIN area a ON o.parent_id = a.u "
    "UNION SELECT s.predecessor_id FROM unit_succession s JOIN area a ON s.successor_id = a.u "
    "WHERE s.deleted = 0 AND s.predecessor_id IS NOT NULL) SELECT u FROM area", error);
  GHashTable *area;
  int rc;

  if (stmt == NULL)
    return NULL;
  area = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  sqlite3_bind_text (stmt, 1, scope, -1, SQLITE_TRANSIENT);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_hash_table_add (area, g_strdup ((const char *) sqlite3_column_text (stmt, 0)));
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      kh_sqlite_set_error (error, kh_store_get_db (store), "area");
      g_hash_table_unref (area);
      return NULL;
    }
  return area;
}

typedef enum
{
  PLACE_INSIDE,
  PLACE_ABSENT,    /* the unit itself is not in the replica (yet, or any more: a deleted
                    * unit's tombstone is purged after the window, its records may stay) */
  PLACE_OPEN,      /* a unit above it is not in the replica (yet) */
  PLACE_OUTSIDE,   /* the way up ends at a top that is not the scope unit */
  PLACE_CYCLE,     /* the way up goes round */
} Verdict;

static Verdict
walk_up (KhStore     *store,
         TreeCache   *cache,
         const char  *unit,
         const char  *scope,
         GError     **error)
{
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *cur = g_strdup (unit);

  while (cur != NULL)
    {
      char *parent = NULL;

      if ((scope != NULL && strcmp (cur, scope) == 0)
          || (cache != NULL && g_hash_table_contains (cache->inside, cur)))
        return PLACE_INSIDE;
      if (scope != NULL && cache != NULL)
        {
          if (cache->area == NULL && (cache->area = area_of (store, scope, error)) == NULL)
            return PLACE_OUTSIDE;
          if (g_hash_table_contains (cache->area, cur))
            return PLACE_INSIDE;
        }
      if (!g_hash_table_add (seen, g_strdup (cur)))
        return PLACE_CYCLE;
      if (!parent_of (store, cur, &parent, error))
        return g_hash_table_size (seen) == 1 ? PLACE_ABSENT : PLACE_OPEN;
      g_free (cur);
      cur = parent;
    }
  return scope != NULL ? PLACE_OUTSIDE : PLACE_INSIDE;
}

/* The unit of @r that decides whose record it is, or NULL (shared entities, no value). */
static const char *
place_of (const Remote *r,
          char        **scratch)
{
  const char *field = r->entity->scope_field;
  int index;

  if (field == NULL)
    return NULL;
  if (strcmp (field, "id") == 0)
    return *scratch = g_strndup (r->id, (gsize) r->id_len);
  /* An abolition has no successor: it is its predecessor's (as on the server). */
  if (strcmp (r->entity->name, "unit_succession") == 0)
    {
      const char *place = NULL;
      const char *names[] = { field, "predecessor_id" };

      for (guint k = 0; k < G_N_ELEMENTS (names) && place == NULL; k++)
        {
          index = kh_entity_field_index (r->entity, names[k]);
          if (r->fields != NULL)
            {
              json_object *v;

              if (json_object_object_get_ex (r->fields, names[k], &v) && json_object_is_type (v, json_type_string))
                place = json_object_get_string (v);
            }
          else if (r->values != NULL && index >= 0 && r->values[index].kind == KH_VALUE_TEXT)
            place = r->values[index].text;
        }
      return place;
    }
  index = kh_entity_field_index (r->entity, field);
  if (r->fields != NULL)
    {
      json_object *v;

      if (json_object_object_get_ex (r->fields, field, &v) && json_object_is_type (v, json_type_string))
        return json_object_get_string (v);
      return NULL;
    }
  if (r->values != NULL && index >= 0 && r->values[index].kind == KH_VALUE_TEXT)
    return r->values[index].text;
  return NULL;
}

static gboolean
check_tree (KhStore        *store,
            KhReplicaPage  *page,
            gboolean        may_rescope,
            gboolean        last,
            GError        **error)
{
  g_autofree char *stored = kh_replica_get_state (store, KH_SYNC_SCOPE_UNIT);
  const char *scope = page->scope_unit_id != NULL ? page->scope_unit_id : stored;
  TreeCache *cache;
  GError *local = NULL;
  gboolean units = FALSE;

  if (page->scope_unit_id != NULL && g_strcmp0 (stored, page->scope_unit_id) != 0)
    {
      if (stored != NULL && !may_rescope)
        return _kh_replica_bad_answer (error, _("the page names another area without starting again"));
      if (!kh_replica_set_state (store, KH_SYNC_SCOPE_UNIT, page->scope_unit_id, error))
        return FALSE;
    }
  cache = tree_cache (store, scope);

  for (guint i = 0; i < page->n_records && !units; i++)
    units = strcmp (page->remotes[i].entity->name, "org_unit") == 0
            || strcmp (page->remotes[i].entity->name, "unit_succession") == 0;
  if (units)
    {
      g_hash_table_remove_all (cache->inside);
      g_clear_pointer (&cache->area, g_hash_table_unref);
    }

  for (guint i = 0; i < page->n_records; i++)
    {
      const Remote *r = &page->remotes[i];
      g_autofree char *scratch = NULL;
      const char *place = place_of (r, &scratch);
      Verdict v;

      if (place == NULL || g_hash_table_contains (cache->inside, place))
        continue;
      if (strcmp (r->entity->name, "org_unit") == 0)
        {
          /* Its own way up, without the scope's stop: a circle is refused wherever it is. */
          if (walk_up (store, NULL, place, NULL, &local) == PLACE_CYCLE)
            return _kh_replica_bad_answer (error, _("org units are placed under each other in a circle"));
        }
      /* A replica that never heard its scope unit (made before servers named it) can only
       * be checked for circles until its next reset or sign-in. */
      if (scope == NULL)
        continue;
      v = walk_up (store, cache, place, scope, &local);
      if (local != NULL)
        {
          g_propagate_error (error, local);
          return FALSE;
        }
      switch (v)
        {
        case PLACE_INSIDE:
          if (scope != NULL)
            g_hash_table_add (cache->inside, g_strdup (place));
          break;
        case PLACE_ABSENT:
        case PLACE_OPEN:
          g_hash_table_add (cache->open, g_strdup (place));
          break;
        case PLACE_OUTSIDE:
          /* The link that brings it into the area may come in a later page. */
          if (!last)
            {
              g_hash_table_add (cache->open, g_strdup (place));
              break;
            }
          return _kh_replica_bad_answer (error, _("a record is in a unit outside this account’s area"));
        case PLACE_CYCLE:
          return _kh_replica_bad_answer (error, _("org units are placed under each other in a circle"));
        default:
          g_assert_not_reached ();
        }
    }

  if (last && scope != NULL)
    {
      GHashTableIter iter;
      gpointer key;

      g_hash_table_iter_init (&iter, cache->open);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        {
          Verdict v = walk_up (store, cache, key, scope, &local);

          if (local != NULL)
            {
              g_propagate_error (error, local);
              return FALSE;
            }
          /* A unit the pull never brought cannot be judged here; one that came with a way up
           * that stops short of the scope unit is a second tree. */
          if (v != PLACE_INSIDE && v != PLACE_ABSENT)
            return _kh_replica_bad_answer (error, _("a record is in a unit outside this account’s area"));
        }
      g_hash_table_remove_all (cache->open);
    }
  return TRUE;
}

/* Checks @page, applied in the open transaction: see the comment at the top. @may_rescope
 * says the page may name a new scope unit (a reset, or the first page of a replica); @last
 * that it ends the pull. */
gboolean
_kh_replica_check_tree (KhStore        *store,
                        KhReplicaPage  *page,
                        gboolean        may_rescope,
                        gboolean        last,
                        GError        **error)
{
  if (check_tree (store, page, may_rescope, last, error))
    return TRUE;
  /* The page is rolled back: forget what was learned from it. */
  g_object_set_data (G_OBJECT (store), "kh-replica-tree", NULL);
  return FALSE;
}
