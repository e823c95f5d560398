/* kh-record-list.c: a GListModel of an entity's records, paged from SQLite on demand
 *
 * A list of a million rows must open at once and scroll smoothly, so the model never loads all
 * rows: it counts them, then fetches pages of KH_RECORD_LIST_PAGE_SIZE rows when a view asks for
 * an item, and keeps at most KH_RECORD_LIST_MAX_PAGES pages (least recently used go first).
 *
 * Pages are fetched by keyset where it can: every fetched page leaves a bookmark (the sort key
 * and rowid of its first and last rows), and the next page is "rows after this key", which an
 * index walks straight to. A jump far from any bookmark (dragging the scroll bar to the end)
 * counts from whichever is nearest: the start, a bookmark, or the end (read backwards), so the
 * last row costs as little as the first.
 *
 * Only names from the entity registry ever reach the SQL text; values are bound.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-error.h"
#include "kh-fold.h"
#include "kh-record-list.h"
#include "kh-privacy.h"
#include "kh-schema.h"
#include "kh-store-sql.h"

typedef struct
{
  char        *field;
  json_object *value;
} Filter;

typedef struct
{
  sqlite3_value *first_key;
  gint64         first_rid;
  sqlite3_value *last_key;
  gint64         last_rid;
} Bookmark;

struct _KhRecordList
{
  GObject         parent_instance;

  KhStore        *store;
  const KhEntity *entity;
  char           *sort_field;
  gboolean        descending;
  GPtrArray      *filters;
  char           *search;
  char           *fts_query;
  int             match_slot; /* temp.kh_match_N holds the search's matches, or -1 */
  gboolean        matches_ready;
  gint64          n_matches;
  gboolean        without_consent; /* people: only minors without a valid consent */

  guint           n_items;
  GHashTable     *pages;      /* page number → GPtrArray of KhRecordItem */
  GQueue          lru;        /* page numbers, most recent first */
  GHashTable     *bookmarks;  /* page number → Bookmark */
  GHashTable     *titles;     /* "entity/id" → title of a referenced record */
  GError         *error;
  guint           n_queries;
  gulong          changed_id;
};

enum {
  PROP_0,
  PROP_N_ITEMS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  BEFORE_CHANGE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void list_model_iface_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (KhRecordList, kh_record_list, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, list_model_iface_init))

static void
filter_free (gpointer data)
{
  Filter *f = data;

  g_free (f->field);
  json_object_put (f->value);
  g_free (f);
}

static void
bookmark_free (gpointer data)
{
  Bookmark *b = data;

  sqlite3_value_free (b->first_key);
  sqlite3_value_free (b->last_key);
  g_free (b);
}

static void
clear_cache (KhRecordList *self)
{
  g_hash_table_remove_all (self->pages);
  g_hash_table_remove_all (self->bookmarks);
  g_queue_clear (&self->lru);
}

/* SQL ----------------------------------------------------------------------------------------- */

/* The expression lists are sorted by, or NULL for creation order (the rowid). Text sorts folded,
 * so "Đặng" sits with the D's and case does not matter; missing values sort first. */
static char *
key_expr (KhRecordList *self)
{
  const KhField *field;

  if (self->sort_field == NULL)
    return NULL;
  field = kh_entity_get_field (self->entity, self->sort_field);
  switch (field->type)
    {
    case KH_FIELD_TEXT:
      /* People by given name, as Vietnamese lists are (and as schema version 8 indexes). */
      if (field->flags & KH_FIELD_FLAG_PERSON_NAME)
        return g_strdup_printf ("kh_name_key(coalesce(%s, ''))", field->name);
      return g_strdup_printf ("kh_fold(coalesce(%s, ''))", field->name);
    case KH_FIELD_INT:
    case KH_FIELD_YEAR:
    case KH_FIELD_MONEY:
    case KH_FIELD_BOOL:
      return g_strdup_printf ("coalesce(%s, -9223372036854775807)", field->name);
    case KH_FIELD_ENUM:
    case KH_FIELD_DATE:
    case KH_FIELD_REF:
    case KH_FIELD_JSON:
    default:
      return g_strdup_printf ("coalesce(%s, '')", field->name);
    }
}

/* Whether the list is sorted by a name whose folded value the schema indexes. */
static gboolean
sorted_by_folded_index (KhRecordList *self)
{
  return self->sort_field != NULL
         && (kh_entity_get_field (self->entity, self->sort_field)->flags & KH_FIELD_FLAG_FOLDED_INDEX);
}

/* @walk_index: the rows are read in the order of the folded name's index, the search's
 * matches only checked against it ("+rid", which SQLite will not look rows up by). Otherwise
 * SQLite looks every match up and sorts them all, folding each name: slow when a common family
 * name matches a large share of the people, where the index gives the first page at once. For a
 * few thousand matches, sorting them is the cheaper: see walks_index(). */
