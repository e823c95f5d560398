/* kh-codec.h: the sync protocol's messages, encoded and decoded the same way at both ends
 *
 * sync/PROTOCOL.md is the contract; this is its code. Decoding is strict: every member has the
 * type the protocol says, ids are UUIDs, sizes and nesting are bounded, so a server never acts
 * on a body it did not fully understand. No HTTP and no GTK here.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>
#include <json-c/json.h>

G_BEGIN_DECLS

#define KH_PROTOCOL_VERSION     2
#define KH_CODEC_MAX_DEPTH      32      /* JSON nesting */
#define KH_PUSH_MAX_MUTATIONS   500
#define KH_PAGE_DEFAULT         1000
#define KH_PAGE_MAX             5000
#define KH_CODEC_MAX_NAME       64      /* entity and field names, bytes */
#define KH_CODEC_MAX_TEXT       65536   /* any other string member, bytes */
#define KH_CODEC_MAX_TIME       64      /* a record's "updated_at", bytes */

#define KH_SYNC_ERROR (kh_sync_error_quark ())

/* The protocol's error codes (PROTOCOL.md §1), in the order of that table. */
typedef enum
{
  KH_SYNC_ERROR_BAD_JSON,
  KH_SYNC_ERROR_TOO_DEEP,
  KH_SYNC_ERROR_WRONG_TYPE,
  KH_SYNC_ERROR_INVALID,
  KH_SYNC_ERROR_UNAUTHORIZED,
  KH_SYNC_ERROR_FORBIDDEN,
  KH_SYNC_ERROR_OUT_OF_SCOPE,
  KH_SYNC_ERROR_NOT_FOUND,
  KH_SYNC_ERROR_TIMEOUT,
  KH_SYNC_ERROR_EPOCH_CHANGED,
  KH_SYNC_ERROR_TOO_LARGE,
  KH_SYNC_ERROR_TOO_MANY_MUTATIONS,
  KH_SYNC_ERROR_RATE_LIMITED,
  KH_SYNC_ERROR_INTERNAL,
  KH_SYNC_ERROR_BUSY,
  KH_SYNC_ERROR_OVERDRAWN,
  KH_SYNC_ERROR_ALREADY_REGISTERED,
  KH_SYNC_ERROR_LOCKED,
} KhSyncError;

GQuark       kh_sync_error_quark          (void);
const char  *kh_sync_error_to_code        (KhSyncError     error);
gboolean     kh_sync_error_from_code      (const char     *code,
                                           KhSyncError    *error);
int          kh_sync_error_http_status    (KhSyncError     error);

/* Errors ------------------------------------------------------------------------------------- */

json_object *kh_codec_error_to_json       (KhSyncError     code,
                                           const char     *message);
/* Reads {"error":{"code","message"}}; an unknown code gives @code_text and INTERNAL. */
gboolean     kh_codec_error_from_json     (json_object    *body,
                                           KhSyncError    *code,
                                           char          **code_text,
                                           char          **message);

/* Parsing -------------------------------------------------------------------------------------- */

/* Parses exactly @len bytes as one JSON object: invalid UTF-8, trailing bytes, truncation →
 * BAD_JSON; nesting deeper than @max_depth → TOO_DEEP; a non-object → WRONG_TYPE. */
json_object *kh_codec_parse               (const char     *data,
                                           gsize           len,
                                           int             max_depth,
                                           GError        **error);
/* Compact text of @obj; owned by @obj. */
const char  *kh_codec_to_string           (json_object    *obj,
                                           gsize          *len);

/* Records -------------------------------------------------------------------------------------- */

typedef struct
{
  char        *entity;
  char        *id;
  gint64       version;
  gboolean     deleted;
  json_object *fields;      /* only fields with a value */
  char        *updated_by;  /* may be NULL */
  char        *updated_at;  /* may be NULL */
} KhRecord;

KhRecord    *kh_record_new                (void);
void         kh_record_free               (KhRecord       *record);
json_object *kh_record_to_json            (const KhRecord *record);
KhRecord    *kh_record_from_json          (json_object    *obj,
                                           GError        **error);

