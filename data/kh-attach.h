/* kh-attach.h: attachments, the files beside the records
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "kh-store.h"

G_BEGIN_DECLS

/* The server's default limit on one file, bytes (its --attachment-max-mb option). */
#define KH_ATTACH_DEFAULT_MAX_SIZE (G_GINT64_CONSTANT (20) * 1024 * 1024)
/* A block of the local store: a sealed file is read and written a block at a time, and a
 * download is kept block by block, so a cut loses at most the block on its way. */
#define KH_ATTACH_BLOCK 65536

/* A file the sync engine has to move. */
typedef struct
{
  char   *sha256;
  char   *attachment_id;  /* a live attachment record naming it (the server checks its scope) */
  gint64  size;
  gint64  done;           /* bytes already on the other side, or here */
} KhAttachTransfer;

void         kh_attach_transfer_free       (KhAttachTransfer *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KhAttachTransfer, kh_attach_transfer_free)

const char  *kh_attach_sniff               (const guint8  *data,
                                            gsize          len);
void         kh_attach_set_heic_readable   (gboolean       readable);
gboolean     kh_attach_heic_readable       (void);
const char * const *kh_attach_owner_entities (void);
gboolean     kh_attach_is_owner_entity     (const char    *entity);

char        *kh_attach_dir                 (KhStore       *store);
gboolean     kh_attach_seal_files          (const char    *db_path,
                                            GError       **error);
gint64       kh_attach_get_max_size        (KhStore       *store);
gboolean     kh_attach_set_max_size        (KhStore       *store,
                                            gint64         max_size,
                                            GError       **error);

char        *kh_attach_add                 (KhStore       *store,
                                            const char    *owner_entity,
                                            const char    *owner_id,
                                            const char    *path,
                                            const char    *name,
                                            GError       **error);
gboolean     kh_attach_has_file            (KhStore       *store,
                                            const char    *sha256);
GBytes      *kh_attach_read                (KhStore       *store,
                                            const char    *sha256,
                                            gint64         offset,
                                            gsize          length,
                                            GError       **error);
gboolean     kh_attach_export              (KhStore       *store,
                                            const char    *sha256,
                                            const char    *dest,
                                            GError       **error);

gint64       kh_attach_partial_size        (KhStore       *store,
                                            const char    *sha256);
gboolean     kh_attach_append_partial      (KhStore       *store,
                                            const char    *sha256,
                                            gint64         offset,
                                            GBytes        *bytes,
                                            gint64         total,
                                            gboolean      *complete,
                                            GError       **error);

gboolean     kh_attach_want                (KhStore       *store,
                                            const char    *sha256,
                                            gboolean       on_metered,
                                            GError       **error);
gboolean     kh_attach_keep_offline        (KhStore       *store,
                                            const char    *owner_id,
                                            gboolean       keep,
                                            GError       **error);
gboolean     kh_attach_is_kept_offline     (KhStore       *store,
                                            const char    *owner_id);
gboolean     kh_attach_want_waiting        (KhStore       *store,
                                            GError       **error);
gboolean     kh_attach_mark_uploaded       (KhStore       *store,
                                            const char    *sha256,
                                            GError       **error);
GPtrArray   *kh_attach_pending_uploads     (KhStore       *store,
                                            GError       **error);
GPtrArray   *kh_attach_pending_downloads   (KhStore       *store,
                                            gboolean       metered,
                                            GError       **error);
json_object *kh_attach_list                (KhStore       *store,
                                            const char    *owner_id,
                                            GError       **error);
gboolean     kh_attach_want_owner          (KhStore       *store,
                                            const char    *owner_id,
                                            gboolean       on_metered,
                                            GError       **error);
gboolean     kh_attach_collect             (KhStore       *store,
                                            const char    *sha256,
                                            guint         *removed,
                                            GError       **error);
gboolean     kh_attach_remove              (KhStore       *store,
                                            const char    *id,
                                            GError       **error);
gboolean     kh_attach_count_waiting       (KhStore       *store,
                                            gint64        *uploads,
                                            gint64        *upload_bytes,
                                            gint64        *downloads,
                                            gint64        *download_bytes);

G_END_DECLS