static gboolean
walks_index (KhRecordList *self)
{
  return sorted_by_folded_index (self) && (self->fts_query == NULL || !self->matches_ready
                                           || self->n_matches >= 10000);
}

static void
append_where (KhRecordList *self,
              GString      *sql,
              gboolean      walk_index)
{
  g_string_append (sql, " WHERE deleted = 0");
  for (guint i = 0; i < self->filters->len; i++)
    {
      Filter *f = self->filters->pdata[i];
      const KhField *field = kh_entity_get_field (self->entity, f->field);

      if (json_object_is_type (f->value, json_type_array))
        {
          g_string_append_printf (sql, " AND %s IN (", f->field);
          for (size_t k = 0; k < json_object_array_length (f->value); k++)
            g_string_append (sql, k ? ", ?" : "?");
          g_string_append (sql, ")");
        }
      else if (field->type == KH_FIELD_DATE && json_object_is_type (f->value, json_type_int))
        g_string_append_printf (sql, " AND %s BETWEEN ? AND ?", f->field);
      else if ((field->flags & KH_FIELD_FLAG_SCHOOL_YEAR)
               && json_object_is_type (f->value, json_type_int))
        g_string_append_printf (sql, " AND %s IN (?, ?)", f->field);
      else
        g_string_append_printf (sql, " AND %s = ?", f->field);
    }
  if (self->without_consent)
    g_string_append_printf (sql, " AND %s", kh_privacy_no_consent_column ());
  if (self->fts_query != NULL && self->matches_ready)
    g_string_append_printf (sql, " AND %srid IN (SELECT rid FROM temp.kh_match_%d)",
                            walk_index ? "+" : "", self->match_slot);
  else if (self->fts_query != NULL)
    g_string_append_printf (sql, " AND %srid IN (SELECT rowid FROM %s_fts WHERE text MATCH ?)",
                            walk_index ? "+" : "", self->entity->name);
}

static void
bind_where (KhRecordList *self,
            sqlite3_stmt *stmt,
            int          *index)
{
  for (guint i = 0; i < self->filters->len; i++)
    {
      Filter *f = self->filters->pdata[i];
      const KhField *field = kh_entity_get_field (self->entity, f->field);

      if (json_object_is_type (f->value, json_type_array))
        {
          for (size_t k = 0; k < json_object_array_length (f->value); k++)
            kh_store_bind_value (stmt, (*index)++, field, json_object_array_get_idx (f->value, k));
        }
      else if (field->type == KH_FIELD_DATE && json_object_is_type (f->value, json_type_int))
        {
          /* A year given for a date: the whole calendar year, which the index still serves. */
          int year = json_object_get_int (f->value);
          g_autofree char *from = g_strdup_printf ("%04d-01-01", year);
          g_autofree char *to = g_strdup_printf ("%04d-12-31", year);

          sqlite3_bind_text (stmt, (*index)++, from, -1, SQLITE_TRANSIENT);
          sqlite3_bind_text (stmt, (*index)++, to, -1, SQLITE_TRANSIENT);
        }
      else if ((field->flags & KH_FIELD_FLAG_SCHOOL_YEAR)
               && json_object_is_type (f->value, json_type_int))
        {
          /* A calendar year touches two school years: the one it ends and the one it starts. */
          int year = json_object_get_int (f->value);
          g_autofree char *ending = g_strdup_printf ("%04d-%04d", year - 1, year);
          g_autofree char *starting = g_strdup_printf ("%04d-%04d", year, year + 1);

          sqlite3_bind_text (stmt, (*index)++, ending, -1, SQLITE_TRANSIENT);
          sqlite3_bind_text (stmt, (*index)++, starting, -1, SQLITE_TRANSIENT);
        }
      else
        kh_store_bind_value (stmt, (*index)++, field, f->value);
    }
  if (self->fts_query != NULL && !self->matches_ready)
    sqlite3_bind_text (stmt, (*index)++, self->fts_query, -1, SQLITE_TRANSIENT);
}

static void
set_error (KhRecordList *self,
           const char   *what)
{
  g_clear_error (&self->error);
  kh_sqlite_set_error (&self->error, kh_store_get_db (self->store), what);
  g_debug ("%s", self->error->message);
}

/* A search's matches are looked up in the FTS index once, into a temporary table of rowids
 * (in memory), which every page, count and lookup then reads: matching "nguyen" again for each
 * page cost more than the page. A table name is a slot number, taken back when the list goes, so
 * the store's cache of prepared statements does not grow with every list made. */
G_LOCK_DEFINE_STATIC (match_slots);
static guint64 match_slots;

