/* kh-server-core-private.h: what the files of the server core share
 *
 * The core is one unit cut by concept: the object and its connection pool (kh-server-core.c),
 * meta, scope, accounts, stored records, push, the change feed, integrity and tombstones, each
 * in kh-server-<concept>.c. kh-server-core.h stays the API; this is for those files only.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <json-c/json.h>

#include "kh-entity.h"
#include "kh-server-core.h"

G_BEGIN_DECLS

struct _KhServer
{
  GObject      parent_instance;
  char        *url;
  GAsyncQueue *pool;        /* KhServerBackend, one per connection */
  guint        pool_size;
  int          tombstone_days;
  int          token_days;  /* a token unused this long stops working */
  struct _KhFileStore *files;  /* attached files (kh-server-files.c); NULL: none taken */
  gint64       max_file_size;
};

/* The org units under the one bound to "?", itself included: for "… IN " SUBTREE. */
#define SUBTREE "(SELECT descendant FROM org_closure WHERE ancestor = ?)"

/* The area of the unit bound to "?": its subtree and, through unit_succession, transitively,
 * the subtree of every unit that preceded a unit in it (kh-server-scope.c). A subquery the
 * database computes once per statement, so a feed page costs one walk of the area, not one
 * per record. For "… IN " AREA, like SUBTREE. */
#define AREA "(WITH RECURSIVE area (u) AS (" \
  "SELECT descendant FROM org_closure WHERE ancestor = ? " \
  "UNION SELECT c.descendant FROM area a " \
  "JOIN unit_succession s ON s.successor_id = a.u AND s.deleted = 0 " \
  "JOIN org_closure c ON c.ancestor = s.predecessor_id) SELECT u FROM area)"

/* The units whose area holds the unit bound to the first or the second "?" (either may be
 * NULL): their ancestors and, through unit_succession, those of every unit they preceded. */
#define HOLDERS "(WITH RECURSIVE up (u) AS (" \
  "SELECT ancestor FROM org_closure WHERE descendant IN (?, ?) " \
  "UNION SELECT c.ancestor FROM up " \
  "JOIN unit_succession s ON s.predecessor_id = up.u AND s.deleted = 0 " \
  "JOIN org_closure c ON c.descendant = s.successor_id) SELECT u FROM up)"

/* The time now, as the server stores it (UTC, to the second). */
char            *_kh_server_now_iso           (void);

/* A backend for the length of a scope: g_autoptr(KhServerLease) l = _kh_server_lease_new (self). */
typedef struct
{
  KhServer        *server;
  KhServerBackend *b;
} KhServerLease;

KhServerLease   *_kh_server_lease_new         (KhServer         *self);
void             _kh_server_lease_free        (KhServerLease    *l);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KhServerLease, _kh_server_lease_free)

/* Meta (kh-server-meta.c) ------------------------------------------------------------------ */

typedef struct
{
  char   *server_id;
  gint64  epoch;
  gint64  purged_through;
  gint64  version;          /* the counter: the newest version committed */
} KhServerMeta;

gboolean         _kh_server_load_meta         (KhServerBackend  *b,
                                               KhServerMeta     *m,
                                               GError          **error);

/* Org units and scope (kh-server-scope.c) -------------------------------------------------- */

gboolean         _kh_server_in_subtree        (KhServerBackend     *b,
                                               const char          *root,
                                               const char          *unit,
                                               gboolean            *result,
                                               GError             **error);
gboolean         _kh_server_user_in_scope     (KhServerBackend     *b,
                                               const KhServerUser  *user,
                                               const char          *unit,
                                               gboolean            *result,
                                               GError             **error);
gboolean         _kh_server_in_area           (KhServerBackend     *b,
                                               const char          *root,
                                               const char          *unit,
                                               gboolean            *result,
                                               GError             **error);
gboolean         _kh_server_unit_has_parent   (KhServerBackend     *b,
                                               const char          *unit,
                                               gboolean            *result,
                                               GError             **error);

/* Official codes, kinds and the schema's migrations (kh-server-units.c) ------------------- */

gboolean         _kh_server_migrate           (KhServerBackend     *b,
                                               GError             **error);