/* Mutations and push --------------------------------------------------------------------------- */

typedef enum
{
  KH_OP_CREATE,
  KH_OP_UPDATE,
  KH_OP_DELETE,
  KH_OP_RESTORE,
} KhOp;

const char  *kh_op_to_string              (KhOp            op);
gboolean     kh_op_from_string            (const char     *text,
                                           KhOp           *op);

typedef struct
{
  char        *mutation_id;
  char        *entity;
  char        *id;
  KhOp         op;
  gint64       base_version;
  json_object *fields;      /* changed fields, JSON null clears; never NULL after decoding */
} KhMutation;

KhMutation  *kh_mutation_new              (void);
void         kh_mutation_free             (KhMutation     *mutation);
json_object *kh_mutation_to_json          (const KhMutation *mutation);
KhMutation  *kh_mutation_from_json        (json_object    *obj,
                                           GError        **error);

typedef struct
{
  char      *client_id;
  gboolean   has_epoch;
  gint64     epoch;
  GPtrArray *mutations;     /* KhMutation */
} KhPushRequest;

KhPushRequest *kh_push_request_new        (void);
void           kh_push_request_free       (KhPushRequest  *request);
json_object   *kh_push_request_to_json    (const KhPushRequest *request);
KhPushRequest *kh_push_request_from_json  (json_object    *obj,
                                           GError        **error);

typedef enum
{
  KH_RESULT_APPLIED,
  KH_RESULT_DUPLICATE,
  KH_RESULT_CONFLICT,
  KH_RESULT_REJECTED,
} KhResultStatus;

const char  *kh_result_status_to_string   (KhResultStatus  status);

typedef struct
{
  char           *mutation_id;
  KhResultStatus  status;
  gint64          version;            /* applied, duplicate, conflict */
  KhRecord       *record;             /* conflict */
  GPtrArray      *conflicting_fields; /* conflict: char* */
  char           *code;               /* rejected: an error code */
  char           *message;            /* rejected */
  char           *field;              /* rejected: the field the refusal is about, if one */
  /* rejected, code already_registered: the registration the server kept, who made it and
   * when (its created_at); the client makes a conflict of its own kind of them */
  char           *registered_id;
  char           *registered_by;
  char           *registered_at;
} KhMutationResult;

KhMutationResult *kh_mutation_result_new  (void);
void              kh_mutation_result_free (KhMutationResult *result);
json_object      *kh_mutation_result_to_json   (const KhMutationResult *result);
KhMutationResult *kh_mutation_result_from_json (json_object *obj,
                                                GError     **error);

typedef struct
{
  GPtrArray *results;       /* KhMutationResult */
  char      *server_id;
  gint64     epoch;
} KhPushResponse;

KhPushResponse *kh_push_response_new      (void);
void            kh_push_response_free     (KhPushResponse *response);
json_object    *kh_push_response_to_json  (const KhPushResponse *response);
KhPushResponse *kh_push_response_from_json (json_object   *obj,
                                            GError       **error);

/* The change feed ------------------------------------------------------------------------------ */

typedef struct
{
  char *entity;
  char *id;
} KhRemoved;

typedef struct
{
  char      *server_id;
  gint64     epoch;
  char      *cursor;
  gboolean   has_more;
  gboolean   reset;
  GPtrArray *records;       /* KhRecord */
  GPtrArray *removed;       /* KhRemoved */
  char      *scope_unit_id; /* the user's scope unit: on a first or reset page; else NULL */
} KhChangesPage;

KhChangesPage *kh_changes_page_new        (void);
void           kh_changes_page_free       (KhChangesPage  *page);
KhChangesPage *kh_changes_page_from_json  (json_object    *obj,
                                           GError        **error);
KhChangesPage *kh_changes_page_header_from_json (json_object *obj,
                                                 GError     **error);
void           kh_changes_page_add_removed (KhChangesPage *page,
                                            const char    *entity,
                                            const char    *id);

/* Login and health ----------------------------------------------------------------------------- */