static void
release_matches (KhRecordList *self)
{
  if (self->match_slot < 0)
    return;
  if (self->store != NULL)
    {
      g_autofree char *sql = g_strdup_printf ("DROP TABLE IF EXISTS temp.kh_match_%d", self->match_slot);

      kh_sqlite_exec (kh_store_get_db (self->store), sql, NULL);
    }
  G_LOCK (match_slots);
  match_slots &= ~(G_GUINT64_CONSTANT (1) << self->match_slot);
  G_UNLOCK (match_slots);
  self->match_slot = -1;
  self->matches_ready = FALSE;
}

/* Fills the table with the matches of the search; the number of them, or -1 when the table
 * could not be used (the queries then match in the FTS index each time). */
static gint64
fill_matches (KhRecordList *self)
{
  sqlite3 *db = kh_store_get_db (self->store);
  g_autofree char *sql = NULL;
  sqlite3_stmt *stmt;
  gint64 n = -1;

  self->matches_ready = FALSE;
  if (self->match_slot < 0)
    {
      G_LOCK (match_slots);
      for (int i = 0; i < 64 && self->match_slot < 0; i++)
        if (!(match_slots & (G_GUINT64_CONSTANT (1) << i)))
          {
            match_slots |= G_GUINT64_CONSTANT (1) << i;
            self->match_slot = i;
          }
      G_UNLOCK (match_slots);
      if (self->match_slot < 0)
        return -1;
      sql = g_strdup_printf ("CREATE TEMP TABLE IF NOT EXISTS kh_match_%d (rid INTEGER PRIMARY KEY)",
                             self->match_slot);
      if (!kh_sqlite_exec (db, sql, NULL))
        {
          release_matches (self);
          return -1;
        }
      g_clear_pointer (&sql, g_free);
    }
  sql = g_strdup_printf ("DELETE FROM temp.kh_match_%d", self->match_slot);
  if (!kh_sqlite_exec (db, sql, NULL))
    return -1;
  if (self->fts_query == NULL)
    return 0;
  g_free (sql);
  sql = g_strdup_printf ("INSERT INTO temp.kh_match_%d SELECT rowid FROM %s_fts WHERE text MATCH ?",
                         self->match_slot, self->entity->name);
  stmt = kh_store_prepare (self->store, sql, NULL);
  if (stmt == NULL)
    return -1;
  sqlite3_bind_text (stmt, 1, self->fts_query, -1, SQLITE_TRANSIENT);
  self->n_queries++;
  if (sqlite3_step (stmt) == SQLITE_DONE)
    {
      n = sqlite3_changes64 (db);
      self->n_matches = n;
      self->matches_ready = TRUE;
    }
  sqlite3_reset (stmt);
  return n;
}

static guint
count_rows (KhRecordList *self)
{
  g_autoptr(GString) sql = g_string_new (NULL);
  sqlite3_stmt *stmt;
  gint64 n = 0;
  int index = 1;

  if (self->fts_query != NULL || self->match_slot >= 0)
    {
      n = fill_matches (self);
      /* The search index holds the records not deleted, and only them (the triggers and the
       * pull's own indexing see to it): a search alone counts what it matched. */
      if (self->fts_query != NULL && n >= 0 && self->filters->len == 0)
        return (guint) MIN (n, (gint64) G_MAXUINT - 1);
      n = 0;
    }
  g_string_printf (sql, "SELECT count(*) FROM %s", self->entity->name);
  append_where (self, sql, FALSE);
  stmt = kh_store_prepare (self->store, sql->str, &self->error);
  if (stmt == NULL)
    return 0;
  bind_where (self, stmt, &index);
  self->n_queries++;
  if (sqlite3_step (stmt) == SQLITE_ROW)
    n = sqlite3_column_int64 (stmt, 0);
  else
    set_error (self, "count");
  sqlite3_reset (stmt);
  return (guint) MIN (n, (gint64) G_MAXUINT - 1);
}

/* Paging -------------------------------------------------------------------------------------- */

typedef enum
{
  FROM_START,
  FROM_END,
  AFTER_BOOKMARK,
  BEFORE_BOOKMARK,
} Origin;

/* Picks the nearest known place to count from: the start, the end, or a bookmark on either
 * side. *cost is the number of rows to skip from there; *mark is the bookmark, if one. */
static Origin
choose_origin (KhRecordList  *self,
               guint          page,
               guint          start,
               guint          count,
               guint         *cost_out,
               Bookmark     **mark_out)
{
  guint best_cost = start;
  Origin origin = FROM_START;
  Bookmark *mark = NULL;
  GHashTableIter iter;
  gpointer k, v;

  if (self->n_items - (start + count) < best_cost)
    {
      best_cost = self->n_items - (start + count);
      origin = FROM_END;
    }
  g_hash_table_iter_init (&iter, self->bookmarks);
  while (g_hash_table_iter_next (&iter, &k, &v))
    {
      guint b = GPOINTER_TO_UINT (k);
      guint cost;

      if (b < page)
        cost = start - (b + 1) * KH_RECORD_LIST_PAGE_SIZE;
      else if (b > page)
        cost = b * KH_RECORD_LIST_PAGE_SIZE - (start + count);
      else
        continue;
      if (cost < best_cost)
        {
          best_cost = cost;
          origin = b < page ? AFTER_BOOKMARK : BEFORE_BOOKMARK;
          mark = v;
        }
    }
  *cost_out = best_cost;
  *mark_out = mark;
  return origin;
}

