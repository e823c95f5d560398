/* kh-window.h: the main window
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "kh-store.h"
#include "kh-sync-client.h"

G_BEGIN_DECLS

#define KH_TYPE_WINDOW (kh_window_get_type ())

G_DECLARE_FINAL_TYPE (KhWindow, kh_window, KH, WINDOW, AdwApplicationWindow)

KhWindow      *kh_window_new                (GtkApplication *application,
                                             KhStore        *store);
KhStore       *kh_window_get_store          (KhWindow       *self);
void           kh_window_show_page          (KhWindow       *self,
                                             const char     *name);
void           kh_window_add_toast          (KhWindow       *self,
                                             AdwToast       *toast);
void           kh_window_set_sync_client    (KhWindow       *self,
                                             KhSyncClient   *client);
KhSyncClient  *kh_window_get_sync_client    (KhWindow       *self);
KhSyncClientState kh_window_get_sync_state  (KhWindow       *self);
gint64         kh_window_get_pending        (KhWindow       *self);
GDateTime     *kh_window_get_last_sync      (KhWindow       *self);
void           kh_window_update_counts      (KhWindow       *self);
gboolean       kh_window_save_screenshots   (KhWindow       *self,
                                             const char     *directory,
                                             const char     *suffix,
                                             GError        **error);

G_END_DECLS
