/* kh-journal.h: what a local write keeps beside the record: its outbox entry, its merge base
 * and its audit rows
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <json-c/json.h>

#include "kh-entity.h"
#include "kh-store.h"

G_BEGIN_DECLS

/* The last server state of a record the replica acknowledged, kept from its first local change
 * on: the base of a three-way merge. */
typedef struct
{
  gboolean     known;
  gint64       version;
  gboolean     deleted;
  json_object *data;    /* field → value */
} KhJournalBase;

void         kh_journal_base_clear    (KhJournalBase   *base);
gboolean     kh_journal_load_base     (KhStore         *store,
                                       const char      *entity,
                                       const char      *id,
                                       KhJournalBase   *base,
                                       GError         **error);
gboolean     kh_journal_save_base     (KhStore         *store,
                                       const char      *entity,
                                       const char      *id,
                                       gint64           version,
                                       gboolean         deleted,
                                       json_object     *data,
                                       GError         **error);
gboolean     kh_journal_drop_base     (KhStore         *store,
                                       const char      *entity,
                                       const char      *id,
                                       GError         **error);
gboolean     kh_journal_keep_base     (KhStore         *store,
                                       const KhEntity  *entity,
                                       json_object     *current,
                                       GError         **error);
json_object *kh_journal_fields_of     (const KhEntity  *entity,
                                       json_object     *record);

gint64       kh_journal_count_entries (KhStore         *store,
                                       const char      *entity,
                                       const char      *id);
gboolean     kh_journal_add_outbox    (KhStore         *store,
                                       const char      *entity,
                                       const char      *id,
                                       const char      *op,
                                       json_object     *fields,
                                       gint64           base_version,
                                       const char      *now,
                                       GError         **error);
gboolean     kh_journal_settle_net    (KhStore         *store,
                                       const KhEntity  *entity,
                                       const char      *id,
                                       json_object     *fields,
                                       gboolean         deleted,
                                       const char      *now,
                                       GError         **error);
gboolean     kh_journal_settle_restored (KhStore         *store,
                                         const char      *entity,
                                         const char      *id,
                                         const char      *now,
                                         GError         **error);

gboolean     kh_journal_close_conflicts (KhStore        *store,
                                         const char     *entity,
                                         const char     *id,
                                         const char     *field,
                                         const char     *remote_value,
                                         const char     *now,
                                         GError        **error);

gboolean     kh_journal_add_audit     (KhStore         *store,
                                       const char      *entity,
                                       const char      *id,
                                       const char      *now,
                                       const char      *actor,
                                       const char      *action,
                                       const char      *field,
                                       const char      *old_value,
                                       const char      *new_value,
                                       GError         **error);

G_END_DECLS