/* Writes the page's SELECT: the columns, the sort key and rowid, the filters, the bookmark's
 * keyset condition, the order (descending when @desc) and LIMIT/OFFSET placeholders. */
static void
append_page_sql (KhRecordList   *self,
                 GString        *sql,
                 const char     *columns,
                 const char     *key,
                 const Bookmark *mark,
                 gboolean        desc)
{
  g_string_printf (sql, "SELECT %s, %s%srid FROM %s", columns, key ? key : "", key ? ", " : "",
                   self->entity->name);
  append_where (self, sql, key != NULL && walks_index (self));
  if (mark != NULL)
    {
      const char *op = desc ? "<" : ">";

      /* Not the row value (key, rid) > (?, ?): SQLite 3.40 walks an index from its start for
       * that, while "key >= ?" seeks straight to the bookmark. */
      if (key != NULL)
        g_string_append_printf (sql, " AND %s %s= ? AND (%s %s ? OR rid %s ?)", key, op, key, op, op);
      else
        g_string_append_printf (sql, " AND rid %s ?", op);
    }
  if (key != NULL)
    g_string_append_printf (sql, " ORDER BY %s %s, rid %s", key, desc ? "DESC" : "ASC", desc ? "DESC" : "ASC");
  else
    g_string_append_printf (sql, " ORDER BY rid %s", desc ? "DESC" : "ASC");
  g_string_append (sql, " LIMIT ? OFFSET ?");
}

/* Binds what append_page_sql() left as placeholders, in the same order. */
static void
bind_page (KhRecordList   *self,
           sqlite3_stmt   *stmt,
           gboolean        has_key,
           const Bookmark *mark,
           Origin          origin,
           guint           count,
           guint           offset)
{
  int index = 1;

  bind_where (self, stmt, &index);
  if (mark != NULL)
    {
      gboolean after = origin == AFTER_BOOKMARK;

      if (has_key)
        {
          sqlite3_bind_value (stmt, index++, after ? mark->last_key : mark->first_key);
          sqlite3_bind_value (stmt, index++, after ? mark->last_key : mark->first_key);
        }
      sqlite3_bind_int64 (stmt, index++, after ? mark->last_rid : mark->first_rid);
    }
  sqlite3_bind_int64 (stmt, index++, count);
  sqlite3_bind_int64 (stmt, index++, offset);
}

/* Steps @stmt, adding an item per row to @rows (in the order read), and fills @b with the
 * page's first and last keys and rowids. Returns the last sqlite3_step() code; *n_read is the
 * number of rows read. */
static int
read_page_rows (KhRecordList *self,
                sqlite3_stmt *stmt,
                GPtrArray    *rows,
                Bookmark     *b,
                gboolean      has_key,
                int           key_col,
                int           rid_col,
                gboolean      reverse,
                guint        *n_read)
{
  sqlite3_value *edge_key = NULL;
  gint64 edge_rid = 0;
  guint n = 0;
  int rc;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      json_object *data = kh_store_row_to_json (self->entity, stmt, 0);
      int badge = 6 + (int) self->entity->n_fields;

      if (strcmp (self->entity->name, "person") == 0 && sqlite3_column_int (stmt, badge) != 0)
        json_object_object_add (data, KH_NO_CONSENT_MEMBER, json_object_new_boolean (TRUE));

      g_ptr_array_add (rows, kh_record_item_new (self->entity, data));
      if (n == 0)
        {
          /* The first row read: the page's first row, or its last when reading backwards. */
          if (reverse)
            {
              b->last_key = has_key ? sqlite3_value_dup (sqlite3_column_value (stmt, key_col)) : NULL;
              b->last_rid = sqlite3_column_int64 (stmt, rid_col);
            }
          else
            {
              b->first_key = has_key ? sqlite3_value_dup (sqlite3_column_value (stmt, key_col)) : NULL;
              b->first_rid = sqlite3_column_int64 (stmt, rid_col);
            }
        }
      sqlite3_value_free (edge_key);
      edge_key = has_key ? sqlite3_value_dup (sqlite3_column_value (stmt, key_col)) : NULL;
      edge_rid = sqlite3_column_int64 (stmt, rid_col);
      n++;
    }
  if (reverse)
    {
      b->first_key = edge_key;
      b->first_rid = edge_rid;
    }
  else
    {
      b->last_key = edge_key;
      b->last_rid = edge_rid;
    }
  *n_read = n;
  return rc;
}