char            *_kh_server_find_unit_on      (KhServerBackend     *b,
                                               const char          *code,
                                               const char          *date,
                                               GError             **error);
gboolean         _kh_server_check_unit        (KhServerBackend     *b,
                                               const KhServerUser  *user,
                                               const char          *id,
                                               json_object         *old,
                                               json_object         *now,
                                               char               **reason,
                                               const char         **field,
                                               KhSyncError         *code,
                                               GError             **error);

/* References a push sets (kh-server-refs.c) ----------------------------------------------- */

typedef struct _KhServerRefs KhServerRefs;

/* Whether the writer's area holds @unit, as the push knows it. */
typedef gboolean (*KhServerScopeFunc) (gpointer     data,
                                       const char  *unit,
                                       gboolean    *result,
                                       GError     **error);

KhServerRefs    *_kh_server_refs_new          (KhServerBackend     *b);
void             _kh_server_refs_free         (KhServerRefs        *refs);
gboolean         _kh_server_refs_preload      (KhServerRefs        *refs,
                                               const KhPushRequest *request,
                                               GError             **error);
void             _kh_server_refs_note         (KhServerRefs        *refs,
                                               const char          *entity,
                                               const char          *id,
                                               gboolean             deleted,
                                               const char          *scope_unit);
void             _kh_server_refs_refused      (KhServerRefs        *refs,
                                               const char          *id);
void             _kh_server_refs_forget_areas (KhServerRefs        *refs);
gboolean         _kh_server_refs_check        (KhServerRefs        *refs,
                                               const KhEntity      *entity,
                                               json_object         *data,
                                               json_object         *changes,
                                               const char          *place,
                                               KhServerScopeFunc    in_scope,
                                               gpointer             scope_data,
                                               char               **reason,
                                               const char         **field,
                                               KhSyncError         *code,
                                               GError             **error);

/* The org units' lives the batch has asked, by id (kh-server-time.c); forgotten with the areas. */
GHashTable      *_kh_server_refs_lives        (KhServerRefs        *refs);

/* Records in time (kh-server-time.c): refuses a record of @entity dated when its unit did not
 * exist, as the store does (kh-unit-time.c), naming the unit of that time. */
gboolean         _kh_server_check_time        (KhServerBackend     *b,
                                               KhServerRefs        *refs,
                                               const KhEntity      *entity,
                                               json_object         *data,
                                               json_object         *changes,
                                               char               **reason,
                                               const char         **field,
                                               GError             **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KhServerRefs, _kh_server_refs_free)

/* Stored records (kh-server-records.c) ----------------------------------------------------- */

typedef struct
{
  gint64       version;
  gboolean     deleted;
  char        *scope_unit;
  json_object *data;
  json_object *fv;
  char        *updated_by;
  char        *updated_at;
  char        *created_at;
} KhServerStored;

void             _kh_server_stored_free       (KhServerStored       *s);
KhServerStored  *_kh_server_stored_copy       (const KhServerStored *s);
/* A row of (version, deleted, scope_unit, data, field_versions, updated_by, updated_at,
 * created_at) into *(KhServerStored **) @data; stops at the first row. */
gboolean         _kh_server_stored_row_cb     (const char * const   *v,
                                               int                   n,
                                               gpointer              data);
gboolean         _kh_server_load_stored       (KhServerBackend      *b,
                                               const char           *entity,
                                               const char           *id,
                                               KhServerStored      **out,
                                               GError              **error);
KhRecord        *_kh_server_stored_to_record  (const char           *entity,
                                               const char           *id,
                                               const KhServerStored *s);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KhServerStored, _kh_server_stored_free)

/* The string member @name of @obj, or NULL. Inline: the push asks it for every mutation. */
static inline const char *
_kh_server_string_member (json_object *obj,
                          const char  *name)
{
  json_object *v;

  if (obj != NULL && json_object_object_get_ex (obj, name, &v) && json_object_is_type (v, json_type_string))
    return json_object_get_string (v);
  return NULL;
}

/* Keeps the org tree (org_units and the closure table) in step with an org unit's write:
 * @old is the unit before (NULL: new), @now after. */
gboolean         _kh_server_update_org_tree   (KhServerBackend      *b,
                                               const char           *id,
                                               const KhServerStored *old,
                                               const KhServerStored *now,
                                               GError              **error);

