/* kh-search-path.c: a unit is found by its path, "thon 1 suoi hiep"
 *
 * Every commune has its "Thôn 1", so a unit's own name does not tell which one a person means;
 * they type the village and its commune ("thon 1 suoi hiep"), in any order. So the search text
 * of a record that belongs to a record of its own kind (a unit under its commune) holds, after
 * its own words, the names of every record above it: one MATCH finds it, as fast at a million
 * records as any other search, and no keystroke reads a unit's parents.
 *
 * The text is folded when the search queue is flushed, from the table as it is then, so a
 * village pulled before its commune is indexed with it. When a unit is named again or moved,
 * the records under it are queued as well (the "path" triggers; units are few and their
 * parents indexed, so that costs one indexed walk down the tree). Only the names of the
 * records above are taken, at most KH_SEARCH_PATH_DEPTH of them (a province, district,
 * commune, village has four levels; a cycle the data should never hold stops there).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include "kh-search-build.h"

#define KH_SEARCH_PATH_DEPTH 8

/* The field by which a record of @entity belongs to another of the same kind, or NULL. */
const KhField *
kh_entity_path_field (const KhEntity *entity)
{
  const KhField *parent = kh_entity_get_field (entity, "parent_id");

  if (parent == NULL || parent->type != KH_FIELD_REF || parent->ref_entity == NULL
      || strcmp (parent->ref_entity, entity->name) != 0 || entity->title_field == NULL)
    return NULL;
  return parent;
}

/* The names above the row called @prefix, separated by spaces, as SQL (never NULL); NULL when
 * @entity has no such records. Read through the parent's unique id, once per level. */
char *
kh_entity_search_path_sql (const KhEntity *entity,
                           const char     *prefix)
{
  const KhField *parent = kh_entity_path_field (entity);

  if (parent == NULL)
    return NULL;
  return g_strdup_printf (
    "coalesce((WITH RECURSIVE kh_path (pid, depth, names) AS ("
    "SELECT %s.%s, 0, '' "
    "UNION ALL SELECT kh_up.%s, kh_path.depth + 1, kh_path.names || ' ' || coalesce(kh_up.%s, '') "
    "FROM kh_path JOIN %s kh_up ON kh_up.id = kh_path.pid WHERE kh_path.depth < %d) "
    "SELECT names FROM kh_path ORDER BY depth DESC LIMIT 1), '')",
    prefix, parent->name, parent->name, entity->title_field, entity->name, KH_SEARCH_PATH_DEPTH);
}

/* The folded search text of the row called @prefix: its search fields, then its path. */
char *
kh_entity_search_text_sql (const KhEntity *entity,
                           const char     *prefix)
{
  g_autofree char *fields = kh_entity_search_sql (entity, prefix);
  g_autofree char *path = kh_entity_search_path_sql (entity, prefix);
  gsize len;

  if (path == NULL)
    return g_steal_pointer (&fields);
  /* kh_fold(a || ' ' || b) with the path inside the fold, before its closing parenthesis. */
  len = strlen (fields);
  g_assert (len > 0 && fields[len - 1] == ')');
  fields[len - 1] = '\0';
  return g_strdup_printf ("%s || ' ' || %s)", fields, path);
}

/* Queues the row called @row and every record under it (its own rowid, if still there, too). */
static char *
queue_under_sql (const KhEntity *entity,
                 const KhField  *parent,
                 const char     *row)
{
  const char *t = entity->name;

  return g_strdup_printf (
    "INSERT OR IGNORE INTO %s_fts_queue (rid) SELECT rid FROM %s WHERE deleted = 0 AND id IN "
    "(WITH RECURSIVE kh_under (id) AS (SELECT %s.id UNION SELECT kh_down.id FROM %s kh_down "
    "JOIN kh_under ON kh_down.%s = kh_under.id) SELECT id FROM kh_under)",
    t, t, row, t, parent->name);
}

/* The triggers that queue the records under a unit when its name or its parent changes, or
 * when it comes or goes (a commune pulled after its villages): their text holds its name.
 * Named like the search triggers, so a bulk load sets them aside with the others and indexes
 * every record once at its end. */
void
kh_entity_append_path_triggers (GString        *sql,
                                const KhEntity *entity)
{
  const KhField *parent = kh_entity_path_field (entity);
  const char *t = entity->name;
  g_autofree char *under_new = NULL;
  g_autofree char *under_old = NULL;

  g_string_append_printf (sql,
    "DROP TRIGGER IF EXISTS %s_path_fts_ai;"
    "DROP TRIGGER IF EXISTS %s_path_fts_au;"
    "DROP TRIGGER IF EXISTS %s_path_fts_ad;", t, t, t);
  if (parent == NULL)
    return;
  under_new = queue_under_sql (entity, parent, "new");
  under_old = queue_under_sql (entity, parent, "old");
  g_string_append_printf (sql,
    "CREATE TRIGGER %s_path_fts_ai AFTER INSERT ON %s "
    "WHEN EXISTS (SELECT 1 FROM %s WHERE %s = new.id) BEGIN %s; END;"
    "CREATE TRIGGER %s_path_fts_au AFTER UPDATE ON %s "
    "WHEN old.%s IS NOT new.%s OR old.%s IS NOT new.%s BEGIN %s; END;"
    "CREATE TRIGGER %s_path_fts_ad AFTER DELETE ON %s BEGIN %s; END;",
    t, t, t, parent->name, under_new,
    t, t, entity->title_field, entity->title_field, parent->name, parent->name, under_new,
    t, t, under_old);
}