/* Puts a page read backwards (from the end or a later bookmark) back in display order. */
static void
reverse_rows (GPtrArray *rows)
{
  for (guint i = 0; i < rows->len / 2; i++)
    {
      gpointer tmp = rows->pdata[i];

      rows->pdata[i] = rows->pdata[rows->len - 1 - i];
      rows->pdata[rows->len - 1 - i] = tmp;
    }
}

static GPtrArray *
fetch_page (KhRecordList *self,
            guint         page)
{
  g_autofree char *columns = kh_store_select_columns (self->entity);
  g_autofree char *key = key_expr (self);
  g_autoptr(GString) sql = g_string_new (NULL);
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func (g_object_unref);
  guint start = page * KH_RECORD_LIST_PAGE_SIZE;
  guint count = MIN (KH_RECORD_LIST_PAGE_SIZE, self->n_items - start);
  guint best_cost;
  Origin origin;
  Bookmark *mark;
  Bookmark *b;
  gboolean reverse;
  gboolean desc;
  sqlite3_stmt *stmt;
  gboolean consent = strcmp (self->entity->name, "person") == 0;
  int key_col = 6 + (int) self->entity->n_fields + consent; /* after the common columns, the
                                                               * fields and a person's badge */
  int rid_col = key != NULL ? key_col + 1 : key_col;
  guint n;
  int rc;

  origin = choose_origin (self, page, start, count, &best_cost, &mark);
  reverse = origin == FROM_END || origin == BEFORE_BOOKMARK;
  desc = reverse ? !self->descending : self->descending;

  /* A person's row says whether they are a minor without a valid consent: the list's badge. */
  if (consent)
    {
      g_autofree char *plain = g_steal_pointer (&columns);

      columns = g_strconcat (plain, ", ", kh_privacy_no_consent_column (), NULL);
    }
  append_page_sql (self, sql, columns, key, mark, desc);
  stmt = kh_store_prepare (self->store, sql->str, &self->error);
  if (stmt == NULL)
    return NULL;
  bind_page (self, stmt, key != NULL, mark, origin, count, best_cost);
  self->n_queries++;
  g_debug ("%s: page %u, %u rows from %s", self->entity->name, page, best_cost,
           origin == FROM_START ? "the start" : origin == FROM_END ? "the end" : "a bookmark");

  b = g_new0 (Bookmark, 1);
  rc = read_page_rows (self, stmt, rows, b, key != NULL, key_col, rid_col, reverse, &n);
  sqlite3_reset (stmt);

  if (rc != SQLITE_DONE || n != count)
    {
      /* The table changed under the count; the store's "changed" signal brings a refresh. */
      if (rc != SQLITE_DONE)
        set_error (self, "list");
      bookmark_free (b);
      if (rc != SQLITE_DONE)
        return NULL;
    }
  else
    g_hash_table_insert (self->bookmarks, GUINT_TO_POINTER (page), b);

  if (reverse)
    reverse_rows (rows);
  return g_steal_pointer (&rows);
}

static GPtrArray *
get_page (KhRecordList *self,
          guint         page)
{
  GPtrArray *rows = g_hash_table_lookup (self->pages, GUINT_TO_POINTER (page));

  if (rows != NULL)
    {
      GList *link = g_queue_find (&self->lru, GUINT_TO_POINTER (page));

      if (link != NULL && link != self->lru.head)
        {
          g_queue_unlink (&self->lru, link);
          g_queue_push_head_link (&self->lru, link);
        }
      return rows;
    }

  rows = fetch_page (self, page);
  if (rows == NULL)
    return NULL;
  g_hash_table_insert (self->pages, GUINT_TO_POINTER (page), rows);
  g_queue_push_head (&self->lru, GUINT_TO_POINTER (page));
  while (self->lru.length > KH_RECORD_LIST_MAX_PAGES)
    g_hash_table_remove (self->pages, g_queue_pop_tail (&self->lru));
  return rows;
}

/* GListModel ---------------------------------------------------------------------------------- */

static GType
kh_record_list_get_item_type (GListModel *model)
{
  return KH_TYPE_RECORD_ITEM;
}

static guint
kh_record_list_get_n_items (GListModel *model)
{
  return KH_RECORD_LIST (model)->n_items;
}

static gpointer
kh_record_list_get_item (GListModel *model,
                         guint       position)
{
  KhRecordList *self = KH_RECORD_LIST (model);
  guint page = position / KH_RECORD_LIST_PAGE_SIZE;
  GPtrArray *rows;

  if (position >= self->n_items)
    return NULL;
  rows = get_page (self, page);
  if (rows == NULL || position - page * KH_RECORD_LIST_PAGE_SIZE >= rows->len)
    return NULL;
  return g_object_ref (rows->pdata[position - page * KH_RECORD_LIST_PAGE_SIZE]);
}

