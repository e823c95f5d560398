/* kh-server-core.h: the protocol's logic on the server, over any storage backend
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>

#include "kh-codec.h"
#include "kh-server-backend.h"

G_BEGIN_DECLS

typedef struct
{
  char     *id;
  char     *username;
  char     *role;           /* admin, officer, viewer */
  char     *scope_unit_id;  /* NULL only for the server's own tools (import, demo): everything */
  char     *scope_code;
  gint64    scope_gen;
  gboolean  disabled;
} KhServerUser;

void          kh_server_user_free (KhServerUser *user);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KhServerUser, kh_server_user_free)

#define KH_TYPE_SERVER (kh_server_get_type ())

G_DECLARE_FINAL_TYPE (KhServer, kh_server, KH, SERVER, GObject)

KhServer        *kh_server_new              (const char       *url,
                                             guint             pool_size,
                                             GError          **error);
gboolean         kh_server_init_schema      (KhServer         *self,
                                             GError          **error);
/* Fails with KH_SERVER_ERROR_NOT_INITIALIZED when `init` was never run. */
gboolean         kh_server_check_ready      (KhServer         *self,
                                             GError          **error);
KhServerBackend *kh_server_acquire          (KhServer         *self);
void             kh_server_release          (KhServer         *self,
                                             KhServerBackend  *backend);
gboolean         kh_server_get_identity     (KhServer         *self,
                                             char            **server_id,
                                             gint64           *epoch,
                                             GError          **error);
void             kh_server_set_tombstone_days (KhServer       *self,
                                               int             days);

/* Accounts -------------------------------------------------------------------------------- */

gboolean      kh_server_user_add          (KhServer     *self,
                                           const char   *username,
                                           const char   *role,
                                           const char   *scope_code,
                                           const char   *password,
                                           GError      **error);
GPtrArray    *kh_server_user_list         (KhServer     *self,
                                           GError      **error);
gboolean      kh_server_user_disable      (KhServer     *self,
                                           const char   *username,
                                           GError      **error);
gboolean      kh_server_user_set_scope    (KhServer     *self,
                                           const char   *username,
                                           const char   *scope_code,
                                           GError      **error);
gboolean      kh_server_token_revoke      (KhServer     *self,
                                           const char   *username,
                                           gint64       *revoked,
                                           GError      **error);
gboolean      kh_server_epoch_bump        (KhServer     *self,
                                           gint64       *epoch,
                                           GError      **error);
/* Checks the password; on success a new token (the only copy) and the account. */
KhServerUser *kh_server_login             (KhServer     *self,
                                           const char   *username,
                                           const char   *password,
                                           char        **token,
                                           GError      **error);
KhServerUser *kh_server_authenticate      (KhServer     *self,
                                           const char   *token,
                                           GError      **error);

/* The protocol -------------------------------------------------------------------------- */

KhPushResponse *kh_server_push            (KhServer            *self,
                                           const KhServerUser  *user,
                                           const KhPushRequest *request,
                                           GError             **error);
/* The change-feed page as JSON text (a KhChangesPage when decoded). */
GString        *kh_server_changes         (KhServer            *self,
                                           const KhServerUser  *user,
                                           const char          *cursor,
                                           gint64               limit,
                                           GError             **error);
KhIntegrity    *kh_server_integrity       (KhServer            *self,
                                           const KhServerUser  *user,
                                           GError             **error);
KhIntegrityIds *kh_server_integrity_ids   (KhServer            *self,
                                           const KhServerUser  *user,
                                           const char          *entity,
                                           const char          *after,
                                           const char          *suffix,
                                           gint64               limit,
                                           GError             **error);
/* The records of @entity whose id ends with @suffix, in 16 buckets by the hex digit before it:
 * per bucket that has records, named by its digit, their count and checksum. */
KhIntegrity    *kh_server_integrity_buckets (KhServer          *self,
                                           const KhServerUser  *user,
                                           const char          *entity,
                                           const char          *suffix,
                                           GError             **error);
/* The records of @entity named by @ids that @user sees (their scope and shared records,
 * tombstones included) as the JSON text of an answer to POST /v1/records; ids the user does not
 * see, or the server does not have, are left out. */
GString        *kh_server_records_by_ids  (KhServer            *self,
                                           const KhServerUser  *user,
                                           const char          *entity,
                                           const char * const  *ids,
                                           guint                n_ids,
                                           GError             **error);
gboolean        kh_server_purge_tombstones (KhServer           *self,
                                            gint64             *purged,
                                            GError            **error);

/* The server's own writes (org import, demo): every mutation applied as @actor with no scope
 * limit, in one transaction per call. */
KhPushResponse *kh_server_apply_as_system (KhServer            *self,
                                           const char          *actor,
                                           const KhPushRequest *request,
                                           GError             **error);
/* Looks an org unit up by its official code (kh_server_find_unit_on() for today). */
char           *kh_server_find_unit       (KhServer            *self,
                                           const char          *code,
                                           GError             **error);
/* The unit @code names on @date ("YYYY-MM-DD"; NULL: today), or the unit whose id is @code;
 * fails listing the candidates when the code could mean more than one. */
char           *kh_server_find_unit_on    (KhServer            *self,
                                           const char          *code,
                                           const char          *date,
                                           GError             **error);
/* Loads a record's fields and version, for the import's "update what changed". */
json_object    *kh_server_get_record      (KhServer            *self,
                                           const char          *entity,
                                           const char          *id,
                                           gint64              *version,
                                           GError             **error);

G_END_DECLS