typedef struct
{
  char *username;
  char *password;
} KhLoginRequest;

KhLoginRequest *kh_login_request_new      (void);
void            kh_login_request_free     (KhLoginRequest *request);
json_object    *kh_login_request_to_json  (const KhLoginRequest *request);
KhLoginRequest *kh_login_request_from_json (json_object   *obj,
                                            GError       **error);

typedef struct
{
  char   *token;
  char   *username;
  char   *role;
  char   *scope;            /* the scope unit's official code */
  char   *scope_unit_id;
  char   *server_id;
  gint64  epoch;
  char   *permissions;      /* "submit,approve,pay" or part of it; NULL from an older server */
} KhLoginResponse;

KhLoginResponse *kh_login_response_new    (void);
void             kh_login_response_free   (KhLoginResponse *response);
json_object     *kh_login_response_to_json (const KhLoginResponse *response);
KhLoginResponse *kh_login_response_from_json (json_object  *obj,
                                              GError      **error);

typedef struct
{
  char   *status;
  char   *server_id;
  gint64  epoch;
  int     protocol;
} KhHealth;

KhHealth    *kh_health_new                (void);
void         kh_health_free               (KhHealth       *health);
json_object *kh_health_to_json            (const KhHealth *health);
KhHealth    *kh_health_from_json          (json_object    *obj,
                                           GError        **error);

/* Integrity ------------------------------------------------------------------------------------ */

typedef struct
{
  char    *entity;
  gint64   count;
  guint64  checksum;
} KhIntegrityEntry;

typedef struct
{
  GPtrArray *entities;      /* KhIntegrityEntry, in registry order when made by the server */
  char      *server_id;
  gint64     epoch;
} KhIntegrity;

KhIntegrity *kh_integrity_new             (void);
void         kh_integrity_free            (KhIntegrity    *integrity);
KhIntegrityEntry *kh_integrity_add        (KhIntegrity    *integrity,
                                           const char     *entity);
const KhIntegrityEntry *kh_integrity_lookup (const KhIntegrity *integrity,
                                             const char        *entity);
json_object *kh_integrity_to_json         (const KhIntegrity *integrity);
KhIntegrity *kh_integrity_from_json       (json_object    *obj,
                                           GError        **error);

typedef struct
{
  char    *id;
  gint64   version;
  guint64  checksum;        /* kh_wire_record_checksum() of the record */
} KhIdVersion;

typedef struct
{
  GArray   *ids;            /* KhIdVersion; the ids are owned by the array */
  gboolean  has_more;
} KhIntegrityIds;

KhIntegrityIds *kh_integrity_ids_new      (void);
void            kh_integrity_ids_free     (KhIntegrityIds *ids);
void            kh_integrity_ids_add      (KhIntegrityIds *ids,
                                           const char     *id,
                                           gint64          version,
                                           guint64         checksum);
json_object    *kh_integrity_ids_to_json  (const KhIntegrityIds *ids);
KhIntegrityIds *kh_integrity_ids_from_json (json_object   *obj,
                                            GError       **error);

/* The checksum of one record is kh_wire_record_checksum() (kh-wire.h); these write and read
 * the XOR of them as the protocol's 16 hex digits. */
char        *kh_codec_checksum_to_string  (guint64         checksum);
gboolean     kh_codec_checksum_from_string (const char    *text,
                                            guint64       *checksum);

/* json-c has no GLib cleanup function of its own. */
static inline void
kh_json_object_unref (json_object *obj)
{
  json_object_put (obj);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (json_object, kh_json_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KhRecord, kh_record_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KhMutation, kh_mutation_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KhPushRequest, kh_push_request_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KhMutationResult, kh_mutation_result_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KhPushResponse, kh_push_response_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KhChangesPage, kh_changes_page_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KhLoginRequest, kh_login_request_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KhLoginResponse, kh_login_response_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KhHealth, kh_health_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KhIntegrity, kh_integrity_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KhIntegrityIds, kh_integrity_ids_free)

G_END_DECLS