static void
list_model_iface_init (GListModelInterface *iface)
{
  iface->get_item_type = kh_record_list_get_item_type;
  iface->get_n_items = kh_record_list_get_n_items;
  iface->get_item = kh_record_list_get_item;
}

/* Object -------------------------------------------------------------------------------------- */

static void
store_changed_cb (KhRecordList *self,
                  const char   *entity,
                  const char   *id,
                  KhStore      *store)
{
  g_autoptr(GArray) cached = NULL;
  GHashTableIter iter;
  gpointer k;
  guint n;

  /* A renamed unit or list changes the titles shown for references to it. */
  g_hash_table_remove_all (self->titles);
  if (g_strcmp0 (entity, self->entity->name) != 0)
    return;

  /* An edit that leaves the count alone re-reads only the pages views hold, so the list keeps
   * its place instead of starting again from the top. */
  n = count_rows (self);
  if (n != self->n_items)
    {
      kh_record_list_refresh (self);
      return;
    }
  cached = g_array_new (FALSE, FALSE, sizeof (guint));
  g_hash_table_iter_init (&iter, self->pages);
  while (g_hash_table_iter_next (&iter, &k, NULL))
    {
      guint page = GPOINTER_TO_UINT (k);

      g_array_append_val (cached, page);
    }
  clear_cache (self);
  for (guint i = 0; i < cached->len; i++)
    {
      guint start = g_array_index (cached, guint, i) * KH_RECORD_LIST_PAGE_SIZE;

      if (start < n)
        g_list_model_items_changed (G_LIST_MODEL (self), start, MIN (KH_RECORD_LIST_PAGE_SIZE, n - start),
                                    MIN (KH_RECORD_LIST_PAGE_SIZE, n - start));
    }
}

static void
kh_record_list_dispose (GObject *object)
{
  KhRecordList *self = (KhRecordList *) object;

  if (self->store != NULL)
    g_clear_signal_handler (&self->changed_id, self->store);
  release_matches (self);
  g_clear_object (&self->store);

  G_OBJECT_CLASS (kh_record_list_parent_class)->dispose (object);
}

static void
kh_record_list_finalize (GObject *object)
{
  KhRecordList *self = (KhRecordList *) object;

  clear_cache (self);
  g_clear_pointer (&self->pages, g_hash_table_unref);
  g_clear_pointer (&self->bookmarks, g_hash_table_unref);
  g_clear_pointer (&self->titles, g_hash_table_unref);
  g_clear_pointer (&self->filters, g_ptr_array_unref);
  g_clear_pointer (&self->sort_field, g_free);
  g_clear_pointer (&self->search, g_free);
  g_clear_pointer (&self->fts_query, g_free);
  g_clear_error (&self->error);

  G_OBJECT_CLASS (kh_record_list_parent_class)->finalize (object);
}

static void
kh_record_list_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  KhRecordList *self = KH_RECORD_LIST (object);

  switch (prop_id)
    {
    case PROP_N_ITEMS:
      g_value_set_uint (value, self->n_items);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kh_record_list_class_init (KhRecordListClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = kh_record_list_dispose;
  object_class->finalize = kh_record_list_finalize;
  object_class->get_property = kh_record_list_get_property;

  properties[PROP_N_ITEMS] =
    g_param_spec_uint ("n-items", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * KhRecordList::before-change:
   *
   * Emitted just before the list tells its views that every row may have changed (a new sort,
   * filter or search, or a write to the store).
   */
  signals[BEFORE_CHANGE] = g_signal_new ("before-change", G_TYPE_FROM_CLASS (klass),
                                         G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
kh_record_list_init (KhRecordList *self)
{
  self->pages = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) g_ptr_array_unref);
  self->bookmarks = g_hash_table_new_full (NULL, NULL, NULL, bookmark_free);
  self->titles = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->filters = g_ptr_array_new_with_free_func (filter_free);
  self->match_slot = -1;
  g_queue_init (&self->lru);
}

KhRecordList *
kh_record_list_new (KhStore    *store,
                    const char *entity)
{
  KhRecordList *self;
  const KhEntity *e;

  g_return_val_if_fail (KH_IS_STORE (store), NULL);
  g_return_val_if_fail (entity != NULL, NULL);

  e = kh_entity_lookup (entity);
  g_return_val_if_fail (e != NULL, NULL);

  self = g_object_new (KH_TYPE_RECORD_LIST, NULL);
  self->store = g_object_ref (store);
  self->entity = e;
  self->changed_id = g_signal_connect_object (store, "changed", G_CALLBACK (store_changed_cb),
                                              self, G_CONNECT_SWAPPED);
  self->n_items = count_rows (self);
  return self;
}

KhStore *
kh_record_list_get_store (KhRecordList *self)
{
  g_return_val_if_fail (KH_IS_RECORD_LIST (self), NULL);
  return self->store;
}

const KhEntity *
kh_record_list_get_entity (KhRecordList *self)
{
  g_return_val_if_fail (KH_IS_RECORD_LIST (self), NULL);
  return self->entity;
}

/* Counts again and tells views that everything may have changed. */
void
kh_record_list_refresh (KhRecordList *self)
{
  guint old;

  g_return_if_fail (KH_IS_RECORD_LIST (self));

  /* A selection model looks for its selected item among all the "added" items when the list
   * changes under it, which would read every row of a million: let it drop the selection first. */
  g_signal_emit (self, signals[BEFORE_CHANGE], 0);
  old = self->n_items;
  clear_cache (self);
  g_clear_error (&self->error);
  /* Removed, then added, in two signals: given both at once, GTK 4.8's list widgets look for
   * the rows they track (focus, anchor) among all the added items, reading every row. Each
   * signal sees the count it implies. */
  self->n_items = 0;
  if (old > 0)
    g_list_model_items_changed (G_LIST_MODEL (self), 0, old, 0);
  self->n_items = count_rows (self);
  if (self->n_items > 0)
    g_list_model_items_changed (G_LIST_MODEL (self), 0, 0, self->n_items);
  if (old != self->n_items)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_ITEMS]);
}

