/* kh-attachments-group.h: the files attached to a record, in its editor
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "kh-store.h"

G_BEGIN_DECLS

#define KH_TYPE_ATTACHMENTS_GROUP (kh_attachments_group_get_type ())

G_DECLARE_FINAL_TYPE (KhAttachmentsGroup, kh_attachments_group, KH, ATTACHMENTS_GROUP, AdwPreferencesGroup)

GtkWidget *kh_attachments_group_new          (KhStore            *store,
                                              const char         *entity,
                                              const char         *owner_id);
gboolean   kh_attachments_group_add_path     (KhAttachmentsGroup *self,
                                              const char         *path);
guint      kh_attachments_group_get_n_files  (KhAttachmentsGroup *self);
GtkSwitch *kh_attachments_group_get_keep_switch (KhAttachmentsGroup *self);
GtkWidget *kh_attachments_group_get_photos   (KhAttachmentsGroup *self);

G_END_DECLS
