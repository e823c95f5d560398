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
  guint     permits;        /* KhPermit (kh-workflow.h): the approval steps it may take */
  char     *device;         /* the token's id ("token list"), when it came with a token */
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
/* A token unused for @days stops working (90 unless set); each use starts the days again. */
void             kh_server_set_token_days   (KhServer         *self,
                                             int               days);

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
/* Sets what @username may do in approvals: "submit,approve,pay", a part of it, or "none". */
gboolean      kh_server_user_set_permits  (KhServer     *self,
                                           const char   *username,
                                           const char   *permits,
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
/* The same, noting @address (may be NULL) as where the new token was made. */
KhServerUser *kh_server_login_from        (KhServer     *self,
                                           const char   *username,
                                           const char   *password,
                                           const char   *address,
                                           char        **token,
                                           GError      **error);
KhServerUser *kh_server_authenticate      (KhServer     *self,
                                           const char   *token,
                                           GError      **error);

/* Tokens made before tokens had a lifetime: their days start now, rather than every device
 * older than the lifetime being signed out by the upgrade. `serve` calls it on start. */
gboolean      kh_server_adopt_tokens      (KhServer     *self,
                                           GError      **error);

/* A user's devices: one per token that still works. */
typedef struct
{
  char *id;          /* the first 12 hex digits of the token's hash: what `token revoke` takes */
  char *created_at;
  char *used_at;     /* when it was last used (to the hour) */
  char *address;     /* where it logged in from; may be NULL */
} KhServerDevice;

void          kh_server_device_free       (KhServerDevice *device);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KhServerDevice, kh_server_device_free)

GPtrArray    *kh_server_device_list       (KhServer     *self,
                                           const char   *username,
                                           GError      **error);
/* Revokes the one token of @username whose id starts with @device_id. */
gboolean      kh_server_device_revoke     (KhServer     *self,
                                           const char   *username,
                                           const char   *device_id,
                                           GError      **error);

/* Failed logins (kh-server-logins.c). Counts one attempt of @username from @address (the
 * client as the limits count it), or sets *@wait to the seconds it must wait first (and counts
 * nothing). @device_address is the client's own address, as its devices were noted. */
gboolean      kh_server_login_reserve     (KhServer     *self,
                                           const char   *username,
                                           const char   *address,
                                           const char   *device_address,
                                           int          *wait,
                                           GError      **error);
/* The attempt counted was right: forgets the account's failures from @address. */
gboolean      kh_server_login_succeeded   (KhServer     *self,
                                           const char   *username,
                                           const char   *address,
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
/* The JSON text of an answer to GET /v1/history?entity=E&id=ID (kh-server-history.c): every
 * accepted change of a record in @user's area, with who, when, from which device and each
 * field's old and new value. */
GString        *kh_server_history         (KhServer            *self,
                                           const KhServerUser  *user,
                                           const char          *entity,
                                           const char          *id,
                                           GError             **error);
/* The JSON text of an answer to GET /v1/activity: the changes in @user's area after version
 * @after, made from day @from to day @to ("YYYY-MM-DD", either NULL: open), by @username and of
 * @entity when given, @limit at most. */
GString        *kh_server_activity        (KhServer            *self,
                                           const KhServerUser  *user,
                                           const char          *from,
                                           const char          *to,
                                           const char          *username,
                                           const char          *entity,
                                           gint64               after,
                                           gint64               limit,
                                           GError             **error);
/* Erases a person (PROTOCOL.md §4, POST /v1/erase); *@version is the last version it wrote. */
gboolean        kh_server_erase           (KhServer            *self,
                                           const KhServerUser  *user,
                                           const char          *entity,
                                           const char          *id,
                                           const char          *reason,
                                           gint64              *version,
                                           GError             **error);
/* The JSON text of an answer to GET /v1/erasures?after=@after. */
GString        *kh_server_erasures        (KhServer            *self,
                                           const KhServerUser  *user,
                                           gint64               after,
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