void
kh_record_list_set_sort (KhRecordList *self,
                         const char   *field,
                         gboolean      descending)
{
  g_return_if_fail (KH_IS_RECORD_LIST (self));
  g_return_if_fail (field == NULL || kh_entity_get_field (self->entity, field) != NULL);

  if (g_strcmp0 (field, self->sort_field) == 0 && descending == self->descending)
    return;
  g_free (self->sort_field);
  self->sort_field = g_strdup (field);
  self->descending = descending;
  kh_record_list_refresh (self);
}

const char *
kh_record_list_get_sort_field (KhRecordList *self)
{
  g_return_val_if_fail (KH_IS_RECORD_LIST (self), NULL);
  return self->sort_field;
}

gboolean
kh_record_list_get_descending (KhRecordList *self)
{
  g_return_val_if_fail (KH_IS_RECORD_LIST (self), FALSE);
  return self->descending;
}

/* Keeps only records whose @field equals @value; an array of values means any of them; a year
 * (an integer) given for a date or school-year field means that year. NULL removes the filter
 * on @field. */
gboolean
kh_record_list_set_filter (KhRecordList  *self,
                           const char    *field,
                           json_object   *value,
                           GError       **error)
{
  const KhField *f;

  g_return_val_if_fail (KH_IS_RECORD_LIST (self), FALSE);
  g_return_val_if_fail (field != NULL, FALSE);

  f = kh_entity_get_field (self->entity, field);
  if (f == NULL)
    {
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_UNKNOWN_FIELD,
                   _("“%s” is not a field of %s."), field, _(self->entity->label));
      return FALSE;
    }
  for (guint i = 0; i < self->filters->len; i++)
    if (strcmp (((Filter *) self->filters->pdata[i])->field, field) == 0)
      {
        g_ptr_array_remove_index (self->filters, i);
        break;
      }
  if (value != NULL && !(json_object_is_type (value, json_type_array)
                         && json_object_array_length (value) == 0))
    {
      Filter *filter = g_new0 (Filter, 1);

      filter->field = g_strdup (field);
      filter->value = json_object_get (value);
      g_ptr_array_add (self->filters, filter);
    }
  kh_record_list_refresh (self);
  return TRUE;
}

void
kh_record_list_clear_filters (KhRecordList *self)
{
  g_return_if_fail (KH_IS_RECORD_LIST (self));

  if (self->filters->len == 0)
    return;
  g_ptr_array_set_size (self->filters, 0);
  kh_record_list_refresh (self);
}

/* For a list of people: only the minors whose record lacks a valid consent, the list to work
 * through (kh-privacy.c). */
void
kh_record_list_set_without_consent (KhRecordList *self,
                                    gboolean      only)
{
  g_return_if_fail (KH_IS_RECORD_LIST (self));

  only = only && strcmp (self->entity->name, "person") == 0;
  if (self->without_consent == only)
    return;
  self->without_consent = only;
  kh_record_list_refresh (self);
}

/* Search as you type, folded for Vietnamese: "nguyen van d" finds "Nguyễn Văn Đức". */
void
kh_record_list_set_search (KhRecordList *self,
                           const char   *text)
{
  g_autofree char *query = NULL;

  g_return_if_fail (KH_IS_RECORD_LIST (self));

  if (text != NULL && kh_entity_has_search (self->entity))
    query = kh_fold_to_fts_query (text);
  g_free (self->search);
  self->search = g_strdup (text);
  if (g_strcmp0 (query, self->fts_query) == 0)
    return;
  g_free (self->fts_query);
  self->fts_query = g_steal_pointer (&query);
  kh_record_list_refresh (self);
}

const char *
kh_record_list_get_search (KhRecordList *self)
{
  g_return_val_if_fail (KH_IS_RECORD_LIST (self), NULL);
  return self->search;
}