/* Keeps unit_succession in step with a succession's write, and has the accounts whose area it
 * changes pull theirs again (kh-server-scope.c). */
gboolean         _kh_server_update_succession (KhServerBackend      *b,
                                               const char           *id,
                                               const KhServerStored *old,
                                               const KhServerStored *now,
                                               GError              **error);

/* One registration of a subject for a model and a year (kh-server-twice.c) ------------------ */

gboolean         _kh_server_fill_registrations (KhServerBackend     *b,
                                                GError             **error);
gboolean         _kh_server_note_registration  (KhServerBackend      *b,
                                                const char           *id,
                                                const KhServerStored *now,
                                                GError              **error);
/* Sets *@reason (and *@field) when the registration @id with @data (after the write of
 * @changes; NULL: new) names a subject already registered for its model and year. */
gboolean         _kh_server_check_twice        (KhServerBackend     *b,
                                                const KhEntity      *entity,
                                                const char          *id,
                                                json_object         *data,
                                                json_object         *changes,
                                                char               **reason,
                                                const char         **field,
                                                char              *other[3],
                                                GError             **error);

/* Personal data (kh-server-privacy.c) --------------------------------------------------------- */

gboolean         _kh_server_erase_in_tx       (KhServerBackend      *b,
                                               const char           *actor,
                                               const char           *person_id,
                                               const char           *reason,
                                               gint64               *version,
                                               GError              **error);
void             _kh_server_erase_scrub       (KhServerBackend      *b);
gboolean         _kh_server_erase_withdrawn   (KhServerBackend      *b,
                                               const char           *actor,
                                               GHashTable           *records,
                                               GPtrArray            *dirty,
                                               gint64               *version,
                                               gboolean             *erased,
                                               GError              **error);
/* The learning models' rules (kh-server-models.c). */
gboolean         _kh_server_check_model       (KhServerBackend    *b,
                                               GHashTable         *batch,
                                               GPtrArray          *dirty,
                                               GHashTable         *criteria_cache,
                                               const KhEntity     *entity,
                                               const char         *id,
                                               json_object        *data,
                                               json_object        *old_data,
                                               json_object        *changes,
                                               char              **refusal,
                                               const char        **field,
                                               GError            **error);
gboolean         _kh_server_check_award_consent (KhServerBackend    *b,
                                                 GHashTable         *batch,
                                                 GPtrArray          *dirty,
                                                 json_object        *data,
                                                 json_object        *old_data,
                                                 char              **refusal,
                                                 GError            **error);

/* The fund ledger's check of a push (kh-server-ledger.c). */
typedef struct _KhServerLedger KhServerLedger;

KhServerLedger  *_kh_server_ledger_new        (KhServerBackend      *b);
void             _kh_server_ledger_free       (KhServerLedger       *l);
void             _kh_server_ledger_note       (KhServerLedger       *l,
                                               const char           *entity,
                                               const char           *id,
                                               const KhServerStored *old,
                                               const KhServerStored *s);
gboolean         _kh_server_ledger_check      (KhServerLedger       *l,
                                               json_object          *fund,
                                               const char           *id,
                                               const KhServerStored *old,
                                               json_object          *data,
                                               char                **refusal,
                                               GError              **error);
gboolean         _kh_server_ledger_flush      (KhServerLedger       *l,
                                               GError              **error);
gboolean         _kh_server_ledger_fill       (KhServerBackend      *b,
                                               GError              **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KhServerLedger, _kh_server_ledger_free)

/* The change feed walks records_by_scope once per unit for an area of at most this many units
 * (kh-server-feed.c); a larger one walks records_by_version. Tests set it to 0 to compare. */
#define KH_FEED_SCOPE_WALK_UNITS 64
extern guint     _kh_server_feed_scope_walk_units;
extern guint     _kh_server_feed_scope_walks;   /* pages served by the per-unit walk */
/* The per-unit feed statement for @n_units units, with a LIMIT in each part or not (its plan is
 * checked by the tests). */
char            *_kh_server_feed_by_scope_sql (guint            n_units,
                                               gboolean         part_limits);

G_END_DECLS