/* The position of the record @id in the list as sorted and filtered, or G_MAXUINT. */
guint
kh_record_list_find (KhRecordList *self,
                     const char   *id)
{
  g_autofree char *key = NULL;
  g_autoptr(GString) sql = NULL;
  sqlite3_value *key_value = NULL;
  sqlite3_stmt *stmt;
  gint64 rid = -1;
  guint position = G_MAXUINT;
  int index = 1;

  g_return_val_if_fail (KH_IS_RECORD_LIST (self), G_MAXUINT);
  g_return_val_if_fail (id != NULL, G_MAXUINT);

  key = key_expr (self);
  sql = g_string_new (NULL);
  g_string_printf (sql, "SELECT %s, rid FROM %s", key ? key : "NULL", self->entity->name);
  append_where (self, sql, FALSE);
  g_string_append (sql, " AND id = ?");
  stmt = kh_store_prepare (self->store, sql->str, NULL);
  if (stmt == NULL)
    return G_MAXUINT;
  bind_where (self, stmt, &index);
  sqlite3_bind_text (stmt, index, id, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      key_value = sqlite3_value_dup (sqlite3_column_value (stmt, 0));
      rid = sqlite3_column_int64 (stmt, 1);
    }
  sqlite3_reset (stmt);
  if (rid < 0)
    return G_MAXUINT;

  g_string_printf (sql, "SELECT count(*) FROM %s", self->entity->name);
  append_where (self, sql, FALSE);
  if (key != NULL)
    {
      const char *op = self->descending ? ">" : "<";

      g_string_append_printf (sql, " AND %s %s= ? AND (%s %s ? OR rid %s ?)", key, op, key, op, op);
    }
  else
    g_string_append_printf (sql, " AND rid %s ?", self->descending ? ">" : "<");
  stmt = kh_store_prepare (self->store, sql->str, NULL);
  if (stmt != NULL)
    {
      index = 1;
      bind_where (self, stmt, &index);
      if (key != NULL)
        {
          sqlite3_bind_value (stmt, index++, key_value);
          sqlite3_bind_value (stmt, index++, key_value);
        }
      sqlite3_bind_int64 (stmt, index++, rid);
      if (sqlite3_step (stmt) == SQLITE_ROW)
        position = (guint) sqlite3_column_int64 (stmt, 0);
      sqlite3_reset (stmt);
    }
  sqlite3_value_free (key_value);
  return position;
}

/* A field of @record as a person reads it; a reference shows the title of what it points at. */
char *
kh_record_list_format (KhRecordList *self,
                       KhRecordItem     *record,
                       const char   *field_name)
{
  const KhField *field;
  json_object *value = NULL;
  g_autofree char *cache_key = NULL;
  char *title;

  g_return_val_if_fail (KH_IS_RECORD_LIST (self), NULL);
  g_return_val_if_fail (KH_IS_RECORD_ITEM (record), NULL);

  field = kh_entity_get_field (kh_record_item_get_entity (record), field_name);
  if (field == NULL)
    return g_strdup ("");
  json_object_object_get_ex (kh_record_item_get_data (record), field_name, &value);
  if (kh_field_is_sensitive (field))
    {
      /* A list shows a sensitive value masked; the record's form shows it whole. */
      g_autofree char *text = kh_value_format (field, value);

      return kh_privacy_mask (field, text);
    }
  if (field->type != KH_FIELD_REF || field->ref_entity == NULL || value == NULL)
    return kh_value_format (field, value);

  cache_key = g_strdup_printf ("%s/%s", field->ref_entity, json_object_get_string (value));
  title = g_hash_table_lookup (self->titles, cache_key);
  if (title == NULL)
    {
      title = kh_store_dup_title (self->store, field->ref_entity, json_object_get_string (value));
      if (title == NULL)
        title = g_strdup (json_object_get_string (value));
      g_hash_table_insert (self->titles, g_steal_pointer (&cache_key), title);
    }
  return g_strdup (title);
}

const GError *
kh_record_list_get_error (KhRecordList *self)
{
  g_return_val_if_fail (KH_IS_RECORD_LIST (self), NULL);
  return self->error;
}

/* Rows held in memory now: a test's proof that the list never loads everything. */
guint
kh_record_list_get_n_cached (KhRecordList *self)
{
  GHashTableIter iter;
  gpointer v;
  guint n = 0;

  g_return_val_if_fail (KH_IS_RECORD_LIST (self), 0);

  g_hash_table_iter_init (&iter, self->pages);
  while (g_hash_table_iter_next (&iter, NULL, &v))
    n += ((GPtrArray *) v)->len;
  return n;
}

guint
kh_record_list_get_n_queries (KhRecordList *self)
{
  g_return_val_if_fail (KH_IS_RECORD_LIST (self), 0);
  return self->n_queries;
}
